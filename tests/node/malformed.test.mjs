// Malformed input from JavaScript: every exported function and method, fed wrong types, null/undefined, NaN,
// 10 MB strings, lone surrogates, cyclic / 2,000-deep / `__proto__` objects, throwing Proxies, 100,000-item arrays.
// Each call must throw (sync) or reject (async) with a VoxError carrying one of docs/sdk.md's codes, or give a
// correct result: never a WebAssembly.RuntimeError, a TypeError, a hang, or prototype pollution, and the
// client keeps working after every group.
//
// The cases are table-driven: `{ name, kind: "sync" | "async" | "iter", call, expect }`, where `expect` is an
// SDK error code, "ok", a checker `(result) => void`, or an array of those (any one may match).

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import {
  maskPhone,
  normalizePhone,
  parseWebhook,
  VoxClient,
  VoxError,
  validateLead,
  validatePhone,
  validatePhones,
  verifyWebhookAuth,
} from "../../dist/vox-crm/node/index.mjs";
import { startSandbox } from "../../sandbox/server.mjs";

const TOKEN = "sk_test_vox_sandbox";
const PROJECT_ID = "6650a1b2c3d4e5f601234567";
const SALES = "6650a1b2c3d4e5f6012345a1";
const MISSING_ID = "0123456789abcdef01234567";
const GOOD_PHONE = "+919845317206";
const T = { timeout: 15000 };

/** Every code docs/sdk.md lists (internal_error, the trap-recovery code, is deliberately not among them). */
const SDK_CODES = new Set([
  "validation_error",
  "invalid_phone",
  "invalid_argument",
  "bad_request",
  "forbidden",
  "not_found",
  "rate_limited",
  "key_blocked",
  "duplicate_submission",
  "server_error",
  "timeout",
  "network_error",
  "aborted",
  "invalid_response",
  "browser_unsafe",
]);

// ---------------------------------------------------------------------------------------------------------
// The value set

const MB10 = 10 * 1024 * 1024;
const BIG = "x".repeat(MB10);
const BIG_DIGITS = "9".repeat(MB10);
const cyclic = { a: 1 };
cyclic.self = cyclic;
function deepObject(depth) {
  const root = {};
  let node = root;
  for (let i = 0; i < depth; i++) {
    node.x = {};
    node = node.x;
  }
  return root;
}
const DEEP = deepObject(2000);
const throwingProxy = () =>
  new Proxy(
    {},
    {
      get() {
        throw new Error("proxy: get");
      },
      has() {
        throw new Error("proxy: has");
      },
      ownKeys() {
        throw new Error("proxy: ownKeys");
      },
      getOwnPropertyDescriptor() {
        throw new Error("proxy: getOwnPropertyDescriptor");
      },
    },
  );

/** [key, value]: the keys name the cases. */
const VALUES = [
  ["undefined", undefined],
  ["null", null],
  ["NaN", NaN],
  ["Infinity", Infinity],
  ["-0", -0],
  ["0", 0],
  ["1.5", 1.5],
  ["true", true],
  ["emptyString", ""],
  ["space", " "],
  ["a", "a"],
  ["10MB", BIG],
  ["loneHigh", "\uD800"],
  ["loneLow", "abc\uDFFF"],
  ["symbol", Symbol("s")],
  ["function", () => {}],
  ["bigint", 10n],
  ["[]", []],
  ["[1]", [1]],
  ["{}", {}],
  ["nullProto", Object.create(null)],
  ["cyclic", cyclic],
  ["deep2000", DEEP],
  ["__proto__", JSON.parse('{"__proto__":{"polluted":1}}')],
  ["constructor", { constructor: { prototype: { polluted: 1 } } }],
  ["Date", new Date("2024-01-02T03:04:05Z")],
  ["Map", new Map([["a", 1]])],
  ["throwingProxy", throwingProxy()],
];
const STRINGS = new Set(["emptyString", "space", "a", "10MB", "loneHigh", "loneLow"]);
const OBJECTS = new Set(["{}", "nullProto", "cyclic", "deep2000", "__proto__", "constructor", "Date", "Map", "throwingProxy"]);

// ---------------------------------------------------------------------------------------------------------
// Checking a case

const ARG = "invalid_argument";

function describeErr(err) {
  return `${err?.constructor?.name}${err?.code ? `(${err.code})` : ""}: ${String(err?.message).slice(0, 200)}`;
}

/** Asserts that err is a proper VoxError with one of `codes`. */
function assertVoxError(err, codes, label) {
  assert.ok(!(err instanceof WebAssembly.RuntimeError), `${label}: a WebAssembly trap escaped: ${describeErr(err)}`);
  assert.ok(err instanceof VoxError, `${label}: expected a VoxError ${codes.join("|")}, got ${describeErr(err)}`);
  assert.ok(err instanceof Error, `${label}: a VoxError is an Error`);
  assert.equal(err.name, "VoxError", `${label}: name`);
  assert.ok(SDK_CODES.has(err.code), `${label}: code ${err.code} is one of docs/sdk.md's codes (${err.message.slice(0, 200)})`);
  assert.ok(codes.includes(err.code), `${label}: expected code ${codes.join("|")}, got ${err.code}: ${err.message.slice(0, 200)}`);
  assert.equal(typeof err.message, "string");
  assert.ok(err.message.trim().length >= 8, `${label}: a helpful message, got ${JSON.stringify(err.message)}`);
  assert.ok(err.message.length <= 2000, `${label}: a clear message, not ${err.message.length} characters (starts ${JSON.stringify(err.message.slice(0, 60))})`);
}

const alternatives = (expect) => (Array.isArray(expect) ? expect : [expect]);

