#!/usr/bin/env node
// A reproducible agreement corpus: phone numbers of every region, typed the ways people type
// them, with libphonenumber-js's (max metadata) verdicts.
//
//   node tools/phone-gen/corpus.mjs [--seed N] [--n COUNT] [--out FILE.jsonl]
//   import { generateCorpus } from './corpus.mjs'; generateCorpus(seed, n) -> [{ text, region, valid, e164, ... }]
//
// Each entry: `text` (the input), `region` (the default region it is read with), `valid`
// (libphonenumber-js `isValidPhoneNumber(text, region)`), `e164` (`parsePhoneNumber(text,
// region)?.number`, or null), plus `origin` (the region the number was made for) and `form`
// (how it was typed). For `tel:` URIs `valid` is `parsePhoneNumber(text, region)?.isValid()`:
// isValidPhoneNumber does not read URIs at all (it rejects every `tel:` input), while
// parsePhoneNumber does; the SDK reads them, so they are scored against the latter.
//
// Numbers: libphonenumber's mobile example numbers and random numbers drawn from each
// number type's pattern (all types), then mutated at random (a digit changed, dropped,
// added, two digits swapped, a random tail) so that about half are invalid; a few purely
// random digit strings of the region's lengths.

import fs from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { mulberry32 } from "./generate.mjs";
import { expandPaths, Pool } from "./regex.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, "../..");
const require = createRequire(path.join(root, "package.json"));
const lib = require("libphonenumber-js/max");
const meta = require("libphonenumber-js/metadata.max.json");
const examples = require("libphonenumber-js/examples.mobile.json");

function makeRng(seed) {
  const r = mulberry32(seed);
  const api = {
    next: r,
    int: (n) => Math.floor(r() * n),
    pick: (arr) => arr[Math.floor(r() * arr.length)],
    chance: (p) => r() < p,
  };
  return api;
}

// ---------------------------------------------------------------------------------------------
// Sampling numbers from patterns

const pool = new Pool();
const bitsOf = (lengths) => lengths.reduce((a, l) => a | (1 << l), 0);

// per region: list of automata, one per number type (limited to its lengths and the general pattern)
function typeAutomata(d) {
  const nnp = pool.fromRegex(d[2]);
  const out = [];
  for (const t of d[11] || []) {
    if (!t?.[0]) continue;
    const a = pool.and(pool.lengths(pool.fromRegex(t[0]), bitsOf(t[1] || d[3])), nnp);
    if (a) out.push(a);
  }
  if (!out.length) out.push(nnp);
  return out;
}

// live[s]: whether some accepted word is reachable from s
const liveMemo = new Map();
function live(s) {
  if (s === 0) return false;
  if (liveMemo.has(s)) return liveMemo.get(s);
  const st = pool.states[s];
  const r = st.acc || st.next.some((t) => live(t));
  liveMemo.set(s, r);
  return r;
}

function sample(rng, a) {
  let s = a;
  let out = "";
  for (let i = 0; i < 20; i++) {
    const st = pool.states[s];
    const moves = [];
    for (let d = 0; d < 10; d++) if (live(st.next[d])) moves.push(d);
    if (st.acc && (moves.length === 0 || rng.chance(0.35))) return out;
    if (!moves.length) return out;
    const d = rng.pick(moves);
    out += d;
    s = st.next[d];
  }
  return out;
}

function mutate(rng, nn, lengths) {
  const digits = nn.split("");
  const i = rng.int(Math.max(digits.length, 1));
  switch (rng.int(6)) {
    case 0:
      digits[i] = String(rng.int(10));
      break;
    case 1:
      digits.splice(i, 1);
      break;
    case 2:
      digits.splice(i, 0, String(rng.int(10)));
      break;
    case 3:
      if (i + 1 < digits.length) [digits[i], digits[i + 1]] = [digits[i + 1], digits[i]];
      break;
    case 4: {
      // random tail
      const keep = 1 + rng.int(Math.max(digits.length - 1, 1));
      digits.length = keep;
      const len = rng.pick(lengths);
      while (digits.length < len) digits.push(String(rng.int(10)));
      break;
    }
    default:
      digits[i] = String(rng.int(10));
      digits[rng.int(digits.length)] = String(rng.int(10));
  }
  return digits.join("");
}

// ---------------------------------------------------------------------------------------------
// Typing

const SEPARATORS = [" ", " ", " ", "-", "-", ".", ""];

function group(rng, digits) {
  if (digits.length <= 4 || rng.chance(0.15)) return digits;
  const sep = rng.pick(SEPARATORS);
  const parts = [];
  let i = 0;
  while (i < digits.length) {
    const n = Math.min(2 + rng.int(3), digits.length - i);
    parts.push(digits.slice(i, i + n));
    i += n;
  }
  if (rng.chance(0.2) && parts.length > 2) parts[0] = `(${parts[0]})`;
  return parts.join(rng.chance(0.2) ? " " : sep);
}

