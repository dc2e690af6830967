// The example page (www-example/) in a real browser: Debian's headless Chromium driven by playwright-core,
// against the example server (www-example/serve.mjs) in front of a sandbox CRM.
//
//   node --test tests/browser/        (after scripts/package.sh)
//
// A spy between the example server and the sandbox records what the proxy sends, so the test sees both
// sides of the key-safety rule (docs/sdk.md "Browsers"): no request from the page carries an Authorization
// header or the token, and every request the proxy forwards carries the server's token.
// The run saves a screenshot of the lead detail view (see SCREENSHOT).

import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { createServer, request as httpRequest } from "node:http";
import { dirname, join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { startSandbox } from "../../sandbox/server.mjs";
import { resolveSettings, startExampleServer } from "../../www-example/serve.mjs";
import { launchChromium, requireChromium, watchPage } from "./chromium.mjs";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const DIST = join(ROOT, "dist", "vox-crm");
// Written to .build/ on every run; to www-example/ (committed, shown by the README) only when
// UPDATE_SCREENSHOT=1, so a test run leaves the work tree clean.
const SCREENSHOT = process.env.UPDATE_SCREENSHOT === "1" ? join(ROOT, "www-example", "screenshot.png") : join(ROOT, ".build", "screenshot.png");
const TOKEN = "sk_test_vox_sandbox";
const PROJECT_ID = "6650a1b2c3d4e5f601234567";
const SALES = "6650a1b2c3d4e5f6012345a1";

function requirePackage() {
  if (!existsSync(join(DIST, "web", "index.mjs")) || !existsSync(join(DIST, "web", "vox_crm_bg.wasm"))) {
    throw new Error("dist/vox-crm is not built: run scripts/package.sh (or PROFILE=--dev scripts/package.sh) first");
  }
}

// ---------------------------------------------------------------------------------------------------------
// Helpers

/** An HTTP forwarder that records every request (method, path, authorization) on its way to `origin`. */
async function startSpy(origin) {
  const target = new URL(origin);
  const seen = [];
  const server = createServer((req, res) => {
    seen.push({ method: req.method, path: req.url, authorization: req.headers.authorization, cookie: req.headers.cookie });
    const up = httpRequest({ host: target.hostname, port: target.port, path: req.url, method: req.method, headers: req.headers }, (r) => {
      res.writeHead(r.statusCode, r.headers);
      r.pipe(res);
    });
    up.on("error", () => res.destroy());
    req.pipe(up);
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}/api/v1`,
    seen,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** Unique valid Indian mobile numbers ("98xxx xxxxx" with spaces, as people type them). */
function phoneMaker(validatePhone) {
  let i = 0;
  const seed = Date.now() % 9973;
  return () => {
    for (;;) {
      i++;
      const national = "9" + String((seed * 7919 + i * 104729 + 12345678) % 1e9).padStart(9, "0");
      if (/(\d)\1{4}/.test(national)) continue;
      const check = validatePhone(national);
      if (check.valid) return { typed: `${national.slice(0, 5)} ${national.slice(5)}`, e164: check.e164 };
    }
  };
}

/** A raw API call to the sandbox with the token (what the page cannot do). */
async function sandboxApi(sb, path) {
  const res = await fetch(sb.url + path, { headers: { Authorization: `Bearer ${TOKEN}` } });
  assert.equal(res.status, 200, `sandbox ${path}`);
  return res.json();
}

async function text(page, selector) {
  return (await page.locator(selector).first().textContent())?.trim() ?? "";
}

// ---------------------------------------------------------------------------------------------------------
// The example server on its own (no browser)

test("serve.mjs: static files, the package with application/wasm, config without secrets, a proxy that adds the token", { timeout: 30000 }, async (t) => {
  requirePackage();
  let sb, spy, server;
  try {
    sb = await startSandbox({ port: 0, quiet: true, admin: true });
    spy = await startSpy(sb.origin);
    server = await startExampleServer({ port: 0, crmBaseUrl: spy.url, env: {} });
    const base = server.url.replace(/\/$/, "");
    await t.test("the page, its assets and config.json, with no token anywhere", async () => {
      for (const [path, type] of [
        ["/", "text/html"],
        ["/app.js", "text/javascript"],
        ["/style.css", "text/css"],
        ["/config.json", "application/json"],
        ["/favicon.svg", "image/svg+xml"],
      ]) {
        const res = await fetch(base + path);
        assert.equal(res.status, 200, path);
        assert.ok(res.headers.get("content-type").startsWith(type), `${path}: ${res.headers.get("content-type")}`);
        const body = await res.text();
        assert.ok(!body.includes(TOKEN), `${path} does not contain the token`);
      }
      const config = await (await fetch(base + "/config.json")).json();
      assert.equal(config.projectId, PROJECT_ID);
      assert.deepEqual(
        config.processes.map((p) => p.id),
        [SALES, "6650a1b2c3d4e5f6012345a2"],
      );
      assert.ok(!JSON.stringify(config).toLowerCase().includes("token"));
      const csp = (await fetch(base + "/")).headers.get("content-security-policy");
      assert.match(csp, /connect-src 'self'/, "the page may only talk to its own origin");
    });

    await t.test("/vox-crm/ serves dist/vox-crm; the wasm as application/wasm", async () => {
      const wasm = await fetch(base + "/vox-crm/web/vox_crm_bg.wasm");
      assert.equal(wasm.status, 200);
      assert.equal(wasm.headers.get("content-type"), "application/wasm");
      const bytes = new Uint8Array(await wasm.arrayBuffer());
      assert.deepEqual([...bytes.slice(0, 4)], [0, 0x61, 0x73, 0x6d], "wasm magic");
      const entry = await fetch(base + "/vox-crm/web/index.mjs");
      assert.equal(entry.status, 200);
      assert.match(entry.headers.get("content-type"), /javascript/);
    });

    await t.test("no file outside the page folder and the package: traversal, scripts, dotfiles", async () => {
      const raw = (path) =>
        new Promise((resolve, reject) => {
          const req = httpRequest({ host: "127.0.0.1", port: server.port, path, method: "GET" }, (res) => {
            res.resume();
            resolve(res.statusCode);
          });
          req.on("error", reject);
          req.end();
        });
      for (const path of [
        "/serve.mjs",
        "/walkthrough.mjs",
        "/../Cargo.toml",
        "/%2e%2e/Cargo.toml",
        "/vox-crm/%2e%2e/%2e%2e/Cargo.toml",
        "/vox-crm/../package.json",
        "/.gitignore",
        "/vox-crm/web/../../../sandbox/server.mjs",
        "http://example.com/",
      ]) {
        const status = await raw(path);
        assert.ok(status === 404 || status === 400, `${path} answered ${status}`);
      }
    });

    await t.test("/api/v1/* is made on the server with its token; a caller's own Authorization is refused", async () => {
      const before = spy.seen.length;
      const refused = await fetch(base + "/api/v1/leads/query?limit=1", { headers: { Authorization: "Bearer sk_evil" } });
      assert.equal(refused.status, 400);
      assert.match((await refused.json()).error, /Authorization header/);
      assert.equal(spy.seen.length, before, "nothing was forwarded");
      const res = await fetch(base + "/api/v1/leads/query?limit=1", { headers: { Cookie: "session=1" } });
      assert.equal(res.status, 200);
      const body = await res.json();
      assert.equal(body.success, true);
      assert.equal(body.pagination.limit, 1);
      assert.equal(res.headers.get("access-control-allow-origin"), null, "no CORS: the route is for this site's own page");
      const forwarded = spy.seen.slice(before);
      assert.equal(forwarded.length, 1);
      assert.match(forwarded[0].path, /^\/api\/v1\/leads\/query\?.*limit=1/);
      assert.equal(forwarded[0].authorization, `Bearer ${TOKEN}`);
      assert.equal(forwarded[0].cookie, undefined, "cookies are not forwarded");
    });

    await t.test("only what the page does is allowed: the rest is refused with 403 and never sent", async () => {
      const before = spy.seen.length;
      const activity = await fetch(base + "/api/v1/activities/get?activityId=0123456789abcdef01234567");
      assert.equal(activity.status, 403);
      assert.match((await activity.json()).error, /getActivity is not allowed/);
      const existing = await fetch(base + "/api/v1/leads/bulk/initiate", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ leadIds: ["0123456789abcdef01234567"] }),
      });
      assert.equal(existing.status, 403);
      assert.equal((await fetch(base + "/api/v1/projects")).status, 404);
      assert.equal(spy.seen.length, before, "nothing was forwarded");
    });

    await t.test("the API's statuses, bodies and Retry-After come back; the server-side duplicate guard refuses a repeat", async () => {
      const lead = { projectId: PROJECT_ID, processId: SALES, name: "Proxy Test", phone: "+919845317206" };
      const created = await fetch(base + "/api/v1/leads/initiate", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ lead, init: false }),
      });
      assert.equal(created.status, 200);
      assert.equal((await created.json()).phone, "+919845317206");
      const dup = await fetch(base + "/api/v1/leads/initiate", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ lead, init: false }),
      });
      assert.equal(dup.status, 409);
      const refusal = await dup.json();
      assert.equal(refusal.code, "duplicate_submission");
      assert.match(refusal.error, /^Refused locally: the phone number \+\*+7206 was already submitted recently/, "masked");
      const bad = await fetch(base + "/api/v1/leads/initiate", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ lead: { ...lead, phone: "+919845317209", processId: "0123456789abcdef01234567" } }),
      });
      assert.equal(bad.status, 404);
      assert.match((await bad.json()).error, /Process not found/);
      // The sandbox's rate limit down to 1 request a minute: the second request gets a 429 with Retry-After.
      await fetch(sb.origin + "/__sandbox/config", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ rateLimit: { requests: 1, perMs: 60000 } }),
      });
      await fetch(sb.origin + "/__sandbox/reset", { method: "POST" });
      await fetch(base + "/api/v1/leads/query?limit=1");
      const limited = await fetch(base + "/api/v1/leads/query?limit=1");
      assert.equal(limited.status, 429);
      assert.ok(Number(limited.headers.get("retry-after")) >= 1, "Retry-After is passed back");
      assert.match((await limited.json()).error, /Rate limit exceeded/);
      await fetch(sb.origin + "/__sandbox/config", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ rateLimit: { requests: 100, perMs: 5000 } }),
      });
    });

    await t.test("cross-site requests are refused (another site's page cannot spend the token)", async () => {
      const before = spy.seen.length;
      const a = await fetch(base + "/api/v1/leads/query", { headers: { Origin: "http://evil.example" } });
      assert.equal(a.status, 403);
      const b = await fetch(base + "/api/v1/leads/query", { headers: { "Sec-Fetch-Site": "cross-site" } });
      assert.equal(b.status, 403);
      assert.equal(spy.seen.length, before, "nothing was forwarded");
    });

    await t.test("a CRM that does not answer is a 502 with a JSON body", async () => {
      const closed = await new Promise((resolve) => {
        const s = createServer().listen(0, "127.0.0.1", () => {
          const { port } = s.address();
          s.close(() => resolve(port));
        });
      });
      const dead = await startExampleServer({ port: 0, crmBaseUrl: `http://127.0.0.1:${closed}/api/v1`, env: {} });
      try {
        const res = await fetch(dead.url + "api/v1/leads/query");
        assert.equal(res.status, 502);
        assert.match((await res.json()).error, /Connection refused/);
      } finally {
        await dead.close();
      }
    });

    await t.test("settings: VOX_BASE_URL wins and then needs VOX_TOKEN and VOX_PROJECT_ID; the sandbox token never goes elsewhere", () => {
      assert.throws(() => resolveSettings({ crmBaseUrl: sb.url, env: { VOX_BASE_URL: "https://crm.example.invalid/api/v1" } }), /VOX_TOKEN/);
      assert.throws(() => resolveSettings({ env: { VOX_BASE_URL: "https://crm.example.invalid/api/v1", VOX_TOKEN: "sk_live_x" } }), /VOX_PROJECT_ID/);
      const real = resolveSettings({
        crmBaseUrl: sb.url,
        env: { VOX_BASE_URL: "https://crm.example.invalid/api/v1/", VOX_TOKEN: "sk_live_x", VOX_PROJECT_ID: "p1", VOX_PROCESS_IDS: "Sales=a1,b2" },
      });
      assert.equal(real.baseUrl, "https://crm.example.invalid/api/v1");
      assert.equal(real.token, "sk_live_x");
      assert.deepEqual(real.processes, [
        { id: "a1", name: "Sales" },
        { id: "b2", name: "b2" },
      ]);
      const local = resolveSettings({ crmBaseUrl: sb.url, env: {} });
      assert.equal(local.baseUrl, sb.url);
      assert.equal(local.token, TOKEN);
      assert.equal(resolveSettings({ crmBaseUrl: sb.url, token: "sk_other", env: { VOX_TOKEN: "sk_env" } }).token, "sk_other");
      assert.equal(resolveSettings({ crmBaseUrl: sb.url, env: { VOX_TOKEN: "sk_env" } }).token, "sk_env");
    });
  } finally {
    await server?.close();
    await spy?.close();
    await sb?.close();
  }
});

