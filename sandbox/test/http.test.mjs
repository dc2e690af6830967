// HTTP behaviour shared by every route: CORS and preflight, unknown routes, bad and oversized bodies,
// handler exceptions, robustness against odd input, and the admin reset / stats routes.

import assert from "node:assert/strict";
import { request as httpRequest } from "node:http";
import { after, before, test } from "node:test";
import { makeLead, PROJECT_ID, SALES, startTestSandbox } from "../testing.mjs";

let sb;
before(async () => {
  sb = await startTestSandbox({ callDelayMs: 60000, rateLimit: false, dupMax: 100000 });
});
after(() => sb.close());

function assertCors(res) {
  assert.equal(res.headers.get("access-control-allow-origin"), "*");
  assert.equal(res.headers.get("access-control-expose-headers"), "Retry-After");
}

test("CORS headers on successes and errors", async () => {
  const responses = [
    await sb.get("/leads/query"),
    await sb.post("/leads/initiate", {}),
    await sb.get("/leads/query", { token: null }),
    await sb.get("/nope"),
    await sb.request("POST", "/leads/initiate", { raw: "{bad" }),
    await sb.get("/__sandbox/stats"),
  ];
  assert.deepEqual(
    responses.map((r) => r.status),
    [200, 400, 403, 404, 400, 200],
  );
  responses.forEach(assertCors);
});

test("OPTIONS preflight answers 204 for any path, without a token", async () => {
  for (const path of ["/leads/initiate", "/leads/bulk/initiate", "/leads/query", "/anything"]) {
    const res = await fetch(sb.url + path, {
      method: "OPTIONS",
      headers: { Origin: "http://example.com", "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization, content-type" },
    });
    assert.equal(res.status, 204);
    assert.equal(res.headers.get("access-control-allow-origin"), "*");
    assert.equal(res.headers.get("access-control-allow-methods"), "GET, POST, OPTIONS");
    assert.equal(res.headers.get("access-control-allow-headers"), "Authorization, Content-Type");
    assert.equal(res.headers.get("access-control-max-age"), "86400");
    assert.equal(res.headers.get("access-control-expose-headers"), "Retry-After");
    assert.equal(await res.text(), "");
  }
  const admin = await fetch(sb.origin + "/__sandbox/faults", { method: "OPTIONS" });
  assert.equal(admin.headers.get("access-control-allow-methods"), "GET, POST, DELETE, OPTIONS");
});

test("unknown routes and wrong methods are 404 Not found", async () => {
  const notFound = { success: false, error: "Not found" };
  for (const [method, path] of [
    ["GET", "/nope"],
    ["GET", "/leads/initiate"],
    ["POST", "/leads/get"],
    ["DELETE", "/leads/query"],
    ["GET", "/"],
    ["GET", "/__sandbox"],
    ["GET", "/recordings/xyz.wav"],
  ]) {
    const res = await sb.request(method, path);
    assert.deepEqual([res.status, res.body], [404, notFound], `${method} ${path}`);
  }
  const root = await fetch(sb.origin + "/");
  assert.equal(root.status, 404);
  // a trailing slash is tolerated
  assert.equal((await sb.get("/leads/query/")).status, 200);
});

test("invalid JSON body is 400 (after authentication)", async () => {
  for (const raw of ["{bad", '{"lead":', "nul", "[1,]", "\u0000"]) {
    const res = await sb.request("POST", "/leads/initiate", { raw, headers: { "Content-Type": "application/json" } });
    assert.deepEqual([res.status, res.body], [400, { success: false, error: "Invalid JSON body" }], raw);
  }
  const unauth = await sb.request("POST", "/leads/initiate", { raw: "{bad", token: null });
  assert.equal(unauth.status, 403);
  // a UTF-8 BOM and a missing Content-Type are fine
  const bom = await sb.request("POST", "/leads/initiate", { raw: "\uFEFF" + JSON.stringify({ lead: makeLead() }) });
  assert.equal(bom.status, 200);
});

test("bodies over 20 MB are refused with 413", async () => {
  const big = Buffer.alloc(20 * 1024 * 1024 + 1, 0x20);
  const res = await sb.request("POST", "/leads/bulk/initiate", { raw: big });
  assert.deepEqual([res.status, res.body], [413, { success: false, error: "Request body too large" }]);
  assertCors(res);

  // without Content-Length (chunked): counted while reading
  const status = await new Promise((resolve, reject) => {
    const req = httpRequest(`${sb.url}/leads/bulk/initiate`, { method: "POST", headers: { Authorization: "Bearer sk_test_vox_sandbox" } }, (r) => {
      r.resume();
      resolve(r.statusCode);
    });
    req.on("error", reject);
    const chunk = Buffer.alloc(1024 * 1024, 0x20);
    let sent = 0;
    const pump = () => {
      while (sent < 22) {
        sent++;
        if (!req.write(chunk)) return req.once("drain", pump);
      }
      req.end();
    };
    pump();
  });
  assert.equal(status, 413);
  // the server is fine afterwards
  assert.equal((await sb.get("/leads/query")).status, 200);
});

test("a handler exception becomes 500 Internal server error, and the server goes on", async () => {
  const original = sb.state.store.getActivity;
  sb.state.store.getActivity = () => {
    throw new Error("boom");
  };
  const errors = [];
  const consoleError = console.error;
  console.error = (...args) => errors.push(args);
  try {
    const res = await sb.get("/activities/get?activityId=6650a1b2c3d4e5f6012345ff");
    assert.deepEqual([res.status, res.body], [500, { success: false, error: "Internal server error" }]);
    assertCors(res);
  } finally {
    sb.state.store.getActivity = original;
    console.error = consoleError;
  }
  assert.equal(errors.length, 1);
  assert.equal((await sb.get("/activities/get?activityId=6650a1b2c3d4e5f6012345ff")).status, 404);
});

