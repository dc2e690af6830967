// Many processes importing into one project at once, sharing the traffic state through a Redis store
// (vox-crm/redis), and re-imports that must not send leads the project already has.
//
// Each test starts its own sandbox (in this process, on 127.0.0.1, with the REAL limits: 100 requests per
// 5 s per project, more than 5 duplicate rejections in 60 s block the token for an hour) and, where needed,
// its own redis-server (tests/node/redis-server.mjs). The importers are child processes:
// `node tests/node/workers/import.mjs ...` (see that file for its arguments and its one-line JSON report).
// Every child, sandbox and redis-server is stopped at the end of its test, even on failure (t.after), and
// any child still alive when this process exits is killed (exit hook; a worker also exits on its own when
// its IPC channel to this process closes).

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { join } from "node:path";
import { test } from "node:test";
import { createClient } from "redis";
import { startSandbox } from "../../sandbox/server.mjs";
import { startRedis } from "./redis-server.mjs";
import { leadRange, MAIN_ENTRY, PROJECT_ID, ROOT, TOKEN } from "./workers/leads.mjs";

const WORKER = join(ROOT, "tests", "node", "workers", "import.mjs");
const LIMIT = { requests: 100, perMs: 5000 };
const RUN = Date.now().toString(36);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------------------------------------------------
// Children: every one ever spawned is killed at the end of its test and, at the latest, at exit.

const liveChildren = new Set();
process.on("exit", () => {
  for (const c of liveChildren) {
    try {
      c.kill("SIGKILL");
    } catch {
      /* gone */
    }
  }
});

/** Kills (SIGKILL) the given children that are still running and waits for their exits. */
async function killChildren(workers) {
  await Promise.all(
    workers.map(async (w) => {
      if (w.child.exitCode === null && w.child.signalCode === null) {
        try {
          w.child.kill("SIGKILL");
        } catch {
          /* gone */
        }
        await w.done;
      }
    }),
  );
}

/**
 * Spawns one worker. Returns { name, child, ready, done, spawnedAt }: `ready` resolves true on its
 * "ready" message, false if it exits first; `done` resolves { code, signal, report, stdout, stderr, exitedAt }.
 */
function spawnWorker(name, args) {
  const spawnedAt = Date.now();
  const child = spawn(process.execPath, [WORKER, "--name", name, ...args], {
    cwd: ROOT,
    stdio: ["ignore", "pipe", "pipe", "ipc"],
  });
  liveChildren.add(child);
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (d) => {
    stdout += d;
  });
  child.stderr.setEncoding("utf8").on("data", (d) => {
    stderr = (stderr + d).slice(-20000);
  });
  let readyResolve;
  const ready = new Promise((r) => {
    readyResolve = r;
  });
  child.on("message", (m) => {
    if (m?.type === "ready") readyResolve(true);
  });
  child.on("error", () => {}); // a failed spawn also emits 'exit' / 'close'
  const done = new Promise((resolve) => {
    child.on("close", (code, signal) => {
      liveChildren.delete(child);
      readyResolve(false);
      let report = null;
      for (const line of stdout.trim().split("\n").reverse()) {
        try {
          report = JSON.parse(line);
          break;
        } catch {
          /* not the report */
        }
      }
      resolve({ name, code, signal, report, stdout, stderr, exitedAt: Date.now() });
    });
  });
  return { name, child, ready, done, spawnedAt };
}

/** What to show of a worker's end in an assertion message. */
function describeEnd(end) {
  const r = end.report;
  const brief = r?.ok === false ? { stage: r.stage, error: r.error } : r && { ...r, ids: undefined, failures: undefined };
  return `${end.name}: exit ${end.code ?? end.signal}; report ${JSON.stringify(brief)?.slice(0, 1500)}; stderr ${JSON.stringify(end.stderr.slice(-1500))}`;
}

/**
 * Spawns workers (one per args array), waits until all are ready (or exited), sends them all "go" at
 * once, calls `during({ goAt, workers })` (not awaited by the wait for exits), and waits for every exit
 * (killing them all after `runMs`). Registers their killing with t.after. Returns { goAt, ends, workers }.
 */
