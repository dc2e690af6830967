// The Redis store (pkg-template/redis.mjs, the package's `vox-crm/redis`) against a real
// redis-server started for this file: the shared cases of tests/store-cases.json through a
// node-redis and an ioredis client, then what a user would notice: nothing secret in Redis,
// every key expiring (and generations of lead keys dropped), prefixes and namespaces apart, a
// flushed script cache or a restarted server, clear errors, and atomicity under concurrency.

import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { after, before, test } from "node:test";
import Redis from "ioredis";
import { createClient } from "redis";
import { redisStore, script } from "../../pkg-template/redis.mjs";
import { startRedis } from "./redis-server.mjs";

const CASES = JSON.parse(readFileSync(new URL("../store-cases.json", import.meta.url), "utf8"));
const T = { timeout: 30000 };

let server;
const clients = {}; // kind -> connected client
const opened = [];

async function nodeRedis(url) {
  const c = createClient({ url });
  c.on("error", () => {}); // reconnects are tested below; the errors are expected then
  await c.connect();
  opened.push(() => c.destroy());
  return c;
}
async function ioRedis(url) {
  const c = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 20 });
  c.on("error", () => {});
  await c.connect();
  opened.push(() => c.disconnect());
  return c;
}

before(async () => {
  server = await startRedis();
  clients["node-redis"] = await nodeRedis(server.url);
  clients.ioredis = await ioRedis(server.url);
});
after(async () => {
  for (const close of opened) close();
  await server?.stop();
});

/** Any client's raw command. */
const cmd = (c, ...args) => (typeof c.call === "function" ? c.call(...args) : c.sendCommand(args.map(String)));
const admin = () => clients["node-redis"];
const flushAll = () => cmd(admin(), "FLUSHALL");

// ---- the shared cases ----------------------------------------------------------------------------------

/** Exact match, except that "*" in the expected reply matches any text. */
function matches(want, got) {
  if (want === "*") return typeof got === "string";
  if (want === null || typeof want !== "object") return Object.is(want, got);
  if (got === null || typeof got !== "object" || Array.isArray(want) !== Array.isArray(got)) return false;
  const wk = Object.keys(want).sort();
  const gk = Object.keys(got).sort();
  if (wk.join() !== gk.join()) return false;
  return wk.every((k) => matches(want[k], got[k]));
}

test("store-cases.json is well formed", () => {
  assert.ok(Array.isArray(CASES) && CASES.length >= 20, "at least 20 cases");
  const names = new Set();
  for (const c of CASES) {
    assert.equal(typeof c.name, "string");
    assert.ok(!names.has(c.name), `duplicate case name ${c.name}`);
    names.add(c.name);
    assert.ok(Array.isArray(c.steps) && c.steps.length > 0, c.name);
    c.steps.forEach((s, i) => {
      const where = `${c.name}, step ${i}`;
      assert.deepEqual(Object.keys(s).sort(), ["op", "reply"], where);
      assert.equal(typeof s.op.op, "string", where);
      assert.equal(typeof s.op.now, "number", `${where}: a fixed clock`);
      assert.equal(typeof s.op.ns, "string", where);
      assert.match(s.op.salt, /^[0-9a-f]{16}$/, where);
      for (const [k, v] of Object.entries(s.op)) {
        if (typeof v === "string" && v.startsWith("@")) {
          const n = Number(v.slice(1));
          assert.ok(Number.isInteger(n) && n < i && c.steps[n].reply.ticket === "*", `${where}: ${k} ${v} names an earlier ticket`);
        }
      }
      const keysOf = s.op.op === "claim" ? s.op.leads : s.op.op === "settle" ? s.op.leads.map((l) => l.keys) : [];
      for (const keys of keysOf) for (const k of keys) assert.match(k, /^[0-9a-f]{16}$/, `${where}: lead keys are 16 hex digits`);
      for (const v of Object.values(s.reply)) {
        if (typeof v === "number") assert.ok(Number.isInteger(v), `${where}: integer ms`);
      }
    });
  }
});

