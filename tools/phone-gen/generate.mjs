#!/usr/bin/env node
// Generates phone/src/tables.rs from libphonenumber-js's MAX metadata.
//
//   node tools/phone-gen/generate.mjs            (writes the file)
//   node tools/phone-gen/generate.mjs --check    (fails if the committed file is stale)
//
// What is generated (see phone/src/data.rs for the reader):
// * one "plan" per region (245) and per non-geographic calling code (+800, +808, ...), ordered
//   by calling code, the default region's (+91) first, and, within a calling code, in
//   libphonenumber's main-country order (the Rust side decodes the plans in this order, as far
//   as a number needs: a first Indian number decodes India's plan alone);
// * per plan: calling code, region name, possible lengths, national-prefix-for-parsing and
//   international-prefix patterns expanded into priority-ordered "paths" (see regex.mjs), the
//   national-prefix transform rule;
// * three digit automata per plan: VALID (the union of all number types, each limited to its
//   possible lengths, intersected with the general national number pattern: exactly what
//   libphonenumber-js's isValid() accepts), NNP (the general national number pattern, used by
//   the parsing heuristics) and, for regions that share a calling code, LEADING (leading
//   digits). All automata live in one pool of hash-consed minimal acyclic DFA states, encoded
//   as a pre-order walk and compressed with a context-modelled binary range coder (the
//   automata are ~7,000 states; plain tables would be far above the size budget). The Rust
//   side decodes them lazily, plan by plan, into fixed-size static arrays (no heap).

import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { PROB_INIT, RangeDecoder, RangeEncoder } from "./rangecoder.mjs";
import { expandPaths, Pool } from "./regex.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, "../..");
const pkgDir = path.join(root, "node_modules/libphonenumber-js");
const OUT = path.join(root, "phone/src/tables.rs");

export function loadMetadata() {
  const meta = JSON.parse(fs.readFileSync(path.join(pkgDir, "metadata.max.json"), "utf8"));
  const version = JSON.parse(fs.readFileSync(path.join(pkgDir, "package.json"), "utf8")).version;
  return { meta, version };
}

/** The calling code of the default region (IN), whose plan is coded first. */
const DEFAULT_CC = 91;

const bitsOf = (lengths) => lengths.reduce((a, l) => a | (1 << l), 0);

// ---------------------------------------------------------------------------------------------
// Plans

export function buildPlans(meta) {
  const plans = [];
  // Non-geographic calling codes (+800, +808, ...) are only in `nonGeographic`.
  const ccs = [...new Set([...Object.keys(meta.country_calling_codes), ...Object.keys(meta.nonGeographic || {})])]
    .map(Number)
    .sort((a, b) => (b === DEFAULT_CC) - (a === DEFAULT_CC) || a - b);
  for (const cc of ccs) {
    const list = meta.country_calling_codes[String(cc)];
    if (!list) {
      const d = meta.nonGeographic[String(cc)];
      if (+d[0] !== cc) throw new Error("calling code mismatch " + cc);
      plans.push({ cc, name: null, d });
    } else {
      for (const name of list) {
        const d = meta.countries[name];
        if (!d) throw new Error("missing metadata for " + name);
        if (+d[0] !== cc) throw new Error("calling code mismatch " + name);
        plans.push({ cc, name, d });
      }
    }
  }
  return plans;
}

// ---------------------------------------------------------------------------------------------
// Automata

function buildAutomata(plans) {
  const pool = new Pool();
  for (const p of plans) {
    const d = p.d;
    const possible = d[3];
    if (!Array.isArray(possible) || !possible.length) throw new Error("no possible lengths: " + p.name);
    p.lengths = bitsOf(possible);
    p.nnp = pool.fromRegex(d[2]);
    const types = d[11];
    if (types) {
      let v = 0;
      for (const t of types) {
        if (!t?.[0]) continue;
        const tl = bitsOf(t[1] || possible);
        v = pool.or(v, pool.lengths(pool.fromRegex(t[0]), tl));
      }
      p.valid = pool.and(v, p.nnp);
      if (process.env.DC_LENGTHS) p.valid = pool.or(p.valid, pool.universal(0x3ffff & ~p.lengths));
    } else {
      p.valid = p.nnp; // no type data: libphonenumber-js falls back to the general pattern
    }
    p.leading = d[10] ? pool.fromRegex(d[10]) : 0;
    p.hasLeading = !!d[10];
  }
  return pool;
}

