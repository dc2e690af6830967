// Helpers of the benchmarks in bench/: interleaved repetitions with median and spread, and
// markdown tables. Timings are reported, never asserted.
import { performance } from "node:perf_hooks";
import v8 from "node:v8";
import vm from "node:vm";

/**
 * Runs every case `reps` times, round-robin (case 1, case 2, ..., case 1, ...) so that drifts of
 * the machine spread over all cases alike, after `warmup` unrecorded rounds.
 * A case is { name, items, run }: `run()` processes `items` items and returns anything (kept,
 * so that the work cannot be optimized away).
 * `collect`: a full garbage collection before each timed run, outside the timing.
 * Returns, per case, { name, items, samples (ms), ...stats(samples, items) }.
 */
export function runInterleaved(cases, { reps = 7, warmup = 1, collect = false } = {}) {
  const samples = cases.map(() => []);
  let sink = 0;
  const gc = collect ? fullGc() : () => {};
  for (let round = 0; round < warmup + reps; round++) {
    cases.forEach((c, i) => {
      gc(); // with `collect`: no case pays for the garbage of the one before
      const t0 = performance.now();
      const out = c.run();
      const ms = performance.now() - t0;
      sink ^= typeof out === "number" ? out : out ? 1 : 0;
      if (round >= warmup) samples[i].push(ms);
    });
  }
  globalThis.__benchSink = sink;
  return cases.map((c, i) => ({ name: c.name, items: c.items, samples: samples[i], ...stats(samples[i], c.items) }));
}

/** A full garbage collection, as `node --expose-gc` gives it, without the flag. */
function fullGc() {
  v8.setFlagsFromString("--expose-gc");
  return vm.runInNewContext("gc");
}

/** Median, fastest and slowest rate (items/s) of timings in ms, and the spread (max − min) / median. */
export function stats(samplesMs, items) {
  const sorted = [...samplesMs].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const medianMs = sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  const rate = (ms) => (items * 1000) / ms;
  return {
    medianMs,
    perSecond: rate(medianMs),
    fastest: rate(sorted[0]),
    slowest: rate(sorted[sorted.length - 1]),
    spread: (sorted[sorted.length - 1] - sorted[0]) / medianMs,
  };
}

/** 1234567 -> "1,234,567". */
export function fmtInt(n) {
  return Math.round(n).toLocaleString("en-US");
}

/** A rate with a k/M suffix: 1234567 -> "1.23 M". */
export function fmtRate(n) {
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)} M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)} k`;
  return n.toFixed(0);
}

export function fmtPct(x) {
  return `${(100 * x).toFixed(1)}%`;
}

/** A markdown table; `align` per column: "l" or "r" (default "l"). */
export function markdownTable(headers, rows, align = []) {
  const cells = [headers, ...rows].map((r) => r.map((c) => String(c)));
  const widths = headers.map((_, i) => Math.max(3, ...cells.map((r) => r[i].length)));
  const line = (r) => `| ${r.map((c, i) => (align[i] === "r" ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join(" | ")} |`;
  const rule = `|${widths.map((w, i) => (align[i] === "r" ? `${"-".repeat(w + 1)}:` : "-".repeat(w + 2))).join("|")}|`;
  return [line(cells[0]), rule, ...cells.slice(1).map(line)].join("\n");
}

// ---- .wasm anatomy ----------------------------------------------------------------------------

function reader(bytes, pos = 0) {
  const r = {
    pos,
    u8: () => bytes[r.pos++],
    leb() {
      let result = 0;
      let scale = 1;
      for (;;) {
        const b = bytes[r.pos++];
        result += (b & 0x7f) * scale;
        scale *= 128;
        if (b < 0x80) return result;
      }
    },
    name() {
      const n = r.leb();
      const s = Buffer.from(bytes.subarray(r.pos, r.pos + n)).toString("utf8");
      r.pos += n;
      return s;
    },
  };
  return r;
}

const SECTION_NAMES = ["custom", "type", "import", "function", "table", "memory", "global", "export", "start", "element", "code", "data", "datacount"];

/** The sections of a .wasm: [{ id, name (custom: its name), start, end (payload), size (with header) }]. */
export function wasmSections(bytes) {
  const r = reader(bytes, 8);
  const out = [];
  while (r.pos < bytes.length) {
    const headerStart = r.pos;
    const id = r.u8();
    const len = r.leb();
    const start = r.pos;
    let name = SECTION_NAMES[id] ?? `section ${id}`;
    if (id === 0) name = reader(bytes, start).name();
    out.push({ id, name, start, end: start + len, size: start + len - headerStart });
    r.pos = start + len;
  }
  return out;
}

/**
 * The defined functions of a .wasm with their names (from the "name" section, when present)
 * and their bodies: [{ index, name, body (Uint8Array) }].
 */
export function wasmFunctions(bytes) {
  const sections = wasmSections(bytes);
  let imported = 0;
  const imports = sections.find((s) => s.id === 2);
  if (imports) {
    const r = reader(bytes, imports.start);
    for (let n = r.leb(); n > 0; n--) {
      r.name();
      r.name();
      const kind = r.u8();
      if (kind === 0) {
        r.leb();
        imported++;
      } else if (kind === 1) {
        r.u8();
        const flags = r.u8();
        r.leb();
        if (flags & 1) r.leb();
      } else if (kind === 2) {
        const flags = r.u8();
        r.leb();
        if (flags & 1) r.leb();
      } else if (kind === 3) {
        r.u8();
        r.u8();
      } else if (kind === 4) {
        r.u8();
        r.leb();
      }
    }
  }
  const names = new Map();
  const nameSection = sections.find((s) => s.id === 0 && s.name === "name");
  if (nameSection) {
    const r = reader(bytes, nameSection.start);
    r.name();
    while (r.pos < nameSection.end) {
      const sub = r.u8();
      const len = r.leb();
      const end = r.pos + len;
      if (sub === 1) {
        for (let n = r.leb(); n > 0; n--) {
          const index = r.leb();
          names.set(index, r.name());
        }
      }
      r.pos = end;
    }
  }
  const code = sections.find((s) => s.id === 10);
  const out = [];
  if (code) {
    const r = reader(bytes, code.start);
    const count = r.leb();
    for (let i = 0; i < count; i++) {
      const len = r.leb();
      const index = imported + i;
      out.push({ index, name: names.get(index) ?? `#${index}`, body: bytes.subarray(r.pos, r.pos + len) });
      r.pos += len;
    }
  }
  return out;
}
