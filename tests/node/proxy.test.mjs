// vox-crm/proxy against the sandbox: a page's VoxClient (no token, baseUrl the proxy) makes every
// call through it; what the allow-list omits, what comes from elsewhere, what is too large, what
// carries its own Authorization is refused before any request reaches the sandbox; authorize's
// narrowing is applied; per-visitor limits hold one visitor back and let another through; the
// server-side client's rate limiter and duplicate guard still stand behind it.

import assert from "node:assert/strict";
import { once } from "node:events";
import { createServer, request as httpRequest } from "node:http";
import { test } from "node:test";
import { Worker } from "node:worker_threads";
import { createClient } from "redis";
import { createProxyHandler, toNodeHandler } from "../../dist/vox-crm/proxy.mjs";
import { redisStore } from "../../dist/vox-crm/redis.mjs";
import {
  auditSecrets,
  expectVoxError,
  leadInput,
  MISSING_ID,
  PROJECT_ID,
  SALES,
  SUPPORT,
  T,
  TOKEN,
  uniquePhone,
  useSandbox,
  VoxClient,
  waitFor,
} from "./helpers.mjs";
import { startRedis } from "./redis-server.mjs";

const ctx = useSandbox();

/** A proxy on loopback: { url (its origin), base (the page's baseUrl), handler, events, close() }. */
async function startProxy(options = {}) {
  const events = [];
  const handler = createProxyHandler({
    projectId: PROJECT_ID,
    token: TOKEN,
    baseUrl: ctx.url,
    basePath: "/api/vox",
    logger: (e) => events.push(e),
    ...options,
  });
  const server = createServer(toNodeHandler(handler));
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${server.address().port}`;
  return {
    url,
    base: `${url}/api/vox`,
    handler,
    events,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(resolve);
      }),
  };
}

/** A page's `fetch` that adds the signed-in user's header (what a session cookie does in a browser). */
const asUser = (user) => (url, init) => {
  const headers = new Headers(init.headers);
  headers.set("x-user", user);
  return fetch(url, { ...init, headers });
};

/** The page's client: no token, the proxy as its API. */
const pageClient = (proxy, opts = {}) => new VoxClient({ projectId: PROJECT_ID, baseUrl: proxy.base, maxRetries: 0, ...opts });

async function raw(proxy, method, path, { body, headers = {}, text } = {}) {
  const res = await fetch(proxy.base + path, {
    method,
    headers: { ...(body !== undefined || text !== undefined ? { "content-type": "application/json" } : {}), ...headers },
    body: text ?? (body === undefined ? undefined : JSON.stringify(body)),
  });
  const t = await res.text();
  let json;
  try {
    json = JSON.parse(t);
  } catch {
    json = undefined;
  }
  return { status: res.status, body: json, headers: res.headers, text: t };
}

/** Sandbox requests made while `fn` runs. */
async function sandboxRequests(fn) {
  const before = (await ctx.stats()).requests;
  await fn();
  return (await ctx.stats()).requests - before;
}

const ALL = ["initiateLead", "initiateExistingLead", "bulkInitiateLeads", "bulkInitiateExisting", "updateLead", "getLead", "iterateLeads", "getActivity"];

test("every call of the SDK works from a page's client through the proxy", T, async () => {
  const proxy = await startProxy({ allow: ALL });
  try {
    const page = pageClient(proxy);
    const lead = await page.initiateLead(leadInput({ metadata: { source: "page" } }), { init: false });
    assert.match(lead._id, /^[0-9a-f]{24}$/);
    assert.equal(lead.success, undefined, "the envelope's success is not the lead's");
    assert.deepEqual(lead.metadata, { source: "page" });
    const again = await page.initiateExistingLead(lead._id, { init: false });
    assert.equal(again._id, lead._id);

    const leads = [leadInput(), leadInput(), leadInput()];
    const bulk = await page.bulkInitiateLeads(leads, { init: false });
    assert.equal(bulk.created.length, 3, JSON.stringify(bulk));
    assert.deepEqual(bulk.created.map((c) => c.index).sort(), [0, 1, 2]);
    const existing = await page.bulkInitiateExisting([bulk.created[0].lead._id, MISSING_ID]);
    assert.equal(existing.created.length, 1);
    assert.equal(existing.failed[0].error.code, "bad_request");
    assert.match(existing.failed[0].error.message, /not found/);

    const update = await page.updateLead({ leadId: lead._id }, { metadata: { tier: "gold" } });
    assert.match(update.updateId, /^[0-9a-f]{24}$/);
    const got = await page.getLead({ referenceId: lead.referenceId, processId: SALES });
    assert.equal(got._id, lead._id);
    assert.equal(got.metadata.tier, "gold");
    assert.ok(Array.isArray(got.activities));

    const seen = [];
    for await (const l of page.iterateLeads({ processId: SALES, limit: 2 })) seen.push(l._id);
    assert.ok(seen.includes(lead._id) && seen.length >= 4, `iterated ${seen.length}`);
    const q = await page.queryLeads({ referenceId: lead.referenceId });
    assert.deepEqual([q.total, q.leads[0]._id, q.hasNextPage], [1, lead._id, false]);

    const called = await page.initiateLead(leadInput(), { init: true });
    const withCall = await waitFor(
      async () => {
        const l = await page.getLead({ leadId: called._id });
        return l.activities.length ? l : null;
      },
      { what: "an activity" },
    );
    const activity = await page.getActivity(withCall.activities[0]._id);
    assert.equal(activity.leadId, called._id);

    await expectVoxError(() => page.getLead({ leadId: MISSING_ID }), "not_found", { status: 404, message: /not found/ });
  } finally {
    await proxy.close();
  }
});

test("what the allow-list omits is refused with 403, and nothing reaches the sandbox", T, async () => {
  const proxy = await startProxy({ allow: ["initiateLead", "getLead"] });
  try {
    const page = pageClient(proxy);
    const lead = await page.initiateLead(leadInput(), { init: false });
    const n = await sandboxRequests(async () => {
      await expectVoxError(() => page.initiateExistingLead(lead._id), "forbidden", { status: 403, message: /initiateExistingLead is not allowed/ });
      await expectVoxError(() => page.queryLeads({}), "forbidden", { status: 403 });
      await expectVoxError(() => page.iterateLeads({})[Symbol.asyncIterator]().next(), "forbidden", { status: 403 });
      await expectVoxError(() => page.updateLead({ leadId: lead._id }, { name: "X Y" }), "forbidden", { status: 403 });
      await expectVoxError(() => page.getActivity(MISSING_ID), "forbidden", { status: 403 });
      const bulk = await page.bulkInitiateLeads([leadInput()]);
      assert.equal(bulk.failed[0].error.code, "forbidden");
      const existing = await page.bulkInitiateExisting([lead._id]);
      assert.equal(existing.failed[0].error.code, "forbidden");
    });
    assert.equal(n, 0, "no request reached the sandbox");
    assert.ok(proxy.events.some((e) => e.type === "proxy_refused" && e.status === 403 && e.path === "/api/vox/leads/query"));
    assert.equal((await page.getLead({ leadId: lead._id })).processId, SALES, "what is allowed still works");
  } finally {
    await proxy.close();
  }
});

test("a bad allow-list or option is refused when the handler is made", () => {
  for (const allow of [undefined, [], ["deleteLead"], ["GET /leads/delete"], "getLead"]) {
    assert.throws(
      () => createProxyHandler({ projectId: PROJECT_ID, token: TOKEN, allow }),
      (e) => e.code === "invalid_argument" && /allow/.test(e.message),
    );
  }
  assert.throws(() => createProxyHandler({ projectId: PROJECT_ID, allow: ["getLead"] }), /token is required/);
  assert.throws(
    () => createProxyHandler({ projectId: 42, token: TOKEN, allow: ["getLead"] }),
    (e) => e.code === "invalid_argument",
  );
  assert.throws(() => createProxyHandler({ projectId: PROJECT_ID, token: TOKEN, allow: ["getLead"], allowedOrigins: ["https://a.example/path"] }), /origin/);
  // An endpoint allows each of its calls.
  createProxyHandler({ projectId: PROJECT_ID, token: TOKEN, allow: ["POST /leads/initiate", "GET  /leads/get"] });
});

test("a page's own Authorization, a path outside the API, another host, a large body and another origin are refused", T, async () => {
  const proxy = await startProxy({ allow: ALL, maxBodyBytes: 4096, allowedOrigins: ["http://app.example"] });
  try {
    const lead = { lead: leadInput() };
    const n = await sandboxRequests(async () => {
      const auth = await raw(proxy, "POST", "/leads/initiate", { body: lead, headers: { authorization: "Bearer sk_live_from_the_page" } });
      assert.equal(auth.status, 400);
      assert.match(auth.body.error, /Authorization header/);
      for (const path of ["/leads/delete", "/../admin", "/projects", "/leads/get/extra", "/", ""]) {
        assert.equal((await raw(proxy, "GET", path)).status, 404, path);
      }
      assert.equal((await fetch(`${proxy.url}/other/leads/get?leadId=${MISSING_ID}`)).status, 404, "outside basePath");
      assert.equal((await raw(proxy, "DELETE", "/leads/get")).status, 405);
      assert.equal((await raw(proxy, "GET", "/leads/initiate")).headers.get("allow"), "POST");
      // An absolute-form request target (a proxy request for another host).
      const absolute = await new Promise((resolve, reject) => {
        const u = new URL(proxy.url);
        const req = httpRequest(
          { host: u.hostname, port: u.port, method: "GET", path: `http://evil.example/api/vox/leads/get?leadId=${MISSING_ID}` },
          (res) => {
            res.resume();
            resolve(res.statusCode);
          },
        );
        req.on("error", reject);
        req.end();
      });
      assert.equal(absolute, 400);
      // Too large: said by Content-Length, and streamed without one.
      const big = { leads: Array.from({ length: 60 }, () => leadInput()) };
      const declared = await raw(proxy, "POST", "/leads/bulk/initiate", { body: big });
      assert.equal(declared.status, 413);
      const streamed = await fetch(proxy.base + "/leads/bulk/initiate", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: new ReadableStream({
          start(c) {
            c.enqueue(new TextEncoder().encode(JSON.stringify(big)));
            c.close();
          },
        }),
        duplex: "half",
      });
      assert.equal(streamed.status, 413);
      assert.equal((await raw(proxy, "POST", "/leads/initiate", { text: "{not json" })).status, 400);
      assert.equal((await raw(proxy, "POST", "/leads/initiate", { body: lead, headers: { "content-type": "text/plain" } })).status, 415);
      // Another origin, and a browser's cross-site fetch without an Origin.
      const evil = await raw(proxy, "POST", "/leads/initiate", { body: lead, headers: { origin: "http://evil.example" } });
      assert.equal(evil.status, 403);
      assert.match(evil.body.error, /cross-origin/);
      assert.equal((await raw(proxy, "GET", `/leads/get?leadId=${MISSING_ID}`, { headers: { "sec-fetch-site": "cross-site" } })).status, 403);
      const preflight = await raw(proxy, "OPTIONS", "/leads/initiate", { headers: { origin: "http://evil.example", "access-control-request-method": "POST" } });
      assert.equal(preflight.status, 403);
    });
    assert.equal(n, 0, "no request reached the sandbox");

    // Same origin, and the listed origin (CORS), get through.
    const same = await raw(proxy, "GET", `/leads/get?leadId=${MISSING_ID}`, { headers: { origin: proxy.url, "sec-fetch-site": "same-origin" } });
    assert.equal(same.status, 404);
    const preflight = await raw(proxy, "OPTIONS", "/leads/initiate", { headers: { origin: "http://app.example", "access-control-request-method": "POST" } });
    assert.equal(preflight.status, 204);
    assert.equal(preflight.headers.get("access-control-allow-origin"), "http://app.example");
    assert.match(preflight.headers.get("access-control-allow-headers"), /content-type/);
    const listed = await raw(proxy, "POST", "/leads/initiate", { body: { lead: leadInput() }, headers: { origin: "http://app.example" } });
    assert.equal(listed.status, 200, listed.text);
    assert.equal(listed.headers.get("access-control-allow-origin"), "http://app.example");
  } finally {
    await proxy.close();
  }
});

