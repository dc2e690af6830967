// Owns `vox-crm import FILE`: leads from a CSV or JSON Lines file into a process, through the
// library's bulkInitiateLeads (its rate limiter, duplicate guard, retries and reconciliation).
//
//   1. plan    reads the whole file once, sending nothing: maps each row to a lead, validates it
//              (validateLead), finds rows that repeat an earlier row's phone, email or referenceId,
//              and with --resume matches every row to the results file (same content, by hash).
//              --dry-run stops here with the report.
//   2. check   one request (a query of one lead) proves the address and the credentials; with
//              --resume, the rows an earlier run left unknown are looked up (by referenceId, else
//              phone, else email; an index of the project when that costs fewer requests): found
//              means created, not found means they are sent, a failed lookup leaves them unknown
//              and unsent.
//   3. send    reads the file again and sends the rows in batches (one bulk call each), writing the
//              results file in row order as each batch ends; a progress bar on a terminal.
//
// Ctrl-C (or SIGTERM) once: no new request goes out (the client's fetch holds every new POST); the
// ones on the wire are answered and accounted; then the bulk is aborted, so the held requests end
// — never sent, reported `failed` with code `aborted` — and the remaining rows are written as not
// sent. Twice: the requests on the wire are aborted too (their rows `unknown`), the rows read so far
// are written, and it exits at once. Exit codes: 0 every row created, 1 a row failed or is unknown,
// 2 usage or settings, 130 interrupted.
import { existsSync } from "node:fs";
import {
  apiErrorText,
  CONFIG_CODES,
  CONNECTION_FLAGS,
  CONNECTION_HELP,
  CommandError,
  connection,
  EXIT,
  fileArgument,
  intOption,
  isObjectId,
  makeClient,
  parseFlags,
  UsageError,
} from "../args.mjs";
import { duration, int, pct, rate, table } from "../format.mjs";
import { createProgress } from "../progress.mjs";
import { ResultsWriter, readResults } from "../results.mjs";
import { delimiterOf, detectFormat, mappingText, parseMaps, Source } from "../source.mjs";
import { VoxError, validateLead, validatePhones } from "../vox.mjs";

export const HELP = `Usage: vox-crm import FILE --process ID [options]

Creates a lead for every row of FILE (CSV with a header row, or JSON Lines) in process ID, and writes
a results file with one line per row. Rows are checked locally first (phones, required fields,
duplicates inside the file); the API's rate limit and duplicate protection are kept to.

  --process ID           the process (24 hex digits) of rows that name none (a processId column wins)
  --map COLUMN=FIELD     feed FIELD from COLUMN (repeatable). Fields: name, firstName, lastName, phone,
                         email, referenceId, processId, groupId, metadata.KEY, or skip. Without it,
                         columns are matched by header name (phone, mobile, e-mail, first name, ref,
                         ...; metadata.KEY columns go to metadata); others are ignored (listed).
  --dry-run              check every row and print the report; sends nothing, needs no credentials
  --results FILE         where the results go (default FILE.results.csv; refuses to overwrite)
  --resume RESULTS       continue an earlier import of the same FILE: rows created are skipped, rows
                         left unknown are looked up first (never sent twice), failed ones are kept
                         (except not sent / rate limited / key blocked, which are sent)
  --retry-failed         with --resume: send the failed rows again too
  --force                overwrite an existing results file
  --no-init              create the leads in state "new" (no call is scheduled)
  --default-country CC   region of numbers without a country code (default IN)
  --format csv|jsonl     default by extension (.jsonl, .ndjson), else csv
  --delimiter CHAR       CSV separator (default: found from the data among , ; tab |)
  --chunk-size N         leads per request, 1..1000 (default 1000)
  --concurrency N        requests at once (default 4)
  --batch-size N         rows per bulk call (default 100000)
  --json                 the summary as JSON on stdout
  --quiet                no progress display

${CONNECTION_HELP}

Results file (CSV): row,status,leadId,referenceId,code,message,hash — row 1 is the first record after
the header; status is created, failed or unknown (outcome unknown after a network failure: --resume
settles it); code and message say why (phones masked); hash fingerprints the row for --resume.

Exit codes: 0 every row created, 1 some row failed or is unknown, 2 usage or settings error
(nothing sent), 130 interrupted by Ctrl-C (the results file is written; --resume continues).

Ctrl-C stops sending: requests on the wire are answered and accounted, the results are written.
Ctrl-C again quits at once (rows on the wire are then unknown).

Examples:
  vox-crm import leads.csv --process 6650a1b2c3d4e5f6012345a1 --dry-run
  vox-crm import leads.csv --process 6650a1b2c3d4e5f6012345a1 --map "Mobile No=phone" --map City=metadata.city
  vox-crm import leads.csv --process 6650a1b2c3d4e5f6012345a1 --resume leads.csv.results.csv`;

