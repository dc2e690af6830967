// Types of the vox-crm package (docs/sdk.md). Every value returned is a plain object.

import type { StoreOp } from "./redis.js";

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

export type ErrorCode =
  | "validation_error"
  | "invalid_phone"
  | "invalid_argument"
  | "bad_request"
  | "forbidden"
  | "not_found"
  | "rate_limited"
  | "key_blocked"
  | "duplicate_submission"
  | "server_error"
  | "timeout"
  | "network_error"
  | "aborted"
  | "invalid_response"
  | "browser_unsafe"
  /** The server answered with a redirect (3xx), which is never followed: fix `baseUrl`. */
  | "redirect_refused"
  /** A bug inside vox-crm (a Rust panic); the WebAssembly module restarted and keeps working. */
  | "internal_error"
  /** The web build's WebAssembly module is not loaded yet (a synchronous function before `await init()`), or could not be loaded. */
  | "not_initialized";

export interface FieldError {
  field: string;
  code: string;
  message: string;
}

export declare class VoxError extends Error {
  readonly name: "VoxError";
  readonly code: ErrorCode;
  readonly status?: number;
  readonly retryAfterMs?: number;
  /** For `validation_error`: the fields that failed. */
  readonly details?: FieldError[] | { [key: string]: JsonValue };
  toJSON(): { name: "VoxError"; code: ErrorCode; message: string; status?: number; retryAfterMs?: number; details?: JsonValue };
}

export interface VoxErrorInfo {
  code: ErrorCode;
  message: string;
  status?: number;
  retryAfterMs?: number;
  /** `validation_error`: the fields; `duplicate_submission` of a lead that exists: `{ leadId, key }`. */
  details?: FieldError[] | { [key: string]: JsonValue };
}

/**
 * Where a project's traffic state lives (docs/store.md), e.g. `redisStore(client)` from
 * "vox-crm/redis". The client calls `apply(op)` and waits for its answer.
 */
export interface VoxStore {
  apply(op: StoreOp): Promise<unknown>;
}

export type LogEvent = {
  /** `proxy_refused`: "vox-crm/proxy" refused a page's request itself (its status and why). */
  type: "request" | "response" | "retry" | "rate_limit_wait" | "duplicate_refused" | "key_blocked" | "store_unavailable" | "store_recovered" | "proxy_refused";
  method?: "GET" | "POST";
  path?: string;
  status?: number;
  attempt?: number;
  durationMs?: number;
  message?: string;
};

export interface VoxClientOptions {
  projectId: string;
  /** Required unless `baseUrl` is your own proxy that adds it. */
  token?: string;
  /** Default "https://crm.uservox.ai/api/v1". An http(s) URL (no credentials, query or fragment) or an absolute path. */
  baseUrl?: string;
  /** Per attempt; default 30000. */
  timeoutMs?: number;
  /** Default 2. Also bounds reconciliation: one initiateLead makes at most 2 × (1 + maxRetries) requests. */
  maxRetries?: number;
  /** ISO 3166 alpha-2 for numbers without a country code; default "IN". */
  defaultCountry?: string;
  /** Default { requests: 100, perMs: 5000 }. */
  rateLimit?: { requests: number; perMs: number } | false;
  /** Default { max: 5, windowMs: 60000 }. */
  duplicateGuard?: { max: number; windowMs: number } | false;
  /** Allow a token in a browser (everyone who loads the page can read it). */
  dangerouslyAllowBrowser?: boolean;
  /** Called as `fetch(url, init)`; default: the global `fetch`, looked up at each request. */
  fetch?: typeof fetch;
  logger?: (event: LogEvent) => void;
  /** Where the traffic state lives; default: in memory, shared per (base URL, project) in this realm. */
  store?: VoxStore;
  /** How long to wait for the store's answer before deciding locally; default 1000. */
  storeTimeoutMs?: number;
  /** The share of the limits one process keeps to while the store fails; default 0.25. */
  storeFallbackShare?: number;
}

export interface LeadInput {
  processId: string;
  /** The client's own is used when omitted. */
  projectId?: string;
  name?: string;
  firstName?: string;
  lastName?: string;
  phone?: string;
  email?: string;
  referenceId?: string;
  groupId?: string;
  metadata?: { [key: string]: JsonValue };
  [key: string]: JsonValue | undefined;
}

