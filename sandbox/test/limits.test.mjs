// The rate limit (per project, sliding window, Retry-After) and the duplicate-submission block
// (per token, "the 6th rejection in the window blocks"), and their order.

import assert from "node:assert/strict";
import { after, test } from "node:test";
import { makeLead, PROJECT_ID, SALES, sleep, startTestSandbox } from "../testing.mjs";

const OTHER = {
  _id: "6650a1b2c3d4e5f60123456b",
  name: "Other project",
  tokens: ["sk_other_1", "sk_other_2"],
  processes: [{ _id: "6650a1b2c3d4e5f6012345b1", name: "Other sales", states: ["new", "make_first_call", "lost"] }],
};
const OTHER_PROCESS = OTHER.processes[0]._id;

const sandboxes = [];
after(() => Promise.all(sandboxes.map((s) => s.close())));
async function start(options) {
  const sb = await startTestSandbox({ callDelayMs: 60000, projects: [OTHER], ...options });
  sandboxes.push(sb);
  return sb;
}

const RATE = { success: false, error: "Rate limit exceeded" };
const BLOCKED = { success: false, error: "API key temporarily blocked due to repeated duplicate submissions" };

test("the (N+1)th request in the window gets 429 with Retry-After; the window slides", async () => {
  const sb = await start({ rateLimit: "5/400" });
  for (let i = 0; i < 5; i++) assert.equal((await sb.get("/leads/query")).status, 200);
  const limited = await sb.get("/leads/query");
  assert.equal(limited.status, 429);
  assert.deepEqual(limited.body, RATE);
  assert.equal(limited.headers.get("retry-after"), "1");
  assert.equal(limited.headers.get("access-control-allow-origin"), "*");
  // every endpoint counts, and refused requests do not extend the window
  for (let i = 0; i < 5; i++) assert.equal((await sb.post("/leads/initiate", { lead: makeLead() })).status, 429);
  // the other project has its own window
  assert.equal((await sb.get("/leads/query", { token: "sk_other_1" })).status, 200);
  // requests without a valid token are not counted (and are answered 403 even when the project is limited)
  assert.equal((await sb.get("/leads/query", { token: "nope" })).status, 403);
  await sleep(420);
  for (let i = 0; i < 5; i++) assert.equal((await sb.get("/leads/query")).status, 200, `after the window, request ${i}`);
  assert.equal((await sb.get("/leads/query")).status, 429);
  const stats = (await sb.get("/__sandbox/stats")).body;
  assert.equal(stats.rateLimited, 7);
  assert.equal(stats.maxRequestsInWindow, 5);
});

test("Retry-After is the whole seconds until the oldest request leaves the window", async () => {
  const sb = await start({ rateLimit: { requests: 2, perMs: 2500 } });
  await sb.get("/leads/query");
  await sb.get("/leads/query");
  const res = await sb.get("/leads/query");
  assert.equal(res.status, 429);
  assert.equal(res.headers.get("retry-after"), "3");
});

test("under a burst of concurrent requests exactly N are accepted", async () => {
  const sb = await start({ rateLimit: "100/5000" });
  const statuses = await Promise.all(Array.from({ length: 250 }, () => sb.get("/leads/query?limit=1").then((r) => r.status)));
  assert.equal(statuses.filter((s) => s === 200).length, 100);
  assert.equal(statuses.filter((s) => s === 429).length, 150);
  const stats = (await sb.get("/__sandbox/stats")).body;
  assert.equal(stats.maxRequestsInWindow, 100);
  assert.equal(stats.rateLimited, 150);
});

test("rate limit off", async () => {
  const sb = await start({ rateLimit: "off" });
  const statuses = await Promise.all(Array.from({ length: 150 }, () => sb.get("/leads/query?limit=1").then((r) => r.status)));
  assert.ok(statuses.every((s) => s === 200));
});

test("the 6th duplicate rejection in the window blocks the token; the rejection itself is answered normally", async () => {
  const sb = await start({ rateLimit: false, dupMax: 5, dupWindowMs: 2000, blockMs: 500 });
  const original = makeLead();
  assert.equal((await sb.post("/leads/initiate", { lead: original })).status, 200);
  const dup = () => sb.post("/leads/initiate", { lead: { ...original, referenceId: undefined } });
  for (let i = 0; i < 6; i++) {
    const res = await dup();
    assert.equal(res.status, 400, `duplicate ${i + 1}`);
    assert.deepEqual(res.body, { success: false, error: "A call attempt has already been made to this phone number for this project" });
  }
  // now every request with that token is refused, whatever it is
  for (const res of [await sb.get("/leads/query"), await sb.post("/leads/initiate", { lead: makeLead() }), await dup()]) {
    assert.equal(res.status, 429);
    assert.deepEqual(res.body, BLOCKED);
    assert.equal(res.headers.get("retry-after"), "1");
  }
  // other tokens, even of the same kind, are not blocked
  assert.equal((await sb.get("/leads/query", { token: "sk_other_1" })).status, 200);
  let stats = (await sb.get("/__sandbox/stats")).body;
  assert.equal(stats.blocks, 1);
  assert.equal(stats.blockedResponses, 3);
  assert.equal(stats.duplicateRejections, 6);
  await sleep(520);
  assert.equal((await sb.get("/leads/query")).status, 200, "the block ends after blockMs");
  // the count starts over after a block
  assert.equal((await dup()).status, 400);
  assert.equal((await sb.get("/leads/query")).status, 200);
  stats = (await sb.get("/__sandbox/stats")).body;
  assert.equal(stats.blocks, 1);
});

