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
  const isNode = typeof g.process === "object" && g.process !== null && !!g.process.versions?.node;
  const page = typeof g.window === "object" && typeof g.document === "object";
  const worker = typeof g.WorkerGlobalScope === "function" && g instanceof g.WorkerGlobalScope;
  return !isNode && (page || worker);
}

/** `text` as the WHATWG URL parser reads it, or null when it is no URL. */
export function urlParts(text) {
  try {
    const u = new URL(text);
    return { href: u.href, protocol: u.protocol, credentials: u.username !== "" || u.password !== "" };
  } catch {
    return null;
  }
}

/** What a value is, as the core's `Kind`: 0 absent, 1 boolean, 2 number, 3 string, 4 Date, 5 array, 6 object, 7 function, 8 other. */
export function kindOf(v) {
  switch (typeof v) {
    case "string":
      return 3;
    case "number":
      return 2;
    case "boolean":
      return 1;
    case "undefined":
      return 0;
    case "function":
      return 7;
    case "object":
      if (v === null) return 0;
      if (Array.isArray(v)) return 5;
      return v instanceof Date ? 4 : 6;
    default:
      return 8;
  }
}

/**
 * What `v` is as text of at most `max` UTF-16 units: 0 text, 1 no string, 2 longer, 3 holding a
 * lone surrogate, 4 white space only, 5 undefined or null.
 */
export function textState(v, max) {
  if (typeof v !== "string") return v === undefined || v === null ? 5 : 1;
  if (v.length > max) return 2;
  if (!v.isWellFormed()) return 3;
  return v.trim() === "" ? 4 : 0;
}

// Long texts go to wasm as UTF-8 bytes: TextEncoder is native, while wasm-bindgen's string
// passing copies an ASCII string a char at a time (7 times slower for a page's 2,400 chars).
const utf8 = new TextEncoder();

/**
 * The string field `key` of every item of `arr`, in one go: `[text, lengths]`, the strings one
 * after the other (UTF-8 bytes) and the length of each in UTF-16 units (-1 where the item has
 * none).
 */
export function column(arr, key) {
  let text = "";
  const lengths = new Int32Array(arr.length);
  for (let i = 0; i < arr.length; i++) {
    const item = arr[i];
    const v = item !== null && typeof item === "object" ? item[key] : undefined;
    if (typeof v === "string") {
      text += v;
      lengths[i] = v.length;
    } else {
      lengths[i] = -1;
    }
  }
  return [utf8.encode(text), lengths];
}

/**
 * Fields `names` of the objects `arr[start..end]`, in one go: `[states, lengths, text, sources]`,
 * per item and field the state (as `textState`, 6 for an object; 255 in an item's first field
 * when the item is no readable object), the text of the fields `copy` marks, one after the
 * other (UTF-8 bytes), with its length in UTF-16 units (-1 where none), and per item what was
 * read: a shallow copy of its own data (so that its getters run once, here, and the lead
 * written is the lead checked), or the item itself when it has a `toJSON`. `names` come joined
 * by NUL, `max` and `copy` as typed arrays.
 */
export function fields(arr, start, end, joined, max, copy) {
  const names = joined.split("\0");
  const n = end - start;
  const f = names.length;
  const states = new Uint8Array(n * f);
  const lengths = new Int32Array(n * f).fill(-1);
  const sources = new Array(n);
  let text = "";
  for (let i = 0; i < n; i++) {
    const at = i * f;
    try {
      const item = arr[start + i];
      if (item === null || typeof item !== "object" || Array.isArray(item) || item instanceof Date) {
        states[at] = 255;
        continue;
      }
      const own = typeof item.toJSON === "function" ? item : { ...item };
      sources[i] = own;
      for (let k = 0; k < f; k++) {
        // An inherited field (a class's getter) is read from the item: JSON leaves it out.
        const v = names[k] in own ? own[names[k]] : item[names[k]];
        let st;
        if (typeof v === "string") st = v.length > max[k] ? 2 : !v.isWellFormed() ? 3 : v.trim() === "" ? 4 : 0;
        else if (v === undefined || v === null) st = 5;
        else if (typeof v === "object" && !Array.isArray(v) && !(v instanceof Date)) st = 6;
        else st = 1;
        states[at + k] = st;
        if (st === 0 && copy[k]) {
          text += v;
          lengths[at + k] = v.length;
        }
      }
    } catch {
      states[at] = 255; // a getter or a Proxy threw
    }
  }
  return [states, lengths, utf8.encode(text), sources];
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
    v = Object.assign({}, value); // quicker in V8 than a spread with keyed stores after it
    for (let i = 0; i < patch.length; i += 2) {
      if (patch[i + 1] === null) delete v[patch[i]];
      else v[patch[i]] = patch[i + 1];
    }
  }
  const text = JSON.stringify(v);
  if (typeof text !== "string") throw new TypeError("not representable as JSON");
  return text.includes("\\ud") && LONE.test(text) ? undefined : text;
}

/**
 * `toJson` of many values at once: the patch of item `i` is, for each of `keys`, `codes[i *
 * keys.length + k]`: -1 leave it, -2 remove it, n set it to the next n units of `text`. Each
 * result is the text, `undefined` (a lone surrogate) or `[message]` (not writable: what was
 * thrown, at most 200 characters).
 */
export function toJsonMany(sources, keys, text, codes) {
  const n = keys.length;
  const out = new Array(sources.length);
  let at = 0;
  for (let i = 0; i < sources.length; i++) {
    const patch = [];
    for (let k = 0; k < n; k++) {
      const c = codes[i * n + k];
      if (c === -2) patch.push(keys[k], null);
      else if (c >= 0) {
        patch.push(keys[k], text.slice(at, at + c));
        at += c;
      }
    }
    try {
      out[i] = toJson(sources[i], patch);
    } catch (e) {
      out[i] = [thrownText(e)];
    }
  }
  return out;
}

/** What was thrown, as at most 200 characters of text (whatever it is). */
export function thrownText(e) {
  try {
    return String(e && e.message !== undefined ? e.message : e).slice(0, 200);
  } catch {
    return "a value that cannot be shown as text";
  }
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

/** Adds an outcome: `created` with the lead, or `failed` / `unknown` with the input and error. */
export function addOutcome(r, kind, index, value, error) {
  if (kind === 0) r.created.push({ index, lead: value });
  else (kind === 1 ? r.failed : r.unknown).push({ index, input: value, error });
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
