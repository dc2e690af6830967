// Shared helpers of the `node --test` suite for the vox-crm package (tests/node/*.test.mjs).
//
// - useSandbox(options): one sandbox per test file (started in `before`, closed in `after`), with admin
//   helpers (reset, stats, config, faults) and a few extra projects so that tests that block a key or fill
//   the duplicate guard do not disturb the others.
// - uniquePhone() / leadInput(): unique, valid Indian mobile numbers and lead inputs.
// - ctx.client(options): a VoxClient for the sandbox whose logger feeds the file-wide audit.
// - collector(): an event collector for `logger`.
// - expectVoxError(fn, code): asserts the failure shape and records the error for the secrets audit.
// - auditSecrets(): a test that checks every error and log event of the file for tokens and phones.
//
// The package is imported from dist/ (the built package), never from source.

import assert from "node:assert/strict";
import { createServer } from "node:net";
import { after, before, test } from "node:test";
import * as vox from "../../dist/vox-crm/node/index.mjs";
import { startSandbox } from "../../sandbox/server.mjs";
// The junk-number rules the many-process workers use too (a module without the package import).
import { looksJunk } from "./workers/leads.mjs";

export { vox };
export const { VoxClient, VoxError, validatePhone, validatePhones, normalizePhone, maskPhone, validateLead } = vox;

export const TOKEN = "sk_test_vox_sandbox";
export const PROJECT_ID = "6650a1b2c3d4e5f601234567";
export const SALES = "6650a1b2c3d4e5f6012345a1";
export const SUPPORT = "6650a1b2c3d4e5f6012345a2";
/** A well-formed id that no sandbox object has. */
export const MISSING_ID = "0123456789abcdef01234567";
/** A token no project has (it must never appear in any error or log either). */
export const WRONG_TOKEN = "sk_live_wrong_ZQ8t4mVx";

/** Per-test time limit, so that a hanging call fails its test instead of the whole run. */
export const T = { timeout: 20000 };

const STATES_SALES = ["new", "make_first_call", "interested", "not_interested", "callback", "followup_1", "followup_2", "lost", "converted"];
const STATES_SUPPORT = ["new", "make_first_call", "resolved", "escalated", "followup_1", "lost"];
const hex2 = (n) => n.toString(16).padStart(2, "0");

/** Extra projects 1..6 of every sandbox: { projectId, token, sales, support }. */
export function extraProject(n) {
  return {
    projectId: `aaaaaaaaaaaaaaaaaaaa00${hex2(n)}`,
    token: `sk_test_extra${n}_Qm7Zp3xK`,
    sales: `bbbbbbbbbbbbbbbbbbbb01${hex2(n)}`,
    support: `bbbbbbbbbbbbbbbbbbbb02${hex2(n)}`,
  };
}
const EXTRA = [1, 2, 3, 4, 5, 6].map(extraProject);

/** Every token a test gives to a client or the sandbox: none may ever show up in an error or a log event. */
export const SECRETS = [TOKEN, WRONG_TOKEN, ...EXTRA.map((p) => p.token)];

// ---------------------------------------------------------------------------------------------------------
// Unique valid phone numbers

let phoneCounter = 0;
/** Every phone handed out in this process (E.164), for the audit. */
export const issuedPhones = new Set();

/** A unique valid Indian mobile number "+9198XXXXXXXX" (the 8 digits are a mixed counter). */
export function uniquePhone() {
  for (;;) {
    phoneCounter++;
    // 48271 is coprime to 10^8, so this walks every 8-digit tail once, in an order without patterns.
    const tail = String((phoneCounter * 48271 + 31415926) % 100000000).padStart(8, "0");
    const national = "98" + tail;
    if (looksJunk(national)) continue;
    const e164 = "+91" + national;
    issuedPhones.add(e164);
    return e164;
  }
}

/** The national (10-digit) part of an E.164 Indian number. */
export const national = (e164) => e164.slice(3);

let seq = 0;
const RUN = Date.now().toString(36);
/** A unique string for ids, emails and names. */
export function uid(prefix = "t") {
  seq++;
  return `${prefix}${seq}x${RUN}`;
}

/**
 * A valid lead input for the default project's Sales process (no projectId: the client fills it in).
 * An override of `undefined` removes that field.
 */
export function leadInput(overrides = {}) {
  const n = uid("");
  const lead = {
    name: `Test Person${n.replace(/[^a-z0-9]/gi, "")}`,
    phone: uniquePhone(),
    processId: SALES,
    referenceId: `ref-${n}`,
    ...overrides,
  };
  // An override of undefined removes the field.
  for (const key of Object.keys(lead)) if (lead[key] === undefined) delete lead[key];
  return lead;
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Polls fn until it returns a truthy value (returned) or timeoutMs passes (then fails). */
export async function waitFor(fn, { timeoutMs = 5000, intervalMs = 20, what = "condition" } = {}) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value) return value;
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await sleep(intervalMs);
  }
}