/** Runs one case: kind "sync" must return or throw; "async" must return a promise; "iter" an async iterable. */
async function runCase(c) {
  const alts = alternatives(c.expect);
  const codes = alts.filter((a) => typeof a === "string" && a !== "ok");
  const checks = alts.filter((a) => a === "ok" || typeof a === "function");
  let result;
  let err;
  let threw = false;
  if (c.kind === "sync") {
    try {
      result = c.call();
    } catch (e) {
      threw = true;
      err = e;
    }
  } else if (c.kind === "async") {
    let promise;
    try {
      promise = c.call();
    } catch (e) {
      assert.fail(`${c.name}: an async method threw synchronously instead of rejecting: ${describeErr(e)}`);
    }
    assert.equal(typeof promise?.then, "function", `${c.name}: an async method returns a promise`);
    try {
      result = await promise;
    } catch (e) {
      threw = true;
      err = e;
    }
  } else {
    let iterable;
    try {
      iterable = c.call();
    } catch (e) {
      assert.fail(`${c.name}: iterateLeads threw synchronously instead of failing on iteration: ${describeErr(e)}`);
    }
    assert.equal(typeof iterable?.[Symbol.asyncIterator], "function", `${c.name}: an async iterable`);
    try {
      result = [];
      for await (const lead of iterable) {
        result.push(lead);
        if (result.length > 50) break;
      }
    } catch (e) {
      threw = true;
      err = e;
    }
  }
  if (threw) {
    if (codes.length === 0) assert.fail(`${c.name}: expected a result, got ${describeErr(err)}`);
    assertVoxError(err, codes, c.name);
    return;
  }
  if (checks.length === 0) {
    assert.fail(`${c.name}: expected a VoxError ${codes.join("|")}, but the call succeeded with ${safeShow(result)}`);
  }
  let lastFailure;
  for (const check of checks) {
    if (check === "ok") return;
    try {
      check(result);
      return;
    } catch (e) {
      lastFailure = e;
    }
  }
  throw lastFailure;
}

function safeShow(value) {
  try {
    const s = JSON.stringify(value);
    return s === undefined ? String(value) : s.slice(0, 200);
  } catch {
    return String(value).slice(0, 200);
  }
}

// ---------------------------------------------------------------------------------------------------------
// Result checkers

const isPage = (r) => {
  assert.ok(Array.isArray(r.leads), "a page has leads");
  assert.equal(typeof r.page, "number");
  assert.equal(typeof r.limit, "number");
  assert.equal(typeof r.hasNextPage, "boolean");
};
const isLeadList = (r) => {
  assert.ok(Array.isArray(r));
  for (const l of r) assert.equal(typeof l._id, "string");
};
const emptyBulk = (r) => assert.deepEqual(r, { created: [], failed: [], unknown: [], requests: 0 });
const oneFailedBulk = (input) => (r) => {
  assert.equal(r.requests, 0, "nothing sent");
  assert.deepEqual(r.created, []);
  assert.deepEqual(r.unknown, []);
  assert.equal(r.failed.length, 1);
  assert.equal(r.failed[0].index, 0);
  assert.equal(r.failed[0].error.code, "validation_error");
  assert.deepEqual(r.failed[0].input, input);
};
const goodPhoneCheck = (r) => {
  assert.equal(r.valid, true);
  assert.equal(r.e164, GOOD_PHONE);
  assert.equal(r.countryCode, 91);
  assert.equal(r.nationalNumber, "9845317206");
};
const invalidPhoneCheck = (reasons) => (r) => {
  assert.equal(r.valid, false, "not valid");
  assert.ok(reasons.includes(r.reason), `reason ${r.reason} is one of ${reasons}`);
  assert.equal(typeof r.message, "string");
};
const leadVerdict = (valid) => (r) => {
  assert.equal(r.valid, valid, `validateLead verdict: ${safeShow(r)}`);
  assert.ok(Array.isArray(r.errors));
  if (!valid) assert.ok(r.errors.length >= 1);
  for (const e of r.errors) {
    assert.equal(typeof e.field, "string");
    assert.equal(typeof e.code, "string");
    assert.equal(typeof e.message, "string");
  }
};
const isBool = (value) => (r) => assert.equal(r, value);

// ---------------------------------------------------------------------------------------------------------
// The sandbox and the shared client

let sandbox;
let client;
let phoneCounter = 0;
/** A unique, valid Indian mobile number (checked with validatePhone and free of long runs). */
function freshPhone() {
  for (;;) {
    phoneCounter++;
    const tail = String((phoneCounter * 48271 + 27182818 + (Date.now() % 1000) * 7919) % 100000000).padStart(8, "0");
    const e164 = "+9198" + tail;
    if (/(\d)\1{3}/.test(tail)) continue;
    if (validatePhone(e164).valid) return e164;
  }
}
const goodLead = (over = {}) => ({ name: "Malformed Tester", phone: freshPhone(), processId: SALES, ...over });

function makeClient(over = {}) {
  return new VoxClient({
    projectId: PROJECT_ID,
    token: TOKEN,
    baseUrl: sandbox.url,
    rateLimit: false,
    maxRetries: 0,
    timeoutMs: 5000,
    ...over,
  });
}

before(async () => {
  sandbox = await startSandbox({ port: 0, quiet: true, rateLimit: false });
  client = makeClient();
});
after(async () => {
  await sandbox?.close();
});

/** After every group: no pollution, and the shared client and the phone functions still work. */
function groupHealth(group) {
  test(`${group}: no prototype pollution, and the client keeps working`, T, async () => {
    assert.equal(Object.prototype.polluted, undefined, "Object.prototype.polluted");
    assert.equal({}.polluted, undefined, "({}).polluted");
    assert.equal(Object.hasOwn(Object.prototype, "polluted"), false);
    assert.equal(Array.prototype.polluted, undefined, "Array.prototype.polluted");
    const page = await client.queryLeads({ limit: 1 });
    isPage(page);
    assert.equal(validatePhone(GOOD_PHONE).valid, true);
    assert.equal(normalizePhone("98453 17206"), GOOD_PHONE);
    assert.equal(maskPhone(GOOD_PHONE), "+91******7206");
  });
}

// ---------------------------------------------------------------------------------------------------------
// The table

/** Every case of the file, by group. */
const GROUPS = [];
let caseCount = 0;
function group(name, cases) {
  GROUPS.push({ name, cases });
  caseCount += cases.length;
}

/**
 * Cross product of VALUES with one argument position. `expectFor(key)` gives the expectation of each value;
 * `makeCall(value)` the call.
 */
function cross(label, kind, makeCall, expectFor) {
  return VALUES.map(([key, value]) => ({
    name: `${label.replace("$", key)}`,
    kind,
    call: () => makeCall(value),
    expect: expectFor(key),
  }));
}

// ---- new VoxClient(opts) -----------------------------------------------------------------------------------

