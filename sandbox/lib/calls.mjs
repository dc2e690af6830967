// Owns the simulated AI caller: a lead entering make_first_call gets a call activity that goes
// scheduled -> in_progress -> completed | failed on the scheduler, and the lead then moves to the
// outcome's state. The outcome is a pure function of the lead id (predictOutcome), unless the lead's
// metadata.sandboxOutcome forces it.
import { isoTime as iso, objectId } from "./ids.mjs";

const OUTCOMES = {
  interested: {
    disposition: "interested",
    dispositionType: "success",
    summary: "The customer is interested and asked for pricing details by email.",
    lines: ["Agent: We can set this up for you this week. Would that work?", "Customer: Yes, that sounds interesting. Please send me the pricing."],
  },
  converted: {
    disposition: "converted",
    dispositionType: "success",
    summary: "The customer agreed to go ahead during the call.",
    lines: ["Agent: Shall I confirm the order for you now?", "Customer: Yes, go ahead and confirm it."],
  },
  callback: {
    disposition: "callback_requested",
    dispositionType: "neutral",
    summary: "The customer asked to be called back later this week.",
    lines: ["Agent: Is this a good time to talk for two minutes?", "Customer: Not right now, can you call me back on Thursday?"],
  },
  not_interested: {
    disposition: "not_interested",
    dispositionType: "failure",
    summary: "The customer is not interested at this time.",
    lines: ["Agent: Would you like to hear about our new plan?", "Customer: No thanks, I'm not interested."],
  },
  lost: {
    disposition: "wrong_number",
    dispositionType: "failure",
    summary: "The person who answered said this is the wrong number.",
    lines: ["Agent: Am I speaking with the right person?", "Customer: No, you have the wrong number."],
  },
  resolved: {
    disposition: "resolved",
    dispositionType: "success",
    summary: "The customer's issue was resolved during the call.",
    lines: ["Agent: Restarting the device should fix it. Can you try that now?", "Customer: It works again, thank you!"],
  },
  escalated: {
    disposition: "escalated",
    dispositionType: "neutral",
    summary: "The issue needs a specialist; the case was escalated.",
    lines: ["Agent: I'll pass this to a specialist who will contact you.", "Customer: Okay, please make it quick."],
  },
  followup_2: {
    disposition: "busy",
    dispositionType: "neutral",
    summary: "The customer was busy and asked for a later call.",
    lines: ["Agent: Do you have a moment?", "Customer: I'm in a meeting, call me later."],
  },
};

const NO_ANSWER = { disposition: "no_answer", dispositionType: "neutral", summary: "The customer did not answer the call." };
const NOT_DRAWN = new Set(["new", "make_first_call", "followup_1", "followup_2"]);

