// Types of vox-crm/sandbox: the local Vox CRM sandbox for tests (Node only, ESM). Hand-written;
// the implementation is sandbox/server.mjs of the package.

import type { Lead } from "./index.js";

/** A rate limit as "N/MS" ("100/5000"), an object, or off. */
export type SandboxRateLimit = `${number}/${number}` | { requests: number; perMs: number } | false | "off";

/** A process of a project: ids are 24 lowercase hex digits; `new` and `make_first_call` are added if missing. */
export interface SandboxProcessConfig {
  _id: string;
  name?: string;
  states?: string[];
}

export interface SandboxProjectConfig {
  _id: string;
  name?: string;
  tokens?: string[];
  token?: string;
  processes: SandboxProcessConfig[];
}

/**
 * A rule that makes the sandbox misbehave on /api/v1 requests that match `path` (e.g.
 * "/leads/bulk/initiate") and `method`: the next `count` (default 1) of them, or a seeded share.
 */
export interface SandboxFaultRule {
  kind: "status" | "delay" | "reset" | "malformed";
  /** kind "status": 400..599, default 500. */
  status?: number;
  /** kind "status": an nginx-style HTML page instead of JSON. */
  html?: boolean;
  /** kind "delay": milliseconds, default 1000. */
  ms?: number;
  count?: number;
  /** A share in (0, 1] of the matching requests, drawn from a PRNG seeded with `seed` (default 1). */
  probability?: number;
  seed?: number;
  path?: string;
  method?: string;
  /** "before": the request is not processed; "after": it is, then the fault replaces the answer. */
  when?: "before" | "after";
}

/** A fault rule as listed: with its id, what is left of it (`null`: unlimited) and how often it fired. */
export interface SandboxFaultRuleState {
  id: number;
  kind: SandboxFaultRule["kind"];
  remaining: number | null;
  fired: number;
  when: "before" | "after";
  status?: number;
  html?: boolean;
  ms?: number;
  probability?: number;
  seed: number;
  path?: string;
  method?: string;
}

export interface StartSandboxOptions extends SandboxSettings {
  /** Default 0 (a free port) from code; the command line's default is 4010. */
  port?: number;
  /** Default "127.0.0.1". */
  host?: string;
  /** Keep leads and activities in this JSON file (loaded at start, saved after changes and at close). */
  data?: string;
  dataFile?: string;
  /** A JSON file (or an object) with any of these options and `projects`. */
  config?: string | Omit<StartSandboxOptions, "config">;
  /** Written with the base URL once listening, removed at close. */
  readyFile?: string;
  /** Serve the /__sandbox/* admin routes over HTTP (the methods of the result need none). */
  admin?: boolean;
  /** No banner (only the command line prints one). */
  quiet?: boolean;
  /** Origin used in recording URLs, default http://HOST:PORT. */
  publicOrigin?: string;
  /** Default true: the project of sandbox.token; false leaves only `projects`. */
  includeDefaultProject?: boolean;
  projects?: SandboxProjectConfig[];
  /** Fault rules in force from the start (cleared by reset()). */
  faults?: SandboxFaultRule[];
  saveDebounceMs?: number;
  maxBodyBytes?: number;
}

export interface SandboxStats {
  requests: number;
  byRoute: { [route: string]: number };
  rateLimited: number;
  blockedResponses: number;
  blocks: number;
  leadsCreated: number;
  leads: number;
  duplicateRejections: number;
  faultsInjected: number;
  /** The most accepted requests ever seen in one rate window: proves a client kept to the limit. */
  maxRequestsInWindow: number;
}

/** The settings a sandbox starts with, which configure() may change while it runs. */
export interface SandboxSettings {
  /** Per project; default "100/5000" (the API's). */
  rateLimit?: SandboxRateLimit;
  /** Duplicate rejections allowed in `dupWindowMs` (default 5 in 60000); the next blocks the token for `blockMs` (default an hour). */
  dupMax?: number;
  dupWindowMs?: number;
  blockMs?: number;
  /** From init to the simulated call's start, default 3000. */
  callDelayMs?: number;
  /** The simulated call's length, default 4000. */
  callDurationMs?: number;
  /** The share of calls that get no answer, default 0.1. */
  failedCallShare?: number;
}

