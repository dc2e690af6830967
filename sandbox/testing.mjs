// Helpers for tests that drive a sandbox over HTTP (this folder's suite, and any other suite that wants
// them): start an in-process sandbox with fast windows, a small request function that never throws on
// an HTTP status, unique valid lead inputs, and polling.
import { DEFAULT_PROJECT_ID, DEFAULT_TOKEN, SALES_PROCESS_ID, SUPPORT_PROCESS_ID, startSandbox } from "./server.mjs";

export { DEFAULT_PROJECT_ID as PROJECT_ID, DEFAULT_TOKEN as TOKEN, SALES_PROCESS_ID as SALES, SUPPORT_PROCESS_ID as SUPPORT };

/** Fast defaults for tests; any option of startSandbox may be overridden. */
export const FAST = { port: 0, admin: true, quiet: true, callDelayMs: 40, callDurationMs: 40 };

/**
 * Starts a sandbox and adds request(method, path, { body, token, headers, raw }) -> { status, headers, body, text }.
 * `path` is relative to the base URL (/api/v1) unless it starts with "/__" or "/recordings" (origin-relative).
 * `body` is sent as JSON unless `raw` (a string or Buffer) is given; token defaults to the default token,
 * `token: null` sends no Authorization header.
 */
export async function startTestSandbox(options = {}) {
  const sb = await startSandbox({ ...FAST, ...options });
  sb.request = async (method, path, { body, token = DEFAULT_TOKEN, headers = {}, raw } = {}) => {
    const base = path.startsWith("/__") || path.startsWith("/recordings") ? sb.origin : sb.url;
    const h = { ...headers };
    if (token !== null) h.Authorization = `Bearer ${token}`;
    let payload;
    if (raw !== undefined) payload = raw;
    else if (body !== undefined) {
      payload = JSON.stringify(body);
      h["Content-Type"] = "application/json";
    }
    const res = await fetch(base + path, { method, headers: h, body: payload });
    const buf = Buffer.from(await res.arrayBuffer());
    const text = buf.toString("utf8");
    let json;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: res.status, headers: res.headers, body: json, text, bytes: buf };
  };
  sb.post = (path, body, opts = {}) => sb.request("POST", path, { ...opts, body });
  sb.get = (path, opts = {}) => sb.request("GET", path, opts);
  return sb;
}

let seq = 0;

/** A valid, unique Sales lead input (phone, email and referenceId never repeat within a process run). */
export function makeLead(overrides = {}) {
  seq++;
  return {
    projectId: DEFAULT_PROJECT_ID,
    processId: SALES_PROCESS_ID,
    name: `Test Lead${seq}`,
    phone: `+919${String(845310000 + seq).padStart(9, "0")}`,
    email: `lead${seq}@example.com`,
    referenceId: `ref-${seq}-${Date.now().toString(36)}`,
    ...overrides,
  };
}

/** Polls fn until it returns a truthy value (which is returned) or timeoutMs passes (then throws). */
export async function waitFor(fn, { timeoutMs = 3000, intervalMs = 10, what = "condition" } = {}) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