async function runWorkers(t, argsList, { readyMs = 30000, runMs = 60000, during } = {}) {
  const workers = argsList.map((args, i) => spawnWorker(args.name ?? `w${i}`, args.argv));
  t.after(() => killChildren(workers));
  let timer;
  const readyTimeout = new Promise((r) => {
    timer = setTimeout(() => r("timeout"), readyMs);
  });
  const readiness = await Promise.race([Promise.all(workers.map((w) => w.ready)), readyTimeout]);
  clearTimeout(timer);
  if (readiness === "timeout") {
    await killChildren(workers);
    const ends = await Promise.all(workers.map((w) => w.done));
    assert.fail(`workers not ready within ${readyMs} ms:\n${ends.map(describeEnd).join("\n")}`);
  }
  const goAt = Date.now();
  for (const w of workers) if (w.child.connected) w.child.send({ type: "go" });
  const duringDone = during ? Promise.resolve().then(() => during({ goAt, workers })) : Promise.resolve();
  duringDone.catch(() => {}); // awaited (and thrown) below, once the workers are done
  let runTimer;
  const runTimeout = new Promise((r) => {
    runTimer = setTimeout(() => r("timeout"), runMs);
  });
  const finished = await Promise.race([Promise.all(workers.map((w) => w.done)), runTimeout]);
  clearTimeout(runTimer);
  if (finished === "timeout") {
    await killChildren(workers);
    const ends = await Promise.all(workers.map((w) => w.done));
    assert.fail(`workers still running after ${runMs} ms (killed):\n${ends.map(describeEnd).join("\n")}`);
  }
  await duringDone;
  return { goAt, ends: finished, workers };
}

/** Asserts that every worker exited 0 with an ok report; returns the reports. */
function assertAllOk(ends) {
  for (const end of ends) {
    assert.equal(end.code, 0, `worker exited 0 — ${describeEnd(end)}`);
    assert.equal(end.report?.ok, true, `worker reported ok — ${describeEnd(end)}`);
  }
  return ends.map((e) => e.report);
}

/** Sums and prints the counts of the reports. */
function totals(reports) {
  const sum = { created: 0, failed: 0, unknown: 0, requests: 0, failedByCode: {}, unknownByCode: {} };
  for (const r of reports) {
    sum.created += r.created;
    sum.failed += r.failed;
    sum.unknown += r.unknown;
    sum.requests += r.requests;
    for (const k of ["failedByCode", "unknownByCode"]) {
      for (const [code, n] of Object.entries(r[k] ?? {})) sum[k][code] = (sum[k][code] ?? 0) + n;
    }
  }
  return sum;
}

function printReports(label, reports) {
  for (const r of reports) {
    const { ids, failures, eventSamples, redisErrorSamples, ...brief } = r;
    console.log(`${label} ${JSON.stringify(brief)}`);
    if (eventSamples?.length) console.log(`${label} ${r.name} events: ${JSON.stringify(eventSamples).slice(0, 800)}`);
    if (redisErrorSamples?.length) console.log(`${label} ${r.name} redis errors: ${JSON.stringify(redisErrorSamples)}`);
  }
}

// ---------------------------------------------------------------------------------------------------------
// The sandbox and Redis of a test

/** A sandbox with the real limits, on 127.0.0.1, closed at the end of the test. */
async function sandboxFor(t) {
  const sb = await startSandbox({
    port: 0,
    host: "127.0.0.1",
    admin: true,
    quiet: true,
    rateLimit: `${LIMIT.requests}/${LIMIT.perMs}`, // the defaults, spelled out
    dupMax: 5,
    dupWindowMs: 60000,
    blockMs: 3600000,
  });
  t.after(() => sb.close());
  assert.match(sb.url, /^http:\/\/127\.0\.0\.1:\d+\/api\/v1$/);
  const stats = async () => {
    const res = await fetch(`${sb.origin}/__sandbox/stats`);
    assert.equal(res.status, 200);
    return res.json();
  };
  /** A raw query (no library): follows 429s by their Retry-After. */
  const query = async (params) => {
    const url = new URL(`${sb.url}/leads/query`);
    for (const [k, v] of Object.entries(params)) url.searchParams.set(k, String(v));
    for (let attempt = 0; ; attempt++) {
      const res = await fetch(url, { headers: { Authorization: `Bearer ${TOKEN}` } });
      if (res.status === 429 && attempt < 10) {
        await sleep(1000 * Number(res.headers.get("retry-after") ?? 1));
        continue;
      }
      const body = await res.json();
      assert.equal(res.status, 200, `query: ${JSON.stringify(body)}`);
      return body;
    }
  };
  /** The sandbox's own leads of the default project (white-box: the in-process sandbox's store). */
  const storedLeads = () => {
    const p = sb.state.store.projects.get(PROJECT_ID);
    return p ? [...p.leads] : [];
  };
  return { sb, stats, query, storedLeads };
}