export interface Lead {
  _id: string;
  name?: string;
  firstName?: string;
  lastName?: string;
  phone?: string;
  email?: string;
  projectId?: string;
  processId?: string;
  groupId?: string;
  referenceId?: string;
  currentState?: string;
  lastDisposition?: string;
  metadata?: { [key: string]: JsonValue };
  createdAt?: string;
  updatedAt?: string;
  /** Fields the server sends that this version does not know are kept. */
  [key: string]: JsonValue | undefined;
}

export interface Activity {
  _id: string;
  leadId?: string;
  projectId?: string;
  processId?: string;
  referenceId?: string;
  type?: string;
  status?: "scheduled" | "in_progress" | "completed" | "failed" | string;
  fromState?: string;
  toState?: string;
  scheduledAt?: string;
  startedAt?: string;
  endedAt?: string;
  durationSec?: number;
  disposition?: string;
  dispositionType?: "success" | "failure" | "neutral" | string;
  summary?: string;
  recordingUrl?: string;
  transcript?: JsonValue;
  createdAt?: string;
  updatedAt?: string;
  [key: string]: JsonValue | undefined;
}

export type LeadWithActivities = Lead & { activities: Activity[] };

export type LeadTarget = { leadId: string } | { referenceId: string; processId: string };

export interface LeadChanges {
  metadata?: { [key: string]: JsonValue };
  name?: string;
  targetState?: string;
  disposition?: string;
  userId?: string;
}

export interface LeadQuery {
  processId?: string;
  state?: string;
  disposition?: string;
  groupId?: string;
  referenceId?: string;
  phone?: string;
  email?: string;
  createdFrom?: Date | string;
  createdTo?: Date | string;
  updatedFrom?: Date | string;
  updatedTo?: Date | string;
  sort?: "createdAt" | "updatedAt";
  order?: "asc" | "desc";
  page?: number;
  /** 1..100, default 20. */
  limit?: number;
  masked?: boolean;
}

export interface LeadPage {
  leads: Lead[];
  page: number;
  limit: number;
  total: number | null;
  totalPages: number | null;
  hasNextPage: boolean;
}

export interface BulkProgress {
  done: number;
  total: number;
  created: number;
  failed: number;
  unknown: number;
}

export interface BulkOptions {
  init?: boolean;
  /** 1..1000, default 1000. */
  chunkSize?: number;
  /** Requests in flight at once, default 4. */
  concurrency?: number;
  onProgress?: (progress: BulkProgress) => void;
  signal?: AbortSignal;
}

export interface BulkResult<I> {
  created: { index: number; lead: Lead }[];
  failed: { index: number; input: I; error: VoxErrorInfo }[];
  unknown: { index: number; input: I; error: VoxErrorInfo }[];
  requests: number;
}

export declare class VoxClient {
  constructor(options: VoxClientOptions);
  readonly projectId: string;
  readonly baseUrl: string;
  initiateLead(lead: LeadInput, options?: { init?: boolean; signal?: AbortSignal }): Promise<Lead>;
  initiateExistingLead(leadId: string, options?: { init?: boolean; signal?: AbortSignal }): Promise<Lead>;
  bulkInitiateLeads(leads: LeadInput[], options?: BulkOptions): Promise<BulkResult<LeadInput>>;
  bulkInitiateExisting(leadIds: string[], options?: BulkOptions): Promise<BulkResult<string>>;
  updateLead(target: LeadTarget, changes: LeadChanges, options?: { signal?: AbortSignal }): Promise<{ updateId?: string; message: string }>;
  getLead(target: LeadTarget, options?: { masked?: boolean; signal?: AbortSignal }): Promise<LeadWithActivities>;
  queryLeads(query?: LeadQuery, options?: { signal?: AbortSignal }): Promise<LeadPage>;
  /**
   * Every lead of the query, page by page, each once. Ends after the page that says there is no
   * next one, the page numbered `totalPages`, or a page that brings no lead not yielded before.
   */
  iterateLeads(query?: LeadQuery, options?: { signal?: AbortSignal }): AsyncIterableIterator<Lead>;
  getActivity(activityId: string, options?: { masked?: boolean; signal?: AbortSignal }): Promise<Activity>;
}

