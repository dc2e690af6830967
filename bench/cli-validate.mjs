// `vox-crm validate` on a 1,000,000-row CSV (name, phone in mixed spellings and regions with 2% bad
// numbers, email), generated in a temp folder: the bin of the built package run as a child process
// `--reps` times (default 5, after one warm-up for the disk cache); the median rows/s of the command's
// own time (streaming the file, parsing it with papaparse, validatePhones in batches) and of the wall
// time (process start included). Usage: node bench/cli-validate.mjs [--rows 1000000] [--reps 5]
// (VOX_PKG_DIR: another package than dist/vox-crm)
import { execFileSync } from "node:child_process";
import { once } from "node:events";
import { createWriteStream, existsSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { fmtInt, markdownTable, stats } from "./lib.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const pkg = resolve(root, process.env.VOX_PKG_DIR || join("dist", "vox-crm"));
const bin = join(pkg, "cli", "main.mjs");
const arg = (name, dflt) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const ROWS = arg("--rows", 1_000_000);
const REPS = arg("--reps", 5);
if (!existsSync(bin)) {
  console.error(`${bin} is missing: run scripts/package.sh first`);
  process.exit(1);
}

const dir = mkdtempSync(join(tmpdir(), "vox-bench-validate-"));
try {
  const file = join(dir, "leads.csv");
  const out = createWriteStream(file);
  out.write("name,phone,email\n");
  const spell = [(n) => `+91${n}`, (n) => `${n.slice(0, 5)} ${n.slice(5)}`, (n) => `0${n}`, (n) => `+91-${n.slice(0, 5)}-${n.slice(5)}`];
  let buf = "";
  for (let i = 1; i <= ROWS; i++) {
    const national = `9${String(830000000 + i).slice(-9)}`;
    let phone = spell[i % spell.length](national);
    if (i % 50 === 0) phone = i % 100 === 0 ? "12345" : "9999999999";
    else if (i % 17 === 0) phone = `+44 20 7946 ${String(i % 10000).padStart(4, "0")}`;
    buf += `"Lead ${i}",${phone},lead${i}@example.com\n`;
    if (buf.length > 1 << 20) {
      if (!out.write(buf)) await once(out, "drain");
      buf = "";
    }
  }
  out.end(buf);
  await once(out, "finish");

  const runOnce = () => {
    const t0 = performance.now();
    let stdout;
    try {
      stdout = execFileSync(process.execPath, [bin, "validate", file, "--json"], { encoding: "utf8", maxBuffer: 16 << 20 });
    } catch (err) {
      if (err.status !== 1) throw err; // 1: some phones are invalid, as they are here
      stdout = err.stdout;
    }
    const wall = performance.now() - t0;
    const report = JSON.parse(stdout);
    if (report.rows !== ROWS) throw new Error(`validate saw ${report.rows} rows of ${ROWS}`);
    return { wall, own: report.durationMs, report };
  };
  runOnce(); // warm-up: the file in the page cache
  const runs = Array.from({ length: REPS }, runOnce);
  const own = stats(
    runs.map((r) => r.own),
    ROWS,
  );
  const wall = stats(
    runs.map((r) => r.wall),
    ROWS,
  );
  const { report } = runs[0];
  const mb = (statSync(file).size / 2 ** 20).toFixed(0);
  console.log(
    markdownTable(
      ["vox-crm validate (node bench/cli-validate.mjs)", "rows", "file", "median time", "rows/s (median)", "rows/s wall (process start incl.)", "verdicts"],
      [
        [
          `CSV, papaparse streamed, validatePhones in batches; ${REPS} runs`,
          fmtInt(ROWS),
          `${mb} MB`,
          `${(own.medianMs / 1000).toFixed(2)} s`,
          fmtInt(own.perSecond),
          fmtInt(wall.perSecond),
          `${fmtInt(report.valid)} valid, ${fmtInt(report.invalid)} invalid (${Object.entries(report.reasons)
            .map(([k, v]) => `${k} ${fmtInt(v.count)}`)
            .join(", ")})`,
        ],
      ],
      ["l", "r", "r", "r", "r", "r", "l"],
    ),
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