const FLAGS = {
  ...CONNECTION_FLAGS,
  process: { type: "string" },
  map: { type: "string", multiple: true },
  format: { type: "string" },
  delimiter: { type: "string" },
  "default-country": { type: "string" },
  "dry-run": { type: "boolean" },
  "no-init": { type: "boolean" },
  results: { type: "string" },
  resume: { type: "string" },
  "retry-failed": { type: "boolean" },
  force: { type: "boolean" },
  "chunk-size": { type: "string" },
  concurrency: { type: "string" },
  "batch-size": { type: "string" },
  json: { type: "boolean" },
  quiet: { type: "boolean" },
};

const CMD = "import";
/** Failed rows that --resume sends again without --retry-failed: they were surely not created. */
const RESENT_ON_RESUME = new Set(["aborted", "rate_limited", "key_blocked"]);
const NOT_SENT = "Not sent: the import was interrupted";

const failedResult = (code, message) => ({ status: "failed", code, message });

/** The dedupe keys of a valid lead: its phone (E.164), email (lowercase), and referenceId in its process. */
function keysOf(lead, phoneCheck) {
  const keys = [];
  if (lead.phone !== undefined && phoneCheck.valid) keys.push(["phone", `p\u0000${phoneCheck.e164}`]);
  if (typeof lead.email === "string") keys.push(["email", `e\u0000${lead.email.trim().toLowerCase()}`]);
  if (typeof lead.referenceId === "string") keys.push(["referenceId", `r\u0000${lead.processId}\u0000${lead.referenceId}`]);
  return keys;
}

/** Up to `max` row numbers of a list, for a report line. */
const someRows = (rows, count, max = 5) => `row${count > 1 ? "s" : ""} ${rows.slice(0, max).join(", ")}${count > max ? ", …" : ""}`;

function countInto(map, key, row) {
  const e = map.get(key) ?? { count: 0, rows: [] };
  e.count++;
  if (e.rows.length < 5) e.rows.push(row);
  map.set(key, e);
}

/**
 * Step 1: every row read and decided locally. Returns { decided: Map(row -> result), toResolve:
 * [{ row, lead }], stats }; rows in neither are sent.
 */
