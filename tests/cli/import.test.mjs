// `vox-crm import` from the built package against its own sandbox (startSandbox, port 0): a
// 50,000-row CSV with bad rows of every kind (the results file accounts for every row once and
// matches the sandbox's leads), a dry run (no request, no credentials), the rate limit kept to,
// and rows left unknown by a failure after processing, settled by --resume without sending them
// again (no referenceId: looked up by phone or email, one by one or through an index).

import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { assertEveryRowOnce, cliEnv, countBy, phoneOf, readResults, requirePackage, runCli, SALES, startSandbox, tempDir, writeCsv } from "./lib.mjs";

requirePackage();

const HEADER = ["Full Name", "Mobile", "Email", "Ref", "Plan", "Notes"];

/** Row i (1-based) of the big file, and what the import must make of it. */
function bigRow(i) {
  const row = [`Lead ${i}`, phoneOf(i), `lead${i}@example.com`, `ref-${i}`, i % 2 ? "gold" : "silver", i % 10 === 0 ? `said "call me, later"\nline two` : ""];
  if (i % 1000 === 99) return { row: [...row, "extra"], expect: "invalid_row" };
  if (i % 500 === 7) {
    row[1] = "12345";
    return { row, expect: "validation_error" };
  }
  if (i % 5000 === 77) {
    row[1] = "9999999999";
    return { row, expect: "validation_error" };
  }
  if (i % 500 === 13) {
    row[0] = "";
    return { row, expect: "validation_error" };
  }
  if (i % 500 === 21) {
    row[1] = phoneOf(i - 1);
    return { row, expect: "duplicate_in_file" };
  }
  if (i % 1000 === 333) return { row, expect: "duplicate_submission", existing: true };
  return { row, expect: "created" };
}

test("a 50,000-row CSV with bad rows: every row once in the results, matching the sandbox's leads", { timeout: 120000 }, async (t) => {
  const dir = tempDir(t, "import50k");
  const sb = await startSandbox();
  t.after(() => sb.close());
  const N = 50000;
  const rows = [];
  const expected = [];
  for (let i = 1; i <= N; i++) {
    const { row, expect, existing } = bigRow(i);
    rows.push(row);
    expected.push(expect);
    if (existing) {
      // Already in the project (another phone format, no referenceId): the client must not send it.
      const res = await fetch(`${sb.url}/leads/initiate`, {
        method: "POST",
        headers: { Authorization: `Bearer ${sb.token}`, "Content-Type": "application/json" },
        body: JSON.stringify({ lead: { projectId: sb.projectId, processId: SALES, name: `Existing ${i}`, phone: phoneOf(i).slice(3) }, init: false }),
      });
      assert.equal(res.status, 200);
    }
  }
  const existingIds = new Set(sb.leads().map((l) => l._id));
  const file = writeCsv(dir, "leads.csv", HEADER, rows);
  const before = sb.stats().requests;

  const t0 = Date.now();
  const { code, stdout, stderr } = await runCli(
    ["import", file, "--process", SALES, "--map", "Plan=metadata.plan", "--map", "Notes=metadata.notes", "--no-init", "--json"],
    { env: cliEnv(sb) },
  );
  const ms = Date.now() - t0;
  assert.equal(code, 1, `some rows failed: exit 1\n${stderr}`);
  const summary = JSON.parse(stdout.trim().split("\n").pop());
  const want = countBy(expected, (e) => e);
  assert.equal(summary.rows, N);
  assert.equal(summary.created, want.created);
  assert.equal(summary.failed, N - want.created);
  assert.equal(summary.unknown, 0);

  const results = readResults(join(dir, "leads.csv.results.csv"));
  assertEveryRowOnce(results, N);
  const leads = new Map(sb.leads().map((l) => [l._id, l]));
  const createdIds = new Set();
  for (const r of results) {
    const e = expected[r.row - 1];
    if (e === "created") {
      assert.equal(r.status, "created", `row ${r.row}: ${r.code} ${r.message}`);
      const lead = leads.get(r.leadId);
      assert.ok(lead, `row ${r.row}: lead ${r.leadId} is in the sandbox`);
      assert.equal(lead.referenceId, `ref-${r.row}`);
      assert.equal(r.referenceId, `ref-${r.row}`);
      assert.equal(lead.phone, phoneOf(r.row));
      assert.equal(lead.metadata.plan, r.row % 2 ? "gold" : "silver");
      if (r.row % 10 === 0) assert.equal(lead.metadata.notes, `said "call me, later"\nline two`);
      assert.ok(!createdIds.has(r.leadId), `row ${r.row}: its lead is no other row's`);
      createdIds.add(r.leadId);
    } else {
      assert.equal(r.status, "failed", `row ${r.row}`);
      assert.equal(r.code, e, `row ${r.row}: ${r.message}`);
      assert.equal(r.leadId, "");
    }
    if (e === "duplicate_submission") assert.match(r.message, /\(lead [0-9a-f]{24}\)$/, "names the lead that exists");
    if (e === "duplicate_in_file") assert.equal(r.message, `Same phone as row ${r.row - 1}: not sent`);
  }
  // The sandbox holds what existed before and what the results say was created, nothing else.
  assert.equal(leads.size, existingIds.size + createdIds.size);
  for (const id of leads.keys()) assert.ok(existingIds.has(id) || createdIds.has(id), `lead ${id} is accounted for`);
  assert.equal(new Set([...leads.values()].map((l) => l.phone)).size, leads.size, "no phone twice");

  const stats = sb.stats();
  assert.equal(stats.duplicateRejections, 0, "the client sent no lead the server had to refuse as a duplicate");
  assert.equal(stats.rateLimited, 0);
  const bulk = stats.byRoute["POST /leads/bulk/initiate"];
  assert.ok(bulk >= 49 && bulk <= 50, `${bulk} bulk requests for ${want.created} leads`);
  assert.equal(summary.requests, stats.requests - before, "the summary counts every request made");
  t.diagnostic(`50,000 rows: ${ms} ms, ${stats.requests - before} requests`);
});

