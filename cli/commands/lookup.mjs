// Owns the quick look-ups: `vox-crm get` (one lead and its activities), `vox-crm query` (leads by
// filter, a page or --all) and `vox-crm activity` (one activity), each as text for people or
// --json for scripts.

import {
  apiErrorText,
  CONFIG_CODES,
  CONNECTION_FLAGS,
  CONNECTION_HELP,
  CommandError,
  connection,
  EXIT,
  intOption,
  isObjectId,
  makeClient,
  parseFlags,
  UsageError,
} from "../args.mjs";
import { int, table } from "../format.mjs";
import { VoxError } from "../vox.mjs";

const EXIT_TEXT = "Exit codes: 0 found, 1 not found or the API failed, 2 usage or settings error.";

export const GET_HELP = `Usage: vox-crm get LEAD_ID [options]
       vox-crm get --reference REF --process ID [options]

One lead with its activities (calls, state changes).

  --reference REF    find it by its referenceId (with --process)
  --process ID       the process of the referenceId
  --masked           ask the API to mask the phone numbers
  --json             the lead as the API sent it (JSON)

${CONNECTION_HELP}

${EXIT_TEXT}`;

export const QUERY_HELP = `Usage: vox-crm query [filters] [options]

Leads of the project, newest first: one page (--page, --limit), or every page with --all.

Filters: --process ID, --state STATE, --disposition D, --group ID, --reference REF, --phone PHONE,
         --email EMAIL, --created-from DATE, --created-to DATE, --updated-from DATE, --updated-to DATE
         (ISO 8601 dates, inclusive)
  --sort createdAt|updatedAt   default createdAt
  --order asc|desc             default desc
  --limit N                    leads per page, 1..100 (default 20)
  --page N                     default 1
  --all                        every page (each lead once)
  --masked                     ask the API to mask the phone numbers
  --json                       one JSON object per lead per line (JSON Lines); the page is on stderr

${CONNECTION_HELP}

Exit codes: 0 done (also when nothing matched), 1 the API failed, 2 usage or settings error.`;

export const ACTIVITY_HELP = `Usage: vox-crm activity ACTIVITY_ID [options]

One activity (a call with its outcome, summary, transcript and recording, or a state change).

  --masked    ask the API to mask the phone numbers
  --json      the activity as the API sent it (JSON)

${CONNECTION_HELP}

${EXIT_TEXT}`;

const writeJson = (stdout, value) => stdout.write(JSON.stringify(value, null, 2) + "\n");

/** A failed call: not_found exits 1, a settings problem 2, the rest 1. */
function failure(err) {
  if (!(err instanceof VoxError)) return err;
  const code = err.code === "not_found" ? EXIT.failed : CONFIG_CODES.has(err.code) || err.code === "validation_error" ? EXIT.usage : EXIT.failed;
  return new CommandError(apiErrorText(err), code);
}

const show = (v) => (v === undefined || v === null || v === "" ? "-" : typeof v === "object" ? JSON.stringify(v) : String(v));

/** A `name value` table of the fields that have a value. */
const fieldTable = (rows) =>
  table(
    rows.filter(([, v]) => v !== undefined && v !== null && v !== "").map(([k, v]) => [k, show(v)]),
    { indent: "" },
  );

function leadText(lead) {
  const rows = [
    ["lead", lead._id],
    ["name", lead.name ?? [lead.firstName, lead.lastName].filter(Boolean).join(" ")],
    ["phone", lead.phone],
    ["email", lead.email],
    ["state", lead.currentState],
    ["disposition", lead.lastDisposition],
    ["process", lead.processId],
    ["referenceId", lead.referenceId],
    ["groupId", lead.groupId],
    ["created", lead.createdAt],
    ["updated", lead.updatedAt],
  ];
  const lines = [fieldTable(rows)];
  if (lead.metadata && Object.keys(lead.metadata).length) lines.push(`metadata     ${JSON.stringify(lead.metadata)}`);
  const acts = Array.isArray(lead.activities) ? lead.activities : [];
  lines.push("", `activities (${acts.length})`);
  if (acts.length) {
    lines.push(
      table(
        acts.map((a) => [a._id, a.type, a.status, `${show(a.fromState)} → ${show(a.toState)}`, show(a.disposition), show(a.createdAt)]),
        { header: ["id", "type", "status", "states", "disposition", "created"] },
      ),
    );
  }
  return lines.join("\n");
}