// ---------------------------------------------------------------------------------------------------------
// The page in Chromium

test("the example page in Debian's headless Chromium", { timeout: 240000 }, async (t) => {
  requireChromium(); // fails (never skips) with how to install Debian's chromium
  requirePackage();
  const { validatePhone } = await import("../../dist/vox-crm/node/index.mjs");
  const nextPhone = phoneMaker(validatePhone);

  let sb, spy, server, browser;
  try {
    sb = await startSandbox({ port: 0, quiet: true, admin: true, callDelayMs: 2500, callDurationMs: 1500 });
    spy = await startSpy(sb.origin);
    server = await startExampleServer({ port: 0, crmBaseUrl: spy.url, env: {} });
    const origin = server.url.replace(/\/$/, "");
    browser = await launchChromium();
    const page = await browser.context.newPage();
    const watch = watchPage(page);
    // Every request the page makes, with the headers Chromium really sent (allHeaders includes the network stack's).
    const pageRequests = [];
    const tokenLeaks = [];
    page.on("request", (req) => pageRequests.push({ url: req.url(), method: req.method(), headers: req.allHeaders() }));
    page.on("response", async (res) => {
      try {
        const body = await res.body();
        if (body.includes(TOKEN)) tokenLeaks.push(res.url());
        if (JSON.stringify(await res.allHeaders()).includes(TOKEN)) tokenLeaks.push(`${res.url()} (headers)`);
      } catch {
        /* redirects and aborted responses have no body */
      }
    });

    const single = { ...nextPhone(), name: "Asha Rao", email: `asha.${Date.now()}@example.com`, ref: `crm-${Date.now()}` };
    let singleId;

    await t.test("the page loads the web build from /vox-crm/ and connects through the proxy", async () => {
      await page.goto(origin + "/");
      await page.waitForSelector("html[data-ready=true]", { timeout: 20000 });
      await page.waitForSelector("#conn[data-state=ok]", { timeout: 10000 });
      assert.match(await text(page, "#conn-text"), /Connected · local sandbox/);
      const info = await page.evaluate(() => ({ baseUrl: window.voxExample.client.baseUrl, json: JSON.stringify(window.voxExample.client) }));
      assert.equal(info.baseUrl, origin + "/api/v1");
      assert.ok(!info.json.includes("sk_"), "the page's client has no token");
    });

    await t.test("in the page, a token throws browser_unsafe unless dangerouslyAllowBrowser: true", async () => {
      const out = await page.evaluate(async (projectId) => {
        const { VoxClient, VoxError, init } = await import("/vox-crm/web/index.mjs");
        await init();
        const attempt = (options) => {
          try {
            const c = new VoxClient(options);
            return { ok: true, baseUrl: c.baseUrl };
          } catch (e) {
            return { ok: false, isVoxError: e instanceof VoxError, isError: e instanceof Error, code: e.code, message: e.message, text: String(e) };
          }
        };
        return {
          token: attempt({ projectId, token: "x" }),
          tokenFalse: attempt({ projectId, token: "sk_test_secret_123", dangerouslyAllowBrowser: false }),
          allowed: attempt({ projectId, token: "x", dangerouslyAllowBrowser: true }),
          noToken: attempt({ projectId, baseUrl: location.origin + "/api/v1" }),
          isBrowser: typeof window === "object" && typeof document === "object",
        };
      }, PROJECT_ID);
      assert.ok(out.isBrowser);
      assert.equal(out.token.ok, false, "a token in a page throws");
      assert.equal(out.token.code, "browser_unsafe");
      assert.ok(out.token.isVoxError && out.token.isError, "a VoxError, which is an Error");
      assert.match(out.token.message, /dangerouslyAllowBrowser/);
      assert.equal(out.tokenFalse.code, "browser_unsafe");
      assert.ok(!out.tokenFalse.text.includes("sk_test_secret_123"), "the message does not echo the token");
      assert.equal(out.allowed.ok, true, `dangerouslyAllowBrowser: true allows it (${out.allowed.message ?? ""})`);
      assert.equal(out.noToken.ok, true);
    });

    await t.test("new lead: live validation as you type, then a validation error for a bad phone (no request)", async () => {
      await page.click("#tab-new");
      const phone = page.locator("#lead-phone");
      await phone.pressSequentially("98453", { delay: 10 });
      await page.waitForSelector("#phone-check[data-state=invalid]");
      assert.equal(await text(page, "#phone-reason"), "too_short");
      assert.equal(await phone.getAttribute("aria-invalid"), "true");
      await phone.fill("");
      await phone.pressSequentially(single.typed, { delay: 5 });
      await page.waitForSelector("#phone-check[data-state=valid]");
      assert.equal(await text(page, "#phone-e164"), single.e164);
      assert.equal(await text(page, "#phone-masked"), `+91******${single.e164.slice(-4)}`);
      await phone.fill("99999 99999");
      await page.waitForSelector("#phone-check[data-state=invalid]");
      assert.equal(await text(page, "#phone-reason"), "repeating_digits");

      const initiates = () => pageRequests.filter((r) => r.url.endsWith("/api/v1/leads/initiate")).length;
      const before = initiates();
      await page.fill("#lead-name", "Bad Phone");
      await phone.fill("12345");
      await page.click("#lead-submit");
      await page.waitForSelector("#lead-result .error-box[data-code=validation_error]");
      assert.match(await text(page, "#lead-result .error-box .code"), /validation_error/);
      assert.match(await text(page, "#lead-result .error-details li[data-field=phone]"), /too short/i);
      assert.equal(await phone.getAttribute("aria-invalid"), "true");
      assert.equal(initiates(), before, "a lead refused locally costs no request");
    });

    await t.test("new lead: create one, then follow its call live in the detail view", async () => {
      await page.fill("#lead-name", single.name);
      await page.fill("#lead-phone", single.typed);
      await page.fill("#lead-email", single.email);
      await page.fill("#lead-ref", single.ref);
      await page.fill("#lead-meta", '{"sandboxOutcome": "interested", "source": "browser test"}');
      await page.click("#lead-submit");
      await page.waitForSelector("#created-id", { timeout: 10000 });
      singleId = await text(page, "#created-id");
      assert.match(singleId, /^[0-9a-f]{24}$/);
      assert.match(await text(page, "#lead-result"), /Lead created/);
      const stored = await sandboxApi(sb, `/leads/get?leadId=${singleId}`);
      assert.equal(stored.data.phone, single.e164, "the sandbox has it, in E.164");
      assert.equal(stored.data.email, single.email);

      await page.click("#lead-result a.open-lead");
      await page.waitForSelector(`#lead-view[data-lead-id="${singleId}"]`);
      // The call is scheduled (2.5 s) then in progress (1.5 s): the view refreshes by itself meanwhile.
      await page.waitForSelector("#lead-view[data-live=true]", { timeout: 5000 });
      assert.equal(await page.locator("#d-live").isVisible(), true, "the live indicator shows while a call is on");
      await page.waitForSelector("#d-timeline li[data-kind=call][data-status=completed]", { timeout: 15000 });
      await page.waitForSelector("#lead-view[data-live=false]");
      assert.equal(await page.locator("#lead-view").getAttribute("data-state"), "interested");
      const gets = pageRequests.filter((r) => r.url.includes(`/api/v1/leads/get?leadId=${singleId}`)).length;
      assert.ok(gets >= 3, `the view refreshed by itself while the call was on (${gets} getLead calls, no clicks)`);
    });

    await t.test("bulk import: 2,500 CSV rows from a file, progress, final counts and the failed rows", async () => {
      const lines = ["name,phone,email,referenceId"];
      const bad = new Map([
        [10, { phone: "12345", code: "validation_error" }],
        [500, { phone: "99999 99999", code: "validation_error" }],
        [1200, { phone: "98765 43210", code: "validation_error" }],
        [1800, { phone: "98x45 1720", code: "validation_error" }],
      ]);
      let dupOf = null;
      const stamp = Date.now().toString(36);
      for (let i = 0; i < 2500; i++) {
        let phone = bad.get(i)?.phone;
        if (!phone) phone = i === 2222 ? dupOf : nextPhone().typed;
        if (i === 100) dupOf = phone;
        const name = i === 2000 ? "" : `"Bulk, Person ${i}"`; // quoted, with a comma
        const email = i % 5 === 0 ? `bulk${i}.${stamp}@example.com` : "";
        lines.push(`${name},${phone},${email},bulk-${stamp}-${i}`);
      }
      const csv = lines.join("\r\n") + "\r\n";
      await page.click("#tab-bulk");
      // Pasting works too (no header row: the columns are name, phone, email, referenceId).
      await page.fill("#bulk-text", `"Rao, Asha",98453 17206,asha@example.com,p-1\nRavi Kumar,+91 98453 17207,,p-2\n\n"Meera ""M"" Iyer",9845317208,,p-3\n`);
      await page.waitForSelector("#bulk-parsed[data-rows='3']");
      assert.match(await text(page, "#bulk-parsed"), /3 rows ready from pasted text \(no header/);
      assert.equal(await page.locator("#bulk-start").isEnabled(), true);
      await page.setInputFiles("#bulk-file", { name: "leads.csv", mimeType: "text/csv", buffer: Buffer.from(csv) });
      await page.waitForSelector("#bulk-parsed[data-rows='2500']");
      assert.match(await text(page, "#bulk-parsed"), /2,500 rows/);
      // Record every progress update the page shows.
      await page.evaluate(() => {
        window.__progress = [];
        const node = document.querySelector("#bulk-progress-text");
        new MutationObserver((records) => {
          for (const r of records) window.__progress.push(r.oldValue);
          window.__progress.push(node.dataset.done);
        }).observe(node, { attributes: true, attributeFilter: ["data-done"], attributeOldValue: true });
      });
      const started = Date.now();
      const requestsBefore = pageRequests.length;
      await page.click("#bulk-start");
      await page.waitForSelector("#bulk-result:not([hidden])", { timeout: 60000 });
      const seconds = (Date.now() - started) / 1000;
      const count = async (id) => Number(await page.locator(id).getAttribute("data-count"));
      assert.equal(await count("#bulk-created"), 2494, "created");
      assert.equal(await count("#bulk-failed"), 6, "failed: 4 bad phones, 1 missing name, 1 repeated phone");
      assert.equal(await count("#bulk-unknown"), 0, "unknown");
      const made = pageRequests.slice(requestsBefore);
      const bulks = made.filter((r) => r.url.includes("/leads/bulk/initiate")).length;
      assert.equal(bulks, 3, "2,494 leads in requests of at most 1,000");
      // Beside them, what the client asked to know which leads exist already (their count first).
      const queries = made.filter((r) => r.url.includes("/leads/query") && r.url.includes("order=asc")).length;
      assert.ok(queries >= 1, "the project's leads were counted");
      assert.equal(await count("#bulk-requests"), bulks + queries, "the page shows every request");
      assert.equal(await page.locator("#bulk-progress").getAttribute("aria-valuenow"), "100");
      assert.match(await text(page, "#bulk-progress-text"), /2,500 of 2,500 leads · 2,494 created · 6 failed · 0 unknown/);
      const progress = await page.evaluate(() => window.__progress.map(Number));
      assert.ok(new Set(progress.filter((n) => n > 0)).size >= 2, `the bar moved in steps: ${progress}`);
      assert.equal(Math.max(...progress), 2500);

      const rows = await page
        .locator("#bulk-failures tbody tr")
        .evaluateAll((trs) =>
          trs.map((tr) => ({ index: Number(tr.dataset.index), code: tr.dataset.code, outcome: tr.dataset.outcome, line: tr.cells[0].textContent })),
        );
      assert.deepEqual(
        rows.map((r) => r.index),
        [10, 500, 1200, 1800, 2000, 2222],
      );
      assert.deepEqual(
        rows.map((r) => r.code),
        ["validation_error", "validation_error", "validation_error", "validation_error", "validation_error", "duplicate_submission"],
      );
      assert.ok(rows.every((r) => r.outcome === "failed"));
      assert.equal(rows[0].line, "12", "line numbers of the file (header is line 1)");

      const total = (await sandboxApi(sb, "/leads/query?limit=1")).pagination.total;
      assert.equal(total, 2495, "the sandbox holds the 2,494 imported leads and the single one");
      t.diagnostic(`bulk import of 2,500 rows in the browser: ${seconds.toFixed(1)} s`);
    });

    await t.test("search: filters, sort, page numbers, and opening a lead's activity timeline", async () => {
      await page.click("#tab-search");
      await page.waitForSelector("#search-summary[data-total]", { timeout: 10000 });
      // All leads, oldest first, 20 a page: the single lead comes first.
      await page.selectOption("#f-order", "asc");
      await page.click("#search-submit");
      await page.waitForFunction(
        () => document.querySelector("#search-summary").dataset.total === "2495" && document.querySelector("#search-results tbody tr")?.dataset.leadId,
      );
      assert.equal(await page.locator("#search-results tbody tr").count(), 20);
      assert.equal(await page.locator("#search-results tbody tr").first().getAttribute("data-lead-id"), singleId);
      assert.equal(await page.locator("#search-summary").getAttribute("data-total-pages"), "125");
      assert.match(await text(page, "#search-summary"), /2,495 leads · showing 1–20 · page 1 of 125/);
      // Page numbers: 1 2 3 … 125; go to page 2, then Next.
      assert.deepEqual(await page.locator("#pager button[aria-label^='Page']").allTextContents(), ["1", "2", "3", "125"]);
      await page.click("#pager button[aria-label='Page 2']");
      await page.waitForSelector("#search-summary[data-page='2']");
      assert.equal(await page.locator("#pager button[aria-current=page]").textContent(), "2");
      await page.click("#pager button[aria-label='Next page']");
      await page.waitForSelector("#search-summary[data-page='3']");
      assert.match(await text(page, "#search-summary"), /showing 41–60/);
      await page.click("#pager button[aria-label='Page 125']");
      await page.waitForSelector("#search-summary[data-page='125']");
      assert.equal(await page.locator("#search-results tbody tr").count(), 15);

      // Filters: a reference id of the import; a created-date range of today; the phone as typed; a state.
      await page.fill("#f-ref", "no-such-reference");
      await page.click("#search-submit");
      await page.waitForSelector("#search-summary[data-total='0']");
      await page.click("#search-form button[type=reset]");
      await page.waitForSelector("#search-summary[data-total='2495']");
      const today = new Date().toLocaleDateString("en-CA", { timeZone: "Asia/Kolkata" }); // YYYY-MM-DD in the page's zone
      await page.fill("#f-from", today);
      await page.fill("#f-to", today);
      await page.selectOption("#f-limit", "100");
      await page.click("#search-submit");
      await page.waitForSelector("#search-summary[data-total='2495'][data-total-pages='25']");
      await page.fill("#f-from", "2001-01-01");
      await page.fill("#f-to", "2001-12-31");
      await page.click("#search-submit");
      await page.waitForSelector("#search-summary[data-total='0']");
      await page.click("#search-form button[type=reset]");
      await page.waitForSelector("#search-summary[data-total='2495']");
      await page.fill("#f-phone", "12345");
      await page.click("#search-submit");
      await page.waitForSelector("#search-error:not([hidden])");
      assert.match(await text(page, "#search-error"), /Phone filter/);
      await page.fill("#f-phone", single.typed);
      await page.fill("#f-state", "interested");
      await page.click("#search-submit");
      await page.waitForSelector("#search-summary[data-total='1']");
      const row = page.locator(`#search-results tbody tr[data-lead-id="${singleId}"]`);
      assert.match(await row.textContent(), /Asha Rao/);
      assert.match(await row.textContent(), new RegExp(`\\+91\\*{6}${single.e164.slice(-4)}`), "phones are masked");

      // Open it: fields and the timeline of the completed call.
      await row.locator("td").nth(4).click();
      await page.waitForSelector(`#lead-view[data-lead-id="${singleId}"][data-live=false]`);
      assert.equal(await page.locator("#tab-lead").getAttribute("aria-selected"), "true");
      assert.equal(await text(page, "#d-name"), "Asha Rao");
      const call = page.locator("#d-timeline li[data-kind=call][data-status=completed]");
      assert.equal(await call.count(), 1);
      assert.match(await text(call, ".transition"), /make_first_call\s*→\s*interested/);
      assert.equal(await text(call, ".disposition"), "interested");
      assert.match(await text(call, ".summary"), /interested/i);
      await call.locator("details.transcript summary").click();
      assert.match(await call.locator("details.transcript pre").textContent(), /Agent: Hello, this is the Vox assistant/);
      const href = await call.locator("a.recording-link").getAttribute("href");
      assert.match(href, /\/recordings\/[0-9a-f]{24}\.wav$/);
      const wav = await fetch(href);
      assert.equal(wav.status, 200, "the recording link works");
      assert.equal((await wav.arrayBuffer()).byteLength > 44, true);

      // A state change from the detail view shows up in the timeline.
      await page.fill("#d-target", "converted");
      await page.fill("#d-disposition", "signed the contract");
      await page.click("#d-update-submit");
      await page.waitForSelector("#d-timeline li[data-kind=state_change]");
      const change = page.locator("#d-timeline li[data-kind=state_change]");
      assert.match(await text(change, ".transition"), /interested\s*→\s*converted/);
      assert.equal(await text(change, ".disposition"), "signed the contract");
      assert.equal(await page.locator("#lead-view").getAttribute("data-state"), "converted");
      // Newest first: the state change sits above the call.
      assert.deepEqual(await page.locator("#d-timeline > li").evaluateAll((lis) => lis.map((li) => li.dataset.kind)), ["state_change", "call", "created"]);
    });

    await t.test("the screenshot for the README", async () => {
      await page
        .locator("#d-timeline details.transcript")
        .first()
        .evaluate((d) => {
          d.open = true;
        });
      await page.evaluate(() => window.scrollTo(0, 0));
      await page.waitForTimeout(300);
      await page.screenshot({ path: SCREENSHOT, fullPage: true });
      assert.ok(existsSync(SCREENSHOT));
    });

    await t.test("key safety: no page request carried Authorization or the token; the proxy added it to every forwarded one", async () => {
      const requests = await Promise.all(pageRequests.map(async (r) => ({ ...r, headers: await r.headers })));
      const api = requests.filter((r) => r.url.startsWith(origin + "/api/v1/"));
      assert.ok(api.length >= 15, `the page made its API calls through the proxy (${api.length})`);
      for (const r of requests) {
        assert.equal(r.headers.authorization, undefined, `${r.method} ${r.url} carried an Authorization header`);
        assert.ok(!JSON.stringify(r.headers).includes(TOKEN), `${r.url} carried the token`);
        assert.ok(!r.url.includes(TOKEN));
        const target = new URL(r.url);
        assert.ok(target.origin === origin || target.origin === sb.origin, `the page only talked to its own origin (and recordings): ${r.url}`);
      }
      assert.ok(!requests.some((r) => r.url.startsWith(sb.url) || r.url.startsWith(spy.url)), "the page never called the CRM directly");
      assert.deepEqual(tokenLeaks, [], "no response to the page contained the token");
      const forwarded = spy.seen;
      // The proxy makes each call with the library on the server, which asks more (a bulk counts the
      // project's leads first) and never less, except for what it refuses.
      assert.ok(forwarded.length >= api.length, `every API request of the page was made on the server (${forwarded.length} for ${api.length})`);
      for (const f of forwarded) assert.equal(f.authorization, `Bearer ${TOKEN}`, `${f.method} ${f.path}`);
    });

    await t.test("no console error, uncaught exception or failed request in the page", () => {
      assert.deepEqual(watch.problems, []);
    });
  } finally {
    await browser?.close();
    await server?.close();
    await spy?.close();
    await sb?.close();
  }
});