async function redisFor(t) {
  const redis = await startRedis();
  t.after(() => redis.stop());
  return redis;
}

/** How many keys the Redis at `url` holds under `prefix` (a short-lived client of this process). */
async function redisKeyCount(url, prefix) {
  const client = createClient({ url, socket: { reconnectStrategy: false, connectTimeout: 1000 } });
  client.on("error", () => {});
  await client.connect();
  try {
    return (await client.keys(`${prefix}*`)).length;
  } finally {
    if (typeof client.close === "function")
      await client.close(); // node-redis v5
    else await client.quit();
  }
}

/** Worker arguments. */
function workerArgs({ url, from, count, tag, redis, prefix, chunkSize = 100, ids = false, failures = false }) {
  const argv = [
    "--base-url",
    url,
    "--project",
    PROJECT_ID,
    "--token",
    TOKEN,
    "--from",
    String(from),
    "--count",
    String(count),
    "--tag",
    tag,
    "--chunk-size",
    String(chunkSize),
  ];
  if (redis) argv.push("--redis", redis, "--prefix", prefix);
  if (ids) argv.push("--ids");
  if (failures) argv.push("--failures");
  return argv;
}

/** Every created id of the reports (their --ids) is distinct, and the sandbox holds each once, as that lead. */
function assertIdsMatchSandbox(reports, tag, stored, expected) {
  const byId = new Map(stored.map((l) => [l._id, l]));
  const seen = new Set();
  for (const r of reports) {
    assert.equal(r.ids.length, r.count);
    r.ids.forEach((id, i) => {
      if (id === null) return;
      assert.ok(!seen.has(id), `lead id ${id} reported created twice`);
      seen.add(id);
      const lead = byId.get(id);
      assert.ok(lead, `created id ${id} exists in the sandbox`);
      assert.equal(lead.referenceId, `${tag}-${r.from + i}`, `id ${id} is the lead of its input index`);
    });
  }
  assert.equal(seen.size, expected, "distinct created ids");
  const refs = stored.map((l) => l.referenceId).filter((ref) => ref?.startsWith(`${tag}-`));
  assert.equal(refs.length, expected, `the sandbox holds ${expected} leads of this run`);
  assert.equal(new Set(refs).size, expected, "each referenceId once");
  assert.equal(new Set(stored.map((l) => l.phone)).size, stored.length, "each phone once");
}

// ---------------------------------------------------------------------------------------------------------

test("the lead ranges of the workers are distinct and valid for the client", { timeout: 20000 }, async () => {
  const { validatePhones } = await import(MAIN_ENTRY);
  const leads = leadRange(0, 40000, "check");
  const checks = validatePhones(leads.map((l) => l.phone));
  const bad = checks.map((c, i) => [i, c]).filter(([, c]) => !c.valid);
  assert.equal(bad.length, 0, `invalid phones: ${JSON.stringify(bad.slice(0, 5).map(([i, c]) => [leads[i].phone, c.reason]))}`);
  assert.equal(new Set(leads.map((l) => l.phone)).size, 40000, "40,000 distinct phones");
  assert.equal(new Set(leads.map((l) => l.referenceId)).size, 40000, "40,000 distinct referenceIds");
  // A range is the same slice of the sequence, whatever process computes it.
  assert.deepEqual(leadRange(10000, 3, "check"), leads.slice(10000, 10003));
});

