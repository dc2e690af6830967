// GET /leads/query (docs/api.md §3.5): every filter, inclusive date bounds, sort/order with the _id
// tie-break, pagination, masking and every error message.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { makeLead, PROJECT_ID, SALES, SUPPORT, sleep, startTestSandbox } from "../testing.mjs";

let sb;
let batch1, batch2, single;
before(async () => {
  sb = await startTestSandbox({ callDelayMs: 60000, rateLimit: false });
  // 12 Sales leads created in one request (same createdAt), then 5 Support leads, then one more.
  batch1 = (await sb.post("/leads/bulk/initiate", { leads: Array.from({ length: 12 }, (_, i) => makeLead({ groupId: i % 2 ? "odd" : "even" })), init: false }))
    .body.success;
  await sleep(5);
  batch2 = (await sb.post("/leads/bulk/initiate", { leads: Array.from({ length: 5 }, () => makeLead({ processId: SUPPORT })), init: true })).body.success;
  await sleep(5);
  single = (await sb.post("/leads/initiate", { lead: makeLead({ phone: "+14155550199", email: "Query.Me@Example.com" }), init: false })).body;
});
after(() => sb.close());

const query = async (qs) => {
  const res = await sb.get(`/leads/query${qs ? "?" + qs : ""}`);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body;
};
const ids = (body) => body.data.map((l) => l._id);
const byCreated = (asc) => (a, b) => (a.createdAt === b.createdAt ? (a._id < b._id ? -1 : 1) : a.createdAt < b.createdAt ? -1 : 1) * (asc ? 1 : -1);

test("defaults: newest first, 20 per page, pagination object, no activities", async () => {
  const body = await query("");
  assert.equal(body.success, true);
  assert.deepEqual(body.pagination, { page: 1, limit: 20, total: 18, totalPages: 1, hasNextPage: false });
  const all = [...batch1, ...batch2, single];
  assert.deepEqual(
    ids(body),
    all.sort(byCreated(false)).map((l) => l._id),
  );
  assert.ok(body.data.every((l) => !("activities" in l)));
});

test("sort by createdAt asc breaks ties by _id; pages do not overlap", async () => {
  const all = [...batch1, ...batch2, single].sort(byCreated(true));
  const seen = [];
  for (let page = 1; page <= 4; page++) {
    const body = await query(`order=asc&limit=5&page=${page}`);
    assert.deepEqual(body.pagination, { page, limit: 5, total: 18, totalPages: 4, hasNextPage: page < 4 });
    seen.push(...ids(body));
  }
  assert.deepEqual(
    seen,
    all.map((l) => l._id),
  );
  const beyond = await query("page=9&limit=5");
  assert.deepEqual(beyond.data, []);
  assert.deepEqual(beyond.pagination, { page: 9, limit: 5, total: 18, totalPages: 4, hasNextPage: false });
});

test("sort by updatedAt", async () => {
  const target = batch1[3];
  await sleep(5);
  await sb.post("/leads/update", { leadId: target._id, metadata: { touched: true } });
  const desc = await query("sort=updatedAt&limit=1");
  assert.equal(desc.data[0]._id, target._id);
  const asc = await query("sort=updatedAt&order=asc&limit=100");
  assert.equal(asc.data.at(-1)._id, target._id);
  const ups = asc.data.map((l) => l.updatedAt + l._id);
  assert.deepEqual(ups, [...ups].sort());
});