async function plan(source, { prior, resumePath, retryFailed, defaultCountry, stop }) {
  const decided = new Map();
  const toResolve = [];
  const seen = new Map();
  const stats = {
    rows: 0,
    toSend: 0,
    valid: 0,
    invalid: new Map(),
    invalidRows: 0,
    duplicates: { count: 0, rows: [] },
    regions: new Map(),
    before: { created: 0, failed: 0, unknown: 0, resent: 0 },
  };
  for await (const batch of source.batches()) {
    if (stop.requested) throw new CommandError("Interrupted while reading the file: nothing was sent", EXIT.interrupted);
    const items = batch.map((rec) => ({ rec, ...source.leadOf(rec) }));
    const checks = validatePhones(
      items.map((it) => (typeof it.lead?.phone === "string" ? it.lead.phone : "")),
      { defaultCountry },
    );
    for (let k = 0; k < items.length; k++) {
      const { rec, lead, error } = items[k];
      const { row } = rec;
      stats.rows++;
      const before = prior?.get(row);
      if (before && before.hash !== rec.hash) {
        throw new UsageError(
          `row ${row} of ${source.file} is not the row that ${resumePath} recorded: the file changed since that import (--resume needs the same file)`,
          CMD,
        );
      }
      if (error) {
        decided.set(row, failedResult(error.code, error.message));
        stats.invalidRows++;
        countInto(stats.invalid, error.code, row);
        continue;
      }
      const referenceId = typeof lead.referenceId === "string" ? lead.referenceId : undefined;
      if (before?.status === "created" || (before?.status === "failed" && !retryFailed && !RESENT_ON_RESUME.has(before.code))) {
        decided.set(row, before);
        stats.before[before.status]++;
        if (before.status === "created") for (const [, key] of keysOf(lead, checks[k])) if (!seen.has(key)) seen.set(key, row);
        continue;
      }
      const v = validateLead(lead, { defaultCountry });
      if (!v.valid) {
        decided.set(row, { ...failedResult("validation_error", v.errors.map((e) => `${e.field}: ${e.message}`).join("; ")), referenceId });
        stats.invalidRows++;
        for (const e of v.errors) countInto(stats.invalid, `${e.field}: ${e.code}`, row);
        continue;
      }
      const keys = keysOf(lead, checks[k]);
      const dup = keys.find(([, key]) => seen.has(key));
      if (dup) {
        decided.set(row, { ...failedResult("duplicate_in_file", `Same ${dup[0]} as row ${seen.get(dup[1])}: not sent`), referenceId });
        stats.duplicates.count++;
        if (stats.duplicates.rows.length < 5) stats.duplicates.rows.push(row);
        continue;
      }
      for (const [, key] of keys) seen.set(key, row);
      stats.valid++;
      if (checks[k].valid) stats.regions.set(checks[k].region ?? "?", (stats.regions.get(checks[k].region ?? "?") ?? 0) + 1);
      if (before?.status === "unknown") {
        stats.before.unknown++;
        toResolve.push({ row, lead, before });
      } else if (before) {
        stats.before.resent++;
      }
      stats.toSend++;
    }
  }
  if (prior) {
    const beyond = [...prior.keys()].find((row) => row > stats.rows);
    if (beyond) throw new UsageError(`${resumePath} has row ${beyond}, ${source.file} only ${stats.rows} rows: the file changed since that import`, CMD);
  }
  return { decided, toResolve, stats };
}

function dryRunReport(file, source, { stats }, { processId }) {
  const rows = [["rows", int(stats.rows), ""]];
  if (stats.before.created || stats.before.failed)
    rows.push(["done before", int(stats.before.created + stats.before.failed), `kept from the results file (${int(stats.before.created)} created)`]);
  rows.push(["valid", int(stats.valid), `would be sent${processId ? ` to process ${processId}` : ""}`]);
  rows.push(["invalid", int(stats.invalidRows), ""]);
  const reasons = [...stats.invalid.entries()].sort((a, b) => b[1].count - a[1].count);
  for (const [reason, e] of reasons) rows.push([`  ${reason}`, int(e.count), someRows(e.rows, e.count)]);
  rows.push([
    "duplicates",
    int(stats.duplicates.count),
    stats.duplicates.count ? `same phone, email or referenceId as an earlier row: ${someRows(stats.duplicates.rows, stats.duplicates.count)}` : "",
  ]);
  const regions = [...stats.regions.entries()].sort((a, b) => b[1] - a[1]);
  if (regions.length)
    rows.push([
      "phones",
      "",
      `${regions
        .slice(0, 8)
        .map(([r, n]) => `${r} ${int(n)}`)
        .join(" · ")}${regions.length > 8 ? " · …" : ""}`,
    ]);
  rows.push(...columnRows(source));
  return [`vox-crm import ${file} --dry-run: nothing was sent`, table(rows)].join("\n");
}

