// Hardening against a hostile network, a bad clock and odd callers (issue 14): each test is one
// failure a demanding user hit, against a programmable server on loopback (hostile-server.mjs).

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";
import { expectVoxError, maskPhone, TOKEN, VoxClient, VoxError } from "./helpers.mjs";
import { serverLead, startHostile } from "./hostile-server.mjs";

const PROCESS = "6650a1b2c3d4e5f6012345a1";
const T = { timeout: 30000 };
let server;
let other; // a second origin that must never be reached
before(async () => {
  server = await startHostile();
  other = await startHostile();
  other.answer(() => ({ status: 200, body: { success: true, data: serverLead({ name: "Elsewhere" }) } }));
});
after(async () => {
  await server.close();
  await other.close();
});

let projectNo = 0;
/** A client of its own project (so one test's pauses and limits never touch another's). */
function client(options = {}) {
  projectNo += 1;
  const projectId = `cccccccccccccccccccc${projectNo.toString(16).padStart(4, "0")}`;
  return new VoxClient({ projectId, token: TOKEN, baseUrl: server.url, timeoutMs: 2000, ...options });
}
const lead = (n = 0, extra = {}) => ({ processId: PROCESS, name: `Lead ${n}`, phone: `+91984531${String(7000 + n).padStart(4, "0")}`, ...extra });
const created = (body) => ({ status: 201, body: { success: true, data: serverLead(body.lead) } });
// What a bulk asks first (which of its leads exist): none do.
const noneExist = { status: 200, body: { success: true, data: [], pagination: { page: 1, limit: 100, total: 0, totalPages: 0, hasNextPage: false } } };
/** Answers a bulk's questions about existing leads with "none", and its bulk requests with `fn`. */
const bulkAnswers = (fn) => (r) => (r.path.endsWith("/leads/query") ? noneExist : fn(r));

// ---- 2. Retry-After --------------------------------------------------------------------------

test("a Retry-After past the cap fails at once with rate_limited, and later calls fail fast too", T, async () => {
  server.answer(() => ({ status: 429, headers: { "retry-after": "86400" }, body: { success: false, error: "Rate limit exceeded" } }));
  const c = client();
  const t0 = performance.now();
  const err = await expectVoxError(() => c.initiateLead(lead(1)), "rate_limited", { status: 429 });
  assert.equal(err.retryAfterMs, 86_400_000);
  assert.equal(server.requests.length, 1, "no retry while the server asks for a day");
  // A later call of the project, even with retries off, does not sleep: it says how long to wait.
  server.answer((r) => ({ status: 200, body: { success: true, data: serverLead({ _id: r.query.get("leadId") }) } }));
  const later = await expectVoxError(() => c.getLead({ leadId: "ffffffffffffffffffffffff" }, { maxRetries: 0 }), "rate_limited");
  assert.ok(later.retryAfterMs > 60_000, `the pause is reported: ${later.retryAfterMs}`);
  assert.equal(server.requests.length, 0, "nothing sent while the project is paused");
  assert.ok(performance.now() - t0 < 5000, "no call slept");
});

test("a Retry-After as an HTTP date is honoured", T, async () => {
  const c = client();
  let first;
  server.answer((r) => {
    if (first === undefined) {
      first = r.at;
      // Two to three seconds ahead (an HTTP date has whole seconds).
      const when = new Date(Date.now() + 3000).toUTCString();
      return { status: 429, headers: { "retry-after": when }, body: { success: false, error: "Rate limit exceeded" } };
    }
    return created(r.body);
  });
  const got = await c.initiateLead(lead(2));
  assert.equal(typeof got._id, "string");
  assert.equal(server.requests.length, 2);
  const gap = server.requests[1].at - server.requests[0].at;
  assert.ok(gap >= 1900, `waited for the date: ${Math.round(gap)} ms`);

  // A date far ahead is past the cap.
  server.answer(() => ({
    status: 429,
    headers: { "retry-after": new Date(Date.now() + 7_200_000).toUTCString() },
    body: { success: false, error: "Rate limit exceeded" },
  }));
  const err = await expectVoxError(() => client().initiateLead(lead(3)), "rate_limited");
  assert.ok(err.retryAfterMs > 7_100_000 && err.retryAfterMs <= 7_200_000, `retryAfterMs from the date: ${err.retryAfterMs}`);
});

