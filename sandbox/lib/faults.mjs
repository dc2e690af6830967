// Owns injected faults (admin routes): validating fault rules, and picking which rule, if any, hits an
// /api/v1 request, either for the next `count` matches or for a seeded-random `probability` share.

export class FaultRuleError extends Error {}

const KINDS = new Set(["status", "delay", "reset", "malformed"]);

/** mulberry32: a small seeded PRNG, so a probability rule hits the same requests on every run. */
function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function validateRule(raw, index) {
  const bad = (what) => new FaultRuleError(`Invalid fault rule at index ${index}: ${what}`);
  if (!raw || typeof raw !== "object" || Array.isArray(raw)) throw bad("must be an object");
  if (!KINDS.has(raw.kind)) throw bad("kind must be one of status, delay, reset, malformed");
  const rule = { kind: raw.kind };
  if (raw.count !== undefined) {
    if (!Number.isInteger(raw.count) || raw.count < 1) throw bad("count must be a positive integer");
  }
  if (raw.probability !== undefined) {
    if (typeof raw.probability !== "number" || !(raw.probability > 0 && raw.probability <= 1)) throw bad("probability must be a number in (0, 1]");
    rule.probability = raw.probability;
  }
  // Neither count nor probability: the next matching request only.
  rule.remaining = raw.count ?? (raw.probability !== undefined ? null : 1);
  if (raw.path !== undefined) {
    if (typeof raw.path !== "string" || !raw.path.startsWith("/")) throw bad("path must start with /");
    rule.path = raw.path.startsWith("/api/v1/") ? raw.path.slice("/api/v1".length) : raw.path;
  }
  if (raw.method !== undefined) {
    if (typeof raw.method !== "string") throw bad("method must be a string");
    rule.method = raw.method.toUpperCase();
  }
  const when = raw.when ?? (raw.kind === "malformed" ? "after" : "before");
  if (when !== "before" && when !== "after") throw bad('when must be "before" or "after"');
  rule.when = when;
  if (raw.kind === "status") {
    const status = raw.status ?? 500;
    if (!Number.isInteger(status) || status < 400 || status > 599) throw bad("status must be an integer from 400 to 599");
    rule.status = status;
    rule.html = raw.html === true;
  }
  if (raw.kind === "delay") {
    const ms = raw.ms ?? 1000;
    if (!Number.isInteger(ms) || ms < 0 || ms > 600000) throw bad("ms must be an integer from 0 to 600000");
    rule.ms = ms;
  }
  const seed = raw.seed ?? 1;
  if (!Number.isInteger(seed)) throw bad("seed must be an integer");
  rule.seed = seed;
  return rule;
}

export class FaultSet {
  constructor() {
    this.clear();
  }

  clear() {
    this.rules = [];
    this.nextId = 1;
  }

  /** Validates all rules first, then appends them; returns the added rules as listed. */
  add(rawRules) {
    if (!Array.isArray(rawRules)) throw new FaultRuleError("rules must be an array");
    const rules = rawRules.map(validateRule);
    for (const rule of rules) {
      rule.id = this.nextId++;
      rule.fired = 0;
      rule.random = prng(rule.seed);
      this.rules.push(rule);
    }
    return rules.map(describe);
  }

  list() {
    return this.rules.map(describe);
  }

  /** The rule that hits this request (and is charged for it), or null. */
  pick(method, path) {
    for (const rule of this.rules) {
      if (rule.remaining === 0) continue;
      if (rule.path !== undefined && rule.path !== path) continue;
      if (rule.method !== undefined && rule.method !== method) continue;
      if (rule.probability !== undefined && rule.random() >= rule.probability) continue;
      if (rule.remaining !== null) rule.remaining--;
      rule.fired++;
      return rule;
    }
    return null;
  }
}

/** A rule as the admin routes list it: id first, no PRNG state. */
function describe(rule) {
  const { id, random, ...rest } = rule;
  return { id, ...rest };
}