function activityText(a) {
  const rows = [
    ["activity", a._id],
    ["type", a.type],
    ["status", a.status],
    ["lead", a.leadId],
    ["states", a.fromState || a.toState ? `${show(a.fromState)} → ${show(a.toState)}` : undefined],
    ["scheduled", a.scheduledAt],
    ["started", a.startedAt],
    ["ended", a.endedAt],
    ["duration", a.durationSec !== undefined ? `${a.durationSec} s` : undefined],
    ["disposition", a.disposition ? `${a.disposition}${a.dispositionType ? ` (${a.dispositionType})` : ""}` : undefined],
    ["summary", a.summary],
    ["recording", a.recordingUrl],
  ];
  const lines = [fieldTable(rows)];
  if (Array.isArray(a.transcript) && a.transcript.length) {
    lines.push("", "transcript");
    for (const t of a.transcript) lines.push(`  ${show(t.role ?? t.speaker)}: ${show(t.text ?? t.content ?? t.message)}`);
  } else if (typeof a.transcript === "string" && a.transcript) {
    lines.push(
      "",
      "transcript",
      a.transcript
        .split("\n")
        .map((l) => `  ${l}`)
        .join("\n"),
    );
  }
  return lines.join("\n");
}

export async function get(argv, { env = process.env, stdout = process.stdout } = {}) {
  const { values: o, positionals } = parseFlags(
    argv,
    {
      ...CONNECTION_FLAGS,
      reference: { type: "string" },
      process: { type: "string" },
      masked: { type: "boolean" },
      json: { type: "boolean" },
    },
    "get",
  );
  if (o.help) {
    stdout.write(GET_HELP + "\n");
    return EXIT.ok;
  }
  let target;
  if (o.reference !== undefined) {
    if (positionals.length) throw new UsageError("give LEAD_ID or --reference REF --process ID, not both", "get");
    if (!o.process || !isObjectId(o.process)) throw new UsageError("--reference needs --process ID (24 lowercase hex digits)", "get");
    target = { referenceId: o.reference, processId: o.process };
  } else {
    if (positionals.length !== 1) throw new UsageError("give one LEAD_ID (or --reference REF --process ID)", "get");
    if (!isObjectId(positionals[0])) throw new UsageError(`a lead id is 24 lowercase hex digits (got "${positionals[0]}")`, "get");
    target = { leadId: positionals[0] };
  }
  const client = makeClient(connection(o, env, "get"), {}, "get");
  let lead;
  try {
    lead = await client.getLead(target, { masked: o.masked === true });
  } catch (err) {
    throw failure(err);
  }
  if (o.json) writeJson(stdout, lead);
  else stdout.write(leadText(lead) + "\n");
  return EXIT.ok;
}

const QUERY_FILTERS = {
  process: "processId",
  state: "state",
  disposition: "disposition",
  group: "groupId",
  reference: "referenceId",
  phone: "phone",
  email: "email",
  "created-from": "createdFrom",
  "created-to": "createdTo",
  "updated-from": "updatedFrom",
  "updated-to": "updatedTo",
};

