// What bulkInitiateLeads itself costs, without a server: the client's `fetch` option answers
// from memory as the API would (every lead created, with an `_id`), and a hand-written loop sends
// the same leads in the same chunks through the same function. Interleaved rounds in one
// process; the difference of the medians is the SDK's own time per 1,000 leads (checking each
// lead and its phone, the duplicate guard, writing the JSON, matching the answer to the inputs,
// the report). `node bench/traffic.mjs` measures the same against the sandbox.
// With `--against DIR` (a copy of another build's dist/vox-crm), that build runs in the same
// rounds too, and the table adds the median of the rounds' differences: an A/B of two builds.
// The order of the runs turns round each round.
// Usage: node bench/bulk-local.mjs [--rounds 9] [--leads 20000] [--against DIR]
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { markdownTable, stats } from "./lib.mjs";
import { makeLeads, plainBulk, TOKEN } from "./workers/common.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const arg = (name, dflt) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const ROUNDS = Number(arg("--rounds", 9));
const LEADS = Number(arg("--leads", 20000));
const AGAINST = arg("--against", null);
const CHUNK = 1000;
const CONCURRENCY = 4;
const BASE = "http://127.0.0.1:9/api/v1"; // never reached: every request is answered in memory

const load = async (dir) => (await import(pathToFileURL(join(dir, "node/index.mjs")).href)).VoxClient;
const VoxClient = await load(join(root, "dist/vox-crm"));
const Other = AGAINST && (await load(AGAINST));

let nextId = 0;
const json = (status, value) => {
  const text = JSON.stringify(value);
  return new Response(text, { status, headers: { "content-type": "application/json", "content-length": String(Buffer.byteLength(text)) } });
};
/** The API in memory: a bulk creates every lead it is sent; a query (the check for leads that exist) finds none. */
const memoryFetch = async (_url, init) => {
  if (!init?.body) return json(200, { data: [], pagination: { page: 1, limit: 100, total: 0, totalPages: 0, hasNextPage: false } });
  const { leads } = JSON.parse(init.body);
  const success = leads.map((l) => ({ ...l, _id: `6650a1b2c3d4e5f6${(nextId++).toString(16).padStart(8, "0")}`, state: "new" }));
  return json(201, { success, failed: [] });
};

// Each run its own project, so that one run's leads are never duplicates of another's.
let project = 0;
const projectId = () => `6650a1b2c3d4e5f601${(project++).toString(16).padStart(6, "0")}`;

const bulk = (VoxClient) => async (leads) => {
  const client = new VoxClient({ projectId: projectId(), token: TOKEN, baseUrl: BASE, rateLimit: false, fetch: memoryFetch });
  const r = await client.bulkInitiateLeads(leads, { init: false, chunkSize: CHUNK, concurrency: CONCURRENCY });
  return r.created.length;
};

/** bench/workers/bulk.mjs's baseline: the same chunks and concurrency, no checks. */
const hand = (leads) => plainBulk(leads, { baseUrl: BASE, projectId: projectId(), fetchFn: memoryFetch, chunk: CHUNK, concurrency: CONCURRENCY });

const samples = { vox: [], hand: [], other: [] };
const runs = [
  ["vox", bulk(VoxClient)],
  ["hand", hand],
];
if (Other) runs.push(["other", bulk(Other)]);
for (let round = 0; round <= ROUNDS; round++) {
  for (const [name, run] of round % 2 ? [...runs].reverse() : runs) {
    const leads = makeLeads(LEADS, `${name}${round}`);
    const t0 = performance.now();
    const n = await run(leads);
    const ms = performance.now() - t0;
    if (n !== LEADS) throw new Error(`${name} created ${n} leads of ${LEADS}`);
    if (round > 0) samples[name].push(ms); // round 0 warms up
  }
}
const per1000 = (ms) => `${((1000 * ms) / LEADS).toFixed(1)} ms`;
/** The rows of `--against`: the other build, and this build's time less its, round by round. */
function against() {
  const o = stats(samples.other, LEADS);
  const d = samples.vox.map((x, i) => x - samples.other[i]).sort((x, y) => x - y);
  return [
    [`the other build (${AGAINST})`, `${o.medianMs.toFixed(0)} ms`, `${(100 * o.spread).toFixed(1)}%`, per1000(o.medianMs)],
    [`this build less the other, median of the rounds (${per1000(d[0])} … ${per1000(d[d.length - 1])})`, "", "", per1000(d[d.length >> 1])],
  ];
}
const v = stats(samples.vox, LEADS);
const h = stats(samples.hand, LEADS);
console.log(
  markdownTable(
    [`bulk of ${LEADS.toLocaleString("en")} leads, chunks of ${CHUNK}, in-memory fetch (node bench/bulk-local.mjs)`, "median", "spread", "per 1,000 leads"],
    [
      ["vox-crm bulkInitiateLeads", `${v.medianMs.toFixed(0)} ms`, `${(100 * v.spread).toFixed(1)}%`, per1000(v.medianMs)],
      ["hand-written chunked loop", `${h.medianMs.toFixed(0)} ms`, `${(100 * h.spread).toFixed(1)}%`, per1000(h.medianMs)],
      [`the SDK's own time per 1,000 leads, ${ROUNDS} interleaved rounds`, "", "", per1000(v.medianMs - h.medianMs)],
      ...(Other ? against() : []),
    ],
    ["l", "r", "r", "r"],
  ),
);
