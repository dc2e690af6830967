// Owns the six /api/v1 endpoints of docs/api.md §3: each handler gets an authenticated context
// { project, body | query, now, duplicate() } and returns a reply; nothing here knows about sockets,
// rate limits or faults.

import { fail, failPlain, ok, queryBool } from "./http.mjs";
import { isoTime as iso, objectId } from "./ids.mjs";
import { activityView, isPlainObject, leadView, mergeInto, newLeadRecord, PROJECT_MISMATCH, processNotFound, splitName, validateLeadInput } from "./leads.mjs";
import { parsePhone } from "./phone.mjs";

const MAX_BULK = 1000;
const UPDATE_FIELDS = new Set(["leadId", "referenceId", "projectId", "processId", "metadata", "name", "targetState", "disposition", "userId"]);

const given = (v) => v !== undefined && v !== null && v !== "";

/** `init` defaults to true; booleans and "true"/"false" are accepted. */
function parseInit(value) {
  if (value === undefined || value === null) return { init: true };
  if (value === true || value === "true") return { init: true };
  if (value === false || value === "false") return { init: false };
  return { error: "init must be a boolean" };
}

/** Builds the route table over the sandbox state (store, calls, stats, markDirty). */
export function createApi(state) {
  const { store, calls, stats } = state;

  function changed() {
    state.markDirty();
  }

  /** Validates and stores one new lead. Returns { lead } or { reply, duplicate }. */
  function createLead(ctx, input, init) {
    const checked = validateLeadInput(input, { project: ctx.project, processes: ctx.project.processMap, store });
    if (!checked.fields) {
      if (checked.duplicate) ctx.duplicate();
      return { error: checked };
    }
    const lead = newLeadRecord(objectId(ctx.now), checked.fields, ctx.now);
    store.addLead(lead);
    stats.leadsCreated++;
    if (init) calls.start(lead, ctx.now);
    return { lead };
  }

  /** A lead of the authenticated project by id, or undefined. */
  function leadInProject(ctx, id) {
    const lead = store.getLead(id);
    return lead && lead.projectId === ctx.project._id ? lead : undefined;
  }

  /** Finds the target lead of update / get: { lead } or { reply }. */
  function locate(ctx, p) {
    if (given(p.projectId) && p.projectId !== ctx.project._id) return { reply: failPlain(403, PROJECT_MISMATCH) };
    if (given(p.leadId)) {
      const lead = leadInProject(ctx, p.leadId);
      return lead ? { lead } : { reply: fail(404, `Lead with ID ${p.leadId} not found`) };
    }
    if (given(p.referenceId)) {
      if (!given(p.projectId) || !given(p.processId)) return { reply: fail(400, "projectId and processId are required when using referenceId") };
      const lead =
        typeof p.referenceId === "string" && typeof p.processId === "string"
          ? store.findByReference(ctx.project._id, p.processId, p.referenceId.trim())
          : undefined;
      return lead ? { lead } : { reply: fail(404, `Lead with referenceId ${p.referenceId} not found`) };
    }
    return { reply: fail(400, "Either leadId or referenceId is required") };
  }

  // ---- POST /leads/initiate ----
  function initiate(ctx) {
    const b = ctx.body;
    if (!isPlainObject(b)) return fail(400, "Either leadId or lead object is required");
    const { init, error } = parseInit(b.init);
    if (error) return fail(400, error);
    if (given(b.leadId)) {
      const lead = leadInProject(ctx, b.leadId);
      if (!lead) return fail(404, `Lead with ID ${b.leadId} not found`);
      if (init) {
        calls.start(lead, ctx.now);
        changed();
      }
      return ok({ success: true, ...leadView(lead) });
    }
    if (!isPlainObject(b.lead)) return fail(400, "Either leadId or lead object is required");
    const created = createLead(ctx, b.lead, init);
    if (created.error) {
      const { status, error: message, plain } = created.error;
      return plain ? failPlain(status, message) : fail(status, message);
    }
    changed();
    return ok({ success: true, ...leadView(created.lead) });
  }

  // ---- POST /leads/bulk/initiate ----
  function bulkInitiate(ctx) {
    const b = ctx.body;
    const useIds = isPlainObject(b) && b.leadIds !== undefined && b.leadIds !== null;
    const list = isPlainObject(b) ? (useIds ? b.leadIds : b.leads) : undefined;
    if (list === undefined || list === null) return failPlain(400, "Either leadIds or leads array is required");
    if (!Array.isArray(list)) return failPlain(400, "Input must be an array");
    if (list.length > MAX_BULK) return failPlain(400, `Maximum of ${MAX_BULK} leads allowed per request`);
    const { init, error } = parseInit(b.init);
    if (error) return failPlain(400, error);

    const success = [];
    const errors = [];
    if (useIds) {
      for (const id of list) {
        const lead = leadInProject(ctx, id);
        if (!lead) {
          errors.push({ leadId: id, error: `Lead with ID ${id} not found` });
          continue;
        }
        if (init) calls.start(lead, ctx.now);
        success.push(leadView(lead));
      }
    } else {
      // Whole-request checks first: one foreign project or unknown process refuses the request.
      for (const item of list) {
        if (isPlainObject(item) && given(item.projectId) && item.projectId !== ctx.project._id) return failPlain(403, PROJECT_MISMATCH);
      }
      for (const item of list) {
        const pid = isPlainObject(item) && typeof item.processId === "string" ? item.processId.trim() : "";
        if (pid && !ctx.project.processMap.has(pid)) return failPlain(404, processNotFound(pid));
      }
      for (const item of list) {
        const created = createLead(ctx, item, init);
        if (created.lead) success.push(leadView(created.lead));
        else {
          const ref = isPlainObject(item) && typeof item.referenceId === "string" && item.referenceId !== "" ? item.referenceId : null;
          errors.push({ data: item, referenceId: ref, error: created.error.error });
        }
      }
    }
    if (success.length) changed();
    return ok({ success, errors });
  }

  // ---- POST /leads/update ----
  function update(ctx) {
    const b = ctx.body;
    if (!isPlainObject(b)) return fail(400, "Either leadId or referenceId is required");
    const found = locate(ctx, b);
    if (found.reply) return found.reply;
    const { lead } = found;
    const process = ctx.project.processMap.get(lead.processId);

    // null counts as absent for every field
    const has = (key) => b[key] !== undefined && b[key] !== null;
    if (has("metadata") && !isPlainObject(b.metadata)) return fail(400, "metadata must be an object");
    if (has("name") && (typeof b.name !== "string" || !b.name.trim())) return fail(400, "name must be a non-empty string");
    if (has("disposition") && typeof b.disposition !== "string") return fail(400, "disposition must be a string");
    if (has("userId") && typeof b.userId !== "string") return fail(400, "userId must be a string");
    if (has("targetState") && (typeof b.targetState !== "string" || !process?.states.includes(b.targetState))) {
      return fail(400, `Invalid targetState: ${b.targetState}`);
    }
    if (calls.inProgress(lead)) return fail(400, "Lead update is not allowed while a call is in progress for this lead");

    const now = ctx.now;
    const updateId = objectId(now);
    if (has("metadata")) mergeInto(lead.metadata, b.metadata);
    else {
      const extra = {};
      for (const k of Object.keys(b)) if (!UPDATE_FIELDS.has(k) && k !== "__proto__") extra[k] = b[k];
      mergeInto(lead.metadata, extra);
    }
    if (typeof b.name === "string") {
      lead.name = b.name.trim();
      const { firstName, lastName } = splitName(lead.name);
      lead.firstName = firstName;
      lead.lastName = lastName;
    }
    if (typeof b.disposition === "string") lead.lastDisposition = b.disposition;
    if (has("targetState") && b.targetState !== lead.currentState) {
      const fromState = lead.currentState;
      lead.currentState = b.targetState;
      store.addActivity(lead, {
        _id: objectId(now),
        leadId: lead._id,
        projectId: lead.projectId,
        processId: lead.processId,
        referenceId: lead.referenceId ?? null,
        type: "state_change",
        status: "completed",
        fromState,
        toState: b.targetState,
        disposition: typeof b.disposition === "string" ? b.disposition : null,
        userId: typeof b.userId === "string" ? b.userId : null,
        updateId,
        createdAt: iso(now),
        updatedAt: iso(now),
      });
      if (fromState === "make_first_call") calls.cancel(lead, now);
      if (b.targetState === "make_first_call") calls.start(lead, now);
    }
    store.touch(lead, now);
    changed();
    return ok({ success: true, message: "Lead update initiated", updateId });
  }

  // ---- GET /leads/get ----
  function getLead(ctx) {
    const found = locate(ctx, ctx.query);
    if (found.reply) return found.reply;
    const masked = queryBool(ctx.query.masked);
    const activities = store.activitiesOf(found.lead).map((a) => activityView(a, masked));
    return ok({ success: true, data: { ...leadView(found.lead, masked), activities } });
  }

  // ---- GET /leads/query ----
  function queryLeads(ctx) {
    const q = ctx.query;
    if (given(q.projectId) && q.projectId !== ctx.project._id) return failPlain(403, PROJECT_MISMATCH);
    let limit = 20;
    if (q.limit !== undefined) {
      limit = /^\d{1,4}$/.test(q.limit.trim()) ? Number(q.limit.trim()) : NaN;
      if (!(limit >= 1 && limit <= 100)) return fail(400, "limit must be between 1 and 100");
    }
    let page = 1;
    if (q.page !== undefined) {
      page = /^\d{1,15}$/.test(q.page.trim()) ? Number(q.page.trim()) : NaN;
      if (!(page >= 1)) return fail(400, "page must be a positive integer");
    }
    const sort = given(q.sort) ? q.sort : "createdAt";
    if (sort !== "createdAt" && sort !== "updatedAt") return fail(400, "sort must be createdAt or updatedAt");
    const order = given(q.order) ? q.order.toLowerCase() : "desc";
    if (order !== "asc" && order !== "desc") return fail(400, "order must be asc or desc");

    const f = {};
    for (const [param, field] of [
      ["processId", "processId"],
      ["state", "state"],
      ["disposition", "disposition"],
      ["groupId", "groupId"],
      ["referenceId", "referenceId"],
    ]) {
      if (given(q[param])) f[field] = q[param];
    }
    if (given(q.phone)) {
      // An unencoded "+" arrives as a space.
      const raw = q.phone.replace(/^ /, "+");
      f.phone = parsePhone(raw)?.e164 ?? raw;
    }
    if (given(q.email)) f.email = q.email.trim().toLowerCase();
    for (const param of ["createdFrom", "createdTo", "updatedFrom", "updatedTo"]) {
      if (!given(q[param])) continue;
      const ms = Date.parse(q[param]);
      if (Number.isNaN(ms)) return fail(400, `Invalid date: ${param}`);
      f[param] = ms;
    }

    const matches = store.query(ctx.project._id, f, sort, order);
    const masked = queryBool(q.masked);
    const start = (page - 1) * limit;
    const data = matches.slice(start, start + limit).map((lead) => leadView(lead, masked));
    const total = matches.length;
    const totalPages = Math.ceil(total / limit);
    return ok({ success: true, data, pagination: { page, limit, total, totalPages, hasNextPage: page < totalPages } });
  }

  // ---- GET /activities/get ----
  function getActivity(ctx) {
    const id = ctx.query.activityId;
    if (given(ctx.query.projectId) && ctx.query.projectId !== ctx.project._id) return failPlain(403, PROJECT_MISMATCH);
    if (!given(id)) return fail(400, "activityId is required");
    const activity = store.getActivity(id);
    if (!activity || activity.projectId !== ctx.project._id) return fail(404, `Activity with ID ${id} not found`);
    return ok({ success: true, data: activityView(activity, queryBool(ctx.query.masked)) });
  }

  return {
    "POST /leads/initiate": initiate,
    "POST /leads/bulk/initiate": bulkInitiate,
    "POST /leads/update": update,
    "GET /leads/get": getLead,
    "GET /leads/query": queryLeads,
    "GET /activities/get": getActivity,
  };
}