/** A port nothing listens on (bound, then closed). */
export async function closedPort() {
  const server = createServer();
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

// ---------------------------------------------------------------------------------------------------------
// The file-wide audit of errors and log events

const audit = { errors: [], events: [], bulkErrors: [] };

/** Records an error (anything thrown by the library) for the secrets audit. */
export function recordError(err) {
  audit.errors.push(err);
}

/** Records the error infos of a bulk result for the audit. */
export function recordBulk(result) {
  for (const item of [...(result?.failed ?? []), ...(result?.unknown ?? [])]) audit.bulkErrors.push(item.error);
}

/** A logger collector: { events, logger, ofType(type) }. Its events also feed the audit. */
export function collector() {
  const events = [];
  return {
    events,
    logger: (e) => events.push(e),
    ofType: (type) => events.filter((e) => e.type === type),
  };
}

/**
 * Asserts that fn() throws or rejects with a VoxError of `code` (and the given status etc.), with a helpful
 * message (non-empty, optionally matching `message`). Returns the error.
 */
export async function expectVoxError(fn, code, { status, message, retryAfter, label } = {}) {
  const what = label ? `${label}: ` : "";
  let err;
  try {
    await fn();
  } catch (e) {
    err = e;
  }
  assert.ok(err !== undefined, `${what}expected a VoxError "${code}", but the call succeeded`);
  recordError(err);
  assert.ok(err instanceof VoxError, `${what}expected a VoxError, got ${err?.constructor?.name}: ${err}`);
  assert.ok(err instanceof Error, `${what}a VoxError is an Error`);
  assert.equal(err.code, code, `${what}code (message: ${err.message})`);
  assert.equal(err.name, "VoxError");
  assert.equal(typeof err.message, "string");
  assert.ok(err.message.trim().length >= 8, `${what}a helpful message, got ${JSON.stringify(err.message)}`);
  if (status !== undefined) assert.equal(err.status, status, `${what}status`);
  if (message !== undefined) assert.match(err.message, message, `${what}message`);
  if (retryAfter) {
    assert.equal(typeof err.retryAfterMs, "number", `${what}retryAfterMs is set`);
    assert.ok(err.retryAfterMs > 0, `${what}retryAfterMs > 0, got ${err.retryAfterMs}`);
  }
  return err;
}

function phoneForms(e164) {
  return [e164, e164.slice(3), e164.slice(1)];
}

/** Adds a test that checks every error and log event recorded in this file for tokens and unmasked phones. */
export function auditSecrets() {
  test("secrets: no token in any error of this file, no token or unmasked phone in any log event", () => {
    assert.ok(audit.errors.length + audit.events.length > 0, "the file recorded errors or events to audit");
    const phones = [...issuedPhones].flatMap(phoneForms);
    for (const err of audit.errors) {
      const texts = {
        message: String(err?.message),
        string: String(err),
        json: JSON.stringify(err),
        details: JSON.stringify(err?.details ?? null),
        stack: String(err?.stack ?? ""),
      };
      for (const [what, text] of Object.entries(texts)) {
        for (const secret of SECRETS) {
          assert.ok(!text.includes(secret), `error ${what} contains a token: ${text.slice(0, 300)}`);
        }
        if (what !== "stack" && what !== "details") {
          for (const p of phones) {
            assert.ok(!text.includes(p), `error ${what} contains the unmasked phone ${p}: ${text.slice(0, 300)}`);
          }
        }
      }
    }
    for (const info of audit.bulkErrors) {
      const text = JSON.stringify(info);
      for (const secret of SECRETS) assert.ok(!text.includes(secret), `bulk error info contains a token: ${text}`);
      for (const p of phones) assert.ok(!text.includes(p), `bulk error info contains the unmasked phone ${p}: ${text}`);
    }
    for (const event of audit.events) {
      const text = JSON.stringify(event);
      for (const secret of SECRETS) assert.ok(!text.includes(secret), `log event contains a token: ${text}`);
      for (const p of phones) assert.ok(!text.includes(p), `log event contains the unmasked phone ${p}: ${text}`);
    }
  });
}

// ---------------------------------------------------------------------------------------------------------
// A fetch that records what goes on the wire

/**
 * A fetch wrapper: records { method, url, headers, body (parsed JSON or text) } of every request and the
 * highest number of requests in flight at once.
 */
export function recordingFetch(inner = globalThis.fetch) {
  const rec = { calls: [], inFlight: 0, maxInFlight: 0 };
  rec.fetch = async (input, init = {}) => {
    const url = typeof input === "string" ? input : (input?.url ?? String(input));
    let body = init.body;
    if (typeof body === "string") {
      try {
        body = JSON.parse(body);
      } catch {
        /* keep the text */
      }
    }
    const headers = init.headers instanceof Headers ? Object.fromEntries(init.headers) : { ...(init.headers ?? {}) };
    rec.calls.push({ method: (init.method ?? "GET").toUpperCase(), url, headers, body });
    rec.inFlight++;
    rec.maxInFlight = Math.max(rec.maxInFlight, rec.inFlight);
    try {
      return await inner(input, init);
    } finally {
      rec.inFlight--;
    }
  };
  rec.to = (pathPart) => rec.calls.filter((c) => new URL(c.url).pathname.endsWith(pathPart));
  return rec;
}

// ---------------------------------------------------------------------------------------------------------
// The sandbox of a test file

/**
 * Registers before/after hooks that start and close one sandbox for the file. Returns a context whose
 * members work inside tests:
 *   url, origin                      the sandbox's base URL (/api/v1) and origin
 *   ready, before(fn)                a promise of the sandbox being up; a `before` hook that waits for it
 *   client(options)                  a VoxClient (default project and token unless given)
 *   clientFor(project, options)      a VoxClient for an extraProject(n)
 *   reset(), stats(), config(obj), faults(rules), clearFaults()
 *   api(method, path, { body, token })   a raw API request (no client)
 *   createRaw(lead, project?)        creates a lead directly over HTTP (not through the library)
 */
export function useSandbox(options = {}) {
  const ctx = {};
  let ready;
  ctx.ready = new Promise((resolve, reject) => {
    ready = { resolve, reject };
  });
  ctx.ready.catch(() => {});
  /** A file-level `before` hook that runs once the sandbox is up (Node 20 runs root hooks concurrently). */
  ctx.before = (fn) =>
    before(async () => {
      await ctx.ready;
      await fn();
    });
  before(async () => {
    try {
      await start();
      ready.resolve();
    } catch (err) {
      ready.reject(err);
      throw err;
    }
  });
  async function start() {
    const sb = await startSandbox({
      port: 0,
      admin: true,
      quiet: true,
      callDelayMs: 40,
      callDurationMs: 40,
      rateLimit: false,
      ...options,
      projects: EXTRA.map((p, i) => ({
        _id: p.projectId,
        name: `Extra ${i + 1}`,
        tokens: [p.token],
        processes: [
          { _id: p.sales, name: "Sales", states: STATES_SALES },
          { _id: p.support, name: "Support", states: STATES_SUPPORT },
        ],
      })),
    });
    Object.assign(ctx, { sandbox: sb, url: sb.url, origin: sb.origin });
  }
  after(async () => {
    await ctx.sandbox?.close();
  });

  async function admin(method, path, body) {
    const res = await fetch(ctx.origin + path, {
      method,
      headers: body === undefined ? {} : { "Content-Type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json = await res.json();
    assert.equal(res.status, 200, `admin ${method} ${path}: ${JSON.stringify(json)}`);
    return json;
  }

  ctx.reset = () => admin("POST", "/__sandbox/reset");
  ctx.stats = () => admin("GET", "/__sandbox/stats");
  ctx.config = (settings) => admin("POST", "/__sandbox/config", settings);
  ctx.faults = (rules) => admin("POST", "/__sandbox/faults", { rules });
  ctx.clearFaults = () => admin("DELETE", "/__sandbox/faults");

  ctx.client = (opts = {}) => {
    const { logger, ...rest } = opts;
    return new VoxClient({
      projectId: PROJECT_ID,
      token: TOKEN,
      baseUrl: ctx.url,
      ...rest,
      logger: (e) => {
        audit.events.push(e);
        if (logger) logger(e);
      },
    });
  };
  ctx.clientFor = (project, opts = {}) => ctx.client({ projectId: project.projectId, token: project.token, ...opts });

  ctx.api = async (method, path, { body, token = TOKEN, query } = {}) => {
    const url = new URL(ctx.url + path);
    for (const [k, v] of Object.entries(query ?? {})) url.searchParams.set(k, v);
    const res = await fetch(url, {
      method,
      headers: { Authorization: `Bearer ${token}`, ...(body ? { "Content-Type": "application/json" } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    let json;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: res.status, body: json, text };
  };

  ctx.createRaw = async (lead, project = { projectId: PROJECT_ID, token: TOKEN }, init = false) => {
    const res = await ctx.api("POST", "/leads/initiate", {
      token: project.token,
      body: { lead: { projectId: project.projectId, ...lead }, init },
    });
    assert.equal(res.status, 200, `raw create: ${res.text}`);
    return res.body;
  };

  /** Leads of a project as the sandbox holds them, filtered by query params (no client involved). */
  ctx.rawQuery = async (query, project = { token: TOKEN }) => {
    const res = await ctx.api("GET", "/leads/query", { token: project.token, query: { limit: 100, ...query } });
    assert.equal(res.status, 200, `raw query: ${res.text}`);
    return res.body;
  };

  return ctx;
}

/** Every lead, error and log event a client hands to a user is a plain, structured-cloneable object. */
export function assertPlain(value, what = "value") {
  const proto = Object.getPrototypeOf(value);
  assert.ok(proto === Object.prototype || proto === Array.prototype, `${what} is a plain object or array`);
  assert.equal(typeof value.free, "undefined", `${what} is not a wasm handle`);
  assert.deepEqual(structuredClone(value), value, `${what} survives structuredClone`);
}

// The logger of every client made by the context feeds audit.events; export for direct use too.
export function auditLogger(inner) {
  return (e) => {
    audit.events.push(e);
    if (inner) inner(e);
  };
}
