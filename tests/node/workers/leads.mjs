// Shared by tests/node/processes.test.mjs and its worker (workers/import.mjs): deterministic lead
// ranges (lead g of a run is the same in every process, so ranges [from, from+count) of different
// workers never share a phone or a referenceId), and where the built package's subpaths live.
//
// No node:test, no package import at the top: the worker imports this before it loads the package.
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
/** The built package (dist/vox-crm; VOX_CRM_PKG_DIR points the workers and this file at another copy). */
export const PKG_DIR = process.env.VOX_CRM_PKG_DIR || join(ROOT, "dist", "vox-crm");
/** The sandbox's default project (sandbox/README.md, "Default data"). */
export const TOKEN = "sk_test_vox_sandbox";
export const PROJECT_ID = "6650a1b2c3d4e5f601234567";
export const SALES = "6650a1b2c3d4e5f6012345a1";

/**
 * The rules the sandbox and the client use to call a number junk, made a little stricter (tests/node/helpers.mjs
 * uses them too): 5+ equal digits in a row, a period of 1..5 digits, a whole-number +1/-1 walk,
 * or any run of 4 ascending or descending digits.
 */
export function looksJunk(national) {
  if (/(\d)\1{4}/.test(national)) return true;
  for (const k of [1, 2, 3, 4, 5]) {
    let periodic = true;
    for (let i = k; i < national.length; i++)
      if (national[i] !== national[i % k]) {
        periodic = false;
        break;
      }
    if (periodic) return true;
  }
  for (const step of [1, 9]) {
    let seq = true;
    for (let i = 1; i < national.length; i++) {
      if ((Number(national[i - 1]) + step) % 10 !== Number(national[i])) {
        seq = false;
        break;
      }
    }
    if (seq) return true;
  }
  for (let i = 0; i + 3 < national.length; i++) {
    const d = [0, 1, 2, 3].map((j) => Number(national[i + j]));
    if (d[1] - d[0] === d[2] - d[1] && d[2] - d[1] === d[3] - d[2] && Math.abs(d[1] - d[0]) === 1) return true;
  }
  return false;
}

const phones = [];
let counter = 0;

/** The g-th phone of the sequence: "+9198XXXXXXXX", distinct for every g, never junk. */
export function phoneAt(g) {
  while (phones.length <= g) {
    counter++;
    // 48271 is coprime to 10^8: the tails walk every 8-digit number once, in an order without patterns.
    const tail = String((counter * 48271 + 27182818) % 100000000).padStart(8, "0");
    const national = "98" + tail;
    if (!looksJunk(national)) phones.push("+91" + national);
  }
  return phones[g];
}

/** Lead g of a run tagged `tag`: a unique phone and referenceId, the default project's Sales process. */
export function leadAt(g, tag) {
  return { name: `Worker Lead ${g}`, phone: phoneAt(g), processId: SALES, referenceId: `${tag}-${g}` };
}

/** Leads from, from+1, ..., from+count-1 of the run `tag`. */
export function leadRange(from, count, tag) {
  return Array.from({ length: count }, (_, i) => leadAt(from + i, tag));
}

/** The built package's main entry for Node (as tests/node/helpers.mjs imports it). */
export const MAIN_ENTRY = join(PKG_DIR, "node", "index.mjs");

function pickCondition(target) {
  if (typeof target === "string") return target;
  if (!target || typeof target !== "object") return null;
  for (const cond of ["node", "import", "default"]) {
    if (cond in target) {
      const hit = pickCondition(target[cond]);
      if (hit) return hit;
    }
  }
  return null;
}

/**
 * The file behind the package's `vox-crm/redis` subpath: the `./redis` export of dist/vox-crm/package.json
 * (conditions node > import > default), else dist/vox-crm/redis.mjs. Throws a clear error when the built
 * package has neither.
 */
export function redisEntry() {
  let rel = null;
  try {
    const pkg = JSON.parse(readFileSync(join(PKG_DIR, "package.json"), "utf8"));
    rel = pickCondition(pkg.exports?.["./redis"]);
  } catch {
    /* no package.json: fall back */
  }
  const file = join(PKG_DIR, rel ?? "./redis.mjs");
  if (!existsSync(file)) {
    throw new Error(
      `the built package has no "vox-crm/redis" subpath: ${rel ? `its ./redis export (${rel}) is missing` : "no ./redis export and no dist/vox-crm/redis.mjs"}; build it with scripts/package.sh`,
    );
  }
  return pathToFileURL(file).href;
}
