// The Vox CRM example page: four panels over the vox-crm web build.
//
// The page holds no token. Its VoxClient talks to this site's own /api/v1, and the site's server
// (serve.mjs) forwards those requests to the CRM with the token added on the server side
// (docs/sdk.md, "Browsers"). The project and process ids come from /config.json, which has no secrets.
//
// Everything shown is built with textContent / DOM nodes, never innerHTML with data, so lead data
// cannot inject markup.

const API_BASE = location.origin + "/api/v1";
const REFRESH_MS = 1500;
const MAX_TABLE_ROWS = 500;

let vox; // the vox-crm module
let config; // { projectId, processes: [{ id, name, states? }], crm: { kind, host } }
const clients = new Map(); // defaultCountry -> VoxClient (they share one limiter and guard per project)

// ---------------------------------------------------------------------------------------------------------
// Small helpers

const $ = (selector, root = document) => root.querySelector(selector);
const numberFormat = new Intl.NumberFormat("en-US");
const fmtNumber = (n) => numberFormat.format(n);

/** el("p", { class: "x", onclick }, "text", child, ...): a DOM node; strings become text nodes. */
function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") node.addEventListener(key.slice(2), value);
    else if (key === "class") node.className = value;
    else if (key === "dataset") Object.assign(node.dataset, value);
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  append(node, children);
  return node;
}

