// Owns `vox-crm validate FILE`: the phone report of a file alone (valid, invalid by reason, per
// region), nothing sent and no credentials needed. Streams the file and checks the phones with
// validatePhones in batches (one call into wasm for thousands of numbers), so a million rows take
// seconds.
import { EXIT, fileArgument, parseFlags, UsageError } from "../args.mjs";
import { duration, int, pct, rate, table } from "../format.mjs";
import { delimiterOf, detectFormat, parseMaps, Source } from "../source.mjs";
import { validatePhones } from "../vox.mjs";

export const HELP = `Usage: vox-crm validate FILE [options]

The phone numbers of FILE (CSV with a header row, or JSON Lines): how many are valid, why the others
are not (too_short, too_long, invalid_country_code, invalid_number, repeating_digits,
sequential_digits, invalid_characters), and the regions, with the rows of a few of each. The same
verdicts as validatePhone; nothing is sent and no credentials are needed. Rows without a phone are
counted apart, not as invalid.

  --column NAME          the phone column (default: the one the header names phone, mobile, ...)
  --map COLUMN=phone     the same, as import takes it
  --default-country CC   region of numbers without a country code (default IN)
  --format csv|jsonl     default by extension (.jsonl, .ndjson), else csv
  --delimiter CHAR       CSV separator (default: found from the data among , ; tab |)
  --json                 the report as JSON on stdout

Exit codes: 0 every phone valid, 1 some phone invalid, 2 usage error (no such file or column).`;

const FLAGS = {
  column: { type: "string" },
  map: { type: "string", multiple: true },
  "default-country": { type: "string" },
  format: { type: "string" },
  delimiter: { type: "string" },
  json: { type: "boolean" },
};
const CMD = "validate";
const BATCH = 8192;

export async function run(argv, { stdout = process.stdout } = {}) {
  const { values: o, positionals } = parseFlags(argv, FLAGS, CMD);
  if (o.help) {
    stdout.write(HELP + "\n");
    return EXIT.ok;
  }
  const file = fileArgument(positionals, CMD);
  const defaultCountry = (o["default-country"] ?? "IN").toUpperCase();
  if (!/^[A-Z]{2}$/.test(defaultCountry)) throw new UsageError(`--default-country must be a two-letter region code (got "${o["default-country"]}")`, CMD);
  const maps = parseMaps(o.map, CMD);
  if (o.column !== undefined) maps.push([o.column, { field: "phone" }]);
  if (maps.some(([, t]) => t.field !== "phone")) throw new UsageError("validate maps only the phone column: --map COLUMN=phone (or --column COLUMN)", CMD);
  const format = detectFormat(file, o.format, CMD);
  const source = new Source(file, { format, delimiter: delimiterOf(o.delimiter, CMD), maps, hash: false, command: CMD });

  const t0 = performance.now();
  const report = { rows: 0, noPhone: 0, valid: 0, invalid: 0, reasons: new Map(), regions: new Map() };
  let col = -2;
  let phones = [];
  let rows = [];
  const check = () => {
    if (!phones.length) return;
    const verdicts = validatePhones(phones, { defaultCountry });
    for (let i = 0; i < verdicts.length; i++) {
      const v = verdicts[i];
      const region = v.region ?? "?";
      let r = report.regions.get(region);
      if (!r) {
        r = { valid: 0, invalid: 0 };
        report.regions.set(region, r);
      }
      if (v.valid) {
        report.valid++;
        r.valid++;
        continue;
      }
      report.invalid++;
      r.invalid++;
      let e = report.reasons.get(v.reason);
      if (!e) {
        e = { count: 0, rows: [], message: v.message };
        report.reasons.set(v.reason, e);
      }
      e.count++;
      if (e.rows.length < 5) e.rows.push(rows[i]);
    }
    phones = [];
    rows = [];
  };
  for await (const batch of source.batches()) {
    if (col === -2 && format === "csv") {
      col = source.phoneColumn();
      if (col < 0) throw new UsageError(`${file} has no phone column (its columns: ${source.header.join(", ")}): name it with --column NAME`, CMD);
    }
    for (const rec of batch) {
      report.rows++;
      let phone;
      if (format === "csv") phone = rec.values[col];
      else {
        const { lead } = source.leadOf(rec);
        phone = lead?.phone;
      }
      if (typeof phone !== "string" || phone.trim() === "") {
        report.noPhone++;
        continue;
      }
      phones.push(phone);
      rows.push(rec.row);
    }
    if (phones.length >= BATCH) check();
  }
  check();
  if (col === -2 && format === "csv" && source.phoneColumn() < 0) {
    throw new UsageError(`${file} has no phone column (its columns: ${source.header.join(", ")}): name it with --column NAME`, CMD);
  }
  const ms = performance.now() - t0;

  if (o.json) {
    stdout.write(
      JSON.stringify({
        file,
        rows: report.rows,
        phones: report.valid + report.invalid,
        valid: report.valid,
        invalid: report.invalid,
        noPhone: report.noPhone,
        reasons: Object.fromEntries([...report.reasons].map(([k, e]) => [k, { count: e.count, rows: e.rows }])),
        regions: Object.fromEntries(report.regions),
        durationMs: Math.round(ms),
      }) + "\n",
    );
  } else {
    const checked = report.valid + report.invalid;
    const column = format === "csv" ? ` (column "${source.header[source.phoneColumn()]}")` : "";
    const lines = [`vox-crm validate ${file}${column}: ${int(report.rows)} rows in ${duration(ms)} (${rate(report.rows, ms)} rows/s)`];
    lines.push(
      table([
        ["valid", int(report.valid), pct(report.valid, checked)],
        ["invalid", int(report.invalid), pct(report.invalid, checked)],
        ...(report.noPhone ? [["no phone", int(report.noPhone), "rows without a phone (not counted above)"]] : []),
      ]),
    );
    const reasons = [...report.reasons].sort((a, b) => b[1].count - a[1].count);
    if (reasons.length)
      lines.push(
        table(
          reasons.map(([reason, e]) => [reason, int(e.count), `rows ${e.rows.join(", ")}${e.count > e.rows.length ? ", …" : ""}`]),
          { indent: "    " },
        ),
      );
    const regions = [...report.regions].sort((a, b) => b[1].valid + b[1].invalid - (a[1].valid + a[1].invalid));
    if (regions.length) {
      lines.push("  by region");
      lines.push(
        table(
          regions.slice(0, 20).map(([r, c]) => [r === "?" ? "(none)" : r, int(c.valid), int(c.invalid), pct(c.valid + c.invalid, checked)]),
          { indent: "    ", header: ["", "valid", "invalid", "share"] },
        ),
      );
      if (regions.length > 20) lines.push(`    … ${regions.length - 20} more regions (--json lists them all)`);
    }
    stdout.write(lines.join("\n") + "\n");
  }
  return report.invalid ? EXIT.failed : EXIT.ok;
}
