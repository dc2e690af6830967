// Owns the two protections of docs/api.md §1: the per-project sliding-window rate limit and the per-token
// duplicate-submission block. Both read the clock passed in; neither knows about HTTP.

/** A log of timestamps in arrival order with O(1) amortised push and prune. */
export class SlidingLog {
  constructor() {
    this.items = [];
    this.head = 0;
  }
  get size() {
    return this.items.length - this.head;
  }
  get oldest() {
    return this.items[this.head];
  }
  push(t) {
    this.items.push(t);
  }
  /** Drops entries at or before `cutoff`. */
  prune(cutoff) {
    while (this.head < this.items.length && this.items[this.head] <= cutoff) this.head++;
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }
  clear() {
    this.items = [];
    this.head = 0;
  }
}

const retryAfterSeconds = (ms) => Math.max(1, Math.ceil(ms / 1000));

/** Per-project sliding window log over accepted requests. */
export class RateLimiter {
  constructor(limit) {
    this.limit = limit; // { requests, perMs } | false
    this.logs = new Map();
    this.maxRequestsInWindow = 0;
  }

  /** Records a request at `now` if allowed; returns { ok: true } or { ok: false, retryAfter }. */
  take(projectId, now) {
    if (!this.limit) return { ok: true };
    const { requests, perMs } = this.limit;
    let log = this.logs.get(projectId);
    if (!log) {
      log = new SlidingLog();
      this.logs.set(projectId, log);
    }
    log.prune(now - perMs);
    if (log.size >= requests) {
      return { ok: false, retryAfter: retryAfterSeconds(log.oldest + perMs - now) };
    }
    log.push(now);
    if (log.size > this.maxRequestsInWindow) this.maxRequestsInWindow = log.size;
    return { ok: true };
  }

  setLimit(limit) {
    this.limit = limit;
  }
  reset() {
    this.logs.clear();
    this.maxRequestsInWindow = 0;
  }
}

/**
 * Per-token duplicate log: the rejection that takes the count in the window above `max` blocks the token
 * for `blockMs` (the log is then cleared, so an expired block starts from zero).
 */
export class DuplicateGuard {
  constructor({ max, windowMs, blockMs }) {
    Object.assign(this, { max, windowMs, blockMs });
    this.logs = new Map();
    this.blockedUntil = new Map();
    this.blocks = 0;
  }

  /** Seconds left of a block on `token`, or 0 when it is not blocked. */
  blockedFor(token, now) {
    const until = this.blockedUntil.get(token);
    if (until === undefined) return 0;
    if (until <= now) {
      this.blockedUntil.delete(token);
      return 0;
    }
    return retryAfterSeconds(until - now);
  }

  /** Records one duplicate rejection; returns true when it starts a block. */
  record(token, now) {
    let log = this.logs.get(token);
    if (!log) {
      log = new SlidingLog();
      this.logs.set(token, log);
    }
    log.prune(now - this.windowMs);
    log.push(now);
    if (log.size > this.max) {
      log.clear();
      this.blockedUntil.set(token, now + this.blockMs);
      this.blocks++;
      return true;
    }
    return false;
  }

  configure({ max = this.max, windowMs = this.windowMs, blockMs = this.blockMs }) {
    Object.assign(this, { max, windowMs, blockMs });
  }

  reset() {
    this.logs.clear();
    this.blockedUntil.clear();
    this.blocks = 0;
  }
}