function append(node, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function clear(node, ...children) {
  node.replaceChildren();
  return append(node, children);
}

function fmtDate(iso, withSeconds = false) {
  if (!iso) return "";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  return d.toLocaleString(undefined, { dateStyle: "medium", timeStyle: withSeconds ? "medium" : "short" });
}

function showFull() {
  return $("#show-full").checked;
}

/** A phone as shown: masked with maskPhone unless "Show full numbers" is on. */
function fmtPhone(phone) {
  if (!phone) return "";
  return showFull() ? phone : vox.maskPhone(phone);
}

/** A span that re-renders when the "Show full numbers" switch changes. */
function phoneNode(phone) {
  if (!phone) return el("span", { class: "muted" }, "—");
  return el("span", { class: "mono nowrap", dataset: { phone } }, fmtPhone(phone));
}

function processName(id) {
  return config.processes.find((p) => p.id === id)?.name ?? id ?? "";
}

function stateTone(state) {
  if (["interested", "converted", "resolved"].includes(state)) return "ok";
  if (["not_interested", "lost"].includes(state)) return "bad";
  if (["callback", "followup_1", "followup_2", "escalated"].includes(state)) return "warn";
  if (state === "make_first_call") return "info";
  return "accent";
}

function dispositionTone(type) {
  return { success: "ok", failure: "bad", neutral: "warn" }[type] ?? "accent";
}

function client(country = "IN") {
  let c = clients.get(country);
  if (!c) {
    // No token: the baseUrl is this site's own proxy route, which adds it.
    c = new vox.VoxClient({ projectId: config.projectId, baseUrl: API_BASE, defaultCountry: country });
    clients.set(country, c);
  }
  return c;
}

/** The VoxError (or any error) as a box: code, status, message, field details, retry hint. */
function errorBox(err, title) {
  const isVox = vox && err instanceof vox.VoxError;
  const details = Array.isArray(err?.details) ? err.details : [];
  return el(
    "div",
    { class: "error-box", role: "alert", dataset: { code: err?.code ?? "error" } },
    title ? el("strong", {}, title, " ") : null,
    el("span", { class: "code" }, isVox ? err.code : (err?.name ?? "Error")),
    err?.status ? el("span", { class: "muted" }, ` · HTTP ${err.status}`) : null,
    el("p", { class: "error-message" }, err?.message ?? String(err)),
    details.length
      ? el(
          "ul",
          { class: "error-details" },
          details.map((d) =>
            el(
              "li",
              { dataset: { field: d.field ?? "" } },
              el("strong", {}, d.field ?? "lead"),
              ": ",
              d.message ?? "",
              d.code ? el("span", { class: "muted" }, ` (${d.code})`) : null,
            ),
          ),
        )
      : null,
    err?.retryAfterMs ? el("p", { class: "muted" }, `Try again in ${Math.ceil(err.retryAfterMs / 1000)} s.`) : null,
  );
}

function fatal(message) {
  const banner = $("#fatal");
  banner.textContent = message;
  banner.hidden = false;
  setConn("error", "Not ready");
}

function setConn(state, text) {
  $("#conn").dataset.state = state;
  $("#conn-text").textContent = text;
}

function fillProcessSelect(select, { any = false } = {}) {
  if (!any) select.replaceChildren();
  for (const p of config.processes) select.append(el("option", { value: p.id }, `${p.name} · …${p.id.slice(-4)}`));
}

// ---------------------------------------------------------------------------------------------------------
// Tabs and routes: #new, #bulk, #search, #lead/<leadId>

const ROUTES = ["new", "bulk", "search", "lead"];
let currentRoute = "new";

function setupTabs() {
  const tabs = [...document.querySelectorAll('[role="tab"]')];
  for (const tab of tabs) {
    tab.addEventListener("click", () => {
      const route = tab.dataset.route;
      location.hash = route === "lead" && detail.id ? `#lead/${detail.id}` : `#${route}`;
    });
    tab.addEventListener("keydown", (event) => {
      const i = tabs.indexOf(tab);
      const next = { ArrowRight: i + 1, ArrowLeft: i - 1, Home: 0, End: tabs.length - 1 }[event.key];
      if (next === undefined) return;
      event.preventDefault();
      const target = tabs[(next + tabs.length) % tabs.length];
      target.focus();
      target.click();
    });
  }
  window.addEventListener("hashchange", route);
}

function route() {
  const hash = location.hash.replace(/^#/, "");
  const [name, arg] = hash.split("/");
  currentRoute = ROUTES.includes(name) ? name : "new";
  for (const tab of document.querySelectorAll('[role="tab"]')) {
    const selected = tab.dataset.route === currentRoute;
    tab.setAttribute("aria-selected", String(selected));
    tab.tabIndex = selected ? 0 : -1;
    $(`#${tab.getAttribute("aria-controls")}`).hidden = !selected;
  }
  if (currentRoute === "lead") {
    if (arg) openLead(decodeURIComponent(arg));
    else if (detail.id) scheduleRefresh(0);
  } else {
    stopRefresh();
  }
  if (currentRoute === "search" && !search.loaded) runSearch();
}

// ---------------------------------------------------------------------------------------------------------
// New lead

function setupNewLead() {
  const form = $("#lead-form");
  fillProcessSelect($("#lead-process"));
  $("#lead-phone").addEventListener("input", updatePhoneCheck);
  $("#lead-country").addEventListener("change", updatePhoneCheck);
  form.addEventListener("reset", () =>
    setTimeout(() => {
      updatePhoneCheck();
      markInvalid(form, []);
    }),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    await submitLead();
  });
  updatePhoneCheck();
}

/** The live check under the phone field: valid or the reason, E.164 and masked form. */
function updatePhoneCheck() {
  const input = $("#lead-phone");
  const box = $("#phone-check");
  const value = input.value;
  if (value.trim() === "") {
    box.dataset.state = "empty";
    input.removeAttribute("aria-invalid");
    clear(box, el("span", { class: "pill" }, "Type a number"), el("span", { class: "phone-msg muted" }, "Indian numbers may omit +91."));
    return;
  }
  const check = vox.validatePhone(value, { defaultCountry: $("#lead-country").value });
  box.dataset.state = check.valid ? "valid" : "invalid";
  box.dataset.reason = check.reason ?? "";
  input.setAttribute("aria-invalid", String(!check.valid));
  if (check.valid) {
    clear(
      box,
      el("span", { class: "pill ok" }, "✓ Valid"),
      el("span", { class: "kv" }, el("b", {}, "E.164"), el("span", { class: "mono", id: "phone-e164" }, check.e164)),
      el("span", { class: "kv" }, el("b", {}, "Masked"), el("span", { class: "mono", id: "phone-masked" }, vox.maskPhone(check.e164))),
      check.region ? el("span", { class: "kv" }, el("b", {}, "Region"), el("span", {}, check.region)) : null,
    );
  } else {
    clear(
      box,
      el("span", { class: "pill bad" }, "✗ Invalid"),
      el("span", { class: "pill", id: "phone-reason" }, check.reason),
      el("span", { class: "phone-msg" }, check.message ?? ""),
      el("span", { class: "kv" }, el("b", {}, "Masked"), el("span", { class: "mono", id: "phone-masked" }, vox.maskPhone(value))),
    );
  }
}

const LEAD_FIELDS = {
  name: "#lead-name",
  firstName: "#lead-name",
  phone: "#lead-phone",
  email: "#lead-email",
  referenceId: "#lead-ref",
  processId: "#lead-process",
  metadata: "#lead-meta",
};

function markInvalid(form, fields) {
  for (const node of form.querySelectorAll("[aria-invalid]")) if (node.id !== "lead-phone") node.removeAttribute("aria-invalid");
  for (const field of fields) {
    const selector = LEAD_FIELDS[field];
    if (selector) $(selector).setAttribute("aria-invalid", "true");
  }
}

async function submitLead() {
  const form = $("#lead-form");
  const result = $("#lead-result");
  const button = $("#lead-submit");
  const lead = { processId: $("#lead-process").value };
  for (const [key, selector] of [
    ["name", "#lead-name"],
    ["phone", "#lead-phone"],
    ["email", "#lead-email"],
    ["referenceId", "#lead-ref"],
  ]) {
    const value = $(selector).value.trim();
    if (value) lead[key] = value;
  }
  const meta = $("#lead-meta").value.trim();
  if (meta) {
    let parsed;
    try {
      parsed = JSON.parse(meta);
    } catch {
      parsed = undefined;
    }
    if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) {
      markInvalid(form, ["metadata"]);
      clear(
        result,
        el("h2", {}, "Result"),
        errorBox({ name: "Error", code: "invalid_metadata", message: 'Metadata must be a JSON object, like {"plan": "gold"}.' }),
      );
      return;
    }
    lead.metadata = parsed;
  }
  button.disabled = true;
  button.textContent = "Creating…";
  try {
    const created = await client($("#lead-country").value).initiateLead(lead, { init: $("#lead-init").checked });
    markInvalid(form, []);
    clear(result, el("h2", {}, "Result"), leadCard(created));
    search.loaded = false;
    connectionCheck();
    for (const selector of ["#lead-name", "#lead-phone", "#lead-email", "#lead-ref", "#lead-meta"]) $(selector).value = "";
    updatePhoneCheck();
  } catch (err) {
    markInvalid(
      form,
      (err?.details ?? []).map((d) => d.field),
    );
    clear(result, el("h2", {}, "Result"), el("div", { class: "result-head" }, el("span", { class: "pill bad" }, "Not created")), errorBox(err));
  } finally {
    button.disabled = false;
    button.textContent = "Create lead";
  }
}