const ctorOk = (c) => {
  assert.ok(c instanceof VoxClient);
  assert.equal(c.projectId, PROJECT_ID);
};
/** null and undefined both mean "not given" for an optional option or field. */
const absent = (k) => k === "undefined" || k === "null";
const base = () => ({ projectId: PROJECT_ID, token: TOKEN, baseUrl: "http://127.0.0.1:9/api/v1" });

group("new VoxClient(options)", [
  ...cross(
    "new VoxClient($)",
    "sync",
    (v) => new VoxClient(v),
    () => ARG,
  ),
  ...cross(
    "new VoxClient({ projectId: $ })",
    "sync",
    (v) => new VoxClient({ ...base(), projectId: v }),
    (k) => (k === "a" || k === "10MB" ? [ARG, ctorOk /* not the project */, () => {}] : ARG),
  ),
  ...cross(
    "new VoxClient({ token: $ })",
    "sync",
    (v) => new VoxClient({ ...base(), token: v }),
    (k) => (absent(k) || k === "a" ? ctorOk : STRINGS.has(k) ? [ARG, ctorOk] : ARG),
  ),
  ...cross(
    "new VoxClient({ baseUrl: $ })",
    "sync",
    (v) => new VoxClient({ ...base(), baseUrl: v }),
    (k) => (absent(k) ? ctorOk : ARG),
  ),
  ...cross(
    "new VoxClient({ timeoutMs: $ })",
    "sync",
    (v) => new VoxClient({ ...base(), timeoutMs: v }),
    (k) => (absent(k) ? ctorOk : ["1.5", "Infinity", "0", "-0"].includes(k) ? [ARG, ctorOk] : ARG),
  ),
  ...cross(
    "new VoxClient({ maxRetries: $ })",
    "sync",
    (v) => new VoxClient({ ...base(), maxRetries: v }),
    (k) => (["undefined", "null", "0", "-0"].includes(k) ? ctorOk : ARG),
  ),
  ...cross(
    "new VoxClient({ defaultCountry: $ })",
    "sync",
    (v) => new VoxClient({ ...base(), defaultCountry: v }),
    (k) => (absent(k) ? ctorOk : ARG),
  ),
  ...cross(
    "new VoxClient({ rateLimit: $ })",
    "sync",
    (v) => new VoxClient({ ...base(), rateLimit: v }),
    (k) => (absent(k) ? ctorOk : ARG),
  ),
  ...cross(
    "new VoxClient({ duplicateGuard: $ })",
    "sync",
    (v) => new VoxClient({ ...base(), duplicateGuard: v }),
    (k) => (absent(k) ? ctorOk : ARG),
  ),
  ...cross(
    "new VoxClient({ dangerouslyAllowBrowser: $ })",
    "sync",
    (v) => new VoxClient({ ...base(), dangerouslyAllowBrowser: v }),
    (k) => (absent(k) || k === "true" ? ctorOk : ARG),
  ),
  ...cross(
    "new VoxClient({ fetch: $ })",
    "sync",
    (v) => new VoxClient({ ...base(), fetch: v }),
    (k) => (absent(k) || k === "function" ? ctorOk : ARG),
  ),
  ...cross(
    "new VoxClient({ logger: $ })",
    "sync",
    (v) => new VoxClient({ ...base(), logger: v }),
    (k) => (absent(k) || k === "function" ? ctorOk : ARG),
  ),
  ...cross(
    "new VoxClient({ rateLimit: { requests: $, perMs: 1000 } })",
    "sync",
    (v) => new VoxClient({ ...base(), rateLimit: { requests: v, perMs: 1000 } }),
    () => ARG,
  ),
  ...cross(
    "new VoxClient({ duplicateGuard: { max: 5, windowMs: $ } })",
    "sync",
    (v) => new VoxClient({ ...base(), duplicateGuard: { max: 5, windowMs: v } }),
    (k) => (k === "1.5" ? [ARG, ctorOk] : ARG),
  ),
  {
    name: "new VoxClient(options with a throwing getter)",
    kind: "sync",
    call: () =>
      new VoxClient(
        Object.defineProperty({ ...base() }, "timeoutMs", {
          enumerable: true,
          get() {
            throw new Error("getter");
          },
        }),
      ),
    expect: [ARG, ctorOk],
  },
  {
    name: "new VoxClient(options with a __proto__ key, JSON)",
    kind: "sync",
    call: () => new VoxClient({ ...JSON.parse('{"__proto__":{"polluted":1}}'), ...base() }),
    expect: [ctorOk, ARG],
  },
  {
    name: "new VoxClient(a cyclic options object)",
    kind: "sync",
    call: () => {
      const o = base();
      o.self = o;
      return new VoxClient(o);
    },
    expect: [ctorOk, ARG],
  },
]);

// ---- client methods, first argument -----------------------------------------------------------------------

const initiateLeadExpect = (k) => {
  if (["{}", "nullProto", "__proto__", "constructor"].includes(k)) return "validation_error";
  if (["Map", "cyclic", "deep2000", "throwingProxy"].includes(k)) return [ARG, "validation_error"];
  return ARG;
};
const queryExpect = (k) => {
  if (["undefined", "null", "{}", "nullProto"].includes(k)) return isPage;
  if (["Map", "__proto__", "constructor"].includes(k)) return [isPage, ARG];
  return ARG; // NaN and Infinity are numbers, not queries
};
const iterExpect = (k) => {
  if (["undefined", "null", "{}", "nullProto"].includes(k)) return isLeadList;
  if (["Map", "__proto__", "constructor"].includes(k)) return [isLeadList, ARG];
  return ARG;
};