// ---- 3. iterateLeads that never ends ----------------------------------------------------------

test("iterateLeads stops when a page brings no unseen lead, or passes totalPages", T, async () => {
  const page = Array.from({ length: 3 }, (_, i) => serverLead({ name: `P${i}` }));
  server.answer(() => ({
    status: 200,
    body: { success: true, data: page, pagination: { page: 1, limit: 3, total: 999, totalPages: 333, hasNextPage: true } },
  }));
  const seen = [];
  for await (const l of client().iterateLeads({ limit: 3 })) seen.push(l._id);
  assert.deepEqual(
    seen,
    page.map((l) => l._id),
    "each lead once",
  );
  assert.equal(server.requests.length, 2, "the repeated page ends it");

  // No pagination, and `page` ignored: the same leads again.
  server.answer(() => ({ status: 200, body: { success: true, data: page } }));
  const bare = [];
  for await (const l of client().iterateLeads({ limit: 3 })) bare.push(l._id);
  assert.equal(bare.length, 3);
  assert.equal(server.requests.length, 2);

  // New leads on every page, but totalPages is 2.
  server.answer((r) => ({
    status: 200,
    body: { success: true, data: [serverLead(), serverLead()], pagination: { page: Number(r.query.get("page")), limit: 2, totalPages: 2, hasNextPage: true } },
  }));
  let n = 0;
  for await (const _ of client().iterateLeads({ limit: 2 })) n += 1;
  assert.equal(n, 4);
  assert.equal(server.requests.length, 2, "no page past totalPages");
});

// ---- 4. redirects -----------------------------------------------------------------------------

test("no redirect is followed: a 3xx is a redirect_refused error and the other origin hears nothing", T, async () => {
  for (const status of [301, 302, 303, 307, 308]) {
    server.answer(() => ({ status, headers: { location: `${other.url}/leads/initiate` }, body: "" }));
    other.requests.length = 0;
    const err = await expectVoxError(() => client().initiateLead(lead(4)), "redirect_refused", { status, message: /redirect/ });
    assert.match(err.message, /baseUrl/, "says what to fix");
    assert.equal(other.requests.length, 0, `${status}: nothing reached the redirect's target`);
    assert.equal(server.requests.length, 1, `${status}: not retried`);
  }
  server.answer(() => ({ status: 302, headers: { location: `${other.url}/leads/get` }, body: "" }));
  await expectVoxError(() => client().getLead({ leadId: "ffffffffffffffffffffffff" }), "redirect_refused", { status: 302 });
  assert.equal(other.requests.length, 0);
});

// ---- 5. a wall clock that steps ---------------------------------------------------------------

test("the limiter runs on a monotonic clock: a step of Date.now lets no extra request through", T, async () => {
  server.answer((r) => ({ status: 200, body: { success: true, data: serverLead({ _id: r.query.get("leadId") }) } }));
  for (const step of [8000, -8000]) {
    server.requests.length = 0;
    // In a child whose Date.now steps (replaced before the package loads).
    const child = spawn(process.execPath, [fileURLToPath(new URL("./workers/clock-step.mjs", import.meta.url)), server.url, String(step)], {
      stdio: "inherit",
    });
    const code = await new Promise((resolve) => child.on("exit", resolve));
    assert.equal(code, 0, "the child's calls succeeded");
    const at = server.requests.map((r) => r.at);
    assert.equal(at.length, 15);
    for (const t of at) {
      const inWindow = at.filter((u) => u >= t && u < t + 1000).length;
      assert.ok(inWindow <= 5, `step ${step}: ${inWindow} requests within one second`);
    }
    const gaps = at.slice(1).map((t, i) => t - at[i]);
    assert.ok(Math.max(...gaps) < 2500, `step ${step}: no stall (${Math.round(Math.max(...gaps))} ms)`);
  }
});

// ---- 6. reconciliation within maxRetries ------------------------------------------------------

