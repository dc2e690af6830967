// Retries as a user sees them: reads retried after 5xx / 429 / resets, writes resent only when surely not
// processed, and a lost answer to a processed write reconciled by referenceId (never a second lead).

import assert from "node:assert/strict";
import { test } from "node:test";
import { auditSecrets, collector, expectVoxError, leadInput, MISSING_ID, recordBulk, T, useSandbox } from "./helpers.mjs";

const sb = useSandbox();

const INITIATE = "POST /leads/initiate";
const GET = "GET /leads/get";
const delta = (a, b, route) => (b.byRoute[route] ?? 0) - (a.byRoute[route] ?? 0);

async function held(phone) {
  const res = await sb.rawQuery({ phone });
  return res.pagination.total;
}

test("a 503 on a read is retried and the call succeeds", T, async () => {
  const log = collector();
  const client = sb.client({ logger: log.logger });
  const lead = await client.initiateLead(leadInput(), { init: false });
  await sb.faults([{ kind: "status", status: 503, path: "/leads/get" }]);
  const before = await sb.stats();
  const got = await client.getLead({ leadId: lead._id });
  assert.equal(got._id, lead._id);
  const after = await sb.stats();
  assert.equal(delta(before, after, GET), 2, "one failed attempt, one retry");
  const retries = log.ofType("retry");
  assert.ok(retries.length >= 1, "a retry log event");
  const responses = log.ofType("response").filter((e) => /leads\/get/.test(e.path ?? ""));
  assert.deepEqual(
    responses.map((e) => e.status),
    [503, 200],
  );
});

test("an HTML 502 and a reset on reads are retried too", T, async () => {
  const client = sb.client();
  const lead = await client.initiateLead(leadInput(), { init: false });
  await sb.faults([
    { kind: "status", status: 502, html: true, path: "/leads/query" },
    { kind: "reset", path: "/leads/query" },
  ]);
  const before = await sb.stats();
  const res = await client.queryLeads({ referenceId: lead.referenceId, processId: lead.processId });
  assert.deepEqual(
    res.leads.map((l) => l._id),
    [lead._id],
  );
  const after = await sb.stats();
  assert.equal(delta(before, after, "GET /leads/query"), 3);
});

test("maxRetries bounds the attempts of a read", T, async () => {
  const client = sb.client({ maxRetries: 1 });
  await sb.faults([{ kind: "status", status: 500, path: "/activities/get", count: 5 }]);
  try {
    const before = await sb.stats();
    await expectVoxError(() => client.getActivity(MISSING_ID), "server_error", { status: 500 });
    const after = await sb.stats();
    assert.equal(delta(before, after, "GET /activities/get"), 2, "the first attempt and 1 retry");
  } finally {
    await sb.clearFaults();
  }
});

test("a 429 on a read is waited out (Retry-After) and the call succeeds", T, async () => {
  const log = collector();
  const client = sb.client({ logger: log.logger });
  const lead = await client.initiateLead(leadInput(), { init: false });
  await sb.faults([{ kind: "status", status: 429, path: "/leads/get" }]);
  const before = await sb.stats();
  const got = await client.getLead({ leadId: lead._id });
  assert.equal(got._id, lead._id);
  const after = await sb.stats();
  assert.equal(delta(before, after, GET), 2);
  assert.ok(log.ofType("retry").length >= 1);
});

test("a 429 on a write is resent (surely not processed) and the lead is created once", T, async () => {
  const client = sb.client();
  const input = leadInput({ referenceId: undefined });
  await sb.faults([{ kind: "status", status: 429, path: "/leads/initiate" }]);
  const before = await sb.stats();
  const lead = await client.initiateLead(input, { init: false });
  assert.equal(lead.phone, input.phone);
  const after = await sb.stats();
  assert.equal(delta(before, after, INITIATE), 2);
  assert.equal(await held(input.phone), 1);
});

