// Every error code a Node user can meet with the sandbox (browser_unsafe is tested in a browser elsewhere).
// Each check asserts: instanceof VoxError and Error, code, status where it applies, a helpful message.

import assert from "node:assert/strict";
import { test } from "node:test";
import {
  auditSecrets,
  closedPort,
  collector,
  expectVoxError,
  extraProject,
  leadInput,
  MISSING_ID,
  national,
  normalizePhone,
  PROJECT_ID,
  recordBulk,
  recordingFetch,
  SALES,
  T,
  TOKEN,
  uid,
  uniquePhone,
  useSandbox,
  VoxClient,
  VoxError,
  WRONG_TOKEN,
} from "./helpers.mjs";

const sb = useSandbox();

// ---- validation_error -----------------------------------------------------------------------------------

test("validation_error: a lead without phone and email is refused locally, with details", T, async () => {
  const rec = recordingFetch();
  const client = sb.client({ fetch: rec.fetch });
  const err = await expectVoxError(() => client.initiateLead({ name: "No Contact", processId: SALES }), "validation_error");
  assert.ok(Array.isArray(err.details), "details lists the fields");
  assert.ok(err.details.length >= 1);
  for (const d of err.details) {
    assert.equal(typeof d.field, "string");
    assert.equal(typeof d.code, "string");
    assert.equal(typeof d.message, "string");
  }
  assert.ok(
    err.details.some((d) => d.field === "phone" || d.field === "email"),
    JSON.stringify(err.details),
  );
  assert.equal(err.status, undefined, "no HTTP status: nothing was sent");
  assert.equal(rec.calls.length, 0, "no request was made");
});

test("validation_error: each bad field is named in details", T, async () => {
  const rec = recordingFetch();
  const client = sb.client({ fetch: rec.fetch });
  const cases = [
    [{ name: "Bad Phone", phone: "9999999999", processId: SALES }, "phone"],
    [{ name: "Short Phone", phone: "98765", processId: SALES }, "phone"],
    [{ name: "Bad Email", email: "not-an-email", processId: SALES }, "email"],
    [{ phone: uniquePhone(), processId: SALES }, "name"],
    [{ name: "No Process", phone: uniquePhone() }, "processId"],
    [{ name: "Seq Phone", phone: "9876543210", processId: SALES }, "phone"], // sequential_digits (docs/sdk.md)
  ];
  for (const [lead, field] of cases) {
    const err = await expectVoxError(() => client.initiateLead(lead), "validation_error", { label: JSON.stringify(lead) });
    assert.ok(Array.isArray(err.details) && err.details.some((d) => d.field === field), `details names ${field}: ${JSON.stringify(err.details)}`);
  }
  assert.equal(rec.calls.length, 0, "no request was made");
});

// ---- invalid_phone --------------------------------------------------------------------------------------

test("invalid_phone: normalizePhone throws for numbers validatePhone rejects", T, () => {
  for (const bad of ["12345", "9999999999", "+999 1234567", "98a4531720", "", "9876543210", "1234567890"]) {
    let err;
    try {
      normalizePhone(bad);
    } catch (e) {
      err = e;
    }
    assert.ok(err instanceof VoxError, `normalizePhone(${JSON.stringify(bad)}) throws a VoxError`);
    assert.ok(err instanceof Error);
    assert.equal(err.code, "invalid_phone", `code for ${JSON.stringify(bad)}`);
    assert.ok(err.message.length >= 8, "a helpful message");
  }
});

// ---- invalid_argument -----------------------------------------------------------------------------------