export async function query(argv, { env = process.env, stdout = process.stdout, stderr = process.stderr } = {}) {
  const flags = {
    ...CONNECTION_FLAGS,
    sort: { type: "string" },
    order: { type: "string" },
    limit: { type: "string" },
    page: { type: "string" },
    all: { type: "boolean" },
    masked: { type: "boolean" },
    json: { type: "boolean" },
  };
  for (const f of Object.keys(QUERY_FILTERS)) flags[f] = { type: "string" };
  const { values: o, positionals } = parseFlags(argv, flags, "query");
  if (o.help) {
    stdout.write(QUERY_HELP + "\n");
    return EXIT.ok;
  }
  if (positionals.length) throw new UsageError(`query takes filters as flags (got "${positionals[0]}"), e.g. --state interested`, "query");
  const q = {};
  for (const [flag, key] of Object.entries(QUERY_FILTERS)) if (o[flag] !== undefined) q[key] = o[flag];
  for (const k of ["createdFrom", "createdTo", "updatedFrom", "updatedTo"]) {
    if (q[k] !== undefined && Number.isNaN(Date.parse(q[k])))
      throw new UsageError(
        `--${k.replace(/[A-Z]/, (c) => `-${c.toLowerCase()}`)} must be an ISO 8601 date, e.g. 2026-11-01 or 2026-11-01T09:00:00Z (got "${q[k]}")`,
        "query",
      );
  }
  if (o.sort !== undefined) {
    if (!["createdAt", "updatedAt"].includes(o.sort)) throw new UsageError(`--sort must be createdAt or updatedAt (got "${o.sort}")`, "query");
    q.sort = o.sort;
  }
  if (o.order !== undefined) {
    if (!["asc", "desc"].includes(o.order)) throw new UsageError(`--order must be asc or desc (got "${o.order}")`, "query");
    q.order = o.order;
  }
  const limit = intOption(o, "limit", undefined, { min: 1, max: 100, command: "query" });
  const page = intOption(o, "page", undefined, { min: 1, command: "query" });
  if (o.all && page !== undefined) throw new UsageError("--all reads every page: leave --page out", "query");
  if (limit !== undefined) q.limit = limit;
  if (page !== undefined) q.page = page;
  if (o.masked) q.masked = true;
  const client = makeClient(connection(o, env, "query"), {}, "query");
  const rowOf = (l) => [l._id, show(l.name ?? l.firstName), show(l.phone), show(l.currentState), show(l.lastDisposition), show(l.createdAt)];
  const header = ["id", "name", "phone", "state", "disposition", "created"];
  try {
    if (o.all) {
      let n = 0;
      const rows = [];
      for await (const l of client.iterateLeads(q)) {
        n++;
        if (o.json) stdout.write(JSON.stringify(l) + "\n");
        else rows.push(rowOf(l));
      }
      if (!o.json) stdout.write((rows.length ? table(rows, { header, indent: "" }) + "\n" : "") + `${int(n)} lead${n === 1 ? "" : "s"}\n`);
      else stderr.write(`${int(n)} lead${n === 1 ? "" : "s"}\n`);
      return EXIT.ok;
    }
    const res = await client.queryLeads(q);
    const where = `page ${res.page}${res.totalPages ? ` of ${res.totalPages}` : ""}${res.total !== null && res.total !== undefined ? `, ${int(res.total)} lead${res.total === 1 ? "" : "s"} in all` : ""}${res.hasNextPage ? " (--page N or --all for more)" : ""}`;
    if (o.json) {
      for (const l of res.leads) stdout.write(JSON.stringify(l) + "\n");
      stderr.write(where + "\n");
    } else {
      stdout.write((res.leads.length ? table(res.leads.map(rowOf), { header, indent: "" }) + "\n" : "no lead matched\n") + where + "\n");
    }
    return EXIT.ok;
  } catch (err) {
    throw failure(err);
  }
}

export async function activity(argv, { env = process.env, stdout = process.stdout } = {}) {
  const { values: o, positionals } = parseFlags(argv, { ...CONNECTION_FLAGS, masked: { type: "boolean" }, json: { type: "boolean" } }, "activity");
  if (o.help) {
    stdout.write(ACTIVITY_HELP + "\n");
    return EXIT.ok;
  }
  if (positionals.length !== 1) throw new UsageError("give one ACTIVITY_ID", "activity");
  if (!isObjectId(positionals[0])) throw new UsageError(`an activity id is 24 lowercase hex digits (got "${positionals[0]}")`, "activity");
  const client = makeClient(connection(o, env, "activity"), {}, "activity");
  let a;
  try {
    a = await client.getActivity(positionals[0], { masked: o.masked === true });
  } catch (err) {
    throw failure(err);
  }
  if (o.json) writeJson(stdout, a);
  else stdout.write(activityText(a) + "\n");
  return EXIT.ok;
}