test("the token never reaches the page, and the sandbox sees only the server's", T, async () => {
  const proxy = await startProxy({ allow: ALL });
  try {
    const bad = await raw(proxy, "POST", "/leads/initiate", { body: { lead: { ...leadInput(), projectId: "ffffffffffffffffffffffff" } } });
    assert.equal(bad.status, 403);
    assert.equal(bad.body.error, "projectId does not match authenticated project");
    const ok = await raw(proxy, "POST", "/leads/initiate", { body: { lead: leadInput(), init: false }, headers: { cookie: "session=abc" } });
    assert.equal(ok.status, 200);
    for (const r of [bad, ok]) {
      assert.ok(!r.text.includes(TOKEN));
      for (const [, v] of r.headers) assert.ok(!v.includes(TOKEN));
    }
  } finally {
    await proxy.close();
  }
});

test("authorize narrows calls: masked reads, one process, a bulk cap; it may refuse or answer itself", T, async () => {
  const user = (req) => req.headers.get("x-user");
  const proxy = await startProxy({
    allow: ALL,
    authorize: (req, action) => {
      if (!user(req)) return new Response(JSON.stringify({ error: "Sign in first" }), { status: 401 });
      if (user(req) === "mallory") return false;
      if (action.name === "getActivity") return undefined; // a hook that forgets to answer refuses
      return { visitor: user(req), masked: true, processId: SALES, maxBulk: 2 };
    },
  });
  try {
    const page = pageClient(proxy, { fetch: asUser("ann") });
    const phone = uniquePhone();
    const lead = await page.initiateLead(leadInput({ phone }), { init: false });
    assert.notEqual(lead.phone, phone, "the answer's phone is masked");
    assert.ok(lead.phone.endsWith(phone.slice(-4)));
    const filled = await raw(proxy, "POST", "/leads/initiate", { body: { lead: leadInput({ processId: undefined }) }, headers: { "x-user": "ann" } });
    assert.equal(filled.body.processId, SALES, "the fixed process is filled in");
    const read = await page.getLead({ leadId: lead._id });
    assert.equal(read.phone, "+********" + phone.slice(-4), "read with masked=true");
    const q = await page.queryLeads({ referenceId: lead.referenceId });
    assert.equal(q.leads[0].phone, "+********" + phone.slice(-4));

    // Another process: refused, confined or not found.
    await expectVoxError(() => page.initiateLead(leadInput({ processId: SUPPORT })), "forbidden", { status: 403, message: /process/ });
    await expectVoxError(() => page.queryLeads({ processId: SUPPORT }), "forbidden");
    await expectVoxError(() => page.getLead({ referenceId: "x", processId: SUPPORT }), "forbidden");
    const other = await ctx.createRaw({ ...leadInput({ processId: SUPPORT }) });
    await expectVoxError(() => page.getLead({ leadId: other._id }), "not_found", { status: 404 });
    await expectVoxError(() => page.updateLead({ leadId: other._id }, { name: "Changed Name" }), "not_found", { status: 404 });
    await expectVoxError(() => page.initiateExistingLead(other._id), "not_found", { status: 404 });
    const everything = await page.queryLeads({ limit: 100 });
    assert.ok(
      everything.leads.every((l) => l.processId === SALES),
      "queries are confined to the process",
    );

    // The bulk cap: a chunk of more leads is refused.
    const bulk = await page.bulkInitiateLeads([leadInput(), leadInput(), leadInput()], { chunkSize: 3 });
    assert.equal(bulk.failed.length, 3);
    assert.equal(bulk.failed[0].error.status, 413);
    assert.equal((await page.bulkInitiateLeads([leadInput(), leadInput()], { chunkSize: 2 })).created.length, 2);

    // Refusals: no session (the hook's own 401), a refused user, a hook that returned nothing.
    const anon = pageClient(proxy);
    await expectVoxError(() => anon.getLead({ leadId: lead._id }), "forbidden", { status: 401, message: /Sign in first/ });
    const mallory = pageClient(proxy, { fetch: asUser("mallory") });
    await expectVoxError(() => mallory.getLead({ leadId: lead._id }), "forbidden", { status: 403, message: /refused \(authorize\)/ });
    await expectVoxError(() => page.getActivity(MISSING_ID), "forbidden", { status: 403 });
  } finally {
    await proxy.close();
  }
});

