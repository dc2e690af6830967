// What iterateLeads itself costs a page, without a server: the client's `fetch` option answers
// from memory (1,000 pages of 100 leads, built before the clock), and a hand-written paging loop
// reads the same pages through the same function. Interleaved rounds in one process; the
// difference of the medians is the SDK's own time per page (the driver, the wasm task, the
// dedupe of ids that makes the iteration always end). `node bench/traffic.mjs` measures the
// same against the sandbox, where the server's time dilutes it.
// Usage: node bench/iterate-local.mjs [--rounds 9]
import { dirname, join } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath, pathToFileURL } from "node:url";
import { markdownTable, stats } from "./lib.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const i = process.argv.indexOf("--rounds");
const ROUNDS = i > 0 ? Number(process.argv[i + 1]) : 9;
const PAGES = 1000;
const LIMIT = 100;
const BASE = "http://127.0.0.1:9/api/v1"; // never reached: every request is answered in memory

const { VoxClient } = await import(pathToFileURL(join(root, "dist/vox-crm/node/index.mjs")).href);

const pages = [];
for (let p = 1, n = 0; p <= PAGES; p++) {
  const data = [];
  for (let k = 0; k < LIMIT; k++, n++) {
    data.push({
      _id: `6650a1b2c3d4e5f6${n.toString(16).padStart(8, "0")}`,
      name: `Lead ${n}`,
      phone: `+9198${String(n).padStart(8, "0")}`,
      state: "new",
      processId: "6650a1b2c3d4e5f6012345a1",
      createdAt: "2026-12-01T10:00:00.000Z",
    });
  }
  const pagination = { page: p, limit: LIMIT, total: PAGES * LIMIT, totalPages: PAGES, hasNextPage: p < PAGES };
  pages.push(JSON.stringify({ data, pagination }));
}
const memoryFetch = async (url) => {
  const text = pages[Number(/[?&]page=(\d+)/.exec(String(url))[1]) - 1];
  return new Response(text, { headers: { "content-type": "application/json", "content-length": String(Buffer.byteLength(text)) } });
};

async function vox() {
  const client = new VoxClient({ projectId: "6650a1b2c3d4e5f601234567", token: "sk_test_vox_sandbox", baseUrl: BASE, rateLimit: false, fetch: memoryFetch });
  let n = 0;
  for await (const lead of client.iterateLeads({ limit: LIMIT })) n += lead._id ? 1 : 0;
  return n;
}

async function hand() {
  let n = 0;
  for (let page = 1; ; page++) {
    const res = await memoryFetch(`${BASE}/leads/query?page=${page}&limit=${LIMIT}`, { headers: { authorization: "Bearer sk_test_vox_sandbox" } });
    const body = await res.json();
    for (const lead of body.data) n += lead._id ? 1 : 0;
    if (!body.pagination.hasNextPage) return n;
  }
}

const samples = { vox: [], hand: [] };
for (let round = 0; round <= ROUNDS; round++) {
  for (const [name, run] of [
    ["vox", vox],
    ["hand", hand],
  ]) {
    const t0 = performance.now();
    const n = await run();
    const ms = performance.now() - t0;
    if (n !== PAGES * LIMIT) throw new Error(`${name} read ${n} leads of ${PAGES * LIMIT}`);
    if (round > 0) samples[name].push(ms); // round 0 warms up
  }
}
const v = stats(samples.vox, PAGES * LIMIT);
const h = stats(samples.hand, PAGES * LIMIT);
console.log(
  markdownTable(
    [`iterate ${PAGES} pages of ${LIMIT}, in-memory fetch (node bench/iterate-local.mjs)`, "median", "spread", "per page"],
    [
      ["vox-crm iterateLeads", `${v.medianMs.toFixed(0)} ms`, `${(100 * v.spread).toFixed(1)}%`, `${((1000 * v.medianMs) / PAGES).toFixed(0)} µs`],
      ["hand-written paging loop", `${h.medianMs.toFixed(0)} ms`, `${(100 * h.spread).toFixed(1)}%`, `${((1000 * h.medianMs) / PAGES).toFixed(0)} µs`],
      [`the SDK's own time per page, ${ROUNDS} interleaved rounds`, "", "", `${((1000 * (v.medianMs - h.medianMs)) / PAGES).toFixed(0)} µs`],
    ],
    ["l", "r", "r", "r"],
  ),
);
