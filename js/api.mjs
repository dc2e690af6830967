// The package's public surface over the wasm exports (the same for every build): `VoxClient`
// adds `iterateLeads` as a plain async iterator; everything else forwards, through a guard that
// turns a wasm trap (a Rust panic, i.e. a bug) into a VoxError "internal_error" and remakes the
// client's wasm handle on the restarted instance. Where the module loads asynchronously (the web
// build), the async methods wait for it, and the synchronous functions need `init()` first.

import { isBrowser, thrownText, VoxError } from "./host.js";

// The next turn of the event loop, after pending I/O: setImmediate (Node, Deno, Bun), else a
// MessageChannel message (browsers, workers), else setTimeout(0).
const [runSoon, clearSoon] = (() => {
  if (typeof setImmediate === "function") return [setImmediate, clearImmediate];
  if (typeof MessageChannel === "function") {
    const jobs = new Map();
    let next = 0;
    const channel = new MessageChannel();
    channel.port1.onmessage = (e) => {
      const fn = jobs.get(e.data);
      jobs.delete(e.data);
      if (fn) fn();
    };
    // An open port must not keep a process alive (Node's MessageChannel without setImmediate).
    if (typeof channel.port1.unref === "function") channel.port1.unref();
    return [
      (fn) => {
        const id = next++;
        jobs.set(id, fn);
        channel.port2.postMessage(id);
        return id;
      },
      (id) => jobs.delete(id),
    ];
  }
  return [(fn) => setTimeout(fn, 0), clearTimeout];
})();

// Each signal gets one "abort" listener however many calls share it (more than ten would make
// Node print a false MaxListenersExceededWarning); it calls every call's own.
const watchers = new WeakMap();
function onAbortOf(signal, fn) {
  let calls = watchers.get(signal);
  if (calls === undefined) {
    calls = new Set();
    watchers.set(signal, calls);
    const all = calls;
    signal.addEventListener(
      "abort",
      () => {
        for (const f of [...all]) f();
      },
      { once: true },
    );
  }
  calls.add(fn);
  return () => calls.delete(fn);
}

/**
 * The API of a build whose module loaded with the package (Node, workerd, Deno, server
 * bundlers): `init()` resolves at once, with a promise already fulfilled in the shape React's
 * `use()` reads without suspending.
 */
export function loadedApi(wasm) {
  const ready = Object.assign(Promise.resolve(), { status: "fulfilled", value: undefined });
  const init = () => ready;
  return { init, ...buildApi(wasm, { ready: init, isReady: () => true }) };
}

/**
 * The API over the glue `wasm`. `loader.ready()` loads the module (idempotent, a promise);
 * `loader.isReady()` says whether it has.
 */
