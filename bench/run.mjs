// `make bench`: every benchmark in one run, one table each, written to bench/results.md.
// Builds nothing: run scripts/package.sh first (make bench does).
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const parts = [
  ["bench/size.mjs"],
  ["bench/coldstart.mjs"],
  ["bench/phone.mjs", "--no-size"],
  ["bench/traffic.mjs"],
  ["bench/iterate-local.mjs"],
  ["bench/bulk-local.mjs"],
  ["bench/bigbulk.mjs"],
  ["bench/cli-validate.mjs"],
];
const out = [
  "# vox-crm benchmarks",
  "",
  `Measured by \`make bench\` on ${new Date().toISOString().slice(0, 10)}: node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? "?"}.`,
  "Each section below is one command's output; every ratio compares two things measured in the same run.",
];
for (const [script, ...args] of parts) {
  const cmd = `node ${[script, ...args].join(" ")}`;
  console.error(`== ${cmd}`);
  const text = execFileSync(process.execPath, [join(root, script), ...args], {
    cwd: root,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
    maxBuffer: 16 << 20,
  });
  process.stdout.write(text + "\n");
  out.push("", `## \`${cmd}\``, "", text.trim());
}
writeFileSync(join(root, "bench", "results.md"), out.join("\n") + "\n");
console.error("wrote bench/results.md");