// ---------------------------------------------------------------------------------------------
// Stream model (mirrored by phone/src/data.rs)

const K_DEAD = 0,
  K_UNIV = 1,
  K_BACK = 2,
  K_FRESH = 3,
  K_START = 4,
  K_ROOT = 5;
// Context of the "a new run of equal targets starts at digit d" bit.
const RUN_SIZE = 9 * 4 * 3;
function runCtx(d, prev, runLen) {
  return ((d - 1) * 4 + prev) * 3 + Math.min(runLen, 3) - 1;
}
// Context of the kind of a run's target.
const KIND_SIZE = 6 * 4;
function kindCtx(prev, childDepth) {
  return prev * 4 + Math.min(childDepth, 3);
}
export const CTX = {};
{
  let n = 0;
  const take = (name, size) => {
    CTX[name] = n;
    n += size;
  };
  take("ACC", 4); // min(depth, 3)
  take("LEAF", 8); // min(depth, 7): all targets of the state are dead or universal
  take("RUN", RUN_SIZE);
  take("KIND", KIND_SIZE * 3);
  take("UIDX", 32); // unary index into the plan's length sets (most recent first), by previous kind == universal
  take("UNEW", 1 + 8 + 18); // new length set: subset-of-plan-lengths flag, subset bits, raw bits
  take("BUNARY", 16); // Elias-gamma exponent of the move-to-front rank
  take("BMANT", 16); // mantissa bits, by exponent
  CTX.TOTAL = n;
}

function makeModel() {
  return new Array(CTX.TOTAL).fill(PROB_INIT);
}

// Symbol coding shared by encoder and (JS) decoder.
function codeKind(io, probs, ctx, kind, leaf) {
  const base = CTX.KIND + ctx * 3;
  const terminal = leaf ? 1 : io.bit(probs, base, kind === K_DEAD || kind === K_UNIV ? 1 : 0);
  if (terminal) return io.bit(probs, base + 1, kind === K_UNIV ? 1 : 0) ? K_UNIV : K_DEAD;
  return io.bit(probs, base + 2, kind === K_FRESH ? 1 : 0) ? K_FRESH : K_BACK;
}
function codeUnary(io, probs, base, cap, v) {
  // v in 0..=cap-1 (the last context is reused beyond cap)
  let n = 0;
  for (;;) {
    const more = io.bit(probs, base + Math.min(n, cap - 1), v !== undefined && n < v ? 1 : 0);
    if (!more) return n;
    n++;
    if (n > 64) throw new Error("unary overflow");
  }
}
function codeGamma(io, probs, v) {
  // v >= 0, coded as x = v + 1: exponent e (unary) then e mantissa bits
  let e = 0;
  if (v !== undefined) {
    const x = v + 1;
    while (x >= 2 ** (e + 1)) e++;
  }
  e = codeUnary(io, probs, CTX.BUNARY, 16, v === undefined ? undefined : e);
  let x = 1;
  for (let i = e - 1; i >= 0; i--) {
    const b = io.bit(probs, CTX.BMANT + Math.min(e, 15), v === undefined ? 0 : ((v + 1) >> i) & 1);
    x = x * 2 + b;
  }
  return x - 1;
}
function codeNewSet(io, probs, planLengths, set) {
  // A new absolute length set: usually a subset of the plan's possible lengths.
  const enc = set !== undefined;
  const subset = io.bit(probs, CTX.UNEW, enc && (set & ~planLengths) === 0 ? 1 : 0);
  let m = 0;
  if (subset) {
    let k = 0;
    for (let i = 0; i < 18; i++) {
      if (!((planLengths >> i) & 1)) continue;
      m |= io.bit(probs, CTX.UNEW + 1 + Math.min(k, 7), enc ? (set >> i) & 1 : 0) << i;
      k++;
    }
  } else {
    for (let i = 0; i < 18; i++) m |= io.bit(probs, CTX.UNEW + 9 + i, enc ? (set >> i) & 1 : 0) << i;
  }
  return m;
}

// the encoder seen through the decoder's interface: `bit` returns the bit it was given
function encIO(enc) {
  return {
    bit: (probs, i, b) => {
      enc.bit(probs, i, b);
      return b;
    },
  };
}