export function buildApi(wasm, loader) {
  const { ready, isReady } = loader;
  // Bumped when a wasm trap (a Rust panic: a bug) restarted the instance; handles made by the
  // old instance are then remade.
  let generation = 0;

  function fromTrap(e) {
    if (e instanceof VoxError) return e;
    if (e instanceof WebAssembly.RuntimeError) {
      generation += 1;
      const detail = wasm.takePanic() ?? e.message;
      return new VoxError("internal_error", `vox-crm hit an internal error and restarted its WebAssembly module: ${detail}`);
    }
    // An exception from the caller's own values (a getter or a Proxy that throws) while the
    // arguments were read: every failure is a VoxError.
    return new VoxError("invalid_argument", `The arguments could not be read: ${thrownText(e)}`);
  }

  function loadFailed(e) {
    return e instanceof VoxError ? e : new VoxError("not_initialized", `vox-crm's WebAssembly module could not be loaded: ${thrownText(e)}`);
  }

  function notReady() {
    return new VoxError(
      "not_initialized",
      "vox-crm's WebAssembly module is not loaded yet: await init() once before calling the synchronous functions (VoxClient's methods wait for it themselves)",
    );
  }

  function guard(fn) {
    if (!isReady()) throw notReady();
    try {
      return fn();
    } catch (e) {
      throw fromTrap(e);
    }
  }

  // Runs a task of the core (a `TaskCore`): makes the requests it starts, wakes it when it asks
  // to be, hands each result back, until it is done. Every decision is the task's; this only
  // performs them. The call's signal aborts every request in flight and wakes the task.
  // `control.cancel()`, when given, drops the task: its requests are aborted and the promise
  // rejects with `aborted` (the page `iterateLeads` asked for ahead, when the loop is left).
  function drive(make, control) {
    if (!isReady())
      return ready().then(
        () => drive(make, control),
        (e) => Promise.reject(loadFailed(e)),
      );
    return new Promise((resolve, reject) => {
      let task;
      try {
        task = make();
      } catch (e) {
        reject(fromTrap(e));
        return;
      }
      const signal = task.signal;
      const inFlight = new Set();
      let timer;
      let soon = null;
      let over = false;
      const end = (ok, value) => {
        if (over) return;
        over = true;
        clearTimeout(timer);
        if (soon !== null) clearSoon(soon);
        if (unwatch) unwatch();
        for (const c of inFlight) c.abort();
        task.free();
        (ok ? resolve : reject)(value);
      };
      if (control) control.cancel = () => end(false, new VoxError("aborted", "Not needed any more: the iteration was left"));
      // What `fn` returned, or false when it threw (the call then ends with that error).
      const call = (fn) => {
        try {
          return fn() ?? true;
        } catch (e) {
          end(false, fromTrap(e));
          return false;
        }
      };
      const step = () => {
        if (over) return;
        clearTimeout(timer);
        if (soon !== null) {
          clearSoon(soon);
          soon = null;
        }
        const s = call(() => task.step());
        if (!s) return;
        if (s.stores) for (const c of s.stores) askStore(c);
        if (s.done) return end(true, s.value);
        for (const r of s.sends) {
          const controller = new AbortController();
          inFlight.add(controller);
          attempt(r.fetch, r.url, r.init, r.timeoutMs, r.maxBytes, controller).then(
            (a) => {
              inFlight.delete(controller);
              if (!over && call(() => task.deliver(r.id, a.status, a.retryAfter, a.body))) step();
            },
            (f) => {
              inFlight.delete(controller);
              if (!over && call(() => task.fail(r.id, f.kind, f.message))) step();
            },
          );
        }
        // A task that yields (wake 0: a bulk between two bounded steps) runs again after the
        // event loop has polled I/O once, not after setTimeout's 1 ms minimum (4 ms when nested
        // in browsers): a 100-chunk import yields ~5 times per chunk.
        if (s.wake === 0)
          soon = runSoon(() => {
            soon = null;
            step();
          });
        else if (s.wake > 0) timer = setTimeout(step, s.wake);
      };
      // A traffic store's apply(op) (docs/store.md), bounded by its timeout; the answer, or
      // why there is none, goes back to the task (id 0: nobody waits for it).
      const askStore = (c) => {
        let limit;
        const answered = new Promise((resolve, reject) => {
          limit = setTimeout(() => reject(new Error(`no answer within ${c.timeoutMs} ms`)), c.timeoutMs);
          Promise.resolve()
            .then(() => c.store.apply(c.op))
            .then(resolve, reject);
        });
        const back = (reply, failure) => {
          clearTimeout(limit);
          if (c.id !== 0 && !over && call(() => task.deliverStore(c.id, reply, failure))) step();
        };
        answered.then(
          (reply) => back(reply, undefined),
          (e) => back(undefined, thrownText(e)),
        );
      };
      const onAbort = () => {
        for (const c of inFlight) c.abort();
        step();
      };
      const unwatch = signal ? onAbortOf(signal, onAbort) : null;
      step();
    });
  }

  class VoxClient {
    #options;
    #core;
    #generation;

    constructor(options) {
      this.#options = options;
      // Before the module is loaded (the web build without init()), the options are read on
      // the first call, whose promise then rejects with what the constructor would throw.
      this.#core = isReady() ? guard(() => new wasm.VoxClientCore(options)) : null;
      this.#generation = generation;
    }

    /** The wasm client, made on first use before the module loaded, remade after a restart. */
    #c() {
      if (this.#core === null || this.#generation !== generation) {
        this.#core = guard(() => new wasm.VoxClientCore(this.#options));
        this.#generation = generation;
      }
      return this.#core;
    }

    get projectId() {
      return guard(() => this.#c().projectId);
    }

    get baseUrl() {
      return guard(() => this.#c().baseUrl);
    }

    initiateLead(lead, options) {
      return drive(() => this.#c().initiateLead(lead, options));
    }

    initiateExistingLead(leadId, options) {
      return drive(() => this.#c().initiateExistingLead(leadId, options));
    }

    bulkInitiateLeads(leads, options) {
      return drive(() => this.#c().bulkInitiateLeads(leads, options));
    }

    bulkInitiateExisting(leadIds, options) {
      return drive(() => this.#c().bulkInitiateExisting(leadIds, options));
    }

    updateLead(target, changes, options) {
      return drive(() => this.#c().updateLead(target, changes, options));
    }

    getLead(target, options) {
      return drive(() => this.#c().getLead(target, options));
    }

    queryLeads(query, options) {
      return drive(() => this.#c().queryLeads(query, options));
    }

    // A plain async iterator rather than an async generator: one promise per lead instead of
    // a generator's several, which matters over 100,000 leads. The next page is asked for as
    // soon as a page arrives, while the caller reads it (the core runs one page at a time and
    // knows when there is none left, so that costs no request at the end); leaving the loop
    // early drops the page asked for ahead and aborts its request.
    iterateLeads(query, options) {
      // Made at the first next(), so a bad query rejects there, as an async generator would.
      let pager = null;
      let made;
      let page = [];
      let at = 0;
      let finished = false;
      let ahead = null;
      const ask = () => {
        const control = {};
        const leads = drive(() => pager.nextPage(), control);
        leads.catch(() => {}); // its failure is the caller's at the next page, not unhandled now
        return { leads, control };
      };
      const close = () => {
        if (!finished) {
          finished = true;
          if (ahead !== null) ahead.control.cancel?.();
          ahead = null;
          if (pager !== null && made === generation) pager.free();
        }
      };
      const core = () => this.#c();
      return {
        [Symbol.asyncIterator]() {
          return this;
        },
        async next() {
          while (at >= page.length) {
            if (finished) return { value: undefined, done: true };
            let leads;
            try {
              if (!isReady()) await ready().catch((e) => Promise.reject(loadFailed(e)));
              if (pager === null) {
                pager = guard(() => core().pager(query, options));
                made = generation;
                const checked = pager.step(); // refuses a bad query or options
                if (!checked.done) throw new VoxError("invalid_argument", "The query could not be read");
              }
              const next = ahead ?? ask();
              ahead = null;
              leads = await next.leads;
            } catch (e) {
              close();
              throw fromTrap(e);
            }
            if (leads === null) {
              close();
              return { value: undefined, done: true };
            }
            page = leads;
            at = 0;
            ahead = ask();
          }
          return { value: page[at++], done: false };
        },
        async return() {
          close();
          return { value: undefined, done: true };
        },
      };
    }

    getActivity(activityId, options) {
      return drive(() => this.#c().getActivity(activityId, options));
    }

    toString() {
      return `VoxClient(${this.projectId})`;
    }

    toJSON() {
      return { projectId: this.projectId, baseUrl: this.baseUrl };
    }
  }

  const phone = phoneFunctions(wasm, () => generation);
  const guarded =
    (fn) =>
    (...args) =>
      guard(() => fn(...args));

  return {
    VoxClient,
    VoxError,
    validatePhone: guarded(phone.validatePhone),
    validatePhones: guarded(phone.validatePhones),
    normalizePhone: guarded(wasm.normalizePhone),
    maskPhone: guarded(wasm.maskPhone),
    validateLead: guarded(wasm.validateLead),
    parseWebhook: guarded(wasm.parseWebhook),
    verifyWebhookAuth: guarded(wasm.verifyWebhookAuth),
    // Undocumented: panics inside wasm on purpose, for the test of the recovery path.
    __panicForTests: guarded(wasm.__panicForTests),
  };
}

// validatePhone / validatePhones: wasm checks the numbers and packs each verdict into one u32
// plus a text (src/wasm/phone.rs, "The fast path"); this glue unpacks them into the same plain
// objects as wasm's own `validatePhone` builds, with region codes and messages from wasm's tables.
// A batch crosses into wasm once: written into wasm's memory by this glue when it is ASCII,
// else as one string joined by a separator. Arguments that are not what the fast path expects
// go to wasm's own exports, which throw the VoxError.
function phoneFunctions(wasm, generation) {
  // The most text (UTF-16 code units, separators included) one call into wasm checks: larger
  // batches go in parts, so that a batch never needs more than this much of wasm's memory
  // (nor overflows its 32-bit lengths: an array can hold a 500 MB string many times over).
  const MAX_PART = 1 << 24;
  let regions, reasons, memory, scratch, separator, view, defaultRegion, madeIn;
  let lastCountry, lastRegion;

  function init() {
    madeIn = generation();
    lastCountry = undefined;
    let regionText, reasonText;
    [regionText, reasonText, memory, scratch, separator] = wasm.phoneTables();
    regions = regionText.split(",", 256).map((r) => (r === "" ? null : r));
    const texts = reasonText.split("\0");
    reasons = [];
    for (let i = 0; i + 1 < texts.length; i += 2) reasons.push([texts[i], texts[i + 1]]);
    view = new Uint8Array(memory.buffer, scratch, 32);
    defaultRegion = wasm.phoneRegionIndex(undefined);
  }

  function regionIndex(options) {
    if (regions === undefined || madeIn !== generation()) init(); // a restart makes new memory
    if (options === undefined) return defaultRegion;
    const country = typeof options === "object" && options !== null ? options.defaultCountry : undefined;
    if (typeof country === "string" && country === lastCountry) return lastRegion;
    const region = wasm.phoneRegionIndex(options);
    if (typeof country === "string") [lastCountry, lastRegion] = [country, region];
    return region;
  }

  // The plain object of a packed verdict whose text is `text` (the E.164 form when valid) and
  // national number `nationalNumber`. Fields in wasm's order; absent ones are left out, as
  // wasm's own validatePhone does. The callers cut the strings (then the slicing in each of
  // them sees one kind of string), and each shape of result is an object literal (its map is
  // kept alive by the literal: optimized code that depends on it is not thrown away when a
  // garbage collection finds no object of that shape).
  function checkObject(packed, text, nationalNumber) {
    const reason = packed & 0xf;
    const region = regions[(packed >>> 4) & 0xff];
    const countryCode = (packed >>> 12) & 0x3ff;
    if (reason === 0) {
      if (region !== null) return { valid: true, e164: text, countryCode, region, nationalNumber };
      return { valid: true, e164: text, countryCode, nationalNumber };
    }
    const [code, message] = reasons[reason - 1];
    const has = (countryCode !== 0 ? 4 : 0) | (region !== null ? 2 : 0) | (nationalNumber !== "" ? 1 : 0);
    switch (has) {
      case 7:
        return { valid: false, countryCode, region, nationalNumber, reason: code, message };
      case 6:
        return { valid: false, countryCode, region, reason: code, message };
      case 5:
        return { valid: false, countryCode, nationalNumber, reason: code, message };
      case 4:
        return { valid: false, countryCode, reason: code, message };
      case 3:
        return { valid: false, region, nationalNumber, reason: code, message };
      case 2:
        return { valid: false, region, reason: code, message };
      case 1:
        return { valid: false, nationalNumber, reason: code, message };
      default:
        return { valid: false, reason: code, message };
    }
  }

  function scratchText(length) {
    if (view.byteLength === 0) view = new Uint8Array(memory.buffer, scratch, 32); // memory grew
    let text = "";
    for (let i = 0; i < length; i++) text += String.fromCharCode(view[i]);
    return text;
  }

  function validatePhone(input, options) {
    const region = regionIndex(options);
    if (typeof input !== "string") return wasm.validatePhone(input, options);
    const packed = wasm.phoneCheck(input, region);
    const text = scratchText(packed >>> 27);
    return checkObject(packed, text, text.slice(text.length - ((packed >>> 22) & 0x1f)));
  }

  function validatePhones(inputs, options) {
    const region = regionIndex(options);
    if (!Array.isArray(inputs)) return wasm.validatePhones(inputs, options);
    const count = inputs.length;
    // Each item is read once: a getter or a Proxy may answer differently on a second read
    // (and the room made in wasm's memory is for what the first read said).
    const items = [];
    let length = count - 1; // the separators
    for (let i = 0; i < count; i++) {
      const item = inputs[i];
      if (typeof item !== "string") return wasm.validatePhones(inputs, options);
      items.push(item);
      length += item.length;
    }
    const checks = [];
    if (length <= MAX_PART) {
      if (count > 0) checkPart(items, length, region, options, checks);
      return checks;
    }
    // A batch of more text than that goes in parts (each of one item at least).
    for (let first = 0; first < count; ) {
      let end = first + 1;
      let partLength = items[first].length;
      while (end < count && partLength + 1 + items[end].length <= MAX_PART) partLength += 1 + items[end++].length;
      checkPart(items.slice(first, end), partLength, region, options, checks);
      first = end;
    }
    return checks;
  }

  // Appends the checks of `items` (`length`: their text and separators) to `checks`.
  function checkPart(items, length, region, options, checks) {
    const count = items.length;
    const result = writeInput(items, length) ? wasm.phoneCheckInput(length, count, region) : wasm.phoneCheckJoined(items.join(separator), count, region);
    if (result === null) {
      // An input contained the separator: one call each.
      for (const input of items) checks.push(validatePhone(input, options));
      return;
    }
    const [packed, text] = result;
    let start = 0;
    for (let i = 0; i < count; i++) {
      const p = packed[i];
      const end = start + (p >>> 27);
      checks.push(checkObject(p, text.slice(start, end), text.slice(end - ((p >>> 22) & 0x1f), end)));
      start = end;
    }
  }

  // Writes the inputs, joined by the separator, where wasm's phoneInput says: quicker than
  // passing one joined string. ASCII only (one byte per character); false for anything else,
  // which goes the way of a string.
  function writeInput(inputs, length) {
    let at = wasm.phoneInput(length);
    const bytes = new Uint8Array(memory.buffer); // after the call: it may have grown memory
    const sep = separator.charCodeAt(0);
    for (let i = 0; i < inputs.length; i++) {
      const input = inputs[i];
      if (i > 0) bytes[at++] = sep;
      for (let k = 0; k < input.length; k++) {
        const c = input.charCodeAt(k);
        if (c > 0x7f || c === sep) {
          wasm.phoneInput(0); // gives a large buffer back
          return false;
        }
        bytes[at++] = c;
      }
    }
    return true;
  }

  return { validatePhone, validatePhones };
}

// ---- one HTTP attempt, for the driver ----------------------------------------------------

function failure(kind, message) {
  return { kind, message: String(message || kind) };
}

function isRefused(err) {
  for (let e = err, i = 0; e && i < 5; e = e.cause, i++) {
    if (e.code === "ECONNREFUSED") return true;
    if (Array.isArray(e.errors) && e.errors.some((x) => x && x.code === "ECONNREFUSED")) return true;
  }
  return false;
}

function describe(err) {
  const parts = [];
  for (let e = err, i = 0; e && i < 4; e = e.cause, i++) {
    if (typeof e.message === "string" && e.message && !parts.includes(e.message)) parts.push(e.message);
  }
  return parts.join(": ") || "fetch failed";
}

/**
 * One HTTP attempt: `fetchFn(url, init)` with `init.signal` from `controller`, aborted after
 * `timeoutMs`. Resolves `{ status, retryAfter, body }` (the body as `JSON.parse` reads it,
 * `undefined` when it is empty or not JSON; status 0 when the fetch followed a redirect it was
 * told not to); rejects with `{ kind: "timeout" | "aborted" | "refused" | "network" |
 * "too_large" | "unavailable" (no fetch to call), message }` when there is no answer, also for
 * a fetch that ignores its signal. A foreign response-like object is read defensively.
 */
function attempt(fetchFn, url, init, timeoutMs, maxBytes, controller) {
  return new Promise((resolve, reject) => {
    if (typeof fetchFn !== "function") return reject(failure("unavailable"));
    init.signal = controller.signal;
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, timeoutMs);
    const fail = (err) => {
      if (err === TOO_LARGE) return failure("too_large");
      if (timedOut) return failure("timeout");
      if (controller.signal.aborted) return failure("aborted");
      return isRefused(err) ? failure("refused", describe(err)) : failure("network", describe(err));
    };
    const onAbort = () => settle(false, fail());
    controller.signal.addEventListener("abort", onAbort, { once: true });
    let settled = false;
    const settle = (ok, value) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      controller.signal.removeEventListener("abort", onAbort);
      (ok ? resolve : reject)(value);
    };
    Promise.resolve()
      .then(() => fetchFn(url, init))
      .then(async (res) => {
        const status = res.redirected === true ? 0 : Number(res.status) | 0;
        const header = (name) => {
          try {
            const v = res.headers.get(name);
            return typeof v === "string" ? v : undefined;
          } catch {
            return undefined;
          }
        };
        const text = await readText(res, header("content-length"), maxBytes);
        let body;
        try {
          body = JSON.parse(text);
        } catch {
          body = undefined;
        }
        return { status, retryAfter: header("retry-after"), body };
      })
      .then(
        (r) => settle(true, r),
        (err) => settle(false, fail(err)),
      );
  });
}

const TOO_LARGE = { tooLarge: true };

/**
 * The body as text, refused (`TOO_LARGE`) past `maxBytes`: at once by its Content-Length, else
 * by counting the stream as it arrives (so a huge body is never held whole).
 */
async function readText(res, length, maxBytes) {
  const declared = length === undefined ? NaN : Number(length);
  const stream = res.body;
  if (declared > maxBytes) {
    if (stream && typeof stream.cancel === "function") stream.cancel().catch(() => {});
    throw TOO_LARGE;
  }
  if (declared >= 0 || !stream || typeof stream.getReader !== "function") {
    const text = await res.text();
    if (typeof text !== "string") return "";
    if (text.length > maxBytes) throw TOO_LARGE;
    return text;
  }
  // In a browser, a body read as a stream without a Content-Length (chunked) shows as a failed
  // request (Chromium: net::ERR_ABORTED, about one in two) though every byte arrived: it is read as
  // a Blob, which the browser keeps on disk when large, and its size checked before its text is
  // made. A body that never ends meets the attempt's timeout.
  if (isBrowser() && typeof res.blob === "function") {
    const blob = await res.blob();
    if (blob.size > maxBytes) throw TOO_LARGE;
    return blob.text();
  }
  const reader = stream.getReader();
  const chunks = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      reader.cancel().catch(() => {});
      throw TOO_LARGE;
    }
    chunks.push(value);
  }
  const all = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    all.set(c, at);
    at += c.byteLength;
  }
  return new TextDecoder().decode(all);
}
