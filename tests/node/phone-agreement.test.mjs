// Agreement of validatePhone with libphonenumber-js (max metadata), the reference its rules come
// from, on a seeded corpus of numbers of every region typed the ways people type them
// (tools/phone-gen/corpus.mjs computes libphonenumber-js's verdicts), and validatePhones ==
// validatePhone on the whole corpus.
//
// Counted: every entry except the numbers our junk rules reject (repeating_digits,
// sequential_digits), which libphonenumber accepts on purpose. An entry agrees when `valid` is
// the same and, when both say valid, `e164` is the same. Run: node --test tests/node/phone-agreement.test.mjs
// (after scripts/package.sh; the package is imported from dist/).

import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { test } from "node:test";
import { VoxError, validatePhone, validatePhones } from "../../dist/vox-crm/node/index.mjs";
import { generateCorpus } from "../../tools/phone-gen/corpus.mjs";

// The wasm exports themselves: `validatePhone` there builds the object in Rust (the reference
// the fast path's JS glue must reproduce) and throws the argument errors.
// wasm's own validatePhone (the object built in Rust), beside the glue's fast path.
const wasm = createRequire(import.meta.url)("../../dist/vox-crm/node/index.cjs").__wasm;

const SEED = 20240611;
const SIZE = 100_000;
const JUNK = new Set(["repeating_digits", "sequential_digits"]);

const corpus = generateCorpus(SEED, SIZE);

/** Tallies per key: [counted, disagreements]. */
function tally() {
  const rows = new Map();
  return {
    rows,
    add(key, disagrees) {
      const row = rows.get(key) ?? [0, 0];
      row[0] += 1;
      row[1] += disagrees ? 1 : 0;
      rows.set(key, row);
    },
  };
}

const pct = (bad, n) => (n === 0 ? "-" : `${((100 * bad) / n).toFixed(3)}%`);

test(`validatePhone agrees with libphonenumber-js (max) on ${SIZE.toLocaleString("en")}+ generated numbers`, (t) => {
  assert.ok(corpus.length >= SIZE, `corpus of ${corpus.length}`);
  const byRegion = tally(); // by the region the number was made for (corpus `origin`; 001: non-geographic)
  const india = tally(); // numbers of India, or read with default region IN
  let counted = 0;
  let disagreements = 0;
  let junk = 0;
  const examples = [];
  for (const e of corpus) {
    const ours = validatePhone(e.text, { defaultCountry: e.region });
    if (!ours.valid && JUNK.has(ours.reason)) {
      junk += 1;
      continue;
    }
    const disagrees = ours.valid !== e.valid || (ours.valid && ours.e164 !== e.e164);
    counted += 1;
    if (disagrees) {
      disagreements += 1;
      if (examples.length < 10) examples.push({ text: e.text, region: e.region, lib: { valid: e.valid, e164: e.e164 }, ours });
    }
    byRegion.add(e.origin, disagrees);
    if (e.origin === "IN" || e.region === "IN") india.add(e.origin === "IN" ? "made for IN" : "read with default IN", disagrees);
  }

  const inCounted = [...india.rows.values()].reduce((s, r) => s + r[0], 0);
  const inBad = [...india.rows.values()].reduce((s, r) => s + r[1], 0);
  const lines = [
    `libphonenumber-js max agreement, seed ${SEED}: ${corpus.length} entries, ${junk} left out (our junk rules), ${counted} counted`,
    "| region | counted | disagree | rate |",
    "|---|---:|---:|---:|",
  ];
  for (const [region, [n, bad]] of [...byRegion.rows].sort(([a], [b]) => a.localeCompare(b))) {
    if (bad > 0) lines.push(`| ${region} | ${n} | ${bad} | ${pct(bad, n)} |`);
  }
  for (const [label, [n, bad]] of india.rows) lines.push(`| IN (${label}) | ${n} | ${bad} | ${pct(bad, n)} |`);
  lines.push(`| **overall** | ${counted} | ${disagreements} | ${pct(disagreements, counted)} |`);
  for (const l of lines) t.diagnostic(l);
  for (const x of examples) t.diagnostic(`disagreement: ${JSON.stringify(x)}`);

  assert.ok(counted >= 0.99 * SIZE, `most entries are counted (${counted})`);
  assert.ok(inCounted >= 10_000, `enough Indian entries (${inCounted})`);
  assert.ok(disagreements / counted <= 0.005, `overall disagreement ${pct(disagreements, counted)} > 0.5%`);
  assert.equal(inBad, 0, `IN must agree fully: ${inBad} disagreements of ${inCounted}`);
});

