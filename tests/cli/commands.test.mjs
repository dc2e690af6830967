// The other commands of the bin: get, query and activity (text and --json, not found, bad input,
// the token never printed), every command's --help, and `vox-crm sandbox` (banner with its URL and
// credentials, Ctrl-C stops it cleanly and saves its data).

import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { cliEnv, phoneOf, requirePackage, runCli, SALES, spawnCli, startSandbox, TOKEN, tempDir, waitUntil } from "./lib.mjs";

requirePackage();

async function initiate(sb, lead, init = true) {
  const res = await fetch(`${sb.url}/leads/initiate`, {
    method: "POST",
    headers: { Authorization: `Bearer ${sb.token}`, "Content-Type": "application/json" },
    body: JSON.stringify({ lead: { projectId: sb.projectId, processId: SALES, ...lead }, init }),
  });
  assert.equal(res.status, 200);
  return res.json();
}

test("get, query, activity: text, --json, not found, bad input; the token is never printed", { timeout: 60000 }, async (t) => {
  const sb = await startSandbox({ callDelayMs: 10, callDurationMs: 10 });
  t.after(() => sb.close());
  const asha = await initiate(sb, { name: "Asha Rao", phone: "98453 17206", referenceId: "crm-1", metadata: { sandboxOutcome: "interested", plan: "gold" } });
  for (let i = 1; i <= 4; i++) await initiate(sb, { name: `Lead ${i}`, phone: phoneOf(i) }, false);
  await waitUntil(() => sb.leads().find((l) => l._id === asha._id)?.currentState === "interested", { what: "the call to end" });
  const env = cliEnv(sb);
  const outputs = [];
  // The project id is in the leads' own JSON; what the command line writes itself never has it.
  const cli = async (args) => {
    const r = await runCli(args, { env });
    outputs.push([r.stdout, !args.includes("--json")], [r.stderr, true]);
    return r;
  };

  const get = await cli(["get", asha._id]);
  assert.equal(get.code, 0, get.stderr);
  assert.match(get.stdout, /^lead\s+[0-9a-f]{24}$/m);
  assert.match(get.stdout, /^name\s+Asha Rao$/m);
  assert.match(get.stdout, /^state\s+interested$/m);
  assert.match(get.stdout, /^metadata\s+\{"sandboxOutcome":"interested","plan":"gold"\}$/m);
  assert.match(get.stdout, /^activities \(\d\)$/m);
  assert.match(get.stdout, /call\s+completed\s+make_first_call → interested/);
  const getJson = JSON.parse((await cli(["get", "--reference", "crm-1", "--process", SALES, "--json", "--masked"])).stdout);
  assert.equal(getJson._id, asha._id);
  assert.equal(getJson.phone, "+********7206", "masked by the API");
  const call = getJson.activities.find((a) => a.type === "call");

  const act = await cli(["activity", call._id]);
  assert.equal(act.code, 0, act.stderr);
  assert.match(act.stdout, /^status\s+completed$/m);
  assert.match(act.stdout, /^disposition\s+interested \(success\)$/m);
  assert.match(act.stdout, /^recording\s+http:\/\/127\.0\.0\.1:\d+\/recordings\/[0-9a-f]{24}\.wav$/m);
  assert.match(act.stdout, /\ntranscript\n/);
  assert.equal(JSON.parse((await cli(["activity", call._id, "--json"])).stdout)._id, call._id);

  const page = await cli(["query", "--limit", "2", "--order", "asc"]);
  assert.equal(page.code, 0, page.stderr);
  assert.match(page.stdout, /^id\s+name\s+phone\s+state\s+disposition\s+created$/m);
  assert.match(page.stdout, /Asha Rao\s+\+919845317206\s+interested\s+interested/);
  assert.match(page.stdout, /page 1 of 3, 5 leads in all \(--page N or --all for more\)/);
  const lines = (await cli(["query", "--all", "--json", "--limit", "2"])).stdout
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l));
  assert.equal(lines.length, 5);
  assert.equal(new Set(lines.map((l) => l._id)).size, 5);
  const interested = (await cli(["query", "--state", "interested", "--json"])).stdout.trim().split("\n");
  assert.deepEqual(
    interested.map((l) => JSON.parse(l)._id),
    [asha._id],
  );
  assert.match((await cli(["query", "--state", "lost"])).stdout, /no lead matched/);

  const missing = await cli(["get", "6650a1b2c3d4e5f6012345ff"]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /not_found: Lead with ID 6650a1b2c3d4e5f6012345ff not found/);
  for (const [args, message] of [
    [["get", "42"], /a lead id is 24 lowercase hex digits/],
    [["get", "--reference", "crm-1"], /--reference needs --process ID/],
    [["activity"], /give one ACTIVITY_ID/],
    [["query", "--created-from", "yesterday"], /--created-from must be an ISO 8601 date/],
    [["query", "--limit", "500"], /--limit must be a whole number from 1 to 100/],
    [["query", "--sort", "name"], /--sort must be createdAt or updatedAt/],
  ]) {
    const r = await cli(args);
    assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
    assert.match(r.stderr, message);
  }
  const refused = await runCli(["query"], { env: cliEnv(sb, { VOX_TOKEN: "sk_live_do_not_print" }) });
  assert.equal(refused.code, 2);
  assert.match(refused.stderr, /forbidden: .*check VOX_TOKEN and VOX_PROJECT_ID/);
  outputs.push([refused.stdout, true], [refused.stderr, true]);
  for (const [out, own] of outputs) {
    assert.ok(!out.includes(TOKEN) && !out.includes("sk_live_do_not_print"), "no output contains the token");
    if (own) assert.ok(!out.includes(sb.projectId), `nor the project id: ${out}`);
  }
});

