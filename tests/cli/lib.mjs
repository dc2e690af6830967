// Shared pieces of the command line's tests (tests/cli/*.test.mjs): the package under test
// (VOX_PKG_DIR, default dist/vox-crm) with its bin and its sandbox, running the bin as a child
// process, temp folders, CSV files, and reading a results file back.
//
//   node --test tests/cli/                                  (after scripts/package.sh)
//   VOX_PKG_DIR=.build/cli-pkg/vox-crm node --test tests/cli/   (a copy: node scripts/package.mjs .build/cli-pkg/vox-crm)
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import Papa from "papaparse";

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
export const PKG = resolve(ROOT, process.env.VOX_PKG_DIR || join("dist", "vox-crm"));
export const BIN = join(PKG, "cli", "main.mjs");
export const SALES = "6650a1b2c3d4e5f6012345a1";
export const TOKEN = "sk_test_vox_sandbox";

/** Fails unless the package under test has the command line and the sandbox. */
export function requirePackage() {
  for (const p of ["cli/main.mjs", "sandbox/server.mjs", "node/index.mjs"]) {
    if (!existsSync(join(PKG, p)))
      throw new Error(`${PKG} has no ${p}: run scripts/package.sh (or node scripts/package.mjs .build/cli-pkg/vox-crm and set VOX_PKG_DIR)`);
  }
}

/** startSandbox of the package under test (vox-crm/sandbox), quiet, calls far away, no rate limit unless asked. */
export async function startSandbox(options = {}) {
  requirePackage();
  const { startSandbox: start } = await import(pathToFileURL(join(PKG, "sandbox", "server.mjs")).href);
  return start({ quiet: true, callDelayMs: 600000, rateLimit: false, ...options });
}

/** A temp folder removed after the test. */
export function tempDir(t, name = "cli") {
  const dir = mkdtempSync(join(tmpdir(), `vox-${name}-`));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** The environment for the bin: the sandbox's credentials, none of the caller's VOX_*. */
export function cliEnv(sb, extra = {}) {
  const env = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith("VOX_")) delete env[k];
  return { ...env, ...(sb ? sb.env : {}), ...extra };
}

/**
 * Starts the bin with args; resolves { code, signal, stdout, stderr } when it exits (never rejects
 * on a status). `child` is the ChildProcess, `output()` what it printed so far.
 */
export function spawnCli(args, { env, cwd, timeoutMs = 120000 } = {}) {
  const child = spawn(process.execPath, [BIN, ...args], { env: env ?? cliEnv(null), cwd, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d) => {
    stdout += d;
  });
  child.stderr.on("data", (d) => {
    stderr += d;
  });
  const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
  const done = new Promise((res) =>
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      res({ code, signal, stdout, stderr });
    }),
  );
  return { child, done, output: () => ({ stdout, stderr }) };
}

export const runCli = (args, opts) => spawnCli(args, opts).done;

/** Writes a CSV (cells quoted where needed) and returns its path. */
export function writeCsv(dir, name, header, rows, { delimiter = ",", bom = false, newline = "\n" } = {}) {
  const text = Papa.unparse([header, ...rows], { delimiter, newline }); // rows may be longer than the header
  const path = join(dir, name);
  writeFileSync(path, (bom ? "\uFEFF" : "") + text + newline);
  return path;
}

/** A results file as [{ row, status, leadId, referenceId, code, message, hash }] (row a number). */
export function readResults(path) {
  const { data, meta } = Papa.parse(readFileSync(path, "utf8"), { header: true, skipEmptyLines: true });
  assert.deepEqual(meta.fields, ["row", "status", "leadId", "referenceId", "code", "message", "hash"], "the results file's columns");
  return data.map((r) => ({ ...r, row: Number(r.row) }));
}

/** Asserts the results cover rows 1..n, each exactly once, in order. */
export function assertEveryRowOnce(results, n, label = "results") {
  assert.equal(results.length, n, `${label}: one line per row`);
  for (const [i, r] of results.entries()) assert.equal(r.row, i + 1, `${label}: line ${i + 1} is row ${i + 1}`);
}

/** Counts of a list by key. */
export function countBy(list, key) {
  const out = {};
  for (const x of list) out[key(x)] = (out[key(x)] ?? 0) + 1;
  return out;
}

/** Waits until fn() is truthy (polled), or fails after timeoutMs. */
export async function waitUntil(fn, { timeoutMs = 30000, what = "condition" } = {}) {
  const end = Date.now() + timeoutMs;
  while (!(await fn())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A valid Indian mobile number for index i (unique for i < 10^8). */
export const phoneOf = (i) => `+9198${String(30000000 + i).padStart(8, "0")}`; // valid for i in 1..1,000,000