group("client methods: first argument", [
  ...cross("client.initiateLead($)", "async", (v) => client.initiateLead(v), initiateLeadExpect),
  ...cross(
    "client.initiateExistingLead($)",
    "async",
    (v) => client.initiateExistingLead(v),
    () => ARG,
  ),
  ...cross(
    "client.bulkInitiateLeads($)",
    "async",
    (v) => client.bulkInitiateLeads(v),
    (k) => (k === "[]" ? emptyBulk : k === "[1]" ? oneFailedBulk(1) : ARG),
  ),
  ...cross(
    "client.bulkInitiateExisting($)",
    "async",
    (v) => client.bulkInitiateExisting(v),
    (k) => (k === "[]" ? emptyBulk : k === "[1]" ? oneFailedBulk(1) : ARG),
  ),
  ...cross(
    "client.updateLead($, { name })",
    "async",
    (v) => client.updateLead(v, { name: "New Name" }),
    () => ARG,
  ),
  ...cross(
    "client.updateLead({ leadId }, $)",
    "async",
    (v) => client.updateLead({ leadId: MISSING_ID }, v),
    (k) => (["__proto__", "constructor"].includes(k) ? [ARG, "validation_error"] : ARG),
  ),
  ...cross(
    "client.getLead($)",
    "async",
    (v) => client.getLead(v),
    () => ARG,
  ),
  ...cross("client.queryLeads($)", "async", (v) => client.queryLeads(v), queryExpect),
  ...cross("client.iterateLeads($)", "iter", (v) => client.iterateLeads(v), iterExpect),
  // Activity ids are 24-character hex ids (docs/api.md): anything else is refused locally, like a bad leadId,
  // and a 10 MB or ill-formed UTF-16 id must never go on the wire.
  ...cross(
    "client.getActivity($)",
    "async",
    (v) => client.getActivity(v),
    (k) => (k === "space" || k === "a" ? [ARG, "not_found"] : ARG),
  ),
]);

// ---- target / query fields -----------------------------------------------------------------------------------

group("client methods: fields of target and query", [
  ...cross(
    "client.getLead({ leadId: $ })",
    "async",
    (v) => client.getLead({ leadId: v }),
    (k) => (k === "a" || k === "space" ? [ARG, "not_found"] : ARG),
  ),
  ...cross(
    "client.getLead({ referenceId: $, processId })",
    "async",
    (v) => client.getLead({ referenceId: v, processId: SALES }),
    (k) => (k === "a" || k === "space" ? [ARG, "not_found"] : ARG),
  ),
  ...cross(
    "client.queryLeads({ limit: $ })",
    "async",
    (v) => client.queryLeads({ limit: v }),
    (k) => (absent(k) ? isPage : ARG),
  ),
  ...cross(
    "client.queryLeads({ page: $ })",
    "async",
    (v) => client.queryLeads({ page: v }),
    (k) => (absent(k) ? isPage : ARG),
  ),
  ...cross(
    "client.queryLeads({ createdFrom: $ })",
    "async",
    (v) => client.queryLeads({ createdFrom: v }),
    (k) => (absent(k) || k === "Date" ? isPage : ARG),
  ),
  ...cross(
    "client.queryLeads({ processId: $ })",
    "async",
    (v) => client.queryLeads({ processId: v }),
    (k) => (absent(k) ? isPage : ["a", "space", "emptyString"].includes(k) ? [ARG, isPage, "bad_request", "not_found"] : ARG),
  ),
]);

// ---- client methods, options argument -------------------------------------------------------------------------

/** Options: undefined is fine, primitives and arrays are refused, objects are fine or refused, never a raw error. */
const optionsExpect = (fine) => (k) => {
  if (k === "undefined" || k === "{}" || k === "nullProto") return fine;
  if (OBJECTS.has(k) || k === "null" || k === "[]" || k === "[1]") return [...alternatives(fine), ARG];
  return ARG;
};
const notFound = "not_found";

group("client methods: options argument", [
  ...cross(
    "client.initiateLead(lead of a missing process, $)",
    "async",
    (v) => client.initiateLead(goodLead({ processId: MISSING_ID }), v),
    optionsExpect(notFound),
  ),
  ...cross("client.initiateExistingLead(missing, $)", "async", (v) => client.initiateExistingLead(MISSING_ID, v), optionsExpect(notFound)),
  ...cross("client.bulkInitiateLeads([], $)", "async", (v) => client.bulkInitiateLeads([], v), optionsExpect(emptyBulk)),
  ...cross("client.bulkInitiateExisting([], $)", "async", (v) => client.bulkInitiateExisting([], v), optionsExpect(emptyBulk)),
  ...cross(
    "client.updateLead(missing, { name }, $)",
    "async",
    (v) => client.updateLead({ leadId: MISSING_ID }, { name: "New Name" }, v),
    optionsExpect(notFound),
  ),
  ...cross("client.getLead(missing, $)", "async", (v) => client.getLead({ leadId: MISSING_ID }, v), optionsExpect(notFound)),
  ...cross("client.queryLeads({ limit: 1 }, $)", "async", (v) => client.queryLeads({ limit: 1 }, v), optionsExpect(isPage)),
  ...cross("client.iterateLeads({ limit: 1 }, $)", "iter", (v) => client.iterateLeads({ limit: 1 }, v), optionsExpect(isLeadList)),
  ...cross("client.getActivity(missing, $)", "async", (v) => client.getActivity(MISSING_ID, v), optionsExpect(notFound)),
  ...cross(
    "client.bulkInitiateLeads([], { chunkSize: $ })",
    "async",
    (v) => client.bulkInitiateLeads([], { chunkSize: v }),
    (k) => (absent(k) ? emptyBulk : ARG),
  ),
  ...cross(
    "client.bulkInitiateLeads([], { onProgress: $ })",
    "async",
    (v) => client.bulkInitiateLeads([], { onProgress: v }),
    (k) => (absent(k) || k === "function" ? emptyBulk : ARG),
  ),
  ...cross(
    "client.getLead(missing, { masked: $ })",
    "async",
    (v) => client.getLead({ leadId: MISSING_ID }, { masked: v }),
    (k) => (absent(k) || k === "true" ? notFound : ARG),
  ),
]);

// ---- phone functions ------------------------------------------------------------------------------------------

const phoneStringExpect = (k) => {
  if (k === "emptyString" || k === "space") return invalidPhoneCheck(["empty"]);
  if (k === "a" || k === "loneHigh" || k === "loneLow" || k === "10MB") return invalidPhoneCheck(["invalid_characters", "too_long"]);
  return ARG;
};
const phoneOptionsExpect = (fine) => (k) => {
  if (k === "undefined" || k === "{}" || k === "nullProto") return fine;
  // a throwing Proxy may be refused (as a VoxError, never the Proxy's own Error) or read as no options
  if (OBJECTS.has(k) || k === "null" || k === "[]" || k === "[1]") return [fine, ARG];
  return ARG;
};
const maskedGood = (r) => assert.equal(r, "+91******7206");