function leadCard(lead) {
  return el(
    "div",
    { class: "created", dataset: { leadId: lead._id } },
    el(
      "div",
      { class: "result-head" },
      el("span", { class: "pill ok" }, "✓ Lead created"),
      el("span", { class: `badge ${stateTone(lead.currentState)}` }, lead.currentState ?? ""),
    ),
    el(
      "dl",
      { class: "fields" },
      field("Lead ID", el("span", { class: "mono", id: "created-id" }, lead._id)),
      field("Name", lead.name ?? [lead.firstName, lead.lastName].filter(Boolean).join(" ")),
      field("Phone", phoneNode(lead.phone)),
      lead.email ? field("Email", lead.email) : null,
      lead.referenceId ? field("Reference ID", lead.referenceId) : null,
      field("Process", processName(lead.processId)),
      field("Created", fmtDate(lead.createdAt, true)),
    ),
    el("div", { class: "actions spaced" }, el("a", { href: `#lead/${lead._id}`, class: "open-lead" }, "Open lead and follow its call →")),
  );
}

function field(label, value, wide = false) {
  return el(
    "div",
    { class: wide ? "wide" : null },
    el("dt", {}, label),
    el("dd", {}, value === "" || value === undefined || value === null ? el("span", { class: "muted" }, "—") : value),
  );
}

// ---------------------------------------------------------------------------------------------------------
// Bulk import

const bulk = { rows: null, source: "", running: null, lastResult: null };

function setupBulk() {
  fillProcessSelect($("#bulk-process"));
  let timer;
  $("#bulk-text").addEventListener("input", () => {
    $("#bulk-file").value = "";
    clearTimeout(timer);
    timer = setTimeout(() => parseBulk($("#bulk-text").value, "pasted text"), 150);
  });
  $("#bulk-file").addEventListener("change", async () => {
    const file = $("#bulk-file").files?.[0];
    if (!file) return;
    const text = await file.text();
    $("#bulk-text").value = "";
    parseBulk(text, file.name);
  });
  $("#bulk-sample").addEventListener("click", () => {
    const n = Math.max(1, Math.min(20000, Number($("#bulk-sample-size").value) || 250));
    $("#bulk-file").value = "";
    $("#bulk-text").value = sampleCsv(n);
    parseBulk($("#bulk-text").value, "sample");
  });
  $("#bulk-start").addEventListener("click", runBulk);
  $("#bulk-cancel").addEventListener("click", () => bulk.running?.abort());
  $("#bulk-download").addEventListener("click", downloadFailures);
}

/** RFC 4180 CSV: quoted fields, "" escapes, commas and newlines inside quotes, CRLF or LF. */
export function parseCsv(text) {
  const rows = [];
  let row = [];
  let cell = "";
  let quoted = false;
  let line = 1;
  let rowLine = 1;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else {
        if (ch === "\n") line++;
        cell += ch;
      }
    } else if (ch === '"' && cell === "") quoted = true;
    else if (ch === ",") {
      row.push(cell);
      cell = "";
    } else if (ch === "\n" || ch === "\r") {
      if (ch === "\r" && text[i + 1] === "\n") i++;
      row.push(cell);
      rows.push({ cells: row, line: rowLine });
      row = [];
      cell = "";
      line++;
      rowLine = line;
    } else cell += ch;
  }
  if (cell !== "" || row.length) {
    row.push(cell);
    rows.push({ cells: row, line: rowLine });
  }
  return rows.filter((r) => r.cells.some((c) => c.trim() !== ""));
}

const HEADER_ALIASES = {
  name: "name",
  fullname: "name",
  firstname: "firstName",
  lastname: "lastName",
  phone: "phone",
  mobile: "phone",
  phonenumber: "phone",
  email: "email",
  emailaddress: "email",
  referenceid: "referenceId",
  reference: "referenceId",
  ref: "referenceId",
  refid: "referenceId",
  externalid: "referenceId",
  groupid: "groupId",
};

