// Owns the sandbox's data: leads and activities in memory, the lookup indexes (id, and per project:
// phone, email, (process, referenceId)), the per-project lead lists kept in (createdAt, _id) order that
// queries scan, and the JSON form used for persistence.
import { isoTime } from "./ids.mjs";

function compareCreated(a, b) {
  return a.createdMs - b.createdMs || (a._id < b._id ? -1 : a._id > b._id ? 1 : 0);
}
function compareUpdated(a, b) {
  return a.updatedMs - b.updatedMs || (a._id < b._id ? -1 : a._id > b._id ? 1 : 0);
}

export class Store {
  constructor() {
    this.clear();
  }

  clear() {
    this.leads = new Map();
    this.activities = new Map();
    this.projects = new Map(); // projectId -> { leads (sorted by createdMs, _id), phone, email, reference }
    this.version = 0; // bumps on every lead change; invalidates the query cache
    this.queryCache = null;
  }

  get leadCount() {
    return this.leads.size;
  }

  #project(projectId) {
    let p = this.projects.get(projectId);
    if (!p) {
      p = { leads: [], phone: new Map(), email: new Map(), reference: new Map() };
      this.projects.set(projectId, p);
    }
    return p;
  }

  // ---- leads ----

  addLead(lead) {
    this.leads.set(lead._id, lead);
    const p = this.#project(lead.projectId);
    if (lead.phone) p.phone.set(lead.phone, lead);
    if (lead.email) p.email.set(lead.email, lead);
    if (lead.referenceId) {
      let refs = p.reference.get(lead.processId);
      if (!refs) {
        refs = new Map();
        p.reference.set(lead.processId, refs);
      }
      refs.set(lead.referenceId, lead);
    }
    const list = p.leads;
    if (list.length === 0 || compareCreated(list[list.length - 1], lead) < 0) {
      list.push(lead);
    } else {
      // Out of order (clock step or loaded data): binary insert.
      let lo = 0,
        hi = list.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (compareCreated(list[mid], lead) < 0) lo = mid + 1;
        else hi = mid;
      }
      list.splice(lo, 0, lead);
    }
    this.version++;
  }

  getLead(id) {
    return typeof id === "string" ? this.leads.get(id) : undefined;
  }
  findByPhone(projectId, phone) {
    return this.projects.get(projectId)?.phone.get(phone);
  }
  findByEmail(projectId, email) {
    return this.projects.get(projectId)?.email.get(email);
  }
  findByReference(projectId, processId, ref) {
    return this.projects.get(projectId)?.reference.get(processId)?.get(ref);
  }

  /** Marks a lead changed at nowMs. */
  touch(lead, nowMs) {
    lead.updatedMs = nowMs;
    lead.updatedAt = isoTime(nowMs);
    this.version++;
  }

  // ---- activities ----

  addActivity(lead, activity) {
    this.activities.set(activity._id, activity);
    lead.activityIds.push(activity._id);
  }

  getActivity(id) {
    return typeof id === "string" ? this.activities.get(id) : undefined;
  }

  /** A lead's activities sorted by createdAt (then _id). */
  activitiesOf(lead) {
    const list = lead.activityIds.map((id) => this.activities.get(id)).filter(Boolean);
    return list.sort((a, b) => (a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : a._id < b._id ? -1 : 1));
  }

  // ---- query ----

  /**
   * Leads of a project matching `f` (processId, state, disposition, groupId, referenceId, phone, email,
   * createdFrom/To, updatedFrom/To as ms), sorted by `sort` then _id, in `order`.
   * The matching list is cached while nothing changes, so paging through a large result is cheap.
   */
  query(projectId, f, sort, order) {
    const cacheKey = JSON.stringify([projectId, f, sort, order]);
    const cache = this.queryCache;
    if (cache && cache.key === cacheKey && cache.version === this.version) return cache.result;

    const all = this.projects.get(projectId)?.leads ?? [];
    let candidates = all;
    if (f.phone !== undefined) candidates = [this.findByPhone(projectId, f.phone)];
    else if (f.email !== undefined) candidates = [this.findByEmail(projectId, f.email)];
    else if (f.referenceId !== undefined && f.processId !== undefined) candidates = [this.findByReference(projectId, f.processId, f.referenceId)];

    const test = (l) =>
      l !== undefined &&
      (f.processId === undefined || l.processId === f.processId) &&
      (f.state === undefined || l.currentState === f.state) &&
      (f.disposition === undefined || l.lastDisposition === f.disposition) &&
      (f.groupId === undefined || l.groupId === f.groupId) &&
      (f.referenceId === undefined || l.referenceId === f.referenceId) &&
      (f.phone === undefined || l.phone === f.phone) &&
      (f.email === undefined || l.email === f.email) &&
      (f.createdFrom === undefined || l.createdMs >= f.createdFrom) &&
      (f.createdTo === undefined || l.createdMs <= f.createdTo) &&
      (f.updatedFrom === undefined || l.updatedMs >= f.updatedFrom) &&
      (f.updatedTo === undefined || l.updatedMs <= f.updatedTo);

    // The project list is already in (createdAt, _id) order; an index lookup yields at most one lead.
    const result = Object.keys(f).length === 0 ? all.slice() : candidates.filter(test);
    if (sort === "updatedAt") result.sort(compareUpdated);
    if (order === "desc") result.reverse();

    this.queryCache = { key: cacheKey, version: this.version, result };
    return result;
  }

  // ---- persistence ----

  toJSON() {
    const leads = [];
    for (const lead of this.leads.values()) {
      const { createdMs, updatedMs, callId, ...rest } = lead;
      leads.push(rest);
    }
    return { version: 1, leads, activities: [...this.activities.values()] };
  }

  /** Loads the toJSON() form; returns the call activities that were scheduled or in progress. */
  load(data) {
    if (!data || !Array.isArray(data.leads) || !Array.isArray(data.activities)) throw new Error("not a sandbox data file");
    this.clear();
    for (const a of data.activities) this.activities.set(a._id, a);
    const pending = [];
    for (const raw of data.leads) {
      const lead = {
        ...raw,
        createdMs: Date.parse(raw.createdAt),
        updatedMs: Date.parse(raw.updatedAt),
        activityIds: Array.isArray(raw.activityIds) ? raw.activityIds : [],
        callId: null,
      };
      this.addLead(lead);
      for (const id of lead.activityIds) {
        const a = this.activities.get(id);
        if (a && a.type === "call" && (a.status === "scheduled" || a.status === "in_progress")) pending.push(a);
      }
    }
    return pending;
  }
}
