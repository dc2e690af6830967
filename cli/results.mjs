// Owns the results file of `vox-crm import`: a CSV with one line per input row, in row order —
//   row,status,leadId,referenceId,code,message,hash
// `status` is created, failed or unknown; `leadId` the created lead's id; `code` and `message` say
// why a row failed or is unknown (phones in messages are masked); `hash` fingerprints the row's
// content so that --resume refuses a file that changed. It is written to FILE.partial as the
// import goes (synchronous writes: a Ctrl-C loses nothing written) and renamed over FILE at the end;
// reading it back (for --resume) also reads a FILE.partial left by a run that was killed.
import { closeSync, existsSync, openSync, readFileSync, renameSync, writeSync } from "node:fs";
import Papa from "papaparse";
import { UsageError } from "./args.mjs";

export const COLUMNS = ["row", "status", "leadId", "referenceId", "code", "message", "hash"];
const STATUSES = new Set(["created", "failed", "unknown"]);

export class ResultsWriter {
  constructor(path) {
    this.path = path;
    this.partial = `${path}.partial`;
    try {
      this.fd = openSync(this.partial, "w");
    } catch (err) {
      throw new UsageError(`cannot write the results file ${this.partial}: ${err.message}`);
    }
    this.lines = 0;
    writeSync(this.fd, COLUMNS.join(",") + "\n");
  }

  /** Appends results ({ row, status, leadId?, referenceId?, code?, message?, hash }), in row order. */
  write(results) {
    if (!results.length) return;
    const text = Papa.unparse(
      results.map((r) => COLUMNS.map((c) => r[c] ?? "")),
      { header: false, newline: "\n" },
    );
    writeSync(this.fd, text + "\n");
    this.lines += results.length;
  }

  /** Closes the file and puts it in place of `path`. */
  commit() {
    closeSync(this.fd);
    renameSync(this.partial, this.path);
  }
}

function readOne(path, into) {
  const text = readFileSync(path, "utf8").replace(/^\uFEFF/, "");
  const parsed = Papa.parse(text, { header: true, skipEmptyLines: true });
  const fields = parsed.meta.fields ?? [];
  for (const c of ["row", "status", "hash"]) {
    if (!fields.includes(c)) throw new UsageError(`${path} is not a results file of vox-crm import (it has no "${c}" column)`);
  }
  for (const r of parsed.data) {
    const row = Number(r.row);
    // A line cut short by a killed run is left out (its row counts as never sent).
    if (!Number.isInteger(row) || row < 1 || !STATUSES.has(r.status) || !/^[0-9a-f]{12}$/.test(r.hash ?? "")) continue;
    into.set(row, {
      row,
      status: r.status,
      leadId: r.leadId || undefined,
      referenceId: r.referenceId || undefined,
      code: r.code || undefined,
      message: r.message || undefined,
      hash: r.hash,
    });
  }
}

/**
 * The results of an earlier run: Map(row -> result). A FILE.partial beside it (a run that was killed
 * before it could finish the file) is read after it, its lines winning.
 */
export function readResults(path) {
  if (!existsSync(path) && !existsSync(`${path}.partial`)) throw new UsageError(`--resume: no results file ${path}`);
  const out = new Map();
  try {
    if (existsSync(path)) readOne(path, out);
    if (existsSync(`${path}.partial`)) readOne(`${path}.partial`, out);
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw new UsageError(`cannot read the results file ${path}: ${err.message}`);
  }
  return out;
}