function columnRows(source) {
  if (!source.columns) return [];
  const { used, ignored } = mappingText(source.columns);
  const out = [["columns", "", used.join(", ") || "none mapped"]];
  if (ignored.length) out.push(["ignored", "", `${ignored.join(", ")} (map them with --map "COLUMN=metadata.KEY")`]);
  return out;
}

/**
 * The client's fetch during an import: it can hold every new POST (never sent) while the POSTs on
 * the wire finish. A POST counts as on the wire from the call until the client has taken its
 * answer (its "response" log event) or its failure (the turn after it rejected).
 */
function createGate(baseFetch = (...a) => globalThis.fetch(...a)) {
  const gate = {
    holding: false,
    onWire: 0,
    async fetch(url, init = {}) {
      const post = String(init.method ?? "GET").toUpperCase() === "POST";
      if (post && gate.holding) {
        // Never sent: it waits for the abort that ends the bulk.
        return new Promise((_, reject) => {
          const fail = () => reject(new DOMException("This operation was aborted", "AbortError"));
          if (init.signal?.aborted) fail();
          else init.signal?.addEventListener("abort", fail, { once: true });
        });
      }
      if (!post) return baseFetch(url, init);
      gate.onWire++;
      let answered = false;
      try {
        const res = await baseFetch(url, init);
        // The body is read here, so that the client takes the answer in the same turn.
        const body = [101, 204, 205, 304].includes(res.status) ? null : await res.arrayBuffer();
        const headers = new Headers(res.headers);
        headers.delete("content-encoding");
        answered = true;
        return new Response(body, { status: res.status, statusText: res.statusText, headers });
      } finally {
        if (!answered)
          setImmediate(() => {
            gate.onWire--;
          });
      }
    },
    logger(event) {
      if (event.type === "response" && event.method === "POST") gate.onWire--;
    },
  };
  return gate;
}

/** Lookup of the leads an earlier run left unknown: Map(row -> result); rows not in it were not created. */
async function resolveUnknown(client, entries, total, { defaultCountry, stop, log }) {
  const out = new Map();
  let requests = 0;
  const found = (e, how, leadId) =>
    out.set(e.row, { status: "created", leadId, referenceId: e.lead.referenceId, message: `Found by its ${how} on --resume: created by an earlier run` });
  const still = (e, err) => out.set(e.row, { ...e.before, message: `Still unknown: the lookup failed (${err.code}: ${err.message}); not sent` });
  const phoneOf = (lead) => {
    if (typeof lead.phone !== "string") return null;
    const [c] = validatePhones([lead.phone], { defaultCountry });
    return c.valid ? c.e164 : null;
  };
  const emailOf = (lead) => (typeof lead.email === "string" ? lead.email.trim().toLowerCase() : null);
  if (total !== null && Math.ceil(total / 100) < entries.length) {
    // Fewer requests to read the project's leads once than to look each row up.
    log(`resume: reading the project's ${int(total)} leads to settle ${int(entries.length)} unknown rows`);
    const byRef = new Map(),
      byPhone = new Map(),
      byEmail = new Map();
    try {
      for await (const l of client.iterateLeads({ limit: 100, order: "asc" })) {
        if (stop.requested) throw new VoxError("aborted", "Interrupted");
        if (l.referenceId) byRef.set(`${l.processId}\u0000${l.referenceId}`, l._id);
        if (l.phone) byPhone.set(l.phone, l._id);
        if (l.email) byEmail.set(String(l.email).toLowerCase(), l._id);
      }
      requests += Math.ceil(total / 100);
    } catch (err) {
      for (const e of entries) still(e, err);
      return { out, requests };
    }
    for (const e of entries) {
      const { lead } = e;
      const ref = lead.referenceId ? byRef.get(`${lead.processId}\u0000${lead.referenceId}`) : undefined;
      const phone = phoneOf(lead);
      const email = emailOf(lead);
      if (ref) found(e, "referenceId", ref);
      else if (!lead.referenceId && phone && byPhone.has(phone)) found(e, "phone", byPhone.get(phone));
      else if (!lead.referenceId && email && byEmail.has(email)) found(e, "email", byEmail.get(email));
    }
    return { out, requests };
  }
  log(`resume: looking up ${int(entries.length)} rows an earlier run left unknown`);
  let next = 0;
  const worker = async () => {
    while (next < entries.length) {
      const e = entries[next++];
      if (stop.requested) {
        still(e, { code: "aborted", message: "interrupted" });
        continue;
      }
      const { lead } = e;
      try {
        if (lead.referenceId) {
          requests++;
          try {
            found(e, "referenceId", (await client.getLead({ referenceId: lead.referenceId, processId: lead.processId }))._id);
          } catch (err) {
            if (!(err instanceof VoxError && err.code === "not_found")) throw err;
          }
          continue;
        }
        // Without a referenceId: the phone, else the email, which the API keeps unique in a project.
        const phone = phoneOf(lead);
        const query = phone ? { phone } : { email: emailOf(lead) };
        requests++;
        const page = await client.queryLeads({ ...query, limit: 1 });
        if (page.leads.length) found(e, phone ? "phone" : "email", page.leads[0]._id);
      } catch (err) {
        still(e, err);
      }
    }
  };
  await Promise.all([worker(), worker(), worker(), worker()]);
  return { out, requests };
}

