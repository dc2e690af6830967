// Very large bulks in a child process of their own (bench/bigbulk.mjs, tests/node/bigbulk.test.mjs,
// through runBigBulk of bench/fast-crm.mjs): bulkInitiateLeads of each count in turn, fresh leads
// each time, rate limit and duplicate guard off, against the fake CRM at <baseUrl>.
// Usage: node --expose-gc bench/workers/bigbulk.mjs <baseUrl> <count> [<count> ...]
// Prints one JSON line per run: { leads, created, failed, unknown, requests, inOrder, idsOk,
// phonesOk, firstProblem, ms, peakRssKb, rssReportDroppedKb, heapReportDroppedBytes (the report
// dropped, the input still held), rssInputDroppedKb, heapBytes, wasmBytes, wasmInstances,
// externalBytes, arrayBuffersBytes (both dropped) }; the memory numbers after a full gc.
// If the parent goes away (its IPC channel closes), it exits.
import { performance } from "node:perf_hooks";
import { bigLeadMaker, PROJECT, TOKEN } from "../fast-crm.mjs";

if (typeof globalThis.gc !== "function") throw new Error("run with node --expose-gc");
if (process.channel) {
  process.channel.unref();
  process.on("disconnect", () => process.exit(3));
}

// The wasm memory. The package exposes no memory, and process.memoryUsage().arrayBuffers does NOT
// count a WebAssembly.Memory (Node 20: growing one by 64 MB leaves arrayBuffers unchanged; `external`
// grows by the 64 MB). So the Instance constructor is wrapped before the package is imported, and the
// memory each instance exports is kept: its buffer's byteLength is the wasm memory exactly, and, as a
// wasm memory never shrinks, its peak too. The package makes a new instance when it restarts after
// a trap: `wasmInstances` counts them (1 = no restart).
const memories = [];
const Instance = WebAssembly.Instance;
WebAssembly.Instance = class extends Instance {
  constructor(module, imports) {
    super(module, imports);
    for (const value of Object.values(this.exports)) if (value instanceof WebAssembly.Memory) memories.push(value);
  }
};
const { VoxClient } = await import("../../dist/vox-crm/node/index.mjs");

const [baseUrl, ...counts] = process.argv.slice(2);
const client = new VoxClient({ projectId: PROJECT, token: TOKEN, baseUrl, rateLimit: false, duplicateGuard: false });
const makeLeads = bigLeadMaker();

/** Two full collections with a turn of the event loop between (finalizers run in between). */
async function collect() {
  globalThis.gc();
  await new Promise((resolve) => setImmediate(resolve));
  globalThis.gc();
}

/** One bulk; the report lives only in here, until it is counted. */
async function bulk(leads) {
  const t0 = performance.now();
  const report = await client.bulkInitiateLeads(leads);
  const ms = performance.now() - t0;
  const { created, failed, unknown } = report;
  let inOrder = true;
  let idsOk = true;
  let phonesOk = true;
  for (let i = 0; i < created.length; i++) {
    const { index, lead } = created[i];
    if (index !== i) inOrder = false;
    if (typeof lead?._id !== "string" || lead._id === "") idsOk = false;
    if (lead?.phone !== leads[index]?.phone) phonesOk = false;
  }
  const problem = failed[0] ?? unknown[0];
  return {
    leads: leads.length,
    created: created.length,
    failed: failed.length,
    unknown: unknown.length,
    requests: report.requests,
    inOrder,
    idsOk,
    phonesOk,
    firstProblem: problem ? { index: problem.index, code: problem.error?.code, message: problem.error?.message } : null,
    ms,
  };
}

for (const count of counts) {
  let leads = makeLeads(Number(count));
  await collect();
  const run = await bulk(leads);
  await collect();
  const held = process.memoryUsage();
  leads = null;
  await collect();
  const mem = process.memoryUsage();
  const line = {
    ...run,
    peakRssKb: process.resourceUsage().maxRSS, // the process's peak so far (VmHWM)
    rssReportDroppedKb: Math.round(held.rss / 1024),
    heapReportDroppedBytes: held.heapUsed,
    rssInputDroppedKb: Math.round(mem.rss / 1024),
    wasmBytes: memories.at(-1)?.buffer.byteLength ?? null,
    wasmInstances: memories.length,
    heapBytes: mem.heapUsed,
    externalBytes: mem.external,
    arrayBuffersBytes: mem.arrayBuffers,
  };
  process.stdout.write(JSON.stringify(line) + "\n");
}
process.stdout.write("", () => process.exit(0)); // after the lines are out; whatever the client still holds
