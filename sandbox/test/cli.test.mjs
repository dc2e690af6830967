// The command line: start as a script, banner, ready file, env, SIGTERM (clean stop, data flushed,
// exit 0), --help and bad flags.

import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { makeLead, waitFor } from "../testing.mjs";

const SCRIPT = fileURLToPath(new URL("../server.mjs", import.meta.url));
let dir;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), "vox-sandbox-cli-"));
});
after(() => rm(dir, { recursive: true, force: true }));

test("runs as a script, prints a banner, and stops cleanly on SIGTERM", async () => {
  const ready = join(dir, "ready");
  const data = join(dir, "data.json");
  const child = spawn(process.execPath, [SCRIPT, "--port", "0", "--admin", "--ready-file", ready, "--data", data], {
    env: { ...process.env, VOX_SANDBOX_RATE_LIMIT: "7/1000" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d) => {
    stdout += d;
  });
  child.stderr.on("data", (d) => {
    stderr += d;
  });
  const exited = new Promise((resolve) => child.on("exit", (code, signal) => resolve({ code, signal })));
  try {
    await waitFor(() => existsSync(ready), { timeoutMs: 10000, what: "ready file" });
    const url = (await readFile(ready, "utf8")).trim();
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/api\/v1$/);
    await waitFor(() => stdout.includes("admin"), { what: "banner" });
    for (const expected of [
      url,
      "sk_test_vox_sandbox",
      "6650a1b2c3d4e5f601234567",
      "Demo project",
      "6650a1b2c3d4e5f6012345a1",
      "Sales: new, make_first_call, interested, not_interested, callback, followup_1, followup_2, lost, converted",
      "6650a1b2c3d4e5f6012345a2",
      "Support: new, make_first_call, resolved, escalated, followup_1, lost",
      "7 requests per 1000 ms",
      "admin     on",
    ]) {
      assert.ok(stdout.includes(expected), `banner shows ${expected}\n${stdout}`);
    }
    const res = await fetch(`${url}/leads/initiate`, {
      method: "POST",
      headers: { Authorization: "Bearer sk_test_vox_sandbox", "Content-Type": "application/json" },
      body: JSON.stringify({ lead: makeLead(), init: false }),
    });
    assert.equal(res.status, 200);
    const origin = new URL(url).origin;
    assert.equal((await fetch(`${origin}/__sandbox/stats`)).status, 200);
  } finally {
    child.kill("SIGTERM");
  }
  const { code } = await exited;
  assert.equal(code, 0, stderr);
  assert.match(stdout, /sandbox stopped \(SIGTERM\)/);
  assert.equal(existsSync(ready), false, "ready file removed");
  assert.equal(JSON.parse(await readFile(data, "utf8")).leads.length, 1, "data flushed at shutdown");
});

test("--help, and a bad flag exits 2 with the usage", async () => {
  const run = promisify(execFile);
  const help = await run(process.execPath, [SCRIPT, "--help"]);
  assert.match(help.stdout, /--rate-limit N\/MS/);
  await assert.rejects(run(process.execPath, [SCRIPT, "--nope"]), (err) => err.code === 2 && /Unknown option --nope/.test(err.stderr));
  await assert.rejects(
    run(process.execPath, [SCRIPT, "--port", "0", "--rate-limit", "lots"]),
    (err) => err.code === 2 && /Invalid rate limit/.test(err.stderr),
  );
});
