// updateLead, getLead and getActivity against the sandbox (with its simulated AI calls).

import assert from "node:assert/strict";
import { test } from "node:test";
import {
  assertPlain,
  auditSecrets,
  expectVoxError,
  leadInput,
  MISSING_ID,
  PROJECT_ID,
  recordingFetch,
  SALES,
  SUPPORT,
  T,
  useSandbox,
  waitFor,
} from "./helpers.mjs";

const sb = useSandbox({ callDelayMs: 30, callDurationMs: 30 });

const maskedServerStyle = (e164) => `+${"*".repeat(e164.length - 5)}${e164.slice(-4)}`;

test("updateLead by leadId merges metadata and answers { updateId, message }", T, async () => {
  const rec = recordingFetch();
  const client = sb.client({ fetch: rec.fetch });
  const lead = await client.initiateLead(leadInput({ metadata: { a: 1, keep: "x" } }), { init: false });
  const res = await client.updateLead({ leadId: lead._id }, { metadata: { a: 3, b: { deep: true } } });
  assertPlain(res, "update result");
  assert.equal(res.message, "Lead update initiated");
  assert.match(res.updateId, /^[0-9a-f]{24}$/);
  const body = rec.to("/leads/update")[0].body;
  assert.equal(body.leadId, lead._id);
  assert.deepEqual(body.metadata, { a: 3, b: { deep: true } });
  const got = await client.getLead({ leadId: lead._id });
  assert.deepEqual(got.metadata, { a: 3, keep: "x", b: { deep: true } });
});

test("updateLead by { referenceId, processId } fills in the projectId and changes the name", T, async () => {
  const rec = recordingFetch();
  const client = sb.client({ fetch: rec.fetch });
  const input = leadInput({ processId: SUPPORT });
  const lead = await client.initiateLead(input, { init: false });
  const res = await client.updateLead({ referenceId: input.referenceId, processId: SUPPORT }, { name: "Meera Iyer", metadata: { tier: "gold" } });
  assert.equal(typeof res.message, "string");
  const body = rec.to("/leads/update")[0].body;
  assert.equal(body.referenceId, input.referenceId);
  assert.equal(body.processId, SUPPORT);
  assert.equal(body.projectId, PROJECT_ID);
  const got = await client.getLead({ leadId: lead._id });
  assert.equal(got.name, "Meera Iyer");
  assert.equal(got.firstName, "Meera");
  assert.equal(got.lastName, "Iyer");
  assert.deepEqual(got.metadata, { tier: "gold" });
});

test("updateLead with targetState and disposition moves the lead and records an activity", T, async () => {
  const client = sb.client();
  const lead = await client.initiateLead(leadInput(), { init: false });
  await client.updateLead({ leadId: lead._id }, { targetState: "interested", disposition: "wants_demo", userId: "agent-7" });
  const got = await client.getLead({ leadId: lead._id });
  assert.equal(got.currentState, "interested");
  assert.equal(got.lastDisposition, "wants_demo");
  const change = got.activities.find((a) => a.type === "state_change");
  assert.ok(change, "a state_change activity");
  assert.equal(change.fromState, "new");
  assert.equal(change.toState, "interested");
});

test("updateLead to a state the process does not have rejects with bad_request", T, async () => {
  const client = sb.client();
  const lead = await client.initiateLead(leadInput(), { init: false });
  await expectVoxError(() => client.updateLead({ leadId: lead._id }, { targetState: "no_such_state" }), "bad_request", {
    status: 400,
    message: /Invalid targetState/,
  });
});

test("updateLead during a call is refused with bad_request", T, async () => {
  await sb.config({ callDelayMs: 0, callDurationMs: 4000 });
  try {
    const client = sb.client();
    const lead = await client.initiateLead(leadInput());
    await waitFor(
      async () => {
        const got = await client.getLead({ leadId: lead._id });
        return got.activities.some((a) => a.type === "call" && a.status === "in_progress");
      },
      { what: "the call to start" },
    );
    await expectVoxError(() => client.updateLead({ leadId: lead._id }, { metadata: { x: 1 } }), "bad_request", {
      status: 400,
      message: /call is in progress/,
    });
  } finally {
    await sb.config({ callDelayMs: 30, callDurationMs: 30 });
  }
});

test("updateLead of an unknown lead rejects with not_found", T, async () => {
  const client = sb.client();
  await expectVoxError(() => client.updateLead({ leadId: MISSING_ID }, { metadata: { x: 1 } }), "not_found", {
    status: 404,
    message: new RegExp(MISSING_ID),
  });
  await expectVoxError(() => client.updateLead({ referenceId: "ref-nobody", processId: SALES }, { name: "X Y" }), "not_found", {
    status: 404,
    message: /ref-nobody/,
  });
});

test("updateLead with a malformed target or changes rejects with invalid_argument", T, async () => {
  const client = sb.client();
  await expectVoxError(() => client.updateLead({}, { name: "A B" }), "invalid_argument");
  await expectVoxError(() => client.updateLead({ referenceId: "r-1" }, { name: "A B" }), "invalid_argument");
  await expectVoxError(() => client.updateLead("6650a1b2c3d4e5f601234999", { name: "A B" }), "invalid_argument");
  await expectVoxError(() => client.updateLead({ leadId: MISSING_ID }, "rename"), "invalid_argument");
});