test("a visitor over its limit gets 429 with Retry-After while another still gets through", T, async () => {
  const proxy = await startProxy({
    allow: ["getLead", "initiateLead"],
    limit: { requests: 3, perMs: 60000 },
    authorize: (req) => ({ visitor: req.headers.get("x-user") ?? undefined }),
  });
  try {
    const as = (u, opts) => pageClient(proxy, { ...opts, fetch: asUser(u) });
    const ann = as("ann");
    // Without a limiter of its own: in one process the page clients share their 429 pause, which
    // pages in two browsers do not.
    const bob = as("bob", { rateLimit: false });
    for (let i = 0; i < 3; i++) await expectVoxError(() => ann.getLead({ leadId: MISSING_ID }), "not_found");
    const n = await sandboxRequests(() =>
      expectVoxError(() => ann.getLead({ leadId: MISSING_ID }), "rate_limited", { status: 429, message: /too many requests/ }),
    );
    assert.equal(n, 0);
    const limited = await raw(proxy, "GET", `/leads/get?leadId=${MISSING_ID}`, { headers: { "x-user": "ann" } });
    assert.equal(limited.status, 429);
    assert.ok(Number(limited.headers.get("retry-after")) >= 59);
    await expectVoxError(() => bob.getLead({ leadId: MISSING_ID }), "not_found", { label: "another visitor" });
    // Without a visitor from the hook, the client address is the key.
    const byAddress = await startProxy({ allow: ["getLead"], limit: { requests: 1, perMs: 60000 } });
    try {
      assert.equal((await raw(byAddress, "GET", `/leads/get?leadId=${MISSING_ID}`)).status, 404);
      assert.equal((await raw(byAddress, "GET", `/leads/get?leadId=${MISSING_ID}`)).status, 429);
    } finally {
      await byAddress.close();
    }
  } finally {
    await proxy.close();
  }
});