test("many processes: 4 workers × 10,000 leads share one Redis and use the limit without a 429", { timeout: 100000 }, async (t) => {
  const { sb, stats, query, storedLeads } = await sandboxFor(t);
  const redis = await redisFor(t);
  const tag = `many-${RUN}`;
  const PER = 10000;
  const argsList = [0, 1, 2, 3].map((w) => ({
    name: `many${w}`,
    argv: workerArgs({ url: sb.url, from: w * PER, count: PER, tag, redis: redis.url, prefix: `vox-many-${RUN}`, ids: true }),
  }));
  const { goAt, ends } = await runWorkers(t, argsList, { runMs: 80000 });
  const reports = assertAllOk(ends);
  printReports("many", reports);
  const s = await stats();
  console.log(`many: sandbox stats ${JSON.stringify(s)}`);
  // Used share of the limit: requests the sandbox saw / requests the limit allows over the run, the run
  // being from the first worker's start of its import to the last worker's end.
  const start = Math.min(...reports.map((r) => r.startedAt));
  const end = Math.max(...reports.map((r) => r.endedAt));
  const durationS = (end - start) / 1000;
  const share = s.requests / ((durationS / (LIMIT.perMs / 1000)) * LIMIT.requests);
  const sum = totals(reports);
  const lastExit = Math.max(...ends.map((e) => e.exitedAt));
  console.log(
    `many: ${s.requests} requests at the sandbox in ${durationS.toFixed(2)} s: used share of the limit ${share.toFixed(3)} ` +
      `(go to last exit: ${((lastExit - goAt) / 1000).toFixed(2)} s; requests by the reports: ${sum.requests})`,
  );

  assert.equal(sum.created, 4 * PER, `created in total (failed ${JSON.stringify(sum.failedByCode)}, unknown ${JSON.stringify(sum.unknownByCode)})`);
  assert.equal(sum.failed, 0, `no failed: ${JSON.stringify(sum.failedByCode)}`);
  assert.equal(sum.unknown, 0, `no unknown: ${JSON.stringify(sum.unknownByCode)}`);

  assert.equal(s.rateLimited, 0, "the sandbox never answered 429 Rate limit exceeded");
  assert.ok(s.maxRequestsInWindow <= LIMIT.requests, `at most ${LIMIT.requests} requests in any ${LIMIT.perMs} ms, saw ${s.maxRequestsInWindow}`);
  assert.equal(s.blocks, 0, "the key was never blocked");
  assert.equal(s.leadsCreated, 4 * PER, "leads created at the sandbox");

  assert.ok(share >= 0.85, `used share of the limit ${share.toFixed(3)} >= 0.85`);

  // Every lead exists exactly once.
  const page = await query({ limit: 1, page: 1 });
  assert.equal(page.pagination.total, 4 * PER, "the project's lead total");
  assertIdsMatchSandbox(reports, tag, storedLeads(), 4 * PER);
});

/**
 * Process A imports leads 0..999 and exits; a fresh process B imports leads 0..1199 of the same run.
 * Returns { a, b, stats }.
 */
async function reimport(t, { sb, stats, storedLeads }, { redis, prefix, tag }) {
  const CHUNK = 1000;
  const common = { url: sb.url, from: 0, tag, redis: redis?.url, prefix, chunkSize: CHUNK, ids: true, failures: true };
  const first = await runWorkers(t, [{ name: "A", argv: workerArgs({ ...common, count: 1000 }) }], { runMs: 30000 });
  const [a] = assertAllOk(first.ends);
  printReports("A", [a]);
  assert.equal(a.created, 1000, `A created its 1,000 leads: ${JSON.stringify(a.failureSamples)}`);
  assert.equal(a.failed + a.unknown, 0);
  assert.ok(
    a.ids.every((id) => typeof id === "string"),
    "A reports an id for every input",
  );

  const second = await runWorkers(t, [{ name: "B", argv: workerArgs({ ...common, count: 1200 }) }], { runMs: 30000 });
  const [b] = assertAllOk(second.ends);
  printReports("B", [b]);
  const s = await stats();
  console.log(`reimport: sandbox stats ${JSON.stringify(s)}`);
  console.log(`reimport: B made ${b.requests} requests`);

  assert.equal(b.created, 200, `B created only the 200 new leads (failed ${JSON.stringify(b.failedByCode)}, samples ${JSON.stringify(b.failureSamples)})`);
  b.ids.forEach((id, i) => {
    if (i < 1000) assert.equal(id, null, `B did not create lead ${i}, which A had created`);
    else assert.equal(typeof id, "string", `B created the new lead ${i}`);
  });
  assert.equal(b.unknown, 0, `no unknown: ${JSON.stringify(b.unknownByCode)}`);
  assert.equal(b.failed, 1000, `the 1,000 existing leads failed: ${JSON.stringify(b.failedByCode)}`);
  assert.deepEqual(b.failedByCode, { duplicate_submission: 1000 });
  const failedAt = new Map(b.failures.filter((f) => f.kind === "failed").map((f) => [f.index, f]));
  for (let i = 0; i < 1000; i++) {
    const f = failedAt.get(i);
    assert.ok(f, `lead ${i} is in B's failed`);
    assert.equal(f.code, "duplicate_submission");
    assert.equal(f.leadId, a.ids[i], `failed[${i}].error.details.leadId is the id A created for it`);
  }

  assert.equal(s.duplicateRejections, 0, "nothing was sent that the sandbox had to reject as a duplicate");
  assert.equal(s.blocks, 0, "the key was never blocked");
  assert.equal(s.blockedResponses, 0);
  assert.equal(s.leadsCreated, 1200);
  assertIdsMatchSandbox([a, b], tag, storedLeads(), 1200);
  return { a, b, stats: s };
}

