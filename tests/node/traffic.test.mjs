// Traffic safety against the sandbox (issue 5): 10,000 leads under 20% injected faults of every
// kind lose nothing and create nothing twice; the real rate limit is never exceeded; a stream of
// duplicates never gets the key blocked.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { VoxClient } from "../../dist/vox-crm/node/index.mjs";
import { startSandbox } from "../../sandbox/server.mjs";

const TOKEN = "sk_test_vox_sandbox";
const PROJECT = "6650a1b2c3d4e5f601234567";
const PROCESS = "6650a1b2c3d4e5f6012345a1";

let sandbox;
before(async () => {
  sandbox = await startSandbox({ port: 0, admin: true, quiet: true, rateLimit: false, callDelayMs: 600000 });
});
after(() => sandbox.close());

async function admin(method, path, body) {
  const res = await fetch(`${sandbox.origin}/__sandbox/${path}`, {
    method,
    headers: { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  assert.equal(res.status, 200, `${method} ${path}: ${await res.clone().text()}`);
  return res.json();
}

// Distinct valid Indian mobile numbers without repeating or sequential patterns.
let serial = 0;
function phone() {
  serial += 1;
  const n = (serial * 7919 + 1234567) % 100000000;
  return `+9196${String(n).padStart(8, "0")}`;
}

/** Every kind of fault the sandbox has, together hitting about 20% of all requests. */
const FAULTS = [
  { kind: "status", status: 500, html: true },
  { kind: "status", status: 503 },
  { kind: "reset", when: "before" },
  { kind: "reset", when: "after" },
  { kind: "delay", ms: 1000 },
  { kind: "malformed", when: "after" },
].map((f, i) => ({ ...f, probability: 0.037, seed: 1000 + i }));

function client(extra = {}) {
  return new VoxClient({ projectId: PROJECT, token: TOKEN, baseUrl: sandbox.url, timeoutMs: 500, rateLimit: false, ...extra });
}

function checkAccounting(result, inputs) {
  const seen = new Set();
  for (const part of [result.created, result.failed, result.unknown]) {
    for (const item of part) {
      assert.ok(!seen.has(item.index), `index ${item.index} reported twice`);
      seen.add(item.index);
    }
  }
  assert.equal(seen.size, inputs.length, "every input reported exactly once");
  for (const { index, lead } of result.created) assert.equal(lead.phone, inputs[index].phone, `created[${index}] maps to its input`);
}

test("10,000 leads with referenceIds under 20% faults: none lost, none twice, none unknown", { timeout: 300000 }, async () => {
  await admin("POST", "reset");
  await admin("POST", "faults", { rules: FAULTS });
  const run = Date.now();
  const leads = Array.from({ length: 10000 }, (_, i) => ({ name: `Ref ${i}`, phone: phone(), processId: PROCESS, referenceId: `ref-${run}-${i}` }));
  // Reconciliation is bounded by maxRetries (each lookup retried, each lead resent at most that
  // often). Under one failure in five, a lead stays unknown only when all 1 + maxRetries attempts
  // of one of its steps fail: 0.2^7 ≈ 1.3e-5 with 6, which over the thousands of leads a run
  // reconciles left one unknown in about one run of eight; 0.2^11 ≈ 2e-8 with 10.
  const result = await client({ maxRetries: 10 }).bulkInitiateLeads(leads, { init: false });
  const stats = await admin("GET", "stats");
  await admin("DELETE", "faults");
  checkAccounting(result, leads);
  assert.ok(stats.faultsInjected > 100, `faults were injected (${stats.faultsInjected})`);
  assert.deepEqual({ created: result.created.length, failed: result.failed.length, unknown: result.unknown.length }, { created: 10000, failed: 0, unknown: 0 });
  assert.equal(stats.leadsCreated, 10000, "the sandbox created each lead exactly once");
  assert.equal(stats.duplicateRejections, 0, "no lead was sent again after it was created");
  for (const { index, lead } of result.created) assert.equal(lead.referenceId, leads[index].referenceId);
});

test("10,000 leads without referenceIds under 20% faults: none lost, none twice, the unknown reported", { timeout: 300000 }, async () => {
  await admin("POST", "reset");
  await admin("POST", "faults", { rules: FAULTS.map((f) => ({ ...f, seed: f.seed + 77 })) });
  const leads = Array.from({ length: 10000 }, (_, i) => ({ name: `NoRef ${i}`, phone: phone(), processId: PROCESS }));
  const result = await client().bulkInitiateLeads(leads, { init: false });
  const stats = await admin("GET", "stats");
  await admin("DELETE", "faults");
  checkAccounting(result, leads);
  assert.equal(result.failed.length, 0);
  assert.ok(result.unknown.length > 0, "some chunks hit ambiguous faults");
  for (const u of result.unknown) assert.match(u.error.code, /^(timeout|network_error|server_error|invalid_response)$/);
  // Nothing created twice: the server never saw a duplicate, and it holds at most what was
  // reported created plus what is reported unknown.
  assert.equal(stats.duplicateRejections, 0);
  assert.ok(stats.leads >= result.created.length && stats.leads <= result.created.length + result.unknown.length);
});

test("saturating the real limit (100 requests / 5 s) never gets a 429", { timeout: 120000 }, async () => {
  // Requests the delay faults of the tests above held back are still arriving: let them land
  // before counting, or they would count in this test's windows.
  await new Promise((r) => setTimeout(r, 1500));
  await admin("POST", "reset");
  await admin("POST", "config", { rateLimit: { requests: 100, perMs: 5000 } });
  try {
    const waits = [];
    const c = client({ rateLimit: { requests: 100, perMs: 5000 }, logger: (e) => e.type === "rate_limit_wait" && waits.push(e) });
    const created = await c.initiateLead({ name: "Saturation", phone: phone(), processId: PROCESS }, { init: false });
    const calls = Array.from({ length: 230 }, () => c.getLead({ leadId: created._id }));
    const results = await Promise.all(calls);
    assert.equal(results.length, 230);
    const stats = await admin("GET", "stats");
    assert.equal(stats.rateLimited, 0, "no 429 was sent");
    assert.ok(stats.maxRequestsInWindow <= 100, `at most 100 in any 5 s window (${stats.maxRequestsInWindow})`);
    assert.ok(waits.length > 0, "requests waited their turn");
  } finally {
    await admin("POST", "config", { rateLimit: false });
  }
});

test("a stream of duplicate submissions never gets the key blocked", async () => {
  await admin("POST", "reset");
  await admin("POST", "config", { dupMax: 5, dupWindowMs: 60000 });
  // Leads created by someone else: the client has never seen these phones.
  const phones = Array.from({ length: 30 }, () => phone());
  const res = await fetch(`${sandbox.url}/leads/bulk/initiate`, {
    method: "POST",
    headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
    body: JSON.stringify({ init: false, leads: phones.map((p, i) => ({ projectId: PROJECT, processId: PROCESS, name: `Other ${i}`, phone: p })) }),
  });
  assert.equal((await res.json()).success.length, 30);
  const c = new VoxClient({ projectId: PROJECT, token: TOKEN, baseUrl: sandbox.origin + "/api/v1/" });
  const codes = [];
  for (const p of phones) {
    try {
      await c.initiateLead({ name: "Again", phone: p, processId: PROCESS });
      codes.push("created");
    } catch (e) {
      codes.push(e.code);
    }
  }
  const bulk = await c.bulkInitiateLeads(phones.map((p) => ({ name: "Again", phone: p, processId: PROCESS })));
  const stats = await admin("GET", "stats");
  assert.equal(codes.filter((c) => c === "bad_request").length, 5, "the server saw 5 duplicates, not 6");
  assert.equal(codes.filter((c) => c === "duplicate_submission").length, 25);
  assert.ok(bulk.failed.every((f) => f.error.code === "duplicate_submission"));
  assert.equal(stats.blocks, 0, "the key was never blocked");
  assert.equal(stats.blockedResponses, 0);
});
