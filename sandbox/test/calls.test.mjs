// The simulated AI caller: call activity life cycle (scheduled -> in_progress -> completed/failed),
// the deterministic and the forced outcome, updates refused during a call, cancelling a scheduled call,
// and the generated recording.

import assert from "node:assert/strict";
import { after, test } from "node:test";
import { DEFAULT_PROJECT, predictOutcome } from "../server.mjs";
import { makeLead, SALES, SUPPORT, startTestSandbox, waitFor } from "../testing.mjs";

const sales = DEFAULT_PROJECT.processes.find((p) => p._id === SALES);
const support = DEFAULT_PROJECT.processes.find((p) => p._id === SUPPORT);

const sandboxes = [];
after(() => Promise.all(sandboxes.map((s) => s.close())));
async function start(options) {
  const sb = await startTestSandbox(options);
  sandboxes.push(sb);
  return sb;
}
const getLead = async (sb, id) => (await sb.get(`/leads/get?leadId=${id}`)).body.data;

test("a call goes scheduled -> in_progress -> completed and moves the lead", async () => {
  const sb = await start({ callDelayMs: 60, callDurationMs: 60 });
  const before = Date.now();
  const lead = (await sb.post("/leads/initiate", { lead: makeLead({ metadata: { sandboxOutcome: "interested" } }) })).body;

  let call = (await getLead(sb, lead._id)).activities[0];
  assert.equal(call.type, "call");
  assert.equal(call.status, "scheduled");
  assert.equal(call.fromState, "make_first_call");
  assert.equal(call.toState, null);
  assert.ok(Date.parse(call.scheduledAt) >= before + 60);
  assert.equal(call.startedAt, null);

  call = await waitFor(
    async () => {
      const c = (await getLead(sb, lead._id)).activities[0];
      return c.status === "in_progress" && c;
    },
    { what: "in_progress" },
  );
  assert.match(call.startedAt, /Z$/);
  assert.equal(call.endedAt, null);

  const done = await waitFor(
    async () => {
      const l = await getLead(sb, lead._id);
      return l.activities[0].status === "completed" && l;
    },
    { what: "completed" },
  );
  call = done.activities[0];
  assert.equal(done.currentState, "interested");
  assert.equal(done.lastDisposition, "interested");
  assert.equal(done.attempts, 1);
  assert.equal(call.toState, "interested");
  assert.equal(call.disposition, "interested");
  assert.equal(call.dispositionType, "success");
  assert.ok(call.endedAt >= call.startedAt);
  assert.equal(typeof call.durationSec, "number");
  assert.ok(call.summary.length > 10);
  assert.match(call.transcript, /^Agent: .*\nCustomer: /);
  assert.equal(call.recordingUrl, `${sb.origin}/recordings/${call._id}.wav`);
  assert.deepEqual(call.result.analysis, { success: true, disposition: "interested", dispositionType: "success", summary: call.summary });

  // the recording is a real WAV file, served without a token
  const wav = await sb.request("GET", `/recordings/${call._id}.wav`, { token: null });
  assert.equal(wav.status, 200);
  assert.equal(wav.headers.get("content-type"), "audio/wav");
  assert.equal(wav.headers.get("access-control-allow-origin"), "*");
  assert.equal(wav.bytes.toString("ascii", 0, 4), "RIFF");
  assert.equal(wav.bytes.toString("ascii", 8, 12), "WAVE");
  assert.equal(wav.bytes.readUInt32LE(4), wav.bytes.length - 8);
  const missing = await sb.request("GET", "/recordings/6650a1b2c3d4e5f6012345ff.wav");
  assert.deepEqual([missing.status, missing.body], [404, { success: false, error: "Recording not found" }]);
});

