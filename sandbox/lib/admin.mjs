// Owns the /__sandbox/* admin routes (served only with --admin): reset, stats, runtime config and
// fault rules. They need no token and are never rate-limited or faulted.

import { ConfigError, parseRateLimit } from "./config.mjs";
import { FaultRuleError } from "./faults.mjs";
import { fail, ok } from "./http.mjs";
import { isPlainObject } from "./leads.mjs";

const INTEGER_SETTINGS = ["dupMax", "dupWindowMs", "blockMs", "callDelayMs", "callDurationMs"];

/** The runtime-changeable part of the config as the admin routes show it. */
export function runtimeConfig(config) {
  return {
    rateLimit: config.rateLimit,
    dupMax: config.dupMax,
    dupWindowMs: config.dupWindowMs,
    blockMs: config.blockMs,
    callDelayMs: config.callDelayMs,
    callDurationMs: config.callDurationMs,
    failedCallShare: config.failedCallShare,
    projects: config.projects.map((p) => ({ _id: p._id, name: p.name, tokens: p.tokens, processes: p.processes })),
  };
}

/**
 * The runtime settings in `b` (the body of POST /__sandbox/config, or sandbox.configure()),
 * checked: the changes to apply, or a ConfigError naming the first bad key.
 */
export function readSettings(b) {
  if (!isPlainObject(b)) throw new ConfigError("Config must be a JSON object");
  const next = {};
  for (const [key, value] of Object.entries(b)) {
    if (key === "rateLimit") {
      try {
        next.rateLimit = parseRateLimit(value);
      } catch (err) {
        if (err instanceof ConfigError) throw new ConfigError("Invalid config: rateLimit");
        throw err;
      }
    } else if (INTEGER_SETTINGS.includes(key)) {
      if (!Number.isInteger(value) || value < 0) throw new ConfigError(`Invalid config: ${key}`);
      next[key] = value;
    } else if (key === "failedCallShare") {
      if (typeof value !== "number" || !(value >= 0 && value <= 1)) throw new ConfigError(`Invalid config: ${key}`);
      next[key] = value;
    } else {
      throw new ConfigError(`Unknown config key: ${key}`);
    }
  }
  return next;
}

export function createAdmin(state) {
  function setConfig(ctx) {
    let next;
    try {
      next = readSettings(ctx.body);
    } catch (err) {
      if (err instanceof ConfigError) return fail(400, err.message);
      throw err;
    }
    state.configure(next);
    return ok({ success: true, config: runtimeConfig(state.config) });
  }

  function addFaults(ctx) {
    const b = ctx.body;
    try {
      const added = state.faults.add(isPlainObject(b) ? b.rules : undefined);
      return ok({ success: true, added, rules: state.faults.list() });
    } catch (err) {
      if (err instanceof FaultRuleError) return fail(400, err.message);
      throw err;
    }
  }

  return {
    "POST /__sandbox/reset": () => {
      state.reset();
      return ok({ success: true });
    },
    "GET /__sandbox/stats": () => ok(state.statsSnapshot()),
    "GET /__sandbox/config": () => ok({ success: true, config: runtimeConfig(state.config) }),
    "POST /__sandbox/config": setConfig,
    "GET /__sandbox/faults": () => ok({ success: true, rules: state.faults.list() }),
    "POST /__sandbox/faults": addFaults,
    "DELETE /__sandbox/faults": () => {
      const cleared = state.faults.rules.length;
      state.faults.clear();
      return ok({ success: true, cleared });
    },
  };
}