function parseBulk(text, source) {
  const rows = parseCsv(text);
  let columns = ["name", "phone", "email", "referenceId"];
  let header = false;
  if (rows.length) {
    const keys = rows[0].cells.map(
      (c) =>
        HEADER_ALIASES[
          c
            .trim()
            .toLowerCase()
            .replace(/[^a-z]/g, "")
        ],
    );
    if (keys.some((k) => k === "phone" || k === "email") || keys.filter(Boolean).length >= 2) {
      columns = keys;
      header = true;
      rows.shift();
    }
  }
  const leads = [];
  const lines = [];
  for (const { cells, line } of rows) {
    const lead = {};
    columns.forEach((key, i) => {
      const value = (cells[i] ?? "").trim();
      if (key && value) lead[key] = value;
    });
    leads.push(lead);
    lines.push(line);
  }
  bulk.rows = { leads, lines };
  bulk.source = source;
  const parsed = $("#bulk-parsed");
  parsed.dataset.rows = String(leads.length);
  if (leads.length === 0) {
    parsed.textContent = "No rows yet.";
  } else {
    clear(
      parsed,
      el("strong", {}, `${fmtNumber(leads.length)} rows`),
      ` ready from ${source}`,
      header ? ` (header: ${columns.filter(Boolean).join(", ")})` : " (no header: name, phone, email, referenceId)",
    );
  }
  $("#bulk-start").disabled = leads.length === 0 || !!bulk.running;
}

/** Sample rows with unique valid mobile numbers, plus a few broken ones to show failures. */
function sampleCsv(n) {
  const stamp = Date.now().toString(36);
  const first = ["Asha", "Ravi", "Meera", "Arjun", "Priya", "Kabir", "Isha", "Vikram", "Nisha", "Rohan", "Anita", "Dev"];
  const last = ["Rao", "Kumar", "Iyer", "Shah", "Menon", "Gupta", "Nair", "Singh", "Das", "Reddy", "Patel", "Bose"];
  const seen = new Set();
  const out = ["name,phone,email,referenceId"];
  const bad = new Map(
    n >= 20
      ? [
          [7, "12345"],
          [Math.floor(n / 2), "99999 99999"],
          [n - 3, "98765 43210"],
        ]
      : [],
  );
  for (let i = 0; i < n; i++) {
    const name = `${first[i % first.length]} ${last[Math.floor(i / first.length) % last.length]}`;
    let phone = bad.get(i);
    while (!phone) {
      const candidate = `${6 + Math.floor(Math.random() * 4)}${String(Math.floor(Math.random() * 1e9)).padStart(9, "0")}`;
      if (!seen.has(candidate) && vox.validatePhone(candidate).valid) {
        seen.add(candidate);
        phone = `${candidate.slice(0, 5)} ${candidate.slice(5)}`;
      }
    }
    const email = i % 3 === 0 ? `${name.toLowerCase().replace(" ", ".")}.${stamp}${i}@example.com` : "";
    out.push(`${name},${phone},${email},sample-${stamp}-${i}`);
  }
  return out.join("\n") + "\n";
}

function setProgress({ done, total, created, failed, unknown }) {
  const pct = total ? Math.round((done / total) * 100) : 0;
  const bar = $("#bulk-progress");
  bar.setAttribute("aria-valuenow", String(pct));
  bar.setAttribute("aria-valuetext", `${done} of ${total} leads`);
  bar.dataset.state = done === total ? "done" : "running";
  $("#bulk-bar").style.width = `${pct}%`;
  const text = $("#bulk-progress-text");
  text.dataset.done = String(done);
  text.dataset.total = String(total);
  text.textContent = `${fmtNumber(done)} of ${fmtNumber(total)} leads · ${fmtNumber(created)} created · ${fmtNumber(failed)} failed · ${fmtNumber(unknown)} unknown`;
}

async function runBulk() {
  if (!bulk.rows?.leads.length || bulk.running) return;
  const processId = $("#bulk-process").value;
  const leads = bulk.rows.leads.map((lead) => ({ processId, ...lead }));
  const lines = bulk.rows.lines;
  const controller = new AbortController();
  bulk.running = controller;
  $("#bulk-start").disabled = true;
  $("#bulk-cancel").disabled = false;
  $("#bulk-result").hidden = true;
  setProgress({ done: 0, total: leads.length, created: 0, failed: 0, unknown: 0 });
  $("#bulk-progress").dataset.state = "running";
  const started = performance.now();
  try {
    const result = await client().bulkInitiateLeads(leads, {
      init: $("#bulk-init").checked,
      signal: controller.signal,
      onProgress: setProgress,
    });
    const seconds = (performance.now() - started) / 1000;
    setProgress({ done: leads.length, total: leads.length, created: result.created.length, failed: result.failed.length, unknown: result.unknown.length });
    renderBulkResult(result, leads, lines, seconds);
    if (controller.signal.aborted) {
      $("#bulk-progress").dataset.state = "error";
      $("#bulk-summary").prepend(
        el("strong", {}, "Cancelled. "),
        "Rows that were not sent are listed with the code aborted; rows in flight when you cancelled are unknown. ",
      );
    }
    search.loaded = false; // the next visit to Search lists the new leads
    connectionCheck();
  } catch (err) {
    $("#bulk-progress").dataset.state = "error";
    clear($("#bulk-progress-text"), errorBox(err, err?.code === "aborted" ? "Cancelled." : "The import stopped:"));
  } finally {
    bulk.running = null;
    $("#bulk-cancel").disabled = true;
    $("#bulk-start").disabled = !bulk.rows?.leads.length;
  }
}