test("a visitor whose leads keep coming back as duplicates cannot spend the project's duplicate budget", T, async () => {
  const proxy = await startProxy({
    allow: ["initiateLead"],
    limit: { requests: 100, perMs: 60000, duplicates: 2 },
    authorize: (req) => ({ visitor: req.headers.get("x-user") }),
  });
  try {
    const post = (user, lead) => raw(proxy, "POST", "/leads/initiate", { body: { lead, init: false }, headers: { "x-user": user } });
    // Two duplicates of leads made elsewhere (the server says so), then the visitor is held back.
    for (let i = 0; i < 2; i++) {
      const taken = await ctx.createRaw(leadInput(), undefined, false);
      const r = await post("eve", leadInput({ referenceId: taken.referenceId }));
      assert.equal(r.status, 400, r.text);
      assert.match(r.body.error, /already exists/);
    }
    const held = await post("eve", leadInput());
    assert.equal(held.status, 429);
    assert.match(held.body.error, /duplicates too often/);
    assert.ok(!/blocked/i.test(held.body.error), "not mistaken for a key block by the page's client");
    assert.equal((await post("sam", leadInput())).status, 200, "another visitor still gets through");
  } finally {
    await proxy.close();
  }
});

test("behind the proxy the library's own traffic rules hold: the duplicate guard and the rate limiter", T, async () => {
  const proxy = await startProxy({ allow: ["initiateLead", "getLead"], limit: false, client: { rateLimit: { requests: 4, perMs: 1000 } } });
  try {
    // Two pages send one phone: the proxy's guard refuses the second. (The second page has no
    // guard of its own: in one process two page clients would share theirs, as pages in two
    // browsers do not.)
    const phone = uniquePhone();
    await pageClient(proxy).initiateLead(leadInput({ phone }), { init: false });
    const n = await sandboxRequests(async () => {
      const second = pageClient(proxy, { duplicateGuard: false });
      await expectVoxError(() => second.initiateLead(leadInput({ phone })), "duplicate_submission", { status: 409, message: /submitted recently/ });
      const r = await raw(proxy, "POST", "/leads/initiate", { body: { lead: leadInput({ phone }) } });
      assert.deepEqual([r.status, r.body.code], [409, "duplicate_submission"]);
    });
    assert.equal(n, 0, "refused by the proxy's guard, not sent");

    // A burst of reads from a page stays within the proxy client's rate (4 per second).
    await ctx.reset();
    const page = pageClient(proxy, { rateLimit: false });
    await Promise.all(Array.from({ length: 12 }, () => page.getLead({ leadId: MISSING_ID }).catch((e) => e.code)));
    const stats = await ctx.stats();
    assert.equal(stats.requests, 12);
    assert.ok(stats.maxRequestsInWindow <= 4 + 1, `at most the limit in any window: ${stats.maxRequestsInWindow}`);
  } finally {
    await proxy.close();
  }
});

