// Cold start in Node: a fresh process imports vox-crm (which instantiates the .wasm) and makes
// its first validatePhone call; median and spread over 20 processes.
// Usage: node bench/coldstart.mjs [--runs 20]
import { execFileSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { fmtPct, markdownTable, stats } from "./lib.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const i = process.argv.indexOf("--runs");
const RUNS = i > 0 ? Number(process.argv[i + 1]) : 20;
const entry = pathToFileURL(join(root, "dist/vox-crm/node/index.mjs")).href;
const probe = `
const t0 = performance.now();
const { validatePhone } = await import(${JSON.stringify(entry)});
const ok = validatePhone("+919845317206").valid;
process.stdout.write(JSON.stringify({ ms: performance.now() - t0, ok }));`;

const samples = [];
for (let r = 0; r < RUNS; r++) {
  const out = JSON.parse(execFileSync(process.execPath, ["--input-type=module", "-e", probe], { encoding: "utf8" }));
  if (!out.ok) throw new Error("validatePhone failed in the probe");
  samples.push(out.ms);
}
const s = stats(samples, 1);
const sorted = [...samples].sort((a, b) => a - b);
console.log(
  markdownTable(
    ["cold start in Node (node bench/coldstart.mjs)", "median", "min … max", "spread"],
    [
      [
        `import + instantiate + first validatePhone, ${RUNS} fresh processes [≤ 15 ms]`,
        `${s.medianMs.toFixed(1)} ms`,
        `${sorted[0].toFixed(1)} … ${sorted[sorted.length - 1].toFixed(1)} ms`,
        fmtPct(s.spread),
      ],
    ],
    ["l", "r", "r", "r"],
  ),
);
