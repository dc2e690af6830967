// parseWebhook and verifyWebhookAuth of the built package (docs/sdk.md "Webhooks", docs/api.md §4), and a
// small receiver on node:http that uses both, called with fetch. No sandbox needed.

import assert from "node:assert/strict";
import { createServer } from "node:http";
import { test } from "node:test";

import { parseWebhook, VoxError, verifyWebhookAuth } from "../../dist/vox-crm/node/index.mjs";

// docs/api.md §4 payloads as the CRM sends them, each with a field this SDK does not know.
const UPDATE = {
  action_type: "update",
  updateId: "6650a1b2c3d4e5f601230001",
  success: true,
  error: null,
  leadId: "6650a1b2c3d4e5f601230002",
  referenceId: "ref-77",
  timestamp: 1764355200000,
  data: { currentState: "interested", metadata: { tier: "gold" } },
  projectId: "6650a1b2c3d4e5f601234567",
};

const ACTIVITY = {
  action_type: "update",
  activityId: "6650a1b2c3d4e5f601230003",
  leadId: "6650a1b2c3d4e5f601230002",
  lastActivityId: "6650a1b2c3d4e5f601230009",
  processId: "6650a1b2c3d4e5f6012345a1",
  referenceId: "ref-77",
  timestamp: 1795890777123,
  activity: {
    type: "call",
    status: "completed",
    fromState: "make_first_call",
    toState: "interested",
    scheduledAt: 1795890700000,
    result: {
      durationSec: 93,
      analysis: { success: true, disposition: "interested", dispositionType: "success", summary: "Keen on gold." },
    },
  },
  campaign: { name: "winter" },
};

function expectInvalid(fn, what) {
  let err;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  assert.ok(err instanceof Error, `${what}: throws an Error`);
  assert.ok(err instanceof VoxError, `${what}: a VoxError`);
  assert.equal(err.name, "VoxError");
  assert.equal(err.code, "invalid_argument", what);
  assert.equal(typeof err.message, "string");
  return err;
}

test("an update result from JSON text", () => {
  const ev = parseWebhook(JSON.stringify(UPDATE));
  assert.deepEqual(ev, {
    kind: "update_result",
    updateId: UPDATE.updateId,
    success: true,
    error: null,
    leadId: UPDATE.leadId,
    referenceId: "ref-77",
    timestamp: 1764355200000,
    time: "2025-11-28T18:40:00.000Z",
    data: UPDATE.data,
    raw: UPDATE,
  });
  assert.deepEqual(Object.keys(ev), ["kind", "updateId", "success", "error", "leadId", "referenceId", "timestamp", "time", "data", "raw"]);
});

test("an activity update from an object", () => {
  const ev = parseWebhook(ACTIVITY);
  assert.equal(ev.kind, "activity");
  assert.equal(ev.activityId, ACTIVITY.activityId);
  assert.equal(ev.leadId, ACTIVITY.leadId);
  assert.equal(ev.lastActivityId, ACTIVITY.lastActivityId);
  assert.equal(ev.processId, ACTIVITY.processId);
  assert.equal(ev.referenceId, "ref-77");
  assert.equal(ev.timestamp, ACTIVITY.timestamp);
  assert.equal(ev.time, "2026-11-28T18:32:57.123Z");
  assert.deepEqual(ev.activity, ACTIVITY.activity);
  assert.equal(ev.activity.result.analysis.disposition, "interested");
  assert.equal(ev.raw, ACTIVITY, "raw is the very object passed in");
  assert.deepEqual(Object.keys(ev), ["kind", "activityId", "leadId", "lastActivityId", "processId", "referenceId", "timestamp", "time", "activity", "raw"]);
  assert.equal("updateId" in ev, false);
  assert.equal("data" in ev, false);
});

test("a string body and an object body give the same event", () => {
  for (const body of [UPDATE, ACTIVITY]) {
    assert.deepEqual(parseWebhook(JSON.stringify(body)), parseWebhook(body));
  }
});

test("unknown fields stay in raw, in the order sent", () => {
  const text = '{"zeta":1,"updateId":"u1","alpha":{"y":2,"x":1},"action_type":"update"}';
  const ev = parseWebhook(text);
  assert.deepEqual(Object.keys(ev.raw), ["zeta", "updateId", "alpha", "action_type"]);
  assert.deepEqual(ev.raw, JSON.parse(text));
  assert.equal("zeta" in ev, false);
  assert.equal(parseWebhook(ACTIVITY).raw.campaign.name, "winter");
});