test("two proxies in two realms share one duplicate memory through the Redis store", { timeout: 30000 }, async () => {
  const server = await startRedis();
  const redis = createClient({ url: server.url });
  await redis.connect();
  const here = await startProxy({ allow: ["initiateLead"], store: redisStore(redis) });
  const worker = new Worker(new URL("./workers/proxy.mjs", import.meta.url), {
    workerData: { sandboxUrl: ctx.url, redisUrl: server.url, projectId: PROJECT_ID, token: TOKEN },
  });
  try {
    const [{ url }] = await once(worker, "message");
    const phone = uniquePhone();
    const first = await raw(here, "POST", "/leads/initiate", { body: { lead: leadInput({ phone }), init: false } });
    assert.equal(first.status, 200, first.text);
    const n = await sandboxRequests(async () => {
      const res = await fetch(`${url}/leads/initiate`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ lead: leadInput({ phone }), init: false }),
      });
      const body = await res.json();
      assert.deepEqual([res.status, body.code], [409, "duplicate_submission"], JSON.stringify(body));
    });
    assert.equal(n, 0, "the other realm's proxy knew the phone from Redis and sent nothing");
  } finally {
    worker.postMessage("close");
    await once(worker, "exit");
    await here.close();
    await redis.quit();
    await server.stop();
  }
});

test("a Request handler: the web-standard shape, with a client address from Deno's info or Bun's server", T, async () => {
  const handler = createProxyHandler({ projectId: PROJECT_ID, token: TOKEN, baseUrl: ctx.url, allow: ["getLead"], limit: { requests: 1, perMs: 60000 } });
  const req = () => new Request(`http://site.example/anything/leads/get?leadId=${MISSING_ID}`);
  assert.equal((await handler(req(), { remoteAddr: { hostname: "10.0.0.1" } })).status, 404);
  assert.equal((await handler(req(), { remoteAddr: { hostname: "10.0.0.1" } })).status, 429);
  const bun = { requestIP: () => ({ address: "10.0.0.2" }) };
  const res = await handler(req(), bun);
  assert.equal(res.status, 404);
  assert.equal(res.headers.get("content-type"), "application/json; charset=utf-8");
  assert.equal(res.headers.get("cache-control"), "no-store");
  assert.match((await res.json()).error, /not found/);
});

auditSecrets();