for (const kind of ["node-redis", "ioredis"]) {
  for (const c of CASES) {
    test(`${kind}: ${c.name}`, T, async () => {
      await flushAll();
      const store = redisStore(clients[kind]);
      const replies = [];
      for (const [i, step] of c.steps.entries()) {
        const op = Object.fromEntries(
          Object.entries(step.op).map(([k, v]) => {
            if (typeof v === "string" && /^@\d+$/.test(v)) return [k, replies[Number(v.slice(1))].ticket];
            return [k, v];
          }),
        );
        const got = await store.apply(op);
        replies.push(got);
        assert.ok(matches(step.reply, got), `step ${i}: ${JSON.stringify(step.op)}\n  want ${JSON.stringify(step.reply)}\n  got  ${JSON.stringify(got)}`);
      }
    });
  }
}

// ---- what a user would notice ---------------------------------------------------------------------------

/** Every key with its type, TTL and contents as text. */
async function dump(c) {
  const out = [];
  let cursor = "0";
  do {
    const [next, keys] = await cmd(c, "SCAN", cursor, "COUNT", "1000");
    cursor = String(next);
    for (const key of keys) {
      const type = await cmd(c, "TYPE", key);
      const pttl = Number(await cmd(c, "PTTL", key));
      let value;
      if (type === "string") value = await cmd(c, "GET", key);
      else if (type === "zset") value = await cmd(c, "ZRANGE", key, "0", "-1", "WITHSCORES");
      else if (type === "list") value = await cmd(c, "LRANGE", key, "0", "-1");
      else if (type === "hash") value = await cmd(c, "HGETALL", key);
      else if (type === "set") value = await cmd(c, "SMEMBERS", key);
      else value = `<${type}>`;
      out.push({ key, type, pttl, value: JSON.stringify(value) });
    }
  } while (cursor !== "0");
  return out;
}

const hex16 = (s) => createHash("sha256").update(s).digest("hex").slice(0, 16);
/** A lead as the core hands it to the store: its keys hash `phone:<E.164>` / `email:<lowercase>`. */
function lead(phone, email) {
  return { phone, email, keys: [hex16(`phone:${phone}`), hex16(`email:${email}`)] };
}
const TOKEN = "sk_live_Zq8t4mVxR2pL7nK3";
const SALT = hex16(`salt:${TOKEN}`);
const NS = hex16("https://crm.example.com/api/v1|6650a1b2c3d4e5f601234567");

async function realisticTraffic(store, ns = NS) {
  const leads = [
    lead("+919845317206", "asha.rao@example.com"),
    lead("+919812345670", "vikram.iyer@example.org"),
    lead("+917012398456", "meera.k@example.net"),
    lead("+918123456709", "rahul.s@example.in"),
  ];
  const base = { ns, salt: SALT };
  const got = await store.apply({ ...base, op: "claim", leads: leads.map((l) => l.keys), max: 5, windowMs: 600000, dupMs: 120000 });
  assert.deepEqual(got, { leads: [null, null, null, null], remaining: 5 });
  await store.apply({
    ...base,
    op: "settle",
    dupMs: 120000,
    windowMs: 600000,
    knownMs: 3600000,
    leads: [
      { keys: leads[0].keys, created: "6650a1b2c3d4e5f6012345c1" },
      { keys: leads[1].keys, duplicate: true },
      { keys: leads[2].keys, release: true },
      { keys: leads[3].keys, created: "6650a1b2c3d4e5f6012345c4" },
    ],
  });
  const again = await store.apply({ ...base, op: "claim", leads: leads.map((l) => [l.keys[1], l.keys[0]]), max: 5, windowMs: 600000, dupMs: 120000 });
  assert.deepEqual(again, {
    leads: [{ key: 0, id: "6650a1b2c3d4e5f6012345c1" }, { key: 0 }, null, { key: 0, id: "6650a1b2c3d4e5f6012345c4" }],
    remaining: 4,
  });
  const t = await store.apply({ ...base, op: "acquire", requests: 10, windowMs: 1000, leaseMs: 60000 });
  assert.equal(typeof t.ticket, "string");
  await store.apply({ ...base, op: "acquire", requests: 10, windowMs: 1000, leaseMs: 60000 });
  await store.apply({ ...base, op: "complete", ticket: t.ticket, windowMs: 1000 });
  await store.apply({ ...base, op: "pause", ms: 5000, requests: 10, windowMs: 1000 });
  await store.apply({ ...base, op: "block", ms: 30000 });
  return leads;
}

