// A very large bulk (issue 14: 3,000,000 leads used to die with "RuntimeError: unreachable"):
// bulkInitiateLeads of N leads, rate limit and duplicate guard off, against the fast fake CRM of
// bench/fast-crm.mjs (this process, 127.0.0.1), run in a child process (bench/workers/bigbulk.mjs)
// so that its RSS is its own. Reports the counts, the time, the child's peak RSS, its wasm memory
// and its RSS once the report is dropped and a full gc ran. Fails when a lead is not created.
// Usage: node bench/bigbulk.mjs [--leads 3000000]
import { performance } from "node:perf_hooks";
import { runBigBulk, startFastCrm } from "./fast-crm.mjs";
import { fmtInt, markdownTable } from "./lib.mjs";

const arg = (name, dflt) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const LEADS = arg("--leads", 3_000_000);

const mb = (bytes) => `${(bytes / 2 ** 20).toFixed(bytes < 100 * 2 ** 20 ? 1 : 0)} MB`;
const crm = await startFastCrm();
const t0 = performance.now();
let run;
try {
  const job = runBigBulk(crm.url, [LEADS]);
  try {
    [run] = await job.done;
  } finally {
    job.kill();
  }
} finally {
  await crm.close();
}
const childMs = performance.now() - t0;
if (run.created !== LEADS || !run.inOrder || !run.idsOk || !run.phonesOk) {
  throw new Error(`bulk of ${LEADS}: ${JSON.stringify(run)}`);
}

const table = markdownTable(
  [
    "big bulk (node bench/bigbulk.mjs)",
    "leads",
    "created / failed / unknown",
    "time",
    "leads/s",
    "peak RSS",
    "wasm memory",
    "RSS after report dropped + gc",
    "notes",
  ],
  [
    [
      "bulkInitiateLeads, limits off, fake CRM on loopback, 1 child process",
      fmtInt(run.leads),
      `${fmtInt(run.created)} / ${fmtInt(run.failed)} / ${fmtInt(run.unknown)}`,
      `${(run.ms / 1000).toFixed(1)} s`,
      fmtInt(run.leads / (run.ms / 1000)),
      mb(run.peakRssKb * 1024),
      mb(run.wasmBytes),
      mb(run.rssReportDroppedKb * 1024),
      `RSS after, gc: the report dropped, the input still held (JS heap used ${mb(run.heapReportDroppedBytes)}); ` +
        `the input dropped too: RSS ${mb(run.rssInputDroppedKb * 1024)}, heap used ${mb(run.heapBytes)}; ` +
        `wasm memory: its byteLength, also its peak (a wasm memory never shrinks), ${run.wasmInstances === 1 ? "no restart" : `${run.wasmInstances} instances`}; ` +
        `process.memoryUsage() external ${mb(run.externalBytes)} (counts the wasm memory), arrayBuffers ${mb(run.arrayBuffersBytes)} (does not); ` +
        `${fmtInt(run.requests)} requests; child process ${(childMs / 1000).toFixed(1)} s with making the leads`,
    ],
  ],
  ["l", "r", "r", "r", "r", "r", "r", "r", "l"],
);
console.log(table);

export { table };