function encodeAutomata(plans, pool) {
  const st = pool.states;
  const univMemo = new Map();
  const univ = (s) => {
    if (s === 0) return 0; // remaining-length mask 0 means dead
    if (univMemo.has(s)) return univMemo.get(s);
    const n = st[s].next;
    let r = -1;
    if (n.every((x) => x === n[0])) {
      const child = n[0] === 0 ? 0 : univ(n[0]);
      if (child !== -1) r = (st[s].acc ? 1 : 0) | (child << 1);
    }
    univMemo.set(s, r);
    return r;
  };
  const isU = (s) => s !== 0 && univ(s) !== -1;
  const kindOf = (t, seen) => (t === 0 ? K_DEAD : isU(t) ? K_UNIV : seen.has(t) ? K_BACK : K_FRESH);
  const isLeaf = (s) => st[s].next.every((t) => t === 0 || isU(t));

  const enc = new RangeEncoder();
  const io = encIO(enc);
  const probs = makeModel();
  const seen = new Set(); // non-leaf states already emitted
  const mtf = [];
  const stats = { fresh: 0, back: 0, univ: 0, newSets: 0 };

  function target(t, prev, childDepth, lsets, leaf = false) {
    const kind = kindOf(t, seen);
    codeKind(io, probs, kindCtx(prev, childDepth), kind, leaf);
    if (kind === K_UNIV) {
      stats.univ++;
      const abs = univ(t) * 2 ** childDepth;
      let i = lsets.indexOf(abs);
      const isNew = i < 0;
      if (isNew) i = lsets.length;
      codeUnary(io, probs, CTX.UIDX + (prev === K_UNIV ? 16 : 0), 16, i);
      if (isNew) {
        codeNewSet(io, probs, planLengths, abs);
        lsets.push(abs);
        stats.newSets++;
      }
      lsets.splice(i, 1);
      lsets.unshift(abs);
    } else if (kind === K_BACK) {
      stats.back++;
      // back reference: distance in creation order among the non-leaf states
      const r = mtf.length - 1 - mtf.indexOf(t);
      codeGamma(io, probs, r);
    } else if (kind === K_FRESH) {
      stats.fresh++;
      state(t, childDepth, lsets);
      if (!isLeaf(t)) {
        seen.add(t);
        mtf.push(t);
      }
    }
    return kind;
  }
  function state(s, depth, lsets) {
    if (depth > 17) throw new Error("automaton deeper than 17");
    const n = st[s].next;
    io.bit(probs, CTX.ACC + Math.min(depth, 3), st[s].acc ? 1 : 0);
    const leaf = isLeaf(s);
    io.bit(probs, CTX.LEAF + Math.min(depth, 7), leaf ? 1 : 0);
    let prev = K_START;
    let runLen = 0;
    for (let d = 0; d < 10; d++) {
      if (d > 0) {
        const fresh = n[d] !== n[d - 1];
        io.bit(probs, CTX.RUN + runCtx(d, prev, runLen), fresh ? 1 : 0);
        if (!fresh) {
          runLen++;
          continue;
        }
      }
      runLen = 1;
      prev = target(n[d], prev, depth + 1, lsets, leaf);
    }
  }
  let planLengths = 0;
  for (const p of plans) {
    const lsets = [];
    planLengths = p.lengths;
    target(p.valid, K_ROOT, 0, lsets);
    target(p.nnp, K_ROOT, 0, lsets);
    if (p.hasLeading) target(p.leading, K_ROOT, 0, lsets);
  }
  const bytes = enc.finish();
  return { bytes, stats, idealBytes: Math.ceil(enc.bits / 8) };
}

