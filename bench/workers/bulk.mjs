// One bulk-initiate run in a fresh process, so its peak RSS is its own.
// Usage: node bench/workers/bulk.mjs <vox|baseline|keeping> <baseUrl> <count> <runTag>
// Prints one JSON line: { ms, cpuMs, maxStallMs, p99StallMs, created, maxRssKb }.
import { monitorEventLoopDelay, performance } from "node:perf_hooks";
import { makeLeads, PROJECT, plainBulk, TOKEN, warmUp } from "./common.mjs";

const [kind, baseUrl, countText, tag] = process.argv.slice(2);
const leads = makeLeads(Number(countText), tag);
const CHUNK = 1000;
const CONCURRENCY = 4;

async function vox() {
  const client = new VoxClient({ projectId: PROJECT, token: TOKEN, baseUrl, rateLimit: false });
  const r = await client.bulkInitiateLeads(leads, { init: false, chunkSize: CHUNK, concurrency: CONCURRENCY });
  return r.created.length;
}

/** The same chunking and concurrency by hand, no safety; `keeping` also keeps what was created. */
const kept = kind === "keeping" ? [] : null;
const baseline = () => plainBulk(leads, { baseUrl, projectId: PROJECT, chunk: CHUNK, concurrency: CONCURRENCY, kept });

const { VoxClient } = (await warmUp(kind, baseUrl)) ?? {};

// The longest time the event loop could not run anything else (a web server's stall).
const delay = monitorEventLoopDelay({ resolution: 1 });
delay.enable();
const cpu0 = process.cpuUsage();
const t0 = performance.now();
const created = kind === "vox" ? await vox() : await baseline();
const ms = performance.now() - t0;
delay.disable();
const maxStallMs = delay.max / 1e6;
const p99StallMs = delay.percentile(99) / 1e6;
const cpu = process.cpuUsage(cpu0);
console.log(JSON.stringify({ ms, cpuMs: (cpu.user + cpu.system) / 1000, maxStallMs, p99StallMs, created, maxRssKb: process.resourceUsage().maxRSS }));