function renderBulkResult(result, leads, lines, seconds) {
  const box = $("#bulk-result");
  box.hidden = false;
  for (const [id, list] of [
    ["#bulk-created", result.created],
    ["#bulk-failed", result.failed],
    ["#bulk-unknown", result.unknown],
  ]) {
    $(id).textContent = fmtNumber(list.length);
    $(id).dataset.count = String(list.length);
  }
  $("#bulk-requests").textContent = fmtNumber(result.requests);
  $("#bulk-requests").dataset.count = String(result.requests);
  $("#bulk-summary").textContent =
    `${fmtNumber(leads.length)} rows from ${bulk.source} in ${seconds.toFixed(1)} s with ${fmtNumber(result.requests)} HTTP request${result.requests === 1 ? "" : "s"}. ` +
    "Failed rows are permanent (fix the data, do not resend as is); unknown ones may or may not exist.";
  const problems = [...result.failed.map((f) => ({ ...f, outcome: "failed" })), ...result.unknown.map((u) => ({ ...u, outcome: "unknown" }))].sort(
    (a, b) => a.index - b.index,
  );
  bulk.lastResult = { problems, lines };
  const tbody = $("#bulk-failures tbody");
  tbody.replaceChildren();
  if (problems.length === 0) {
    tbody.append(el("tr", {}, el("td", { colspan: 6, class: "empty" }, "Every row was created.")));
  }
  for (const p of problems.slice(0, MAX_TABLE_ROWS)) {
    tbody.append(
      el(
        "tr",
        { dataset: { index: p.index, outcome: p.outcome, code: p.error.code } },
        el("td", { class: "mono" }, lines[p.index] ?? p.index + 1),
        el("td", {}, p.input?.name ?? p.input?.firstName ?? ""),
        el("td", {}, phoneNode(p.input?.phone)),
        el("td", {}, el("span", { class: `pill ${p.outcome === "failed" ? "bad" : "warn"}` }, p.outcome)),
        el("td", { class: "mono" }, p.error.code),
        el("td", {}, p.error.message),
      ),
    );
  }
  if (problems.length > MAX_TABLE_ROWS) {
    tbody.append(el("tr", {}, el("td", { colspan: 6, class: "empty" }, `…and ${fmtNumber(problems.length - MAX_TABLE_ROWS)} more (download them as CSV).`)));
  }
  $("#bulk-download").hidden = problems.length === 0;
}

