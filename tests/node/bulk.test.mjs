// bulkInitiateLeads and bulkInitiateExisting against the sandbox.

import assert from "node:assert/strict";
import { test } from "node:test";
import {
  assertPlain,
  auditSecrets,
  expectVoxError,
  extraProject,
  leadInput,
  MISSING_ID,
  national,
  recordBulk,
  recordingFetch,
  SUPPORT,
  T,
  uid,
  uniquePhone,
  useSandbox,
} from "./helpers.mjs";

const sb = useSandbox();
const BULK = "POST /leads/bulk/initiate";

/** Asserts every input index appears exactly once in created/failed/unknown. */
function assertPartition(result, n) {
  const seen = [...result.created, ...result.failed, ...result.unknown].map((x) => x.index).sort((a, b) => a - b);
  assert.deepEqual(
    seen,
    Array.from({ length: n }, (_, i) => i),
    "every input appears exactly once",
  );
}

const QUERY = "GET /leads/query";
/** Requests of `route` the sandbox saw between two stats snapshots. */
const seen = (before, after, route) => (after.byRoute[route] ?? 0) - (before.byRoute[route] ?? 0);

test("bulkInitiateLeads: 2,500 leads go out in 3 requests and map back to their inputs", T, async () => {
  const client = sb.client();
  const before = await sb.stats();
  const forms = [
    (p) => p,
    (p) => national(p),
    (p) => `${national(p).slice(0, 5)} ${national(p).slice(5)}`,
    (p) => `0${national(p)}`,
    (p) => `+91 ${national(p)}`,
  ];
  const expected = [];
  const inputs = Array.from({ length: 2500 }, (_, i) => {
    const phone = uniquePhone();
    expected.push(phone);
    return leadInput({ phone: forms[i % forms.length](phone), name: `Bulk Person${i}`, referenceId: undefined });
  });
  const progress = [];
  const result = await client.bulkInitiateLeads(inputs, { init: false, onProgress: (p) => progress.push({ ...p }) });
  recordBulk(result);
  assertPlain(result.created[0], "created item");
  assert.equal(result.created.length, 2500, `created ${result.created.length}, failed ${JSON.stringify(result.failed.slice(0, 3))}`);
  assert.equal(result.failed.length, 0);
  assert.equal(result.unknown.length, 0);
  assertPartition(result, 2500);
  for (const item of result.created) {
    assert.equal(item.lead.phone, expected[item.index], `created[index ${item.index}].lead.phone`);
    assert.equal(item.lead.name, `Bulk Person${item.index}`);
    assert.equal(item.lead.currentState, "new");
  }
  const after = await sb.stats();
  assert.equal(seen(before, after, BULK), 3, "the sandbox saw 3 bulk requests");
  // Besides them: what the client asked to know which leads exist already.
  assert.equal(result.requests, 3 + seen(before, after, QUERY));
  assert.equal(after.leadsCreated - before.leadsCreated, 2500);

  // onProgress: after each request, counts of leads, the last one complete.
  assert.ok(progress.length >= 1, "onProgress was called");
  const last = progress.at(-1);
  assert.deepEqual(last, { done: 2500, total: 2500, created: 2500, failed: 0, unknown: 0 });
  for (let i = 0; i < progress.length; i++) {
    const p = progress[i];
    assert.equal(p.total, 2500);
    assert.equal(p.created + p.failed + p.unknown, p.done, `progress ${i}: done is the sum of outcomes`);
    if (i > 0) assert.ok(p.done >= progress[i - 1].done, "done never decreases");
  }
});

