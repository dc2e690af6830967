// queryLeads and iterateLeads against the sandbox.

import assert from "node:assert/strict";
import { test } from "node:test";
import {
  assertPlain,
  auditSecrets,
  expectVoxError,
  leadInput,
  national,
  recordBulk,
  recordingFetch,
  SALES,
  SUPPORT,
  sleep,
  T,
  uid,
  useSandbox,
  VoxClient,
} from "./helpers.mjs";

const sb = useSandbox();

// A group of 12 leads: 7 Sales (2 of them moved to "lost"), 5 Support, all created with init:false.
const G = uid("group-");
const leads = { sales: [], support: [], lost: [] };

sb.before(async () => {
  const client = sb.client();
  for (let i = 0; i < 7; i++) leads.sales.push(await client.initiateLead(leadInput({ groupId: G }), { init: false }));
  for (let i = 0; i < 5; i++) leads.support.push(await client.initiateLead(leadInput({ groupId: G, processId: SUPPORT }), { init: false }));
  for (const lead of leads.sales.slice(0, 2)) {
    await client.updateLead({ leadId: lead._id }, { targetState: "lost", disposition: "wrong_number" });
    leads.lost.push(lead);
  }
});

const ids = (list) => list.map((l) => l._id).sort();

test("queryLeads returns a page of leads with pagination totals", T, async () => {
  const client = sb.client();
  const page1 = await client.queryLeads({ groupId: G, limit: 5 });
  assertPlain(page1, "query result");
  assert.equal(page1.page, 1);
  assert.equal(page1.limit, 5);
  assert.equal(page1.total, 12);
  assert.equal(page1.totalPages, 3);
  assert.equal(page1.hasNextPage, true);
  assert.equal(page1.leads.length, 5);
  for (const l of page1.leads) {
    assert.equal(l.groupId, G);
    assert.ok(!("activities" in l));
  }
  const page3 = await client.queryLeads({ groupId: G, limit: 5, page: 3 });
  assert.equal(page3.page, 3);
  assert.equal(page3.leads.length, 2);
  assert.equal(page3.hasNextPage, false);
  const page2 = await client.queryLeads({ groupId: G, limit: 5, page: 2 });
  const all = [...page1.leads, ...page2.leads, ...page3.leads];
  assert.deepEqual(ids(all), ids([...leads.sales, ...leads.support]), "the three pages hold every lead once");
});

test("queryLeads with no query uses the defaults (page 1, limit 20)", T, async () => {
  const client = sb.client();
  const res = await client.queryLeads();
  assert.equal(res.page, 1);
  assert.equal(res.limit, 20);
  assert.ok(res.total >= 12);
  assert.equal(res.leads.length, Math.min(20, res.total));
});

test("queryLeads filters by processId, state, disposition, referenceId, phone and email", T, async () => {
  const client = sb.client();
  const bySupport = await client.queryLeads({ groupId: G, processId: SUPPORT });
  assert.deepEqual(ids(bySupport.leads), ids(leads.support));
  const bySales = await client.queryLeads({ groupId: G, processId: SALES, state: "new" });
  assert.deepEqual(ids(bySales.leads), ids(leads.sales.slice(2)));
  const lost = await client.queryLeads({ groupId: G, state: "lost" });
  assert.deepEqual(ids(lost.leads), ids(leads.lost));
  const byDisposition = await client.queryLeads({ groupId: G, disposition: "wrong_number" });
  assert.deepEqual(ids(byDisposition.leads), ids(leads.lost));
  const target = leads.support[2];
  const byRef = await client.queryLeads({ referenceId: target.referenceId, processId: SUPPORT });
  assert.deepEqual(ids(byRef.leads), [target._id]);
  const byPhone = await client.queryLeads({ phone: target.phone });
  assert.deepEqual(ids(byPhone.leads), [target._id]);
  const byNationalPhone = await client.queryLeads({ phone: national(target.phone) });
  assert.deepEqual(ids(byNationalPhone.leads), [target._id], "a national-format phone filter finds the lead");
});

test("queryLeads filters by email", T, async () => {
  const client = sb.client();
  const email = `${uid("Query")}@Example.com`;
  const lead = await client.initiateLead(leadInput({ email }), { init: false });
  const res = await client.queryLeads({ email: email.toLowerCase() });
  assert.deepEqual(ids(res.leads), [lead._id]);
  const mixed = await client.queryLeads({ email });
  assert.deepEqual(ids(mixed.leads), [lead._id]);
});