test("--dry-run: the report, no request, no credentials, no results file", async (t) => {
  const dir = tempDir(t, "dryrun");
  const sb = await startSandbox();
  t.after(() => sb.close());
  const rows = [];
  for (let i = 1; i <= 300; i++) rows.push(bigRow(i).row);
  const file = writeCsv(dir, "leads.csv", HEADER, rows);
  // No VOX_* at all: a dry run needs none.
  const { code, stdout, stderr } = await runCli(["import", file, "--process", SALES, "--dry-run"], { env: cliEnv(null) });
  assert.equal(code, 1, stderr);
  assert.match(stdout, /--dry-run: nothing was sent/);
  assert.match(stdout, /rows\s+300\b/);
  assert.match(stdout, /valid\s+295\s+would be sent to process 6650a1b2c3d4e5f6012345a1/);
  assert.match(stdout, /phone: too_short\s+1\s+row 7\b/);
  assert.match(stdout, /name: required\s+1\s+row 13\b/);
  assert.match(stdout, /duplicates\s+1\s+same phone, email or referenceId as an earlier row: row 21\b/);
  assert.match(stdout, /invalid_row\s+1\s+row 99\b/);
  assert.match(stdout, /phones\s+IN 295/);
  assert.match(stdout, /columns\s+Full Name → name, Mobile → phone, Email → email, Ref → referenceId/);
  assert.match(stdout, /ignored\s+Plan, Notes/);
  assert.equal(sb.stats().requests, 0, "no request");
  assert.equal(existsSync(join(dir, "leads.csv.results.csv")), false);

  const json = await runCli(["import", file, "--process", SALES, "--dry-run", "--json"], { env: cliEnv(null) });
  const report = JSON.parse(json.stdout);
  assert.deepEqual([report.rows, report.valid, report.invalid, report.duplicates], [300, 295, 4, 1]);
  assert.deepEqual(report.invalidBy, { "phone: too_short": 1, "name: required": 1, "phone: repeating_digits": 1, invalid_row: 1 });
  assert.equal(sb.stats().requests, 0);

  const clean = writeCsv(
    dir,
    "clean.csv",
    ["name", "phone"],
    [
      ["Asha Rao", "98453 17206"],
      ["Ravi Kumar", "+44 20 7946 0958"],
    ],
  );
  const ok = await runCli(["import", clean, "--process", SALES, "--dry-run"], { env: cliEnv(null) });
  assert.equal(ok.code, 0, "every row valid: exit 0");
  assert.match(ok.stdout, /phones\s+GB 1 · IN 1|phones\s+IN 1 · GB 1/);
});

