// Owns reading an input file of leads: CSV (papaparse: quoted fields with separators and line
// breaks, a BOM, `,` `;` tab or `|` found from the data, a header row) or JSON Lines (one object a
// line), streamed in batches of records with backpressure; which column feeds which lead field
// (defaults by header name, --map COLUMN=FIELD); and a record's lead and fingerprint.
//
// A record is { row, values, hash }: `row` counts data records from 1 (the header and empty lines
// are not rows), `values` the CSV cells or the JSON object, `hash` a fingerprint of its content that
// the results file keeps, so that --resume can tell the file it is given from another.

import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { createInterface } from "node:readline";
import Papa from "papaparse";
import { UsageError } from "./args.mjs";

export const LEAD_FIELDS = ["name", "firstName", "lastName", "phone", "email", "referenceId", "processId", "groupId"];

/** Header names (lowercase, letters and digits only) that map to a field without --map. */
const ALIASES = new Map(
  Object.entries({
    name: ["name", "fullname", "leadname", "contactname", "customername", "customer", "contact"],
    firstName: ["firstname", "first", "givenname", "forename"],
    lastName: ["lastname", "last", "surname", "familyname"],
    phone: [
      "phone",
      "phonenumber",
      "phoneno",
      "mobile",
      "mobilenumber",
      "mobileno",
      "mobilephone",
      "cell",
      "cellphone",
      "telephone",
      "tel",
      "contactnumber",
      "whatsapp",
      "msisdn",
    ],
    email: ["email", "emailaddress", "mail"],
    referenceId: ["referenceid", "reference", "ref", "refid", "externalid", "crmid"],
    processId: ["processid"],
    groupId: ["groupid", "group"],
  }).flatMap(([field, names]) => names.map((n) => [n, field])),
);

export const normHeader = (h) =>
  String(h)
    .normalize("NFKC")
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]/gu, "");

/** A --map target: { field }, { metadata: key } or { skip: true }. */
function targetOf(spec, command) {
  const t = spec.trim();
  if (/^(skip|ignore|-)$/i.test(t)) return { skip: true };
  const m = /^(?:metadata|meta)\.(.+)$/i.exec(t);
  if (m) return { metadata: m[1].trim() };
  const field = LEAD_FIELDS.find((f) => f.toLowerCase() === t.toLowerCase());
  if (field) return { field };
  throw new UsageError(`--map: unknown field "${t}" (fields: ${LEAD_FIELDS.join(", ")}, metadata.KEY, or skip)`, command);
}

/** --map COLUMN=FIELD entries, in order: [[column, target]]. */
export function parseMaps(list = [], command) {
  return list.map((entry) => {
    const eq = entry.lastIndexOf("=");
    if (eq <= 0) throw new UsageError(`--map takes COLUMN=FIELD, e.g. --map "Mobile No=phone" (got "${entry}")`, command);
    return [entry.slice(0, eq).trim(), targetOf(entry.slice(eq + 1), command)];
  });
}

/** The target of a column (or JSON key) named `name` without --map: a field, metadata.KEY, or null. */
function defaultTarget(name) {
  const m = /^(?:metadata|meta)[.:](.+)$/i.exec(name.trim());
  if (m) return { metadata: m[1].trim() };
  const field = ALIASES.get(normHeader(name));
  return field ? { field } : null;
}

const describe = (t) => (t.skip ? "skipped" : (t.field ?? `metadata.${t.metadata}`));

/**
 * Which column feeds what, for a CSV header: [{ name, target, how }] per column; `how` is "--map",
 * "header" or null (ignored). Two columns on one field, or a --map naming no column, are UsageErrors.
 */
export function mapColumns(header, maps, command) {
  const cols = header.map((name) => ({ name, target: null, how: null }));
  for (const [column, target] of maps) {
    let i = header.indexOf(column);
    if (i < 0) i = header.findIndex((h) => normHeader(h) === normHeader(column));
    if (i < 0) throw new UsageError(`--map ${column}=…: the header has no column "${column}" (its columns: ${header.join(", ")})`, command);
    cols[i].target = target;
    cols[i].how = "--map";
  }
  for (const c of cols) {
    if (c.how) continue;
    c.target = defaultTarget(c.name);
    if (c.target) c.how = "header";
  }
  const owner = new Map();
  for (const c of cols) {
    if (!c.target || c.target.skip) continue;
    const key = describe(c.target);
    if (owner.has(key)) {
      throw new UsageError(
        `columns "${owner.get(key)}" and "${c.name}" both map to ${key}: pick one with --map "${c.name}=skip" (or map it elsewhere)`,
        command,
      );
    }
    owner.set(key, c.name);
  }
  return cols;
}