// JS port of the Rust decoder: returns the decoded tables (and checks the state count).
export function decodeAutomata(bytes, plans) {
  const dec = new RangeDecoder(bytes);
  const probs = makeModel();
  const next = [new Array(10).fill(0)];
  const acc = [false];
  const univIds = new Map();
  const mtf = [];
  const alloc = () => {
    next.push(new Array(10).fill(0));
    acc.push(false);
    return next.length - 1;
  };
  const uState = (r) => {
    if (r === 0) return 0;
    if (univIds.has(r)) return univIds.get(r);
    const child = uState(Math.floor(r / 2));
    const id = alloc();
    acc[id] = (r & 1) === 1;
    next[id].fill(child);
    univIds.set(r, id);
    return id;
  };
  let maxMtf = 0;
  let maxLsets = 0;
  function target(prev, childDepth, lsets, leafState = false) {
    const kind = codeKind(dec, probs, kindCtx(prev, childDepth), undefined, leafState);
    if (kind === K_DEAD) return [0, kind];
    if (kind === K_UNIV) {
      let i = codeUnary(dec, probs, CTX.UIDX + (prev === K_UNIV ? 16 : 0), 16, undefined);
      if (i >= lsets.length) {
        lsets.push(codeNewSet(dec, probs, planLengths, undefined));
        i = lsets.length - 1;
      }
      maxLsets = Math.max(maxLsets, lsets.length);
      const abs = lsets[i];
      lsets.splice(i, 1);
      lsets.unshift(abs);
      return [uState(Math.floor(abs / 2 ** childDepth)), kind];
    }
    if (kind === K_BACK) {
      const r = codeGamma(dec, probs, undefined);
      const t = mtf[mtf.length - 1 - r];
      return [t, kind];
    }
    const [id, leaf] = state(childDepth, lsets);
    if (!leaf) {
      mtf.push(id);
      maxMtf = Math.max(maxMtf, mtf.length);
    }
    return [id, kind];
  }
  function state(depth, lsets) {
    const id = alloc();
    acc[id] = dec.bit(probs, CTX.ACC + Math.min(depth, 3)) === 1;
    const leafState = dec.bit(probs, CTX.LEAF + Math.min(depth, 7)) === 1;
    let prev = K_START;
    let cur = 0;
    let leaf = true;
    let runLen = 0;
    for (let d = 0; d < 10; d++) {
      if (d > 0 && !dec.bit(probs, CTX.RUN + runCtx(d, prev, runLen))) {
        next[id][d] = cur;
        runLen++;
        continue;
      }
      runLen = 1;
      const [t, kind] = target(prev, depth + 1, lsets, leafState);
      if (kind === K_BACK || kind === K_FRESH) leaf = false;
      cur = t;
      prev = kind;
      next[id][d] = t;
    }
    return [id, leaf];
  }
  const roots = [];
  let planLengths = 0;
  for (const p of plans) {
    const lsets = [];
    planLengths = p.lengths;
    const v = target(K_ROOT, 0, lsets)[0];
    const n = target(K_ROOT, 0, lsets)[0];
    const l = p.hasLeading ? target(K_ROOT, 0, lsets)[0] : 0;
    roots.push([v, n, l]);
  }
  if (maxLsets > 64) throw new Error("more length sets in a plan than the decoder holds (64)");
  return { next, acc, roots, maxMtf, univCount: univIds.size };
}

// ---------------------------------------------------------------------------------------------
// Prefix patterns (national prefix for parsing, international prefix)

// Paths as bytes: header (classes | end << 5 | group1 << 6 | group2 << 7), optional group
// spans (start, end), then per position an index into the table of digit classes.
function encodePaths(src, allowCaptures, classIndex) {
  const bytes = [];
  const paths = expandPaths(src);
  const seen = new Set();
  for (const p of paths) {
    const k = JSON.stringify(p);
    if (seen.has(k)) continue; // an identical path earlier in priority order always wins
    seen.add(k);
    const caps = Object.keys(p.caps).map(Number);
    if (caps.some((c) => c > 2)) throw new Error("more than two groups: " + src);
    if (!allowCaptures && caps.length) throw new Error("captures in " + src);
    if (p.classes.length > 31) throw new Error("path too long");
    bytes.push(p.classes.length | (p.end ? 32 : 0) | (p.caps[1] ? 64 : 0) | (p.caps[2] ? 128 : 0));
    for (const g of [1, 2]) if (p.caps[g]) bytes.push(p.caps[g][0], p.caps[g][1]);
    for (const c of p.classes) bytes.push(classIndex(c));
  }
  return bytes;
}