test("queryLeads sorts by createdAt or updatedAt, ascending or descending", T, async () => {
  const rec = recordingFetch();
  const client = sb.client({ fetch: rec.fetch });
  const asc = await client.queryLeads({ groupId: G, sort: "createdAt", order: "asc", limit: 100 });
  const desc = await client.queryLeads({ groupId: G, sort: "createdAt", order: "desc", limit: 100 });
  assert.equal(asc.leads.length, 12);
  assert.deepEqual(
    asc.leads.map((l) => l._id),
    desc.leads.map((l) => l._id).reverse(),
  );
  const created = asc.leads.map((l) => l.createdAt);
  assert.deepEqual(created, [...created].sort(), "ascending createdAt");
  const creationOrder = [...leads.sales, ...leads.support].map((l) => l._id);
  assert.deepEqual(
    asc.leads.map((l) => l._id),
    creationOrder,
    "createdAt ascending is creation order",
  );
  const byUpdate = await client.queryLeads({ groupId: G, sort: "updatedAt", order: "desc", limit: 100 });
  const lastUpdated = byUpdate.leads
    .slice(0, 2)
    .map((l) => l._id)
    .sort();
  assert.deepEqual(lastUpdated, ids(leads.lost), "the two updated leads come first by updatedAt desc");
  const url = new URL(rec.calls[0].url);
  assert.equal(url.searchParams.get("sort"), "createdAt");
  assert.equal(url.searchParams.get("order"), "asc");
  assert.equal(url.searchParams.get("limit"), "100");
  assert.equal(url.searchParams.get("groupId"), G);
});

test("queryLeads filters by creation time with Date objects and ISO strings", T, async () => {
  const rec = recordingFetch();
  const client = sb.client({ fetch: rec.fetch });
  const group = uid("time-");
  const make = async () => client.initiateLead(leadInput({ groupId: group }), { init: false });
  await make();
  await sleep(15);
  const from = new Date();
  await sleep(5);
  const middle = [await make(), await make()];
  await sleep(5);
  const to = new Date();
  await sleep(15);
  await make();
  const withDates = await client.queryLeads({ groupId: group, createdFrom: from, createdTo: to });
  assert.deepEqual(ids(withDates.leads), ids(middle));
  const url = new URL(rec.calls.at(-1).url);
  assert.equal(Date.parse(url.searchParams.get("createdFrom")), from.getTime(), "a Date is sent as an ISO time");
  const withStrings = await client.queryLeads({ groupId: group, createdFrom: from.toISOString(), createdTo: to.toISOString() });
  assert.deepEqual(ids(withStrings.leads), ids(middle));
  const updatedLater = await client.queryLeads({ groupId: group, updatedFrom: to });
  assert.equal(updatedLater.total, 1);
});

test("queryLeads with masked:true masks the phones", T, async () => {
  const client = sb.client();
  const res = await client.queryLeads({ groupId: G, masked: true, limit: 100 });
  assert.equal(res.leads.length, 12);
  for (const l of res.leads) assert.match(l.phone, /^\+\*{8}\d{4}$/);
});

test("queryLeads refuses malformed queries with invalid_argument before any request", T, async () => {
  const rec = recordingFetch();
  const client = sb.client({ fetch: rec.fetch });
  await expectVoxError(() => client.queryLeads({ limit: 500 }), "invalid_argument", { message: /limit/ });
  await expectVoxError(() => client.queryLeads({ limit: 0 }), "invalid_argument");
  await expectVoxError(() => client.queryLeads({ limit: "ten" }), "invalid_argument");
  await expectVoxError(() => client.queryLeads({ createdFrom: "not a date" }), "invalid_argument");
  await expectVoxError(() => client.queryLeads("groupId=x"), "invalid_argument");
  assert.equal(rec.calls.length, 0, "no request was made");
});

test("iterateLeads yields every lead of every page exactly once", T, async () => {
  const client = sb.client();
  const group = uid("iter-");
  const made = await client.bulkInitiateLeads(
    Array.from({ length: 45 }, () => leadInput({ groupId: group })),
    { init: false },
  );
  recordBulk(made);
  assert.equal(made.created.length, 45);
  const seen = [];
  for await (const lead of client.iterateLeads({ groupId: group, limit: 10 })) {
    assert.equal(lead.groupId, group);
    seen.push(lead._id);
  }
  assert.equal(seen.length, 45, "45 leads yielded");
  assert.equal(new Set(seen).size, 45, "no lead twice");
  assert.deepEqual([...seen].sort(), ids(made.created.map((c) => c.lead)));
});

test("iterateLeads yields each lead once when new leads are added between pages", T, async () => {
  const client = sb.client();
  const group = uid("iter-add-");
  const made = await client.bulkInitiateLeads(
    Array.from({ length: 25 }, () => leadInput({ groupId: group })),
    { init: false },
  );
  recordBulk(made);
  const original = ids(made.created.map((c) => c.lead));
  const seen = [];
  let added = false;
  for await (const lead of client.iterateLeads({ groupId: group, limit: 10 })) {
    seen.push(lead._id);
    if (seen.length === 10 && !added) {
      added = true;
      for (let i = 0; i < 5; i++) await sb.createRaw({ ...leadInput({ groupId: group }) });
    }
  }
  const counts = new Map();
  for (const id of seen) counts.set(id, (counts.get(id) ?? 0) + 1);
  const twice = [...counts].filter(([, n]) => n > 1).map(([id]) => id);
  assert.deepEqual(twice, [], "no lead is yielded twice");
  for (const id of original) assert.ok(counts.has(id), `lead ${id} that existed before is yielded`);
});