test("an outage bounds initiateLead with a referenceId, lookups included, by maxRetries", T, async () => {
  server.answer(() => ({ status: 503, body: { success: false, error: "Service unavailable" } }));
  for (const maxRetries of [0, 1, 2]) {
    server.requests.length = 0;
    await expectVoxError(() => client({ maxRetries }).initiateLead(lead(6, { referenceId: `ref-out-${maxRetries}` })), "server_error", { status: 503 });
    const writes = server.requests.filter((r) => r.method === "POST").length;
    const lookups = server.requests.filter((r) => r.method === "GET").length;
    assert.equal(writes, 1, "a write the server may have processed is not resent blindly");
    assert.ok(lookups <= 1 + maxRetries, `maxRetries ${maxRetries}: ${lookups} lookups`);
    assert.ok(server.requests.length <= 2 * (1 + maxRetries), `maxRetries ${maxRetries}: ${server.requests.length} requests`);
  }
});

// ---- 7. what JSON.parse accepts passes through -------------------------------------------------

test("unknown fields JSON.parse accepts (1e400, deep nesting, a lone surrogate) pass through", T, async () => {
  const deep = "[".repeat(200) + "]".repeat(200);
  const id = "abcdefabcdefabcdefabcdef";
  const raw = `{"success":true,"data":{"_id":"${id}","currentState":"new","big":1e400,"deep":${deep},"odd":"\\ud83d","activities":[]}}`;
  server.answer(() => ({ status: 200, body: raw }));
  const got = await client().getLead({ leadId: id });
  assert.equal(got._id, id);
  assert.equal(got.big, Infinity);
  assert.equal(got.odd, "\ud83d");
  let depth = 0;
  for (let v = got.deep; Array.isArray(v); v = v[0]) depth += 1;
  assert.equal(depth, 200);

  server.answer(() => ({ status: 201, body: raw }));
  const made = await client().initiateLead(lead(7));
  assert.equal(made._id, id, "a created lead resolves");
  assert.equal(made.big, Infinity);
});

// ---- 8. a created lead without _id in a bulk answer -------------------------------------------

test("one created lead without _id in a bulk answer leaves the other nine created", T, async () => {
  server.answer(
    bulkAnswers((r) => {
      const success = r.body.leads.map((l, i) => (i === 4 ? { ...l } : serverLead(l)));
      return { status: 200, body: { success, errors: [] } };
    }),
  );
  const leads = Array.from({ length: 10 }, (_, i) => lead(80 + i));
  const rep = await client().bulkInitiateLeads(leads);
  assert.equal(rep.created.length, 9, JSON.stringify(rep.unknown.map((u) => u.error)));
  assert.deepEqual(
    rep.created.map((c) => c.index),
    [0, 1, 2, 3, 5, 6, 7, 8, 9],
  );
  assert.equal(rep.created.length + rep.failed.length + rep.unknown.length, 10);
  const lost = [...rep.failed, ...rep.unknown];
  assert.equal(lost.length, 1);
  assert.equal(lost[0].index, 4);
  assert.equal(server.requests.filter((r) => r.method === "POST").length, 1, "nothing resent");
});

// ---- 9. response size -------------------------------------------------------------------------

test("a body past the size cap is refused with invalid_response, with or without Content-Length", T, async () => {
  const big = Buffer.alloc(100 * 1024 * 1024, 0x20);
  for (const length of [true, false]) {
    server.answer(() => (res) => {
      res.writeHead(200, { "content-type": "application/json", ...(length ? { "content-length": big.length } : {}) });
      res.on("error", () => {});
      res.end(big);
    });
    const err = await expectVoxError(() => client({ maxRetries: 0 }).getLead({ leadId: "ffffffffffffffffffffffff" }), "invalid_response", { message: /MiB/ });
    assert.match(err.message, /larger than/);
  }
});

// ---- 10. callbacks that throw or reject -------------------------------------------------------

test("a logger or onProgress that throws or rejects breaks neither the call nor the process", T, async () => {
  const unhandled = [];
  const onUnhandled = (e) => unhandled.push(e);
  process.on("unhandledRejection", onUnhandled);
  try {
    server.answer(
      bulkAnswers((r) =>
        r.path.endsWith("/bulk/initiate") ? { status: 200, body: { success: r.body.leads.map((l) => serverLead(l)), errors: [] } } : created(r.body),
      ),
    );
    const asyncBad = client({
      logger: async () => {
        throw new Error("logger rejects");
      },
    });
    assert.equal(typeof (await asyncBad.initiateLead(lead(10)))._id, "string");
    const syncBad = client({
      logger: () => {
        throw new Error("logger throws");
      },
    });
    assert.equal(typeof (await syncBad.initiateLead(lead(11)))._id, "string");
    const rep = await client().bulkInitiateLeads([lead(12), lead(13)], {
      onProgress: async () => {
        throw new Error("progress rejects");
      },
    });
    assert.equal(rep.created.length, 2);
    const rep2 = await client().bulkInitiateLeads([lead(14)], { onProgress: () => Promise.reject(new Error("progress rejects")) });
    assert.equal(rep2.created.length, 1);
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(unhandled, []);
  } finally {
    process.off("unhandledRejection", onUnhandled);
  }
});