test("validatePhones gives exactly validatePhone's verdicts on the whole corpus", () => {
  // Each default region in one batch, as a caller would.
  const byDefault = new Map();
  for (const e of corpus) {
    if (!byDefault.has(e.region)) byDefault.set(e.region, []);
    byDefault.get(e.region).push(e.text);
  }
  for (const [region, texts] of byDefault) {
    const options = { defaultCountry: region };
    assert.deepStrictEqual(
      validatePhones(texts, options),
      texts.map((s) => validatePhone(s, options)),
      region,
    );
  }
  // The whole corpus in one batch with the default region; the objects are also those wasm
  // builds itself (fields, values, absent fields).
  // validatePhones(inputs) is validatePhone on each, down to the order of the fields; and that
  // is the object wasm builds itself.
  const sameAsEach = (inputs) => {
    const batch = validatePhones(inputs);
    assert.equal(batch.length, inputs.length);
    inputs.forEach((input, i) => {
      const single = validatePhone(input);
      const reference = wasm.validatePhone(input);
      assert.deepStrictEqual(batch[i], single, input);
      assert.deepStrictEqual(single, reference, input);
      assert.deepStrictEqual(Object.keys(batch[i]), Object.keys(reference), input);
      assert.deepStrictEqual(Object.keys(single), Object.keys(reference), input);
    });
    return batch;
  };
  const texts = corpus.map((e) => e.text);
  const one = sameAsEach(texts);
  // That batch is ASCII: the glue writes it into wasm's memory itself. A batch with any input
  // that is not ASCII crosses as one joined string instead: the same verdicts either way.
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the whole ASCII range, control characters included
  assert.ok(texts.every((s) => /^[\x00-\x7f]*$/.test(s)));
  const fullwidth = (s) => s.replace(/[0-9]/g, (d) => String.fromCharCode(0xff10 + Number(d)));
  const mixed = sameAsEach(texts.map((s, i) => (i % 10 === 0 ? fullwidth(s) : s)));
  for (let i = 0; i < texts.length; i += 10) assert.deepStrictEqual(mixed[i], one[i], texts[i]); // fullwidth digits are digits
});

test("validatePhone / validatePhones: the same VoxErrors as before for malformed calls", () => {
  const caught = (fn) => {
    try {
      fn();
    } catch (e) {
      return e;
    }
    assert.fail("expected a VoxError");
  };
  const calls = [
    [[5], "validatePhone"],
    [[null], "validatePhone"],
    [["9845317206", 5], "validatePhone"],
    [["9845317206", { defaultCountry: "XX" }], "validatePhone"],
    [["9845317206", { defaultCountry: 91 }], "validatePhone"],
    [[5, { defaultCountry: "XX" }], "validatePhone"],
    [["9845317206"], "validatePhones"],
    [[{ length: 1, 0: "9845317206" }], "validatePhones"],
    [[["9845317206", 9845317206]], "validatePhones"],
    [[["9845317206", undefined, "1"]], "validatePhones"], // eslint-disable-line no-sparse-arrays
    [[["9845317206"], { defaultCountry: "" }], "validatePhones"],
    [[[1], "IN"], "validatePhones"],
  ];
  const api = { validatePhone, validatePhones };
  for (const [args, name] of calls) {
    const ours = caught(() => api[name](...args));
    const before = caught(() => wasm[name](...args));
    assert.ok(ours instanceof VoxError, `${name}: a VoxError`);
    assert.equal(ours.code, "invalid_argument");
    assert.deepStrictEqual([ours.code, ours.message], [before.code, before.message], `${name}(${args.map(String)})`);
  }
  // A valid defaultCountry in any case, and remembered per value.
  assert.deepStrictEqual(validatePhone("(201) 555-0123", { defaultCountry: "us" }), wasm.validatePhone("(201) 555-0123", { defaultCountry: "us" }));
  assert.deepStrictEqual(validatePhone("(201) 555-0123", { defaultCountry: "us" }), validatePhone("(201) 555-0123", { defaultCountry: "US" }));
  assert.deepStrictEqual(validatePhone("9845317206", { defaultCountry: "IN" }), validatePhone("9845317206", {}));
  assert.deepStrictEqual(validatePhone("9845317206", null), validatePhone("9845317206"));
});

test("validatePhones: inputs that contain the batch separator or odd characters", () => {
  const inputs = [
    "9845317206",
    "98453\u000017206",
    "\u0000",
    "",
    "+91 98453 17206\u0000",
    "\uD800",
    "98453\uD83D\uDE00",
    "\uFF19\uFF18\uFF14\uFF15\uFF13\uFF11\uFF17\uFF12\uFF10\uFF16",
    "tel:+91-98453-17206;ext=1",
  ];
  assert.deepStrictEqual(
    validatePhones(inputs),
    inputs.map((s) => validatePhone(s)),
  );
  assert.deepStrictEqual(validatePhones(["\u0000"]), [validatePhone("\u0000")]);
  assert.equal(validatePhone("98453\u000017206").reason, "invalid_characters");
});