function downloadFailures() {
  if (!bulk.lastResult) return;
  const quote = (v) => (/[",\n\r]/.test(String(v ?? "")) ? `"${String(v).replace(/"/g, '""')}"` : String(v ?? ""));
  const rows = [["line", "name", "phone", "email", "referenceId", "outcome", "code", "message"]];
  for (const p of bulk.lastResult.problems) {
    rows.push([bulk.lastResult.lines[p.index], p.input?.name, p.input?.phone, p.input?.email, p.input?.referenceId, p.outcome, p.error.code, p.error.message]);
  }
  const blob = new Blob([rows.map((r) => r.map(quote).join(",")).join("\n") + "\n"], { type: "text/csv" });
  const url = URL.createObjectURL(blob);
  const a = el("a", { href: url, download: "vox-import-problems.csv" });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

// ---------------------------------------------------------------------------------------------------------
// Search

const search = { page: 1, loaded: false, seq: 0 };

function setupSearch() {
  fillProcessSelect($("#f-process"), { any: true });
  fillStates();
  $("#f-process").addEventListener("change", fillStates);
  $("#search-form").addEventListener("submit", (event) => {
    event.preventDefault();
    search.page = 1;
    runSearch();
  });
  $("#search-form").addEventListener("reset", () =>
    setTimeout(() => {
      fillStates();
      search.page = 1;
      runSearch();
    }),
  );
  $("#search-results tbody").addEventListener("click", (event) => {
    const row = event.target.closest("tr[data-lead-id]");
    if (row && !event.target.closest("a")) location.hash = `#lead/${row.dataset.leadId}`;
  });
}

/** State suggestions for the chosen process (any state name may be typed: a real CRM's processes are not listed). */
function fillStates() {
  const chosen = config.processes.find((p) => p.id === $("#f-process").value);
  const states = chosen ? (chosen.states ?? []) : [...new Set(config.processes.flatMap((p) => p.states ?? []))];
  $("#states").replaceChildren(...states.map((s) => el("option", { value: s })));
}

/** The filters as a queryLeads query, or throws a message for the form. */
function searchQuery() {
  const query = { page: search.page, limit: Number($("#f-limit").value), sort: $("#f-sort").value, order: $("#f-order").value };
  const text = (selector) => $(selector).value.trim();
  if (text("#f-process")) query.processId = text("#f-process");
  if (text("#f-state")) query.state = text("#f-state");
  if (text("#f-disposition")) query.disposition = text("#f-disposition");
  if (text("#f-email")) query.email = text("#f-email").toLowerCase();
  if (text("#f-ref")) query.referenceId = text("#f-ref");
  $("#f-phone").removeAttribute("aria-invalid");
  if (text("#f-phone")) {
    const check = vox.validatePhone(text("#f-phone"));
    if (!check.valid) {
      $("#f-phone").setAttribute("aria-invalid", "true");
      throw new Error(`Phone filter: ${check.message} Enter a full number.`);
    }
    query.phone = check.e164;
  }
  // Whole days in the viewer's time zone, as Date objects (the client sends ISO strings).
  if (text("#f-from")) query.createdFrom = new Date(`${text("#f-from")}T00:00:00`);
  if (text("#f-to")) query.createdTo = new Date(`${text("#f-to")}T23:59:59.999`);
  if (query.createdFrom && query.createdTo && query.createdFrom > query.createdTo) throw new Error("“Created from” is after “Created to”.");
  return query;
}

async function runSearch() {
  search.loaded = true;
  const errorLine = $("#search-error");
  errorLine.hidden = true;
  let query;
  try {
    query = searchQuery();
  } catch (err) {
    errorLine.textContent = err.message;
    errorLine.hidden = false;
    return;
  }
  const seq = ++search.seq;
  const summary = $("#search-summary");
  summary.textContent = "Searching…";
  delete summary.dataset.total; // no total until this search's results are shown
  $("#search-submit").disabled = true;
  try {
    const page = await client().queryLeads(query);
    if (seq !== search.seq) return;
    renderResults(page);
  } catch (err) {
    if (seq !== search.seq) return;
    clear(summary, "Search failed");
    $("#search-results tbody").replaceChildren(el("tr", {}, el("td", { colspan: 7 }, errorBox(err))));
    $("#pager").replaceChildren();
  } finally {
    if (seq === search.seq) $("#search-submit").disabled = false;
  }
}

function renderResults({ leads, page, limit, total, totalPages }) {
  const summary = $("#search-summary");
  summary.dataset.total = String(total);
  summary.dataset.page = String(page);
  summary.dataset.totalPages = String(totalPages);
  if (total === 0) summary.textContent = "No leads match.";
  else {
    const from = (page - 1) * limit + 1;
    const to = Math.min(total, from + leads.length - 1);
    summary.textContent = `${fmtNumber(total)} leads · showing ${fmtNumber(from)}–${fmtNumber(to)} · page ${fmtNumber(page)} of ${fmtNumber(totalPages)}`;
  }
  const tbody = $("#search-results tbody");
  tbody.replaceChildren();
  if (leads.length === 0) tbody.append(el("tr", {}, el("td", { colspan: 7, class: "empty" }, "Nothing here. Try fewer filters.")));
  for (const lead of leads) {
    const name = lead.name ?? ([lead.firstName, lead.lastName].filter(Boolean).join(" ") || "(no name)");
    tbody.append(
      el(
        "tr",
        { dataset: { leadId: lead._id } },
        el("td", { class: "nowrap" }, el("a", { href: `#lead/${lead._id}`, "aria-label": `Open lead ${name}` }, name)),
        el("td", {}, phoneNode(lead.phone)),
        el("td", {}, lead.email ?? ""),
        el("td", {}, processName(lead.processId)),
        el("td", {}, el("span", { class: `badge ${stateTone(lead.currentState)}` }, lead.currentState ?? "")),
        el("td", {}, lead.lastDisposition ?? el("span", { class: "muted" }, "—")),
        el("td", { class: "nowrap" }, fmtDate(lead.createdAt)),
      ),
    );
  }
  renderPager(page, totalPages);
}

/** 1 … 4 5 [6] 7 8 … 20 */
function pageList(current, total) {
  const pages = new Set([1, total, current - 2, current - 1, current, current + 1, current + 2]);
  const sorted = [...pages].filter((p) => p >= 1 && p <= total).sort((a, b) => a - b);
  const out = [];
  for (const p of sorted) {
    if (out.length && p - out[out.length - 1] > 1) out.push("…");
    out.push(p);
  }
  return out;
}

function renderPager(page, totalPages) {
  const nav = $("#pager");
  nav.replaceChildren();
  if (totalPages <= 1) return;
  const go = (p) => () => {
    search.page = p;
    runSearch();
  };
  nav.append(el("button", { type: "button", disabled: page <= 1, onclick: go(page - 1), "aria-label": "Previous page" }, "‹ Prev"));
  for (const p of pageList(page, totalPages)) {
    if (p === "…") nav.append(el("span", { class: "gap", "aria-hidden": "true" }, "…"));
    else nav.append(el("button", { type: "button", onclick: go(p), "aria-current": p === page ? "page" : null, "aria-label": `Page ${p}` }, fmtNumber(p)));
  }
  nav.append(el("button", { type: "button", disabled: page >= totalPages, onclick: go(page + 1), "aria-label": "Next page" }, "Next ›"));
}

// ---------------------------------------------------------------------------------------------------------
// Lead detail

const detail = { id: null, lead: null, timer: null, seq: 0 };

function setupDetail() {
  $("#d-refresh").addEventListener("click", () => refreshLead());
  $("#d-update").addEventListener("submit", submitUpdate);
  $("#d-call").addEventListener("click", async () => {
    $("#d-call").disabled = true;
    try {
      await client().initiateExistingLead(detail.id);
      await refreshLead();
    } catch (err) {
      showDetailError(err);
      $("#d-call").disabled = false;
    }
  });
}

async function submitUpdate(event) {
  event.preventDefault();
  const targetState = $("#d-target").value.trim();
  const disposition = $("#d-disposition").value.trim();
  if (!detail.id || !targetState) return;
  $("#d-update-submit").disabled = true;
  try {
    const changes = { targetState, userId: "example-page" };
    if (disposition) changes.disposition = disposition;
    await client().updateLead({ leadId: detail.id }, changes);
    $("#d-target").value = "";
    $("#d-disposition").value = "";
    await refreshLead();
  } catch (err) {
    showDetailError(err);
  } finally {
    $("#d-update-submit").disabled = callActive(detail.lead);
  }
}

function showDetailError(err) {
  const box = $("#d-error");
  if (!err) {
    box.hidden = true;
    return;
  }
  clear(box, errorBox(err));
  box.hidden = false;
}

function stopRefresh() {
  clearTimeout(detail.timer);
  detail.timer = null;
}

function scheduleRefresh(ms) {
  stopRefresh();
  detail.timer = setTimeout(() => refreshLead(), ms);
}

function openLead(id) {
  if (detail.id !== id) {
    detail.id = id;
    detail.lead = null;
    $("#lead-empty").hidden = true;
    $("#lead-view").hidden = false;
    $("#d-name").textContent = "Loading…";
    $("#d-id").textContent = id;
    $("#d-fields").replaceChildren();
    $("#d-timeline").replaceChildren();
    showDetailError(null);
  }
  refreshLead();
}

const callActive = (lead) => (lead?.activities ?? []).some((a) => a.type === "call" && (a.status === "scheduled" || a.status === "in_progress"));

async function refreshLead() {
  stopRefresh();
  const id = detail.id;
  if (!id) return;
  const seq = ++detail.seq;
  let lead;
  try {
    lead = await client().getLead({ leadId: id });
  } catch (err) {
    if (seq !== detail.seq || detail.id !== id) return;
    showDetailError(err);
    if (detail.lead === null) $("#d-name").textContent = "Lead not available";
    return;
  }
  if (seq !== detail.seq || detail.id !== id) return;
  showDetailError(null);
  detail.lead = lead;
  renderLead(lead);
  if (callActive(lead) && currentRoute === "lead") scheduleRefresh(REFRESH_MS);
}

function renderLead(lead) {
  const live = callActive(lead);
  const view = $("#lead-view");
  view.dataset.leadId = lead._id;
  view.dataset.state = lead.currentState ?? "";
  view.dataset.live = String(live);
  $("#d-name").textContent = lead.name ?? ([lead.firstName, lead.lastName].filter(Boolean).join(" ") || "(no name)");
  $("#d-id").textContent = `Lead ${lead._id}`;
  const badge = $("#d-state");
  badge.className = `badge ${stateTone(lead.currentState)}`;
  badge.textContent = lead.currentState ?? "";
  $("#d-live").hidden = !live;
  $("#d-call").disabled = live;
  $("#d-update-submit").disabled = live;
  const list = $("#d-states");
  if (list.dataset.processId !== lead.processId) {
    list.dataset.processId = lead.processId ?? "";
    const states = config.processes.find((p) => p.id === lead.processId)?.states ?? [];
    list.replaceChildren(...states.map((s) => el("option", { value: s })));
  }

  const meta = lead.metadata && Object.keys(lead.metadata).length ? el("pre", {}, JSON.stringify(lead.metadata, null, 2)) : "";
  clear(
    $("#d-fields"),
    field("Phone", phoneNode(lead.phone)),
    field("Email", lead.email ?? ""),
    field("Reference ID", lead.referenceId ?? ""),
    field("Process", processName(lead.processId)),
    field("State", lead.currentState ?? ""),
    field("Last disposition", lead.lastDisposition ?? ""),
    field("Group", lead.groupId ?? ""),
    field("Call attempts", lead.attempts ?? ""),
    field("Created", fmtDate(lead.createdAt, true)),
    field("Updated", fmtDate(lead.updatedAt, true)),
    meta ? field("Metadata", meta, true) : null,
  );

  const activities = [...(lead.activities ?? [])].sort((a, b) => String(b.createdAt).localeCompare(String(a.createdAt)));
  clear(
    $("#d-timeline"),
    activities.map(activityItem),
    el(
      "li",
      { dataset: { kind: "created" } },
      el("div", { class: "tl-head" }, el("strong", {}, "Lead created"), el("span", { class: "tl-time" }, fmtDate(lead.createdAt, true))),
      el("div", { class: "tl-body" }, el("p", { class: "muted" }, lead.source ? `Source: ${lead.source}` : "")),
    ),
  );
}

const STATUS_LABEL = { scheduled: "Scheduled", in_progress: "In progress", completed: "Completed", failed: "Not answered" };
const STATUS_TONE = { scheduled: "warn", in_progress: "info", completed: "ok", failed: "bad" };

function transition(from, to) {
  return el(
    "div",
    { class: "transition" },
    el("span", { class: "from" }, from ?? "?"),
    el("span", { class: "arrow", "aria-label": "to" }, "→"),
    el("span", { class: "to" }, to ?? "…"),
  );
}

function activityItem(a) {
  const isCall = a.type === "call";
  const when = a.endedAt ?? a.startedAt ?? a.createdAt;
  const status = a.status === "failed" && a.disposition === "cancelled" ? "Cancelled" : (STATUS_LABEL[a.status] ?? a.status);
  const head = el(
    "div",
    { class: "tl-head" },
    el("strong", {}, isCall ? `Call${a.attempt ? ` · attempt ${a.attempt}` : ""}` : a.type === "state_change" ? "State changed" : (a.type ?? "Activity")),
    isCall ? el("span", { class: `pill ${STATUS_TONE[a.status] ?? ""} status` }, status) : null,
    el("span", { class: "tl-time" }, fmtDate(when, true)),
  );

  const body = el("div", { class: "tl-body" });
  if (a.fromState || a.toState) body.append(transition(a.fromState, a.toState));
  if (a.disposition) {
    body.append(
      el(
        "div",
        {},
        el("span", { class: `pill ${dispositionTone(a.dispositionType)} disposition` }, a.disposition),
        a.dispositionType ? el("span", { class: "muted" }, ` ${a.dispositionType}`) : null,
      ),
    );
  }
  const meta = [];
  if (isCall && a.status === "scheduled" && a.scheduledAt) meta.push(`Starts ${fmtDate(a.scheduledAt, true)}`);
  if (a.startedAt) meta.push(`Started ${fmtDate(a.startedAt, true)}`);
  if (typeof a.durationSec === "number" && a.status === "completed") meta.push(`Duration ${a.durationSec} s`);
  if (a.userId) meta.push(`By ${a.userId}`);
  if (a.updateId) meta.push(`Update ${a.updateId}`);
  if (meta.length)
    body.append(
      el(
        "div",
        { class: "tl-meta" },
        meta.map((m) => el("span", {}, m)),
      ),
    );
  if (a.summary) body.append(el("p", { class: "summary" }, a.summary));
  if (a.transcript) {
    const text = Array.isArray(a.transcript)
      ? a.transcript.map((t) => (typeof t === "string" ? t : `${t.role ?? t.speaker ?? ""}: ${t.text ?? t.content ?? ""}`)).join("\n")
      : String(a.transcript);
    body.append(el("details", { class: "transcript" }, el("summary", {}, "Transcript"), el("pre", {}, text)));
  }
  if (a.recordingUrl && /^https?:\/\//.test(a.recordingUrl)) {
    body.append(
      el(
        "div",
        { class: "recording" },
        el("a", { href: a.recordingUrl, target: "_blank", rel: "noopener noreferrer", class: "recording-link" }, "▶ Recording"),
        el("audio", { controls: true, preload: "none", src: a.recordingUrl, "aria-label": "Call recording" }),
      ),
    );
  }
  return el("li", { dataset: { kind: a.type ?? "activity", status: a.status ?? "", activityId: a._id ?? "" } }, head, body);
}

// ---------------------------------------------------------------------------------------------------------
// Start

async function connectionCheck() {
  try {
    const page = await client().queryLeads({ limit: 1 });
    const where = config.crm?.kind === "sandbox" ? "local sandbox" : (config.crm?.host ?? "CRM");
    setConn("ok", `Connected · ${where} · ${fmtNumber(page.total)} leads`);
  } catch (err) {
    setConn("error", `CRM unreachable: ${err.code ?? err.message}`);
  }
}

async function boot() {
  try {
    const res = await fetch("/config.json", { cache: "no-store" });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    config = await res.json();
  } catch (err) {
    fatal(`Could not read /config.json from this page's server (${err.message}).`);
    return;
  }
  try {
    vox = await import("/vox-crm/web/index.mjs");
    // The web build loads its .wasm on init() (the page's synchronous phone checks need it).
    await vox.init();
  } catch (err) {
    fatal(`Could not load the vox-crm package (${err.message}). Build it with scripts/package.sh, then reload.`);
    return;
  }
  $("#foot-crm").textContent = `Project ${config.projectId}${config.crm?.kind === "sandbox" ? " · local sandbox" : ` · ${config.crm?.host ?? ""}`}`;
  $("#show-full").addEventListener("change", () => {
    for (const node of document.querySelectorAll("[data-phone]")) node.textContent = fmtPhone(node.dataset.phone);
  });
  setupTabs();
  setupNewLead();
  setupBulk();
  setupSearch();
  setupDetail();
  route();
  setConn("pending", "Connecting…");
  // For the browser console (and the tests): the module, the page's client and the public config.
  window.voxExample = { vox, client: client(), config };
  document.documentElement.dataset.ready = "true";
  await connectionCheck();
}

boot();