test("no phone, email, token, salt or raw lead key is stored in Redis (keys and values)", T, async () => {
  await flushAll();
  const store = redisStore(clients.ioredis, { secret: "a-server-side-secret" });
  const leads = await realisticTraffic(store);
  const entries = await dump(admin());
  assert.deepEqual(
    entries.map((e) => e.key.slice(`vox:{${NS}}:`.length)).sort(),
    ["blk", "end", "fly", "lg", "lk:0", "rej", "seq"],
    "the traffic wrote every kind of key",
  );
  const forbidden = [TOKEN, SALT, "a-server-side-secret"];
  for (const l of leads) {
    forbidden.push(l.phone, l.phone.slice(1), l.phone.slice(3), l.email, l.email.split("@")[0], ...l.keys);
  }
  for (const e of entries) {
    const text = `${e.key}\n${e.value}`;
    for (const f of forbidden) assert.ok(!text.includes(f), `${JSON.stringify(f)} found in ${e.key} = ${e.value}`);
    assert.ok(e.key.startsWith(`vox:{${NS}}:`), e.key);
  }
});

test("the wire carries no salt, no lead key and no contact (MONITOR)", T, async () => {
  await flushAll();
  const monitor = await clients.ioredis.monitor();
  const seen = [];
  monitor.on("monitor", (_time, args) => seen.push(args.join(" ")));
  const store = redisStore(clients["node-redis"]);
  const leads = await realisticTraffic(store);
  await new Promise((r) => setTimeout(r, 100));
  monitor.disconnect();
  const evals = seen.filter((s) => /^evalsha /i.test(s));
  assert.ok(evals.length >= 8, `EVALSHA seen ${evals.length} times`);
  for (const s of seen) {
    for (const f of [SALT, TOKEN, ...leads.flatMap((l) => [l.phone, l.email, ...l.keys])]) {
      assert.ok(!s.includes(f), `${f} sent to Redis in: ${s.slice(0, 200)}`);
    }
  }
});

test("the secret option changes every lead key's digest", T, async () => {
  await flushAll();
  const l = lead("+919845317206", "asha.rao@example.com");
  const op = { op: "claim", ns: NS, salt: SALT, leads: [l.keys], max: 5, windowMs: 60000, dupMs: 60000 };
  await redisStore(admin(), { prefix: "p1" }).apply(op);
  await redisStore(admin(), { prefix: "p2", secret: "s" }).apply(op);
  await redisStore(admin(), { prefix: "p3" }).apply({ ...op, salt: "ffffffffffffffff" });
  // The lead keys' digests are the fields of each prefix's generation hash (lk:<n>).
  const gens = (await dump(admin())).filter((e) => /:lk:\d+$/.test(e.key));
  assert.equal(gens.length, 3);
  const digests = gens.flatMap((e) => JSON.parse(e.value).filter((_, i) => i % 2 === 0)); // HGETALL: field, value, ...
  assert.equal(digests.length, 6);
  assert.equal(new Set(digests).size, 6, `six distinct digests: ${digests}`);
  for (const d of digests) assert.match(d, /^[A-Za-z0-9_-]{22}$/);
});

