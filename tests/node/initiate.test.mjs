// initiateLead and initiateExistingLead against the sandbox.

import assert from "node:assert/strict";
import { test } from "node:test";
import {
  assertPlain,
  auditSecrets,
  collector,
  expectVoxError,
  leadInput,
  MISSING_ID,
  national,
  PROJECT_ID,
  recordingFetch,
  SALES,
  SUPPORT,
  T,
  uid,
  uniquePhone,
  useSandbox,
} from "./helpers.mjs";

const sb = useSandbox();

test("initiateLead returns the created lead, flat, with the server's fields", T, async () => {
  const client = sb.client();
  const input = leadInput({ name: "Asha Rao", groupId: "g-initiate", metadata: { source: "test", n: 1 } });
  const lead = await client.initiateLead(input);
  assertPlain(lead, "lead");
  assert.match(lead._id, /^[0-9a-f]{24}$/);
  assert.equal(lead.name, "Asha Rao");
  assert.equal(lead.firstName, "Asha");
  assert.equal(lead.lastName, "Rao");
  assert.equal(lead.phone, input.phone);
  assert.equal(lead.projectId, PROJECT_ID, "the client's projectId is used");
  assert.equal(lead.processId, SALES);
  assert.equal(lead.referenceId, input.referenceId);
  assert.equal(lead.groupId, "g-initiate");
  assert.deepEqual(lead.metadata, { source: "test", n: 1 });
  assert.equal(typeof lead.createdAt, "string");
  assert.ok(!("data" in lead), "the lead is flat, not under data");
  assert.ok(!("lead" in lead), "the lead is flat, not under lead");
  // The sandbox holds it.
  const raw = await sb.api("GET", "/leads/get", { query: { leadId: lead._id } });
  assert.equal(raw.status, 200);
  assert.equal(raw.body.data.phone, input.phone);
});

test("initiateLead keeps fields the server sends that the SDK does not know", T, async () => {
  const client = sb.client();
  const lead = await client.initiateLead(leadInput());
  // The sandbox adds source, attempts and lastActivityId, which docs/api.md §2 does not list.
  assert.equal(lead.source, "api");
  assert.equal(lead.attempts, 0);
  assert.match(lead.lastActivityId, /^[0-9a-f]{24}$/);
});

test("initiateLead keeps unknown fields of a lead answered under data (custom fetch)", T, async () => {
  const lead = {
    _id: "6650a1b2c3d4e5f601234999",
    name: "Kept Fields",
    phone: "+919845317206",
    currentState: "new",
    futureField: { nested: [1, 2] },
    anotherOne: "x",
  };
  const fakeFetch = async () =>
    new Response(JSON.stringify({ success: true, data: lead }), {
      status: 200,
      headers: { "Content-Type": "application/json" },
    });
  const client = sb.client({ fetch: fakeFetch, baseUrl: "http://vox.invalid/api/v1" });
  const got = await client.initiateLead(leadInput({ phone: uniquePhone() }));
  assert.equal(got._id, lead._id);
  assert.deepEqual(got.futureField, { nested: [1, 2] });
  assert.equal(got.anotherOne, "x");
});

test("initiateLead without init puts the lead in make_first_call and sends no init:false", T, async () => {
  const rec = recordingFetch();
  const client = sb.client({ fetch: rec.fetch });
  const lead = await client.initiateLead(leadInput());
  assert.equal(lead.currentState, "make_first_call");
  const sent = rec.to("/leads/initiate")[0].body;
  assert.notEqual(sent.init, false);
});

test("initiateLead with init:false creates the lead in state new, sending init:false", T, async () => {
  const rec = recordingFetch();
  const client = sb.client({ fetch: rec.fetch });
  const lead = await client.initiateLead(leadInput(), { init: false });
  assert.equal(lead.currentState, "new");
  assert.equal(rec.to("/leads/initiate")[0].body.init, false);
  const got = await client.getLead({ leadId: lead._id });
  assert.equal(got.currentState, "new");
  assert.deepEqual(got.activities, [], "no call is scheduled");
});