test("iterateLeads in ascending order also yields each lead once when leads are added", T, async () => {
  const client = sb.client();
  const group = uid("iter-asc-");
  const made = await client.bulkInitiateLeads(
    Array.from({ length: 15 }, () => leadInput({ groupId: group })),
    { init: false },
  );
  recordBulk(made);
  const seen = [];
  for await (const lead of client.iterateLeads({ groupId: group, limit: 5, order: "asc" })) {
    seen.push(lead._id);
    if (seen.length === 5) for (let i = 0; i < 3; i++) await sb.createRaw({ ...leadInput({ groupId: group }) });
  }
  assert.equal(new Set(seen).size, seen.length, "no lead twice");
  for (const c of made.created) assert.ok(seen.includes(c.lead._id));
});

test("iterateLeads can be left early and rejects a malformed query", T, async () => {
  const client = sb.client();
  let n = 0;
  for await (const lead of client.iterateLeads({ groupId: G, limit: 5 })) {
    assert.equal(lead.groupId, G);
    if (++n === 3) break;
  }
  assert.equal(n, 3);
  await expectVoxError(async () => {
    for await (const _ of client.iterateLeads({ limit: 500 })) {
      /* nothing */
    }
  }, "invalid_argument");
});

/**
 * A client whose `fetch` serves pages of `size` leads (`pages` of them) from memory and records
 * each request; `hold(page)` true keeps that page's answer until its request is aborted.
 */
function pagedClient({ pages, size, hold = () => false, status = () => 200 }) {
  const requests = [];
  const fetch = (url, init) => {
    const page = Number(new URL(url).searchParams.get("page"));
    const req = { page, signal: init.signal };
    requests.push(req);
    if (hold(page)) {
      return new Promise((_, reject) => init.signal.addEventListener("abort", () => reject(init.signal.reason), { once: true }));
    }
    const data = Array.from({ length: size }, (_, i) => ({ _id: `6650a1b2c3d4e5f6${(page * 1000 + i).toString(16).padStart(8, "0")}`, name: `L${page}.${i}` }));
    const body =
      status(page) === 200
        ? { data, pagination: { page, limit: size, total: pages * size, totalPages: pages, hasNextPage: page < pages } }
        : { success: false, message: "Invalid page" };
    return Promise.resolve(new Response(JSON.stringify(body), { status: status(page), headers: { "content-type": "application/json" } }));
  };
  const client = new VoxClient({ projectId: "6650a1b2c3d4e5f601234567", token: "sk_test_x", baseUrl: "http://127.0.0.1:9/api/v1", rateLimit: false, fetch });
  return { client, requests };
}

test("iterateLeads asks for the next page while the caller reads one, and no page past the last", T, async () => {
  const { client, requests } = pagedClient({ pages: 3, size: 4 });
  const it = client.iterateLeads({ limit: 4 })[Symbol.asyncIterator]();
  const first = await it.next();
  assert.equal(first.value.name, "L1.0");
  await sleep(20);
  assert.deepEqual(
    requests.map((r) => r.page),
    [1, 2],
    "page 2 is asked for while the caller still reads page 1",
  );
  const names = [first.value.name];
  for (let r = await it.next(); !r.done; r = await it.next()) names.push(r.value.name);
  assert.equal(names.length, 12, "every lead once");
  assert.deepEqual(new Set(names).size, 12);
  assert.deepEqual(
    requests.map((r) => r.page),
    [1, 2, 3],
    "the last page says there is none after it: nothing is asked for ahead of it",
  );
});

test("iterateLeads left early aborts the page it asked for ahead", T, async () => {
  const { client, requests } = pagedClient({ pages: 5, size: 3, hold: (p) => p === 2 });
  let n = 0;
  for await (const _ of client.iterateLeads({ limit: 3 })) {
    if (++n === 2) {
      await sleep(20);
      break;
    }
  }
  assert.deepEqual(
    requests.map((r) => r.page),
    [1, 2],
  );
  assert.equal(requests[1].signal.aborted, true, "the request for page 2 is aborted");
  await sleep(20);
  assert.equal(requests.length, 2, "and not made again");
});

test("iterateLeads: a failure of the page asked for ahead reaches the caller after the page before it", T, async () => {
  const { client } = pagedClient({ pages: 3, size: 3, status: (p) => (p === 2 ? 400 : 200) });
  const names = [];
  await expectVoxError(async () => {
    for await (const lead of client.iterateLeads({ limit: 3 })) {
      names.push(lead.name);
      await sleep(5);
    }
  }, "bad_request");
  assert.deepEqual(names, ["L1.0", "L1.1", "L1.2"], "page 1 whole, then the error");
});

auditSecrets();