test("the outcome is a function of the lead id (predictOutcome), and sandboxOutcome forces it", async () => {
  const sb = await start({ callDelayMs: 5, callDurationMs: 5, rateLimit: false });
  const leads = (
    await sb.post("/leads/bulk/initiate", {
      leads: [
        ...Array.from({ length: 30 }, () => makeLead()),
        ...Array.from({ length: 10 }, () => makeLead({ processId: SUPPORT })),
        makeLead({ metadata: { sandboxOutcome: "no_answer" } }),
        makeLead({ metadata: { sandboxOutcome: "converted" } }),
        makeLead({ processId: SUPPORT, metadata: { sandboxOutcome: "escalated" } }),
        makeLead({ metadata: { sandboxOutcome: "not-a-state" } }),
      ],
    })
  ).body.success;
  assert.equal(leads.length, 44);
  await waitFor(() => sb.state.scheduler.size === 0 && [...sb.state.store.leads.values()].every((l) => !l.callId), { what: "all calls done" });
  const seen = new Set();
  for (const l of leads) {
    const process = l.processId === SALES ? sales : support;
    const expected = predictOutcome(l._id, process, { metadata: l.metadata });
    const got = await getLead(sb, l._id);
    assert.equal(got.currentState, expected.toState, l._id);
    assert.equal(got.lastDisposition, expected.disposition);
    assert.equal(got.activities[0].status, expected.status);
    assert.ok(process.states.includes(got.currentState));
    seen.add(got.currentState);
  }
  assert.ok(seen.size >= 5, `outcomes vary: ${[...seen]}`);
  const byName = (i) => leads[i];
  const noAnswer = await getLead(sb, byName(40)._id);
  assert.equal(noAnswer.currentState, "followup_1");
  assert.equal(noAnswer.lastDisposition, "no_answer");
  assert.equal(noAnswer.activities[0].status, "failed");
  assert.equal(noAnswer.activities[0].recordingUrl, null);
  assert.equal(noAnswer.activities[0].durationSec, 0);
  assert.equal((await getLead(sb, byName(41)._id)).currentState, "converted");
  assert.equal((await getLead(sb, byName(42)._id)).currentState, "escalated");
  assert.equal(predictOutcome("6650a1b2c3d4e5f6012345ff", sales).toState, predictOutcome("6650a1b2c3d4e5f6012345ff", sales).toState);
});

test("update is refused while a call is in progress, allowed before and after", async () => {
  const sb = await start({ callDelayMs: 30, callDurationMs: 400 });
  const lead = (await sb.post("/leads/initiate", { lead: makeLead({ metadata: { sandboxOutcome: "callback" } }) })).body;
  assert.equal((await sb.post("/leads/update", { leadId: lead._id, metadata: { before: true } })).status, 200);
  await waitFor(async () => (await getLead(sb, lead._id)).activities[0].status === "in_progress", { what: "in_progress" });
  const res = await sb.post("/leads/update", { leadId: lead._id, targetState: "lost" });
  assert.equal(res.status, 400);
  assert.deepEqual(res.body, { success: false, error: "Lead update is not allowed while a call is in progress for this lead" });
  // initiating it again during the call changes nothing
  assert.equal((await sb.post("/leads/initiate", { leadId: lead._id })).status, 200);
  assert.equal((await getLead(sb, lead._id)).activities.length, 1);
  await waitFor(async () => (await getLead(sb, lead._id)).currentState === "callback", { what: "completed" });
  assert.equal((await sb.post("/leads/update", { leadId: lead._id, metadata: { after: true } })).status, 200);
  assert.deepEqual((await getLead(sb, lead._id)).metadata, { sandboxOutcome: "callback", before: true, after: true });
});

test("leaving make_first_call cancels the scheduled call; returning schedules a new one", async () => {
  const sb = await start({ callDelayMs: 60000 });
  const lead = (await sb.post("/leads/initiate", { lead: makeLead() })).body;
  await sb.post("/leads/update", { leadId: lead._id, targetState: "lost", disposition: "changed mind" });
  let got = await getLead(sb, lead._id);
  assert.equal(got.currentState, "lost");
  const [call, change] = got.activities;
  assert.equal(call.type, "call");
  assert.equal(call.status, "failed");
  assert.equal(call.disposition, "cancelled");
  assert.deepEqual([change.type, change.fromState, change.toState], ["state_change", "make_first_call", "lost"]);

  await sb.post("/leads/update", { leadId: lead._id, targetState: "make_first_call" });
  got = await getLead(sb, lead._id);
  assert.equal(got.currentState, "make_first_call");
  assert.deepEqual(
    got.activities.map((a) => `${a.type}:${a.status}`),
    ["call:failed", "state_change:completed", "state_change:completed", "call:scheduled"],
  );

  // initiate by leadId from a later state starts a new call too
  const other = (await sb.post("/leads/initiate", { lead: makeLead(), init: false })).body;
  await sb.post("/leads/update", { leadId: other._id, targetState: "not_interested" });
  await sb.post("/leads/initiate", { leadId: other._id });
  got = await getLead(sb, other._id);
  assert.equal(got.currentState, "make_first_call");
  assert.equal(got.activities.at(-1).status, "scheduled");
});