test("odd input never crashes the server or yields a 500", async () => {
  const bodies = [
    null,
    0,
    1,
    "str",
    true,
    [],
    {},
    { lead: [] },
    { lead: { name: {} } },
    { lead: { ...makeLead(), metadata: "m" } },
    { lead: { ...makeLead(), referenceId: 5 } },
    { lead: { ...makeLead(), firstName: ["x"] } },
    { lead: { ...makeLead(), email: {} } },
    { leadId: {} },
    { leadId: [] },
    { leadId: null, lead: null },
    { leads: [null, 1, [], {}, "x", { lead: {} }] },
    { leadIds: [null, {}, [], 5] },
    { leads: {} },
    { leads: 5 },
    { leadIds: null, leads: null },
    { leadId: "x", metadata: [] },
    { leadId: "x", targetState: 5 },
    { referenceId: {}, projectId: PROJECT_ID, processId: [] },
    { a: { b: { c: { d: [[[[[]]]]] } } } },
    JSON.parse('{"__proto__": {"polluted": true}, "lead": {"__proto__": {"x": 1}}}'),
  ];
  for (const path of ["/leads/initiate", "/leads/bulk/initiate", "/leads/update"]) {
    for (const body of bodies) {
      const res = await sb.request("POST", path, { raw: JSON.stringify(body) });
      assert.ok((res.status >= 400 && res.status < 500) || res.status === 200, `${path} ${JSON.stringify(body)} -> ${res.status}`);
      assert.ok((res.body && typeof res.body.error === "string") || res.status === 200, `${path} ${JSON.stringify(body)}`);
    }
  }
  for (const qs of ["leadId[]=1", "leadId=%ff%fe", "referenceId=&projectId=&processId=", "activityId=__proto__", "masked=maybe", "a=%"]) {
    for (const path of ["/leads/get", "/activities/get", "/leads/query"]) {
      const res = await sb.get(`${path}?${qs}`);
      assert.ok(res.status < 500, `${path}?${qs} -> ${res.status}`);
    }
  }
  assert.equal({}.polluted, undefined);
  // metadata with a __proto__ key is stored as data, not as a prototype
  const lead = (
    await sb.request("POST", "/leads/initiate", { raw: `{"lead": ${JSON.stringify(makeLead()).slice(0, -1)}, "metadata": {"__proto__": {"p": 1}, "k": 2}}}` })
  ).body;
  assert.deepEqual(lead.metadata, { k: 2 });
  assert.equal((await sb.get("/leads/query")).status, 200);
});

test("admin stats count requests by route; reset clears data, counters, windows and faults but keeps the config", async () => {
  const fresh = await startTestSandbox({ callDelayMs: 60000, rateLimit: "50/60000", dupMax: 1, blockMs: 60000 });
  try {
    const a = makeLead();
    await fresh.post("/leads/initiate", { lead: a });
    await fresh.post("/leads/initiate", { lead: a });
    await fresh.post("/leads/initiate", { lead: a });
    await fresh.get("/leads/query");
    await fresh.post("/__sandbox/faults", { rules: [{ kind: "status", count: 10, path: "/leads/update" }] });
    await fresh.post("/leads/update", { leadId: "x" });
    let stats = (await fresh.get("/__sandbox/stats")).body;
    assert.deepEqual(stats, {
      requests: 5,
      byRoute: { "POST /leads/initiate": 3, "GET /leads/query": 1, "POST /leads/update": 1 },
      rateLimited: 0,
      blockedResponses: 1,
      blocks: 1,
      leadsCreated: 1,
      leads: 1,
      duplicateRejections: 2,
      faultsInjected: 1,
      maxRequestsInWindow: 3,
    });
    const reset = await fresh.post("/__sandbox/reset", {});
    assert.deepEqual([reset.status, reset.body], [200, { success: true }]);
    stats = (await fresh.get("/__sandbox/stats")).body;
    assert.deepEqual(stats, {
      requests: 0,
      byRoute: {},
      rateLimited: 0,
      blockedResponses: 0,
      blocks: 0,
      leadsCreated: 0,
      leads: 0,
      duplicateRejections: 0,
      faultsInjected: 0,
      maxRequestsInWindow: 0,
    });
    assert.deepEqual((await fresh.get("/__sandbox/faults")).body.rules, []);
    // no longer blocked, the lead is gone, and the config is kept
    assert.equal((await fresh.post("/leads/initiate", { lead: a })).status, 200);
    stats = (await fresh.get("/__sandbox/stats")).body;
    assert.deepEqual([stats.requests, stats.leadsCreated, stats.leads, stats.maxRequestsInWindow], [1, 1, 1, 1]);
    assert.equal((await fresh.get("/__sandbox/config")).body.config.dupMax, 1);
    assert.deepEqual((await fresh.get("/__sandbox/config")).body.config.rateLimit, { requests: 50, perMs: 60000 });
  } finally {
    await fresh.close();
  }
});

test("admin routes are 404 unless enabled", async () => {
  const plain = await startTestSandbox({ admin: false });
  try {
    for (const [method, path] of [
      ["GET", "/__sandbox/stats"],
      ["POST", "/__sandbox/reset"],
      ["POST", "/__sandbox/faults"],
      ["DELETE", "/__sandbox/faults"],
      ["POST", "/__sandbox/config"],
    ]) {
      const res = await plain.request(method, path, method === "GET" ? {} : { body: {} });
      assert.deepEqual([res.status, res.body], [404, { success: false, error: "Not found" }], path);
    }
    assert.equal((await plain.get("/leads/query")).status, 200);
    void SALES;
  } finally {
    await plain.close();
  }
});