test("initiateLead sends the phone as E.164 and the email in lowercase", T, async () => {
  const rec = recordingFetch();
  const client = sb.client({ fetch: rec.fetch });
  const cases = [
    (p) => national(p), // 9845317206
    (p) => `${national(p).slice(0, 5)} ${national(p).slice(5)}`, // 98453 17206
    (p) => `0${national(p)}`, // 09845317206
    (p) => `+91-${national(p).slice(0, 5)}-${national(p).slice(5)}`,
  ];
  for (const form of cases) {
    const phone = uniquePhone();
    const email = `${uid("Mixed.Case")}@Example.COM`;
    const lead = await client.initiateLead(leadInput({ phone: form(phone), email }), { init: false });
    const body = rec.calls.at(-1).body;
    assert.equal(body.lead.phone, phone, `the wire carries E.164 for ${form(phone)}`);
    assert.equal(body.lead.email, email.toLowerCase(), "the wire carries the lowercase email");
    assert.equal(body.lead.projectId, PROJECT_ID, "the client fills in projectId");
    assert.equal(lead.phone, phone);
    assert.equal(lead.email, email.toLowerCase());
  }
});

test("initiateLead with an email only (no phone) works", T, async () => {
  const client = sb.client();
  const email = `${uid("only")}@example.com`;
  const lead = await client.initiateLead(leadInput({ phone: undefined, email }), { init: false });
  assert.equal(lead.email, email);
  assert.equal(lead.phone, undefined);
});

test("initiateLead with firstName and lastName only works", T, async () => {
  const client = sb.client();
  const lead = await client.initiateLead(leadInput({ name: undefined, firstName: "Ravi", lastName: "Kumar" }), { init: false });
  assert.equal(lead.firstName, "Ravi");
  assert.equal(lead.lastName, "Kumar");
});

test("initiateLead does not change the caller's input object", T, async () => {
  const client = sb.client();
  const input = leadInput({ email: `${uid("Keep")}@Example.com` });
  const copy = structuredClone(input);
  await client.initiateLead(input, { init: false });
  assert.deepEqual(input, copy);
});

test("initiateLead logs request and response events without the phone", T, async () => {
  const log = collector();
  const client = sb.client({ logger: log.logger });
  const input = leadInput();
  await client.initiateLead(input, { init: false });
  const req = log.ofType("request");
  const res = log.ofType("response");
  assert.equal(req.length, 1);
  assert.equal(res.length, 1);
  assert.equal(req[0].method, "POST");
  assert.match(req[0].path, /\/leads\/initiate/);
  assert.equal(res[0].status, 200);
  assert.equal(typeof res[0].durationMs, "number");
  for (const e of log.events) assertPlain(e, "log event");
  const text = JSON.stringify(log.events);
  assert.ok(!text.includes(national(input.phone)), `no unmasked phone in ${text}`);
});

test("initiateLead to an unknown process rejects with not_found and the server's reason", T, async () => {
  const client = sb.client();
  await expectVoxError(() => client.initiateLead(leadInput({ processId: MISSING_ID })), "not_found", {
    status: 404,
    message: /Process not found/,
  });
});

test("initiateExistingLead starts a call for a lead created with init:false", T, async () => {
  const client = sb.client();
  const created = await client.initiateLead(leadInput({ processId: SUPPORT }), { init: false });
  assert.equal(created.currentState, "new");
  const lead = await client.initiateExistingLead(created._id);
  assertPlain(lead, "lead");
  assert.equal(lead._id, created._id);
  assert.equal(lead.currentState, "make_first_call");
  assert.equal(lead.processId, SUPPORT);
  const got = await client.getLead({ leadId: created._id });
  assert.equal(got.activities.filter((a) => a.type === "call").length, 1, "one call activity was created");
});

test("initiateExistingLead with init:false returns the lead unchanged", T, async () => {
  const rec = recordingFetch();
  const client = sb.client({ fetch: rec.fetch });
  const created = await client.initiateLead(leadInput(), { init: false });
  const lead = await client.initiateExistingLead(created._id, { init: false });
  assert.equal(lead._id, created._id);
  assert.equal(lead.currentState, "new");
  const body = rec.calls.at(-1).body;
  assert.equal(body.leadId, created._id);
  assert.equal(body.init, false);
});

test("initiateExistingLead of an unknown id rejects with not_found", T, async () => {
  const client = sb.client();
  await expectVoxError(() => client.initiateExistingLead(MISSING_ID), "not_found", {
    status: 404,
    message: new RegExp(`Lead with ID ${MISSING_ID} not found`),
  });
});

test("initiateExistingLead with a non-string id rejects with invalid_argument", T, async () => {
  const client = sb.client();
  await expectVoxError(() => client.initiateExistingLead(12345), "invalid_argument");
  await expectVoxError(() => client.initiateExistingLead({ leadId: MISSING_ID }), "invalid_argument");
});

auditSecrets();
