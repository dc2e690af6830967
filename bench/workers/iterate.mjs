// Reads every lead of the sandbox once, in a fresh process.
// Usage: node bench/workers/iterate.mjs <vox|baseline> <baseUrl>
// Prints one JSON line: { ms, leads, maxRssKb }.
import { performance } from "node:perf_hooks";
import { PROJECT, TOKEN, warmUp } from "./common.mjs";

const [kind, baseUrl] = process.argv.slice(2);
const LIMIT = 100;

async function vox() {
  const client = new VoxClient({ projectId: PROJECT, token: TOKEN, baseUrl, rateLimit: false });
  let n = 0;
  for await (const lead of client.iterateLeads({ limit: LIMIT })) n += lead._id ? 1 : 0;
  return n;
}

/** A hand-written paging loop over the same endpoint. */
async function baseline() {
  let n = 0;
  for (let page = 1; ; page++) {
    const res = await fetch(`${baseUrl}/leads/query?page=${page}&limit=${LIMIT}`, { headers: { authorization: `Bearer ${TOKEN}` } });
    const body = await res.json();
    for (const lead of body.data) n += lead._id ? 1 : 0;
    if (!body.pagination.hasNextPage) return n;
  }
}

const { VoxClient } = (await warmUp(kind, baseUrl)) ?? {};

const cpu0 = process.cpuUsage();
const t0 = performance.now();
const leads = kind === "vox" ? await vox() : await baseline();
const ms = performance.now() - t0;
const cpu = process.cpuUsage(cpu0);
console.log(JSON.stringify({ ms, cpuMs: (cpu.user + cpu.system) / 1000, leads, maxRssKb: process.resourceUsage().maxRSS }));
