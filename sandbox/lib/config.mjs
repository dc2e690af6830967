// Owns the sandbox's configuration: the fixed default data (token, project, processes), the defaults of
// every setting, and turning options / CLI flags / VOX_SANDBOX_* env / a --config JSON file into one
// validated config object.
import { readFileSync } from "node:fs";
import { isObjectId } from "./ids.mjs";

export const DEFAULT_TOKEN = "sk_test_vox_sandbox";
export const DEFAULT_PROJECT_ID = "6650a1b2c3d4e5f601234567";
export const SALES_PROCESS_ID = "6650a1b2c3d4e5f6012345a1";
export const SUPPORT_PROCESS_ID = "6650a1b2c3d4e5f6012345a2";

export const DEFAULT_PROJECT = Object.freeze({
  _id: DEFAULT_PROJECT_ID,
  name: "Demo project",
  tokens: [DEFAULT_TOKEN],
  processes: [
    {
      _id: SALES_PROCESS_ID,
      name: "Sales",
      states: ["new", "make_first_call", "interested", "not_interested", "callback", "followup_1", "followup_2", "lost", "converted"],
    },
    {
      _id: SUPPORT_PROCESS_ID,
      name: "Support",
      states: ["new", "make_first_call", "resolved", "escalated", "followup_1", "lost"],
    },
  ],
});

export const DEFAULTS = Object.freeze({
  port: 4010,
  host: "127.0.0.1",
  dataFile: null,
  readyFile: null,
  admin: false,
  quiet: false,
  rateLimit: { requests: 100, perMs: 5000 },
  dupWindowMs: 60000,
  dupMax: 5,
  blockMs: 3600000,
  callDelayMs: 3000,
  callDurationMs: 4000,
  failedCallShare: 0.1, // share of calls that end "failed" (no answer), decided by the lead id
  saveDebounceMs: 250,
  maxBodyBytes: 20 * 1024 * 1024,
  publicOrigin: null, // origin used in recordingUrl; default http://<host>:<port>
  includeDefaultProject: true,
  projects: [],
});

export class ConfigError extends Error {}

const NUMERIC_KEYS = ["port", "dupWindowMs", "dupMax", "blockMs", "callDelayMs", "callDurationMs", "saveDebounceMs", "maxBodyBytes"];

/** Parses "100/5000", "off", false, or { requests, perMs }. */
export function parseRateLimit(value) {
  if (value === false || value === "off" || value === "false" || value === "none") return false;
  if (typeof value === "string") {
    const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(value);
    if (!m) throw new ConfigError(`Invalid rate limit "${value}" (expected N/MS like 100/5000, or off)`);
    value = { requests: Number(m[1]), perMs: Number(m[2]) };
  }
  if (value && typeof value === "object" && Number.isInteger(value.requests) && value.requests >= 1 && Number.isInteger(value.perMs) && value.perMs >= 1) {
    return { requests: value.requests, perMs: value.perMs };
  }
  throw new ConfigError("Invalid rate limit (expected { requests, perMs } with positive integers, or false)");
}

function toBool(value) {
  if (typeof value === "boolean") return value;
  return ["1", "true", "yes", "on"].includes(String(value).toLowerCase());
}

function toInt(key, value) {
  const n = typeof value === "number" ? value : Number(String(value).trim());
  if (!Number.isInteger(n) || n < 0) throw new ConfigError(`Invalid ${key}: ${value}`);
  return n;
}

function readConfigFile(file) {
  let text;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    throw new ConfigError(`Cannot read config file ${file}: ${err.message}`);
  }
  try {
    const parsed = JSON.parse(text);
    if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) throw new Error("not a JSON object");
    return parsed;
  } catch (err) {
    throw new ConfigError(`Invalid config file ${file}: ${err.message}`);
  }
}

