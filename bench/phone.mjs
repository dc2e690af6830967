// Phone validation throughput, side by side in one Node process, and the phone code's size in
// the .wasm. Build the release package first (what ships):
//
//   scripts/package.sh && node bench/phone.mjs [--n 50000] [--reps 7] [--batch 10000] [--no-size]
//
// --pkg DIR measures another build of the package (default dist/vox-crm), e.g. a copy whose
// node/vox_crm_bg.wasm was built with other settings.
//
// Throughput: numbers validated per second on one input set (default region IN; mostly Indian
// mobiles typed the ways people type them, some international numbers, some invalid input) by
//   - our validatePhone, one call per number, and validatePhones, batches of --batch;
//   - the same two wasm exports as wired before the fast path (the object built in Rust with
//     Reflect::set per field), still in the .wasm as the reference and error path;
//   - libphonenumber-js isValidPhoneNumber with min and with max metadata.
// The cases run round-robin, --reps timed rounds after one warm-up round; the table gives the
// median rate, the fastest and slowest round, and the spread (slowest − fastest) / median.
//
// Size: the release .wasm (raw, gzip -9, by section), the functions of the phone crate in it
// (by the names of the "name" section), and the phone crate's own gzip cost measured on two
// small wasm32 cdylibs built with the release profiles of Cargo.toml (the phone crate's
// opt-level 3 included): one that uses phone/ (vox-phone) for everything the package uses of
// it, one that does not (baseline).
// Nothing is asserted.

