// What iterateLeads itself costs a page, without a server: the client's `fetch` option answers
// from memory (1,000 pages of 100 leads, built before the clock), and a hand-written paging loop
// reads the same pages through the same function. Interleaved rounds in one process; the
// difference of the medians is the SDK's own time per page (the driver, the wasm task, the
// dedupe of ids that makes the iteration always end). `node bench/traffic.mjs` measures the
// same against the sandbox, where the server's time dilutes it.
// With `--against DIR` (a copy of another build's dist/vox-crm), that build runs in the same
// rounds too, and the table adds the median of the rounds' differences: an A/B of two builds.
// The order of the runs turns round each round (it alone moves a run by ~20 µs a page).
// Two more rows: a server 5 ms away and a caller that spends 50 µs on each lead, where
// iterateLeads' asking for the next page while the caller reads one shows.
// Usage: node bench/iterate-local.mjs [--rounds 9] [--against DIR]
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

const a = process.argv.indexOf("--against");
const AGAINST = a > 0 ? process.argv[a + 1] : null;
const load = async (dir) => (await import(pathToFileURL(join(dir, "node/index.mjs")).href)).VoxClient;
const VoxClient = await load(join(root, "dist/vox-crm"));
const Other = AGAINST && (await load(AGAINST));

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

// Each run reads the pages from `first` on through `fetchFn`, calling `onLead` (if any) on each lead.
const iterate =
  (VoxClient, { fetchFn = memoryFetch, first = 1, onLead } = {}) =>
  async () => {
    const client = new VoxClient({ projectId: "6650a1b2c3d4e5f601234567", token: "sk_test_vox_sandbox", baseUrl: BASE, rateLimit: false, fetch: fetchFn });
    let n = 0;
    for await (const lead of client.iterateLeads({ limit: LIMIT, page: first })) {
      if (onLead) onLead(lead);
      n += lead._id ? 1 : 0;
    }
    return n;
  };
const vox = iterate(VoxClient);

const handLoop =
  ({ fetchFn = memoryFetch, first = 1, onLead } = {}) =>
  async () => {
    let n = 0;
    for (let page = first; ; page++) {
      const res = await fetchFn(`${BASE}/leads/query?page=${page}&limit=${LIMIT}`, { headers: { authorization: "Bearer sk_test_vox_sandbox" } });
      const body = await res.json();
      for (const lead of body.data) {
        if (onLead) onLead(lead);
        n += lead._id ? 1 : 0;
      }
      if (!body.pagination.hasNextPage) return n;
    }
  };
const hand = handLoop();

const samples = { vox: [], hand: [], other: [] };
const runs = [
  ["vox", vox],
  ["hand", hand],
];
if (Other) runs.push(["other", iterate(Other)]);
for (let round = 0; round <= ROUNDS; round++) {
  for (const [name, run] of round % 2 ? [...runs].reverse() : runs) {
    const t0 = performance.now();
    const n = await run();
    const ms = performance.now() - t0;
    if (n !== PAGES * LIMIT) throw new Error(`${name} read ${n} leads of ${PAGES * LIMIT}`);
    if (round > 0) samples[name].push(ms); // round 0 warms up
  }
}
/** The rows of `--against`: the other build, and this build's time less its, round by round. */
function against() {
  const o = stats(samples.other, PAGES * LIMIT);
  const d = samples.vox.map((x, i) => x - samples.other[i]).sort((x, y) => x - y);
  const perPage = (ms) => `${((1000 * ms) / PAGES).toFixed(1)} µs`;
  return [
    [`the other build (${AGAINST})`, `${o.medianMs.toFixed(0)} ms`, `${(100 * o.spread).toFixed(1)}%`, perPage(o.medianMs)],
    [`this build less the other, median of the rounds (${perPage(d[0])} … ${perPage(d[d.length - 1])})`, "", "", perPage(d[d.length >> 1])],
  ];
}
// A server 5 ms away, a caller busy 50 µs a lead (5 ms a page): 100 pages, 3 rounds.
const SLOW_PAGES = 100;
const slowFetch = (url, init) => new Promise((resolve) => setTimeout(() => resolve(memoryFetch(url, init)), 5));
const busy = () => {
  const t = performance.now();
  while (performance.now() - t < 0.05);
};
const slowly = { fetchFn: slowFetch, first: PAGES - SLOW_PAGES + 1, onLead: busy };
const slowRuns = [
  ["vox", iterate(VoxClient, slowly)],
  ["hand", handLoop(slowly)],
];
const slow = { vox: [], hand: [] };
for (let round = 0; round < 3; round++) {
  for (const [name, run] of slowRuns) {
    const t0 = performance.now();
    const n = await run();
    if (n !== SLOW_PAGES * LIMIT) throw new Error(`${name} read ${n} leads of ${SLOW_PAGES * LIMIT}`);
    slow[name].push(performance.now() - t0);
  }
}
const slowRow = (name, xs) => {
  const s = stats(xs, SLOW_PAGES * LIMIT);
  return [
    `${name}: a server 5 ms away, the caller busy 50 µs a lead (${SLOW_PAGES} pages, 3 rounds)`,
    `${s.medianMs.toFixed(0)} ms`,
    `${(100 * s.spread).toFixed(1)}%`,
    `${((1000 * s.medianMs) / SLOW_PAGES).toFixed(0)} µs`,
  ];
};
const v = stats(samples.vox, PAGES * LIMIT);
const h = stats(samples.hand, PAGES * LIMIT);
console.log(
  markdownTable(
    [`iterate ${PAGES} pages of ${LIMIT}, in-memory fetch (node bench/iterate-local.mjs)`, "median", "spread", "per page"],
    [
      ["vox-crm iterateLeads", `${v.medianMs.toFixed(0)} ms`, `${(100 * v.spread).toFixed(1)}%`, `${((1000 * v.medianMs) / PAGES).toFixed(0)} µs`],
      ["hand-written paging loop", `${h.medianMs.toFixed(0)} ms`, `${(100 * h.spread).toFixed(1)}%`, `${((1000 * h.medianMs) / PAGES).toFixed(0)} µs`],
      [`the SDK's own time per page, ${ROUNDS} interleaved rounds`, "", "", `${((1000 * (v.medianMs - h.medianMs)) / PAGES).toFixed(0)} µs`],
      ...(Other ? against() : []),
      slowRow("vox-crm iterateLeads", slow.vox),
      slowRow("hand-written paging loop", slow.hand),
    ],
    ["l", "r", "r", "r"],
  ),
);