test("time is the ISO form of the epoch-ms timestamp, which is kept as sent", () => {
  for (const ms of [0, 1, -1, 951782400000, 4107456000000, 1709164800000, 1735689599999, 1795890777123, Date.now()]) {
    const ev = parseWebhook({ updateId: "u", timestamp: ms });
    assert.equal(ev.time, new Date(ms).toISOString(), String(ms));
    assert.equal(ev.timestamp, ms);
  }
  const fromString = parseWebhook({ updateId: "u", timestamp: "1764355200000" });
  assert.equal(fromString.timestamp, "1764355200000");
  assert.equal(fromString.time, "2025-11-28T18:40:00.000Z");
  for (const bad of [undefined, null, "tomorrow", "2025-11-28T18:40:00Z", true, 1e300]) {
    assert.equal(parseWebhook({ updateId: "u", timestamp: bad }).time, null, String(bad));
  }
});

test("absent fields of the kind are null", () => {
  const ev = parseWebhook({ activity: { status: "scheduled" } });
  assert.equal(ev.kind, "activity");
  for (const key of ["activityId", "leadId", "lastActivityId", "processId", "referenceId", "timestamp", "time"]) {
    assert.equal(ev[key], null, key);
  }
});

test("a body that is neither kind, or not JSON, is a VoxError invalid_argument", () => {
  const bodies = [
    "",
    "not json",
    "<html>502 Bad Gateway</html>",
    "{}",
    "[]",
    "42",
    '{"hello":1}',
    "null",
    {},
    { hello: 1 },
    { updateId: null },
    { activity: "call" },
    [UPDATE],
    42,
    true,
    null,
    undefined,
    new Uint8Array(Buffer.from(JSON.stringify(UPDATE))),
  ];
  for (const body of bodies) expectInvalid(() => parseWebhook(body), `body ${String(body)}`);
  assert.match(expectInvalid(() => parseWebhook("{}"), "{}").message, /neither/);
  assert.match(expectInvalid(() => parseWebhook("nope"), "nope").message, /not JSON/);
  const cyclic = { updateId: "u" };
  cyclic.self = cyclic;
  expectInvalid(() => parseWebhook(cyclic), "a cyclic object");
});

test("verifyWebhookAuth: bearer token in Headers and in a plain object", () => {
  const expected = { token: "whsec_abc" };
  assert.equal(verifyWebhookAuth(new Headers({ Authorization: "Bearer whsec_abc" }), expected), true);
  assert.equal(verifyWebhookAuth({ authorization: "Bearer whsec_abc" }, expected), true);
  assert.equal(verifyWebhookAuth({ AUTHORIZATION: "bearer whsec_abc" }, expected), true, "name and scheme in any case");
  assert.equal(verifyWebhookAuth(new Map([["authorization", "Bearer whsec_abc"]]), expected), true);
  for (const value of ["Bearer whsec_abd", "Bearer whsec_ab", "Bearer WHSEC_ABC", "Basic whsec_abc", "whsec_abc", "Bearer "]) {
    assert.equal(verifyWebhookAuth({ authorization: value }, expected), false, value);
    assert.equal(verifyWebhookAuth(new Headers({ authorization: value }), expected), false, value);
  }
  assert.equal(verifyWebhookAuth({}, expected), false, "missing header");
  assert.equal(verifyWebhookAuth(new Headers(), expected), false, "missing header");
  assert.equal(verifyWebhookAuth({ "x-token": "Bearer whsec_abc" }, expected), false, "other header");
  assert.equal(verifyWebhookAuth({ authorization: "Bearer " }, { token: "" }), false, "empty expected token");
});

test("verifyWebhookAuth: custom header in Headers and in a plain object", () => {
  const expected = { header: "X-Vox-Secret", value: "s3cret" };
  assert.equal(verifyWebhookAuth({ "x-vox-secret": "s3cret" }, expected), true);
  assert.equal(verifyWebhookAuth({ "X-VOX-SECRET": "s3cret" }, expected), true);
  assert.equal(verifyWebhookAuth(new Headers({ "X-Vox-Secret": "s3cret" }), expected), true);
  assert.equal(verifyWebhookAuth(new Headers({ "X-Vox-Secret": "nope" }), expected), false);
  assert.equal(verifyWebhookAuth({ "x-vox-secret": "S3CRET" }, expected), false, "the value is case-sensitive");
  assert.equal(verifyWebhookAuth({ "x-vox-secret": "s3cret2" }, expected), false);
  assert.equal(verifyWebhookAuth({}, expected), false, "missing header");
  assert.equal(verifyWebhookAuth({ "x-vox-secret": "" }, { header: "x-vox-secret", value: "" }), false, "empty expected value");
  // Non-string values (Node's set-cookie array) are ignored, not an error.
  assert.equal(verifyWebhookAuth({ "set-cookie": ["a=1"], "x-vox-secret": "s3cret" }, expected), true);
  assert.equal(verifyWebhookAuth({ "x-vox-secret": ["s3cret"] }, expected), false);
});

