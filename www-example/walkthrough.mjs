// A walkthrough of every vox-crm method against a Vox CRM (the local sandbox by default).
// Usage: node www-example/walkthrough.mjs [baseUrl]   (env VOX_TOKEN, VOX_PROJECT_ID, VOX_PROCESS_ID)
import { maskPhone, normalizePhone, VoxClient, VoxError, validateLead, validatePhone, validatePhones } from "../dist/vox-crm/node/index.mjs";

const baseUrl = process.argv[2] || process.env.VOX_BASE_URL || "http://127.0.0.1:4010/api/v1";
const token = process.env.VOX_TOKEN || "sk_test_vox_sandbox";
const projectId = process.env.VOX_PROJECT_ID || "6650a1b2c3d4e5f601234567";
const processId = process.env.VOX_PROCESS_ID || "6650a1b2c3d4e5f6012345a1";

const bold = (s) => (process.stdout.isTTY ? `\x1b[1m${s}\x1b[0m` : s);
const step = (title) => console.log(`\n${bold(`▸ ${title}`)}`);
const show = (label, value) => console.log(`  ${label.padEnd(22)} ${typeof value === "string" ? value : JSON.stringify(value)}`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Distinct, realistic Indian mobile numbers for this run (no repeating or sequential patterns).
const runSeed = Date.now() % 100000;
let counter = 0;
function nextPhone() {
  counter += 1;
  const n = (runSeed * 7919 + counter * 104729) % 100000000;
  return `+9197${String(n).padStart(8, "0")}`;
}
function freshPhone() {
  for (;;) {
    const p = nextPhone();
    if (validatePhone(p).valid) return p;
  }
}

const client = new VoxClient({
  projectId,
  token,
  baseUrl,
  logger: (e) => {
    if (e.type === "retry" || e.type === "rate_limit_wait" || e.type === "duplicate_refused") show(`  [log ${e.type}]`, e.message || `${e.durationMs} ms`);
  },
});
console.log(`vox-crm walkthrough against ${baseUrl} (project ${projectId})`);

step("Phone numbers (synchronous, no network)");
for (const input of ["098453 17206", "+1 (415) 555-2671", "9999999999", "9876543210", "8888833333", "12345"]) {
  const c = validatePhone(input);
  show(input, c.valid ? `valid ${c.e164} (${c.region})` : `invalid: ${c.reason}`);
}
show("normalizePhone", normalizePhone("0 98453-17206"));
show("maskPhone", maskPhone("+919845317206"));
show(
  "validatePhones x3",
  validatePhones(["+919845317206", "abc", "+442079460958"]).map((c) => c.valid),
);
show(
  "validateLead",
  validateLead({ name: "A", processId }).errors.map((e) => `${e.field}: ${e.code}`),
);

step("initiateLead: one lead, queued for the AI caller");
const reference = `demo-${runSeed}-1`;
const lead = await client.initiateLead({
  name: "Asha Rao",
  phone: freshPhone().slice(3), // typed as a bare national number: sent as E.164
  email: "Asha.Rao@Example.com",
  processId,
  referenceId: reference,
  metadata: { source: "walkthrough" },
});
show("created", `${lead._id} ${lead.name} ${maskPhone(lead.phone)} state=${lead.currentState}`);

step("initiateLead with init: false, then initiateExistingLead");
const later = await client.initiateLead({ firstName: "Ravi", lastName: "Kumar", phone: freshPhone(), processId }, { init: false });
show("created (not queued)", `${later._id} state=${later.currentState}`);
const queued = await client.initiateExistingLead(later._id);
show("queued now", `${queued._id} state=${queued.currentState}`);

step("Refused locally, before any request");
try {
  await client.initiateLead({ name: "No contact", processId });
} catch (e) {
  show(
    e instanceof VoxError ? e.code : "?",
    e.details.map((d) => `${d.field}: ${d.message}`),
  );
}
try {
  await client.initiateLead({ name: "Asha again", phone: lead.phone, processId });
} catch (e) {
  show(e.code, e.message);
}

step("bulkInitiateLeads: 2,500 leads (3 bulk requests, after asking which exist), some bad on purpose");
const leads = Array.from({ length: 2500 }, (_, i) => ({ name: `Bulk lead ${i}`, phone: freshPhone(), processId, groupId: "walkthrough" }));
leads[7] = { name: "Bad phone", phone: "12345", processId };
leads[8] = { ...leads[9] }; // duplicate of the next one: refused locally
let last;
const bulk = await client.bulkInitiateLeads(leads, { init: false, onProgress: (p) => (last = p) });
show("created / failed / unknown", `${bulk.created.length} / ${bulk.failed.length} / ${bulk.unknown.length} in ${bulk.requests} requests`);
show("last progress", last);
for (const f of bulk.failed) show(`  failed #${f.index}`, `${f.error.code}: ${f.error.message}`);

step("bulkInitiateExisting: queue three of them");
const ids = bulk.created.slice(0, 3).map((c) => c.lead._id);
const existing = await client.bulkInitiateExisting([...ids, "ffffffffffffffffffffffff"]);
show("queued / failed", `${existing.created.length} / ${existing.failed.length} (${existing.failed[0]?.error.message})`);

step("updateLead by referenceId");
const update = await client.updateLead({ referenceId: reference, processId }, { metadata: { priority: "high" }, name: "Asha R. Rao" });
show("update", update);

step("getLead with its activities (waiting for the simulated call)");
let detail;
for (let i = 0; i < 40; i++) {
  detail = await client.getLead({ leadId: lead._id }, { masked: true });
  if (detail.activities.some((a) => a.status === "completed" || a.status === "failed")) break;
  await sleep(500);
}
show("lead", `${detail.name} ${detail.phone} state=${detail.currentState} disposition=${detail.lastDisposition}`);
for (const a of detail.activities) show(`  ${a.type} ${a.status}`, `${a.fromState} → ${a.toState ?? "…"} ${a.summary ?? ""}`);

step("getActivity");
const activity = await client.getActivity(detail.activities[0]._id);
show("activity", `${activity._id} ${activity.status} ${activity.recordingUrl ?? ""}`);

step("queryLeads and iterateLeads");
const page = await client.queryLeads({ groupId: "walkthrough", limit: 100, sort: "createdAt", order: "asc" });
show("page 1", `${page.leads.length} of ${page.total} (${page.totalPages} pages, hasNextPage=${page.hasNextPage})`);
let n = 0;
for await (const l of client.iterateLeads({ groupId: "walkthrough", limit: 100 })) n += l._id ? 1 : 0;
show("iterated", `${n} leads, each once`);

step("Errors are VoxErrors with codes");
try {
  await client.getLead({ leadId: "ffffffffffffffffffffffff" });
} catch (e) {
  show(`${e.code} (${e.status})`, e.message);
}
console.log(`\n${bold("Walkthrough complete.")}`);