test("invalid_argument: bad constructor options throw synchronously", T, () => {
  const base = { projectId: PROJECT_ID, token: TOKEN, baseUrl: "http://127.0.0.1:9/api/v1" };
  const cases = [
    undefined,
    {},
    { token: TOKEN },
    { projectId: "" },
    { projectId: 42 },
    { ...base, timeoutMs: -5 },
    { ...base, timeoutMs: "fast" },
    { ...base, maxRetries: -1 },
    { ...base, maxRetries: 1.5 },
    { ...base, rateLimit: { requests: 0, perMs: 1000 } },
    { ...base, rateLimit: "100/5000" },
    { ...base, duplicateGuard: { max: 0, windowMs: 1000 } },
    { ...base, duplicateGuard: true },
    { ...base, baseUrl: "ftp://example.com" },
    { ...base, defaultCountry: "ZZ" },
    { ...base, logger: "console" },
    { ...base, fetch: 42 },
    { ...base, token: 12345 },
  ];
  for (const options of cases) {
    let err;
    let threw = false;
    try {
      new VoxClient(options);
    } catch (e) {
      threw = true;
      err = e;
    }
    assert.ok(threw, `new VoxClient(${JSON.stringify(options)}) throws`);
    assert.ok(err instanceof VoxError, `a VoxError for ${JSON.stringify(options)}`);
    assert.ok(err instanceof Error);
    assert.equal(err.code, "invalid_argument", `code for ${JSON.stringify(options)}: ${err.message}`);
    assert.ok(err.message.length >= 8);
  }
});

test("invalid_argument: a missing projectId is named in the message", T, async () => {
  const err = await expectVoxError(() => new VoxClient({ token: TOKEN }), "invalid_argument");
  assert.match(err.message, /projectId/);
});

test("invalid_argument: calls with wrong argument types reject before any request", T, async () => {
  const rec = recordingFetch();
  const client = sb.client({ fetch: rec.fetch });
  await expectVoxError(() => client.getLead(42), "invalid_argument");
  await expectVoxError(() => client.queryLeads({ limit: 500 }), "invalid_argument");
  await expectVoxError(() => client.initiateLead(leadInput(), "options"), "invalid_argument");
  await expectVoxError(() => client.initiateLead(leadInput(), { init: "yes" }), "invalid_argument");
  await expectVoxError(() => client.initiateLead(leadInput(), { signal: {} }), "invalid_argument");
  await expectVoxError(() => client.getActivity({ activityId: MISSING_ID }), "invalid_argument");
  await expectVoxError(() => client.bulkInitiateLeads({ leads: [] }), "invalid_argument");
  await expectVoxError(() => client.updateLead({ leadId: MISSING_ID }, null), "invalid_argument");
  assert.equal(rec.calls.length, 0, "no request was made");
});

test("invalid_argument: initiateLead with a lead that is not an object", T, async () => {
  const rec = recordingFetch();
  const client = sb.client({ fetch: rec.fetch });
  await expectVoxError(() => client.initiateLead("a lead"), "invalid_argument", { label: 'initiateLead("a lead")' });
  await expectVoxError(() => client.initiateLead(null), "invalid_argument", { label: "initiateLead(null)" });
  await expectVoxError(() => client.initiateLead([leadInput()]), "invalid_argument", { label: "initiateLead([lead])" });
  assert.equal(rec.calls.length, 0, "no request was made");
});

// ---- bad_request, forbidden, not_found ------------------------------------------------------------------

test("bad_request: a 400 carries status 400 and the server's reason", T, async () => {
  const client = sb.client();
  const lead = await client.initiateLead(leadInput(), { init: false });
  await expectVoxError(() => client.updateLead({ leadId: lead._id }, { targetState: "on_the_moon" }), "bad_request", {
    status: 400,
    message: /Invalid targetState/,
  });
});

test("forbidden: a wrong token gets forbidden with the server's reason and without the token", T, async () => {
  const client = sb.client({ token: WRONG_TOKEN, maxRetries: 0 });
  const err = await expectVoxError(() => client.getLead({ leadId: MISSING_ID }), "forbidden", {
    status: 403,
    message: /Invalid or missing API token/,
  });
  assert.ok(!err.message.includes(WRONG_TOKEN));
  await expectVoxError(() => client.initiateLead(leadInput()), "forbidden", { status: 403 });
  await expectVoxError(() => client.queryLeads({}), "forbidden", { status: 403 });
});

test("forbidden: a projectId that is not the token's project", T, async () => {
  const other = extraProject(5);
  const client = sb.client({ projectId: other.projectId, token: TOKEN });
  await expectVoxError(() => client.initiateLead(leadInput()), "forbidden", {
    status: 403,
    message: /projectId does not match/,
  });
});

test("forbidden: no token at all", T, async () => {
  const client = sb.client({ token: undefined });
  await expectVoxError(() => client.getLead({ leadId: MISSING_ID }), "forbidden", { status: 403 });
});