test("verifyWebhookAuth: bad arguments are a VoxError invalid_argument", () => {
  for (const headers of [undefined, null, "authorization: Bearer x", 42]) {
    expectInvalid(() => verifyWebhookAuth(headers, { token: "x" }), `headers ${String(headers)}`);
  }
  for (const expected of [
    undefined,
    null,
    "x",
    {},
    { token: 1 },
    { header: "x-a" },
    { value: "v" },
    { token: "x", header: "x-a", value: "v" },
    { header: 1, value: "v" },
  ]) {
    expectInvalid(() => verifyWebhookAuth({ authorization: "Bearer x" }, expected), `expected ${JSON.stringify(expected)}`);
  }
});

// ---------------------------------------------------------------------------------------------
// An example receiver: check the secret, read the event, answer 200 at once, handle it later.

function startReceiver(expected) {
  const events = [];
  const server = createServer((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      if (req.method !== "POST") return res.writeHead(405).end();
      if (!verifyWebhookAuth(req.headers, expected)) return res.writeHead(401).end();
      let event;
      try {
        event = parseWebhook(Buffer.concat(chunks).toString("utf8"));
      } catch (e) {
        if (e instanceof VoxError) return res.writeHead(400, { "content-type": "text/plain" }).end(e.message);
        throw e;
      }
      res.writeHead(200).end();
      events.push(event);
    });
  });
  return new Promise((resolve) => {
    server.listen(0, "127.0.0.1", () => {
      const url = `http://127.0.0.1:${server.address().port}/vox-webhook`;
      resolve({ url, events, close: () => new Promise((r) => server.close(r)) });
    });
  });
}

const post = (url, headers, body) => fetch(url, { method: "POST", headers: { "content-type": "application/json", ...headers }, body });

test("an example receiver (node:http) with a bearer token, called with fetch", async () => {
  const rx = await startReceiver({ token: "whsec_abc" });
  try {
    const auth = { Authorization: "Bearer whsec_abc" };
    assert.equal((await post(rx.url, auth, JSON.stringify(UPDATE))).status, 200);
    assert.equal((await post(rx.url, auth, JSON.stringify(ACTIVITY))).status, 200);
    assert.equal((await post(rx.url, { Authorization: "Bearer whsec_abd" }, JSON.stringify(UPDATE))).status, 401);
    assert.equal((await post(rx.url, {}, JSON.stringify(UPDATE))).status, 401);
    const bad = await post(rx.url, auth, JSON.stringify({ hello: 1 }));
    assert.equal(bad.status, 400);
    assert.match(await bad.text(), /neither/);
    assert.equal((await post(rx.url, auth, "<html>")).status, 400);

    assert.deepEqual(
      rx.events.map((e) => e.kind),
      ["update_result", "activity"],
    );
    const [update, activity] = rx.events;
    assert.equal(update.updateId, UPDATE.updateId);
    assert.equal(update.time, new Date(UPDATE.timestamp).toISOString());
    assert.deepEqual(update.raw, UPDATE);
    assert.equal(activity.activity.toState, "interested");
    assert.equal(activity.raw.campaign.name, "winter");
  } finally {
    await rx.close();
  }
});

test("an example receiver (node:http) with a custom header, called with fetch", async () => {
  const rx = await startReceiver({ header: "X-Vox-Secret", value: "s3cret" });
  try {
    assert.equal((await post(rx.url, { "X-Vox-Secret": "s3cret" }, JSON.stringify(ACTIVITY))).status, 200);
    assert.equal((await post(rx.url, { "X-Vox-Secret": "s3cre" }, JSON.stringify(ACTIVITY))).status, 401);
    assert.equal((await post(rx.url, { Authorization: "Bearer s3cret" }, JSON.stringify(ACTIVITY))).status, 401);
    assert.equal(rx.events.length, 1);
    assert.equal(rx.events[0].activityId, ACTIVITY.activityId);
  } finally {
    await rx.close();
  }
});