import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { cpus, tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { fmtInt, fmtPct, fmtRate, markdownTable, runInterleaved, wasmFunctions, wasmSections } from "./lib.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const require = createRequire(join(root, "package.json"));
const argv = process.argv.slice(2);
const arg = (name, def) => {
  const i = argv.indexOf(name);
  return i >= 0 ? Number(argv[i + 1]) : def;
};
const N = arg("--n", 50_000);
const REPS = arg("--reps", 7);
const BATCH = arg("--batch", 10_000);
const SIZE = !argv.includes("--no-size");
const PKG = argv.includes("--pkg") ? resolve(argv[argv.indexOf("--pkg") + 1]) : join(root, "dist/vox-crm");

const pkgDir = join(PKG, "node");
const vox = await import(join(pkgDir, "index.mjs"));
// The wasm-bindgen exports themselves (an older package given with --pkg ships them beside its entry).
const raw = existsSync(join(pkgDir, "vox_crm.js")) ? require(join(pkgDir, "vox_crm.js")) : require(join(pkgDir, "index.cjs")).__wasm;
const min = require("libphonenumber-js/min");
const max = require("libphonenumber-js/max");
const { generateCorpus } = await import(join(root, "tools/phone-gen/corpus.mjs"));
const { mulberry32 } = await import(join(root, "tools/phone-gen/generate.mjs")); // seeded PRNG
const libVersion = require("libphonenumber-js/package.json").version;

console.log(`# Phone validation benchmark\n`);
console.log(`command: node bench/${relative(join(root, "bench"), fileURLToPath(import.meta.url))} ${argv.join(" ")}`.trimEnd());
console.log(`node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? "?"}, libphonenumber-js ${libVersion}\n`);

// ---- the input set ------------------------------------------------------------------------------

function inputSet(n) {
  const r = mulberry32(42);
  const int = (k) => Math.floor(r() * k);
  const pick = (xs) => xs[int(xs.length)];
  const digits = (k) => Array.from({ length: k }, () => int(10)).join("");
  const indian = [
    (m) => m,
    (m) => `${m.slice(0, 5)} ${m.slice(5)}`,
    (m) => `+91 ${m.slice(0, 5)} ${m.slice(5)}`,
    (m) => `+91${m}`,
    (m) => `+91-${m}`,
    (m) => `0${m}`,
    (m) => `0${m.slice(0, 5)} ${m.slice(5)}`,
    (m) => `91${m}`,
    (m) => `(+91) ${m.slice(0, 5)}-${m.slice(5)}`,
    (m) => `${m.slice(0, 3)}-${m.slice(3, 6)}-${m.slice(6)}`,
    (m) => ` ${m} `,
  ];
  const invalid = [
    () => digits(5), // too short
    () => `9${digits(11)}`, // too long
    () => `5${digits(9)}`, // not a mobile range
    () => `98${digits(3)}a${digits(4)}`, // a letter
    () => `${int(10)}`.repeat(10), // junk
    () => `+91 98${digits(4)} ${digits(4)} ext. 12`,
    () => "",
  ];
  // International numbers: written with +, from the agreement corpus (about half are invalid).
  const intl = generateCorpus(7, 20_000)
    .filter((e) => e.text.startsWith("+") && !e.text.startsWith("+91"))
    .map((e) => e.text);
  const out = [];
  for (let i = 0; i < n; i++) {
    const roll = r();
    if (roll < 0.7) out.push(pick(indian)(`${6 + int(4)}${digits(9)}`));
    else if (roll < 0.85) out.push(pick(intl));
    else out.push(pick(invalid)());
  }
  return out;
}

const inputs = inputSet(N);
const batches = [];
for (let i = 0; i < inputs.length; i += BATCH) batches.push(inputs.slice(i, i + BATCH));

// The checks below count as they go and keep no results: had they kept 50,000 result objects,
// V8 would learn that the objects of our result literals live long and allocate all later ones
// in the old generation ("pretenuring"), a cost of the check, not of the timed loops (which keep
// one batch at a time). An application that keeps every result pays it: about a third slower
// here (validatePhones 3.6 M/s instead of 5.6 M/s when this check kept its results).
const countValid = (checks) => checks.reduce((n, c) => n + (c.valid ? 1 : 0), 0);
const sanity = {
  validatePhone: inputs.reduce((n, s) => n + (vox.validatePhone(s).valid ? 1 : 0), 0),
  validatePhones: batches.reduce((n, b) => n + countValid(vox.validatePhones(b)), 0),
  "libphonenumber-js min": inputs.filter((s) => min.isValidPhoneNumber(s, "IN")).length,
  "libphonenumber-js max": inputs.filter((s) => max.isValidPhoneNumber(s, "IN")).length,
};
const junk = inputs.map((s) => vox.validatePhone(s).reason).filter((r) => r === "repeating_digits" || r === "sequential_digits").length;
console.log(`${fmtInt(N)} inputs (70% Indian mobiles typed 11 ways, 15% international, 15% invalid), default region IN.`);
console.log(
  `valid: ${Object.entries(sanity)
    .map(([k, v]) => `${k} ${fmtInt(v)}`)
    .join(", ")} (ours rejects ${junk} as junk).\n`,
);

// ---- throughput ---------------------------------------------------------------------------------

// A timed run goes over the input set `times` times: the fast cases would otherwise take a
// few milliseconds per run, too short to time steadily.
const perCall = (fn, times) => () => {
  let valid = 0;
  for (let t = 0; t < times; t++) for (let i = 0; i < inputs.length; i++) valid += fn(inputs[i]).valid ? 1 : 0;
  return valid;
};
const perBatch = (fn, times) => () => {
  let valid = 0;
  for (let t = 0; t < times; t++) for (const b of batches) valid += fn(b)[b.length - 1].valid ? 1 : 0;
  return valid;
};
const lib = (m) => () => {
  let valid = 0;
  for (let i = 0; i < inputs.length; i++) valid += m.isValidPhoneNumber(inputs[i], "IN") ? 1 : 0;
  return valid;
};

const cases = [
  { name: "vox-crm `validatePhone` (one call per number)", items: 4 * N, run: perCall((s) => vox.validatePhone(s), 4) },
  { name: `vox-crm \`validatePhones\` (batches of ${fmtInt(BATCH)})`, items: 10 * N, run: perBatch((b) => vox.validatePhones(b), 10) },
  { name: "before: wasm `validatePhone`, object built in Rust", items: N, run: perCall((s) => raw.validatePhone(s), 1) },
  { name: `before: wasm \`validatePhones\`, batches of ${fmtInt(BATCH)}`, items: N, run: perBatch((b) => raw.validatePhones(b), 1) },
  { name: "libphonenumber-js `isValidPhoneNumber`, min metadata", items: N, run: lib(min) },
  { name: "libphonenumber-js `isValidPhoneNumber`, max metadata", items: N, run: lib(max) },
];
const results = runInterleaved(cases, { reps: REPS, warmup: 2, collect: true });
const libMin = results[4].perSecond;
console.log(`## Numbers validated per second (median of ${REPS} rounds of ${fmtInt(N)})\n`);
console.log(
  markdownTable(
    ["function", "numbers/s", "fastest … slowest round", "spread", "× lib min"],
    results.map((r) => [
      r.name,
      fmtInt(r.perSecond),
      `${fmtRate(r.fastest)} … ${fmtRate(r.slowest)}`,
      fmtPct(r.spread),
      `${(r.perSecond / libMin).toFixed(1)}×`,
    ]),
    ["l", "r", "r", "r", "r"],
  ),
);
const short = ["validatePhone", "validatePhones", "before validatePhone", "before validatePhones", "lib min", "lib max"];
console.log(`\nmedian time per number: ${results.map((r, i) => `${short[i]} ${((r.medianMs * 1e6) / r.items).toFixed(0)} ns`).join(", ")}.`);

// ---- size ---------------------------------------------------------------------------------------

const gz = (b) => gzipSync(b, { level: 9 }).length;

function shippedWasm() {
  const file = join(pkgDir, "vox_crm_bg.wasm");
  const bytes = new Uint8Array(readFileSync(file));
  const sections = wasmSections(bytes);
  console.log(`\n## Size\n\n\`${relative(root, file) || file}\`: ${fmtInt(bytes.length)} bytes, gzip -9 ${fmtInt(gz(bytes))} bytes.`);
  if (sections.some((s) => s.name.startsWith(".debug"))) {
    console.log("**This is a debug build (DWARF sections): run scripts/package.sh (release) for the numbers that ship.**");
  }
  console.log("");
  const group = new Map();
  for (const s of sections) {
    const key = s.id === 0 ? `custom "${s.name}"` : s.name;
    const g = group.get(key) ?? [];
    g.push(bytes.subarray(s.start, s.end));
    group.set(key, g);
  }
  console.log(
    markdownTable(
      ["section", "bytes", "gzip -9 alone"],
      [...group].map(([k, parts]) => [k, fmtInt(parts.reduce((n, p) => n + p.length, 0)), fmtInt(gz(Buffer.concat(parts)))]),
      ["l", "r", "r"],
    ),
  );
  const names = sections.find((s) => s.id === 0 && s.name === "name");
  if (!names) {
    console.log('\nNo "name" section (stripped, as shipped): the probes below measure the phone crate\'s share.');
    return;
  }
  console.log(
    `\nThe "name" section (function names for stack traces, not needed to run) is ${fmtInt(gz(bytes.subarray(names.start, names.end)))} bytes of that gzip.`,
  );
  const fns = wasmFunctions(bytes);
  const kinds = [
    ["vox_phone (the phone crate)", (n) => n.includes("vox_phone::")],
    ["wasm::phone (its exports)", (n) => n.includes("wasm::phone::")],
    ["everything else", () => true],
  ];
  const rows = kinds.map(() => []);
  for (const f of fns) rows[kinds.findIndex(([, test]) => test(f.name))].push(f);
  console.log("\nFunctions of the shipped .wasm by name (functions inlined into others count where they landed):\n");
  console.log(
    markdownTable(
      ["functions", "count", "body bytes", "gzip -9 alone"],
      kinds.map(([label], i) => [
        label,
        rows[i].length,
        fmtInt(rows[i].reduce((n, f) => n + f.body.length, 0)),
        fmtInt(gz(Buffer.concat(rows[i].map((f) => f.body)))),
      ]),
      ["l", "r", "r", "r"],
    ),
  );
}

/** Bytes of the range-coded automata (`AUTOMATA` in phone/src/tables.rs). */
function tableBytes() {
  const m = /static AUTOMATA: \[u8; (\d+)\]/.exec(readFileSync(join(root, "phone/src/tables.rs"), "utf8"));
  return m ? Number(m[1]) : NaN;
}

// Two cdylibs with the release profiles of Cargo.toml (stripped): with and without the phone crate.
function probes() {
  const dir = join(tmpdir(), "vox-crm-phone-size");
  mkdirSync(join(dir, "src"), { recursive: true });
  const cargoToml = readFileSync(join(root, "Cargo.toml"), "utf8");
  const section = (name) => new RegExp(`\\[${name.replaceAll(".", "\\.")}\\]\\n([\\s\\S]*?)(?:\\n\\[|$)`).exec(cargoToml)?.[1]?.trim();
  const profile = section("profile.release") ?? 'opt-level = "z"';
  const phoneProfile = section("profile.release.package.vox-phone") ?? "";
  const phoneCrate = join(root, "phone").replaceAll("\\", "/");
  writeFileSync(
    join(dir, "Cargo.toml"),
    `[package]\nname = "phone-size-probe"\nversion = "0.0.0"\nedition = "2021"\npublish = false\n\n[lib]\ncrate-type = ["cdylib"]\n\n` +
      `[dependencies]\nvox-phone = { path = "${phoneCrate}", optional = true }\n\n[features]\nphone = ["dep:vox-phone"]\n\n` +
      `[profile.release]\n${profile}\nstrip = true\n\n[profile.release.package.vox-phone]\n${phoneProfile}\n\n[workspace]\n`,
  );
  writeFileSync(
    join(dir, "src/lib.rs"),
    `// Size probe generated by bench/phone.mjs: never run, only measured.
#![allow(dead_code, clippy::all)]
#[cfg(feature = "phone")]
use vox_phone as phone;

fn input<'a>(ptr: *const u8, len: usize) -> &'a str {
    // SAFETY: never called; the probe is only measured.
    let bytes = unsafe { core::slice::from_raw_parts(ptr, len) };
    core::str::from_utf8(bytes).unwrap_or("")
}

/// The same plumbing with and without the module: a string in, a string out.
#[no_mangle]
pub extern "C" fn entry(ptr: *const u8, len: usize, op: u32, out: *mut u8) -> usize {
    let text = run(input(ptr, len), op);
    let n = text.len().min(64);
    // SAFETY: as above.
    unsafe { core::ptr::copy_nonoverlapping(text.as_ptr(), out, n) };
    n
}

#[cfg(not(feature = "phone"))]
fn run(s: &str, op: u32) -> String {
    s.trim().repeat(op as usize)
}

/// Everything the package uses of the module (src/wasm/phone.rs, lead checks).
#[cfg(feature = "phone")]
fn run(s: &str, op: u32) -> String {
    let region = phone::region_at(op as u8).unwrap_or(phone::DEFAULT_REGION);
    match op % 5 {
        0 => {
            let v = phone::check(s, region);
            let mut t = String::new();
            v.write_e164(&mut t);
            t.push_str(v.national_number().unwrap_or(""));
            t.push_str(v.region().unwrap_or(""));
            t.push_str(v.reason().map_or("", |r| r.code()));
            t.push(char::from(v.region_index().unwrap_or(0)));
            t.push(char::from(v.country_code().unwrap_or(0) as u8));
            t
        }
        1 => {
            let c = phone::validate(s, region);
            let mut t = c.e164.unwrap_or_default();
            t.push_str(&c.national_number.unwrap_or_default());
            t.push_str(c.region.unwrap_or(""));
            t.push_str(c.reason.map_or("", |r| r.message()));
            t
        }
        2 => phone::normalize(s, region).unwrap_or_default(),
        3 => phone::mask(s, op as usize, '*'),
        _ => {
            let mut t = String::from(if phone::is_known_region(s) { "y" } else { "n" });
            t.push(char::from(phone::region_index(s).unwrap_or(0)));
            t.push_str(phone::DATA_VERSION);
            t
        }
    }
}
`,
  );
  const target = join(dir, "target");
  const wasm = join(target, "wasm32-unknown-unknown/release/phone_size_probe.wasm");
  const build = (features) => {
    const res = spawnSync("cargo", ["build", "--quiet", "--release", "--target", "wasm32-unknown-unknown", ...features], {
      cwd: dir,
      env: { ...process.env, CARGO_TARGET_DIR: target },
      encoding: "utf8",
    });
    if (res.status !== 0 || !existsSync(wasm)) throw new Error(`cargo build ${features.join(" ")} failed:\n${res.stderr || res.error}`);
    return new Uint8Array(readFileSync(wasm));
  };
  const measure = (bytes) => {
    const s = wasmSections(bytes);
    const part = (id) => s.filter((x) => x.id === id).reduce((n, x) => n + x.end - x.start, 0);
    const dataGz = gz(Buffer.concat(s.filter((x) => x.id === 11).map((x) => bytes.subarray(x.start, x.end))));
    return { raw: bytes.length, gz: gz(bytes), code: part(10), data: part(11), dataGz };
  };
  const base = measure(build([]));
  const phone = measure(build(["--features", "phone"]));
  console.log(`\nThe phone crate's own cost: two wasm32 cdylibs with the release profiles of Cargo.toml, stripped (probe in ${dir}):\n`);
  const row = (label, m) => [label, fmtInt(m.raw), fmtInt(m.gz), fmtInt(m.code), fmtInt(m.data)];
  console.log(
    markdownTable(
      ["probe", "bytes", "gzip -9", "code section", "data section"],
      [
        row("baseline (string in, string out)", base),
        row("+ phone/ (vox-phone: everything the package calls)", phone),
        [
          "**phone code and tables add**",
          fmtInt(phone.raw - base.raw),
          `**${fmtInt(phone.gz - base.gz)}**`,
          fmtInt(phone.code - base.code),
          fmtInt(phone.data - base.data),
        ],
      ],
      ["l", "r", "r", "r", "r"],
    ),
  );
  console.log(`\nbudget: 15 KB gzip; measured ${((phone.gz - base.gz) / 1024).toFixed(1)} KiB.`);
  console.log(
    `The data section alone (the tables; ${fmtInt(tableBytes())} bytes of them are the range-coded automata, which gzip cannot shrink) ` +
      `gzips to ${fmtInt(phone.dataGz)} bytes with the phone crate, ${fmtInt(base.dataGz)} without.`,
  );
}

if (SIZE) {
  shippedWasm();
  try {
    probes();
  } catch (e) {
    console.log(`\n(size probes skipped: ${e.message})`);
  }
}
