// POST /leads/update, GET /leads/get and GET /activities/get (docs/api.md §3.3, §3.4, §3.6): lookups by
// leadId and by referenceId, merging, state changes and their activities, masking, and every error.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { makeLead, PROJECT_ID, SALES, SUPPORT, sleep, startTestSandbox } from "../testing.mjs";

const OTHER = {
  _id: "6650a1b2c3d4e5f60123456b",
  name: "Other project",
  tokens: ["sk_test_other"],
  processes: [{ _id: "6650a1b2c3d4e5f6012345b1", name: "Other sales", states: ["new", "make_first_call", "lost"] }],
};

let sb;
before(async () => {
  sb = await startTestSandbox({ callDelayMs: 60000, projects: [OTHER] });
});
after(() => sb.close());

async function create(overrides = {}, init = false) {
  const res = await sb.post("/leads/initiate", { lead: makeLead(overrides), init });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body;
}
const getLead = async (id, extra = "") => (await sb.get(`/leads/get?leadId=${id}${extra}`)).body.data;

async function expectError(res, status, body) {
  res = await res;
  assert.equal(res.status, status, JSON.stringify(res.body));
  assert.deepEqual(res.body, body);
}

test("update by leadId: metadata merged, name re-split, answer shape", async () => {
  const lead = await create({ metadata: { a: 1, b: 2 } });
  await sleep(5);
  const res = await sb.post("/leads/update", { leadId: lead._id, metadata: { b: 3, c: { deep: true } }, name: "Marie Salomea Curie", ignored: "x" });
  assert.equal(res.status, 200);
  assert.deepEqual(Object.keys(res.body), ["success", "message", "updateId"]);
  assert.equal(res.body.success, true);
  assert.equal(res.body.message, "Lead update initiated");
  assert.match(res.body.updateId, /^[0-9a-f]{24}$/);
  const after = await getLead(lead._id);
  assert.deepEqual(after.metadata, { a: 1, b: 3, c: { deep: true } });
  assert.equal(after.name, "Marie Salomea Curie");
  assert.equal(after.firstName, "Marie");
  assert.equal(after.lastName, "Salomea Curie");
  assert.ok(after.updatedAt > lead.updatedAt, "updatedAt moves");
  assert.equal(after.createdAt, lead.createdAt);

  const second = await sb.post("/leads/update", { leadId: lead._id, name: "Plato" });
  assert.notEqual(second.body.updateId, res.body.updateId);
  const renamed = await getLead(lead._id);
  assert.equal(renamed.firstName, "Plato");
  assert.equal("lastName" in renamed, false);
});

test("without metadata, unknown top-level fields go into metadata", async () => {
  const lead = await create();
  await sb.post("/leads/update", { leadId: lead._id, plan: "gold", score: 7, userId: "u1" });
  assert.deepEqual((await getLead(lead._id)).metadata, { plan: "gold", score: 7 });
});

test("targetState and disposition: the lead moves and a state_change activity is recorded", async () => {
  const lead = await create();
  const res = await sb.post("/leads/update", { leadId: lead._id, targetState: "interested", disposition: "wants demo", userId: "agent-7" });
  assert.equal(res.status, 200);
  const after = await getLead(lead._id);
  assert.equal(after.currentState, "interested");
  assert.equal(after.lastDisposition, "wants demo");
  assert.equal(after.activities.length, 1);
  const act = after.activities[0];
  assert.equal(act.type, "state_change");
  assert.equal(act.status, "completed");
  assert.equal(act.fromState, "new");
  assert.equal(act.toState, "interested");
  assert.equal(act.disposition, "wants demo");
  assert.equal(act.userId, "agent-7");
  assert.equal(act.updateId, res.body.updateId);
  assert.equal(act.leadId, lead._id);
  assert.equal(act.referenceId, lead.referenceId);

  // the same state again is not a change
  await sb.post("/leads/update", { leadId: lead._id, targetState: "interested" });
  assert.equal((await getLead(lead._id)).activities.length, 1);
  await sb.post("/leads/update", { leadId: lead._id, targetState: "followup_2" });
  const states = (await getLead(lead._id)).activities.map((a) => a.toState);
  assert.deepEqual(states, ["interested", "followup_2"], "activities sorted by createdAt");
});

test("update errors", async () => {
  const lead = await create({ processId: SUPPORT });
  await expectError(sb.post("/leads/update", {}), 400, { success: false, error: "Either leadId or referenceId is required" });
  await expectError(sb.post("/leads/update", "x"), 400, { success: false, error: "Either leadId or referenceId is required" });
  await expectError(sb.post("/leads/update", { referenceId: lead.referenceId }), 400, {
    success: false,
    error: "projectId and processId are required when using referenceId",
  });
  await expectError(sb.post("/leads/update", { referenceId: lead.referenceId, projectId: PROJECT_ID }), 400, {
    success: false,
    error: "projectId and processId are required when using referenceId",
  });
  await expectError(sb.post("/leads/update", { leadId: "6650a1b2c3d4e5f6012345ff", metadata: {} }), 404, {
    success: false,
    error: "Lead with ID 6650a1b2c3d4e5f6012345ff not found",
  });
  await expectError(sb.post("/leads/update", { referenceId: "nope", projectId: PROJECT_ID, processId: SUPPORT }), 404, {
    success: false,
    error: "Lead with referenceId nope not found",
  });
  await expectError(sb.post("/leads/update", { leadId: lead._id, projectId: OTHER._id }), 403, { error: "projectId does not match authenticated project" });
  await expectError(sb.post("/leads/update", { leadId: lead._id, targetState: "bogus" }), 400, { success: false, error: "Invalid targetState: bogus" });
  // a state of the Sales process is not a state of Support
  await expectError(sb.post("/leads/update", { leadId: lead._id, targetState: "converted" }), 400, { success: false, error: "Invalid targetState: converted" });
  await expectError(sb.post("/leads/update", { leadId: lead._id, metadata: "x" }), 400, { success: false, error: "metadata must be an object" });
  await expectError(sb.post("/leads/update", { leadId: lead._id, name: "" }), 400, { success: false, error: "name must be a non-empty string" });
  // a lead of another project is not found with this token
  const foreign = (
    await sb.post("/leads/initiate", { lead: makeLead({ projectId: OTHER._id, processId: OTHER.processes[0]._id }) }, { token: "sk_test_other" })
  ).body;
  await expectError(sb.post("/leads/update", { leadId: foreign._id, metadata: {} }), 404, { success: false, error: `Lead with ID ${foreign._id} not found` });
});

