// Owns reading a command's arguments: flags (node:util's parseArgs, strict), the errors that are
// the user's (UsageError: exit code 2, a message and a pointer to --help, never a stack trace),
// and the options every command that talks to the API shares: the credentials (VOX_TOKEN /
// VOX_PROJECT_ID or --token / --project-id, never printed), the API's address (--base-url /
// VOX_BASE_URL) and the client made from them.
import { statSync } from "node:fs";
import { parseArgs } from "node:util";
import { VoxClient, VoxError } from "./vox.mjs";

/** A mistake in the command line, its files or its settings: exit code 2. */
export class UsageError extends Error {
  constructor(message, command) {
    super(message);
    this.command = command;
  }
}

export const EXIT = Object.freeze({ ok: 0, failed: 1, usage: 2, interrupted: 130 });

/** A command that cannot go on, with the exit code to end with (a message, no stack trace). */
export class CommandError extends Error {
  constructor(message, exitCode = EXIT.failed) {
    super(message);
    this.exitCode = exitCode;
  }
}

/** The flags every API command takes (see CONNECTION_HELP). */
export const CONNECTION_FLAGS = {
  "base-url": { type: "string" },
  token: { type: "string" },
  "project-id": { type: "string" },
  "rate-limit": { type: "string" },
  "timeout-ms": { type: "string" },
};

export const CONNECTION_HELP = `Connection (every command that calls the API):
  --base-url URL       the API's address (default $VOX_BASE_URL, else https://crm.uservox.ai/api/v1);
                       a sandbox's, e.g. http://127.0.0.1:4010/api/v1
  --token TOKEN        API token (default $VOX_TOKEN; prefer the variable: a flag shows in ps and
                       in the shell's history). Never printed.
  --project-id ID      project id (default $VOX_PROJECT_ID). Never printed.
  --rate-limit N/MS    the requests your key may make, default 100/5000 (the API's limit)
  --timeout-ms MS      per request, default 30000`;

/**
 * Parses argv for `command` with `flags` (parseArgs options); --help is always known.
 * Returns { values, positionals }.
 */
export function parseFlags(argv, flags, command) {
  try {
    return parseArgs({ args: argv, options: { help: { type: "boolean", short: "h" }, ...flags }, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError(flagMessage(err), command);
  }
}

function flagMessage(err) {
  const m = /^Unknown option '([^']+)'/.exec(err.message);
  if (m) return `unknown option ${m[1]}`;
  const v = /^Option '([^']+)' argument missing/.exec(err.message);
  if (v) return `option ${v[1].replace(/^-\w, /, "").replace(/ <value>$/, "")} needs a value`;
  const b = /^Option '([^']+)' does not take an argument/.exec(err.message);
  if (b) return `option ${b[1].replace(/^-\w, /, "")} takes no value`;
  return err.message.split(". ")[0];
}

/** A whole number option (>= min), or `dflt` when absent. */
export function intOption(values, name, dflt, { min = 0, max = Number.MAX_SAFE_INTEGER, command } = {}) {
  const raw = values[name];
  if (raw === undefined) return dflt;
  const n = Number(raw);
  if (!/^\s*\d+\s*$/.test(raw) || n < min || n > max) {
    throw new UsageError(
      `--${name} must be a whole number${max < Number.MAX_SAFE_INTEGER ? ` from ${min} to ${max}` : ` of at least ${min}`} (got "${raw}")`,
      command,
    );
  }
  return n;
}

/** The one FILE argument of a command, which must be a readable file. */
export function fileArgument(positionals, command) {
  if (positionals.length !== 1) throw new UsageError(positionals.length ? `one FILE at a time (got ${positionals.length})` : "no FILE given", command);
  const [file] = positionals;
  let st;
  try {
    st = statSync(file);
  } catch (err) {
    throw new UsageError(`cannot read ${file}: ${err.code === "ENOENT" ? "no such file" : err.message}`, command);
  }
  if (!st.isFile()) throw new UsageError(`${file} is not a file`, command);
  return file;
}

export const isObjectId = (s) => typeof s === "string" && /^[0-9a-f]{24}$/.test(s);

/** The connection settings of flags and environment, checked; the token is only ever passed on. */
export function connection(values, env, command) {
  const token = values.token ?? env.VOX_TOKEN;
  const projectId = values["project-id"] ?? env.VOX_PROJECT_ID;
  const baseUrl = values["base-url"] ?? (env.VOX_BASE_URL || undefined);
  if (!token) throw new UsageError("no API token: set VOX_TOKEN (or pass --token)", command);
  if (!projectId) throw new UsageError("no project: set VOX_PROJECT_ID (or pass --project-id)", command);
  if (!isObjectId(projectId)) throw new UsageError("the project id (VOX_PROJECT_ID or --project-id) must be 24 lowercase hex digits", command);
  let rateLimit;
  if (values["rate-limit"] !== undefined) {
    const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(values["rate-limit"]);
    if (!m || Number(m[1]) < 1 || Number(m[2]) < 1) throw new UsageError(`--rate-limit must be N/MS, e.g. 100/5000 (got "${values["rate-limit"]}")`, command);
    rateLimit = { requests: Number(m[1]), perMs: Number(m[2]) };
  }
  const timeoutMs = intOption(values, "timeout-ms", undefined, { min: 1, command });
  return { token, projectId, baseUrl, rateLimit, timeoutMs };
}

/** A VoxClient for the connection; a setting the library refuses (a bad --base-url) is a UsageError. */
export function makeClient(conn, extra = {}, command) {
  const options = { projectId: conn.projectId, token: conn.token, ...extra };
  if (conn.baseUrl !== undefined) options.baseUrl = conn.baseUrl;
  if (conn.rateLimit !== undefined) options.rateLimit = conn.rateLimit;
  if (conn.timeoutMs !== undefined) options.timeoutMs = conn.timeoutMs;
  try {
    return new VoxClient(options);
  } catch (err) {
    if (err instanceof VoxError) throw new UsageError(err.message, command);
    throw err;
  }
}

/** The codes of a failed call that mean the settings are wrong rather than the request's luck. */
export const CONFIG_CODES = new Set(["forbidden", "invalid_argument", "redirect_refused", "not_found", "invalid_response", "browser_unsafe"]);

/** What a failed API call says to the user; forbidden gets the hint it needs. */
export function apiErrorText(err) {
  const hint = err.code === "forbidden" ? " (check VOX_TOKEN and VOX_PROJECT_ID)" : "";
  return `${err.code}: ${err.message}${hint}`;
}
