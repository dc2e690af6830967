// Injected faults (admin routes): status / delay / reset / malformed, before or after processing,
// count and seeded probability, path and method matching, listing and clearing.

import assert from "node:assert/strict";
import { after, before, beforeEach, test } from "node:test";
import { makeLead, startTestSandbox, waitFor } from "../testing.mjs";

let sb;
before(async () => {
  sb = await startTestSandbox({ callDelayMs: 60000, rateLimit: false });
});
after(() => sb.close());
beforeEach(async () => {
  await sb.request("DELETE", "/__sandbox/faults");
});

const addFaults = (...rules) => sb.post("/__sandbox/faults", { rules });
const findRef = async (ref) => (await sb.get(`/leads/query?referenceId=${encodeURIComponent(ref)}`)).body.pagination.total;

test("status before: answered with the status, the request is not processed", async () => {
  const added = await addFaults({ kind: "status", status: 503, path: "/leads/initiate" });
  assert.equal(added.status, 200);
  assert.equal(added.body.added.length, 1);
  const lead = makeLead();
  const res = await sb.post("/leads/initiate", { lead });
  assert.equal(res.status, 503);
  assert.deepEqual(res.body, { success: false, error: "Service Unavailable" });
  assert.equal(res.headers.get("access-control-allow-origin"), "*");
  assert.equal(await findRef(lead.referenceId), 0);
  // count defaults to 1: the next request is normal
  assert.equal((await sb.post("/leads/initiate", { lead })).status, 200);
});

test("status with html: a proxy-style HTML page", async () => {
  await addFaults({ kind: "status", status: 502, html: true });
  const res = await sb.get("/leads/query");
  assert.equal(res.status, 502);
  assert.match(res.headers.get("content-type"), /^text\/html/);
  assert.match(res.text, /<h1>502 Bad Gateway<\/h1>/);
  assert.equal(res.body, undefined);
});

test("status after: the request is processed, then answered with the status", async () => {
  await addFaults({ kind: "status", status: 500, when: "after", path: "/leads/initiate" });
  const lead = makeLead();
  const res = await sb.post("/leads/initiate", { lead });
  assert.deepEqual([res.status, res.body], [500, { success: false, error: "Internal Server Error" }]);
  assert.equal(await findRef(lead.referenceId), 1);
  const again = await sb.post("/leads/initiate", { lead });
  assert.equal(again.body.error, `Lead with referenceId ${lead.referenceId} already exists for this project and process`);
});

test("reset before and after (a drop after processing)", async () => {
  await addFaults({ kind: "reset", path: "/leads/initiate" });
  const a = makeLead();
  await assert.rejects(sb.post("/leads/initiate", { lead: a }), TypeError);
  assert.equal(await findRef(a.referenceId), 0);

  await addFaults({ kind: "reset", when: "after", path: "/leads/bulk/initiate" });
  const b = makeLead();
  await assert.rejects(sb.post("/leads/bulk/initiate", { leads: [b] }), TypeError);
  assert.equal(await findRef(b.referenceId), 1);
});

test("delay: the client times out while the request is still processed", async () => {
  await addFaults({ kind: "delay", ms: 300, path: "/leads/initiate" });
  const lead = makeLead();
  const started = Date.now();
  await assert.rejects(
    fetch(`${sb.url}/leads/initiate`, {
      method: "POST",
      headers: { Authorization: "Bearer sk_test_vox_sandbox", "Content-Type": "application/json" },
      body: JSON.stringify({ lead }),
      signal: AbortSignal.timeout(80),
    }),
    (err) => err.name === "TimeoutError",
  );
  assert.equal(await findRef(lead.referenceId), 0, "not yet processed");
  await waitFor(async () => (await findRef(lead.referenceId)) === 1, { what: "delayed request processed" });
  assert.ok(Date.now() - started >= 290);

  // a delay that the client waits out is a normal answer
  await addFaults({ kind: "delay", ms: 50, when: "after" });
  const t0 = Date.now();
  const res = await sb.get("/leads/query");
  assert.equal(res.status, 200);
  assert.ok(Date.now() - t0 >= 45);
});

test("malformed: 200 with JSON that does not parse, after (default) or before processing", async () => {
  await addFaults({ kind: "malformed", path: "/leads/initiate" });
  const lead = makeLead();
  const res = await sb.post("/leads/initiate", { lead });
  assert.equal(res.status, 200);
  assert.match(res.headers.get("content-type"), /application\/json/);
  assert.throws(() => JSON.parse(res.text));
  assert.ok(res.text.startsWith('{"success":true'));
  assert.equal(await findRef(lead.referenceId), 1);

  await addFaults({ kind: "malformed", when: "before", path: "/leads/initiate" });
  const other = makeLead();
  const res2 = await sb.post("/leads/initiate", { lead: other });
  assert.equal(res2.status, 200);
  assert.throws(() => JSON.parse(res2.text));
  assert.equal(await findRef(other.referenceId), 0);
});

