// vox-crm/proxy: the backend route a browser page's VoxClient talks to (its baseUrl), so that the
// token stays on the server. Server-only; the package's main entry never imports it.
//
// A request from the page is read as the SDK call it stands for (POST /leads/initiate with a `lead`
// is initiateLead, GET /leads/query is queryLeads, ...), checked (origin, allow-list, the
// `authorize` hook, per-visitor limits, body size), and made by a server-side VoxClient: the token,
// the rate limiter, the duplicate guard, retries and reconciliation, and the traffic store (a
// `store` option, e.g. Redis, shared with every other VoxClient of the project) are the library's
// own. Its result goes back to the page in the API's shapes and statuses (docs: the package README,
// "A backend route for browser pages"), so the page's client reads it, maps its errors and retries
// as it would against the API. Nothing of the page's request is forwarded as it came: not its
// headers, cookies or Authorization, not its path, and no other host is ever called.
//
//   const handler = createProxyHandler({ projectId, token, allow: ["initiateLead", "getLead"] });
//   export { handler as GET, handler as POST };       // a Next.js route handler, Hono, a Worker, Bun, Deno
//   http.createServer(toNodeHandler(handler));          // Node's http, Express (app.use("/api/vox", ...))
import { init, maskPhone, VoxClient, VoxError } from "vox-crm";

/** Every SDK call a page can make through the proxy, by the API endpoint it uses. */
const ENDPOINTS = {
  "POST /leads/initiate": (body) => (body.lead === undefined && body.leadId !== undefined ? "initiateExistingLead" : "initiateLead"),
  "POST /leads/bulk/initiate": (body) => (body.leads === undefined && body.leadIds !== undefined ? "bulkInitiateExisting" : "bulkInitiateLeads"),
  "POST /leads/update": () => "updateLead",
  "GET /leads/get": () => "getLead",
  "GET /leads/query": () => "queryLeads",
  "GET /activities/get": () => "getActivity",
};
const PATHS = [...new Set(Object.keys(ENDPOINTS).map((e) => e.split(" ")[1]))];
const ACTIONS = {
  initiateLead: "POST /leads/initiate",
  initiateExistingLead: "POST /leads/initiate",
  bulkInitiateLeads: "POST /leads/bulk/initiate",
  bulkInitiateExisting: "POST /leads/bulk/initiate",
  updateLead: "POST /leads/update",
  getLead: "GET /leads/get",
  queryLeads: "GET /leads/query",
  // iterateLeads pages with queryLeads' requests: allowing one allows the other.
  iterateLeads: "GET /leads/query",
  getActivity: "GET /activities/get",
};
const READS = new Set(["getLead", "queryLeads", "getActivity"]);
const SUBMITS = new Set(["initiateLead", "bulkInitiateLeads"]);
const CHANGE_FIELDS = ["metadata", "name", "targetState", "disposition", "userId"];
const BULK_MAX = 1000;
/**
 * The server-side client's defaults. No retries: the page's client retries what it gets back
 * (honouring Retry-After), so that a page's call is not retried twice over; and a timeout well
 * inside the page's own (30 s).
 */
const CLIENT_DEFAULTS = { timeoutMs: 10000, maxRetries: 0 };
const DEFAULT_LIMIT = { requests: 60, perMs: 60000, duplicates: 2 };
/** The visitors whose windows are remembered at once; the least recently seen go first. */
const MAX_VISITORS = 50000;
// The server's duplicate reasons (docs/api.md §3.1), as the core reads them (error::is_duplicate_reason).
const DUPLICATE_REASON = /already been made|already exists|duplicate/i;

function invalid(message) {
  return new VoxError("invalid_argument", `createProxyHandler: ${message}`);
}

function positiveInteger(v, what) {
  if (!Number.isSafeInteger(v) || v < 1) throw invalid(`${what} must be a positive integer`);
  return v;
}