/** The mapping as people read it: "phone → phone, Mobile → phone (--map); ignored: City". */
export function mappingText(cols) {
  const used = cols.filter((c) => c.target && !c.target.skip).map((c) => `${c.name} → ${describe(c.target)}${c.how === "--map" ? " (--map)" : ""}`);
  const ignored = cols.filter((c) => !c.target || c.target.skip).map((c) => c.name || "(unnamed)");
  return { used, ignored };
}

const put = (lead, target, value) => {
  if (target.field) lead[target.field] = value;
  else {
    lead.metadata ??= {};
    lead.metadata[target.metadata] = value;
  }
};

/**
 * The lead of a CSV record (cells trimmed, empty ones left out), or { error } when the record has
 * more cells than the header. `processId` fills in a lead that has none of its own.
 */
export function csvLead(values, cols, processId) {
  if (values.length > cols.length) {
    return { error: { code: "invalid_row", message: `The row has ${values.length} fields, the header ${cols.length}` } };
  }
  const lead = {};
  for (let i = 0; i < values.length; i++) {
    const t = cols[i].target;
    if (!t || t.skip) continue;
    const v = values[i].trim();
    if (v !== "") put(lead, t, v);
  }
  if (lead.processId === undefined && processId) lead.processId = processId;
  return { lead };
}

/**
 * The lead of a JSON Lines record: keys mapped like CSV headers (--map applies to keys), a
 * `metadata` object merged, numbers given as text; a line that is not an object is { error }.
 */
export function jsonLead(value, maps, processId) {
  if (value === null || typeof value !== "object" || Array.isArray(value) || value instanceof SyntaxError) {
    return { error: { code: "invalid_row", message: value instanceof SyntaxError ? `Not JSON: ${value.message}` : "The line is not a JSON object" } };
  }
  const explicit = new Map(maps.map(([k, t]) => [k, t]));
  const lead = {};
  for (const [key, v] of Object.entries(value)) {
    if (key === "metadata" && v && typeof v === "object" && !Array.isArray(v) && !explicit.has(key)) {
      lead.metadata = { ...v, ...lead.metadata };
      continue;
    }
    const t = explicit.get(key) ?? defaultTarget(key);
    if (!t || t.skip || v === null || v === undefined) continue;
    const text = typeof v === "string" ? v.trim() : typeof v === "number" || typeof v === "boolean" ? String(v) : v;
    if (text === "") continue;
    if (t.field) lead[t.field] = text;
    else {
      lead.metadata ??= {};
      lead.metadata[t.metadata] = text;
    }
  }
  if (lead.processId === undefined && processId) lead.processId = processId;
  return { lead };
}

const fingerprint = (text) => createHash("sha1").update(text).digest("hex").slice(0, 12);

/** "csv" or "jsonl": --format, else by the file's extension (.jsonl, .ndjson), else CSV. */
export function detectFormat(file, flag, command) {
  if (flag !== undefined) {
    const f = flag.toLowerCase();
    if (f === "csv" || f === "jsonl") return f;
    throw new UsageError(`--format must be csv or jsonl (got "${flag}")`, command);
  }
  return /\.(jsonl|ndjson)$/i.test(file) ? "jsonl" : "csv";
}

/** A --delimiter value: one character; "tab" and "\t" mean a tab. */
export function delimiterOf(flag, command) {
  if (flag === undefined) return undefined;
  const d = flag === "tab" || flag === "\\t" ? "\t" : flag;
  if (d.length !== 1 || d === '"' || d === "\n" || d === "\r")
    throw new UsageError(`--delimiter must be one character, e.g. ";" or tab (got "${flag}")`, command);
  return d;
}

/**
 * The batches of records of a CSV file (the first record is the header, given to `onHeader(cells)`
 * first): async iterator of [{ row, values, hash }]. A broken quote stops it with a UsageError
 * naming the row.
 */