test("every key has a time to live within its horizon; lead keys past theirs are not answered, their generation is deleted", T, async () => {
  await flushAll();
  await realisticTraffic(redisStore(admin()));
  const entries = await dump(admin());
  // Each key's TTL is at most the longest horizon of what it holds: the lead keys' generation
  // (lk:<n>) and its state (lg) hold marks for dupMs (120000) and known leads for knownMs (3600000).
  const bound = (key) => {
    const part = key.slice(`vox:{${NS}}:`.length);
    if (["fly", "end", "seq"].includes(part)) return 61000; // leaseMs + windowMs (> the pause's 5000)
    if (part === "blk") return 30000;
    if (part === "rej") return 600000;
    if (/^lk:\d+$/.test(part) || part === "lg") return 3600000;
    return -1;
  };
  const parts = new Set();
  for (const e of entries) {
    const b = bound(e.key);
    assert.ok(b > 0, `unexpected key ${e.key}`);
    assert.ok(e.pttl > 0 && e.pttl <= b, `${e.key}: PTTL ${e.pttl}, horizon ${b}`);
    parts.add(e.key.split(":")[2]);
  }
  assert.deepEqual([...parts].sort(), ["blk", "end", "fly", "lg", "lk", "rej", "seq"]);

  // Known ids and marks past their horizon are not answered, and a generation of lead keys is
  // deleted once every entry in it is past its horizon (a fixed clock, in another project).
  const store = redisStore(admin());
  const ns = "gens";
  const K = `vox:{${ns}}:`;
  const [a, b, c] = [lead("+919845317206", "a@example.com"), lead("+919812345670", "b@example.com"), lead("+917012398456", "c@example.com")];
  const at = (now) => ({ ns, salt: SALT, now });
  const claim = (now, ...leads) => store.apply({ ...at(now), op: "claim", leads: leads.map((l) => l.keys), max: 5, windowMs: 60000, dupMs: 500 });
  const fields = async (n) => Number(await cmd(admin(), "HLEN", `${K}lk:${n}`));
  const exists = async (n) => Number(await cmd(admin(), "EXISTS", `${K}lk:${n}`)) === 1;
  const T0 = 1_000_000;
  // a is created at T0: known for 1000 ms, marked for 500 ms.
  await store.apply({ ...at(T0), op: "settle", dupMs: 500, windowMs: 60000, knownMs: 1000, leads: [{ keys: a.keys, created: "lead-a" }] });
  assert.deepEqual(await claim(T0 + 999, a), { leads: [{ key: 0, id: "lead-a" }], remaining: 5 });
  assert.equal(await fields(0), 2);
  // At T0 + 1000 every entry of generation 0 is past its horizon: it is dropped, a is claimable.
  assert.deepEqual(await claim(T0 + 1000, a), { leads: [null], remaining: 5 });
  assert.equal(await fields(0), 2, "only a's new marks");
  assert.deepEqual(await claim(T0 + 1400, b), { leads: [null], remaining: 5 });
  // Generation 0 has been current for its span (500 ms): c's marks go to generation 1, and
  // generation 0 is still read (b's marks are recent, a's are not).
  assert.deepEqual(await claim(T0 + 1500, c, b, a), { leads: [null, { key: 0 }, null], remaining: 5 });
  assert.ok(await exists(0));
  assert.equal(await fields(1), 4, "c's and a's marks");
  assert.deepEqual(await claim(T0 + 1899, b), { leads: [{ key: 0 }], remaining: 5 });
  // At T0 + 1900 (b's marks, the last of generation 0, are 500 ms old) generation 0 is deleted.
  assert.deepEqual(await claim(T0 + 1900, b), { leads: [null], remaining: 5 });
  assert.ok(!(await exists(0)), "generation 0 deleted");
  assert.deepEqual(await claim(T0 + 1999, c, a), { leads: [{ key: 0 }, { key: 0 }], remaining: 5 });
});

test("two prefixes and two namespaces do not see each other", T, async () => {
  await flushAll();
  const a = redisStore(clients["node-redis"], { prefix: "app-a" });
  const b = redisStore(clients.ioredis, { prefix: "app-b" });
  const acq = (s, ns) => s.apply({ op: "acquire", ns, salt: SALT, requests: 1, windowMs: 1000, leaseMs: 60000 });
  assert.equal(typeof (await acq(a, "n1")).ticket, "string");
  assert.equal(typeof (await acq(b, "n1")).ticket, "string");
  assert.equal(typeof (await acq(a, "n2")).ticket, "string");
  assert.deepEqual(await acq(a, "n1"), { waitMs: -1 });
  assert.deepEqual(await acq(b, "n1"), { waitMs: -1 });
  await a.apply({ op: "block", ns: "n1", salt: SALT, ms: 60000 });
  assert.ok("blockedMs" in (await acq(a, "n1")));
  assert.deepEqual(await acq(b, "n1"), { waitMs: -1 });
  assert.deepEqual(await acq(a, "n2"), { waitMs: -1 });
  const keys = (await dump(admin())).map((e) => e.key);
  for (const k of keys) assert.match(k, /^app-[ab]:\{n[12]\}:/);
  // The same prefix and namespace from another client is the same state.
  assert.deepEqual(await acq(redisStore(clients.ioredis, { prefix: "app-a" }), "n2"), { waitMs: -1 });
});