test("Retry-After of a block is the seconds left; duplicates are counted per token", async () => {
  const sb = await start({ rateLimit: false });
  const lead = { ...makeLead(), projectId: OTHER._id, processId: OTHER_PROCESS };
  assert.equal((await sb.post("/leads/initiate", { lead }, { token: "sk_other_1" })).status, 200);
  // 5 rejections on each of the two tokens of the project: nobody is blocked
  for (const token of ["sk_other_1", "sk_other_2"]) {
    for (let i = 0; i < 5; i++) assert.equal((await sb.post("/leads/initiate", { lead }, { token })).status, 400);
  }
  assert.equal((await sb.get("/leads/query", { token: "sk_other_1" })).status, 200);
  assert.equal((await sb.post("/leads/initiate", { lead }, { token: "sk_other_2" })).status, 400);
  const blocked = await sb.get("/leads/query", { token: "sk_other_2" });
  assert.equal(blocked.status, 429);
  assert.equal(blocked.headers.get("retry-after"), "3600");
  assert.equal((await sb.get("/leads/query", { token: "sk_other_1" })).status, 200);
});

test("rejections that leave the window no longer count", async () => {
  const sb = await start({ rateLimit: false, dupWindowMs: 300 });
  const original = makeLead();
  await sb.post("/leads/initiate", { lead: original });
  for (let i = 0; i < 5; i++) assert.equal((await sb.post("/leads/initiate", { lead: original })).status, 400);
  await sleep(330);
  for (let i = 0; i < 5; i++) assert.equal((await sb.post("/leads/initiate", { lead: original })).status, 400);
  assert.equal((await sb.get("/leads/query")).status, 200);
});

test("bulk duplicates count one by one, and email / referenceId duplicates count too", async () => {
  const sb = await start({ rateLimit: false });
  const a = makeLead();
  await sb.post("/leads/initiate", { lead: a });
  const res = await sb.post("/leads/bulk/initiate", {
    leads: [
      makeLead({ referenceId: a.referenceId }),
      makeLead({ email: a.email }),
      makeLead({ phone: a.phone }),
      makeLead({ email: a.email }),
      makeLead({ referenceId: a.referenceId }),
      makeLead({ phone: a.phone }),
      makeLead(), // still processed: the block applies from the next request on
    ],
  });
  assert.equal(res.status, 200);
  assert.equal(res.body.errors.length, 6);
  assert.equal(res.body.success.length, 1);
  const next = await sb.get("/leads/query");
  assert.deepEqual([next.status, next.body], [429, BLOCKED]);
});

test("the block is checked before the rate limit, and blocked answers do not use the rate window", async () => {
  const sb = await start({ rateLimit: "8/60000", blockMs: 300 });
  const original = makeLead();
  await sb.post("/leads/initiate", { lead: original });
  for (let i = 0; i < 6; i++) await sb.post("/leads/initiate", { lead: original }); // 7 requests in the window, blocked now
  for (let i = 0; i < 3; i++) assert.deepEqual((await sb.post("/leads/initiate", { lead: original })).body, BLOCKED);
  await sleep(320);
  assert.equal((await sb.get("/leads/query")).status, 200, "the 8th accepted request of the window");
  const res = await sb.get("/leads/query");
  assert.deepEqual([res.status, res.body], [429, RATE]);
  // with the window full, a newly blocked token still gets the block answer, not the rate answer
  await sb.post("/__sandbox/config", { blockMs: 60000 });
  sb.state.dups.record("sk_test_vox_sandbox", Date.now());
  for (let i = 0; i < 5; i++) sb.state.dups.record("sk_test_vox_sandbox", Date.now());
  assert.deepEqual((await sb.get("/leads/query")).body, BLOCKED);
});

test("runtime config via the admin route", async () => {
  const sb = await start({ rateLimit: false });
  let res = await sb.post("/__sandbox/config", { rateLimit: { requests: 2, perMs: 60000 }, dupMax: 1, blockMs: 1000 });
  assert.equal(res.status, 200);
  assert.deepEqual(res.body.config.rateLimit, { requests: 2, perMs: 60000 });
  assert.equal(res.body.config.dupMax, 1);
  await sb.get("/leads/query");
  await sb.get("/leads/query");
  assert.equal((await sb.get("/leads/query")).status, 429);
  res = await sb.post("/__sandbox/config", { rateLimit: false });
  assert.equal(res.body.config.rateLimit, false);
  assert.equal((await sb.get("/leads/query")).status, 200);
  const lead = makeLead();
  await sb.post("/leads/initiate", { lead });
  await sb.post("/leads/initiate", { lead });
  await sb.post("/leads/initiate", { lead });
  assert.deepEqual((await sb.get("/leads/query")).body, BLOCKED, "dupMax 1: the 2nd rejection blocks");
  assert.deepEqual(
    (await sb.get("/__sandbox/config")).body.config.projects.map((p) => p._id),
    [PROJECT_ID, OTHER._id],
  );
  assert.deepEqual((await sb.post("/__sandbox/config", { rateLimit: "fast" })).body, { success: false, error: "Invalid config: rateLimit" });
  assert.deepEqual((await sb.post("/__sandbox/config", { dupMax: -1 })).body, { success: false, error: "Invalid config: dupMax" });
  assert.deepEqual((await sb.post("/__sandbox/config", { color: "red" })).body, { success: false, error: "Unknown config key: color" });
  res = await sb.post("/__sandbox/config", { rateLimit: "10/1000", callDelayMs: 5, callDurationMs: 5 });
  assert.deepEqual(res.body.config.rateLimit, { requests: 10, perMs: 1000 });
  assert.equal(sb.config.callDelayMs, 5);
  void SALES;
});
