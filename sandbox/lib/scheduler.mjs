// Owns timed work: one unref'd timer over a min-heap of due jobs, so 100,000 scheduled calls cost one
// timer, and clear() stops everything at once (reset, close).

export class Scheduler {
  constructor(now = Date.now) {
    this.now = now;
    this.heap = [];
    this.seq = 0;
    this.timer = null;
    this.timerDue = Infinity;
    this.onError = (err) => {
      console.error("sandbox: scheduled job failed:", err);
    };
  }

  get size() {
    return this.heap.length;
  }

  /** Runs fn at (about) `due` ms since the epoch. */
  at(due, fn) {
    const job = { due, seq: this.seq++, fn };
    this.heap.push(job);
    this.#up(this.heap.length - 1);
    this.#arm();
    return job;
  }

  after(ms, fn) {
    return this.at(this.now() + ms, fn);
  }

  clear() {
    this.heap = [];
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.timerDue = Infinity;
  }

  #arm() {
    const next = this.heap[0];
    if (!next) return;
    if (this.timer && this.timerDue <= next.due) return;
    if (this.timer) clearTimeout(this.timer);
    this.timerDue = next.due;
    this.timer = setTimeout(() => this.#run(), Math.max(0, next.due - this.now()));
    this.timer.unref();
  }

  #run() {
    this.timer = null;
    this.timerDue = Infinity;
    const now = this.now();
    // Bounded batch so one tick never starves the HTTP server.
    for (let n = 0; n < 5000 && this.heap.length && this.heap[0].due <= now; n++) {
      const job = this.#pop();
      try {
        job.fn();
      } catch (err) {
        this.onError(err);
      }
    }
    this.#arm();
  }

  #less(a, b) {
    return a.due < b.due || (a.due === b.due && a.seq < b.seq);
  }

  #up(i) {
    const h = this.heap;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.#less(h[i], h[p])) break;
      [h[i], h[p]] = [h[p], h[i]];
      i = p;
    }
  }

  #pop() {
    const h = this.heap;
    const top = h[0];
    const last = h.pop();
    if (h.length) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1,
          r = l + 1;
        let m = i;
        if (l < h.length && this.#less(h[l], h[m])) m = l;
        if (r < h.length && this.#less(h[r], h[m])) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m], h[i]];
        i = m;
      }
    }
    return top;
  }
}