test("the default prefix is vox (docs/sdk.md) and keys share the project's hash tag", T, async () => {
  await flushAll();
  await realisticTraffic(redisStore(clients.ioredis));
  const keys = (await dump(admin())).map((e) => e.key);
  assert.ok(keys.length >= 7);
  for (const k of keys) {
    assert.ok(k.startsWith(`vox:{${NS}}:`), k);
    // Redis Cluster hashes only the first {...} of a key: every key of the project is in the slot
    // of KEYS[1], the one the cluster clients route EVALSHA by. (The one-node cluster test below
    // checks the routing; a node serving every slot cannot catch a key outside the tag.)
    assert.equal(/\{([^}]*)\}/.exec(k)[1], NS, k);
  }
});

for (const kind of ["node-redis", "ioredis"]) {
  test(`${kind}: after SCRIPT FLUSH the store loads the script again`, T, async () => {
    await flushAll();
    const store = redisStore(clients[kind]);
    const op = { op: "acquire", ns: "flush", salt: SALT, requests: 5, windowMs: 1000, leaseMs: 60000 };
    assert.equal(typeof (await store.apply(op)).ticket, "string");
    await cmd(admin(), "SCRIPT", "FLUSH");
    assert.deepEqual((await cmd(admin(), "SCRIPT", "EXISTS", script.sha)).map(Number), [0]);
    assert.equal(typeof (await store.apply(op)).ticket, "string");
    assert.deepEqual((await cmd(admin(), "SCRIPT", "EXISTS", script.sha)).map(Number), [1]);
    // Concurrent calls on an empty cache all succeed.
    await cmd(admin(), "SCRIPT", "FLUSH");
    const replies = await Promise.all(Array.from({ length: 20 }, () => store.apply({ ...op, requests: 100 })));
    assert.ok(replies.every((r) => typeof r.ticket === "string"));
  });
}

test("after a Redis crash and restart (empty, no script cache) both clients' stores work again", { timeout: 60000 }, async () => {
  const stores = { "node-redis": redisStore(clients["node-redis"]), ioredis: redisStore(clients.ioredis) };
  const op = { op: "claim", ns: "restart", salt: SALT, leads: [["0123456789abcdef"]], max: 5, windowMs: 60000, dupMs: 60000 };
  assert.deepEqual(await stores.ioredis.apply(op), { leads: [null], remaining: 5 });
  await server.kill();
  await server.start();
  // Nothing survived (no persistence): the lead is claimable again, and the script is reloaded.
  assert.deepEqual(await stores["node-redis"].apply(op), { leads: [null], remaining: 5 });
  assert.deepEqual(await stores.ioredis.apply(op), { leads: [{ key: 0 }], remaining: 5 });
  assert.deepEqual((await cmd(admin(), "SCRIPT", "EXISTS", script.sha)).map(Number), [1]);
});

test("redisStore refuses anything but a node-redis or ioredis client with a clear TypeError", () => {
  for (const bad of [undefined, null, 42, "redis://127.0.0.1:6379", {}, { get() {} }, () => {}, { sendCommand: 1 }, new Map()]) {
    assert.throws(
      () => redisStore(bad),
      (e) => {
        assert.ok(e instanceof TypeError, `${e}`);
        assert.match(e.message, /node-redis/);
        assert.match(e.message, /ioredis/);
        return true;
      },
      `redisStore(${String(bad)})`,
    );
  }
  assert.throws(() => redisStore(admin(), { prefix: "" }), TypeError);
  assert.throws(() => redisStore(admin(), { secret: 5 }), TypeError);
  assert.equal(redisStore(admin()).kind, "redis");
  assert.equal(redisStore(clients.ioredis).kind, "redis");
});

test("apply rejects malformed ops with a clear error (and sends no salt-less claim)", T, async () => {
  const store = redisStore(admin());
  await assert.rejects(store.apply({ op: "claim", ns: "x", leads: [["a"]], max: 1, windowMs: 1, dupMs: 1 }), /salt/);
  await assert.rejects(store.apply({ op: "nope", ns: "x", salt: SALT }), /unknown op/);
  await assert.rejects(store.apply({ op: "acquire", salt: SALT }), /ns/);
  await assert.rejects(store.apply({ op: "acquire", ns: "x", salt: SALT, requests: "3", windowMs: 1000, leaseMs: 1000 }), /acquire\.requests/);
  await assert.rejects(store.apply({ op: "complete", ns: "x", salt: SALT, windowMs: 1000 }), /ticket/);
});

