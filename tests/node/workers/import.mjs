// One importing process of tests/node/processes.test.mjs: bulk-imports a range of leads into a sandbox
// project with the built package, optionally sharing the traffic state through a Redis store.
//
//   node tests/node/workers/import.mjs --base-url URL --from N --count M --tag T
//        [--project ID] [--token TOKEN] [--redis redis://127.0.0.1:PORT] [--prefix P (the store's key prefix; default its own)]
//        [--chunk-size 100] [--concurrency N] [--ids] [--failures] [--starts] [--name LABEL]
//
// Prints ONE JSON line on stdout, then exits: 0 when bulkInitiateLeads returned (whatever its counts),
// 1 when something threw. The line: { ok, name, from, count, created, failed, failedByCode, unknown,
// unknownByCode, requests, durationMs, startedAt, endedAt, distinctCreated, redisErrors, events,
// eventSamples, failureSamples, ids? (--ids: created lead id by input index, or null), failures?
// (--failures: every failed/unknown item as { index, code, leadId }), starts? (--starts: Date.now() of
// every bulk request the client started) }. bench/traffic.mjs runs it too, for the 4-process saturation.
//
// Started with an IPC channel (as the test does), it prepares everything (package, Redis connection,
// leads, client), sends { type: "ready" } and starts importing only on { type: "go" }, so that several
// workers really start at once. If the parent goes away, it exits. Without IPC it starts at once.
import { parseArgs } from "node:util";
import { leadRange, MAIN_ENTRY, PROJECT_ID, redisEntry, TOKEN } from "./leads.mjs";

const { values: opt } = parseArgs({
  options: {
    "base-url": { type: "string" },
    project: { type: "string", default: PROJECT_ID },
    token: { type: "string", default: TOKEN },
    redis: { type: "string" },
    prefix: { type: "string" },
    from: { type: "string", default: "0" },
    count: { type: "string" },
    tag: { type: "string", default: "w" },
    "chunk-size": { type: "string", default: "100" },
    concurrency: { type: "string" },
    ids: { type: "boolean", default: false },
    failures: { type: "boolean", default: false },
    starts: { type: "boolean", default: false },
    name: { type: "string", default: `worker-${process.pid}` },
  },
});

const ipc = typeof process.send === "function";
let redis = null;
let redisErrors = 0;
const redisErrorSamples = [];
let finished = false;

function finish(report, code) {
  if (finished) return;
  finished = true;
  try {
    // node-redis v5: destroy(); v4: disconnect(). Never wait for a server that may be down.
    if (redis) (typeof redis.destroy === "function" ? redis.destroy() : redis.disconnect?.())?.catch?.(() => {});
  } catch {
    /* closing anyway */
  }
  const line = JSON.stringify({ name: opt.name, pid: process.pid, redisErrors, redisErrorSamples, ...report }) + "\n";
  process.stdout.write(line, () => process.exit(code));
  // In case the write callback never comes (closed pipe).
  setTimeout(() => process.exit(code), 2000).unref();
}

function fail(err, stage) {
  finish(
    {
      ok: false,
      stage,
      error: { name: err?.name, code: err?.code, message: String(err?.message ?? err), stack: String(err?.stack ?? "").slice(0, 2000) },
    },
    1,
  );
}

process.on("uncaughtException", (err) => fail(err, "uncaughtException"));
process.on("unhandledRejection", (err) => fail(err, "unhandledRejection"));
if (ipc)
  process.on("disconnect", () => {
    if (!finished) process.exit(3);
  }); // the test process is gone

let stage = "arguments";
try {
  if (!opt["base-url"]) throw new Error("--base-url is required");
  if (!opt.count) throw new Error("--count is required");
  const from = Number(opt.from);
  const count = Number(opt.count);
  const chunkSize = Number(opt["chunk-size"]);

  stage = "import package";
  const { VoxClient } = await import(MAIN_ENTRY);

  let store;
  if (opt.redis) {
    stage = "import vox-crm/redis";
    const { redisStore } = await import(redisEntry());
    if (typeof redisStore !== "function") throw new Error("vox-crm/redis exports no redisStore function");
    stage = "connect redis";
    const { createClient } = await import("redis");
    redis = createClient({
      url: opt.redis,
      socket: {
        connectTimeout: 1000,
        // Keep trying, quickly: the test kills the server and starts it again on the same port.
        reconnectStrategy: (retries) => Math.min(25 + retries * 25, 250),
      },
    });
    // Without a listener a connection error would be thrown as an uncaught 'error' event.
    redis.on("error", (err) => {
      redisErrors++;
      if (redisErrorSamples.length < 5) redisErrorSamples.push(String(err?.message ?? err).slice(0, 200));
    });
    await redis.connect();
    store = redisStore(redis, opt.prefix ? { prefix: opt.prefix } : {});
  }

  stage = "client";
  const events = {};
  const eventSamples = [];
  const starts = [];
  const client = new VoxClient({
    projectId: opt.project,
    token: opt.token,
    baseUrl: opt["base-url"],
    ...(store ? { store } : {}),
    logger: (e) => {
      events[e.type] = (events[e.type] ?? 0) + 1;
      if (opt.starts && e.type === "request" && e.path === "/leads/bulk/initiate") starts.push(Date.now());
      if (e.type !== "request" && e.type !== "response" && eventSamples.length < 10) eventSamples.push(e);
    },
  });
  const leads = leadRange(from, count, opt.tag);

  if (ipc) {
    stage = "wait for go";
    await new Promise((resolve) => {
      process.on("message", (m) => {
        if (m?.type === "go") resolve();
      });
      process.send({ type: "ready" });
    });
  }

  stage = "bulkInitiateLeads";
  const startedAt = Date.now();
  const options = { init: false, chunkSize };
  if (opt.concurrency) options.concurrency = Number(opt.concurrency);
  const result = await client.bulkInitiateLeads(leads, options);
  const endedAt = Date.now();

  const byCode = (items) => {
    const out = {};
    for (const it of items) out[it.error?.code ?? "?"] = (out[it.error?.code ?? "?"] ?? 0) + 1;
    return out;
  };
  const failed = result.failed ?? [];
  const unknown = result.unknown ?? [];
  const created = result.created ?? [];
  const report = {
    ok: true,
    from,
    count,
    created: created.length,
    failed: failed.length,
    failedByCode: byCode(failed),
    unknown: unknown.length,
    unknownByCode: byCode(unknown),
    requests: result.requests,
    durationMs: endedAt - startedAt,
    startedAt,
    endedAt,
    distinctCreated: new Set(created.map((c) => c.lead?._id)).size,
    events,
    eventSamples,
    failureSamples: [...failed, ...unknown].slice(0, 5).map((f) => ({ index: f.index, error: f.error })),
  };
  if (opt.starts) report.starts = starts;
  if (opt.ids) {
    const ids = new Array(count).fill(null);
    for (const c of created) ids[c.index] = c.lead?._id ?? null;
    report.ids = ids;
  }
  if (opt.failures) {
    report.failures = [...failed.map((f) => ({ kind: "failed", f })), ...unknown.map((f) => ({ kind: "unknown", f }))].map(({ kind, f }) => ({
      kind,
      index: f.index,
      code: f.error?.code,
      leadId: f.error?.details?.leadId ?? null,
    }));
  }
  finish(report, 0);
} catch (err) {
  fail(err, stage);
}
