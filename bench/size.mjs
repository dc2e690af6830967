// Package weight: gzip -9 bytes of what each build ships (the .wasm plus its JS), beside
// libphonenumber-js bundles measured the same way (esbuild --bundle --minify, gzip -9), and the
// largest items of the .wasm (twiggy-style, from the name section of an unstripped build).
// Usage: node bench/size.mjs [--check]   (--check: fail when the web build grew > 5% over
// bench/size-budget.json; make test runs that)

import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { build } from "esbuild";
import { fmtInt, markdownTable, wasmFunctions } from "./lib.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const pkg = join(root, "dist", "vox-crm");
const gz = (bytes) => gzipSync(bytes, { level: 9 }).length;

function files(dir) {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? files(p) : [p];
  });
}

/** Lines of Rust code under `dir` (blank lines, comments and `#[cfg(test)]` modules left out). */
function codeLines(dir, keep = () => true) {
  let n = 0;
  for (const f of files(dir).filter((f) => f.endsWith(".rs") && keep(f))) {
    for (const line of readFileSync(f, "utf8").split("\n")) {
      if (/^#\[cfg\(test\)\]/.test(line)) break; // test modules come last
      if (!/^\s*(\/\/|$)/.test(line)) n++;
    }
  }
  return n;
}

/** gzip bytes of a build: the files (of the package) it loads — its .wasm and its JS. */
export function buildWeight(paths) {
  const shipped = paths.map((p) => join(pkg, p));
  const wasm = shipped.filter((f) => f.endsWith(".wasm")).reduce((a, f) => a + gz(readFileSync(f)), 0);
  const js = shipped.filter((f) => !f.endsWith(".wasm")).reduce((a, f) => a + gz(readFileSync(f)), 0);
  return { wasm, js, total: wasm + js };
}

async function bundleWeight(spec) {
  const out = await build({
    stdin: { contents: `export { isValidPhoneNumber, parsePhoneNumber } from "${spec}";`, resolveDir: root },
    bundle: true,
    minify: true,
    format: "esm",
    platform: "browser",
    write: false,
    logLevel: "silent",
  });
  return gz(out.outputFiles[0].contents);
}

if (!existsSync(join(pkg, "web", "vox_crm_bg.wasm"))) {
  console.error("dist/vox-crm is missing: run scripts/package.sh first");
  process.exit(1);
}
// What each loads: the web build web/'s .wasm, Node node/'s (compiled for speed); node/bundler.mjs
// (for server bundlers, web/'s bytes inline) is not what Node loads.
const web = buildWeight(["web/index.mjs", "web/vox_crm_bg.wasm"]);
const node = buildWeight(["node/index.cjs", "node/index.mjs", "node/vox_crm_bg.wasm"]);
const budgetFile = join(root, "bench", "size-budget.json");

if (process.argv.includes("--check")) {
  const budget = JSON.parse(readFileSync(budgetFile, "utf8")).webGzipBytes;
  const limit = Math.floor(budget * 1.05);
  console.log(`web build: ${fmtInt(web.total)} gzip bytes; budget ${fmtInt(budget)} (+5% = ${fmtInt(limit)})`);
  if (web.total > limit) {
    console.error(`FAIL: the web build grew more than 5% over bench/size-budget.json`);
    process.exit(1);
  }
  process.exit(0);
}
if (process.argv.includes("--write-budget")) {
  writeFileSync(
    budgetFile,
    JSON.stringify({ webGzipBytes: web.total, note: "gzip -9 bytes of dist/vox-crm/web (wasm + js); node bench/size.mjs --write-budget" }, null, 2) + "\n",
  );
}

const min = await bundleWeight("libphonenumber-js/min");
const max = await bundleWeight("libphonenumber-js/max");
const rows = [
  ["vox-crm web build (.wasm + JS) [≤ 65,536 B; stretch 48 KB]", fmtInt(web.wasm), fmtInt(web.js), fmtInt(web.total)],
  ["vox-crm Node build (.wasm + JS)", fmtInt(node.wasm), fmtInt(node.js), fmtInt(node.total)],
  ["libphonenumber-js/min bundle (validation only)", "", fmtInt(min), fmtInt(min)],
  ["libphonenumber-js/max bundle (validation only)", "", fmtInt(max), fmtInt(max)],
];
console.log(markdownTable(["package weight, gzip -9 bytes (node bench/size.mjs)", "wasm", "js", "total"], rows, ["l", "r", "r", "r"]));

// How thin the wasm edge is: its code lines beside the core's (the phone crate not counted).
const edge = codeLines(join(root, "src", "wasm"));
const core = codeLines(join(root, "src", "core"), (f) => !/(engine_tests|testkit)\.rs$/.test(f));
console.log(
  "\n" +
    markdownTable(
      ["thin edge (lines of code: not blank, not comments, not tests)", "lines"],
      [
        ["src/core (the core)", fmtInt(core)],
        ["src/wasm (the edge)", fmtInt(edge)],
        ["edge / core [≤ 15%]", `${((100 * edge) / core).toFixed(1)}%`],
      ],
      ["l", "r"],
    ),
);

// What costs bytes: the release build again, unstripped, so functions keep their names.
execFileSync("cargo", ["build", "--release", "--target", "wasm32-unknown-unknown", "--quiet"], { cwd: root, stdio: "inherit" });
const tmp = mkdtempSync(join(tmpdir(), "vox-size-"));
execFileSync("wasm-bindgen", ["--target", "web", "--out-dir", tmp, "--out-name", "vox_crm", join(root, "target/wasm32-unknown-unknown/release/vox_crm.wasm")]);
const fns = wasmFunctions(readFileSync(join(tmp, "vox_crm_bg.wasm")));
const groups = new Map();
for (const f of fns) {
  const m = /^(?:<)?([a-z_0-9]+)(?:\[[0-9a-f]+\])?::([a-z_0-9]+)?/.exec(f.name || "");
  const key = m ? (m[1] === "vox_crm" ? `vox_crm::${m[2]}` : m[1]) : "(unnamed)";
  groups.set(key, (groups.get(key) || 0) + f.body.length);
}
const top = [...groups].sort((a, b) => b[1] - a[1]).slice(0, 15);
console.log(
  "\n" +
    markdownTable(
      ["code by crate/module (twiggy-style, unstripped release)", "body bytes"],
      top.map(([k, v]) => [k, fmtInt(v)]),
      ["l", "r"],
    ),
);