export interface SandboxRuntimeConfig {
  rateLimit: { requests: number; perMs: number } | false;
  dupMax: number;
  dupWindowMs: number;
  blockMs: number;
  callDelayMs: number;
  callDurationMs: number;
  failedCallShare: number;
  projects: { _id: string; name: string; tokens: string[]; processes: { _id: string; name: string; states: string[] }[] }[];
}

export interface SandboxProcess {
  id: string;
  name: string;
  states: string[];
}

export interface Sandbox {
  /** The base URL for VoxClient's `baseUrl`, e.g. "http://127.0.0.1:41234/api/v1". */
  url: string;
  /** The same as `url`. */
  baseUrl: string;
  /** "http://127.0.0.1:41234": the admin routes and recordings. */
  origin: string;
  port: number;
  /** The token of the first project (the default project's "sk_test_vox_sandbox"). */
  token: string;
  projectId: string;
  /** The processes of that project (the default project has "Sales" and "Support"). */
  processes: SandboxProcess[];
  /** VOX_BASE_URL, VOX_TOKEN and VOX_PROJECT_ID of this sandbox, for a child process (the vox-crm command line). */
  env: { VOX_BASE_URL: string; VOX_TOKEN: string; VOX_PROJECT_ID: string };
  /** Clears leads, activities, rate windows, blocks, counters and fault rules; keeps the settings. */
  reset(): void;
  stats(): SandboxStats;
  /** Adds fault rules (each argument a rule or an array of rules); returns the added ones. Throws on a bad rule. */
  fault(...rules: (SandboxFaultRule | SandboxFaultRule[])[]): SandboxFaultRuleState[];
  faultRules(): SandboxFaultRuleState[];
  /** Removes every fault rule; returns how many there were. */
  clearFaults(): number;
  /** Changes settings while it runs; returns those in force. Throws on a bad one. */
  configure(settings: SandboxSettings): SandboxRuntimeConfig;
  /** The leads of a project (default: the first), oldest first, as the API shows them. */
  leads(options?: { projectId?: string; masked?: boolean }): Lead[];
  /** Saves the data file now (with `data`). */
  flush(): Promise<void>;
  /** Stops the simulated calls and the server, saves the data file. */
  close(): Promise<void>;
  /** The resolved configuration. */
  readonly config: Readonly<Record<string, unknown>>;
  /** The internal state, for white-box assertions; not a stable interface. */
  readonly state: unknown;
}

/** Starts a sandbox (on a free port of 127.0.0.1 unless told otherwise). */
export declare function startSandbox(options?: StartSandboxOptions): Promise<Sandbox>;

/** What runs `vox-crm sandbox` and `node sandbox/server.mjs`: flags and env to a running sandbox with a banner. */
export declare function runSandboxCli(argv?: string[], options?: { env?: Record<string, string | undefined>; command?: string }): Promise<void>;

/** The outcome the simulated call of a lead will have (a pure function of its id, unless metadata.sandboxOutcome forces one). */
export declare function predictOutcome(
  leadId: string,
  process: { states: string[] },
  options?: { metadata?: Record<string, unknown>; failedCallShare?: number },
): { status: "completed" | "failed"; toState: string; disposition: string; dispositionType: string; summary: string };

export declare const DEFAULT_TOKEN: "sk_test_vox_sandbox";
export declare const DEFAULT_PROJECT_ID: "6650a1b2c3d4e5f601234567";
export declare const SALES_PROCESS_ID: "6650a1b2c3d4e5f6012345a1";
export declare const SUPPORT_PROCESS_ID: "6650a1b2c3d4e5f6012345a2";
export declare const DEFAULT_PROJECT: Readonly<SandboxProjectConfig & { name: string; tokens: string[] }>;
export declare const DEFAULTS: Readonly<Record<string, unknown>>;