test("not_found: unknown lead, activity and process", T, async () => {
  const client = sb.client();
  await expectVoxError(() => client.getLead({ leadId: MISSING_ID }), "not_found", { status: 404, message: /not found/ });
  await expectVoxError(() => client.getActivity(MISSING_ID), "not_found", { status: 404, message: /not found/ });
  await expectVoxError(() => client.initiateLead(leadInput({ processId: MISSING_ID })), "not_found", {
    status: 404,
    message: /Process not found/,
  });
});

// ---- rate_limited, key_blocked, duplicate_submission ----------------------------------------------------

test("rate_limited: a 429 for the rate is rate_limited with retryAfterMs when retries are off", T, async () => {
  const project = extraProject(2);
  await sb.config({ rateLimit: { requests: 3, perMs: 60000 } });
  try {
    const client = sb.clientFor(project, { rateLimit: false, maxRetries: 0 });
    for (let i = 0; i < 3; i++) {
      await expectVoxError(() => client.getLead({ leadId: MISSING_ID }), "not_found");
    }
    const err = await expectVoxError(() => client.getLead({ leadId: MISSING_ID }), "rate_limited", {
      status: 429,
      retryAfter: true,
      message: /[Rr]ate limit/,
    });
    assert.ok(err.retryAfterMs <= 60000, `retryAfterMs ${err.retryAfterMs} is at most the window`);
    const stats = await sb.stats();
    assert.equal(stats.rateLimited, 1);
  } finally {
    await sb.config({ rateLimit: false });
  }
});

test("key_blocked: a blocked key is key_blocked, and later calls fail fast without a request", T, async () => {
  const project = extraProject(3);
  await sb.config({ dupMax: 1 });
  try {
    const log = collector();
    const client = sb.clientFor(project, { duplicateGuard: false, maxRetries: 0, logger: log.logger });
    const taken = uniquePhone();
    await sb.createRaw({ processId: project.sales, name: "Taken Number", phone: taken }, project);
    const dup = () => client.initiateLead(leadInput({ processId: project.sales, phone: taken }));
    await expectVoxError(dup, "bad_request", { status: 400, message: /already been made/ });
    await expectVoxError(dup, "bad_request", { status: 400 }); // the 2nd duplicate > dupMax 1: the key is blocked now
    const blocked = await expectVoxError(() => client.initiateLead(leadInput({ processId: project.sales })), "key_blocked", {
      status: 429,
      retryAfter: true,
      message: /blocked/,
    });
    assert.ok(blocked.retryAfterMs > 60000, "the block lasts the sandbox's block time (an hour)");

    const before = await sb.stats();
    await expectVoxError(() => client.initiateLead(leadInput({ processId: project.sales })), "key_blocked");
    await expectVoxError(() => client.getLead({ leadId: MISSING_ID }), "key_blocked");
    await expectVoxError(() => client.queryLeads({}), "key_blocked");
    const second = sb.clientFor(project, { duplicateGuard: false, maxRetries: 0 });
    await expectVoxError(() => second.initiateLead(leadInput({ processId: project.sales })), "key_blocked");
    const bulk = await client.bulkInitiateLeads([leadInput({ processId: project.sales }), leadInput({ processId: project.sales })]);
    recordBulk(bulk);
    assert.equal(bulk.failed.length, 2);
    for (const f of bulk.failed) assert.equal(f.error.code, "key_blocked");
    assert.equal(bulk.requests, 0);
    const after = await sb.stats();
    assert.equal(after.requests, before.requests, "no request reached the sandbox while the key was known to be blocked");
    assert.ok(log.ofType("key_blocked").length >= 1, "a key_blocked log event");
  } finally {
    await sb.config({ dupMax: 5 });
  }
});

