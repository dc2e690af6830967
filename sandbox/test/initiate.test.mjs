// POST /leads/initiate (docs/api.md §3.1): created lead shape, field normalisation, initial states, every
// error message, the documented check order, initiate by leadId, and project isolation.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { makeLead, PROJECT_ID, SALES, SUPPORT, startTestSandbox } from "../testing.mjs";

const OTHER = {
  _id: "6650a1b2c3d4e5f60123456b",
  name: "Other project",
  tokens: ["sk_test_other"],
  processes: [{ _id: "6650a1b2c3d4e5f6012345b1", name: "Other sales", states: ["new", "make_first_call", "interested", "lost"] }],
};

let sb;
before(async () => {
  sb = await startTestSandbox({ callDelayMs: 60000, dupMax: 1000, projects: [OTHER] });
});
after(() => sb.close());

const initiate = (body, opts) => sb.post("/leads/initiate", body, opts);

async function expectError(body, status, error, opts) {
  const res = await initiate(body, opts);
  assert.equal(res.status, status, JSON.stringify(res.body));
  assert.deepEqual(res.body, { success: false, error });
}

test("creates a lead and answers it flat with success: true", async () => {
  const input = makeLead({
    name: "  Ada  King Lovelace ",
    phone: "98453 10001",
    email: " Ada.Lovelace@Example.COM ",
    groupId: "g1",
    metadata: { plan: "gold", n: 1 },
    unknownField: "dropped",
  });
  const res = await initiate({ lead: input, init: false });
  assert.equal(res.status, 200);
  const lead = res.body;
  assert.equal(lead.success, true);
  assert.match(lead._id, /^[0-9a-f]{24}$/);
  assert.equal(lead.name, "Ada  King Lovelace", "name is trimmed, not rewritten");
  assert.equal(lead.firstName, "Ada");
  assert.equal(lead.lastName, "King Lovelace");
  assert.equal(lead.phone, "+919845310001");
  assert.equal(lead.email, "ada.lovelace@example.com");
  assert.equal(lead.projectId, PROJECT_ID);
  assert.equal(lead.processId, SALES);
  assert.equal(lead.groupId, "g1");
  assert.equal(lead.referenceId, input.referenceId);
  assert.equal(lead.currentState, "new");
  assert.equal(lead.lastDisposition, null);
  assert.deepEqual(lead.metadata, { plan: "gold", n: 1 });
  assert.equal(lead.unknownField, undefined, "unknown input fields are not stored");
  assert.equal(lead.source, "api", "an extra server field clients must keep");
  assert.equal(lead.attempts, 0);
  assert.match(lead.createdAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  assert.equal(lead.updatedAt, lead.createdAt);
  assert.equal(parseInt(lead._id.slice(0, 8), 16), Math.floor(Date.parse(lead.createdAt) / 1000), "ObjectId starts with the creation second");
});

test("name is built from firstName/lastName, and firstName alone works", async () => {
  let res = await initiate({ lead: makeLead({ name: undefined, firstName: "Grace", lastName: "Hopper" }) });
  assert.equal(res.status, 200);
  assert.equal(res.body.name, "Grace Hopper");
  res = await initiate({ lead: makeLead({ name: undefined, firstName: "Cher" }) });
  assert.equal(res.body.name, "Cher");
  assert.equal(res.body.lastName, undefined);
  res = await initiate({ lead: makeLead({ name: "Alan Turing", firstName: "Al" }) });
  assert.equal(res.body.name, "Alan Turing");
  assert.equal(res.body.firstName, "Al");
  res = await initiate({ lead: makeLead({ name: "Madonna" }) });
  assert.equal(res.body.firstName, "Madonna");
  assert.equal("lastName" in res.body, false);
});

test("init: true (and the default) puts the lead in make_first_call; init: false in new", async () => {
  assert.equal((await initiate({ lead: makeLead(), init: true })).body.currentState, "make_first_call");
  assert.equal((await initiate({ lead: makeLead() })).body.currentState, "make_first_call");
  assert.equal((await initiate({ lead: makeLead(), init: false })).body.currentState, "new");
  assert.equal((await initiate({ lead: makeLead(), init: "false" })).body.currentState, "new");
  await expectError({ lead: makeLead(), init: "maybe" }, 400, "init must be a boolean");
});

test("phone-only and email-only leads", async () => {
  const a = await initiate({ lead: makeLead({ email: undefined }) });
  assert.equal(a.status, 200);
  assert.equal("email" in a.body, false);
  const b = await initiate({ lead: makeLead({ phone: undefined }) });
  assert.equal(b.status, 200);
  assert.equal("phone" in b.body, false);
});

test("request-shape errors", async () => {
  await expectError({}, 400, "Either leadId or lead object is required");
  await expectError({ lead: "x" }, 400, "Either leadId or lead object is required");
  await expectError({ lead: null }, 400, "Either leadId or lead object is required");
  await expectError([makeLead()], 400, "Either leadId or lead object is required");
  const empty = await sb.request("POST", "/leads/initiate", { raw: "" });
  assert.deepEqual([empty.status, empty.body], [400, { success: false, error: "Either leadId or lead object is required" }]);
});

test("every lead validation message", async () => {
  await expectError({ lead: makeLead({ projectId: undefined }) }, 400, "projectId is required in lead object");
  await expectError({ lead: makeLead({ processId: undefined }) }, 400, "processId is required in lead object");
  await expectError({ lead: makeLead({ processId: "" }) }, 400, "processId is required in lead object");
  await expectError({ lead: makeLead({ name: undefined }) }, 400, "Either name or firstName is required");
  await expectError({ lead: makeLead({ name: "   " }) }, 400, "Either name or firstName is required");
  await expectError({ lead: makeLead({ phone: undefined, email: undefined }) }, 400, "Either phone or email is required");
  await expectError({ lead: makeLead({ phone: "", email: null }) }, 400, "Either phone or email is required");
  await expectError({ lead: makeLead({ phone: "12345" }) }, 400, "Invalid phone number");
  await expectError({ lead: makeLead({ phone: "+2101234567" }) }, 400, "Invalid phone number");
  await expectError({ lead: makeLead({ phone: "9999999999" }) }, 400, "Phone number contains repeating digits pattern");
  await expectError({ lead: makeLead({ phone: "9879879879" }) }, 400, "Phone number contains repeating digits pattern");
  await expectError({ lead: makeLead({ email: "not-an-email" }) }, 400, "Invalid email address");
  await expectError({ lead: makeLead({ email: "a@b" }) }, 400, "Invalid email address");
  const missing = "6650a1b2c3d4e5f6012345ff";
  await expectError({ lead: makeLead({ processId: missing }) }, 404, `Process not found for lead with processId: ${missing}`);
  await expectError({ lead: makeLead({ processId: OTHER.processes[0]._id }) }, 404, `Process not found for lead with processId: ${OTHER.processes[0]._id}`);
  // wrong types
  await expectError({ lead: makeLead({ name: 42 }) }, 400, "name must be a string");
  await expectError({ lead: makeLead({ phone: 9845317206 }) }, 400, "phone must be a string");
  await expectError({ lead: makeLead({ metadata: [1, 2] }) }, 400, "metadata must be an object");
  // the vendor's example number is valid
  assert.equal((await initiate({ lead: makeLead({ phone: "8888833333" }) })).status, 200);
});

test("project mismatch is 403 with the {error} shape", async () => {
  const res = await initiate({ lead: makeLead({ projectId: OTHER._id }) });
  assert.equal(res.status, 403);
  assert.deepEqual(res.body, { error: "projectId does not match authenticated project" });
});

test("missing or unknown token is 403", async () => {
  for (const token of [null, "sk_wrong"]) {
    const res = await initiate({ lead: makeLead() }, { token });
    assert.equal(res.status, 403);
    assert.deepEqual(res.body, { success: false, error: "Invalid or missing API token" });
  }
  const basic = await sb.request("POST", "/leads/initiate", { token: null, headers: { Authorization: "Basic abc" }, body: {} });
  assert.equal(basic.status, 403);
});

test("duplicates: referenceId per (project, process), phone and email per project", async () => {
  const first = makeLead({ phone: "9845320001" });
  assert.equal((await initiate({ lead: first })).status, 200);
  await expectError(
    { lead: makeLead({ referenceId: first.referenceId }) },
    400,
    `Lead with referenceId ${first.referenceId} already exists for this project and process`,
  );
  // same referenceId in another process is fine
  assert.equal((await initiate({ lead: makeLead({ processId: SUPPORT, referenceId: first.referenceId }) })).status, 200);
  // same number written differently
  for (const phone of ["+919845320001", "09845320001", "98453-20001"]) {
    await expectError({ lead: makeLead({ phone }) }, 400, "A call attempt has already been made to this phone number for this project");
  }
  // same phone in the other process of the same project
  await expectError(
    { lead: makeLead({ processId: SUPPORT, phone: "9845320001" }) },
    400,
    "A call attempt has already been made to this phone number for this project",
  );
  await expectError({ lead: makeLead({ email: first.email.toUpperCase() }) }, 400, `Lead with email ${first.email} already exists for this project`);
  // another project may have the same phone, email and referenceId
  const other = await initiate({ lead: { ...first, projectId: OTHER._id, processId: OTHER.processes[0]._id } }, { token: "sk_test_other" });
  assert.equal(other.status, 200, JSON.stringify(other.body));
});

test("check order: required, then format, then process, then duplicates (reference, phone, email)", async () => {
  const missing = "6650a1b2c3d4e5f6012345ff";
  await expectError({ lead: makeLead({ name: undefined, phone: "123" }) }, 400, "Either name or firstName is required");
  await expectError({ lead: makeLead({ processId: undefined, phone: "123" }) }, 400, "processId is required in lead object");
  await expectError({ lead: makeLead({ phone: "123", email: "bad" }) }, 400, "Invalid phone number");
  await expectError({ lead: makeLead({ phone: "9999999999", email: "bad" }) }, 400, "Phone number contains repeating digits pattern");
  await expectError({ lead: makeLead({ email: "bad", processId: missing }) }, 400, "Invalid email address");
  const taken = makeLead();
  assert.equal((await initiate({ lead: taken })).status, 200);
  await expectError({ lead: { ...taken, processId: missing } }, 404, `Process not found for lead with processId: ${missing}`);
  await expectError({ lead: { ...taken } }, 400, `Lead with referenceId ${taken.referenceId} already exists for this project and process`);
  await expectError({ lead: { ...taken, referenceId: "fresh-ref-1" } }, 400, "A call attempt has already been made to this phone number for this project");
  await expectError(
    { lead: { ...taken, referenceId: "fresh-ref-2", phone: undefined } },
    400,
    `Lead with email ${taken.email} already exists for this project`,
  );
});

test("initiate by leadId", async () => {
  const created = (await initiate({ lead: makeLead(), init: false })).body;
  const same = await initiate({ leadId: created._id, init: false });
  assert.equal(same.status, 200);
  assert.equal(same.body.success, true);
  assert.equal(same.body.currentState, "new");

  const started = await initiate({ leadId: created._id });
  assert.equal(started.body.currentState, "make_first_call");
  const got = (await sb.get(`/leads/get?leadId=${created._id}`)).body.data;
  assert.equal(got.activities.length, 1);
  assert.equal(got.activities[0].type, "call");
  assert.equal(got.activities[0].status, "scheduled");

  // a second init does not schedule a second call
  await initiate({ leadId: created._id });
  assert.equal((await sb.get(`/leads/get?leadId=${created._id}`)).body.data.activities.length, 1);

  await expectError({ leadId: "6650a1b2c3d4e5f6012345ff" }, 404, "Lead with ID 6650a1b2c3d4e5f6012345ff not found");
  await expectError({ leadId: "nonsense" }, 404, "Lead with ID nonsense not found");
  // a lead of another project is not found with this token
  const foreign = (await initiate({ lead: { ...makeLead(), projectId: OTHER._id, processId: OTHER.processes[0]._id } }, { token: "sk_test_other" })).body;
  await expectError({ leadId: foreign._id }, 404, `Lead with ID ${foreign._id} not found`);
});
