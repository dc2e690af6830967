// Micro-benchmark of the Redis store (pkg-template/redis.mjs) on a real redis-server started for
// this run (tests/node/redis-server.mjs). Per op, two measures of what Redis spends, both from
// Redis itself: the time it counted in the EVALSHA (INFO commandstats) and its process CPU time
// (INFO cpu, user + sys; it also covers reading the request's arguments and writing the reply;
// calibrated by the same measure around a PING), and the round trip of store.apply() from this
// process (which adds the HMAC of every lead key in JS, the JSON and the socket).
//
// Each row's project is first filled with `--fill` created leads (3 keys each), so that the
// project's state is the size of a real import's. The rows marked "steady state" run on a fixed
// clock (the ops' `now`) an hour after a fill spread over 54 minutes: with knownMs of an hour the
// filled entries are then in a previous generation that is still read (pkg-template/redis.mjs).
// Usage: node bench/redis-store.mjs [--runs 25] [--fill 20000] [--store path/to/redis.mjs]
import { randomBytes } from "node:crypto";
import { resolve } from "node:path";
import { performance } from "node:perf_hooks";
import { pathToFileURL } from "node:url";
import { createClient } from "redis";
import { startRedis } from "../tests/node/redis-server.mjs";
import { markdownTable } from "./lib.mjs";

const arg = (name, dflt) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const RUNS = Math.max(20, Number(arg("--runs", 25)));
const WARMUP = 2;
const FILL = Number(arg("--fill", 20000));
const STORE = arg("--store", null);
const { redisStore } = await import(STORE ? pathToFileURL(resolve(STORE)).href : "../pkg-template/redis.mjs");

const SALT = "00112233aabbccdd";
const KNOWN_MS = 3600000;
const LIMITS = { max: 1e9, windowMs: 600000, dupMs: 120000 };
const SETTLE = { dupMs: 120000, windowMs: 600000, knownMs: KNOWN_MS };

const key = () => randomBytes(8).toString("hex");
/** n fresh leads of 3 keys each (phone, email, reference). */
const fresh = (n) => Array.from({ length: n }, () => [key(), key(), key()]);
const leadId = (i) => `6650a1b2c3d4e5f6${String(i).padStart(8, "0")}`;

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

const server = await startRedis();
const client = createClient({ url: server.url });
client.on("error", () => {});
await client.connect();
const store = redisStore(client);

/** { usec: µs Redis counted in EVALSHA so far, cpu: µs of Redis process CPU so far }, one INFO. */
async function counters() {
  const info = String(await client.sendCommand(["INFO", "cpu", "commandstats"]));
  const m = /cmdstat_evalsha:calls=\d+,usec=(\d+)/.exec(info);
  const cpu = Number(/used_cpu_user:([\d.]+)/.exec(info)[1]) + Number(/used_cpu_sys:([\d.]+)/.exec(info)[1]);
  return { usec: m ? Number(m[1]) : 0, cpu: cpu * 1e6 };
}

/** The CPU the measure itself costs (an INFO on each side of a PING). */
async function calibrate() {
  const xs = [];
  for (let i = 0; i < 41; i++) {
    const a = await counters();
    await client.sendCommand(["PING"]);
    const b = await counters();
    xs.push(b.cpu - a.cpu);
  }
  return median(xs);
}

let nsSeq = 0;
/** A project filled with FILL created leads; `at(i)` gives the fill's i-th op's `now` (undefined: Redis TIME). */
async function project(at = () => undefined) {
  const ns = `bench${++nsSeq}`;
  for (let done = 0, i = 0; done < FILL; done += 1000, i++) {
    const leads = fresh(Math.min(1000, FILL - done));
    const now = at(i);
    await store.apply({ op: "claim", ns, salt: SALT, now, leads, ...LIMITS });
    await store.apply({ op: "settle", ns, salt: SALT, now, ...SETTLE, leads: leads.map((keys, j) => ({ keys, created: leadId(done + j) })) });
  }
  return ns;
}

let overhead = 0;
/**
 * One row: `prepare(ns, i)` (not timed) returns the op to time; the op runs WARMUP + RUNS times.
 * Returns the medians { redisMs, cpuMs, roundTripMs }.
 */