test("duplicate_submission: the same phone (or email) twice is refused locally", T, async () => {
  const log = collector();
  const client = sb.client({ logger: log.logger });
  const first = leadInput({ email: `${uid("dup")}@example.com` });
  await client.initiateLead(first, { init: false });
  const before = await sb.stats();
  await expectVoxError(() => client.initiateLead(leadInput({ phone: first.phone })), "duplicate_submission");
  await expectVoxError(() => client.initiateLead(leadInput({ phone: national(first.phone) })), "duplicate_submission");
  await expectVoxError(() => client.initiateLead(leadInput({ phone: undefined, email: first.email.toUpperCase() })), "duplicate_submission");
  // A second client for the same project shares the guard.
  await expectVoxError(() => sb.client().initiateLead(leadInput({ phone: first.phone })), "duplicate_submission");
  const after = await sb.stats();
  assert.equal(after.requests, before.requests, "refused without a request");
  assert.ok(log.ofType("duplicate_refused").length >= 1, "a duplicate_refused log event");
});

test("duplicate_submission: a phone whose lead the server refused for another reason may be sent again", T, async () => {
  const client = sb.client();
  const input = leadInput();
  await expectVoxError(() => client.initiateLead({ ...input, processId: MISSING_ID }), "not_found");
  const lead = await client.initiateLead(input, { init: false });
  assert.equal(lead.phone, input.phone);
});

test("duplicate_submission: after `max` server duplicate rejections the guard refuses further initiates", T, async () => {
  const project = extraProject(4);
  const blocksBefore = (await sb.stats()).blocks;
  const client = sb.clientFor(project, { duplicateGuard: { max: 2, windowMs: 60000 } });
  const taken = [uniquePhone(), uniquePhone()];
  for (const phone of taken) await sb.createRaw({ processId: project.sales, name: "Taken Number", phone }, project);
  for (const phone of taken) {
    await expectVoxError(() => client.initiateLead(leadInput({ processId: project.sales, phone })), "bad_request", {
      status: 400,
      message: /already been made/,
    });
  }
  const before = await sb.stats();
  await expectVoxError(() => client.initiateLead(leadInput({ processId: project.sales })), "duplicate_submission");
  const bulk = await client.bulkInitiateLeads([leadInput({ processId: project.sales })]);
  recordBulk(bulk);
  assert.equal(bulk.failed.length, 1);
  assert.equal(bulk.failed[0].error.code, "duplicate_submission");
  const after = await sb.stats();
  assert.equal(after.requests, before.requests, "refused without a request");
  assert.equal(after.blocks, blocksBefore, "the key was not blocked");
  assert.equal(after.duplicateRejections - before.duplicateRejections, 0);
});

// ---- server_error, timeout, network_error, aborted, invalid_response ------------------------------------

test("server_error: a 500 on a read with maxRetries 0", T, async () => {
  const client = sb.client({ maxRetries: 0 });
  await sb.faults([{ kind: "status", status: 500, path: "/leads/get" }]);
  await expectVoxError(() => client.getLead({ leadId: MISSING_ID }), "server_error", { status: 500 });
});

test("server_error: an HTML 502 page from a proxy", T, async () => {
  const client = sb.client({ maxRetries: 0 });
  await sb.faults([{ kind: "status", status: 502, html: true, path: "/leads/query" }]);
  const err = await expectVoxError(() => client.queryLeads({}), "server_error", { status: 502 });
  assert.ok(!err.message.includes("<html>"), "the message is not the HTML page");
});

test("timeout: an attempt longer than timeoutMs with maxRetries 0", T, async () => {
  const client = sb.client({ maxRetries: 0, timeoutMs: 150 });
  await sb.faults([{ kind: "delay", ms: 1500, path: "/leads/get" }]);
  try {
    await expectVoxError(() => client.getLead({ leadId: MISSING_ID }), "timeout");
  } finally {
    await sb.clearFaults();
  }
});

test("network_error: nothing listens on the port", T, async () => {
  const port = await closedPort();
  const client = sb.client({ baseUrl: `http://127.0.0.1:${port}/api/v1`, maxRetries: 0 });
  await expectVoxError(() => client.getLead({ leadId: MISSING_ID }), "network_error");
  await expectVoxError(() => client.initiateLead(leadInput()), "network_error");
});

test("network_error: a connection reset on a read with maxRetries 0", T, async () => {
  const client = sb.client({ maxRetries: 0 });
  await sb.faults([{ kind: "reset", path: "/leads/get" }]);
  await expectVoxError(() => client.getLead({ leadId: MISSING_ID }), "network_error");
});

