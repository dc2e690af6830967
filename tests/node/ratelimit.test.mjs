// The client rate limiter against a sandbox limit of 20 requests per 1000 ms, and the limiter shared by
// every VoxClient of one (base URL, project).

import assert from "node:assert/strict";
import { test } from "node:test";
import { auditSecrets, collector, leadInput, recordBulk, T, useSandbox } from "./helpers.mjs";

const LIMIT = { requests: 20, perMs: 1000 };
const sb = useSandbox({ rateLimit: LIMIT });

test("60 quick getLead calls stay within the limit: no 429, and rate_limit_wait events", T, async () => {
  await sb.reset();
  const log = collector();
  const client = sb.client({ rateLimit: LIMIT, logger: log.logger });
  const lead = await client.initiateLead(leadInput(), { init: false });
  const results = await Promise.all(Array.from({ length: 60 }, () => client.getLead({ leadId: lead._id })));
  for (const r of results) assert.equal(r._id, lead._id);
  const stats = await sb.stats();
  assert.equal(stats.byRoute["GET /leads/get"], 60, "one request per call");
  assert.equal(stats.rateLimited, 0, "the sandbox never answered 429");
  assert.ok(stats.maxRequestsInWindow <= LIMIT.requests, `at most 20 in any window, saw ${stats.maxRequestsInWindow}`);
  assert.ok(log.ofType("rate_limit_wait").length >= 1, "rate_limit_wait events were logged");
  assert.equal(log.ofType("retry").length, 0, "nothing had to be retried");
});

test("two clients for the same project share the limiter and together stay within it", T, async () => {
  await sb.reset();
  const a = sb.client({ rateLimit: LIMIT });
  const b = sb.client({ rateLimit: LIMIT });
  const lead = await a.initiateLead(leadInput(), { init: false });
  const calls = [];
  for (let i = 0; i < 30; i++) {
    calls.push(a.getLead({ leadId: lead._id }));
    calls.push(b.queryLeads({ referenceId: lead.referenceId, processId: lead.processId }));
  }
  const results = await Promise.all(calls);
  assert.equal(results.length, 60);
  const stats = await sb.stats();
  assert.equal(stats.rateLimited, 0, "the sandbox never answered 429");
  assert.ok(stats.maxRequestsInWindow <= LIMIT.requests, `at most 20 in any window, saw ${stats.maxRequestsInWindow}`);
  assert.equal(stats.requests, 61, "no retries were needed");
});

test("a bulk with many small chunks and high concurrency stays within the limit", T, async () => {
  await sb.reset();
  const log = collector();
  const client = sb.client({ rateLimit: LIMIT, logger: log.logger });
  const inputs = Array.from({ length: 45 }, () => leadInput());
  const result = await client.bulkInitiateLeads(inputs, { init: false, chunkSize: 1, concurrency: 16 });
  recordBulk(result);
  assert.equal(result.created.length, 45);
  // 45 bulks, and one query: the project has no leads yet, so nothing to check.
  assert.equal(result.requests, 46);
  const stats = await sb.stats();
  assert.equal(stats.rateLimited, 0);
  assert.ok(stats.maxRequestsInWindow <= LIMIT.requests, `at most 20 in any window, saw ${stats.maxRequestsInWindow}`);
  assert.ok(log.ofType("rate_limit_wait").length >= 1);
});

auditSecrets();