for (const kind of ["node-redis", "ioredis"]) {
  test(`${kind}: 200 concurrent acquires with requests=100 grant exactly 100 tickets`, T, async () => {
    await flushAll();
    const store = redisStore(clients[kind]);
    const op = { op: "acquire", ns: "burst", salt: SALT, requests: 100, windowMs: 1000, leaseMs: 60000 };
    const replies = await Promise.all(Array.from({ length: 200 }, () => store.apply(op)));
    const tickets = replies.filter((r) => "ticket" in r).map((r) => r.ticket);
    assert.equal(tickets.length, 100);
    assert.equal(new Set(tickets).size, 100, "distinct tickets");
    assert.ok(replies.filter((r) => !("ticket" in r)).every((r) => matches({ waitMs: -1 }, r)));
  });
}

test("two clients and two stores racing share one window: 100 tickets of 300 calls", T, async () => {
  await flushAll();
  const io2 = await ioRedis(server.url);
  const stores = [redisStore(clients["node-redis"]), redisStore(clients.ioredis), redisStore(io2)];
  const op = { op: "acquire", ns: "race", salt: SALT, requests: 100, windowMs: 1000, leaseMs: 60000 };
  const replies = await Promise.all(Array.from({ length: 300 }, (_, i) => stores[i % 3].apply(op)));
  const tickets = replies.filter((r) => "ticket" in r).map((r) => r.ticket);
  assert.equal(tickets.length, 100);
  assert.equal(new Set(tickets).size, 100);
  // Completing them all lets the next come after the window, measured by Redis's own clock.
  await Promise.all(tickets.map((ticket, i) => stores[i % 3].apply({ op: "complete", ns: "race", salt: SALT, ticket, windowMs: 1000 })));
  const w = await stores[0].apply(op);
  assert.ok(Number.isInteger(w.waitMs) && w.waitMs >= 1 && w.waitMs <= 1000, JSON.stringify(w));
});

// ---- Redis Cluster clients (a one-node cluster serving every slot) -----------------------------------

test("cluster clients: node-redis createCluster and ioredis Cluster run the shared cases, also after SCRIPT FLUSH", { timeout: 60000 }, async (t) => {
  const node = await startRedis({ cluster: true });
  t.after(() => node.stop());
  const { createCluster } = await import("redis");
  const nc = createCluster({ rootNodes: [{ url: node.url }] });
  nc.on("error", () => {});
  t.after(() => nc.destroy());
  await nc.connect();
  const ic = new Redis.Cluster([{ host: "127.0.0.1", port: node.port }]);
  t.after(() => ic.disconnect()); // before any wait: a client left reconnecting keeps the process alive
  ic.on("error", () => {});
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`ioredis Cluster not ready: ${ic.status}`)), 10000);
    ic.once("ready", () => {
      clearTimeout(timer);
      resolve();
    });
  });
  const direct = new Redis(node.url);
  t.after(() => direct.disconnect());
  let run = 0;
  for (const [kind, client] of [
    ["node-redis cluster", nc],
    ["ioredis Cluster", ic],
  ]) {
    const store = redisStore(client);
    for (const c of CASES) {
      run++;
      await direct.call("SCRIPT", "FLUSH");
      const replies = [];
      for (const [i, step] of c.steps.entries()) {
        // A namespace per run instead of FLUSHALL between cases.
        const op = Object.fromEntries(
          Object.entries(step.op).map(([k, v]) => {
            if (typeof v === "string" && /^@\d+$/.test(v)) return [k, replies[Number(v.slice(1))].ticket];
            if (k === "ns") return [k, `${v}-${run}`];
            return [k, v];
          }),
        );
        const got = await store.apply(op);
        replies.push(got);
        assert.ok(matches(step.reply, got), `${kind}: ${c.name}, step ${i}: want ${JSON.stringify(step.reply)}, got ${JSON.stringify(got)}`);
      }
    }
  }
  assert.equal(run, 2 * CASES.length);
});