test("bulkInitiateLeads: texts beyond ASCII (accents, other scripts, emoji) reach the server intact and map back", T, async () => {
  // The texts the rules read cross into wasm as one UTF-8 run cut by UTF-16 lengths: a wrong
  // cut after a multi-byte referenceId would garble every later lead's phone and referenceId.
  const client = sb.client();
  const marks = ["é", "😀", "参照", "अनिल", "a😀é参", ""];
  const inputs = Array.from({ length: 60 }, (_, i) =>
    leadInput({ name: `Pérez ${marks[i % marks.length]} ${i}`, referenceId: `réf-${marks[i % marks.length]}-${uid("")}` }),
  );
  const expected = inputs.map((l) => l.phone);
  const result = await client.bulkInitiateLeads(inputs, { init: false, chunkSize: 25 });
  assert.equal(result.created.length, 60, `failed ${JSON.stringify(result.failed.slice(0, 2))}, unknown ${result.unknown.length}`);
  assertPartition(result, 60);
  for (const { index, lead } of result.created) {
    assert.equal(lead.phone, expected[index], `created[${index}].phone`);
    assert.equal(lead.referenceId, inputs[index].referenceId, `created[${index}].referenceId`);
    assert.equal(lead.name, inputs[index].name);
  }
});

test("bulkInitiateLeads: invalid and duplicate inputs land in failed with their codes, at their index", T, async () => {
  const project = extraProject(1);
  const client = sb.clientFor(project);
  // Two leads that exist already on the server (created without the library).
  const existingPhone = uniquePhone();
  const existingRef = `ref-${uid()}`;
  const one = await sb.createRaw({ processId: project.sales, name: "Existing One", phone: existingPhone }, project);
  const two = await sb.createRaw({ processId: project.sales, name: "Existing Two", phone: uniquePhone(), referenceId: existingRef }, project);
  const before = await sb.stats();

  const mk = (o = {}) => leadInput({ processId: project.sales, ...o });
  const inputs = [
    mk(), // 0 ok
    mk({ phone: "12345" }), // 1 invalid phone
    mk(), // 2 ok
    null, // 3 placeholder: same phone as 0
    mk({ referenceId: existingRef }), // 4 server: referenceId exists
    mk({ email: `${uid("Upper")}@EXAMPLE.com` }), // 5 ok
    mk({ name: undefined }), // 6 no name
    mk({ phone: existingPhone }), // 7 server: phone already called
    mk({ phone: "9999999999" }), // 8 junk phone
    mk({ phone: national(uniquePhone()) }), // 9 ok, national form
    mk({ email: "not-an-email", phone: undefined }), // 10 invalid email
  ];
  inputs[3] = mk({ phone: inputs[0].phone });
  const progress = [];
  const result = await client.bulkInitiateLeads(inputs, { onProgress: (p) => progress.push(p) });
  recordBulk(result);
  assertPartition(result, inputs.length);
  assert.deepEqual(
    result.created.map((c) => c.index).sort((a, b) => a - b),
    [0, 2, 5, 9],
  );
  for (const c of result.created) {
    assert.equal(c.lead.phone, inputs[c.index].phone.startsWith("+") ? inputs[c.index].phone : `+91${inputs[c.index].phone}`);
    assert.equal(c.lead.referenceId, inputs[c.index].referenceId);
    assert.equal(c.lead.currentState, "make_first_call", "init defaults to true");
  }
  assert.equal(result.created.find((c) => c.index === 5).lead.email, inputs[5].email.toLowerCase());
  const failed = Object.fromEntries(result.failed.map((f) => [f.index, f]));
  const codes = Object.fromEntries(result.failed.map((f) => [f.index, f.error.code]));
  assert.deepEqual(codes, {
    1: "validation_error",
    3: "duplicate_submission",
    4: "duplicate_submission",
    6: "validation_error",
    7: "duplicate_submission",
    8: "validation_error",
    10: "validation_error",
  });
  for (const f of result.failed) {
    assertPlain(f, "failed item");
    assert.deepEqual(f.input, inputs[f.index], `failed[${f.index}].input is the caller's input`);
    assert.equal(typeof f.error.message, "string");
    assert.ok(f.error.message.length > 5, `a message for index ${f.index}`);
  }
  // The two that exist are refused without being sent, with the lead they duplicate.
  assert.deepEqual(failed[4].error.details, { leadId: two._id, key: "referenceId" });
  assert.deepEqual(failed[7].error.details, { leadId: one._id, key: "phone" });
  assert.match(failed[7].error.message, new RegExp(`lead ${one._id} of this project has the same phone number`));
  const after = await sb.stats();
  assert.equal(after.duplicateRejections - before.duplicateRejections, 0, "no duplicate reached the server");
  assert.equal(seen(before, after, BULK), 1, "one request for the valid leads");
  // How many leads the project has, then one page of them (an index: cheaper than 11 lookups).
  assert.equal(seen(before, after, QUERY), 2);
  assert.equal(result.requests, 3);
  assert.deepEqual(progress.at(-1), { done: 11, total: 11, created: 4, failed: 7, unknown: 0 });
});