/** FNV-1a, 32 bits. */
function hash(text) {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

function failedTarget(process) {
  if (process.states.includes("followup_1")) return "followup_1";
  if (process.states.includes("lost")) return "lost";
  return "make_first_call";
}

function completedOutcome(state) {
  const known = OUTCOMES[state];
  if (known) return { status: "completed", toState: state, disposition: known.disposition, dispositionType: known.dispositionType, summary: known.summary };
  return { status: "completed", toState: state, disposition: state, dispositionType: "neutral", summary: `The call ended with outcome "${state}".` };
}

/**
 * The outcome of a lead's call: { status: "completed" | "failed", toState, disposition, dispositionType, summary }.
 * metadata.sandboxOutcome = a state of the process, or "no_answer" / "failed", forces it; otherwise a
 * `failedCallShare` of leads (by id hash) get no answer and the rest draw one of the process's
 * outcome states (every state but new, make_first_call, followup_1, followup_2).
 */
export function predictOutcome(leadId, process, { metadata = {}, failedCallShare = 0.1 } = {}) {
  const forced = metadata?.sandboxOutcome;
  if (forced === "no_answer" || forced === "failed") return { status: "failed", toState: failedTarget(process), ...NO_ANSWER };
  if (typeof forced === "string" && process.states.includes(forced)) return completedOutcome(forced);

  const h = hash(leadId);
  if (h % 1000 < Math.round(failedCallShare * 1000)) return { status: "failed", toState: failedTarget(process), ...NO_ANSWER };
  const candidates = process.states.filter((s) => !NOT_DRAWN.has(s));
  if (candidates.length === 0)
    return { status: "completed", toState: "make_first_call", disposition: "completed", dispositionType: "neutral", summary: "The call completed." };
  return completedOutcome(candidates[Math.floor(h / 1000) % candidates.length]);
}

function transcriptFor(lead, project, outcome) {
  const who = lead.firstName || "there";
  const lines = OUTCOMES[outcome.toState]?.lines ?? ["Agent: How can I help you today?", "Customer: Let's talk about it."];
  return [
    `Agent: Hello, this is the Vox assistant calling for ${project.name}. Am I speaking with ${who}?`,
    "Customer: Yes, speaking.",
    ...lines,
    "Agent: Thank you for your time. Goodbye!",
  ].join("\n");
}

export class CallSimulator {
  /**
   * deps: { store, scheduler, settings() -> { callDelayMs, callDurationMs, failedCallShare },
   *         processes: Map, projects: Map, origin() -> string, onChange() }
   */
  constructor(deps) {
    Object.assign(this, deps);
  }

  /** True while the lead's call is in progress (updates are refused then). */
  inProgress(lead) {
    const call = lead.callId && this.store.getActivity(lead.callId);
    return Boolean(call && call.status === "in_progress");
  }

  /** Puts the lead in make_first_call and schedules a call, unless one is already active. */
  start(lead, nowMs) {
    if (lead.currentState !== "make_first_call") {
      lead.currentState = "make_first_call";
      this.store.touch(lead, nowMs);
    }
    if (lead.callId) return;
    const { callDelayMs } = this.settings();
    const call = {
      _id: objectId(nowMs),
      leadId: lead._id,
      projectId: lead.projectId,
      processId: lead.processId,
      referenceId: lead.referenceId ?? null,
      type: "call",
      status: "scheduled",
      phone: lead.phone ?? null,
      attempt: lead.attempts + 1,
      fromState: "make_first_call",
      toState: null,
      scheduledAt: iso(nowMs + callDelayMs),
      startedAt: null,
      endedAt: null,
      durationSec: null,
      disposition: null,
      dispositionType: null,
      summary: null,
      recordingUrl: null,
      transcript: null,
      result: null,
      createdAt: iso(nowMs),
      updatedAt: iso(nowMs),
    };
    this.store.addActivity(lead, call);
    lead.callId = call._id;
    this.#scheduleStart(lead, call, nowMs + callDelayMs);
  }

  /** A scheduled (not yet started) call is cancelled because the lead left make_first_call. */
  cancel(lead, nowMs) {
    const call = lead.callId && this.store.getActivity(lead.callId);
    if (call?.status !== "scheduled") return;
    lead.callId = null;
    Object.assign(call, {
      status: "failed",
      endedAt: iso(nowMs),
      durationSec: 0,
      disposition: "cancelled",
      dispositionType: "neutral",
      summary: `The call was cancelled: the lead moved to ${lead.currentState} before it started.`,
      updatedAt: iso(nowMs),
    });
  }

  /** Re-schedules calls that were pending when the data was saved (they start over from "scheduled"). */
  resume(calls, nowMs) {
    const { callDelayMs } = this.settings();
    for (const call of calls) {
      const lead = this.store.getLead(call.leadId);
      if (!lead || lead.callId) continue;
      Object.assign(call, { status: "scheduled", startedAt: null, scheduledAt: iso(nowMs + callDelayMs), updatedAt: iso(nowMs) });
      lead.callId = call._id;
      this.#scheduleStart(lead, call, nowMs + callDelayMs);
    }
  }

  #scheduleStart(lead, call, due) {
    this.scheduler.at(due, () => {
      if (lead.callId !== call._id || call.status !== "scheduled") return;
      const now = this.scheduler.now();
      call.status = "in_progress";
      call.startedAt = iso(now);
      call.updatedAt = iso(now);
      lead.attempts += 1;
      this.store.touch(lead, now);
      this.onChange();
      this.scheduler.at(now + this.settings().callDurationMs, () => this.#finish(lead, call));
    });
  }

  #finish(lead, call) {
    if (lead.callId !== call._id || call.status !== "in_progress") return;
    const now = this.scheduler.now();
    const process = this.processes.get(lead.processId);
    const project = this.projects.get(lead.projectId);
    if (!process || !project) {
      lead.callId = null;
      return;
    }
    const outcome = predictOutcome(lead._id, process, { metadata: lead.metadata, failedCallShare: this.settings().failedCallShare });
    const answered = outcome.status === "completed";
    const durationSec = answered ? Math.max(1, Math.round((now - Date.parse(call.startedAt)) / 1000)) : 0;
    Object.assign(call, {
      status: outcome.status,
      toState: outcome.toState,
      endedAt: iso(now),
      durationSec,
      disposition: outcome.disposition,
      dispositionType: outcome.dispositionType,
      summary: outcome.summary,
      recordingUrl: answered ? `${this.origin()}/recordings/${call._id}.wav` : null,
      transcript: answered ? transcriptFor(lead, project, outcome) : null,
      result: {
        analysis: {
          success: outcome.dispositionType === "success",
          disposition: outcome.disposition,
          dispositionType: outcome.dispositionType,
          summary: outcome.summary,
        },
      },
      updatedAt: iso(now),
    });
    lead.callId = null;
    lead.currentState = outcome.toState;
    lead.lastDisposition = outcome.disposition;
    this.store.touch(lead, now);
    this.onChange();
  }
}