test("re-import with Redis: a fresh process refuses, without sending, the 1,000 leads another process created", { timeout: 40000 }, async (t) => {
  const sandbox = await sandboxFor(t);
  const redis = await redisFor(t);
  await reimport(t, sandbox, { redis, prefix: `vox-re-${RUN}`, tag: `reredis-${RUN}` });
});

test("re-import in memory: a fresh process without a store refuses the 1,000 existing leads too, in few requests", { timeout: 40000 }, async (t) => {
  const sandbox = await sandboxFor(t);
  const { b } = await reimport(t, sandbox, { redis: null, tag: `remem-${RUN}` });
  // B's budget: 1 count query, + an index sync of the 1,000 existing leads at 100 per page,
  // + the creates of its 1,200 inputs in chunks of 1,000 (only 200 are new; at most 2 chunks), + 5 of slack.
  // (If the README documents a different bound for this, adjust it here.)
  const bound = 1 + Math.ceil(1000 / 100) + Math.ceil(1200 / 1000) + 5;
  console.log(`re-import in memory: B made ${b.requests} requests (bound ${bound})`);
  assert.ok(b.requests <= bound, `B made ${b.requests} requests, at most ${bound}`);
});

test("Redis killed mid-run: 4 workers × 5,000 leads keep going and create every lead once", { timeout: 80000 }, async (t) => {
  const { sb, stats, query, storedLeads } = await sandboxFor(t);
  const redis = await redisFor(t);
  const tag = `kill-${RUN}`;
  const prefix = `vox-kill-${RUN}`;
  const PER = 5000;
  const argsList = [0, 1, 2, 3].map((w) => ({
    name: `kill${w}`,
    argv: workerArgs({ url: sb.url, from: w * PER, count: PER, tag, redis: redis.url, prefix, ids: true }),
  }));
  let runningAtKill = -1;
  const outage = {};
  const { ends } = await runWorkers(t, argsList, {
    runMs: 65000,
    during: async ({ goAt, workers }) => {
      await sleep(Math.max(0, goAt + 3000 - Date.now()));
      runningAtKill = workers.filter((w) => w.child.exitCode === null && w.child.signalCode === null).length;
      outage.keysBefore = await redisKeyCount(redis.url, prefix).catch((e) => `error: ${e.message}`);
      outage.killedAt = Date.now() - goAt;
      await redis.kill();
      await sleep(2000);
      await redis.start();
      outage.restartedAt = Date.now() - goAt;
    },
  });
  outage.keysAfter = await redisKeyCount(redis.url, prefix).catch((e) => `error: ${e.message}`);
  console.log(
    `kill: redis killed at +${outage.killedAt} ms with ${runningAtKill} workers running, started again at +${outage.restartedAt} ms; ` +
      `keys under the prefix: ${outage.keysBefore} before the kill, ${outage.keysAfter} after the run`,
  );
  const reports = assertAllOk(ends);
  printReports("kill", reports);
  const s = await stats();
  console.log(`kill: sandbox stats ${JSON.stringify(s)}`);
  console.log(`kill: rateLimited ${s.rateLimited} (429s are allowed while Redis is away)`);
  assert.equal(runningAtKill, 4, "Redis went away while every worker was importing");
  assert.ok(outage.keysBefore > 0, `the workers kept their traffic state in Redis before it was killed (keys: ${outage.keysBefore})`);

  const sum = totals(reports);
  assert.equal(sum.created, 4 * PER, `created in total (failed ${JSON.stringify(sum.failedByCode)}, unknown ${JSON.stringify(sum.unknownByCode)})`);
  assert.equal(sum.failed, 0, `no failed: ${JSON.stringify(sum.failedByCode)}`);
  assert.equal(sum.unknown, 0, `no unknown: ${JSON.stringify(sum.unknownByCode)}`);
  assert.equal(s.leadsCreated, 4 * PER, "leads created at the sandbox");
  assert.equal(s.blocks, 0, "the key was never blocked");
  const page = await query({ limit: 1, page: 1 });
  assert.equal(page.pagination.total, 4 * PER, "the project's lead total");
  assertIdsMatchSandbox(reports, tag, storedLeads(), 4 * PER);
});
