// startSandbox as a library (what `vox-crm/sandbox` gives users' tests): a free loopback port by
// default, the credentials and processes of the default project, and the in-process controls
// (reset, stats, fault rules, settings, leads) that do what the /__sandbox routes do.

import assert from "node:assert/strict";
import { test } from "node:test";
import { ConfigError } from "../lib/config.mjs";
import { DEFAULT_PROJECT_ID, DEFAULT_TOKEN, SALES_PROCESS_ID, SUPPORT_PROCESS_ID, startSandbox } from "../server.mjs";
import { makeLead } from "../testing.mjs";

const post = (sb, path, body, token = sb.token) =>
  fetch(sb.url + path, {
    method: "POST",
    headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });

test("from code: a free port on 127.0.0.1, the default project's credentials and processes", async () => {
  const [a, b] = await Promise.all([startSandbox({ quiet: true }), startSandbox({ quiet: true })]);
  try {
    for (const sb of [a, b]) {
      assert.match(sb.url, /^http:\/\/127\.0\.0\.1:\d+\/api\/v1$/);
      assert.notEqual(sb.port, 4010);
      assert.equal(sb.baseUrl, sb.url);
      assert.equal(sb.token, DEFAULT_TOKEN);
      assert.equal(sb.projectId, DEFAULT_PROJECT_ID);
      assert.deepEqual(
        sb.processes.map((p) => [p.id, p.name]),
        [
          [SALES_PROCESS_ID, "Sales"],
          [SUPPORT_PROCESS_ID, "Support"],
        ],
      );
      assert.ok(sb.processes[0].states.includes("interested"));
      assert.deepEqual(sb.env, { VOX_BASE_URL: sb.url, VOX_TOKEN: DEFAULT_TOKEN, VOX_PROJECT_ID: DEFAULT_PROJECT_ID });
      // The fields that callers had before are all there.
      for (const k of ["origin", "config", "state", "close", "flush"]) assert.ok(k in sb, k);
    }
    assert.notEqual(a.port, b.port);
  } finally {
    await Promise.all([a.close(), b.close()]);
  }
});

test("a configured first project gives its own credentials", async () => {
  const sb = await startSandbox({
    quiet: true,
    includeDefaultProject: false,
    projects: [
      {
        _id: "aaaaaaaaaaaaaaaaaaaaaaaa",
        name: "Mine",
        tokens: ["sk_test_mine"],
        processes: [{ _id: "bbbbbbbbbbbbbbbbbbbbbbbb", name: "Renewals", states: ["renewed"] }],
      },
    ],
  });
  try {
    assert.equal(sb.token, "sk_test_mine");
    assert.equal(sb.projectId, "aaaaaaaaaaaaaaaaaaaaaaaa");
    assert.deepEqual(sb.processes, [{ id: "bbbbbbbbbbbbbbbbbbbbbbbb", name: "Renewals", states: ["new", "make_first_call", "renewed"] }]);
  } finally {
    await sb.close();
  }
});

test("fault(), faultRules(), clearFaults(), the faults option, stats(), reset(), leads(), configure(): no admin route needed", async () => {
  const sb = await startSandbox({ quiet: true, rateLimit: false, faults: [{ kind: "status", status: 503, path: "/leads/initiate" }] });
  try {
    assert.equal(sb.config.admin, false);
    assert.equal((await post(sb, "/leads/initiate", { lead: makeLead(), init: false })).status, 503, "the initial rule");
    const added = sb.fault({ kind: "status", status: 502, count: 2 }, [{ kind: "delay", ms: 1, path: "/leads/query" }]);
    assert.deepEqual(
      added.map((r) => [r.kind, r.remaining]),
      [
        ["status", 2],
        ["delay", 1],
      ],
    );
    assert.equal((await post(sb, "/leads/initiate", { lead: makeLead(), init: false })).status, 502);
    assert.deepEqual(
      sb.faultRules().map((r) => [r.kind, r.fired, r.remaining]),
      [
        ["status", 1, 0],
        ["status", 1, 1],
        ["delay", 0, 1],
      ],
    );
    assert.equal(sb.clearFaults(), 3);
    assert.deepEqual(sb.faultRules(), []);
    assert.throws(
      () => sb.fault({ kind: "explode" }),
      (err) => err instanceof ConfigError && /Invalid fault rule at index 0: kind/.test(err.message),
    );

    const lead = makeLead({ name: "Asha Rao" });
    assert.equal((await post(sb, "/leads/initiate", { lead, init: false })).status, 200);
    const stats = sb.stats();
    assert.equal(stats.leads, 1);
    assert.equal(stats.faultsInjected, 2);
    assert.equal(stats.byRoute["POST /leads/initiate"], 3);
    const [view] = sb.leads();
    assert.equal(view.name, "Asha Rao");
    assert.equal(view.phone, lead.phone);
    assert.equal(view.currentState, "new");
    assert.match(sb.leads({ masked: true })[0].phone, /^\+\*+\d{4}$/);
    assert.deepEqual(sb.leads({ projectId: "cccccccccccccccccccccccc" }), []);

    const settings = sb.configure({ rateLimit: "2/60000", dupMax: 1 });
    assert.deepEqual(settings.rateLimit, { requests: 2, perMs: 60000 });
    assert.throws(() => sb.configure({ nope: 1 }), /Unknown config key: nope/);
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await fetch(`${sb.url}/leads/query`, { headers: { Authorization: `Bearer ${sb.token}` } })).status);
    assert.deepEqual(statuses, [200, 200, 429]);

    sb.reset();
    assert.deepEqual(sb.leads(), []);
    assert.equal(sb.stats().requests, 0);
  } finally {
    await sb.close();
  }
});

test("bad initial faults refuse the start with a ConfigError", async () => {
  await assert.rejects(
    startSandbox({ quiet: true, faults: [{ kind: "status", status: 200 }] }),
    (err) => err instanceof ConfigError && /status must be an integer from 400 to 599/.test(err.message),
  );
  await assert.rejects(startSandbox({ quiet: true, faults: "all" }), /rules must be an array/);
});
