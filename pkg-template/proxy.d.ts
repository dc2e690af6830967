// Types of "vox-crm/proxy": the backend route a browser page's VoxClient uses as its baseUrl.

import type { JsonValue, LeadInput, LogEvent, VoxClientOptions, VoxStore } from "vox-crm";

/** The SDK calls a page can make through the proxy. `iterateLeads` pages with `queryLeads`: allowing one allows both. */
export type ProxyActionName =
  | "initiateLead"
  | "initiateExistingLead"
  | "bulkInitiateLeads"
  | "bulkInitiateExisting"
  | "updateLead"
  | "getLead"
  | "queryLeads"
  | "iterateLeads"
  | "getActivity";

/** An endpoint, for every call that uses it. */
export type ProxyEndpoint =
  | "POST /leads/initiate"
  | "POST /leads/bulk/initiate"
  | "POST /leads/update"
  | "GET /leads/get"
  | "GET /leads/query"
  | "GET /activities/get";

export type ProxyTarget = { leadId: string } | { referenceId: string; processId?: string };

/** The call a page's request stands for, as `authorize` sees it (after the allow-list). */
export type ProxyAction =
  | { name: "initiateLead"; method: "POST"; path: string; input: { lead: LeadInput; init?: boolean } }
  | { name: "initiateExistingLead"; method: "POST"; path: string; input: { leadId: string; init?: boolean } }
  | { name: "bulkInitiateLeads"; method: "POST"; path: string; input: { leads: LeadInput[]; init?: boolean } }
  | { name: "bulkInitiateExisting"; method: "POST"; path: string; input: { leadIds: string[]; init?: boolean } }
  | { name: "updateLead"; method: "POST"; path: string; input: { target: ProxyTarget; changes: { [key: string]: JsonValue }; projectId?: string } }
  | { name: "getLead"; method: "GET"; path: string; input: { target: ProxyTarget; masked: boolean; projectId?: string } }
  | { name: "queryLeads"; method: "GET"; path: string; input: { query: { [key: string]: string | number | boolean } } }
  | { name: "getActivity"; method: "GET"; path: string; input: { activityId: string; masked: boolean } };

/** What `authorize` may grant: the call, narrowed. */
export interface ProxyGrant {
  /** Whose per-visitor limits the call counts against (e.g. the session's user id); default: the client address. */
  visitor?: string;
  /** Reads are made with `masked: true`, and the leads writes answer with have their phones masked. */
  masked?: boolean;
  /** The page may use this process only: leads get it (another is refused), queries are confined to it, a lead or activity of another process is not found. */
  processId?: string;
  /** At most this many leads per bulk request. */
  maxBulk?: number;
}

export interface ProxyOptions {
  projectId: string;
  /** The API token. It is added on the server and never sent to the page. */
  token: string;
  /** The real API; default "https://crm.uservox.ai/api/v1". */
  baseUrl?: string;
  /** What pages may do (deny by default): SDK method names, or endpoints such as "GET /leads/get". Anything else is refused with 403. */
  allow: (ProxyActionName | ProxyEndpoint)[];
  /**
   * Your session check, after the allow-list. `true` or a grant lets the call through (the grant
   * narrows it); a Response is sent as it is (e.g. 401); anything else is refused with 403.
   */
  authorize?: (request: Request, action: ProxyAction) => boolean | ProxyGrant | Response | Promise<boolean | ProxyGrant | Response>;
  /** Per visitor; default { requests: 60, perMs: 60000, duplicates: 2 } (duplicates: leads refused as duplicates within the duplicate guard's window). `false`: none. */
  limit?: { requests: number; perMs: number; duplicates?: number } | false;
  /** Pages of other origins that may call it (CORS); default: same origin only. */
  allowedOrigins?: string[];
  /** Where it is mounted, e.g. "/api/vox"; default: any path that ends with an endpoint's path. */
  basePath?: string;
  /** Default 1048576 (1 MiB); a larger body is refused with 413. */
  maxBodyBytes?: number;
  /** Key visitors without a `visitor` by the first X-Forwarded-For address (only behind a proxy that sets it). */
  trustForwardedFor?: boolean;
  /** Let an Authorization header of your own (a session token) through to `authorize`; it is never forwarded. Default: refused with 400. */
  allowAuthorizationHeader?: boolean;
  /** The traffic store shared with your other VoxClients (e.g. redisStore from "vox-crm/redis"). */
  store?: VoxStore;
  fetch?: typeof fetch;
  /** The server-side client's events, and `proxy_refused` for each request the proxy refused itself. */
  logger?: (event: LogEvent) => void;
  /** More options of the server-side VoxClient; the proxy's defaults are { timeoutMs: 10000, maxRetries: 0 } (the page's client does the retrying). */
  client?: Omit<VoxClientOptions, "projectId" | "token" | "baseUrl" | "store" | "fetch" | "logger">;
}

/** A second handler argument the client address is read from: `{ clientAddress }`, Deno's `info` or Bun's `server`. */
export type ProxyContext = { clientAddress?: string } | { remoteAddr: { hostname: string } } | { requestIP(request: Request): { address: string } | null };

export type ProxyHandler = (request: Request, context?: ProxyContext) => Promise<Response>;

export declare function createProxyHandler(options: ProxyOptions): ProxyHandler;

/** For Node's http and Express: `http.createServer(toNodeHandler(handler))`, `app.use("/api/vox", toNodeHandler(handler))`. */
export declare function toNodeHandler(handler: ProxyHandler): (req: object, res: object) => void;