// a string that the region's international prefix pattern matches (its first path, or a random one)
function iddString(rng, region) {
  const d = meta.countries[region];
  const paths = expandPaths(d[1]);
  const p = rng.chance(0.7) ? paths[0] : rng.pick(paths);
  return p.classes
    .map((mask) => {
      const ds = [];
      for (let k = 0; k < 10; k++) if (mask & (1 << k)) ds.push(k);
      return rng.pick(ds);
    })
    .join("");
}

const regions = Object.keys(meta.countries).sort();
const iddZeroZero = regions.filter((r) => expandPaths(meta.countries[r][1]).some((p) => p.classes.length === 2 && p.classes.every((m) => m & 1)));

function typed(rng, region, cc, nn) {
  const d = meta.countries[region];
  const np = d[5] || "";
  const forms = [
    ["e164", () => [`+${cc}${nn}`, rng.pick([region, "IN", "US", rng.pick(regions)])]],
    ["intl", () => [`+${cc} ${group(rng, nn)}`, rng.pick([region, "IN", rng.pick(regions)])]],
    ["00", () => [`00${rng.pick(["", " "])}${cc} ${group(rng, nn)}`, rng.pick(iddZeroZero)]],
    [
      "idd",
      () => {
        const from = rng.pick(regions);
        return [`${iddString(rng, from)} ${cc} ${group(rng, nn)}`, from];
      },
    ],
    ["national", () => [group(rng, nn), region]],
    ["trunk", () => [np ? `${np}${rng.pick(["", " "])}${group(rng, nn)}` : group(rng, nn), region]],
    [
      "trunk-paren",
      () => {
        const k = 2 + rng.int(3);
        return [`(${np}${nn.slice(0, k)}) ${group(rng, nn.slice(k))}`, region];
      },
    ],
    ["no-plus", () => [`${cc}${group(rng, nn)}`, region]],
    ["tel", () => [`tel:+${cc}-${group(rng, nn).replace(/[ .()]/g, "-")}`, rng.pick([region, "IN"])]],
  ];
  const weights = [14, 16, 8, 5, 20, 14, 5, 8, 10];
  let w = rng.int(weights.reduce((a, b) => a + b, 0));
  let i = 0;
  while (w >= weights[i]) w -= weights[i++];
  const [form, make] = forms[i];
  const [text, def] = make();
  return { form, text, def };
}

// ---------------------------------------------------------------------------------------------

function verdict(text, region) {
  let e164 = null;
  let valid = false;
  const isTel = /^tel:/i.test(text);
  try {
    const p = lib.parsePhoneNumber(text, region);
    e164 = p ? p.number : null;
    valid = isTel ? !!p?.isValid() : lib.isValidPhoneNumber(text, region);
  } catch {
    valid = false;
  }
  return { valid, e164 };
}

export function generateCorpus(seed = 1, n = 100000) {
  const rng = makeRng(seed);
  const out = [];
  const perRegion = Math.ceil(n / regions.length);
  const automata = new Map(regions.map((r) => [r, typeAutomata(meta.countries[r])]));
  for (let k = 0; k < perRegion; k++) {
    for (const region of regions) {
      if (out.length >= n) break;
      const d = meta.countries[region];
      const cc = d[0];
      let nn;
      const roll = rng.next();
      if (roll < 0.08 && examples[region]) nn = examples[region];
      else if (roll < 0.92) nn = sample(rng, rng.pick(automata.get(region)));
      else {
        const len = rng.pick(d[3]);
        nn = "";
        for (let i = 0; i < len; i++) nn += rng.int(10);
      }
      if (roll >= 0.08 && roll < 0.92 && rng.chance(0.6)) nn = mutate(rng, nn, d[3]);
      if (!nn) nn = String(rng.int(10));
      const { form, text, def } = typed(rng, region, cc, nn);
      out.push({ text, region: def, ...verdict(text, def), origin: region, form });
    }
  }
  // non-geographic numbers (+800 ...), read with a random default region
  for (const [cc, d] of Object.entries(meta.nonGeographic)) {
    const autos = typeAutomata(d);
    for (let k = 0; k < 40; k++) {
      let nn = sample(rng, rng.pick(autos));
      if (rng.chance(0.5)) nn = mutate(rng, nn, d[3]);
      const text = rng.chance(0.5) ? `+${cc}${nn}` : `+${cc} ${group(rng, nn)}`;
      const def = rng.pick(regions);
      out.push({ text, region: def, ...verdict(text, def), origin: "001", form: "non-geo" });
    }
  }
  return out;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const arg = (name, def) => {
    const i = process.argv.indexOf(name);
    return i > 0 ? process.argv[i + 1] : def;
  };
  const seed = +arg("--seed", 1);
  const n = +arg("--n", 100000);
  const file = arg("--out", "phone-corpus.jsonl");
  const t0 = Date.now();
  const corpus = generateCorpus(seed, n);
  fs.writeFileSync(file, corpus.map((e) => JSON.stringify(e)).join("\n") + "\n");
  const valid = corpus.filter((e) => e.valid).length;
  console.log(`wrote ${corpus.length} entries (${valid} valid) to ${file} in ${Date.now() - t0} ms`);
}
