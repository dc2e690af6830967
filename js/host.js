// Glue the wasm edge imports: the VoxError class, one fetch attempt with a timeout and the
// caller's signal, an abortable sleep, and the browser check. No API rule lives here.

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

function failure(kind, message) {
  return { kind, message: String(message || kind) };
}

function isRefused(err) {
  for (let e = err, i = 0; e && i < 5; e = e.cause, i++) {
    if (e.code === "ECONNREFUSED") return true;
    if (Array.isArray(e.errors) && e.errors.some((x) => x && x.code === "ECONNREFUSED")) return true;
  }
  return false;
}

function describe(err) {
  const parts = [];
  for (let e = err, i = 0; e && i < 4; e = e.cause, i++) {
    if (e.message && !parts.includes(e.message)) parts.push(e.message);
  }
  return parts.join(": ") || "fetch failed";
}

/**
 * One HTTP attempt. Resolves `{ status, retryAfter, body }` for any HTTP answer; rejects with
 * `{ kind: "timeout" | "aborted" | "refused" | "network", message }` when there is none.
 */
export async function sendOnce(fetchFn, url, method, headers, body, timeoutMs, signal) {
  if (signal && signal.aborted) throw failure("aborted");
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, timeoutMs);
  const onAbort = () => controller.abort();
  if (signal) signal.addEventListener("abort", onAbort, { once: true });
  try {
    const init = { method, headers, signal: controller.signal };
    if (body !== undefined && body !== null) init.body = body;
    const res = await fetchFn(url, init);
    const text = await res.text();
    return { status: res.status, retryAfter: res.headers.get("retry-after"), body: text };
  } catch (err) {
    if (timedOut) throw failure("timeout");
    if (signal && signal.aborted) throw failure("aborted");
    if (isRefused(err)) throw failure("refused", describe(err));
    throw failure("network", describe(err));
  } finally {
    clearTimeout(timer);
    if (signal) signal.removeEventListener("abort", onAbort);
  }
}

/** Resolves after `ms`, or at once when `signal` aborts. */
export function sleep(ms, signal) {
  return new Promise((resolve) => {
    if (signal && signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      if (signal) signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, Math.max(0, ms));
    if (signal) signal.addEventListener("abort", done, { once: true });
  });
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