group("phone functions", [
  ...cross("validatePhone($)", "sync", (v) => validatePhone(v), phoneStringExpect),
  ...cross("validatePhone(good, $)", "sync", (v) => validatePhone(GOOD_PHONE, v), phoneOptionsExpect(goodPhoneCheck)),
  ...cross(
    "validatePhone('98453 17206', { defaultCountry: $ })",
    "sync",
    (v) => validatePhone("98453 17206", { defaultCountry: v }),
    (k) => (absent(k) ? goodPhoneCheck : ARG),
  ),
  ...cross(
    "validatePhones($)",
    "sync",
    (v) => validatePhones(v),
    (k) => (k === "[]" ? (r) => assert.deepEqual(r, []) : ARG),
  ),
  ...cross(
    "validatePhones([good, $])",
    "sync",
    (v) => validatePhones([GOOD_PHONE, v]),
    (k) =>
      STRINGS.has(k)
        ? (r) => {
            assert.equal(r.length, 2);
            goodPhoneCheck(r[0]);
            phoneStringExpect(k)(r[1]);
          }
        : ARG,
  ),
  ...cross(
    "validatePhones([good], $)",
    "sync",
    (v) => validatePhones([GOOD_PHONE], v),
    phoneOptionsExpect((r) => {
      assert.equal(r.length, 1);
      goodPhoneCheck(r[0]);
    }),
  ),
  ...cross(
    "normalizePhone($)",
    "sync",
    (v) => normalizePhone(v),
    (k) => (STRINGS.has(k) ? "invalid_phone" : ARG),
  ),
  ...cross(
    "normalizePhone(good, $)",
    "sync",
    (v) => normalizePhone(GOOD_PHONE, v),
    phoneOptionsExpect((r) => assert.equal(r, GOOD_PHONE)),
  ),
  ...cross(
    "maskPhone($)",
    "sync",
    (v) => maskPhone(v),
    (k) =>
      STRINGS.has(k)
        ? (r) => {
            assert.equal(typeof r, "string");
            assert.ok(!/\d{5}/.test(r));
          }
        : ARG,
  ),
  ...cross("maskPhone(good, $)", "sync", (v) => maskPhone(GOOD_PHONE, v), phoneOptionsExpect(maskedGood)),
  ...cross(
    "maskPhone(good, { keepLast: $ })",
    "sync",
    (v) => maskPhone(GOOD_PHONE, { keepLast: v }),
    (k) => (absent(k) ? maskedGood : k === "0" || k === "-0" ? [(r) => assert.equal(r, "+91**********"), ARG] : ARG),
  ),
  ...cross(
    "maskPhone(good, { maskChar: $ })",
    "sync",
    (v) => maskPhone(GOOD_PHONE, { maskChar: v }),
    (k) =>
      absent(k)
        ? maskedGood
        : k === "a"
          ? (r) => assert.equal(r, "+91aaaaaa7206")
          : k === "space"
            ? [(r) => assert.equal(r, "+91      7206"), ARG]
            : // a lone surrogate is refused or used as given, never silently replaced by U+FFFD
              k === "loneHigh"
              ? [ARG, (r) => assert.equal(r, "+91" + "\uD800".repeat(6) + "7206")]
              : ARG,
  ),
  { name: "validatePhone(10 MB of digits)", kind: "sync", call: () => validatePhone(BIG_DIGITS), expect: invalidPhoneCheck(["too_long"]) },
  { name: "validatePhone('+91' + 10 MB of digits)", kind: "sync", call: () => validatePhone("+91" + BIG_DIGITS), expect: invalidPhoneCheck(["too_long"]) },
  { name: "normalizePhone(10 MB of digits)", kind: "sync", call: () => normalizePhone(BIG_DIGITS), expect: "invalid_phone" },
  {
    name: "maskPhone(10 MB of digits) keeps only 4 digits",
    kind: "sync",
    call: () => maskPhone(BIG_DIGITS),
    expect: (r) => {
      assert.equal(typeof r, "string");
      assert.equal((r.match(/\d/g) ?? []).length <= 4, true);
    },
  },
  {
    name: "validatePhone(good + lone surrogate)",
    kind: "sync",
    call: () => validatePhone(GOOD_PHONE + "\uD83D"),
    expect: invalidPhoneCheck(["invalid_characters"]),
  },
  {
    name: "validatePhone(surrogate pair digits look-alike)",
    kind: "sync",
    call: () => validatePhone("\uD835\uDFD7845317206"),
    expect: invalidPhoneCheck(["invalid_characters"]),
  },
]);

// ---- validateLead ---------------------------------------------------------------------------------------------

const validLeadFixed = { name: "Malformed Tester", phone: GOOD_PHONE.replace("7206", "7216"), processId: SALES };
const leadValueExpect = (k) => {
  if (["{}", "nullProto", "__proto__", "constructor"].includes(k)) return leadVerdict(false);
  if (["symbol", "function", "bigint", "cyclic", "deep2000", "throwingProxy", "loneHigh", "loneLow"].includes(k)) {
    return [ARG, leadVerdict(false)];
  }
  return [leadVerdict(false), ARG];
};
const fieldExpect = (valid) => (k) => {
  if (k === "undefined") return leadVerdict(valid);
  // values JSON has no place for (NaN, symbol, function) or empty strings may count as "no email"
  if (["null", "NaN", "Infinity", "symbol", "function", "emptyString", "space"].includes(k)) return [leadVerdict(valid), leadVerdict(false), ARG];
  return [leadVerdict(false), ARG];
};