// ---- 11. baseUrl and token --------------------------------------------------------------------

test("a baseUrl with credentials, a query or a fragment, and a token with CR/LF are refused at construction", () => {
  const port = new URL(server.url).port;
  const make =
    (baseUrl, token = TOKEN) =>
    () =>
      new VoxClient({ projectId: "6650a1b2c3d4e5f601234567", token, baseUrl });
  for (const [baseUrl, what] of [
    [`http://user:s3cretpw@127.0.0.1:${port}/api/v1`, /credentials/],
    [`http://127.0.0.1:${port}/api/v1?x=1`, /query/],
    [`http://127.0.0.1:${port}/api/v1#top`, /fragment/],
    ["ftp://127.0.0.1/api/v1", /http/],
    ["not a url", /URL/],
  ]) {
    let err;
    try {
      make(baseUrl)();
    } catch (e) {
      err = e;
    }
    assert.ok(err instanceof VoxError, `${baseUrl}: refused`);
    assert.equal(err.code, "invalid_argument");
    assert.match(err.message, what);
    assert.ok(!err.message.includes("s3cretpw"), "the password is not in the message");
  }
  for (const token of ["sk_test\r\nX-Evil: 1", "sk_test\n", "sk\u0000x"]) {
    assert.throws(
      make(server.url, token),
      (e) => e instanceof VoxError && e.code === "invalid_argument" && /token/.test(e.message) && !e.message.includes("sk_test"),
    );
  }
});

test("spellings of one base URL share one limiter (keyed by the URL as WHATWG normalises it)", T, async () => {
  server.answer((r) => ({ status: 200, body: { success: true, data: serverLead({ _id: r.query.get("leadId") }) } }));
  const port = new URL(server.url).port;
  const projectId = "dddddddddddddddddddd0001";
  const spellings = [`http://127.0.0.1:${port}/api/v1`, `HTTP://127.0.0.1:0${port}/api/v1/`, `http://127.0.0.1:${port}/api/v1/`];
  const clients = spellings.map((baseUrl) => new VoxClient({ projectId, token: TOKEN, baseUrl, rateLimit: { requests: 4, perMs: 1000 } }));
  assert.equal(clients[1].baseUrl, `http://127.0.0.1:${port}/api/v1`);
  const calls = [];
  for (let i = 0; i < 12; i++) calls.push(clients[i % 3].getLead({ leadId: "ffffffffffffffffffffffff" }));
  await Promise.all(calls);
  const at = server.requests.map((r) => r.at);
  for (const t of at) {
    const inWindow = at.filter((u) => u >= t && u < t + 1000).length;
    assert.ok(inWindow <= 4, `${inWindow} requests within one second across the spellings`);
  }
});

// ---- 12. masking ------------------------------------------------------------------------------

test("messages mask phone numbers, not every digit run; maskPhone ignores the junk rules", T, async () => {
  let err;
  try {
    new VoxClient({ projectId: "6650a1b2c3d4e5f601234567", token: TOKEN, rateLimit: { requests: 0, perMs: 5000 } });
  } catch (e) {
    err = e;
  }
  assert.equal(err.code, "invalid_argument");
  assert.match(err.message, /between 1 and \d{4,}/, err.message);

  server.answer((r) => ({
    status: 400,
    body: { success: false, error: `Lead with referenceId ${r.body.lead.referenceId} already exists (phone ${r.body.lead.phone})` },
  }));
  const bad = await expectVoxError(() => client().initiateLead(lead(12, { referenceId: "20261201001" })), "bad_request");
  assert.match(bad.message, /referenceId 20261201001 already exists/);
  assert.ok(!bad.message.includes("9845317012"), `the phone is masked: ${bad.message}`);

  assert.equal(maskPhone("+919876543210"), "+91******3210");
  assert.equal(maskPhone("+919999999999"), "+91******9999");
});