test("the rate limit is kept to: at most N requests in any window, no 429", { timeout: 60000 }, async (t) => {
  const dir = tempDir(t, "ratelimit");
  const sb = await startSandbox({ rateLimit: "20/1000" });
  t.after(() => sb.close());
  const rows = Array.from({ length: 2000 }, (_, k) => [`Lead ${k + 1}`, phoneOf(k + 1)]);
  const file = writeCsv(dir, "leads.csv", ["name", "phone"], rows);
  const t0 = Date.now();
  const { code, stderr, stdout } = await runCli(["import", file, "--process", SALES, "--no-init", "--chunk-size", "40", "--rate-limit", "20/1000"], {
    env: cliEnv(sb),
  });
  const ms = Date.now() - t0;
  assert.equal(code, 0, stderr + stdout);
  const stats = sb.stats();
  assert.equal(stats.leads, 2000);
  assert.equal(stats.rateLimited, 0, "no request was refused for the rate");
  assert.ok(stats.maxRequestsInWindow <= 20, `at most 20 requests in a second (${stats.maxRequestsInWindow})`);
  assert.ok(stats.requests >= 51, `${stats.requests} requests`);
  assert.ok(ms >= 1500, `52 requests at 20 a second take over 2 s (${ms} ms)`);
  assert.match(stderr, /^progress 2,000\/2,000 rows \(100%\)/m, "plain progress lines when not a terminal");
  assert.match(stdout, /created\s+2,000\s+100\.0%/);
});

/** Rows without referenceId; some without phone (email only). */
function plainRows(n) {
  return Array.from({ length: n }, (_, k) => {
    const i = k + 1;
    return i % 7 === 3 ? [`Mail Only ${i}`, "", `mail${i}@example.com`] : [`Lead ${i}`, phoneOf(i), ""];
  });
}

async function unknownThenResume(t, { n, chunkSize, label }) {
  const dir = tempDir(t, label);
  // The first bulk request is processed, and then answered 502: its leads' outcome is unknown.
  const sb = await startSandbox({ faults: [{ kind: "status", status: 502, when: "after", path: "/leads/bulk/initiate", count: 1 }] });
  t.after(() => sb.close());
  const file = writeCsv(dir, "leads.csv", ["name", "phone", "email"], plainRows(n));
  const args = ["import", file, "--process", SALES, "--no-init", "--chunk-size", String(chunkSize), "--concurrency", "1", "--rate-limit", "1000/1000"];
  const first = await runCli(args, { env: cliEnv(sb) });
  assert.equal(first.code, 1, first.stderr);
  const results = join(dir, "leads.csv.results.csv");
  const r1 = readResults(results);
  assertEveryRowOnce(r1, n, "first run");
  assert.deepEqual(
    countBy(r1, (r) => r.status),
    { created: n - chunkSize, unknown: chunkSize },
  );
  assert.ok(r1.filter((r) => r.status === "unknown").every((r) => r.code === "server_error"));
  assert.equal(sb.stats().leads, n, "the sandbox created the unknown ones too");
  const bulkBefore = sb.stats().byRoute["POST /leads/bulk/initiate"];

  const second = await runCli([...args, "--resume", results, "--json"], { env: cliEnv(sb) });
  assert.equal(second.code, 0, second.stderr);
  const summary = JSON.parse(second.stdout.trim().split("\n").pop());
  assert.equal(summary.resume.foundCreated, chunkSize);
  assert.equal(summary.resume.resentUnknown, 0);
  const r2 = readResults(results);
  assertEveryRowOnce(r2, n, "after --resume");
  assert.ok(
    r2.every((r) => r.status === "created"),
    "every row created",
  );
  assert.equal(sb.stats().byRoute["POST /leads/bulk/initiate"], bulkBefore, "--resume sent no lead again");
  assert.equal(sb.stats().duplicateRejections, 0);
  const leads = sb.leads();
  assert.equal(leads.length, n, "each lead once");
  assert.deepEqual(new Set(r2.map((r) => r.leadId)), new Set(leads.map((l) => l._id)), "the results name the sandbox's leads");
  return { summary, stderr: second.stderr };
}

test("unknown rows without referenceId: --resume looks each up by phone or email, sends nothing twice", { timeout: 60000 }, async (t) => {
  // 25 unknown of 5,000 leads: 25 lookups cost fewer requests than reading 50 pages.
  const { stderr } = await unknownThenResume(t, { n: 5000, chunkSize: 25, label: "resume-lookups" });
  assert.match(stderr, /resume: looking up 25 rows an earlier run left unknown/);
});

test("many unknown rows: --resume reads the project's leads once instead", { timeout: 60000 }, async (t) => {
  // 1,000 unknown of 3,000 leads: 30 pages cost fewer requests than 1,000 lookups.
  const { stderr } = await unknownThenResume(t, { n: 3000, chunkSize: 1000, label: "resume-index" });
  assert.match(stderr, /resume: reading the project's 3,000 leads to settle 1,000 unknown rows/);
});