// National prefix rule word: transform group (0: no transform rule) << 20 | literal length << 16
// | literal digits as hex nibbles, and the number of capturing groups of the national prefix
// for parsing pattern << 24 (libphonenumber looks at the last group).
function prefixRule(npp, rule) {
  const groups = (npp.match(/\((?!\?)/g) || []).length;
  if (groups > 2) throw new Error("more than two groups in " + npp);
  let word = groups << 24;
  if (rule) {
    const m = /^(\d{0,4})\$([12])$/.exec(rule);
    if (!m) throw new Error("unsupported national prefix transform rule " + rule);
    let lit = 0;
    for (const ch of m[1]) lit = lit * 16 + +ch;
    word |= (+m[2] << 20) | (m[1].length << 16) | lit;
  }
  return word;
}

// ---------------------------------------------------------------------------------------------
// Emit

function rustArray(_type, values, perLine = 16) {
  const lines = [];
  for (let i = 0; i < values.length; i += perLine) lines.push("    " + values.slice(i, i + perLine).join(", ") + ",");
  return `[\n${lines.join("\n")}\n]`;
}

export function generate() {
  const { meta, version } = loadMetadata();
  const plans = buildPlans(meta);
  if (plans.length > 255) throw new Error("too many plans for u8 indices");
  const pool = buildAutomata(plans);
  const { bytes, stats, idealBytes } = encodeAutomata(plans, pool);
  const decoded = decodeAutomata(bytes, plans);

  // verify: the decoded automata accept exactly what the pool accepts, on every plan
  const walk = (s, str) => {
    for (const ch of str) {
      s = decoded.next[s][+ch];
      if (!s) return false;
    }
    return decoded.acc[s];
  };
  const samples = [];
  const rnd = mulberry32(12345);
  for (const p of plans) {
    for (let i = 0; i < 300; i++) {
      const len = 1 + Math.floor(rnd() * 17);
      let s = "";
      for (let j = 0; j < len; j++) s += Math.floor(rnd() * 10);
      samples.push([p, s]);
    }
  }
  plans.forEach((p, i) => {
    const [v, n, l] = decoded.roots[i];
    for (const [q, s] of samples) {
      if (q !== p) continue;
      if (walk(v, s) !== pool.matches(p.valid, s)) throw new Error("decode mismatch (valid) " + p.name + " " + s);
      if (walk(n, s) !== pool.matches(p.nnp, s)) throw new Error("decode mismatch (nnp) " + p.name + " " + s);
      if (p.hasLeading && walk(l, s) !== pool.matches(p.leading, s)) throw new Error("decode mismatch (leading)");
    }
  });

  // calling codes
  const ccs = [];
  plans.forEach((p, i) => {
    const last = ccs[ccs.length - 1];
    if (last && last.cc === p.cc) last.count++;
    else ccs.push({ cc: p.cc, first: i, count: 1, geo: p.name !== null });
  });

  // prefix patterns: identical blocks (the many "00" and "0" patterns) are stored once
  const classes = [];
  const classIndex = (mask) => {
    let i = classes.indexOf(mask);
    if (i < 0) {
      i = classes.length;
      classes.push(mask);
    }
    if (i > 255) throw new Error("too many digit classes");
    return i;
  };
  for (let d = 0; d < 10; d++) classIndex(1 << d); // single digits first: index = digit
  const pathBytes = [];
  const blocks = [[0, 0, 0]]; // [start, end, rule]; block 0: no pattern
  const blockIds = new Map();
  const block = (src, caps, rule) => {
    if (!src) return 0;
    const key = src + "|" + rule;
    if (!blockIds.has(key)) {
      const bytes = encodePaths(src, caps, classIndex);
      blockIds.set(key, blocks.length);
      blocks.push([pathBytes.length, pathBytes.length + bytes.length, rule]);
      pathBytes.push(...bytes);
    }
    return blockIds.get(key);
  };
  const nppBlock = [],
    iddBlock = [];
  for (const p of plans) {
    const d = p.d;
    const npp = d[7] || d[5] || "";
    nppBlock.push(block(npp, true, prefixRule(npp, d[8])));
    iddBlock.push(block(d[1], false, 0));
  }
  if (pathBytes.length > 65535 || blocks.length > 255) throw new Error("path tables too big");

  const names = plans.map((p) => p.name || "\0\0").join("");
  const nStates = decoded.next.length;
  if (nStates > 32767) throw new Error("too many states");

  const hex = (b) => "0x" + b.toString(16).padStart(2, "0");
  const out = `// @generated by tools/phone-gen/generate.mjs from libphonenumber-js ${version} (metadata.max.json).
// Do not edit by hand. To regenerate: \`node tools/phone-gen/generate.mjs\` (needs the pinned
// libphonenumber-js in node_modules: \`npm ci\`); \`--check\` verifies this file is current.
//
// ${plans.length} numbering plans (${plans.filter((p) => p.name).length} regions + ${plans.filter((p) => !p.name).length} non-geographic calling codes), ${ccs.length} calling codes.
// Automata: ${nStates} decoded states, ${bytes.length} bytes compressed.
#![allow(clippy::unreadable_literal)]

/// libphonenumber-js version the data comes from.
pub(super) const SOURCE_VERSION: &str = "${version}";
pub(super) const N_PLANS: usize = ${plans.length};
pub(super) const N_STATES: usize = ${nStates};
pub(super) const NONLEAF_CAP: usize = ${decoded.maxMtf + 1};
pub(super) const UNIV_CAP: usize = ${decoded.univCount + 1};

// Context indices of the range-coder model.
pub(super) const CTX_ACC: usize = ${CTX.ACC};
pub(super) const CTX_LEAF: usize = ${CTX.LEAF};
pub(super) const CTX_RUN: usize = ${CTX.RUN};
pub(super) const CTX_KIND: usize = ${CTX.KIND};
pub(super) const CTX_UIDX: usize = ${CTX.UIDX};
pub(super) const CTX_UNEW: usize = ${CTX.UNEW};
pub(super) const CTX_BUNARY: usize = ${CTX.BUNARY};
pub(super) const CTX_BMANT: usize = ${CTX.BMANT};
pub(super) const CTX_TOTAL: usize = ${CTX.TOTAL};

/// Calling code of each plan.
pub(super) static PLAN_CC: [u16; N_PLANS] = ${rustArray(
    "u16",
    plans.map((p) => p.cc),
  )};

/// Region code of each plan, two ASCII letters each (NUL NUL for non-geographic plans).
pub(super) static PLAN_NAMES: &[u8; N_PLANS * 2] = b"${names.replace(/\0/g, "\\0")}";

/// Possible lengths of national numbers (bit n set: length n is possible).
pub(super) static PLAN_LENGTHS: [u32; N_PLANS] = ${rustArray(
    "u32",
    plans.map((p) => "0x" + p.lengths.toString(16)),
    10,
  )};

/// 1 when the plan has leading-digits data (it shares its calling code).
pub(super) static PLAN_HAS_LEADING: [u8; N_PLANS] = ${rustArray(
    "u8",
    plans.map((p) => (p.hasLeading ? 1 : 0)),
    32,
  )};

/// Prefix pattern blocks: (start, end) in PATH_BYTES, and for national-prefix patterns the
/// rule word: capturing groups << 24 | transform group << 20 | literal length << 16 | literal
/// digits as hex nibbles (transform group 0: no transform rule). Block 0: no pattern.
pub(super) static BLOCKS: [(u16, u16, u32); ${blocks.length}] = ${rustArray(
    "",
    blocks.map(([a, b, r]) => `(${a}, ${b}, 0x${r.toString(16)})`),
    6,
  )};
/// National prefix for parsing (with carrier codes, transform rules) of each plan.
pub(super) static PLAN_NPP: [u8; N_PLANS] = ${rustArray("u8", nppBlock, 32)};
/// International (IDD) prefix of each plan.
pub(super) static PLAN_IDD: [u8; N_PLANS] = ${rustArray("u8", iddBlock, 32)};

/// Prefix paths, in the regex's priority order: a header byte (classes | end-anchored << 5 |
/// group 1 << 6 | group 2 << 7), the spans (start, end) of the groups that took part, then one
/// index into DIGIT_CLASSES per position.
pub(super) static PATH_BYTES: [u8; ${pathBytes.length}] = ${rustArray("u8", pathBytes, 24)};
/// Digit classes (bit d: digit d); the first ten are the single digits.
pub(super) static DIGIT_CLASSES: [u16; ${classes.length}] = ${rustArray(
    "u16",
    classes.map((c) => "0x" + c.toString(16)),
    12,
  )};

/// Range-coded automata (valid, general pattern, leading digits per plan).
pub(super) static AUTOMATA: [u8; ${bytes.length}] = ${rustArray("u8", bytes.map(hex), 20)};
`;
  return {
    out,
    info: {
      version,
      plans: plans.length,
      ccs: ccs.length,
      nStates,
      bytes: bytes.length,
      idealBytes,
      stats,
      pathBytes: pathBytes.length,
      blocks: blocks.length,
      classes: classes.length,
      poolStates: pool.states.length,
    },
  };
}

export function mulberry32(a) {
  return () => {
    a |= 0;
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { out, info } = generate();
  if (process.argv.includes("--check")) {
    const cur = fs.existsSync(OUT) ? fs.readFileSync(OUT, "utf8") : "";
    if (cur !== out) {
      console.error(`${OUT} is stale: run node tools/phone-gen/generate.mjs`);
      process.exit(1);
    }
    console.log("tables.rs is current");
  } else {
    fs.mkdirSync(path.dirname(OUT), { recursive: true });
    fs.writeFileSync(OUT, out);
    console.log("wrote", path.relative(root, OUT), JSON.stringify(info));
  }
}