async function* csvBatches(file, { delimiter, hash, onHeader, command }) {
  const queue = [];
  let done = false;
  let error = null;
  let wake = null;
  const stream = createReadStream(file, { encoding: "utf8", highWaterMark: 256 * 1024 });
  stream.on("error", (err) => {
    error = err;
    wake?.();
  });
  Papa.parse(stream, {
    delimiter: delimiter ?? "",
    delimitersToGuess: [",", ";", "\t", "|"],
    skipEmptyLines: true,
    chunk(res) {
      queue.push(res);
      if (queue.length >= 4 && !stream.isPaused()) stream.pause(); // the consumer is behind: wait for it
      wake?.();
    },
    complete() {
      done = true;
      wake?.();
    },
    error(err) {
      error = err;
      wake?.();
    },
  });
  let row = 0; // data rows so far (the header is row 0)
  let header = null;
  try {
    for (;;) {
      if (queue.length) {
        const res = queue.shift();
        const broken = res.errors.find((e) => e.type === "Quotes");
        if (broken) {
          const at = row + (header ? 1 : 0) + (broken.row ?? 0);
          throw new UsageError(
            `${file}: row ${at}: ${broken.message.toLowerCase()} (a " that opens a field must close it; a " inside a quoted field is written "")`,
            command,
          );
        }
        let data = res.data;
        if (header === null && data.length) {
          header = data[0].map((h, i) => (i === 0 ? h.replace(/^\uFEFF/, "") : h).trim());
          onHeader(header);
          data = data.slice(1);
        }
        const batch = new Array(data.length);
        for (let i = 0; i < data.length; i++) {
          const values = data[i];
          row++;
          batch[i] = { row, values, hash: hash ? fingerprint(values.join("\u001f")) : undefined };
        }
        if (batch.length) yield batch;
        continue;
      }
      if (error) throw error instanceof UsageError ? error : new UsageError(`cannot read ${file}: ${error.message}`, command);
      if (done) break;
      if (stream.isPaused()) stream.resume();
      await new Promise((r) => {
        wake = r;
      });
      wake = null;
    }
  } finally {
    stream.destroy();
  }
  if (header === null) throw new UsageError(`${file} is empty: a CSV file starts with a header row (e.g. name,phone,email)`, command);
}

/** The batches of records of a JSON Lines file: values are the parsed objects (or the SyntaxError). */
async function* jsonlBatches(file, { hash, onHeader, command }) {
  const stream = createReadStream(file, { encoding: "utf8", highWaterMark: 256 * 1024 });
  const lines = createInterface({ input: stream, crlfDelay: Infinity });
  let row = 0;
  let batch = [];
  onHeader(null);
  try {
    for await (let line of lines) {
      if (row === 0) line = line.replace(/^\uFEFF/, "");
      if (line.trim() === "") continue;
      row++;
      let values;
      try {
        values = JSON.parse(line);
      } catch (err) {
        values = err;
      }
      batch.push({ row, values, hash: hash ? fingerprint(line.trim()) : undefined });
      if (batch.length >= 2000) {
        yield batch;
        batch = [];
      }
    }
  } catch (err) {
    throw new UsageError(`cannot read ${file}: ${err.message}`, command);
  } finally {
    stream.destroy();
  }
  if (batch.length) yield batch;
}

/**
 * One input file: `batches()` streams its records (again on each call), after which `header` (CSV)
 * and `columns` (the mapping) are known; `leadOf(record)` gives { lead } or { error }.
 */
export class Source {
  constructor(file, { format, delimiter, maps = [], processId, hash = true, command }) {
    Object.assign(this, { file, format, delimiter, maps, processId, hash, command });
    this.header = null;
    this.columns = null;
  }

  batches() {
    const onHeader = (header) => {
      if (header === null || this.header) return;
      this.header = header;
      this.columns = mapColumns(header, this.maps, this.command);
    };
    const opts = { delimiter: this.delimiter, hash: this.hash, onHeader, command: this.command };
    return this.format === "jsonl" ? jsonlBatches(this.file, opts) : csvBatches(this.file, opts);
  }

  leadOf(record) {
    return this.format === "jsonl" ? jsonLead(record.values, this.maps, this.processId) : csvLead(record.values, this.columns, this.processId);
  }

  /** The column of the phone (CSV), for the phone report; -1 when there is none. */
  phoneColumn() {
    return this.columns ? this.columns.findIndex((c) => c.target?.field === "phone") : -1;
  }
}