group("validateLead", [
  ...cross("validateLead($)", "sync", (v) => validateLead(v), leadValueExpect),
  ...cross("validateLead(valid, $)", "sync", (v) => validateLead(validLeadFixed, v), phoneOptionsExpect(leadVerdict(true))),
  ...cross(
    "validateLead({ ...valid, name: $ })",
    "sync",
    (v) => validateLead({ ...validLeadFixed, name: v }),
    (k) =>
      k === "undefined"
        ? leadVerdict(false) /* no name */
        : ["a", "10MB", "Date"].includes(k)
          ? [leadVerdict(true), leadVerdict(false), ARG]
          : [leadVerdict(false), ARG],
  ),
  ...cross(
    "validateLead({ ...valid, phone: $ })",
    "sync",
    (v) => validateLead({ ...validLeadFixed, phone: v }),
    (k) => (k === "undefined" ? leadVerdict(false) : [leadVerdict(false), ARG]),
  ),
  ...cross("validateLead({ ...valid, email: $ })", "sync", (v) => validateLead({ ...validLeadFixed, email: v }), fieldExpect(true)),
  ...cross(
    "validateLead({ ...valid, metadata: $ })",
    "sync",
    (v) => validateLead({ ...validLeadFixed, metadata: v }),
    (k) =>
      k === "undefined" || k === "{}" || k === "nullProto"
        ? leadVerdict(true)
        : ["__proto__", "constructor", "deep2000", "Map", "Date", "null", "NaN", "Infinity", "symbol", "function"].includes(k)
          ? [leadVerdict(true), leadVerdict(false), ARG]
          : [leadVerdict(false), ARG],
  ),
]);

// ---- webhooks -------------------------------------------------------------------------------------------------

const UPDATE_RESULT = { updateId: "upd_1", success: true, error: null, leadId: MISSING_ID, referenceId: "r1", timestamp: 1717000000000, data: {} };
const isUpdateResult = (r) => {
  assert.equal(r.kind, "update_result");
  assert.equal(r.updateId, "upd_1");
};

group("webhooks", [
  ...cross(
    "parseWebhook($)",
    "sync",
    (v) => parseWebhook(v),
    () => ARG,
  ),
  ...cross(
    "parseWebhook({ ...updateResult, updateId: $ })",
    "sync",
    (v) => parseWebhook({ ...UPDATE_RESULT, updateId: v }),
    (k) =>
      absent(k) || ["symbol", "function", "bigint", "cyclic", "deep2000", "throwingProxy", "loneHigh", "loneLow"].includes(k)
        ? ARG
        : [(r) => assert.equal(r.kind, "update_result"), ARG],
  ),
  ...cross(
    "parseWebhook({ ...updateResult, data: $ })",
    "sync",
    (v) => parseWebhook({ ...UPDATE_RESULT, data: v }),
    (k) =>
      ["symbol", "function", "bigint", "cyclic", "deep2000", "throwingProxy", "loneHigh", "loneLow"].includes(k)
        ? [ARG, isUpdateResult]
        : [isUpdateResult, ARG],
  ),
  ...cross(
    "verifyWebhookAuth($, { token })",
    "sync",
    (v) => verifyWebhookAuth(v, { token: "abc" }),
    (k) => (OBJECTS.has(k) || k === "[]" ? [isBool(false), ARG] : ARG),
  ),
  ...cross(
    "verifyWebhookAuth(headers, $)",
    "sync",
    (v) => verifyWebhookAuth({ authorization: "Bearer abc" }, v),
    () => ARG,
  ),
  ...cross(
    "verifyWebhookAuth(headers, { token: $ })",
    "sync",
    (v) => verifyWebhookAuth({ authorization: "Bearer abc" }, { token: v }),
    (k) => (STRINGS.has(k) ? [isBool(false), ARG] : ARG),
  ),
  ...cross(
    "verifyWebhookAuth({ authorization: $ }, { token })",
    "sync",
    (v) => verifyWebhookAuth({ authorization: v }, { token: "abc" }),
    (k) => (k === "undefined" || STRINGS.has(k) ? isBool(false) : [isBool(false), ARG]),
  ),
  {
    name: "parseWebhook(JSON text with a __proto__ key)",
    kind: "sync",
    call: () => parseWebhook(`{"__proto__":{"polluted":1},"updateId":"upd_1","success":true,"leadId":"${MISSING_ID}","timestamp":1717000000000}`),
    expect: [
      (r) => {
        assert.equal(r.kind, "update_result");
        assert.equal({}.polluted, undefined);
      },
      ARG,
    ],
  },
  {
    name: "parseWebhook(10 MB JSON text of digits): a message without a mangled column",
    kind: "sync",
    call: () => {
      try {
        parseWebhook(BIG_DIGITS);
      } catch (e) {
        assert.ok(!e.message.includes("****"), `message masks a non-phone number: ${e.message}`);
        throw e;
      }
    },
    expect: ARG,
  },
  { name: "parseWebhook(JSON text 2,000 arrays deep)", kind: "sync", call: () => parseWebhook("[".repeat(2000) + "]".repeat(2000)), expect: ARG },
  {
    name: "parseWebhook(JSON text with a lone surrogate escape)",
    kind: "sync",
    call: () => parseWebhook(`{"updateId":"\\ud800","success":true,"leadId":"${MISSING_ID}","timestamp":1}`),
    expect: [ARG, (r) => assert.equal(r.kind, "update_result")],
  },
]);

// ---- targeted: big arrays and hostile metadata --------------------------------------------------------------------

const N = 100000;
function countingFetch() {
  const rec = { count: 0 };
  rec.fetch = (...args) => {
    rec.count++;
    return fetch(...args);
  };
  return rec;
}
const allFailed = (inputs) => (r) => {
  assert.equal(r.requests, 0, "no request for invalid leads");
  assert.equal(r.created.length, 0);
  assert.equal(r.unknown.length, 0);
  assert.equal(r.failed.length, inputs.length, "every input is under failed");
  for (let i = 0; i < r.failed.length; i++) {
    const f = r.failed[i];
    if (f.index !== i || f.error?.code !== "validation_error" || f.input !== inputs[i]) {
      assert.fail(`failed[${i}] = ${safeShow({ index: f.index, error: f.error })}`);
    }
  }
};
const hostileMetadataExpect = [ARG, "validation_error"];