test("getLead shows the call activity once the simulated call completes", T, async () => {
  const client = sb.client();
  const input = leadInput({ metadata: { sandboxOutcome: "interested" } });
  const lead = await client.initiateLead(input);
  assert.equal(lead.currentState, "make_first_call");
  const got = await waitFor(
    async () => {
      const l = await client.getLead({ leadId: lead._id });
      return l.activities.some((a) => a.status === "completed") ? l : null;
    },
    { what: "the call to complete" },
  );
  assertPlain(got, "lead with activities");
  assert.equal(got._id, lead._id);
  assert.equal(got.phone, input.phone);
  assert.equal(got.currentState, "interested");
  assert.equal(got.lastDisposition, "interested");
  assert.equal(got.activities.length, 1);
  const call = got.activities[0];
  assert.equal(call.type, "call");
  assert.equal(call.leadId, lead._id);
  assert.equal(call.fromState, "make_first_call");
  assert.equal(call.toState, "interested");
  assert.equal(call.dispositionType, "success");
  assert.equal(typeof call.summary, "string");
  assert.equal(typeof call.transcript, "string");
  assert.match(call.recordingUrl, /\/recordings\/[0-9a-f]{24}\.wav$/);
  assert.equal(typeof call.durationSec, "number");
  // Unknown fields of the activity are kept.
  assert.equal(call.attempt, 1);
  assert.equal(call.result.analysis.disposition, "interested");
});

test("getLead with masked:true returns the server's masking and sends masked=true", T, async () => {
  const rec = recordingFetch();
  const client = sb.client({ fetch: rec.fetch });
  const input = leadInput();
  const lead = await client.initiateLead(input);
  const masked = await client.getLead({ leadId: lead._id }, { masked: true });
  assert.equal(masked.phone, maskedServerStyle(input.phone)); // "+********7206"
  assert.match(masked.phone, /^\+\*{8}\d{4}$/);
  for (const a of masked.activities) if (a.phone) assert.equal(a.phone, maskedServerStyle(input.phone));
  const plain = await client.getLead({ leadId: lead._id });
  assert.equal(plain.phone, input.phone);
  const urls = rec.to("/leads/get").map((c) => new URL(c.url));
  assert.equal(urls[0].searchParams.get("masked"), "true");
  assert.equal(urls[1].searchParams.has("masked"), false, "masked is left out when not asked for");
});

test("getLead by { referenceId, processId } finds the same lead", T, async () => {
  const rec = recordingFetch();
  const client = sb.client({ fetch: rec.fetch });
  const input = leadInput({ processId: SUPPORT });
  const lead = await client.initiateLead(input, { init: false });
  const got = await client.getLead({ referenceId: input.referenceId, processId: SUPPORT });
  assert.equal(got._id, lead._id);
  assert.deepEqual(got.activities, []);
  const url = new URL(rec.to("/leads/get")[0].url);
  assert.equal(url.searchParams.get("referenceId"), input.referenceId);
  assert.equal(url.searchParams.get("projectId"), PROJECT_ID);
  assert.equal(url.searchParams.get("processId"), SUPPORT);
});

test("getLead of an unknown lead rejects with not_found", T, async () => {
  const client = sb.client();
  await expectVoxError(() => client.getLead({ leadId: MISSING_ID }), "not_found", {
    status: 404,
    message: new RegExp(`Lead with ID ${MISSING_ID} not found`),
  });
});

test("getLead with a malformed target rejects with invalid_argument", T, async () => {
  const client = sb.client();
  await expectVoxError(() => client.getLead(42), "invalid_argument");
  await expectVoxError(() => client.getLead({}), "invalid_argument");
  await expectVoxError(() => client.getLead({ leadId: 42 }), "invalid_argument");
  await expectVoxError(() => client.getLead({ referenceId: "r-1" }), "invalid_argument");
  await expectVoxError(() => client.getLead({ leadId: MISSING_ID }, { masked: "yes" }), "invalid_argument");
});

test("getActivity returns the activity as getLead shows it, masked on request", T, async () => {
  const rec = recordingFetch();
  const client = sb.client({ fetch: rec.fetch });
  const input = leadInput({ metadata: { sandboxOutcome: "not_interested" } });
  const lead = await client.initiateLead(input);
  const got = await waitFor(
    async () => {
      const l = await client.getLead({ leadId: lead._id });
      return l.activities.some((a) => a.status === "completed") ? l : null;
    },
    { what: "the call to complete" },
  );
  const id = got.activities[0]._id;
  const activity = await client.getActivity(id);
  assertPlain(activity, "activity");
  assert.deepEqual(activity, got.activities[0]);
  assert.equal(activity.phone, input.phone);
  assert.equal(activity.disposition, "not_interested");
  const masked = await client.getActivity(id, { masked: true });
  assert.equal(masked.phone, maskedServerStyle(input.phone));
  const urls = rec.to("/activities/get").map((c) => new URL(c.url));
  assert.equal(urls[0].searchParams.get("activityId"), id);
  assert.equal(urls[0].searchParams.has("masked"), false);
  assert.equal(urls[1].searchParams.get("masked"), "true");
});

test("getActivity of an unknown id rejects with not_found", T, async () => {
  const client = sb.client();
  await expectVoxError(() => client.getActivity(MISSING_ID), "not_found", {
    status: 404,
    message: new RegExp(`Activity with ID ${MISSING_ID} not found`),
  });
});

test("getActivity with a non-string id rejects with invalid_argument", T, async () => {
  const client = sb.client();
  await expectVoxError(() => client.getActivity(42), "invalid_argument");
  await expectVoxError(() => client.getActivity(), "invalid_argument");
});

auditSecrets();
