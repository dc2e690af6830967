// What `vox-crm import` reads: quoted fields (separators, quotes, line breaks inside), a BOM, `;`
// and tab separators, CRLF line ends, --map and the header names it knows, JSON Lines; and what it
// refuses with exit code 2 before sending anything (a broken quote, a missing process, a --map to
// no column, missing or refused credentials, a results file that exists, a file that changed
// since the results were written).

import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { cliEnv, phoneOf, readResults, requirePackage, runCli, SALES, startSandbox, TOKEN, tempDir, writeCsv } from "./lib.mjs";

requirePackage();

const byName = (sb) => new Map(sb.leads().map((l) => [l.name, l]));

test("quoted fields, a BOM and ; as separator (a spreadsheet's export)", async (t) => {
  const dir = tempDir(t, "semicolon");
  const sb = await startSandbox();
  t.after(() => sb.close());
  const file = join(dir, "export.csv");
  writeFileSync(
    file,
    "\uFEFF" +
      [
        "Name;Phone Number;E-Mail;Notes",
        '"Rao; Asha";"+91 98453 17206";asha@example.com;"said ""call me""\nafter 5; not before"',
        'Ravi Kumar;098453 17207;;"plain"',
        '"Meera ""Mimi"" Iyer";+44 20 7946 0958;MEERA@Example.com;',
      ].join("\r\n") +
      "\r\n",
  );
  const { code, stderr } = await runCli(["import", file, "--process", SALES, "--no-init", "--map", "Notes=metadata.notes"], { env: cliEnv(sb) });
  assert.equal(code, 0, stderr);
  const leads = byName(sb);
  assert.equal(leads.size, 3);
  assert.equal(leads.get("Rao; Asha").phone, "+919845317206");
  assert.equal(leads.get("Rao; Asha").metadata.notes, 'said "call me"\nafter 5; not before');
  assert.equal(leads.get("Ravi Kumar").phone, "+919845317207");
  assert.equal(leads.get('Meera "Mimi" Iyer').phone, "+442079460958");
  assert.equal(leads.get('Meera "Mimi" Iyer').email, "meera@example.com");
  const results = readResults(join(dir, "export.csv.results.csv"));
  assert.deepEqual(
    results.map((r) => [r.row, r.status]),
    [
      [1, "created"],
      [2, "created"],
      [3, "created"],
    ],
  );
});

test("tab separated with --delimiter, --map of unknown headers, metadata.* columns, JSON Lines", async (t) => {
  const dir = tempDir(t, "formats");
  const sb = await startSandbox();
  t.after(() => sb.close());
  const tsv = writeCsv(
    dir,
    "leads.tsv",
    ["Customer", "Cell No", "metadata.plan", "Group"],
    [
      ["Tab One", phoneOf(1), "gold", "g-1"],
      ["Tab Two", phoneOf(2), "", "g-2"],
    ],
    { delimiter: "\t" },
  );
  const a = await runCli(["import", tsv, "--process", SALES, "--no-init", "--delimiter", "tab", "--map", "Cell No=phone"], { env: cliEnv(sb) });
  assert.equal(a.code, 0, a.stderr);
  let leads = byName(sb);
  assert.equal(leads.get("Tab One").phone, phoneOf(1));
  assert.deepEqual(leads.get("Tab One").metadata, { plan: "gold" });
  assert.equal(leads.get("Tab One").groupId, "g-1");
  assert.deepEqual(leads.get("Tab Two").metadata, {}, "an empty cell is left out");

  const jsonl = join(dir, "leads.jsonl");
  writeFileSync(
    jsonl,
    [
      JSON.stringify({ name: "Json One", phone: 919845317301, referenceId: "j-1", metadata: { score: 7, tags: ["a"] } }),
      "",
      JSON.stringify({ firstName: "Json", lastName: "Two", mobile: "+919845317302", city: "Pune" }),
      "{not json",
      JSON.stringify(["an", "array"]),
    ].join("\n") + "\n",
  );
  const b = await runCli(["import", jsonl, "--process", SALES, "--no-init", "--map", "city=metadata.city"], { env: cliEnv(sb) });
  assert.equal(b.code, 1, "two lines are not leads");
  leads = byName(sb);
  assert.equal(leads.get("Json One").phone, "+919845317301");
  assert.deepEqual(leads.get("Json One").metadata, { score: 7, tags: ["a"] });
  const two = sb.leads().find((l) => l.firstName === "Json" && l.lastName === "Two");
  assert.equal(two.phone, "+919845317302");
  assert.deepEqual(two.metadata, { city: "Pune" });
  const results = readResults(join(dir, "leads.jsonl.results.csv"));
  assert.deepEqual(
    results.map((r) => [r.row, r.status, r.code]),
    [
      [1, "created", ""],
      [2, "created", ""],
      [3, "failed", "invalid_row"],
      [4, "failed", "invalid_row"],
    ],
  );
  assert.match(results[2].message, /^Not JSON/);
});

