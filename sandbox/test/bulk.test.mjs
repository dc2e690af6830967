// POST /leads/bulk/initiate (docs/api.md §3.2): partial success, error item shapes, request-level errors
// (with the {error} body shape), leadIds, duplicates inside one request, and a 1000-lead request.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { makeLead, SALES, SUPPORT, startTestSandbox } from "../testing.mjs";

let sb;
before(async () => {
  sb = await startTestSandbox({ callDelayMs: 60000, dupMax: 10000, rateLimit: false });
});
after(() => sb.close());

const bulk = (body, opts) => sb.post("/leads/bulk/initiate", body, opts);

async function expectPlain(body, status, error) {
  const res = await bulk(body);
  assert.equal(res.status, status, JSON.stringify(res.body));
  assert.deepEqual(res.body, { error });
}

test("partial success: created leads in success, rejected ones as {data, referenceId, error}", async () => {
  const good1 = makeLead();
  const good2 = makeLead({ processId: SUPPORT, init: "ignored field" });
  const badPhone = makeLead({ phone: "12345" });
  const noRef = makeLead({ referenceId: undefined, name: undefined });
  const notObject = "just a string";
  const noProject = makeLead({ projectId: undefined });
  const leads = [good1, badPhone, good2, noRef, notObject, noProject];
  const res = await bulk({ leads, init: false }, {});
  assert.equal(res.status, 200);
  assert.deepEqual(Object.keys(res.body).sort(), ["errors", "success"]);
  assert.ok(Array.isArray(res.body.success));
  assert.deepEqual(
    res.body.success.map((l) => l.referenceId),
    [good1.referenceId, good2.referenceId],
  );
  assert.ok(res.body.success.every((l) => /^[0-9a-f]{24}$/.test(l._id) && l.currentState === "new" && !("success" in l)));
  assert.deepEqual(res.body.errors, [
    { data: JSON.parse(JSON.stringify(badPhone)), referenceId: badPhone.referenceId, error: "Invalid phone number" },
    { data: JSON.parse(JSON.stringify(noRef)), referenceId: null, error: "Either name or firstName is required" },
    { data: notObject, referenceId: null, error: "Lead must be an object" },
    { data: JSON.parse(JSON.stringify(noProject)), referenceId: noProject.referenceId, error: "projectId is required in lead object" },
  ]);
  assert.ok(
    res.body.errors.every((e) => !("index" in e)),
    "no index anywhere",
  );
});

test("init defaults to true in bulk", async () => {
  const res = await bulk({ leads: [makeLead(), makeLead()] });
  assert.deepEqual(
    res.body.success.map((l) => l.currentState),
    ["make_first_call", "make_first_call"],
  );
});

test("request-level errors use the {error} shape", async () => {
  await expectPlain({}, 400, "Either leadIds or leads array is required");
  await expectPlain({ leads: null }, 400, "Either leadIds or leads array is required");
  await expectPlain([makeLead()], 400, "Either leadIds or leads array is required");
  await expectPlain({ leads: "x" }, 400, "Input must be an array");
  await expectPlain({ leads: { 0: makeLead() } }, 400, "Input must be an array");
  await expectPlain({ leadIds: "abc" }, 400, "Input must be an array");
  const tooMany = Array.from({ length: 1001 }, () => makeLead());
  await expectPlain({ leads: tooMany }, 400, "Maximum of 1000 leads allowed per request");
  await expectPlain({ leadIds: Array(1001).fill("6650a1b2c3d4e5f6012345ff") }, 400, "Maximum of 1000 leads allowed per request");
});

test("one foreign projectId or unknown processId refuses the whole request", async () => {
  const before = sb.state.store.leadCount;
  await expectPlain({ leads: [makeLead(), makeLead({ projectId: "6650a1b2c3d4e5f60123456b" })] }, 403, "projectId does not match authenticated project");
  const missing = "6650a1b2c3d4e5f6012345ff";
  await expectPlain(
    { leads: [makeLead(), makeLead({ processId: missing }), makeLead({ phone: "1" })] },
    404,
    `Process not found for lead with processId: ${missing}`,
  );
  // the project check comes before the process check
  await expectPlain(
    { leads: [makeLead({ processId: missing }), makeLead({ projectId: "6650a1b2c3d4e5f60123456b" })] },
    403,
    "projectId does not match authenticated project",
  );
  assert.equal(sb.state.store.leadCount, before, "nothing was created");
});

test("duplicates inside one request: the later one is rejected", async () => {
  const a = makeLead();
  const samePhone = makeLead({ phone: a.phone });
  const sameEmail = makeLead({ email: a.email });
  const sameRef = makeLead({ referenceId: a.referenceId });
  const dupsBefore = sb.state.stats.duplicateRejections;
  const res = await bulk({ leads: [a, samePhone, sameEmail, sameRef] });
  assert.equal(res.body.success.length, 1);
  assert.deepEqual(
    res.body.errors.map((e) => e.error),
    [
      "A call attempt has already been made to this phone number for this project",
      `Lead with email ${a.email} already exists for this project`,
      `Lead with referenceId ${a.referenceId} already exists for this project and process`,
    ],
  );
  assert.equal(sb.state.stats.duplicateRejections - dupsBefore, 3, "each rejected item counts as a duplicate submission");
});

test("leadIds: existing leads are initiated, unknown ones reported as {leadId, error}", async () => {
  const created = (await bulk({ leads: [makeLead(), makeLead()], init: false })).body.success;
  const unknown = "6650a1b2c3d4e5f6012345ff";
  const res = await bulk({ leadIds: [created[0]._id, unknown, created[1]._id, 7] });
  assert.equal(res.status, 200);
  assert.deepEqual(
    res.body.success.map((l) => [l._id, l.currentState]),
    [
      [created[0]._id, "make_first_call"],
      [created[1]._id, "make_first_call"],
    ],
  );
  assert.deepEqual(res.body.errors, [
    { leadId: unknown, error: `Lead with ID ${unknown} not found` },
    { leadId: 7, error: "Lead with ID 7 not found" },
  ]);
  const none = await bulk({ leadIds: [], init: true });
  assert.deepEqual(none.body, { success: [], errors: [] });
});

test("the v query parameter is accepted", async () => {
  const res = await sb.post("/leads/bulk/initiate?v=2", { leads: [makeLead()] });
  assert.equal(res.status, 200);
  assert.equal(res.body.success.length, 1);
});

test("a 1000-lead request is handled fast", async () => {
  const leads = Array.from({ length: 1000 }, (_, i) => makeLead({ processId: i % 2 ? SALES : SUPPORT }));
  await bulk({ leads: leads.slice(0, 10), init: false }); // warm up, and 10 duplicates in the big request
  const started = performance.now();
  const res = await bulk({ leads });
  const ms = performance.now() - started;
  assert.equal(res.status, 200);
  assert.equal(res.body.success.length, 990);
  assert.equal(res.body.errors.length, 10);
  assert.ok(ms < 1000, `took ${ms.toFixed(0)} ms`);
});