const targeted = [];
{
  const invalidLeads = Array.from({ length: N }, (_, i) => ({ name: "No Contact", processId: SALES, referenceId: `bad-${i}` }));
  targeted.push({
    name: "bulkInitiateLeads(100,000 leads without phone or email)",
    kind: "async",
    call: async () => {
      const rec = countingFetch();
      const r = await makeClient({ fetch: rec.fetch }).bulkInitiateLeads(invalidLeads);
      assert.equal(rec.count, 0, "fetch was never called");
      return r;
    },
    expect: allFailed(invalidLeads),
  });
  const garbage = Array.from({ length: N }, (_, i) => [null, 0, "x", [], true, undefined, "\uD800", 1.5][i % 8]);
  targeted.push({ name: "bulkInitiateLeads(100,000 non-objects)", kind: "async", call: () => client.bulkInitiateLeads(garbage), expect: allFailed(garbage) });
  const badIds = Array.from({ length: N }, (_, i) => (i % 2 ? `not-an-id-${i}` : i));
  targeted.push({
    name: "bulkInitiateExisting(100,000 invalid ids)",
    kind: "async",
    call: () => client.bulkInitiateExisting(badIds),
    expect: allFailed(badIds),
  });
  const sparse = new Array(5); // holes
  targeted.push({
    name: "bulkInitiateLeads(a sparse array of 5 holes)",
    kind: "async",
    call: () => client.bulkInitiateLeads(sparse),
    expect: [
      (r) => {
        assert.equal(r.failed.length, 5);
        assert.equal(r.requests, 0);
      },
      ARG,
    ],
  });
  targeted.push({
    name: "bulkInitiateLeads(array-like { length: 3 })",
    kind: "async",
    call: () => client.bulkInitiateLeads({ length: 3, 0: goodLead() }),
    expect: ARG,
  });
  targeted.push({ name: "bulkInitiateLeads(a Set of leads)", kind: "async", call: () => client.bulkInitiateLeads(new Set([goodLead()])), expect: ARG });
  targeted.push({
    name: "bulkInitiateLeads([cyclic, deep, __proto__, proxy] leads)",
    kind: "async",
    call: () => client.bulkInitiateLeads([cyclic, DEEP, throwingProxy()]),
    expect: [
      ARG,
      (r) => {
        assert.equal(r.failed.length, 3);
        assert.equal(r.requests, 0);
      },
    ],
  });
  targeted.push({
    name: "bulkInitiateLeads(100,000 leads) { chunkSize: 0 }",
    kind: "async",
    call: () => client.bulkInitiateLeads(invalidLeads, { chunkSize: 0 }),
    expect: ARG,
  });
  targeted.push({
    name: "bulkInitiateLeads([], { chunkSize: 1001 })",
    kind: "async",
    call: () => client.bulkInitiateLeads([], { chunkSize: 1001 }),
    expect: ARG,
  });
  targeted.push({
    name: "bulkInitiateLeads([], { concurrency: 0 })",
    kind: "async",
    call: () => client.bulkInitiateLeads([], { concurrency: 0 }),
    expect: ARG,
  });

  const phones = Array.from({ length: N }, (_, i) => (i % 3 === 0 ? GOOD_PHONE : i % 3 === 1 ? "98453 17206" : `12${i}`));
  targeted.push({
    name: "validatePhones(100,000 strings) agrees with validatePhone",
    kind: "sync",
    call: () => validatePhones(phones),
    expect: (r) => {
      assert.equal(r.length, N);
      for (let i = 0; i < 30; i++) assert.deepEqual(r[i], validatePhone(phones[i]), `index ${i}`);
      assert.deepEqual(r[N - 1], validatePhone(phones[N - 1]));
      assert.equal(r.filter((c) => c.valid).length, Math.ceil(N / 3) + Math.floor((N + 1) / 3));
    },
  });
  targeted.push({
    name: "validatePhones(100,000 strings with one non-string at the end)",
    kind: "sync",
    call: () => validatePhones([...phones.slice(1), 42]),
    expect: ARG,
  });
  targeted.push({
    name: "validatePhones(100,000 lone surrogates)",
    kind: "sync",
    call: () => validatePhones(new Array(N).fill("\uDC00")),
    expect: (r) => {
      assert.equal(r.length, N);
      assert.equal(r[N - 1].reason, "invalid_characters");
    },
  });
  targeted.push({
    name: "validatePhones(strings with the separator-like characters)",
    kind: "sync",
    call: () => validatePhones(["\u0000", "\n", "\uFFFF", ",", "\u0000" + GOOD_PHONE, GOOD_PHONE]),
    expect: (r) => {
      assert.equal(r.length, 6);
      for (let i = 0; i < 5; i++) assert.equal(r[i].valid, false, `index ${i}: ${safeShow(r[i])}`);
      goodPhoneCheck(r[5]);
    },
  });
  // Items that grow between reads: validatePhones reads each item once (and writes into wasm's
  // memory only what that read said), and every later call still works.
  const reads = new Map();
  const growing = new Proxy(["1", "2", "3"], {
    get(target, key, receiver) {
      if (typeof key !== "string" || !/^\d+$/.test(key)) return Reflect.get(target, key, receiver);
      reads.set(key, (reads.get(key) ?? 0) + 1);
      return reads.get(key) === 1 ? target[key] : "9".repeat(200_000);
    },
  });
  targeted.push({
    name: "validatePhones(an array whose items grow between reads)",
    kind: "sync",
    call: () => validatePhones(growing),
    expect: (r) => {
      assert.deepEqual([...reads.values()], [1, 1, 1], "each item read once");
      assert.deepEqual(
        r.map((c) => c.reason),
        ["too_short", "too_short", "too_short"],
      );
      const after = validatePhones(phones.slice(0, 3000));
      for (const [i, c] of after.entries()) assert.deepEqual(c, validatePhone(phones[i]), `index ${i}`);
    },
  });
  const long = "9".repeat(10_000_000);
  const parts = [GOOD_PHONE, long, "98453 17206", long, "12", "\uFF19" + long];
  targeted.push({
    name: "validatePhones(30 million characters: checked in parts, in order)",
    kind: "sync",
    call: () => validatePhones(parts),
    expect: (r) => {
      assert.deepEqual(
        r.map((c) => c.reason ?? "valid"),
        ["valid", "too_long", "valid", "too_long", "too_short", "too_long"],
      );
      for (const [i, c] of r.entries()) assert.deepEqual(c, validatePhone(parts[i]), `index ${i}`);
    },
  });
  targeted.push({ name: "validatePhones(a sparse array)", kind: "sync", call: () => validatePhones(new Array(3)), expect: ARG });
  targeted.push({
    name: "validatePhones(array with a throwing getter)",
    kind: "sync",
    call: () =>
      validatePhones(
        Object.defineProperty([GOOD_PHONE], "0", {
          get() {
            throw new Error("getter");
          },
        }),
      ),
    expect: ARG,
  });

  // Leads with hostile metadata: refused or sent, never a trap and never pollution.
  targeted.push({
    name: "initiateLead(lead with cyclic metadata)",
    kind: "async",
    call: () => client.initiateLead(goodLead({ metadata: cyclic }), { init: false }),
    expect: hostileMetadataExpect,
  });
  targeted.push({
    name: "initiateLead(lead with 2,000-deep metadata)",
    kind: "async",
    call: () => client.initiateLead(goodLead({ metadata: DEEP }), { init: false }),
    expect: hostileMetadataExpect,
  });
  targeted.push({
    name: "initiateLead(lead with throwing-proxy metadata)",
    kind: "async",
    call: () => client.initiateLead(goodLead({ metadata: throwingProxy() }), { init: false }),
    expect: hostileMetadataExpect,
  });
  targeted.push({
    name: "initiateLead(lead with BigInt metadata)",
    kind: "async",
    call: () => client.initiateLead(goodLead({ metadata: { n: 10n } }), { init: false }),
    expect: hostileMetadataExpect,
  });
  targeted.push({
    name: "initiateLead(lead whose metadata has a __proto__ key) creates it without pollution",
    kind: "async",
    call: () =>
      client.initiateLead(goodLead({ metadata: JSON.parse('{"__proto__":{"polluted":1},"constructor":{"prototype":{"polluted":1}},"ok":1}') }), {
        init: false,
      }),
    expect: [
      (r) => {
        assert.equal(typeof r._id, "string");
        assert.equal({}.polluted, undefined);
        assert.equal(Object.getPrototypeOf(r), Object.prototype);
      },
      "validation_error",
      ARG,
    ],
  });
  targeted.push({
    name: "initiateLead(lead with a __proto__ key at the top)",
    kind: "async",
    call: () => client.initiateLead({ ...JSON.parse('{"__proto__":{"polluted":1}}'), ...goodLead({ processId: MISSING_ID }) }, { init: false }),
    expect: ["not_found", "validation_error", ARG],
  });
  targeted.push({
    name: "initiateLead(lead with a 10 MB name)",
    kind: "async",
    call: () => client.initiateLead(goodLead({ name: BIG, processId: MISSING_ID }), { init: false }),
    expect: ["validation_error", ARG, "bad_request", "not_found"],
  });
  targeted.push({
    name: "initiateLead(lead with a lone surrogate in name)",
    kind: "async",
    call: () => client.initiateLead(goodLead({ name: "Bad \uD800 Name", processId: MISSING_ID }), { init: false }),
    expect: ["validation_error", ARG],
  });
  targeted.push({
    name: "initiateLead(lead with phone NaN)",
    kind: "async",
    call: () => client.initiateLead(goodLead({ phone: NaN }), { init: false }),
    expect: ["validation_error", ARG],
  });
  targeted.push({
    name: "updateLead(missing, { metadata: cyclic })",
    kind: "async",
    call: () => client.updateLead({ leadId: MISSING_ID }, { metadata: cyclic }),
    expect: hostileMetadataExpect,
  });
  targeted.push({
    name: "updateLead(missing, { metadata: deep })",
    kind: "async",
    call: () => client.updateLead({ leadId: MISSING_ID }, { metadata: DEEP }),
    expect: hostileMetadataExpect,
  });
  targeted.push({
    name: "updateLead(missing, { metadata with __proto__ })",
    kind: "async",
    call: () => client.updateLead({ leadId: MISSING_ID }, { metadata: JSON.parse('{"__proto__":{"polluted":1}}') }),
    expect: ["not_found", ARG, "validation_error"],
  });
  targeted.push({
    name: "updateLead(missing, { metadata: 10 MB string })",
    kind: "async",
    call: () => client.updateLead({ leadId: MISSING_ID }, { metadata: { big: BIG } }),
    expect: ["not_found", ARG, "validation_error", "bad_request"],
  });
  targeted.push({
    name: "validateLead(lead with cyclic metadata)",
    kind: "sync",
    call: () => validateLead({ ...validLeadFixed, metadata: cyclic }),
    expect: [ARG, leadVerdict(false)],
  });
  targeted.push({
    name: "validateLead(lead with __proto__ metadata)",
    kind: "sync",
    call: () => validateLead({ ...validLeadFixed, metadata: JSON.parse('{"__proto__":{"polluted":1}}') }),
    expect: [leadVerdict(true), leadVerdict(false)],
  });
  targeted.push({
    name: "queryLeads({ createdFrom: Invalid Date })",
    kind: "async",
    call: () => client.queryLeads({ createdFrom: new Date(NaN) }),
    expect: ARG,
  });
  targeted.push({
    name: "iterateLeads(query) with an aborted signal",
    kind: "iter",
    call: () => client.iterateLeads({ limit: 1 }, { signal: AbortSignal.abort() }),
    expect: ["aborted"],
  });
  targeted.push({
    name: "getLead(missing) with a signal-like object",
    kind: "async",
    call: () => client.getLead({ leadId: MISSING_ID }, { signal: { aborted: false } }),
    expect: ARG,
  });
}
group("targeted: big arrays and hostile metadata", targeted);

// ---------------------------------------------------------------------------------------------------------
// Register the tests

test("the table holds at least 200 cases over every export", () => {
  assert.ok(caseCount >= 200, `${caseCount} cases`);
  const names = GROUPS.flatMap((g) => g.cases.map((c) => c.name)).join("\n");
  for (const what of [
    "new VoxClient",
    "initiateLead",
    "initiateExistingLead",
    "bulkInitiateLeads",
    "bulkInitiateExisting",
    "updateLead",
    "getLead",
    "queryLeads",
    "iterateLeads",
    "getActivity",
    "validatePhone(",
    "validatePhones",
    "normalizePhone",
    "maskPhone",
    "validateLead",
    "parseWebhook",
    "verifyWebhookAuth",
  ]) {
    assert.ok(names.includes(what), `a case covers ${what}`);
  }
});

for (const g of GROUPS) {
  describe(g.name, () => {
    for (const c of g.cases) test(c.name, T, () => runCase(c));
    groupHealth(g.name);
  });
}