/** What the page may do: SDK method names, or "METHOD /path" for every call of an endpoint. */
function readAllow(allow) {
  if (!Array.isArray(allow) || allow.length === 0) {
    throw invalid(`allow must list what browsers may do (deny by default), e.g. ["initiateLead", "getLead"]; one of: ${Object.keys(ACTIONS).join(", ")}`);
  }
  const names = new Set();
  for (const item of allow) {
    const endpoint = typeof item === "string" ? item.trim().replace(/\s+/, " ") : undefined;
    if (typeof item === "string" && ACTIONS[item]) {
      names.add(item === "iterateLeads" ? "queryLeads" : item);
    } else if (ENDPOINTS[endpoint]) {
      for (const [name, e] of Object.entries(ACTIONS)) if (e === endpoint && name !== "iterateLeads") names.add(name);
    } else {
      throw invalid(`allow: ${JSON.stringify(item)} is not one of ${Object.keys(ACTIONS).join(", ")}, or an endpoint such as "GET /leads/get"`);
    }
  }
  return names;
}

function readLimit(limit) {
  if (limit === false) return null;
  if (limit === undefined) return DEFAULT_LIMIT;
  if (typeof limit !== "object" || limit === null) throw invalid("limit must be { requests, perMs, duplicates? } or false");
  return {
    requests: positiveInteger(limit.requests, "limit.requests"),
    perMs: positiveInteger(limit.perMs, "limit.perMs"),
    duplicates: limit.duplicates === undefined ? DEFAULT_LIMIT.duplicates : positiveInteger(limit.duplicates, "limit.duplicates"),
  };
}

function readOrigins(origins) {
  if (origins === undefined) return new Set();
  if (!Array.isArray(origins)) throw invalid('allowedOrigins must be an array of origins, e.g. ["https://app.example.com"]');
  const out = new Set();
  for (const o of origins) {
    let u;
    try {
      u = new URL(o);
    } catch {
      throw invalid(`allowedOrigins: ${JSON.stringify(o)} is not an origin`);
    }
    if (u.origin === "null" || u.origin !== String(o).replace(/\/$/, ""))
      throw invalid(`allowedOrigins: ${JSON.stringify(o)} is not an origin (scheme://host[:port], nothing after it)`);
    out.add(u.origin);
  }
  return out;
}

function readBasePath(p) {
  if (p === undefined) return null;
  if (typeof p !== "string" || !p.startsWith("/") || p.startsWith("//")) throw invalid('basePath must be a path such as "/api/vox"');
  return p.replace(/\/+$/, "");
}

/** A JSON answer with the API's envelope; the client of the page reads it like the API's own. */
function answer(status, body, headers = {}) {
  const bytes = new TextEncoder().encode(JSON.stringify(body));
  // With its length, so that no framework sends it chunked: Chromium reports a chunked answer that
  // a page reads as a stream (the client does, to cap its size) as a failed request.
  return new Response(bytes, {
    status,
    headers: {
      "content-type": "application/json; charset=utf-8",
      "content-length": String(bytes.byteLength),
      "cache-control": "no-store",
      "x-content-type-options": "nosniff",
      ...headers,
    },
  });
}

function refusal(status, message, extra = {}, headers = {}) {
  return answer(status, { success: false, error: message, ...extra }, headers);
}

/** A request the proxy refuses itself (`api`: with the API's own wording, else the proxy's). */
class Refused {
  constructor(status, message, { api = false, headers = {} } = {}) {
    this.status = status;
    this.message = api ? message : `vox-crm proxy: ${message}`;
    this.headers = headers;
  }
}
const apiRefusal = (status, message) => new Refused(status, message, { api: true });

/** The status an SDK error stands for: the API's own when it sent one, else the nearest. */
function statusOf(err) {
  if (Number.isInteger(err.status) && err.status >= 400 && err.status <= 599) return err.status;
  switch (err.code) {
    case "validation_error":
    case "invalid_argument":
    case "invalid_phone":
    case "bad_request":
      return 400;
    case "forbidden":
      return 403;
    case "not_found":
      return 404;
    case "duplicate_submission":
      return 409;
    case "rate_limited":
    case "key_blocked":
      return 429;
    case "timeout":
      return 504;
    default:
      return 502;
  }
}

function retryAfter(ms) {
  return Number.isFinite(ms) && ms > 0 ? { "retry-after": String(Math.ceil(ms / 1000)) } : {};
}

/**
 * An SDK error (a VoxError, or a bulk's error info) as the API would have answered it: the page's
 * client maps it back to the same code.
 */
