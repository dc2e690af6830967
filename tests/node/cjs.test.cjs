// The package used from a CommonJS file: require() of the CJS entry, against the sandbox.
"use strict";
const { test, before, after } = require("node:test");
const assert = require("node:assert/strict");
const path = require("node:path");
const { pathToFileURL } = require("node:url");

const vox = require("../../dist/vox-crm/node/index.cjs");
const { VoxClient, VoxError, validatePhone, normalizePhone, maskPhone } = vox;

const TOKEN = "sk_test_vox_sandbox";
const PROJECT_ID = "6650a1b2c3d4e5f601234567";
const SALES = "6650a1b2c3d4e5f6012345a1";

let sandbox;
before(async () => {
  const { startSandbox } = await import(pathToFileURL(path.join(__dirname, "../../sandbox/server.mjs")).href);
  sandbox = await startSandbox({ port: 0, admin: true, quiet: true, callDelayMs: 40, callDurationMs: 40, rateLimit: false });
});
after(async () => {
  if (sandbox) await sandbox.close();
});

test("require() gives the SDK's names", () => {
  for (const name of ["VoxClient", "VoxError", "validatePhone", "validatePhones", "normalizePhone", "maskPhone", "validateLead"]) {
    assert.equal(typeof vox[name], "function", name);
  }
});

test("require()d synchronous functions work", () => {
  assert.equal(validatePhone("9845317206").e164, "+919845317206");
  assert.equal(normalizePhone("+91 98453 17206"), "+919845317206");
  assert.equal(typeof maskPhone("+919845317206"), "string");
  assert.throws(
    () => normalizePhone("12345"),
    (err) => err instanceof VoxError && err instanceof Error && err.code === "invalid_phone",
  );
});

test("a require()d client creates and reads a lead, and rejects with VoxErrors", async () => {
  const events = [];
  const client = new VoxClient({ projectId: PROJECT_ID, token: TOKEN, baseUrl: sandbox.url, logger: (e) => events.push(e) });
  const lead = await client.initiateLead({ name: "Common Js", phone: "+919845317206", processId: SALES }, { init: false });
  assert.equal(lead.phone, "+919845317206");
  assert.equal(lead.currentState, "new");
  const got = await client.getLead({ leadId: lead._id });
  assert.equal(got._id, lead._id);
  await assert.rejects(client.getLead({ leadId: "0123456789abcdef01234567" }), (err) => {
    assert.ok(err instanceof VoxError);
    assert.ok(err instanceof Error);
    assert.equal(err.code, "not_found");
    assert.equal(err.status, 404);
    assert.ok(!String(err).includes(TOKEN) && !JSON.stringify(err).includes(TOKEN));
    return true;
  });
  const text = JSON.stringify(events);
  assert.ok(events.length >= 4);
  assert.ok(!text.includes(TOKEN), "no token in log events");
  assert.ok(!text.includes("9845317206"), "no unmasked phone in log events");
});

test("the ESM entry imported from CommonJS is the same instance", async () => {
  const esm = await import(pathToFileURL(path.join(__dirname, "../../dist/vox-crm/node/index.mjs")).href);
  assert.equal(esm.VoxClient, VoxClient);
  assert.equal(esm.VoxError, VoxError);
});

test("require() of vox-crm/proxy: the CommonJS copy, with the same VoxError as the main entry", async () => {
  const { createProxyHandler, toNodeHandler } = require("../../dist/vox-crm/proxy.cjs");
  assert.equal(typeof toNodeHandler, "function");
  assert.throws(
    () => createProxyHandler({ projectId: PROJECT_ID, token: TOKEN, allow: [] }),
    (e) => e instanceof VoxError && e.code === "invalid_argument",
  );
  const handler = createProxyHandler({ projectId: PROJECT_ID, token: TOKEN, baseUrl: sandbox.url, allow: ["queryLeads"] });
  const res = await handler(new Request("http://site.example/api/vox/leads/query?limit=1"));
  assert.equal(res.status, 200);
  assert.equal((await res.json()).pagination.limit, 1);
  assert.equal((await handler(new Request("http://site.example/api/vox/leads/get?leadId=x"))).status, 403);
});
