// Scale: 100,000 leads through bulk requests, then queries, lookups and duplicate checks stay fast.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { PROJECT_ID, SALES, SUPPORT, startTestSandbox } from "../testing.mjs";

const TOTAL = 100_000;
let sb;
before(async () => {
  sb = await startTestSandbox({ rateLimit: false, callDelayMs: 600000 });
});
after(() => sb.close());

const phoneOf = (i) => `+9197${String(45310000 + i)}`;
const leadOf = (i) => ({
  projectId: PROJECT_ID,
  processId: i % 4 === 0 ? SUPPORT : SALES,
  name: `Scale Lead ${i}`,
  phone: phoneOf(i),
  referenceId: `scale-${i}`,
  groupId: `g${i % 10}`,
  metadata: { i },
});

async function timed(fn) {
  const t0 = performance.now();
  const value = await fn();
  return [value, performance.now() - t0];
}

test("100,000 leads in 100 bulk requests", async () => {
  const durations = [];
  for (let b = 0; b < TOTAL / 1000; b++) {
    const leads = Array.from({ length: 1000 }, (_, k) => leadOf(b * 1000 + k));
    const [res, ms] = await timed(() => sb.post("/leads/bulk/initiate", { leads, init: b % 2 === 0 }));
    assert.equal(res.status, 200);
    assert.equal(res.body.success.length, 1000, JSON.stringify(res.body.errors?.[0]));
    durations.push(ms);
  }
  durations.sort((x, y) => x - y);
  const median = durations[durations.length >> 1];
  assert.ok(median < 150, `median bulk round trip ${median.toFixed(1)} ms`);
  assert.equal(sb.state.store.leadCount, TOTAL);
});

test("queries over 100,000 leads stay fast", async () => {
  const cases = [
    ["limit=100", TOTAL],
    ["limit=100&page=700&order=asc", TOTAL],
    ["sort=updatedAt&limit=50", TOTAL],
    [`processId=${SUPPORT}&limit=10`, TOTAL / 4],
    ["state=make_first_call&groupId=g3&limit=10", null],
    ["createdFrom=2000-01-01T00:00:00Z&createdTo=2999-01-01&limit=5", TOTAL],
    [`phone=${encodeURIComponent(phoneOf(54321))}`, 1],
    ["referenceId=scale-777", 1],
  ];
  for (const [qs, total] of cases) {
    const [res, ms] = await timed(() => sb.get(`/leads/query?${qs}`));
    assert.equal(res.status, 200, qs);
    if (total !== null) assert.equal(res.body.pagination.total, total, qs);
    assert.ok(ms < 400, `${qs}: ${ms.toFixed(1)} ms`);
  }
  // paging through a stable result is cheap after the first page
  const [, ms] = await timed(async () => {
    for (let page = 1; page <= 100; page++) {
      const res = await sb.get(`/leads/query?limit=100&page=${page}&order=asc`);
      assert.equal(res.body.data[0].referenceId, `scale-${(page - 1) * 100}`);
    }
  });
  assert.ok(ms < 3000, `100 pages: ${ms.toFixed(0)} ms`);
});

test("lookups and duplicate checks use indexes", async () => {
  const [dup, ms] = await timed(() => sb.post("/leads/initiate", { lead: { ...leadOf(99999), referenceId: "new-ref" } }));
  assert.equal(dup.body.error, "A call attempt has already been made to this phone number for this project");
  assert.ok(ms < 100, `${ms.toFixed(1)} ms`);
  const [got, ms2] = await timed(() => sb.get(`/leads/get?referenceId=scale-4&projectId=${PROJECT_ID}&processId=${SUPPORT}`));
  assert.equal(got.body.data.metadata.i, 4);
  assert.ok(ms2 < 100, `${ms2.toFixed(1)} ms`);
});