function errorAnswer(err) {
  const extra = err.code === "duplicate_submission" ? { code: err.code } : {};
  return refusal(statusOf(err), err.message, extra, retryAfter(err.retryAfterMs));
}

function isDuplicate(error) {
  return error.code === "duplicate_submission" || (error.code === "bad_request" && DUPLICATE_REASON.test(error.message));
}

/** Sliding windows per visitor: requests, and duplicate rejections of their leads. */
class Visitors {
  #limit;
  #seen = new Map();

  constructor(limit, dupWindowMs) {
    this.#limit = limit;
    this.dupWindowMs = dupWindowMs;
  }

  #entry(id, now) {
    let e = this.#seen.get(id);
    if (e) {
      this.#seen.delete(id); // re-inserted: the map's order is least recently seen first
    } else {
      e = { requests: [], duplicates: [] };
      if (this.#seen.size >= MAX_VISITORS) this.#seen.delete(this.#seen.keys().next().value);
    }
    this.#seen.set(id, e);
    const keep = (list, ms) => {
      while (list.length && list[0] <= now - ms) list.shift();
    };
    keep(e.requests, this.#limit.perMs);
    keep(e.duplicates, this.dupWindowMs);
    return e;
  }

  /** The ms to wait before `id` may make another request (0: it may now, and it is counted). */
  admit(id, now, submits) {
    const e = this.#entry(id, now);
    if (e.requests.length >= this.#limit.requests) return { ms: e.requests[0] + this.#limit.perMs - now, what: "requests" };
    if (submits && e.duplicates.length >= this.#limit.duplicates) return { ms: e.duplicates[0] + this.dupWindowMs - now, what: "duplicates" };
    e.requests.push(now);
    return null;
  }

  duplicates(id, now, count) {
    if (count > 0) this.#entry(id, now).duplicates.push(...Array(count).fill(now));
  }
}

/** The page's origin check: same origin (or one of `origins`); a non-browser client sends none. */
function originRefused(request, url, origins) {
  const origin = request.headers.get("origin");
  if (origin !== null) return origin !== url.origin && !origins.has(origin);
  const site = request.headers.get("sec-fetch-site");
  return site !== null && site !== "same-origin" && site !== "none";
}

/** For a page of another origin that `allowedOrigins` lists. */
function corsHeaders(request, origins) {
  const origin = request.headers.get("origin");
  return origin !== null && origins.has(origin) ? { "access-control-allow-origin": origin, vary: "Origin" } : {};
}

/** The body, at most `max` bytes, as a JSON object. */
async function readJson(request, max) {
  const tooLarge = new Refused(413, `the body is larger than ${max} bytes (maxBodyBytes)`);
  if (Number(request.headers.get("content-length")) > max) throw tooLarge;
  // Also what keeps a plain HTML form of another site out: it cannot send this type.
  if (!/^application\/json\s*(;|$)/i.test(request.headers.get("content-type") ?? "")) throw new Refused(415, "the body must be application/json");
  const chunks = [];
  let size = 0;
  if (request.body) {
    const reader = request.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > max) {
        reader.cancel().catch(() => {});
        throw tooLarge;
      }
      chunks.push(value);
    }
  }
  const bytes = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    bytes.set(c, at);
    at += c.byteLength;
  }
  let body;
  try {
    body = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch {
    throw new Refused(400, "the body is not JSON");
  }
  if (typeof body !== "object" || body === null || Array.isArray(body)) throw new Refused(400, "the body must be a JSON object");
  return body;
}

/** One value per query parameter. */
function readQuery(url) {
  const out = {};
  for (const [k, v] of url.searchParams) {
    if (Object.hasOwn(out, k)) throw new Refused(400, `the query parameter ${k} is repeated`);
    out[k] = v;
  }
  return out;
}

const masked = (v) => v === "true";
const number = (v) => (/^\d{1,15}$/.test(v) ? Number(v) : v);

function target(q) {
  if (q.leadId !== undefined) return { leadId: q.leadId };
  if (q.referenceId !== undefined) return { referenceId: q.referenceId, processId: q.processId };
  return undefined;
}

/** The SDK call's arguments from the page's request (`input`). */
function readInput(name, body, q) {
  switch (name) {
    case "initiateLead":
      if (typeof body.lead !== "object" || body.lead === null) throw apiRefusal(400, "Either leadId or lead object is required");
      return { lead: body.lead, init: body.init };
    case "initiateExistingLead":
      return { leadId: body.leadId, init: body.init };
    case "bulkInitiateLeads":
    case "bulkInitiateExisting": {
      const list = name === "bulkInitiateLeads" ? body.leads : body.leadIds;
      if (list === undefined) throw apiRefusal(400, "Either leadIds or leads array is required");
      if (!Array.isArray(list)) throw apiRefusal(400, "Input must be an array");
      if (list.length > BULK_MAX) throw apiRefusal(400, `Maximum of ${BULK_MAX} leads allowed per request`);
      return name === "bulkInitiateLeads" ? { leads: list, init: body.init } : { leadIds: list, init: body.init };
    }
    case "updateLead": {
      const extra = Object.keys(body).filter((k) => !["leadId", "referenceId", "projectId", "processId", ...CHANGE_FIELDS].includes(k));
      if (extra.length) throw new Refused(400, `unknown field ${extra[0]} (send changes under metadata)`);
      const changes = {};
      for (const k of CHANGE_FIELDS) if (body[k] !== undefined) changes[k] = body[k];
      if (body.leadId === undefined && body.referenceId === undefined) throw apiRefusal(400, "Either leadId or referenceId is required");
      return { target: target(body), changes, projectId: body.projectId };
    }
    case "getLead":
      if (q.leadId === undefined && q.referenceId === undefined) throw apiRefusal(400, "Either leadId or referenceId is required");
      return { target: target(q), masked: masked(q.masked), projectId: q.projectId };
    case "queryLeads": {
      const query = {};
      for (const [k, v] of Object.entries(q)) query[k] = k === "page" || k === "limit" ? number(v) : k === "masked" ? masked(v) : v;
      return { query };
    }
    case "getActivity":
      return { activityId: q.activityId, masked: masked(q.masked) };
  }
}

/** The projectIds the page named, which must be the server's (as the API itself says). */
function projectIds(name, input) {
  if (name === "initiateLead") return [input.lead.projectId];
  if (name === "bulkInitiateLeads") return input.leads.map((l) => (l && typeof l === "object" ? l.projectId : undefined));
  return [input.projectId];
}

/**
 * Applies what `authorize` returned: `masked` forces masked reads, `processId` confines the page to
 * one process, `maxBulk` caps a bulk. Throws a Refused, or a VoxError of the check's own read.
 */
async function narrow(name, input, grant, client) {
  if (grant.maxBulk !== undefined) {
    const n = (input.leads ?? input.leadIds)?.length ?? 0;
    if (n > grant.maxBulk) throw new Refused(413, `at most ${grant.maxBulk} leads per request`);
  }
  if (grant.masked === true && "masked" in input) input.masked = true;
  if (grant.masked === true && input.query) input.query.masked = true;
  const p = grant.processId;
  if (typeof p !== "string") return;
  const outside = new Refused(403, `this page may use process ${p} only`);
  const leads = name === "initiateLead" ? [input.lead] : name === "bulkInitiateLeads" ? input.leads : [];
  for (const lead of leads) {
    if (!lead || typeof lead !== "object") continue;
    if (lead.processId === undefined) lead.processId = p;
    else if (lead.processId !== p) throw outside;
  }
  if (input.query) {
    if (input.query.processId !== undefined && input.query.processId !== p) throw outside;
    input.query.processId = p;
  }
  if (input.target?.referenceId !== undefined && input.target.processId !== p) throw outside;
  if (name === "bulkInitiateExisting") throw new Refused(403, "bulkInitiateExisting is not available to a page confined to one process");
  // By lead id: the lead's process is checked first (a masked read), and a lead of another
  // process is answered as the API answers an unknown id.
  const id = input.target?.leadId ?? (name === "initiateExistingLead" ? input.leadId : undefined);
  if (typeof id === "string" && name !== "getLead") {
    const lead = await client.getLead({ leadId: id }, { masked: true });
    if (lead.processId !== p) throw apiRefusal(404, `Lead with ID ${id} not found`);
  }
}

/** Masks the phones of leads a write answered with, for a page that may read masked leads only. */
function maskLead(lead) {
  if (lead && typeof lead.phone === "string" && lead.phone !== "") return { ...lead, phone: maskPhone(lead.phone) };
  return lead;
}

/** Runs the SDK call and answers in the API's shape: `{ response, duplicates }`. */
async function perform(client, name, input, grant, signal) {
  const mask = grant.masked === true ? maskLead : (l) => l;
  const p = grant.processId;
  try {
    switch (name) {
      case "initiateLead":
        return { response: answer(200, { success: true, ...mask(await client.initiateLead(input.lead, { init: input.init })) }) };
      case "initiateExistingLead":
        return { response: answer(200, { success: true, ...mask(await client.initiateExistingLead(input.leadId, { init: input.init })) }) };
      case "bulkInitiateLeads":
      case "bulkInitiateExisting": {
        const list = input.leads ?? input.leadIds;
        const existing = name === "bulkInitiateExisting";
        const options = { init: input.init, chunkSize: Math.max(1, list.length) };
        const r = existing ? await client.bulkInitiateExisting(list, options) : await client.bulkInitiateLeads(list, options);
        const duplicates = r.failed.filter((f) => isDuplicate(f.error)).length;
        // A request refused as a whole (the API's 403, 404, a key block, a rate-limit pause) is
        // answered as such; refusals of single leads are error items.
        const whole = r.failed[0]?.error;
        const perLead = ["bad_request", "validation_error", "duplicate_submission"];
        if (whole && !perLead.includes(whole.code) && r.created.length === 0 && r.unknown.length === 0 && r.failed.every((f) => f.error.code === whole.code)) {
          return { response: errorAnswer(whole), duplicates };
        }
        // Leads whose outcome is unknown are left out of both lists: the page's client looks them up
        // by referenceId or reports them unknown, as after the API's own incomplete answer.
        const errors = r.failed.map((f) =>
          existing ? { leadId: f.input, error: f.error.message } : { data: f.input, referenceId: f.input?.referenceId ?? null, error: f.error.message },
        );
        return { response: answer(200, { success: r.created.map((c) => mask(c.lead)), errors }), duplicates };
      }
      case "updateLead":
        return { response: answer(200, { success: true, ...(await client.updateLead(input.target, input.changes)) }) };
      case "getLead": {
        const lead = await client.getLead(input.target, { masked: input.masked, signal });
        if (typeof p === "string" && lead.processId !== p) return { response: refusal(404, `Lead with ID ${input.target.leadId} not found`) };
        return { response: answer(200, { success: true, data: lead }) };
      }
      case "queryLeads": {
        const { leads, ...pagination } = await client.queryLeads(input.query, { signal });
        return { response: answer(200, { success: true, data: leads, pagination }) };
      }
      case "getActivity": {
        const activity = await client.getActivity(input.activityId, { masked: input.masked, signal });
        if (typeof p === "string" && activity.processId !== p) return { response: refusal(404, `Activity with ID ${input.activityId} not found`) };
        return { response: answer(200, { success: true, data: activity }) };
      }
    }
  } catch (err) {
    return { response: errorAnswer(err), duplicates: err instanceof VoxError && SUBMITS.has(name) && isDuplicate(err) ? 1 : 0 };
  }
}

/** The client's address from a second handler argument: ours, Deno's `info`, or Bun's `server`. */
function addressOf(request, context) {
  if (!context || typeof context !== "object") return undefined;
  if (typeof context.clientAddress === "string") return context.clientAddress;
  if (typeof context.remoteAddr?.hostname === "string") return context.remoteAddr.hostname;
  if (typeof context.requestIP === "function") return context.requestIP(request)?.address;
  return undefined;
}

/**
 * The proxy's handler, `(request: Request, context?) => Promise<Response>`. See proxy.d.ts and the
 * package README for the options.
 */
export function createProxyHandler(options) {
  if (typeof options !== "object" || options === null) throw invalid("options are required: { projectId, token, allow }");
  const { projectId, token, baseUrl, authorize, logger, store } = options;
  if (typeof token !== "string" || token === "") throw invalid("token is required (the proxy adds it on the server)");
  const allowed = readAllow(options.allow);
  const limit = readLimit(options.limit);
  const origins = readOrigins(options.allowedOrigins);
  const basePath = readBasePath(options.basePath);
  const maxBodyBytes = options.maxBodyBytes === undefined ? 1 << 20 : positiveInteger(options.maxBodyBytes, "maxBodyBytes");
  if (authorize !== undefined && typeof authorize !== "function") throw invalid("authorize must be a function (request, action) => boolean | object");
  const trustForwardedFor = options.trustForwardedFor === true;
  const allowAuthorization = options.allowAuthorizationHeader === true;
  const clientOptions = { ...CLIENT_DEFAULTS, ...options.client, projectId, token, logger, store, fetch: options.fetch };
  if (baseUrl !== undefined) clientOptions.baseUrl = baseUrl;
  for (const k of Object.keys(clientOptions)) if (clientOptions[k] === undefined) delete clientOptions[k];
  const dupWindowMs = clientOptions.duplicateGuard?.windowMs ?? 60000;
  const visitors = limit && new Visitors(limit, dupWindowMs);
  // One client for every request. Where the module is loaded with the package (Node, workerd,
  // Deno) a bad option throws here; the web build reads the options once init() has loaded it.
  const client = new VoxClient(clientOptions);
  const ready = init();
  ready.catch(() => {});

  const log = (request, status, message) => {
    if (typeof logger !== "function") return;
    try {
      logger({ type: "proxy_refused", method: request.method, path: new URL(request.url).pathname, status, message });
    } catch {
      // A logger that throws is the caller's bug; the answer still goes out.
    }
  };

  async function handle(request, context) {
    const url = new URL(request.url);
    let path = url.pathname;
    if (basePath === null) path = PATHS.find((p) => path.endsWith(p));
    else if (path.startsWith(basePath + "/")) path = path.slice(basePath.length);
    else path = undefined;
    if (!PATHS.includes(path)) throw new Refused(404, "not a Vox CRM API path");
    if (originRefused(request, url, origins)) throw new Refused(403, "cross-origin requests are refused (allowedOrigins)");
    if (request.method === "OPTIONS") {
      if (!origins.has(request.headers.get("origin"))) throw new Refused(403, "cross-origin requests are refused (allowedOrigins)");
      return new Response(null, {
        status: 204,
        headers: { "access-control-allow-methods": "GET, POST", "access-control-allow-headers": "content-type, accept", "access-control-max-age": "600" },
      });
    }
    const endpoint = `${request.method} ${path}`;
    if (!ENDPOINTS[endpoint]) {
      const method = Object.keys(ENDPOINTS)
        .find((e) => e.endsWith(" " + path))
        .split(" ")[0];
      throw new Refused(405, `${request.method} is not a method of ${path}`, { headers: { allow: method } });
    }
    if (!allowAuthorization && request.headers.has("authorization")) {
      throw new Refused(400, "the page sent an Authorization header: the token belongs on the server (remove it from the page's VoxClient)");
    }
    const q = readQuery(url);
    const body = request.method === "POST" ? await readJson(request, maxBodyBytes) : {};
    const name = ENDPOINTS[endpoint](body);
    if (!allowed.has(name)) throw new Refused(403, `${name} is not allowed from a page (allow)`);
    const input = readInput(name, body, q);
    await ready;
    if (projectIds(name, input).some((id) => id !== undefined && id !== client.projectId)) {
      throw apiRefusal(403, "projectId does not match authenticated project");
    }

    let grant = {};
    if (authorize) {
      let verdict;
      try {
        verdict = await authorize(request, { name, method: request.method, path, input });
      } catch (err) {
        log(request, 500, `authorize threw: ${err instanceof Error ? err.message : String(err)}`);
        return refusal(500, "vox-crm proxy: authorize failed");
      }
      if (verdict instanceof Response) return verdict;
      if (verdict !== true && (typeof verdict !== "object" || verdict === null)) throw new Refused(403, `${name} was refused (authorize)`);
      if (typeof verdict === "object") grant = verdict;
    }
    const visitor =
      (typeof grant.visitor === "string" && grant.visitor) ||
      addressOf(request, context) ||
      (trustForwardedFor && request.headers.get("x-forwarded-for")?.split(",")[0].trim()) ||
      "unknown";
    const wait = visitors?.admit(visitor, performance.now(), SUBMITS.has(name));
    if (wait) {
      const why = wait.what === "requests" ? "this visitor made too many requests" : "this visitor's leads were refused as duplicates too often";
      throw new Refused(429, `${why}; try again in ${Math.ceil(wait.ms / 1000)} s`, { headers: retryAfter(wait.ms) });
    }
    await narrow(name, input, grant, client);
    const { response, duplicates = 0 } = await perform(client, name, input, grant, READS.has(name) ? request.signal : undefined);
    visitors?.duplicates(visitor, performance.now(), duplicates);
    return response;
  }

  return async function voxProxy(request, context) {
    let response;
    try {
      response = await handle(request, context);
    } catch (err) {
      if (err instanceof Refused) {
        if (err.message.startsWith("vox-crm proxy: ")) log(request, err.status, err.message);
        response = refusal(err.status, err.message, {}, err.headers);
      } else if (err instanceof VoxError) {
        response = errorAnswer(err);
      } else {
        log(request, 500, `internal error: ${err instanceof Error ? err.message : String(err)}`);
        response = refusal(500, "vox-crm proxy: internal error");
      }
    }
    const cors = Object.entries(corsHeaders(request, origins));
    if (cors.length === 0) return response;
    // authorize's own Response may have immutable headers (one from fetch): copied then.
    const out = new Response(response.body, response);
    for (const [k, v] of cors) out.headers.set(k, v);
    return out;
  };
}
/**
 * The handler for Node's `http` and Express-style `(req, res)`: the request becomes a web Request
 * (only origin-form targets: an absolute URL is refused), the client's address is the socket's.
 */
export function toNodeHandler(handler) {
  if (typeof handler !== "function") throw invalid("toNodeHandler takes the handler createProxyHandler made");
  return function voxProxyNode(req, res) {
    const target = req.originalUrl ?? req.url ?? "";
    const send = (response) => {
      const headers = {};
      response.headers.forEach((v, k) => {
        headers[k] = v;
      });
      return response.arrayBuffer().then((buf) => {
        headers["content-length"] = String(buf.byteLength);
        res.writeHead(response.status, headers);
        res.end(Buffer.from(buf));
      });
    };
    const host = req.headers.host;
    if (!target.startsWith("/") || target.startsWith("//") || typeof host !== "string" || !/^[A-Za-z0-9.\-[\]:]+$/.test(host)) {
      return void send(refusal(400, "vox-crm proxy: the request target must be a path on this host")).catch(() => res.destroy());
    }
    const controller = new AbortController();
    res.on("close", () => {
      if (!res.writableFinished) controller.abort();
    });
    const headers = new Headers();
    for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) headers.set(k, Array.isArray(v) ? v.join(", ") : v);
    const init = { method: req.method, headers, signal: controller.signal };
    if (req.method !== "GET" && req.method !== "HEAD") {
      // A body an Express middleware already read (express.json()) is passed on as JSON again.
      if (req.body !== undefined && req.readableEnded) {
        init.body = typeof req.body === "string" || req.body instanceof Uint8Array ? req.body : JSON.stringify(req.body);
        headers.delete("content-length");
      } else {
        init.body = new ReadableStream({
          start(c) {
            req.on("data", (chunk) => c.enqueue(new Uint8Array(chunk)));
            req.on("end", () => c.close());
            req.on("error", (e) => c.error(e));
          },
          // Refused as too large: the rest is not read, and the connection closes after the answer.
          cancel() {
            req.pause();
            res.setHeader("connection", "close");
          },
        });
        init.duplex = "half";
      }
    }
    const protocol = req.socket?.encrypted ? "https" : "http";
    const request = new Request(`${protocol}://${host}${target}`, init);
    Promise.resolve(handler(request, { clientAddress: req.socket?.remoteAddress }))
      .then(send)
      .catch(() => {
        if (!res.headersSent) send(refusal(500, "vox-crm proxy: internal error")).catch(() => res.destroy());
        else res.destroy();
      });
  };
}