// ---- 13. bulk reasons never go to another lead -------------------------------------------------

test("bulk error reasons echoed with altered data in another order reach their own lead or none", T, async () => {
  const leads = [lead(130, { name: "Asha" }), lead(131, { name: "Bala" }), lead(132, { name: "Chen" })];
  // Echoed with another spelling of the name and the phone in another form, in another order;
  // Chen's and Asha's data differ from what was sent in a way no key recognises.
  server.answer(
    bulkAnswers((r) => ({
      status: 200,
      body: {
        success: [],
        errors: [
          { data: { ...r.body.leads[2], name: " Chen ", phone: undefined }, referenceId: null, error: "reason of Chen" },
          { data: { ...r.body.leads[0], name: "asha", phone: undefined }, referenceId: null, error: "reason of Asha" },
        ],
      },
    })),
  );
  const rep = await client({ maxRetries: 0 }).bulkInitiateLeads(leads);
  assert.equal(rep.created.length, 0);
  for (const item of [...rep.failed, ...rep.unknown]) {
    const own = `reason of ${leads[item.index].name}`;
    if (/reason of/.test(item.error.message)) assert.match(item.error.message, new RegExp(own), `lead ${item.index} got ${item.error.message}`);
  }
  assert.equal(rep.failed.length + rep.unknown.length, 3, "every lead accounted");
  const bala = [...rep.failed, ...rep.unknown].find((i) => i.index === 1);
  assert.ok(bala, "Bala is reported");
  assert.doesNotMatch(bala.error.message, /reason of/, "Bala got no other lead's reason");
});

// ---- 14. smaller ------------------------------------------------------------------------------

test("many calls on one AbortSignal print no MaxListenersExceededWarning", T, async () => {
  server.answer((r) => ({ status: 200, body: { success: true, data: serverLead({ _id: r.query.get("leadId") }) } }));
  const warnings = [];
  const onWarning = (w) => warnings.push(w);
  process.on("warning", onWarning);
  try {
    const controller = new AbortController();
    const c = client();
    await Promise.all(Array.from({ length: 30 }, () => c.getLead({ leadId: "ffffffffffffffffffffffff" }, { signal: controller.signal })));
    await new Promise((r) => setTimeout(r, 20));
  } finally {
    process.off("warning", onWarning);
  }
  assert.deepEqual(
    warnings.map((w) => w.name),
    [],
  );
});

test("a toJSON that throws keeps the caller's message", T, async () => {
  server.answer((r) => created(r.body));
  const input = {
    ...lead(140),
    metadata: {
      toJSON() {
        throw new Error("metadata cannot be written now");
      },
    },
  };
  const err = await expectVoxError(() => client().initiateLead(input), "validation_error");
  assert.match(err.message, /metadata cannot be written now/);
  assert.equal(server.requests.length, 0);
});

test("a bulk holding one unreadable lead reads each lead's getters once", T, async () => {
  server.answer(bulkAnswers((r) => ({ status: 200, body: { success: r.body.leads.map((l) => serverLead(l)), errors: [] } })));
  const reads = new Map();
  const counted = (i) => {
    const base = lead(150 + i);
    const out = {};
    for (const k of Object.keys(base)) {
      Object.defineProperty(out, k, {
        enumerable: true,
        get: () => {
          reads.set(`${i}.${k}`, (reads.get(`${i}.${k}`) ?? 0) + 1);
          return base[k];
        },
      });
    }
    return out;
  };
  const unreadable = new Proxy(
    {},
    {
      get() {
        throw new Error("no reading me");
      },
      ownKeys() {
        throw new Error("no reading me");
      },
    },
  );
  const leads = [counted(0), counted(1), unreadable, counted(3)];
  const rep = await client().bulkInitiateLeads(leads);
  assert.equal(rep.created.length, 3);
  assert.deepEqual(
    rep.failed.map((f) => f.index),
    [2],
  );
  const twice = [...reads].filter(([, n]) => n > 1);
  assert.deepEqual(twice, [], "no getter ran twice");
});
