// Owns one sandbox instance minus the listening socket: its state (projects, store, limits, faults,
// stats, simulated calls) and the request pipeline every request goes through:
// CORS/preflight -> route -> body -> fault(before) -> auth -> key block -> rate limit -> JSON -> handler
// -> fault(after) -> reply.
import { STATUS_CODES } from "node:http";
import { createAdmin } from "./admin.mjs";
import { createApi } from "./api.mjs";
import { CallSimulator } from "./calls.mjs";
import { FaultSet } from "./faults.mjs";
import { BodyTooLarge, fail, preflightHeaders, readBody, send } from "./http.mjs";
import { DuplicateGuard, RateLimiter } from "./limits.mjs";
import { Scheduler } from "./scheduler.mjs";
import { Store } from "./store.mjs";
import { toneWav } from "./wav.mjs";

const API_PREFIX = "/api/v1";
const ADMIN_PREFIX = "/__sandbox/";
const RECORDING = /^\/recordings\/([0-9a-f]{24})\.wav$/;
const BLOCKED = "API key temporarily blocked due to repeated duplicate submissions";

function emptyStats() {
  return { requests: 0, byRoute: {}, rateLimited: 0, blockedResponses: 0, leadsCreated: 0, duplicateRejections: 0, faultsInjected: 0 };
}

/** First value wins; a null-prototype object so "__proto__" is just a key. */
function parseQuery(qs) {
  const q = Object.create(null);
  for (const [k, v] of new URLSearchParams(qs)) if (!(k in q)) q[k] = v;
  return q;
}

function bearer(header) {
  if (typeof header !== "string") return null;
  const m = /^\s*Bearer\s+(\S+)\s*$/i.exec(header);
  return m ? m[1] : null;
}

function faultReply(rule) {
  const status = rule.status;
  const reason = STATUS_CODES[status] ?? "Error";
  if (rule.html) {
    return {
      status,
      headers: { "Content-Type": "text/html; charset=utf-8" },
      body: `<html>\r\n<head><title>${status} ${reason}</title></head>\r\n<body>\r\n<center><h1>${status} ${reason}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n`,
    };
  }
  if (status === 429) return fail(429, "Rate limit exceeded", { "Retry-After": "1" });
  return fail(status, reason);
}

/** Cuts a JSON text so that it cannot parse (an object or array missing at least its last character). */
function truncatedJson(reply) {
  const text = reply ? JSON.stringify(reply.body) : '{"success":true,"data":{"_id":"6650a1b2c3d4e5f6';
  return text.slice(0, Math.max(1, Math.floor(text.length / 2)));
}

/**
 * Creates a sandbox for a resolved config. `origin()` gives the public origin (known once listening).
 * Returns { state, handle(req, res), close() }.
 */
