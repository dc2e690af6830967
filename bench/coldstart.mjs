// Cold start in Node: a fresh process imports vox-crm (which instantiates the .wasm) and makes
// its first validatePhone call; median and spread over 20 processes. Beside it, in the same
// rounds (interleaved), the floors any package of this shape pays on this machine: importing an
// empty ES module, an empty ES module that loads an empty CommonJS file (the Node entry's
// shape), and that pair also reading and compiling vox-crm's Node .wasm without instantiating it.
// Usage: node bench/coldstart.mjs [--runs 20]
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { fmtPct, markdownTable, stats } from "./lib.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const i = process.argv.indexOf("--runs");
const RUNS = i > 0 ? Number(process.argv[i + 1]) : 20;
const wasmPath = join(root, "dist/vox-crm/node/vox_crm_bg.wasm");

const dir = mkdtempSync(join(tmpdir(), "vox-cold-"));
const pair = (name, cjs) => {
  writeFileSync(join(dir, `${name}.cjs`), cjs);
  writeFileSync(
    join(dir, `${name}.mjs`),
    `import { createRequire } from "node:module";\nexport const { f } = createRequire(import.meta.url)("./${name}.cjs");\n`,
  );
  return join(dir, `${name}.mjs`);
};
writeFileSync(join(dir, "empty.mjs"), "export const f = () => true;\n");
const cases = [
  {
    name: "vox-crm: import + instantiate + first validatePhone",
    file: join(root, "dist/vox-crm/node/index.mjs"),
    call: 'm.validatePhone("+919845317206").valid',
    target: " [≤ 15 ms]",
  },
  { name: "floor: an empty ES module", file: join(dir, "empty.mjs"), call: "m.f()" },
  { name: "floor: an empty ES module loading an empty CommonJS file", file: pair("pair", "exports.f = () => true;\n"), call: "m.f()" },
  {
    name: "floor: that pair compiling vox-crm's Node .wasm (no instantiation)",
    file: pair(
      "compile",
      `const m = new WebAssembly.Module(require("node:fs").readFileSync(${JSON.stringify(wasmPath)}));\nexports.f = () => m instanceof WebAssembly.Module;\n`,
    ),
    call: "m.f()",
  },
];
const probe = (c) => `
const t0 = performance.now();
const m = await import(${JSON.stringify(pathToFileURL(c.file).href)});
const ok = ${c.call};
process.stdout.write(JSON.stringify({ ms: performance.now() - t0, ok }));`;

const samples = cases.map(() => []);
try {
  for (let r = 0; r < RUNS; r++) {
    cases.forEach((c, k) => {
      const out = JSON.parse(execFileSync(process.execPath, ["--input-type=module", "-e", probe(c)], { encoding: "utf8" }));
      if (out.ok !== true) throw new Error(`the probe "${c.name}" failed`);
      samples[k].push(out.ms);
    });
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
const rows = cases.map((c, k) => {
  const s = stats(samples[k], 1);
  const sorted = [...samples[k]].sort((a, b) => a - b);
  return [
    `${c.name}, ${RUNS} fresh processes${c.target ?? ""}`,
    `${s.medianMs.toFixed(1)} ms`,
    `${sorted[0].toFixed(1)} … ${sorted[sorted.length - 1].toFixed(1)} ms`,
    fmtPct(s.spread),
  ];
});
console.log(markdownTable(["cold start in Node (node bench/coldstart.mjs)", "median", "min … max", "spread"], rows, ["l", "r", "r", "r"]));
