// Persistence (--data: load, debounced atomic saves, flush at close, resuming pending calls), the
// --config file, the ready file, and config validation.

import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { ConfigError, optionsFromCli, resolveConfig } from "../lib/config.mjs";
import { startSandbox } from "../server.mjs";
import { makeLead, SALES, sleep, startTestSandbox, waitFor } from "../testing.mjs";

let dir;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), "vox-sandbox-test-"));
});
after(() => rm(dir, { recursive: true, force: true }));

test("leads and activities survive a restart; indexes are rebuilt", async () => {
  const data = join(dir, "restart.json");
  let sb = await startTestSandbox({ data, callDelayMs: 10, callDurationMs: 10 });
  const a = (await sb.post("/leads/initiate", { lead: makeLead({ metadata: { sandboxOutcome: "interested" } }) })).body;
  const b = (await sb.post("/leads/initiate", { lead: makeLead(), init: false })).body;
  await waitFor(async () => (await sb.get(`/leads/get?leadId=${a._id}`)).body.data.currentState === "interested", { what: "call done" });
  await sb.post("/leads/update", { leadId: b._id, targetState: "lost", metadata: { why: "test" } });
  const before = (await sb.get("/leads/query?order=asc")).body.data;
  const beforeA = (await sb.get(`/leads/get?leadId=${a._id}`)).body.data;
  await sb.close();

  const saved = JSON.parse(await readFile(data, "utf8"));
  assert.equal(saved.version, 1);
  assert.equal(saved.leads.length, 2);
  assert.deepEqual(
    (await readdir(dir)).filter((f) => f.endsWith(".tmp")),
    [],
  );

  sb = await startTestSandbox({ data });
  try {
    assert.deepEqual((await sb.get("/leads/query?order=asc")).body.data, before);
    const afterA = (await sb.get(`/leads/get?leadId=${a._id}`)).body.data;
    assert.deepEqual(
      { ...afterA, activities: afterA.activities.map(({ recordingUrl, ...x }) => x) },
      { ...beforeA, activities: beforeA.activities.map(({ recordingUrl, ...x }) => x) },
    );
    const activityId = afterA.activities[0]._id;
    assert.equal((await sb.get(`/activities/get?activityId=${activityId}`)).status, 200);
    const dup = await sb.post("/leads/initiate", { lead: makeLead({ phone: a.phone }) });
    assert.equal(dup.body.error, "A call attempt has already been made to this phone number for this project");
    const ref = await sb.get(`/leads/get?referenceId=${encodeURIComponent(b.referenceId)}&projectId=${b.projectId}&processId=${SALES}`);
    assert.equal(ref.body.data.currentState, "lost");
    assert.equal((await sb.get("/__sandbox/stats")).body.leads, 2);
  } finally {
    await sb.close();
  }
});

test("changes are saved after a short debounce, not only at close", async () => {
  const data = join(dir, "debounce.json");
  const sb = await startTestSandbox({ data, saveDebounceMs: 20 });
  try {
    assert.equal(existsSync(data), false, "no file until there is something to save");
    await sb.post("/leads/initiate", { lead: makeLead(), init: false });
    await waitFor(() => existsSync(data), { what: "data file" });
    assert.equal(JSON.parse(await readFile(data, "utf8")).leads.length, 1);
    await sb.post("/__sandbox/reset");
    await waitFor(async () => JSON.parse(await readFile(data, "utf8")).leads.length === 0, { what: "reset saved" });
  } finally {
    await sb.close();
  }
});

test("the data file is never seen half-written", async () => {
  const data = join(dir, "atomic.json");
  const sb = await startTestSandbox({ data, saveDebounceMs: 1, rateLimit: false });
  try {
    let reads = 0;
    let stop = false;
    const reader = (async () => {
      while (!stop) {
        if (existsSync(data)) {
          JSON.parse(await readFile(data, "utf8"));
          reads++;
        }
        await sleep(1);
      }
    })();
    for (let i = 0; i < 20; i++) {
      await sb.post("/leads/bulk/initiate", { leads: Array.from({ length: 200 }, () => makeLead()), init: false });
      await sleep(3);
    }
    stop = true;
    await reader;
    assert.ok(reads > 5, `reads: ${reads}`);
  } finally {
    await sb.close();
  }
  assert.equal(JSON.parse(await readFile(data, "utf8")).leads.length, 4000);
});

test("calls pending at shutdown are resumed at the next start", async () => {
  const data = join(dir, "pending.json");
  let sb = await startTestSandbox({ data, callDelayMs: 60000 });
  const lead = (await sb.post("/leads/initiate", { lead: makeLead({ metadata: { sandboxOutcome: "converted" } }) })).body;
  await sb.close();
  sb = await startTestSandbox({ data, callDelayMs: 10, callDurationMs: 10 });
  try {
    await waitFor(async () => (await sb.get(`/leads/get?leadId=${lead._id}`)).body.data.currentState === "converted", { what: "resumed call" });
    const calls = (await sb.get(`/leads/get?leadId=${lead._id}`)).body.data.activities;
    assert.equal(calls.length, 1);
    assert.equal(calls[0].status, "completed");
  } finally {
    await sb.close();
  }
});