test("filters", async () => {
  assert.equal((await query(`processId=${SUPPORT}`)).pagination.total, 5);
  assert.equal((await query(`processId=${SALES}`)).pagination.total, 13);
  assert.equal((await query("state=make_first_call")).pagination.total, 5);
  assert.equal((await query(`state=new&processId=${SALES}`)).pagination.total, 13);
  assert.equal((await query("groupId=odd")).pagination.total, 6);
  assert.deepEqual(ids(await query(`referenceId=${encodeURIComponent(batch1[2].referenceId)}`)), [batch1[2]._id]);
  assert.deepEqual(ids(await query(`referenceId=${encodeURIComponent(batch1[2].referenceId)}&processId=${SUPPORT}`)), []);
  // phone: E.164 encoded, an unencoded "+" (arrives as a space), and the bare Indian form
  assert.deepEqual(ids(await query("phone=%2B14155550199")), [single._id]);
  assert.deepEqual(ids(await query("phone=+14155550199")), [single._id]);
  const indian = batch1[0].phone.slice(3);
  assert.deepEqual(ids(await query(`phone=${indian}`)), [batch1[0]._id]);
  assert.deepEqual(ids(await query("phone=123")), []);
  assert.deepEqual(ids(await query("email=QUERY.me@example.COM")), [single._id]);
  // disposition
  await sb.post("/leads/update", { leadId: batch1[5]._id, targetState: "lost", disposition: "too expensive" });
  assert.deepEqual(ids(await query("disposition=too%20expensive")), [batch1[5]._id]);
  assert.deepEqual(ids(await query("disposition=too+expensive&state=lost")), [batch1[5]._id]);
  // unknown parameters are ignored, the own projectId is fine
  assert.equal((await query(`foo=bar&projectId=${PROJECT_ID}`)).pagination.total, 18);
});

test("date bounds are inclusive", async () => {
  const t = batch2[0].createdAt;
  const exact = await query(`createdFrom=${t}&createdTo=${t}&limit=100`);
  assert.deepEqual(ids(exact).sort(), batch2.map((l) => l._id).sort());
  const from = await query(`createdFrom=${encodeURIComponent(t)}&limit=100`);
  assert.equal(from.pagination.total, 6);
  const to = await query(`createdTo=${t}&limit=100`);
  assert.equal(to.pagination.total, 17);
  const later = new Date(Date.parse(single.createdAt) + 1).toISOString();
  assert.equal((await query(`createdFrom=${later}`)).pagination.total, 0);
  const u = single.updatedAt;
  assert.ok(ids(await query(`updatedFrom=${u}&updatedTo=${u}`)).includes(single._id));
  assert.equal((await query("updatedFrom=2000-01-01T00:00:00Z&updatedTo=2000-01-02")).pagination.total, 0);
});

test("masked", async () => {
  const body = await query("phone=%2B14155550199&masked=true");
  assert.equal(body.data[0].phone, "+*******0199");
});

test("errors", async () => {
  const expect = async (qs, status, body) => {
    const res = await sb.get(`/leads/query?${qs}`);
    assert.equal(res.status, status, qs);
    assert.deepEqual(res.body, body, qs);
  };
  for (const v of ["0", "101", "abc", "1.5", "-1", ""]) {
    await expect(`limit=${v}`, 400, { success: false, error: "limit must be between 1 and 100" });
  }
  for (const v of ["0", "-1", "x", "2.5", ""]) {
    await expect(`page=${v}`, 400, { success: false, error: "page must be a positive integer" });
  }
  for (const p of ["createdFrom", "createdTo", "updatedFrom", "updatedTo"]) {
    await expect(`${p}=yesterday`, 400, { success: false, error: `Invalid date: ${p}` });
  }
  await expect("sort=name", 400, { success: false, error: "sort must be createdAt or updatedAt" });
  await expect("order=sideways", 400, { success: false, error: "order must be asc or desc" });
  await expect("projectId=6650a1b2c3d4e5f60123456b", 403, { error: "projectId does not match authenticated project" });
  const limitOk = await sb.get("/leads/query?limit=100&page=1");
  assert.equal(limitOk.status, 200);
});

test("strange query strings do not break anything", async () => {
  for (const qs of ["%zz=1&&=&a==b", "state=%E0%A4%A", "__proto__=x&constructor=y", "limit=20&limit=abc", "phone=%00", "email="]) {
    const res = await sb.get(`/leads/query?${qs}`);
    assert.equal(res.status, 200, qs);
    assert.equal(res.body.success, true);
  }
});
