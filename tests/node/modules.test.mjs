// Both module systems: the CommonJS entry and the ESM entry load, export the same names, are one instance
// (an error made through one is `instanceof` the other's VoxError), and work against the sandbox.

import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { test } from "node:test";
import esmDefault, * as esm from "../../dist/vox-crm/node/index.mjs";
import { auditLogger, auditSecrets, expectVoxError, leadInput, MISSING_ID, PROJECT_ID, T, TOKEN, useSandbox } from "./helpers.mjs";

const require = createRequire(import.meta.url);
const cjs = require("../../dist/vox-crm/node/index.cjs");

const sb = useSandbox();
const NAMES = ["VoxClient", "VoxError", "validatePhone", "validatePhones", "normalizePhone", "maskPhone", "validateLead"];

test("the CJS and ESM entries export every name of docs/sdk.md", T, () => {
  for (const name of NAMES) {
    assert.equal(typeof cjs[name], "function", `cjs.${name}`);
    assert.equal(typeof esm[name], "function", `esm.${name}`);
  }
});

test("the CJS and ESM entries export the webhook helpers of docs/sdk.md (parseWebhook, verifyWebhookAuth)", T, () => {
  // Their behaviour is tested in webhook.test.mjs; here only that a user can import them from the package.
  for (const name of ["parseWebhook", "verifyWebhookAuth"]) {
    assert.equal(typeof cjs[name], "function", `cjs.${name}`);
    assert.equal(typeof esm[name], "function", `esm.${name}`);
    assert.equal(esm[name], cjs[name], `${name} is the same object`);
  }
});

test("the CJS and ESM entries are the same instance", T, () => {
  for (const name of NAMES) assert.equal(esm[name], cjs[name], `${name} is the same object`);
  assert.equal(esmDefault.VoxClient, cjs.VoxClient, "the default export carries the same classes");
  assert.equal(esmDefault.VoxError, esm.VoxError);
});

test("an error thrown through the CJS entry is instanceof the ESM VoxError, and the other way round", T, async () => {
  let fromCjs;
  try {
    cjs.normalizePhone("12345");
  } catch (e) {
    fromCjs = e;
  }
  assert.ok(fromCjs instanceof esm.VoxError);
  assert.ok(fromCjs instanceof cjs.VoxError);
  assert.equal(fromCjs.code, "invalid_phone");
  let fromEsm;
  try {
    new esm.VoxClient({});
  } catch (e) {
    fromEsm = e;
  }
  assert.ok(fromEsm instanceof cjs.VoxError);
  assert.equal(fromEsm.code, "invalid_argument");
});

test("a client from the CJS entry works against the sandbox and its errors are ESM VoxErrors", T, async () => {
  const client = new cjs.VoxClient({ projectId: PROJECT_ID, token: TOKEN, baseUrl: sb.url, logger: auditLogger() });
  const lead = await client.initiateLead(leadInput(), { init: false });
  assert.match(lead._id, /^[0-9a-f]{24}$/);
  const got = await client.getLead({ leadId: lead._id });
  assert.equal(got._id, lead._id);
  const err = await expectVoxError(() => client.getLead({ leadId: MISSING_ID }), "not_found", { status: 404 });
  assert.ok(err instanceof cjs.VoxError);
});

test("a client from the ESM entry works against the sandbox", T, async () => {
  const client = new esm.VoxClient({ projectId: PROJECT_ID, token: TOKEN, baseUrl: sb.url, logger: auditLogger() });
  const page = await client.queryLeads({ limit: 5 });
  assert.ok(Array.isArray(page.leads));
  assert.equal(page.limit, 5);
});

test("clients from both entries share one limiter and duplicate guard (one realm, one state)", T, async () => {
  const a = new cjs.VoxClient({ projectId: PROJECT_ID, token: TOKEN, baseUrl: sb.url, logger: auditLogger() });
  const b = new esm.VoxClient({ projectId: PROJECT_ID, token: TOKEN, baseUrl: sb.url, logger: auditLogger() });
  const input = leadInput();
  await a.initiateLead(input, { init: false });
  const before = await sb.stats();
  await expectVoxError(() => b.initiateLead(leadInput({ phone: input.phone })), "duplicate_submission");
  const after = await sb.stats();
  assert.equal(after.requests, before.requests);
});

test("VoxClient describes itself without its token", T, () => {
  const client = new esm.VoxClient({ projectId: PROJECT_ID, token: TOKEN, baseUrl: sb.url });
  assert.equal(client.projectId, PROJECT_ID);
  assert.equal(client.baseUrl, sb.url);
  for (const text of [String(client), JSON.stringify(client)]) {
    assert.ok(!text.includes(TOKEN), `no token in ${text}`);
  }
  assert.ok(!JSON.stringify(Object.entries(client)).includes(TOKEN));
});

test("package.json maps node import/require to these two entries", T, async () => {
  const pkg = JSON.parse(await readFile(new URL("../../dist/vox-crm/package.json", import.meta.url), "utf8"));
  assert.equal(pkg.name, "vox-crm");
  assert.equal(pkg.exports["."].node.import, "./node/index.mjs");
  assert.equal(pkg.exports["."].node.require, "./node/index.cjs");
});

auditSecrets();