test("a corrupt data file stops the start and is left alone", async () => {
  const data = join(dir, "corrupt.json");
  await writeFile(data, '{"leads": [');
  await assert.rejects(startSandbox({ port: 0, data }), /not valid JSON/);
  assert.equal(await readFile(data, "utf8"), '{"leads": [');
});

test("a config file adds projects and sets options; options win over it", async () => {
  const file = join(dir, "config.json");
  await writeFile(
    file,
    JSON.stringify({
      rateLimit: "3/60000",
      callDelayMs: 1234,
      projects: [
        {
          _id: "aaaaaaaaaaaaaaaaaaaaaaaa",
          name: "Config project",
          tokens: ["sk_cfg"],
          processes: [{ _id: "bbbbbbbbbbbbbbbbbbbbbbbb", name: "Renewals", states: ["renewed", "churned"] }],
        },
      ],
    }),
  );
  const sb = await startTestSandbox({ config: file, callDelayMs: 99 });
  try {
    assert.deepEqual(sb.config.rateLimit, { requests: 3, perMs: 60000 });
    assert.equal(sb.config.callDelayMs, 99);
    const proc = sb.config.projects[1].processes[0];
    assert.deepEqual(proc.states, ["new", "make_first_call", "renewed", "churned"], "initial states are added");
    const lead = makeLead({ projectId: "aaaaaaaaaaaaaaaaaaaaaaaa", processId: "bbbbbbbbbbbbbbbbbbbbbbbb" });
    const res = await sb.post("/leads/initiate", { lead }, { token: "sk_cfg" });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal((await sb.get("/leads/query")).body.pagination.total, 0, "projects are isolated");
    assert.equal((await sb.post("/leads/update", { leadId: res.body._id, targetState: "renewed" }, { token: "sk_cfg" })).status, 200);
  } finally {
    await sb.close();
  }
});

test("the ready file holds the base URL while the sandbox runs", async () => {
  const ready = join(dir, "ready.txt");
  await writeFile(ready, "stale");
  const sb = await startSandbox({ port: 0, readyFile: ready });
  assert.equal((await readFile(ready, "utf8")).trim(), sb.url);
  assert.match(sb.url, /^http:\/\/127\.0\.0\.1:\d+\/api\/v1$/);
  await sb.close();
  assert.equal(existsSync(ready), false);
});

test("config validation and CLI/env parsing", () => {
  assert.throws(() => resolveConfig({ rateLimit: "fast" }), ConfigError);
  assert.throws(() => resolveConfig({ port: "http" }), ConfigError);
  assert.throws(() => resolveConfig({ projects: [{ _id: "x", tokens: ["t"], processes: [] }] }), /24-char/);
  assert.throws(
    () => resolveConfig({ projects: [{ _id: "aaaaaaaaaaaaaaaaaaaaaaaa", tokens: ["sk_test_vox_sandbox"], processes: [] }] }),
    /used by two projects/,
  );
  assert.throws(() => resolveConfig({ config: join(dir, "missing.json") }), /Cannot read config file/);
  assert.equal(resolveConfig({ rateLimit: "off" }).rateLimit, false);
  assert.deepEqual(resolveConfig({}).rateLimit, { requests: 100, perMs: 5000 });
  const defaults = resolveConfig({});
  assert.equal(defaults.port, 4010);
  assert.equal(defaults.host, "127.0.0.1");
  assert.equal(defaults.dupWindowMs, 60000);
  assert.equal(defaults.dupMax, 5);
  assert.equal(defaults.blockMs, 3600000);
  assert.equal(defaults.callDelayMs, 3000);
  assert.equal(defaults.callDurationMs, 4000);
  assert.equal(defaults.admin, false);

  const opts = optionsFromCli(["--port", "0", "--admin", "--rate-limit=10/100", "--data", "d.json", "--quiet", "--dup-max", "2"], {
    VOX_SANDBOX_PORT: "5000",
    VOX_SANDBOX_BLOCK_MS: "10",
    VOX_SANDBOX_HOST: "0.0.0.0",
  });
  assert.deepEqual(opts, { port: "0", host: "0.0.0.0", blockMs: "10", admin: true, rateLimit: "10/100", dataFile: "d.json", quiet: true, dupMax: "2" });
  const cfg = resolveConfig(opts);
  assert.equal(cfg.port, 0);
  assert.equal(cfg.blockMs, 10);
  assert.equal(cfg.dataFile, "d.json");
  assert.deepEqual(cfg.rateLimit, { requests: 10, perMs: 100 });
  assert.throws(() => optionsFromCli(["--bogus"]), /Unknown option --bogus/);
  assert.throws(() => optionsFromCli(["--port"]), /needs a value/);
});