test("--help of every command, exit codes in each, help COMMAND", async () => {
  for (const cmd of ["import", "validate", "get", "query", "activity"]) {
    const r = await runCli([cmd, "--help"]);
    assert.equal(r.code, 0);
    assert.match(r.stdout, new RegExp(`^Usage: vox-crm ${cmd}`));
    assert.match(r.stdout, /Exit codes: 0 /);
    assert.equal((await runCli(["help", cmd])).stdout, r.stdout);
  }
  const top = await runCli(["--help"]);
  assert.equal(top.code, 0);
  for (const cmd of ["import", "validate", "get", "query", "activity", "sandbox"]) assert.match(top.stdout, new RegExp(`^  ${cmd} `, "m"));
  assert.match(top.stdout, /Exit codes: 0 done \(every row created\), 1 failed .*2 usage or settings error/s);
  assert.equal((await runCli([])).code, 2, "no command: the usage, exit 2");
  const sandboxHelp = await runCli(["sandbox", "--help"]);
  assert.equal(sandboxHelp.code, 0);
  assert.match(sandboxHelp.stdout, /^Usage: vox-crm sandbox \[options\]/);
  assert.match(sandboxHelp.stdout, /--data FILE/);
  const version = await runCli(["--version"]);
  assert.match(version.stdout, /^vox-crm \d+\.\d+\.\d+/);
});

test("vox-crm sandbox: prints its URL and credentials, serves, stops cleanly on Ctrl-C with its data saved", { timeout: 30000 }, async (t) => {
  const dir = tempDir(t, "sandbox-cmd");
  const data = join(dir, "data.json");
  const ready = join(dir, "url");
  const run = spawnCli(["sandbox", "--port", "0", "--data", data, "--ready-file", ready, "--rate-limit", "off"]);
  await waitUntil(() => existsSync(ready) && run.output().stdout.includes("shell"), { what: "the banner" });
  const url = readFileSync(ready, "utf8").trim();
  const { stdout } = run.output();
  assert.match(stdout, new RegExp(`^Vox CRM sandbox listening on ${url.replace(/[.]/g, "\\.")}$`, "m"));
  assert.match(stdout, /token\s+sk_test_vox_sandbox/);
  assert.match(stdout, /project\s+6650a1b2c3d4e5f601234567\s+Demo project/);
  assert.match(stdout, /process\s+6650a1b2c3d4e5f6012345a1\s+Sales:/);
  assert.ok(stdout.includes(`shell     export VOX_BASE_URL=${url} VOX_TOKEN=sk_test_vox_sandbox VOX_PROJECT_ID=6650a1b2c3d4e5f601234567`));
  // The command line talks to it with what the banner printed.
  const env = cliEnv(null, { VOX_BASE_URL: url, VOX_TOKEN: "sk_test_vox_sandbox", VOX_PROJECT_ID: "6650a1b2c3d4e5f601234567" });
  const q = await runCli(["query", "--json"], { env });
  assert.equal(q.code, 0, q.stderr);
  const res = await fetch(`${url}/leads/initiate`, {
    method: "POST",
    headers: { Authorization: "Bearer sk_test_vox_sandbox", "Content-Type": "application/json" },
    body: JSON.stringify({ lead: { projectId: "6650a1b2c3d4e5f601234567", processId: SALES, name: "Kept", phone: phoneOf(9) }, init: false }),
  });
  assert.equal(res.status, 200);
  run.child.kill("SIGINT");
  const done = await run.done;
  assert.equal(done.code, 0, done.stderr);
  assert.match(done.stdout, /sandbox stopped \(SIGINT\)/);
  assert.equal(JSON.parse(readFileSync(data, "utf8")).leads.length, 1, "its data is saved");
  assert.equal(existsSync(ready), false);
  const bad = await runCli(["sandbox", "--rate-limit", "lots"]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /Invalid rate limit/);
});