test("a processed write whose answer is lost is found by referenceId and returned once", T, async () => {
  const client = sb.client();
  const input = leadInput();
  await sb.faults([{ kind: "reset", when: "after", path: "/leads/initiate" }]);
  const before = await sb.stats();
  const lead = await client.initiateLead(input, { init: false });
  assert.match(lead._id, /^[0-9a-f]{24}$/);
  assert.equal(lead.phone, input.phone);
  assert.equal(lead.referenceId, input.referenceId);
  const after = await sb.stats();
  assert.equal(after.leadsCreated - before.leadsCreated, 1, "created once");
  assert.equal(delta(before, after, INITIATE), 1, "the write was not resent");
  assert.equal(await held(input.phone), 1, "the sandbox holds it once");
  const raw = await sb.rawQuery({ referenceId: input.referenceId, processId: input.processId });
  assert.equal(raw.data[0]._id, lead._id, "the returned lead is the one the sandbox holds");
});

test("a write lost before processing with a referenceId is looked up, then sent again", T, async () => {
  const client = sb.client();
  const input = leadInput();
  await sb.faults([{ kind: "status", status: 503, when: "before", path: "/leads/initiate" }]);
  const before = await sb.stats();
  const lead = await client.initiateLead(input, { init: false });
  assert.equal(lead.referenceId, input.referenceId);
  const after = await sb.stats();
  assert.equal(after.leadsCreated - before.leadsCreated, 1);
  assert.equal(delta(before, after, INITIATE), 2, "sent again after the lookup found nothing");
  assert.equal(await held(input.phone), 1);
});

test("a processed write whose answer is lost, without referenceId, rejects with network_error and is never resent", T, async () => {
  const client = sb.client();
  const input = leadInput({ referenceId: undefined });
  await sb.faults([{ kind: "reset", when: "after", path: "/leads/initiate" }]);
  const before = await sb.stats();
  await expectVoxError(() => client.initiateLead(input, { init: false }), "network_error");
  const after = await sb.stats();
  assert.equal(delta(before, after, INITIATE), 1, "not resent");
  assert.equal(after.leadsCreated - before.leadsCreated, 1);
  assert.equal(await held(input.phone), 1, "the sandbox holds it once, never twice");
});

test("a 500 on a write without referenceId rejects with server_error and is not resent", T, async () => {
  const client = sb.client();
  const input = leadInput({ referenceId: undefined });
  await sb.faults([{ kind: "status", status: 500, path: "/leads/initiate" }]);
  const before = await sb.stats();
  await expectVoxError(() => client.initiateLead(input, { init: false }), "server_error", { status: 500 });
  const after = await sb.stats();
  assert.equal(delta(before, after, INITIATE), 1, "not resent");
});

test("updateLead is not resent after an ambiguous failure", T, async () => {
  const client = sb.client();
  const lead = await client.initiateLead(leadInput(), { init: false });
  await sb.faults([{ kind: "reset", when: "after", path: "/leads/update" }]);
  const before = await sb.stats();
  await expectVoxError(() => client.updateLead({ leadId: lead._id }, { metadata: { n: 1 } }), "network_error");
  const after = await sb.stats();
  assert.equal(delta(before, after, "POST /leads/update"), 1, "not resent");
});

test("a bulk whose answer is lost: leads with referenceId are reconciled, the others are unknown", T, async () => {
  const client = sb.client();
  const inputs = [leadInput(), leadInput({ referenceId: undefined }), leadInput(), leadInput({ referenceId: undefined })];
  await sb.faults([{ kind: "reset", when: "after", path: "/leads/bulk/initiate" }]);
  const before = await sb.stats();
  const result = await client.bulkInitiateLeads(inputs, { init: false });
  recordBulk(result);
  const after = await sb.stats();
  assert.deepEqual(result.created.map((c) => c.index).sort(), [0, 2]);
  for (const c of result.created) {
    assert.equal(c.lead.referenceId, inputs[c.index].referenceId);
    assert.equal(c.lead.phone, inputs[c.index].phone);
  }
  assert.deepEqual(result.unknown.map((u) => u.index).sort(), [1, 3]);
  for (const u of result.unknown) {
    assert.equal(u.error.code, "network_error");
    assert.deepEqual(u.input, inputs[u.index]);
  }
  assert.equal(result.failed.length, 0);
  assert.equal(delta(before, after, "POST /leads/bulk/initiate"), 1, "the bulk was not resent");
  assert.equal(after.requests - before.requests, result.requests, "requests counts every HTTP request, lookups included");
  assert.equal(after.leadsCreated - before.leadsCreated, 4);
  for (const input of inputs) assert.equal(await held(input.phone), 1, "each lead is held once");
});

auditSecrets();
