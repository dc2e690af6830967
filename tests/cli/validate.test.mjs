// `vox-crm validate FILE`: the phone report (valid, invalid by reason with rows, per region, rows
// without a phone apart), its JSON form and exit codes, and 1,000,000 rows streamed in seconds.

import assert from "node:assert/strict";
import { once } from "node:events";
import { createWriteStream, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { cliEnv, phoneOf, requirePackage, runCli, tempDir, writeCsv } from "./lib.mjs";

requirePackage();

test("the phone report: reasons with their rows, regions, rows without a phone, --json, exit codes", async (t) => {
  const dir = tempDir(t, "validate");
  const file = writeCsv(
    dir,
    "people.csv",
    ["name", "Mobile Number", "email"],
    [
      ["A", "98453 17206", ""],
      ["B", "+44 20 7946 0958", ""],
      ["C", "12345", ""],
      ["D", "9999999999", ""],
      ["E", "", "e@example.com"],
      ["F", "+1 (415) 555-2671", ""],
      ["G", "9876543210", ""],
      ["H", "+999 1234 5678", ""],
    ],
  );
  const env = cliEnv(null);
  const text = await runCli(["validate", file], { env });
  assert.equal(text.code, 1, text.stderr);
  assert.match(text.stdout, /\(column "Mobile Number"\): 8 rows/);
  assert.match(text.stdout, /valid\s+3\s+42\.9%/);
  assert.match(text.stdout, /invalid\s+4\s+57\.1%/);
  assert.match(text.stdout, /no phone\s+1\s+rows without a phone/);
  assert.match(text.stdout, /too_short\s+1\s+rows 3\n/);
  assert.match(text.stdout, /repeating_digits\s+1\s+rows 4\n/);
  assert.match(text.stdout, /sequential_digits\s+1\s+rows 7\n/);
  assert.match(text.stdout, /invalid_country_code\s+1\s+rows 8\n/);
  assert.match(text.stdout, /\n\s+IN\s+1\s+3\s/);

  const json = await runCli(["validate", file, "--json"], { env });
  const report = JSON.parse(json.stdout);
  assert.deepEqual([report.rows, report.phones, report.valid, report.invalid, report.noPhone], [8, 7, 3, 4, 1]);
  assert.deepEqual(report.reasons.too_short, { count: 1, rows: [3] });
  assert.deepEqual(report.regions.GB, { valid: 1, invalid: 0 });
  assert.deepEqual(report.regions.US, { valid: 1, invalid: 0 });

  const good = writeCsv(dir, "good.csv", ["phone"], [[phoneOf(1)], [phoneOf(2)]]);
  assert.equal((await runCli(["validate", good], { env })).code, 0);
  const jsonl = join(dir, "good.jsonl");
  writeFileSync(jsonl, `${JSON.stringify({ mobile: phoneOf(3) })}\n${JSON.stringify({ phone: "12" })}\n`);
  const j = await runCli(["validate", jsonl, "--json"], { env });
  assert.equal(j.code, 1);
  assert.deepEqual([JSON.parse(j.stdout).valid, JSON.parse(j.stdout).invalid], [1, 1]);

  const noColumn = writeCsv(dir, "nocol.csv", ["name", "email"], [["A", "a@example.com"]]);
  const bad = await runCli(["validate", noColumn], { env });
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /has no phone column \(its columns: name, email\): name it with --column NAME/);
  const col = await runCli(["validate", noColumn, "--column", "email"], { env });
  assert.equal(col.code, 1, "emails are no phones");
});

test("1,000,000 rows: streamed and checked in batches", { timeout: 120000 }, async (t) => {
  const dir = tempDir(t, "validate1m");
  const file = join(dir, "million.csv");
  const out = createWriteStream(file);
  out.write("name,phone,email\n");
  let buf = "";
  for (let i = 1; i <= 1000000; i++) {
    buf += `Lead ${i},${i % 1000 === 0 ? "12345" : phoneOf(i)},lead${i}@example.com\n`;
    if (buf.length > 1 << 20) {
      if (!out.write(buf)) await once(out, "drain");
      buf = "";
    }
  }
  out.end(buf);
  await once(out, "finish");
  const t0 = Date.now();
  const r = await runCli(["validate", file, "--json"], { env: cliEnv(null) });
  const ms = Date.now() - t0;
  assert.equal(r.code, 1, r.stderr);
  const report = JSON.parse(r.stdout);
  assert.deepEqual([report.rows, report.valid, report.invalid], [1000000, 999000, 1000]);
  assert.deepEqual(report.reasons.too_short.rows, [1000, 2000, 3000, 4000, 5000]);
  t.diagnostic(`1,000,000 rows in ${ms} ms (${Math.round(1e9 / ms).toLocaleString("en-US")} rows/s, process start included)`);
});