test("update by referenceId + projectId + processId", async () => {
  const lead = await create({ processId: SUPPORT });
  const res = await sb.post("/leads/update", { referenceId: lead.referenceId, projectId: PROJECT_ID, processId: SUPPORT, targetState: "resolved" });
  assert.equal(res.status, 200);
  assert.equal((await getLead(lead._id)).currentState, "resolved");
});

test("get by leadId and by referenceId", async () => {
  const lead = await create({}, true);
  const byId = await sb.get(`/leads/get?leadId=${lead._id}`);
  assert.equal(byId.status, 200);
  assert.equal(byId.body.success, true);
  const { activities, ...fields } = byId.body.data;
  const { success, ...created } = lead;
  assert.deepEqual(fields, created);
  assert.equal(activities.length, 1);

  const byRef = await sb.get(`/leads/get?referenceId=${encodeURIComponent(lead.referenceId)}&projectId=${PROJECT_ID}&processId=${SALES}`);
  assert.deepEqual(byRef.body, byId.body);
  const withProject = await sb.get(`/leads/get?leadId=${lead._id}&projectId=${PROJECT_ID}`);
  assert.equal(withProject.status, 200);
});

test("get errors", async () => {
  const lead = await create();
  await expectError(sb.get("/leads/get"), 400, { success: false, error: "Either leadId or referenceId is required" });
  await expectError(sb.get(`/leads/get?referenceId=${lead.referenceId}&processId=${SALES}`), 400, {
    success: false,
    error: "projectId and processId are required when using referenceId",
  });
  await expectError(sb.get("/leads/get?leadId=6650a1b2c3d4e5f6012345ff"), 404, { success: false, error: "Lead with ID 6650a1b2c3d4e5f6012345ff not found" });
  await expectError(sb.get(`/leads/get?referenceId=zzz&projectId=${PROJECT_ID}&processId=${SALES}`), 404, {
    success: false,
    error: "Lead with referenceId zzz not found",
  });
  await expectError(sb.get(`/leads/get?leadId=${lead._id}&projectId=${OTHER._id}`), 403, { error: "projectId does not match authenticated project" });
});

test("masked=true masks the lead's phone and the phones inside activities", async () => {
  const lead = await create({ phone: "+919845399206" }, true);
  const plain = (await sb.get(`/leads/get?leadId=${lead._id}`)).body.data;
  assert.equal(plain.phone, "+919845399206");
  assert.equal(plain.activities[0].phone, "+919845399206");
  for (const flag of ["true", "1"]) {
    const masked = (await sb.get(`/leads/get?leadId=${lead._id}&masked=${flag}`)).body.data;
    assert.equal(masked.phone, "+********9206");
    assert.equal(masked.activities[0].phone, "+********9206");
  }
  assert.equal((await sb.get(`/leads/get?leadId=${lead._id}&masked=false`)).body.data.phone, "+919845399206");
  const act = await sb.get(`/activities/get?activityId=${plain.activities[0]._id}&masked=true`);
  assert.equal(act.body.data.phone, "+********9206");
});

test("activities/get", async () => {
  const lead = await create({}, true);
  const id = (await getLead(lead._id)).activities[0]._id;
  const res = await sb.get(`/activities/get?activityId=${id}`);
  assert.equal(res.status, 200);
  assert.equal(res.body.success, true);
  const a = res.body.data;
  for (const key of [
    "_id",
    "leadId",
    "projectId",
    "processId",
    "referenceId",
    "type",
    "status",
    "fromState",
    "toState",
    "scheduledAt",
    "startedAt",
    "endedAt",
    "durationSec",
    "disposition",
    "dispositionType",
    "summary",
    "recordingUrl",
    "transcript",
    "createdAt",
    "updatedAt",
  ]) {
    assert.ok(key in a, key);
  }
  assert.equal(a._id, id);
  assert.equal(a.leadId, lead._id);
  assert.equal(a.status, "scheduled");
  await expectError(sb.get("/activities/get?activityId=6650a1b2c3d4e5f6012345ff"), 404, {
    success: false,
    error: "Activity with ID 6650a1b2c3d4e5f6012345ff not found",
  });
  await expectError(sb.get("/activities/get"), 400, { success: false, error: "activityId is required" });
  await expectError(sb.get(`/activities/get?activityId=${id}&projectId=${OTHER._id}`), 403, { error: "projectId does not match authenticated project" });
  assert.equal((await sb.get(`/activities/get?activityId=${id}&projectId=${PROJECT_ID}`)).status, 200);
  // another project's token does not see it
  await expectError(sb.get(`/activities/get?activityId=${id}`, { token: "sk_test_other" }), 404, { success: false, error: `Activity with ID ${id} not found` });
});