export async function run(argv, { env = process.env, stdout = process.stdout, stderr = process.stderr } = {}) {
  const { values: o, positionals } = parseFlags(argv, FLAGS, CMD);
  if (o.help) {
    stdout.write(HELP + "\n");
    return EXIT.ok;
  }
  const file = fileArgument(positionals, CMD);

  const dryRun = o["dry-run"] === true;
  const format = detectFormat(file, o.format, CMD);
  const delimiter = delimiterOf(o.delimiter, CMD);
  if (format === "jsonl" && delimiter) throw new UsageError("--delimiter is for CSV files", CMD);
  const maps = parseMaps(o.map, CMD);
  const processId = o.process;
  if (processId !== undefined && !isObjectId(processId))
    throw new UsageError(`--process must be a process id of 24 lowercase hex digits (got "${processId}")`, CMD);
  const defaultCountry = (o["default-country"] ?? "IN").toUpperCase();
  if (!/^[A-Z]{2}$/.test(defaultCountry))
    throw new UsageError(`--default-country must be a two-letter region code, e.g. IN or GB (got "${o["default-country"]}")`, CMD);
  const chunkSize = intOption(o, "chunk-size", undefined, { min: 1, max: 1000, command: CMD });
  const concurrency = intOption(o, "concurrency", undefined, { min: 1, max: 64, command: CMD });
  const batchSize = intOption(o, "batch-size", 100000, { min: 1, command: CMD });
  if (o["retry-failed"] && !o.resume) throw new UsageError("--retry-failed goes with --resume RESULTS", CMD);
  const resumePath = o.resume;
  const resultsPath = o.results ?? resumePath ?? `${file}.results.csv`;
  if (!dryRun && !resumePath && !o.force && existsSync(resultsPath)) {
    throw new UsageError(`${resultsPath} exists (an earlier import?): continue it with --resume ${resultsPath}, or pass --results NEW_FILE or --force`, CMD);
  }
  const prior = resumePath ? readResults(resumePath) : null;
  const conn = dryRun ? null : connection(o, env, CMD);
  const source = new Source(file, { format, delimiter, maps, processId, command: CMD });

  const progressOut = { log: (t) => stderr.write(t + "\n") };
  const stop = { requested: false, hard: false, onFirst: null, onSecond: null };
  const onSignal = () => {
    if (!stop.requested) {
      stop.requested = true;
      stop.onFirst?.();
      return;
    }
    if (!stop.hard) {
      stop.hard = true;
      stop.onSecond?.();
      return;
    }
    process.exit(EXIT.interrupted);
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  try {
    // 1. plan
    const t0 = performance.now();
    const planned = await plan(source, { prior, resumePath, retryFailed: o["retry-failed"] === true, defaultCountry, stop });
    if (format === "csv" && processId === undefined && !source.columns.some((c) => c.target?.field === "processId")) {
      throw new UsageError("no process: pass --process ID (or map a column to processId)", CMD);
    }
    const { stats } = planned;
    if (dryRun) {
      if (o.json) stdout.write(JSON.stringify(dryRunJson(file, source, planned)) + "\n");
      else stdout.write(dryRunReport(file, source, planned, { processId }) + "\n");
      return stats.invalidRows || stats.duplicates.count ? EXIT.failed : EXIT.ok;
    }

    // 2. check
    const gate = createGate();
    const client = makeClient(conn, { defaultCountry, fetch: gate.fetch, logger: gate.logger }, CMD);
    let total;
    try {
      total = (await client.queryLeads({ limit: 1 })).total;
    } catch (err) {
      if (!(err instanceof VoxError)) throw err;
      const what = err.status ? "refused the first request" : "did not answer the first request";
      throw new CommandError(
        `the API at ${client.baseUrl} ${what}: ${apiErrorText(err)}. Nothing was sent.`,
        CONFIG_CODES.has(err.code) ? EXIT.usage : EXIT.failed,
      );
    }
    let requests = 1;
    const resolved = { found: 0, still: 0, absent: 0 };
    if (planned.toResolve.length) {
      const r = await resolveUnknown(client, planned.toResolve, total ?? null, { defaultCountry, stop, log: progressOut.log });
      requests += r.requests;
      for (const [row, result] of r.out) {
        planned.decided.set(row, result);
        stats.toSend--;
        resolved[result.status === "created" ? "found" : "still"]++;
      }
      resolved.absent = planned.toResolve.length - r.out.size;
    }

    // 3. send
    const target = processId ? `process ${processId}` : "the processes the rows name";
    if (!o.json) {
      stderr.write(
        `Importing ${int(stats.toSend)} of ${int(stats.rows)} rows of ${file} into ${target} at ${client.baseUrl}${o["no-init"] ? " (init: false, no calls)" : ""}\n`,
      );
    }
    const progress = createProgress({ total: stats.rows, stream: stderr, quiet: o.quiet === true || o.json === true });
    let sent;
    try {
      sent = await send(source, planned, {
        client,
        gate,
        stop,
        progress,
        resultsPath,
        batchSize,
        init: o["no-init"] ? false : undefined,
        chunkSize,
        concurrency,
      });
    } finally {
      progress.stop(); // also restores the terminal's cursor
    }
    requests += sent.requests;
    const summary = {
      file,
      rows: stats.rows,
      ...sent.tally,
      sent: sent.sent,
      requests,
      durationMs: Math.round(performance.now() - t0),
      results: resultsPath,
      failedBy: Object.fromEntries(sent.failedBy),
      interrupted: stop.requested,
      written: sent.written,
    };
    if (prior)
      summary.resume = {
        createdBefore: stats.before.created,
        failedBefore: stats.before.failed,
        unknownBefore: stats.before.unknown,
        foundCreated: resolved.found,
        stillUnknown: resolved.still,
        resentUnknown: resolved.absent,
        resentFailed: stats.before.resent,
      };
    stdout.write((o.json ? JSON.stringify(summary) : summaryText(summary)) + "\n");
    if (stop.requested) return EXIT.interrupted;
    return summary.failed || summary.unknown ? EXIT.failed : EXIT.ok;
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}

function dryRunJson(file, source, { stats }) {
  return {
    file,
    dryRun: true,
    rows: stats.rows,
    valid: stats.valid,
    invalid: stats.invalidRows,
    invalidBy: Object.fromEntries([...stats.invalid].map(([k, e]) => [k, e.count])),
    duplicates: stats.duplicates.count,
    regions: Object.fromEntries(stats.regions),
    doneBefore: { created: stats.before.created, failed: stats.before.failed },
    columns: source.columns ? mappingText(source.columns) : null,
  };
}

function summaryText(s) {
  const head = `vox-crm import ${s.file}: ${int(s.rows)} rows in ${duration(s.durationMs)}${s.sent ? ` (${rate(s.sent, s.durationMs)} rows/s sent)` : ""}, ${int(s.requests)} request${s.requests === 1 ? "" : "s"}${s.interrupted ? " — interrupted" : ""}`;
  const by = Object.entries(s.failedBy)
    .sort((a, b) => b[1] - a[1])
    .map(([c, n]) => `${c} ${int(n)}`)
    .join(" · ");
  const rows = [
    ["created", int(s.created), pct(s.created, s.rows)],
    ["failed", int(s.failed), by],
    ["unknown", int(s.unknown), s.unknown ? "may exist: --resume looks them up before sending" : ""],
  ];
  if (s.resume) {
    const r = s.resume;
    rows.push([
      "resumed",
      "",
      `kept ${int(r.createdBefore)} created and ${int(r.failedBefore)} failed before; of ${int(r.unknownBefore)} unknown before, ${int(r.foundCreated)} found created, ${int(r.resentUnknown)} not found (sent), ${int(r.stillUnknown)} still unknown`,
    ]);
  }
  rows.push(["results", "", `${s.results}${s.written < s.rows ? ` (rows 1–${int(s.written)}; the others were never sent)` : ""}`]);
  if (s.interrupted) rows.push(["continue", "", `vox-crm import ${s.file} --resume ${s.results} …`]);
  return [head, table(rows)].join("\n");
}

/**
 * Step 3: reads the file again, sends the rows that plan() left to send in batches, writes every
 * row's result in order. Returns { tally, failedBy, sent, requests, written }.
 */
async function send(source, planned, ctx) {
  const { client, gate, stop, progress } = ctx;
  const writer = new ResultsWriter(ctx.resultsPath);
  const tally = { created: 0, failed: 0, unknown: 0 };
  const failedBy = new Map();
  let pending = []; // slots { row, hash, result, lead } waiting to be written, in row order
  let batch = []; // the slots of pending that go in the next bulk call
  let written = 0;
  let sentRows = 0;
  let requests = 0;
  let current = null; // { controller, clean } of the bulk call under way
  let inBatch = { done: 0, created: 0, failed: 0, unknown: 0 };

  const show = () => {
    const decidedPending = pending.length - batch.length;
    progress.update(written + decidedPending + inBatch.done, {
      created: tally.created + inBatch.created,
      failed: tally.failed + inBatch.failed,
      unknown: tally.unknown + inBatch.unknown,
    });
  };
  const writePending = () => {
    const lines = pending.map((s) => {
      const r = s.result;
      tally[r.status]++;
      if (r.status === "failed") failedBy.set(r.code, (failedBy.get(r.code) ?? 0) + 1);
      return { row: s.row, status: r.status, leadId: r.leadId, referenceId: r.referenceId ?? s.referenceId, code: r.code, message: r.message, hash: s.hash };
    });
    writer.write(lines);
    written += lines.length;
    pending = [];
  };

  // Ctrl-C once: hold new POSTs; abort as soon as none is on the wire (checked and done in one turn).
  stop.onFirst = () => {
    gate.holding = true;
    progress.log(`Stopping: no new requests${gate.onWire ? `; waiting for the ${gate.onWire} on the wire` : ""} (Ctrl-C again to quit at once)`);
    const deadline = performance.now() + 65000;
    const tick = () => {
      // Gone, or aborted by a second Ctrl-C: then what was on the wire stays unknown.
      if (!current || current.controller.signal.aborted) return;
      if (gate.onWire <= 0) {
        current.clean = true;
        current.controller.abort();
        return;
      }
      if (performance.now() > deadline) {
        current.controller.abort();
        return;
      }
      setTimeout(tick, 5);
    };
    tick();
  };
  // Twice: abort what is on the wire; if the bulk does not end soon, write what is known and go.
  stop.onSecond = () => {
    progress.log("Quitting: requests on the wire are abandoned (their rows are unknown)");
    current?.controller.abort();
    setTimeout(() => {
      for (const s of pending) s.result ??= { status: "unknown", code: "aborted", message: "Interrupted while being sent" };
      writePending();
      writer.commit();
      progress.stop();
      process.stderr.write(`results: ${ctx.resultsPath} (rows 1–${written})\n`);
      process.exit(EXIT.interrupted);
    }, 3000).unref();
  };
  if (stop.requested) stop.onFirst();

  const flush = async () => {
    if (batch.length && !stop.requested) {
      const leads = batch.map((s) => s.lead);
      current = { controller: new AbortController(), clean: false };
      inBatch = { done: 0, created: 0, failed: 0, unknown: 0 };
      let result;
      try {
        result = await client.bulkInitiateLeads(leads, {
          init: ctx.init,
          chunkSize: ctx.chunkSize,
          concurrency: ctx.concurrency,
          signal: current.controller.signal,
          onProgress: (p) => {
            inBatch = p;
            show();
          },
        });
      } catch (err) {
        // The call itself was refused (no lead accounted): say so for every row, sent or not.
        const info = err instanceof VoxError ? err : { code: "internal_error", message: String(err?.message ?? err) };
        result = { created: [], failed: [], unknown: leads.map((_, index) => ({ index, error: { code: info.code, message: info.message } })), requests: 0 };
      }
      requests += result.requests;
      for (const c of result.created) batch[c.index].result = { status: "created", leadId: c.lead._id };
      for (const f of result.failed) {
        const { code, message, details } = f.error;
        const existing = code === "duplicate_submission" && details && typeof details.leadId === "string" ? ` (lead ${details.leadId})` : "";
        batch[f.index].result = code === "aborted" ? failedResult("aborted", NOT_SENT) : failedResult(code, message + existing);
      }
      for (const u of result.unknown) {
        // After a clean stop nothing was on the wire: an aborted write was one the gate held.
        batch[u.index].result =
          current.clean && u.error.code === "aborted" ? failedResult("aborted", NOT_SENT) : { status: "unknown", code: u.error.code, message: u.error.message };
      }
      sentRows += batch.length - result.failed.filter((f) => f.error.code === "aborted").length;
      current = null;
      inBatch = { done: 0, created: 0, failed: 0, unknown: 0 };
    }
    for (const s of batch) s.result ??= failedResult("aborted", NOT_SENT);
    batch = [];
    writePending();
    show();
  };

  for await (const records of source.batches()) {
    for (const rec of records) {
      const d = planned.decided.get(rec.row);
      if (d) {
        pending.push({ row: rec.row, hash: rec.hash, result: d });
        continue;
      }
      const { lead } = source.leadOf(rec);
      const slot = { row: rec.row, hash: rec.hash, result: stop.requested ? failedResult("aborted", NOT_SENT) : null, lead, referenceId: lead.referenceId };
      pending.push(slot);
      if (!slot.result) batch.push(slot);
      if (batch.length >= ctx.batchSize) await flush();
      if (stop.hard) break;
    }
    if (stop.hard) break;
    if (!batch.length) {
      writePending();
      show();
    }
  }
  await flush();
  writer.commit();
  return { tally, failedBy, sent: sentRows, requests, written };
}
