// Compiled with `tsc --strict` (never run): the published types describe docs/sdk.md precisely.
// Lines marked @ts-expect-error must fail to compile, or tsc reports them.
import {
  type BulkResult,
  type ErrorCode,
  type Lead,
  type LeadInput,
  maskPhone,
  normalizePhone,
  type PhoneCheck,
  VoxClient,
  VoxError,
  validateLead,
  validatePhone,
  validatePhones,
} from "vox-crm";

const client = new VoxClient({ projectId: "p", token: "t", rateLimit: false, duplicateGuard: { max: 5, windowMs: 60000 } });
const processId = "6650a1b2c3d4e5f6012345a1";

async function main(): Promise<void> {
  const lead: Lead = await client.initiateLead({ name: "A", phone: "9845317206", processId, metadata: { a: 1 } });
  const id: string = lead._id;
  const state: string | undefined = lead.currentState;
  const bulk: BulkResult<LeadInput> = await client.bulkInitiateLeads([{ name: "B", email: "b@x.co", processId }], {
    chunkSize: 500,
    onProgress: (p) => p.done + p.total,
  });
  const firstIndex: number | undefined = bulk.created[0]?.index;
  const code: ErrorCode | undefined = bulk.failed[0]?.error.code;
  const existing = await client.bulkInitiateExisting([id]);
  const inputId: string | undefined = existing.failed[0]?.input;
  const upd = await client.updateLead({ referenceId: "r", processId }, { targetState: "interested" });
  const message: string = upd.message;
  const full = await client.getLead({ leadId: id }, { masked: true });
  const activityStatus = full.activities[0]?.status;
  const page = await client.queryLeads({ createdFrom: new Date(), limit: 100, order: "asc" });
  const more: boolean = page.hasNextPage;
  for await (const l of client.iterateLeads({ state: "new" })) {
    const lid: string = l._id;
    void lid;
  }
  const act = await client.getActivity("a");
  const dur: number | undefined = act.durationSec;
  void [state, firstIndex, code, inputId, message, activityStatus, more, dur];

  try {
    await client.getLead({ leadId: "x" });
  } catch (e) {
    if (e instanceof VoxError) {
      const c: ErrorCode = e.code;
      const s: number | undefined = e.status;
      void [c, s];
    }
  }

  // @ts-expect-error processId is required
  await client.initiateLead({ name: "no process" });
  // @ts-expect-error a target needs leadId or referenceId + processId
  await client.getLead({ referenceId: "r" });
  // @ts-expect-error limit is a number
  await client.queryLeads({ limit: "10" });
  // @ts-expect-error unknown client option types are refused
  new VoxClient({ projectId: "p", rateLimit: true });
}

const check: PhoneCheck = validatePhone("+919845317206", { defaultCountry: "IN" });
const e164: string | undefined = check.e164;
const checks: PhoneCheck[] = validatePhones(["1", "2"]);
const normal: string = normalizePhone("9845317206");
const masked: string = maskPhone(normal, { keepLast: 2, maskChar: "#" });
const verdict: boolean = validateLead({ name: "A", processId }).valid;
void [main, e164, checks, masked, verdict];

import { parseWebhook, verifyWebhookAuth, type WebhookEvent } from "vox-crm";

const event: WebhookEvent = parseWebhook('{"action_type":"update","updateId":"u"}');
if (event.kind === "activity") {
  const to: string | undefined = event.activity?.toState;
  void to;
} else {
  const ok: boolean | null = event.success;
  void ok;
}
const authed: boolean = verifyWebhookAuth({ authorization: "Bearer x" }, { token: "x" });
// @ts-expect-error expected must be { token } or { header, value }
verifyWebhookAuth({}, { secret: "x" });
void authed;

// A traffic store shared by processes: the Redis store, or one of the caller's own.
import { type RedisClientLike, redisStore } from "vox-crm/redis";

declare const redisClient: RedisClientLike;
const shared = new VoxClient({ projectId: "p", token: "t", store: redisStore(redisClient, { prefix: "vox" }), storeTimeoutMs: 500 });
void shared;
const own = new VoxClient({ projectId: "p", store: { apply: async (op) => (op.op === "acquire" ? { ticket: "1" } : {}) } });
void own;
async function detailsOfDuplicates(c: VoxClient): Promise<void> {
  const r = await c.bulkInitiateLeads([]);
  for (const f of r.failed) if (f.error.code === "duplicate_submission" && f.error.details && !Array.isArray(f.error.details)) void f.error.details.leadId;
}
void detailsOfDuplicates;

// init: optional everywhere, awaitable, with or without where the module is.
import { init } from "vox-crm";

async function boot(): Promise<void> {
  await init();
  await init(new URL("https://cdn.example/vox_crm_bg.wasm"));
  const bytes: Uint8Array = new Uint8Array(8);
  await init(bytes);
}
void boot;

// vox-crm/proxy: the handler in the web-standard shape, a grant, a Response from authorize.
import { createProxyHandler, type ProxyAction, type ProxyGrant, toNodeHandler } from "vox-crm/proxy";

const proxy = createProxyHandler({
  projectId: "p",
  token: "t",
  allow: ["initiateLead", "GET /leads/get"],
  limit: { requests: 10, perMs: 60000 },
  authorize: async (request: Request, action: ProxyAction): Promise<ProxyGrant | Response | boolean> => {
    if (!request.headers.get("cookie")) return new Response(null, { status: 401 });
    if (action.name === "initiateLead") void action.input.lead.phone;
    return { visitor: "u1", masked: true, processId: "x", maxBulk: 100 };
  },
  client: { timeoutMs: 5000 },
});
async function serve(request: Request): Promise<Response> {
  return proxy(request, { clientAddress: "10.0.0.1" });
}
void serve;
void toNodeHandler(proxy);