function validateProjects(list) {
  if (!Array.isArray(list)) throw new ConfigError("projects must be an array");
  const seenTokens = new Set();
  const seenProcesses = new Set();
  return list.map((p, i) => {
    if (!p || typeof p !== "object") throw new ConfigError(`projects[${i}] must be an object`);
    if (!isObjectId(p._id)) throw new ConfigError(`projects[${i}]._id must be a 24-char lowercase hex id`);
    const tokens = [...(Array.isArray(p.tokens) ? p.tokens : []), ...(p.token ? [p.token] : [])];
    if (tokens.length === 0) throw new ConfigError(`project ${p._id} needs at least one token`);
    for (const t of tokens) {
      if (typeof t !== "string" || t.length === 0) throw new ConfigError(`project ${p._id} has an invalid token`);
      if (seenTokens.has(t)) throw new ConfigError(`token ${t} is used by two projects`);
      seenTokens.add(t);
    }
    if (!Array.isArray(p.processes)) throw new ConfigError(`project ${p._id} needs a processes array`);
    const processes = p.processes.map((proc, j) => {
      if (!proc || !isObjectId(proc._id)) throw new ConfigError(`project ${p._id} processes[${j}]._id must be a 24-char lowercase hex id`);
      if (seenProcesses.has(proc._id)) throw new ConfigError(`process ${proc._id} is defined twice`);
      seenProcesses.add(proc._id);
      const states = Array.isArray(proc.states) ? proc.states.filter((s) => typeof s === "string" && s) : [];
      // Every process needs the two initial states of docs/api.md §2.
      for (const needed of ["make_first_call", "new"]) if (!states.includes(needed)) states.unshift(needed);
      return { _id: proc._id, name: String(proc.name ?? proc._id), states: [...new Set(states)] };
    });
    return { _id: p._id, name: String(p.name ?? p._id), tokens, processes };
  });
}

/**
 * Resolves options (as passed to startSandbox) into the full config.
 * Precedence: defaults < `defaults` (the caller's own, e.g. port 0 for startSandbox from code)
 * < options.config (a JSON file path or object) < the other options.
 */
export function resolveConfig(options = {}, defaults = {}) {
  let fileConfig = {};
  if (typeof options.config === "string") fileConfig = readConfigFile(options.config);
  else if (options.config && typeof options.config === "object") fileConfig = options.config;

  const merged = { ...DEFAULTS, ...defaults, ...fileConfig, ...stripUndefined(options) };
  delete merged.config;
  if (merged.data !== undefined && options.dataFile === undefined) merged.dataFile = merged.data;
  delete merged.data;

  const config = {};
  for (const key of Object.keys(DEFAULTS)) config[key] = merged[key];
  for (const key of NUMERIC_KEYS) config[key] = toInt(key, config[key]);
  if (config.port > 65535) throw new ConfigError(`Invalid port: ${config.port}`);
  if (config.dupMax < 0) throw new ConfigError("dupMax must be >= 0");
  config.admin = toBool(config.admin);
  config.quiet = toBool(config.quiet);
  config.includeDefaultProject = toBool(config.includeDefaultProject);
  config.rateLimit = parseRateLimit(config.rateLimit);
  config.failedCallShare = Number(config.failedCallShare);
  if (!(config.failedCallShare >= 0 && config.failedCallShare <= 1)) throw new ConfigError("failedCallShare must be between 0 and 1");
  config.host = String(config.host);

  // Projects: the default project, then the configured ones (a configured project with the
  // default project's id replaces it).
  const extra = validateProjects(config.projects ?? []);
  const projects = [];
  if (config.includeDefaultProject && !extra.some((p) => p._id === DEFAULT_PROJECT_ID)) {
    projects.push(structuredClone({ ...DEFAULT_PROJECT, processes: DEFAULT_PROJECT.processes.map((p) => ({ ...p, states: [...p.states] })) }));
  }
  projects.push(...extra);
  config.projects = validateProjects(projects);
  if (config.projects.length === 0) throw new ConfigError("No project configured");
  return config;
}

function stripUndefined(obj) {
  const out = {};
  for (const [k, v] of Object.entries(obj)) if (v !== undefined) out[k] = v;
  return out;
}

