// Ctrl-C in the middle of `vox-crm import` (SIGINT to the child), then --resume: every row
// created exactly once in all (the sandbox's leads), with referenceIds (one Ctrl-C: the requests
// on the wire are answered and accounted, nothing is unknown) and without (two: the requests on
// the wire are abandoned, their rows unknown, and --resume finds them by phone before sending).

import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";
import {
  assertEveryRowOnce,
  cliEnv,
  countBy,
  phoneOf,
  readResults,
  requirePackage,
  runCli,
  SALES,
  spawnCli,
  startSandbox,
  tempDir,
  waitUntil,
  writeCsv,
} from "./lib.mjs";

requirePackage();

const N = 20000;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Each bulk request waits `ms` in the sandbox before it is processed: requests are on the wire when Ctrl-C comes. */
const slowBulk = (ms) => [{ kind: "delay", ms, path: "/leads/bulk/initiate", probability: 1 }];

test("Ctrl-C once: the requests on the wire finish, the results account for every row; --resume creates the rest once", { timeout: 90000 }, async (t) => {
  const dir = tempDir(t, "sigint");
  const sb = await startSandbox({ faults: slowBulk(200) });
  t.after(() => sb.close());
  const rows = Array.from({ length: N }, (_, k) => [`Lead ${k + 1}`, phoneOf(k + 1), `crm-${k + 1}`]);
  const file = writeCsv(dir, "leads.csv", ["name", "phone", "referenceId"], rows);
  const args = ["import", file, "--process", SALES, "--no-init", "--chunk-size", "100", "--rate-limit", "1000/1000"];

  const run = spawnCli(args, { env: cliEnv(sb) });
  await waitUntil(() => sb.stats().leads >= 2000, { what: "2,000 leads created", timeoutMs: 60000 });
  run.child.kill("SIGINT");
  const t0 = Date.now();
  const first = await run.done;
  const stopMs = Date.now() - t0;
  assert.equal(first.code, 130, `interrupted: exit 130\n${first.stderr}`);
  assert.match(first.stderr, /Stopping: no new requests/);
  assert.match(first.stdout, /interrupted/);
  assert.ok(stopMs < 10000, `stopped in ${stopMs} ms`);
  await sleep(300); // nothing is left on the wire; give a stray request time to show up anyway

  const results = join(dir, "leads.csv.results.csv");
  const r1 = readResults(results);
  assertEveryRowOnce(r1, N, "after Ctrl-C");
  const by = countBy(r1, (r) => r.status);
  assert.equal(by.unknown, undefined, "a clean stop leaves no row unknown");
  assert.ok(by.created >= 2000 && by.created < N, `${by.created} created before the stop`);
  assert.ok(r1.filter((r) => r.status === "failed").every((r) => r.code === "aborted" && r.message === "Not sent: the import was interrupted"));
  const leads = sb.leads();
  assert.equal(leads.length, by.created, "the sandbox has exactly the rows the results call created");
  const byRef = new Map(leads.map((l) => [l.referenceId, l._id]));
  for (const r of r1) {
    if (r.status === "created") assert.equal(byRef.get(`crm-${r.row}`), r.leadId, `row ${r.row}`);
    else assert.equal(byRef.has(`crm-${r.row}`), false, `row ${r.row} was not sent`);
  }

  const second = await runCli([...args, "--chunk-size", "1000", "--resume", results], { env: cliEnv(sb) });
  assert.equal(second.code, 0, second.stderr);
  const r2 = readResults(results);
  assertEveryRowOnce(r2, N, "after --resume");
  assert.ok(r2.every((r) => r.status === "created"));
  const all = sb.leads();
  assert.equal(all.length, N, "every row created exactly once in all");
  assert.equal(new Set(all.map((l) => l.referenceId)).size, N);
  for (const r of r2) assert.equal(r.leadId, all.find((l) => l.referenceId === `crm-${r.row}`)?._id ?? r.leadId);
  assert.equal(sb.stats().duplicateRejections, 0, "nothing was sent twice");
  t.diagnostic(`stopped after ${by.created} created, in ${stopMs} ms`);
});

test("Ctrl-C twice, rows without referenceId: on-the-wire rows unknown, --resume looks them up by phone, each lead once", { timeout: 90000 }, async (t) => {
  const dir = tempDir(t, "sigint2");
  const sb = await startSandbox({ faults: slowBulk(400) });
  t.after(() => sb.close());
  const rows = Array.from({ length: N }, (_, k) => [`Lead ${k + 1}`, phoneOf(k + 1)]);
  const file = writeCsv(dir, "leads.csv", ["name", "phone"], rows);
  const args = ["import", file, "--process", SALES, "--no-init", "--chunk-size", "100", "--rate-limit", "1000/1000"];

  const run = spawnCli(args, { env: cliEnv(sb) });
  await waitUntil(() => sb.stats().leads >= 2000, { what: "2,000 leads created", timeoutMs: 60000 });
  run.child.kill("SIGINT");
  await waitUntil(() => run.output().stderr.includes("Stopping"), { what: "the first Ctrl-C taken" });
  run.child.kill("SIGINT");
  const first = await run.done;
  assert.equal(first.code, 130, first.stderr);
  assert.match(first.stderr, /Quitting: requests on the wire are abandoned/);
  // The abandoned requests are still processed by the sandbox: wait until it is quiet.
  let last = -1;
  await waitUntil(
    async () => {
      const n = sb.stats().leads;
      const same = n === last;
      last = n;
      await sleep(500);
      return same;
    },
    { what: "the sandbox to settle" },
  );

  const results = join(dir, "leads.csv.results.csv");
  const r1 = readResults(results);
  const by = countBy(r1, (r) => r.status);
  assert.ok(by.unknown > 0, `rows on the wire are unknown (${JSON.stringify(by)})`);
  assert.ok(sb.stats().leads > (by.created ?? 0), "the sandbox created some of the unknown rows");

  const second = await runCli([...args, "--chunk-size", "1000", "--resume", results, "--json"], { env: cliEnv(sb) });
  assert.equal(second.code, 0, second.stderr);
  const summary = JSON.parse(second.stdout.trim().split("\n").pop());
  assert.equal(summary.resume.unknownBefore, by.unknown);
  assert.equal(summary.resume.foundCreated + summary.resume.resentUnknown, by.unknown);
  assert.ok(summary.resume.foundCreated > 0, "unknown rows the sandbox had created were found, not sent");
  const r2 = readResults(results);
  assertEveryRowOnce(r2, N, "after --resume");
  assert.ok(r2.every((r) => r.status === "created"));
  const all = sb.leads();
  assert.equal(all.length, N, "every row created exactly once in all");
  assert.equal(new Set(all.map((l) => l.phone)).size, N);
  assert.deepEqual(new Set(r2.map((r) => r.leadId)), new Set(all.map((l) => l._id)));
  assert.equal(sb.stats().duplicateRejections, 0, "no lead was sent twice");
  t.diagnostic(`first run: ${JSON.stringify(by)}; resume found ${summary.resume.foundCreated}, sent ${summary.resume.resentUnknown}`);
});