test("aborted: aborting a call in flight", T, async () => {
  const client = sb.client();
  await sb.faults([{ kind: "delay", ms: 2000, path: "/leads/get" }]);
  try {
    const controller = new AbortController();
    const pending = client.getLead({ leadId: MISSING_ID }, { signal: controller.signal });
    setTimeout(() => controller.abort(), 50);
    await expectVoxError(() => pending, "aborted");
  } finally {
    await sb.clearFaults();
  }
});

test("aborted: an already-aborted signal rejects without a request", T, async () => {
  const rec = recordingFetch();
  const client = sb.client({ fetch: rec.fetch });
  const signal = AbortSignal.abort();
  const input = leadInput();
  await expectVoxError(() => client.initiateLead(input, { signal }), "aborted");
  await expectVoxError(() => client.getLead({ leadId: MISSING_ID }, { signal }), "aborted");
  await expectVoxError(() => client.queryLeads({}, { signal }), "aborted");
  await expectVoxError(() => client.getActivity(MISSING_ID, { signal }), "aborted");
  await expectVoxError(() => client.updateLead({ leadId: MISSING_ID }, { name: "A B" }, { signal }), "aborted");
  await expectVoxError(async () => {
    for await (const _ of client.iterateLeads({}, { signal })) {
      /* nothing */
    }
  }, "aborted");
  assert.equal(rec.calls.length, 0, "no request was made");
  const held = await sb.rawQuery({ phone: input.phone });
  assert.equal(held.pagination.total, 0, "the lead was not created");
});

test("invalid_response: a truncated JSON body on a read with maxRetries 0", T, async () => {
  const client = sb.client({ maxRetries: 0 });
  await sb.faults([{ kind: "malformed", path: "/leads/query" }]);
  await expectVoxError(() => client.queryLeads({}), "invalid_response");
});

test("invalid_response: a 200 without the lead's _id, or not JSON at all", T, async () => {
  const reply = (text) => async () => new Response(text, { status: 200, headers: { "Content-Type": "application/json" } });
  const base = { baseUrl: "http://vox.invalid/api/v1", maxRetries: 0 };
  const noId = sb.client({ ...base, fetch: reply(JSON.stringify({ success: true, name: "No Id" })) });
  // No referenceId: with one, the client would first look the lead up (reconciliation, see retries.test.mjs).
  await expectVoxError(() => noId.initiateLead(leadInput({ referenceId: undefined })), "invalid_response");
  const html = sb.client({ ...base, fetch: reply("<html>hello</html>") });
  await expectVoxError(() => html.getLead({ leadId: MISSING_ID }), "invalid_response");
  const noData = sb.client({ ...base, fetch: reply(JSON.stringify({ success: true })) });
  await expectVoxError(() => noData.getLead({ leadId: MISSING_ID }), "invalid_response");
});

test("aborted: a bulk with an already-aborted signal sends nothing and reports every input as aborted", T, async () => {
  const rec = recordingFetch();
  const client = sb.client({ fetch: rec.fetch });
  const inputs = [leadInput(), leadInput(), leadInput()];
  let result;
  try {
    result = await client.bulkInitiateLeads(inputs, { signal: AbortSignal.abort() });
  } catch (err) {
    // Rejecting as a whole is fine too.
    await expectVoxError(() => {
      throw err;
    }, "aborted");
  }
  if (result) {
    recordBulk(result);
    assert.equal(result.created.length, 0);
    const items = [...result.failed, ...result.unknown];
    assert.deepEqual(items.map((x) => x.index).sort(), [0, 1, 2]);
    for (const x of items) assert.equal(x.error.code, "aborted");
    assert.equal(result.requests, 0);
  }
  assert.equal(rec.calls.length, 0, "no request was made");
});

// ---- the error object itself ----------------------------------------------------------------------------

test("a VoxError serialises to JSON with its code, message and status", T, async () => {
  const client = sb.client();
  const err = await expectVoxError(() => client.getLead({ leadId: MISSING_ID }), "not_found", { status: 404 });
  const json = JSON.parse(JSON.stringify(err));
  assert.equal(json.code, "not_found");
  assert.equal(json.message, err.message);
  assert.equal(json.status, 404);
  assert.ok(String(err).includes(err.message), "toString shows the message");
  assert.equal(typeof err.stack, "string");
});

auditSecrets();