export type PhoneReason =
  | "empty"
  | "invalid_characters"
  | "too_short"
  | "too_long"
  | "invalid_country_code"
  | "invalid_number"
  | "repeating_digits"
  | "sequential_digits";

export interface PhoneCheck {
  valid: boolean;
  e164?: string;
  countryCode?: number;
  region?: string;
  nationalNumber?: string;
  reason?: PhoneReason;
  message?: string;
}

export interface PhoneOptions {
  defaultCountry?: string;
}

/**
 * Loads the WebAssembly module; idempotent, and a failure may be retried. In the web build it
 * fetches `web/vox_crm_bg.wasm` beside the entry, or what `input` gives (a URL, a Response,
 * the bytes, or a compiled module, for bundlers that do not emit the .wasm); the synchronous
 * functions need it to have resolved, `VoxClient`'s methods wait for it themselves. A failed load
 * rejects with a `VoxError` of code `not_initialized` (naming the address it tried). In Node and
 * workerd the module loads with the package, and this resolves at once.
 */
export declare function init(input?: WasmInput): Promise<void>;

/**
 * Where `init` finds the module: a URL of the .wasm, a fetch `Response` of it, its bytes, or a
 * compiled `WebAssembly.Module` (typed loosely, so that the types need no DOM library).
 */
export type WasmInput = string | URL | Response | ArrayBuffer | ArrayBufferView | object;

export declare function validatePhone(input: string, options?: PhoneOptions): PhoneCheck;
/**
 * validatePhone's verdicts on every input, in order, in one call into wasm (millions of
 * numbers a second in Node). Each item is read once; huge batches are checked in parts.
 */
export declare function validatePhones(inputs: string[], options?: PhoneOptions): PhoneCheck[];
/** E.164; throws VoxError "invalid_phone". */
export declare function normalizePhone(input: string, options?: PhoneOptions): string;
export declare function maskPhone(input: string, options?: { keepLast?: number; maskChar?: string }): string;
export declare function validateLead(lead: LeadInput, options?: PhoneOptions): { valid: boolean; errors: FieldError[] };

/** A webhook the CRM sent: the result of an update (`updateLead`). Times in REST are ISO; here `timestamp` is epoch ms as sent and `time` its ISO form. */
export interface WebhookUpdateResult {
  kind: "update_result";
  updateId: string;
  success: boolean | null;
  error: string | null;
  leadId: string | null;
  referenceId: string | null;
  timestamp: number | string | null;
  time: string | null;
  data: { [key: string]: JsonValue } | null;
  /** The whole body as received, unknown fields included. */
  raw: { [key: string]: JsonValue };
}

/** A webhook the CRM sent: an activity (call) changed. */
export interface WebhookActivity {
  kind: "activity";
  activityId: string | null;
  leadId: string | null;
  lastActivityId: string | null;
  processId: string | null;
  referenceId: string | null;
  timestamp: number | string | null;
  time: string | null;
  activity: {
    type?: string;
    status?: string;
    fromState?: string;
    toState?: string;
    scheduledAt?: number;
    result?: { analysis?: WebhookAnalysis; [key: string]: JsonValue | WebhookAnalysis | undefined };
    [key: string]: JsonValue | { analysis?: WebhookAnalysis; [key: string]: JsonValue | WebhookAnalysis | undefined } | undefined;
  } | null;
  raw: { [key: string]: JsonValue };
}

export interface WebhookAnalysis {
  success?: boolean;
  disposition?: string;
  dispositionType?: string;
  summary?: string;
}

export type WebhookEvent = WebhookUpdateResult | WebhookActivity;

/** Reads a webhook body (JSON text or an object); throws VoxError "invalid_argument" for anything else. */
export declare function parseWebhook(body: string | object): WebhookEvent;
/** Constant-time check of the webhook's Authorization (`{ token }`) or custom header; false when missing. */
export declare function verifyWebhookAuth(
  headers: Headers | Map<string, string> | { [name: string]: string | string[] | undefined },
  expected: { token: string } | { header: string; value: string },
): boolean;