async function measure(prepare, steady) {
  let ns;
  if (steady) {
    const fills = Math.ceil(FILL / 1000);
    ns = await project((i) => T0 + (i * 0.9 * KNOWN_MS) / fills);
  } else ns = await project();
  const redis = [];
  const cpu = [];
  const trip = [];
  for (let i = 0; i < WARMUP + RUNS; i++) {
    const op = await prepare(ns, i);
    const a = await counters();
    const t0 = performance.now();
    await store.apply(op);
    const ms = performance.now() - t0;
    const b = await counters();
    if (i >= WARMUP) {
      redis.push((b.usec - a.usec) / 1000);
      cpu.push((b.cpu - a.cpu - overhead) / 1000);
      trip.push(ms);
    }
  }
  return { redisMs: median(redis), cpuMs: median(cpu), roundTripMs: median(trip) };
}

// The steady-state rows' clock: their fill runs from T0 for 54 minutes, their ops at T0 + 1 h.
const T0 = 1.7e12;
const LATER = T0 + KNOWN_MS + 1;

const claimOf = (ns, leads, now) => ({ op: "claim", ns, salt: SALT, now, leads, ...LIMITS });
const settleOf = (ns, leads, how, now) => ({ op: "settle", ns, salt: SALT, now, ...SETTLE, leads: leads.map((keys, i) => ({ keys, ...how(i) })) });

const rows = [];
async function row(name, leads, prepare, steady = false) {
  const r = await measure(prepare, steady);
  const per = (ms) => (leads ? ((ms * 1000) / leads).toFixed(1) : "—");
  rows.push([name, leads || "—", r.redisMs.toFixed(2), per(r.redisMs), r.cpuMs.toFixed(2), per(r.cpuMs), r.roundTripMs.toFixed(2)]);
}

try {
  const version = /redis_version:(\S+)/.exec(String(await client.sendCommand(["INFO", "server"])))[1];
  overhead = await calibrate();

  await row("claim (fresh, 3 keys each)", 100, async (ns) => claimOf(ns, fresh(100)));
  await row("claim (fresh, 3 keys each)", 1000, async (ns) => claimOf(ns, fresh(1000)));
  let known = null;
  await row("claim (all known)", 1000, async (ns) => {
    if (!known || known.ns !== ns) {
      const leads = fresh(1000);
      await store.apply(claimOf(ns, leads));
      await store.apply(settleOf(ns, leads, (i) => ({ created: leadId(i) })));
      known = { ns, leads };
    }
    return claimOf(ns, known.leads);
  });
  await row("settle created", 1000, async (ns) => {
    const leads = fresh(1000);
    await store.apply(claimOf(ns, leads));
    return settleOf(ns, leads, (i) => ({ created: leadId(i) }));
  });
  await row("settle released", 1000, async (ns) => {
    const leads = fresh(1000);
    await store.apply(claimOf(ns, leads));
    return settleOf(ns, leads, () => ({ release: true }));
  });
  await row("acquire", 0, async (ns) => ({ op: "acquire", ns, salt: SALT, requests: 1e9, windowMs: 1000, leaseMs: 60000 }));
  await row("claim (fresh), steady state", 1000, async (ns, i) => claimOf(ns, fresh(1000), LATER + i), true);
  await row(
    "settle created, steady state",
    1000,
    async (ns, i) => {
      const leads = fresh(1000);
      await store.apply(claimOf(ns, leads, LATER + i));
      return settleOf(ns, leads, (j) => ({ created: leadId(j) }), LATER + i);
    },
    true,
  );

  console.log(
    `Redis store${STORE ? ` (${STORE})` : ""}, redis-server ${version}, median of ${RUNS} runs (after ${WARMUP} warm-up runs); each project filled with ${FILL} created leads first.`,
  );
  console.log("EVALSHA: the time Redis counted in the command (INFO commandstats). CPU: Redis's process CPU time (INFO cpu, less the measure's own cost).");
  console.log("Round trip: store.apply() from Node (with the HMAC of the keys). Steady state: a live previous generation of lead keys is read too.\n");
  console.log(
    markdownTable(["op", "leads", "EVALSHA ms", "µs / lead", "Redis CPU ms", "µs / lead", "round trip ms"], rows, ["l", "r", "r", "r", "r", "r", "r"]),
  );
} finally {
  client.destroy();
  await server.stop();
}
