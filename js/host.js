// Glue: the VoxError class, one fetch attempt bounded by a timeout, the clock, the callers'
// callbacks, the bulk report's lists, and the few reads of JS values that must not throw
// through wasm. No API rule lives here.

export class VoxError extends Error {
  constructor(code, message, extra) {
    super(message);
    this.name = "VoxError";
    this.code = code;
    if (extra && extra.status !== undefined) this.status = extra.status;
    if (extra && extra.retryAfterMs !== undefined) this.retryAfterMs = extra.retryAfterMs;
    if (extra && extra.details !== undefined) this.details = extra.details;
  }

  toJSON() {
    const out = { name: this.name, code: this.code, message: this.message };
    if (this.status !== undefined) out.status = this.status;
    if (this.retryAfterMs !== undefined) out.retryAfterMs = this.retryAfterMs;
    if (this.details !== undefined) out.details = this.details;
    return out;
  }
}

export function voxErrorClass() {
  return VoxError;
}

export function makeError(info) {
  return new VoxError(info.code, info.message, info);
}

/** True in a page or a worker (where a bearer token would be readable by visitors). */
export function isBrowser() {
  const g = globalThis;
  const isNode = typeof g.process === "object" && g.process !== null && !!(g.process.versions && g.process.versions.node);
  const page = typeof g.window === "object" && typeof g.document === "object";
  const worker = typeof g.WorkerGlobalScope === "function" && g instanceof g.WorkerGlobalScope;
  return !isNode && (page || worker);
}

/** What a value is, as the core's `Kind`: 0 absent, 1 boolean, 2 number, 3 string, 4 Date, 5 array, 6 object, 7 function, 8 other. */
export function kindOf(v) {
  switch (typeof v) {
    case "string": return 3;
    case "number": return 2;
    case "boolean": return 1;
    case "undefined": return 0;
    case "function": return 7;
    case "object":
      if (v === null) return 0;
      if (Array.isArray(v)) return 5;
      return v instanceof Date ? 4 : 6;
    default: return 8;
  }
}

/** A shallow copy with data properties only (getters run once, here); throws what they throw. */
export function plain(v) {
  return { ...v };
}

export function keys(v) {
  return Object.keys(v);
}

// An escaped lone surrogate in JSON.stringify's output (an odd number of backslashes before it).
const LONE = /(?:^|[^\\])(?:\\\\)*\\ud[89a-f]/;

/**
 * `value` as JSON text, `patch` ([key, text | null, ...]) applied to a shallow copy first.
 * Throws for what JSON cannot hold; `undefined` when the text would hold a lone surrogate.
 */
export function toJson(value, patch) {
  let v = value;
  if (patch.length > 0) {
    v = { ...value };
    for (let i = 0; i < patch.length; i += 2) {
      if (patch[i + 1] === null) delete v[patch[i]];
      else v[patch[i]] = patch[i + 1];
    }
  }
  const text = JSON.stringify(v);
  if (typeof text !== "string") throw new TypeError("not representable as JSON");
  return text.includes("\\ud") && LONE.test(text) ? undefined : text;
}

/** Calls a caller's callback; what it throws or rejects with is dropped (it must not break a call). */
export function callBack(fn, arg) {
  try {
    const r = fn(arg);
    if (r !== null && typeof r === "object" && typeof r.then === "function") r.then(undefined, () => {});
  } catch {
    // ignored
  }
}

/** Milliseconds of the realm's monotonic clock (never steps with the wall clock). */
export function now() {
  return performance.now();
}

/** The bulk report, built from the outcomes as the core decides them. */
export function report() {
  return { created: [], failed: [], unknown: [], requests: 0 };
}

const byIndex = (a, b) => a.index - b.index;

/** Puts each list of the report in input order. */
export function finishReport(r, requests) {
  r.created.sort(byIndex);
  r.failed.sort(byIndex);
  r.unknown.sort(byIndex);
  r.requests = requests;
  return r;
}

// The last Rust panic message (masked). Kept here, in JS, because the panic makes the wasm
// instance restart with fresh memory.
let lastPanic = null;

export function notePanic(message) {
  lastPanic = String(message);
}

export function takePanic() {
  const message = lastPanic;
  lastPanic = null;
  return message;
}