test("count, method and path matching; listing with remaining counts; clearing", async () => {
  await addFaults({ kind: "status", status: 500, count: 2, method: "post", path: "/leads/update" });
  const listed = (await sb.get("/__sandbox/faults")).body.rules;
  assert.equal(listed.length, 1);
  assert.deepEqual(
    {
      kind: listed[0].kind,
      status: listed[0].status,
      method: listed[0].method,
      path: listed[0].path,
      remaining: listed[0].remaining,
      when: listed[0].when,
      fired: listed[0].fired,
    },
    { kind: "status", status: 500, method: "POST", path: "/leads/update", remaining: 2, when: "before", fired: 0 },
  );
  assert.equal((await sb.get("/leads/query")).status, 200, "other routes are not hit");
  const lead = (await sb.post("/leads/initiate", { lead: makeLead(), init: false })).body;
  assert.equal((await sb.post("/leads/update", { leadId: lead._id })).status, 500);
  assert.equal((await sb.get("/__sandbox/faults")).body.rules[0].remaining, 1);
  assert.equal((await sb.post("/leads/update", { leadId: lead._id })).status, 500);
  assert.equal((await sb.post("/leads/update", { leadId: lead._id })).status, 200);
  assert.equal((await sb.get("/__sandbox/faults")).body.rules[0].remaining, 0);

  await addFaults({ kind: "status", status: 500, count: 100 }, { kind: "reset" });
  const del = await sb.request("DELETE", "/__sandbox/faults");
  assert.deepEqual(del.body, { success: true, cleared: 3 });
  assert.deepEqual((await sb.get("/__sandbox/faults")).body.rules, []);
  assert.equal((await sb.get("/leads/query")).status, 200);
  // the /api/v1 prefix in a rule path is accepted too
  await addFaults({ kind: "status", status: 504, path: "/api/v1/leads/query" });
  assert.equal((await sb.get("/leads/query")).status, 504);
});

test("probability rules are seeded: the same rule hits the same requests on every run", async () => {
  const run = async () => {
    await sb.request("DELETE", "/__sandbox/faults");
    await addFaults({ kind: "status", status: 503, probability: 0.3, seed: 42, path: "/leads/query" });
    const out = [];
    for (let i = 0; i < 40; i++) out.push((await sb.get("/leads/query?limit=1")).status);
    return out;
  };
  const first = await run();
  const second = await run();
  assert.deepEqual(first, second);
  const hits = first.filter((s) => s === 503).length;
  assert.ok(hits > 3 && hits < 25, `about 30% hit: ${hits}`);
  assert.equal((await sb.get("/__sandbox/faults")).body.rules[0].remaining, null, "no count: unlimited");
  // a probability with a count stops after count hits
  await sb.request("DELETE", "/__sandbox/faults");
  await addFaults({ kind: "status", status: 503, probability: 1, count: 3 });
  const statuses = [];
  for (let i = 0; i < 5; i++) statuses.push((await sb.get("/leads/query?limit=1")).status);
  assert.deepEqual(statuses, [503, 503, 503, 200, 200]);
});

test("faults are counted in stats and never hit admin routes", async () => {
  const before = (await sb.get("/__sandbox/stats")).body.faultsInjected;
  await addFaults({ kind: "status", status: 500, count: 5 });
  assert.equal((await sb.get("/__sandbox/stats")).status, 200);
  assert.equal((await sb.get("/leads/query")).status, 500);
  assert.equal((await sb.get("/leads/query")).status, 500);
  assert.equal((await sb.get("/__sandbox/stats")).body.faultsInjected - before, 2);
});

test("invalid rules are refused with a reason, and none of the batch is added", async () => {
  const cases = [
    [{ rules: "x" }, "rules must be an array"],
    [{}, "rules must be an array"],
    [{ rules: [{ kind: "explode" }] }, "Invalid fault rule at index 0: kind must be one of status, delay, reset, malformed"],
    [{ rules: [{ kind: "status" }, { kind: "status", status: 200 }] }, "Invalid fault rule at index 1: status must be an integer from 400 to 599"],
    [{ rules: [{ kind: "delay", ms: -1 }] }, "Invalid fault rule at index 0: ms must be an integer from 0 to 600000"],
    [{ rules: [{ kind: "reset", count: 0 }] }, "Invalid fault rule at index 0: count must be a positive integer"],
    [{ rules: [{ kind: "reset", probability: 2 }] }, "Invalid fault rule at index 0: probability must be a number in (0, 1]"],
    [{ rules: [{ kind: "reset", when: "during" }] }, 'Invalid fault rule at index 0: when must be "before" or "after"'],
    [{ rules: [{ kind: "reset", path: "leads" }] }, "Invalid fault rule at index 0: path must start with /"],
  ];
  for (const [body, error] of cases) {
    const res = await sb.post("/__sandbox/faults", body);
    assert.deepEqual([res.status, res.body], [400, { success: false, error }]);
  }
  assert.deepEqual((await sb.get("/__sandbox/faults")).body.rules, []);
});