test("bulkInitiateLeads refuses phones and emails this client sent before, without sending them", T, async () => {
  const rec = recordingFetch();
  const client = sb.client({ fetch: rec.fetch });
  const first = leadInput({ email: `${uid("sent")}@example.com` });
  await client.initiateLead(first, { init: false });
  const inputs = [leadInput({ phone: national(first.phone) }), leadInput(), leadInput({ phone: undefined, email: first.email.toUpperCase() })];
  const result = await client.bulkInitiateLeads(inputs, { init: false });
  recordBulk(result);
  assertPartition(result, 3);
  assert.deepEqual(
    result.created.map((c) => c.index),
    [1],
  );
  assert.deepEqual(result.failed.map((f) => [f.index, f.error.code]).sort(), [
    [0, "duplicate_submission"],
    [2, "duplicate_submission"],
  ]);
  const sent = rec.to("/leads/bulk/initiate");
  assert.equal(sent.length, 1);
  assert.deepEqual(
    sent[0].body.leads.map((l) => l.phone),
    [inputs[1].phone],
    "only the new lead went on the wire",
  );
});

test("bulkInitiateLeads honours chunkSize and concurrency", T, async () => {
  const rec = recordingFetch();
  const client = sb.client({ fetch: rec.fetch });
  // Slow every bulk request a little so that overlapping requests really overlap.
  await sb.faults([{ kind: "delay", ms: 60, path: "/leads/bulk/initiate", count: 20 }]);
  try {
    const inputs = Array.from({ length: 250 }, () => leadInput({ referenceId: undefined }));
    const one = await client.bulkInitiateLeads(inputs, { init: false, chunkSize: 50, concurrency: 2 });
    recordBulk(one);
    assert.equal(one.created.length, 250);
    const sent = rec.to("/leads/bulk/initiate");
    assert.equal(sent.length, 5);
    assert.equal(one.requests, 5 + rec.to("/leads/query").length, "the bulks and the queries of what exists");
    for (const c of sent) assert.equal(c.body.leads.length, 50, "chunks of 50");
    assert.ok(rec.maxInFlight <= 2, `at most 2 requests in flight, saw ${rec.maxInFlight}`);
    assert.ok(rec.maxInFlight === 2, `concurrency 2 sends 2 at once, saw ${rec.maxInFlight}`);

    const rec1 = recordingFetch();
    const serial = sb.client({ fetch: rec1.fetch });
    const two = await serial.bulkInitiateLeads(
      Array.from({ length: 30 }, () => leadInput()),
      {
        init: false,
        chunkSize: 10,
        concurrency: 1,
      },
    );
    recordBulk(two);
    assert.equal(two.created.length, 30);
    assert.equal(rec1.to("/leads/bulk/initiate").length, 3);
    assert.equal(two.requests, 3 + rec1.to("/leads/query").length);
    assert.equal(rec1.maxInFlight, 1, "concurrency 1 sends one request at a time");
  } finally {
    await sb.clearFaults();
  }
});

test("bulkInitiateLeads sends at most 1000 leads per request by default", T, async () => {
  const rec = recordingFetch();
  const client = sb.client({ fetch: rec.fetch });
  const result = await client.bulkInitiateLeads(
    Array.from({ length: 1001 }, () => leadInput({ referenceId: undefined })),
    { init: false },
  );
  recordBulk(result);
  assert.equal(result.created.length, 1001);
  assert.deepEqual(
    rec
      .to("/leads/bulk/initiate")
      .map((c) => c.body.leads.length)
      .sort((a, b) => b - a),
    [1000, 1],
  );
});

test("bulkInitiateLeads of an empty array makes no request", T, async () => {
  const rec = recordingFetch();
  const client = sb.client({ fetch: rec.fetch });
  const result = await client.bulkInitiateLeads([]);
  assert.deepEqual(result, { created: [], failed: [], unknown: [], requests: 0 });
  assert.equal(rec.calls.length, 0);
});