test("exit code 2, nothing sent: broken quote, no process, bad flags, credentials, an existing results file, a changed file", async (t) => {
  const dir = tempDir(t, "usage");
  const sb = await startSandbox();
  t.after(() => sb.close());
  const good = writeCsv(
    dir,
    "good.csv",
    ["name", "phone"],
    [
      ["A One", phoneOf(1)],
      ["A Two", phoneOf(2)],
    ],
  );
  const broken = join(dir, "broken.csv");
  writeFileSync(broken, 'name,phone\nA One,+919845000001\n"A Two,+919845000002\nA Three,+919845000003\n');
  const env = cliEnv(sb);
  const cases = [
    [["import", broken, "--process", SALES], /broken\.csv: row 2: quoted field unterminated/],
    [["import", good], /no process: pass --process ID/],
    [["import", good, "--process", "sales"], /--process must be a process id of 24 lowercase hex digits/],
    [["import", good, "--process", SALES, "--map", "Mobile=phone"], /the header has no column "Mobile" \(its columns: name, phone\)/],
    [["import", good, "--process", SALES, "--map", "phone=mobile"], /--map: unknown field "mobile"/],
    [["import", good, "--process", SALES, "--chunk-size", "5000"], /--chunk-size must be a whole number from 1 to 1000/],
    [["import", join(dir, "missing.csv"), "--process", SALES], /cannot read .*missing\.csv: no such file/],
    [["import", good, "--process", SALES, "--base-url", "ftp://example.com"], /baseUrl/],
  ];
  for (const [args, message] of cases) {
    const r = await runCli(args, { env });
    assert.equal(r.code, 2, `${args.join(" ")}: exit 2\n${r.stderr}`);
    assert.match(r.stderr, message);
    assert.doesNotMatch(r.stderr, /\n\s+at /, "no stack trace");
  }
  const noToken = await runCli(["import", good, "--process", SALES], { env: cliEnv(null, { VOX_BASE_URL: sb.url, VOX_PROJECT_ID: sb.projectId }) });
  assert.equal(noToken.code, 2);
  assert.match(noToken.stderr, /no API token: set VOX_TOKEN/);
  const wrong = await runCli(["import", good, "--process", SALES], { env: cliEnv(sb, { VOX_TOKEN: "sk_live_wrong_secret_123" }) });
  assert.equal(wrong.code, 2, wrong.stderr);
  assert.match(wrong.stderr, /refused the first request: forbidden: .*\(check VOX_TOKEN and VOX_PROJECT_ID\)\. Nothing was sent\./);
  assert.ok(!wrong.stderr.includes("sk_live_wrong_secret_123") && !wrong.stdout.includes("sk_live_wrong_secret_123"), "the token is never printed");
  assert.equal(sb.stats().leads, 0, "nothing was sent");

  const ok = await runCli(["import", good, "--process", SALES, "--no-init"], { env });
  assert.equal(ok.code, 0, ok.stderr);
  for (const out of [ok.stdout, ok.stderr]) assert.ok(!out.includes(TOKEN) && !out.includes(sb.projectId), "neither the token nor the project id is printed");
  const again = await runCli(["import", good, "--process", SALES], { env });
  assert.equal(again.code, 2);
  assert.match(again.stderr, /good\.csv\.results\.csv exists .*--resume/);
  writeFileSync(good, readFileSync(good, "utf8").replace("A Two", "A Changed"));
  const changed = await runCli(["import", good, "--process", SALES, "--resume", `${good}.results.csv`], { env });
  assert.equal(changed.code, 2);
  assert.match(changed.stderr, /row 2 of .*good\.csv is not the row that .* recorded: the file changed/);
  assert.equal(sb.stats().leads, 2);
});