export function createSandbox(config, { origin, markDirty }) {
  const projects = new Map();
  const tokens = new Map();
  const processes = new Map();
  for (const project of config.projects) {
    project.processMap = new Map(project.processes.map((p) => [p._id, p]));
    projects.set(project._id, project);
    for (const t of project.tokens) tokens.set(t, project);
    for (const p of project.processes) processes.set(p._id, p);
  }

  const store = new Store();
  const scheduler = new Scheduler();
  const rate = new RateLimiter(config.rateLimit);
  const dups = new DuplicateGuard({ max: config.dupMax, windowMs: config.dupWindowMs, blockMs: config.blockMs });
  const faults = new FaultSet();
  const pendingDelays = new Set();
  let closed = false;

  const state = {
    config,
    projects,
    tokens,
    processes,
    store,
    scheduler,
    rate,
    dups,
    faults,
    stats: emptyStats(),
    markDirty,
    statsSnapshot() {
      const s = state.stats;
      return {
        requests: s.requests,
        byRoute: { ...s.byRoute },
        rateLimited: s.rateLimited,
        blockedResponses: s.blockedResponses,
        blocks: dups.blocks,
        leadsCreated: s.leadsCreated,
        leads: store.leadCount,
        duplicateRejections: s.duplicateRejections,
        faultsInjected: s.faultsInjected,
        maxRequestsInWindow: rate.maxRequestsInWindow,
      };
    },
    /** Clears leads, activities, windows, blocks, counters and faults; keeps the config. */
    reset() {
      scheduler.clear();
      store.clear();
      rate.reset();
      dups.reset();
      faults.clear();
      Object.assign(state.stats, emptyStats()); // in place: other modules hold this object
      markDirty();
    },
    /** Applies runtime settings (admin config route). */
    configure(next) {
      Object.assign(config, next);
      if ("rateLimit" in next) rate.setLimit(next.rateLimit);
      dups.configure({ max: config.dupMax, windowMs: config.dupWindowMs, blockMs: config.blockMs });
    },
  };
  state.calls = new CallSimulator({
    store,
    scheduler,
    processes,
    projects,
    origin,
    settings: () => config,
    onChange: () => markDirty(),
  });

  const api = createApi(state);
  const admin = createAdmin(state);

  function sleep(ms) {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        pendingDelays.delete(timer);
        resolve();
      }, ms);
      pendingDelays.add(timer);
    });
  }

  /** Auth, key block, rate limit, JSON body, then the handler. */
  function processApi(req, handler, raw, qs) {
    const now = Date.now();
    const token = bearer(req.headers.authorization);
    const project = token ? tokens.get(token) : undefined;
    if (!project) return fail(403, "Invalid or missing API token");
    const blockedFor = dups.blockedFor(token, now);
    if (blockedFor) {
      state.stats.blockedResponses++;
      return fail(429, BLOCKED, { "Retry-After": String(blockedFor) });
    }
    const allowed = rate.take(project._id, now);
    if (!allowed.ok) {
      state.stats.rateLimited++;
      return fail(429, "Rate limit exceeded", { "Retry-After": String(allowed.retryAfter) });
    }
    const ctx = {
      project,
      token,
      now,
      query: parseQuery(qs),
      body: undefined,
      duplicate() {
        state.stats.duplicateRejections++;
        dups.record(token, now);
      },
    };
    if (req.method === "POST") {
      const text = raw.toString("utf8").replace(/^\uFEFF/, "");
      if (text.trim() === "") ctx.body = {};
      else {
        try {
          ctx.body = JSON.parse(text);
        } catch {
          return fail(400, "Invalid JSON body");
        }
      }
    }
    try {
      return handler(ctx);
    } catch (err) {
      console.error("sandbox: handler failed:", err);
      return fail(500, "Internal server error");
    }
  }

  /** Carries out a fault that replaces the answer (status, reset, malformed). */
  function applyFault(req, res, rule, reply) {
    if (rule.kind === "reset") {
      req.socket.destroy();
      return;
    }
    if (rule.kind === "malformed") {
      send(res, { status: 200, headers: { "Content-Type": "application/json; charset=utf-8" }, body: truncatedJson(reply) });
      return;
    }
    send(res, faultReply(rule));
  }

  /** The request body, or null when it cannot be read (one too large gets its 413 here). */
  async function bodyOf(req, res) {
    try {
      return await readBody(req, config.maxBodyBytes);
    } catch (err) {
      if (err instanceof BodyTooLarge) send(res, fail(413, "Request body too large"));
      return null;
    }
  }

  async function handleApi(req, res, route, handler, qs) {
    const { stats } = state;
    stats.requests++;
    stats.byRoute[route] = (stats.byRoute[route] ?? 0) + 1;
    const raw = await bodyOf(req, res);
    if (raw === null) return;
    const rule = faults.pick(req.method, route.slice(route.indexOf(" ") + 1));
    if (rule) stats.faultsInjected++;
    if (rule && rule.when === "before") {
      if (rule.kind !== "delay") return applyFault(req, res, rule, null);
      await sleep(rule.ms);
      if (closed) return;
    }
    const reply = processApi(req, handler, raw, qs);
    if (rule && rule.when === "after") {
      if (rule.kind !== "delay") return applyFault(req, res, rule, reply);
      await sleep(rule.ms);
      if (closed) return;
    }
    send(res, reply);
  }

  async function handleAdmin(req, res, handler) {
    const raw = await bodyOf(req, res);
    if (raw === null) return;
    const ctx = { body: {} };
    const text = raw.toString("utf8");
    if (text.trim() !== "") {
      try {
        ctx.body = JSON.parse(text);
      } catch {
        return send(res, fail(400, "Invalid JSON body"));
      }
    }
    send(res, handler(ctx));
  }

  function handleRecording(res, id) {
    const activity = store.getActivity(id);
    if (!activity?.recordingUrl) return send(res, fail(404, "Recording not found"));
    const hz = { success: 660, failure: 330 }[activity.dispositionType] ?? 440;
    send(res, { status: 200, headers: { "Content-Type": "audio/wav", "Cache-Control": "public, max-age=3600" }, body: toneWav(hz) });
  }

  async function handle(req, res) {
    try {
      const url = req.url ?? "/";
      const q = url.indexOf("?");
      let path = q < 0 ? url : url.slice(0, q);
      const qs = q < 0 ? "" : url.slice(q + 1);
      if (path.length > 1 && path.endsWith("/")) path = path.slice(0, -1);
      const isAdmin = config.admin && path.startsWith(ADMIN_PREFIX);

      if (req.method === "OPTIONS") {
        res.writeHead(204, preflightHeaders(isAdmin ? "GET, POST, DELETE, OPTIONS" : "GET, POST, OPTIONS"));
        res.end();
        return;
      }
      if (path.startsWith(API_PREFIX + "/")) {
        const route = `${req.method} ${path.slice(API_PREFIX.length)}`;
        const handler = api[route];
        if (handler) return await handleApi(req, res, route, handler, qs);
      } else if (isAdmin) {
        const handler = admin[`${req.method} ${path}`];
        if (handler) return await handleAdmin(req, res, handler);
      } else if (req.method === "GET") {
        const m = RECORDING.exec(path);
        if (m) return handleRecording(res, m[1]);
      }
      send(res, fail(404, "Not found"));
    } catch (err) {
      console.error("sandbox: request failed:", err);
      send(res, fail(500, "Internal server error"));
    }
  }

  function close() {
    closed = true;
    scheduler.clear();
    for (const timer of pendingDelays) clearTimeout(timer);
    pendingDelays.clear();
  }

  return { state, handle, close };
}