const FLAGS = {
  "--port": "port",
  "--host": "host",
  "--data": "dataFile",
  "--config": "config",
  "--ready-file": "readyFile",
  "--rate-limit": "rateLimit",
  "--dup-window-ms": "dupWindowMs",
  "--dup-max": "dupMax",
  "--block-ms": "blockMs",
  "--call-delay-ms": "callDelayMs",
  "--call-duration-ms": "callDurationMs",
  "--public-origin": "publicOrigin",
};
const BOOLEAN_FLAGS = { "--admin": "admin", "--quiet": "quiet" };

const ENV = {
  VOX_SANDBOX_PORT: "port",
  VOX_SANDBOX_HOST: "host",
  VOX_SANDBOX_DATA: "dataFile",
  VOX_SANDBOX_CONFIG: "config",
  VOX_SANDBOX_READY_FILE: "readyFile",
  VOX_SANDBOX_ADMIN: "admin",
  VOX_SANDBOX_RATE_LIMIT: "rateLimit",
  VOX_SANDBOX_DUP_WINDOW_MS: "dupWindowMs",
  VOX_SANDBOX_DUP_MAX: "dupMax",
  VOX_SANDBOX_BLOCK_MS: "blockMs",
  VOX_SANDBOX_CALL_DELAY_MS: "callDelayMs",
  VOX_SANDBOX_CALL_DURATION_MS: "callDurationMs",
  VOX_SANDBOX_PUBLIC_ORIGIN: "publicOrigin",
  VOX_SANDBOX_QUIET: "quiet",
};

/** The usage text of the sandbox's command line, run as `command` (its own script, or `vox-crm sandbox`). */
export const usage = (command = "node sandbox/server.mjs") => `Usage: ${command} [options]

  --port N               port to listen on (default 4010; 0 = any free port)
  --host HOST            interface to bind (default 127.0.0.1)
  --data FILE            persist leads and activities in FILE (loaded at start, saved after changes)
  --config FILE          JSON file with settings and extra projects/tokens/processes
  --ready-file FILE      write the base URL into FILE once listening
  --admin                serve the /__sandbox/* admin routes (off by default)
  --rate-limit N/MS      per-project request limit, e.g. 100/5000 (default), or off
  --dup-window-ms MS     duplicate-rejection window (default 60000)
  --dup-max N            rejections allowed in the window; one more blocks the token (default 5)
  --block-ms MS          how long a token stays blocked (default 3600000)
  --call-delay-ms MS     time from init to call start (default 3000)
  --call-duration-ms MS  call length (default 4000)
  --public-origin URL    origin used in recording URLs (default http://HOST:PORT)
  --quiet                no banner and no stop message (errors are still printed)
  --help                 this text

Every flag also reads from the environment as VOX_SANDBOX_<NAME> (e.g. VOX_SANDBOX_PORT=0,
VOX_SANDBOX_ADMIN=1, VOX_SANDBOX_DATA=file). Flags win over the environment, which wins over --config.`;
export const USAGE = usage();

/** Turns argv (without node and script) and env into startSandbox options. */
export function optionsFromCli(argv, env = {}) {
  const options = {};
  for (const [name, key] of Object.entries(ENV)) {
    if (env[name] !== undefined && env[name] !== "") options[key] = env[name];
  }
  for (let i = 0; i < argv.length; i++) {
    let arg = argv[i];
    let inline;
    const eq = arg.indexOf("=");
    if (arg.startsWith("--") && eq > 0) {
      inline = arg.slice(eq + 1);
      arg = arg.slice(0, eq);
    }
    if (arg === "--help" || arg === "-h") {
      options.help = true;
      continue;
    }
    if (BOOLEAN_FLAGS[arg]) {
      options[BOOLEAN_FLAGS[arg]] = inline === undefined ? true : toBool(inline);
      continue;
    }
    const key = FLAGS[arg];
    if (!key) throw new ConfigError(`Unknown option ${arg}`);
    const value = inline ?? argv[++i];
    if (value === undefined) throw new ConfigError(`Option ${arg} needs a value`);
    options[key] = value;
  }
  return options;
}