test("bulkInitiateLeads rejects bad options and non-arrays with invalid_argument", T, async () => {
  const client = sb.client();
  const leads = [leadInput()];
  await expectVoxError(() => client.bulkInitiateLeads(leads, { chunkSize: 1001 }), "invalid_argument");
  await expectVoxError(() => client.bulkInitiateLeads(leads, { chunkSize: 0 }), "invalid_argument");
  await expectVoxError(() => client.bulkInitiateLeads(leads, { concurrency: 0 }), "invalid_argument");
  await expectVoxError(() => client.bulkInitiateLeads(leads, { onProgress: "yes" }), "invalid_argument");
  await expectVoxError(() => client.bulkInitiateLeads("not an array"), "invalid_argument");
  await expectVoxError(() => client.bulkInitiateExisting("not an array"), "invalid_argument");
});

test("bulkInitiateLeads: a whole request refused by the server fails every lead of it with that code", T, async () => {
  const client = sb.client();
  const inputs = [leadInput({ processId: MISSING_ID }), leadInput({ processId: MISSING_ID })];
  const result = await client.bulkInitiateLeads(inputs);
  recordBulk(result);
  assertPartition(result, 2);
  assert.equal(result.failed.length, 2);
  for (const f of result.failed) {
    assert.equal(f.error.code, "not_found");
    assert.equal(f.error.status, 404);
    assert.match(f.error.message, /Process not found/);
  }
});

test("bulkInitiateExisting starts calls for existing leads and maps unknown ids to failed", T, async () => {
  const client = sb.client();
  const made = await client.bulkInitiateLeads([leadInput(), leadInput({ processId: SUPPORT }), leadInput()], { init: false });
  recordBulk(made);
  assert.equal(made.created.length, 3);
  const ids = made.created.sort((a, b) => a.index - b.index).map((c) => c.lead._id);
  const input = [ids[0], MISSING_ID, ids[1], ids[2]];
  const progress = [];
  const result = await client.bulkInitiateExisting(input, { onProgress: (p) => progress.push(p) });
  recordBulk(result);
  assertPartition(result, 4);
  assert.deepEqual(
    result.created.map((c) => [c.index, c.lead._id]).sort((a, b) => a[0] - b[0]),
    [
      [0, ids[0]],
      [2, ids[1]],
      [3, ids[2]],
    ],
  );
  for (const c of result.created) assert.equal(c.lead.currentState, "make_first_call");
  assert.equal(result.failed.length, 1);
  assert.equal(result.failed[0].index, 1);
  assert.equal(result.failed[0].input, MISSING_ID);
  assert.match(result.failed[0].error.message, /not found/);
  assert.equal(result.requests, 1);
  assert.deepEqual(progress.at(-1), { done: 4, total: 4, created: 3, failed: 1, unknown: 0 });
  const lead = await client.getLead({ leadId: ids[1] });
  assert.equal(lead.activities.filter((a) => a.type === "call").length, 1, "the call was scheduled");
});

test("bulkInitiateExisting with init:false and chunkSize splits requests and leaves states", T, async () => {
  const rec = recordingFetch();
  const client = sb.client({ fetch: rec.fetch });
  const made = await client.bulkInitiateLeads(
    Array.from({ length: 5 }, () => leadInput()),
    { init: false },
  );
  recordBulk(made);
  const ids = made.created.sort((a, b) => a.index - b.index).map((c) => c.lead._id);
  const result = await client.bulkInitiateExisting(ids, { init: false, chunkSize: 2 });
  recordBulk(result);
  assert.equal(result.created.length, 5);
  assert.equal(result.requests, 3);
  const sent = rec.to("/leads/bulk/initiate").slice(-3);
  assert.deepEqual(sent.flatMap((c) => c.body.leadIds).sort(), [...ids].sort());
  for (const c of sent) assert.equal(c.body.init, false);
  for (const c of result.created) {
    assert.equal(c.lead._id, ids[c.index]);
    assert.equal(c.lead.currentState, "new");
  }
});

auditSecrets();
