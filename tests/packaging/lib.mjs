// Shared pieces of the packaging tests (tests/packaging/*.test.mjs): throwaway projects under
// tests/packaging/.work/ (gitignored), npm, a static server with the token-adding proxy, the
// check every consumer runs (CHECK, assertResult), and a page in Chromium.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { createReadStream, existsSync, mkdirSync, statSync, writeFileSync } from "node:fs";
import { createServer, request as httpRequest } from "node:http";
import { dirname, extname, join, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { startSandbox } from "../../sandbox/server.mjs";
import { watchPage } from "../browser/chromium.mjs";

export const run = promisify(execFile);
export const HERE = dirname(fileURLToPath(import.meta.url));
export const ROOT = resolve(HERE, "..", "..");
export const DIST = join(ROOT, "dist", "vox-crm");
/** A fresh work directory for one test file's projects. */
export const workDir = (name) => join(HERE, ".work", `${name}-${process.pid}-${Date.now().toString(36)}`);
export const TOKEN = "sk_test_vox_sandbox";
export const PROJECT_ID = "6650a1b2c3d4e5f601234567";
export const PHONE = "98453 17206";
export const E164 = "+919845317206";

export function writeFiles(dir, files) {
  for (const [name, content] of Object.entries(files)) {
    const path = join(dir, name);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, typeof content === "string" ? content : JSON.stringify(content, null, 2) + "\n");
  }
}

export async function npm(args, cwd) {
  try {
    return await run("npm", [...args, "--no-audit", "--no-fund", "--loglevel=error"], { cwd, timeout: 120000, maxBuffer: 16 << 20 });
  } catch (err) {
    throw new Error(`npm ${args.join(" ")} in ${cwd} failed: ${err.stderr || err.message}`);
  }
}

/** Runs a Node script of a throwaway project; its last stdout line is JSON. */
export async function nodeScript(cwd, script, env) {
  let out;
  try {
    out = await run(process.execPath, [script], { cwd, env: { ...process.env, ...env }, timeout: 60000 });
  } catch (err) {
    throw new Error(`node ${script} failed: ${err.stderr || err.message}`);
  }
  const lines = out.stdout.trim().split("\n");
  return JSON.parse(lines[lines.length - 1]);
}

export const TYPES = {
  ".html": "text/html",
  ".js": "text/javascript",
  ".mjs": "text/javascript",
  ".json": "application/json",
  ".wasm": "application/wasm",
  ".css": "text/css",
};

/** A static file server for `root`; with `proxyTo`, /api/v1/* goes there with the token added (the SDK's browser set-up). */
export async function startStatic(root, { proxyTo } = {}) {
  const server = createServer((req, res) => {
    const url = new URL(req.url, "http://x");
    if (proxyTo && url.pathname.startsWith("/api/v1/")) {
      const target = new URL(proxyTo);
      const headers = { ...req.headers, host: target.host, authorization: `Bearer ${TOKEN}` };
      const up = httpRequest({ host: target.hostname, port: target.port, path: url.pathname + url.search, method: req.method, headers }, (r) => {
        res.writeHead(r.statusCode, {
          "content-type": r.headers["content-type"] ?? "application/json",
          ...(r.headers["retry-after"] ? { "retry-after": r.headers["retry-after"] } : {}),
        });
        r.pipe(res);
      });
      up.on("error", () => res.destroy());
      req.pipe(up);
      return;
    }
    const file = resolve(root, "." + decodeURIComponent(url.pathname === "/" ? "/index.html" : url.pathname));
    if (!file.startsWith(root + sep) || !existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404, { "content-type": "text/plain" });
      res.end("not found");
      return;
    }
    res.writeHead(200, { "content-type": TYPES[extname(file)] ?? "application/octet-stream", "cache-control": "no-store" });
    createReadStream(file).pipe(res);
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  return {
    url: `http://127.0.0.1:${server.address().port}/`,
    close: () =>
      new Promise((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}

/** The check every consumer runs, as the source of a function body taking (vox, options) and returning a result. */
export const CHECK = `
  const { validatePhone, validatePhones, maskPhone, VoxClient, VoxError, normalizePhone } = vox;
  const check = validatePhone(${JSON.stringify(PHONE)});
  // An ASCII batch (written into wasm's memory by the glue) and one that is not (a joined string).
  const brief = (checks) => checks.map((c) => c.e164 ?? c.reason);
  const batches = [
    brief(validatePhones([${JSON.stringify(PHONE)}, "12", "+44 20 7946 0958"])),
    brief(validatePhones([${JSON.stringify(PHONE)}, "\uFF19\uFF18\uFF14\uFF15\uFF13 17206"])),
  ];
  let invalid;
  try { normalizePhone("12345"); } catch (e) { invalid = { code: e.code, isVoxError: e instanceof VoxError, isError: e instanceof Error }; }
  const client = new VoxClient(options);
  const page = await client.queryLeads({ limit: 1 });
  return {
    names: Object.keys(vox).sort(),
    check,
    batches,
    masked: maskPhone(check.e164),
    invalid,
    query: { isArray: Array.isArray(page.leads), limit: page.limit, page: page.page, total: page.total },
  };
`;

export function assertResult(result, label) {
  for (const name of ["VoxClient", "VoxError", "validatePhone", "validatePhones", "normalizePhone", "maskPhone", "validateLead"]) {
    assert.ok(result.names.includes(name), `${label}: exports ${name}`);
  }
  assert.equal(result.check.valid, true, `${label}: the phone is valid`);
  assert.equal(result.check.e164, E164, `${label}: E.164`);
  assert.deepEqual(
    result.batches,
    [
      [E164, "too_short", "+442079460958"],
      [E164, E164],
    ],
    `${label}: validatePhones`,
  );
  assert.equal(result.masked, "+91******7206", `${label}: masked`);
  assert.deepEqual(result.invalid, { code: "invalid_phone", isVoxError: true, isError: true }, `${label}: VoxError`);
  assert.deepEqual(result.query, { isArray: true, limit: 1, page: 1, total: 1 }, `${label}: one call to the sandbox`);
}

/**
 * What a server runtime checks of vox-crm/proxy: a function body taking (createProxyHandler, options,
 * serve) — serve(handler) mounts the handler the runtime's way and resolves to (path) => Response —
 * and returning a result for assertProxyResult.
 */
export const PROXY_CHECK = `
  const handler = createProxyHandler({ ...options, basePath: "/api/vox", allow: ["queryLeads"], authorize: () => ({ masked: true }) });
  const ask = await serve(handler);
  const read = await ask("/api/vox/leads/query?limit=1");
  const refused = await ask("/api/vox/leads/get?leadId=0123456789abcdef01234567");
  const body = await read.json();
  return { status: read.status, total: body.pagination && body.pagination.total, phone: body.data && body.data[0] && body.data[0].phone, refused: refused.status };
`;

/** The seeded sandbox's one lead through the proxy: read masked; getLead (not allowed) refused. */
export function assertProxyResult(result, label) {
  assert.deepEqual(result, { status: 200, total: 1, phone: "+********4502", refused: 403 }, `${label}: vox-crm/proxy`);
}

/** Opens url in a new page of `browser` and returns window.__result (or fails with the page's error). */
export async function inChromium(browser, url, label) {
  const page = await browser.context.newPage();
  const watch = watchPage(page);
  const requests = [];
  page.on("request", (req) => requests.push(req.url()));
  try {
    await page.goto(url);
    await page.waitForFunction(() => window.__result || window.__error, null, { timeout: 30000 });
    const { result, error } = await page.evaluate(() => ({ result: window.__result, error: window.__error }));
    assert.equal(error, undefined, `${label}: the page failed: ${error}`);
    assert.deepEqual(watch.problems, [], `${label}: no console error or failed request`);
    return { result, requests };
  } finally {
    await page.close();
  }
}

/** Fails unless dist/vox-crm is built, with these files (paths inside it) too. */
export function requireBuilt(...paths) {
  for (const p of ["package.json", "web/vox_crm_bg.wasm", "node/vox_crm_bg.wasm", ...paths]) {
    if (!existsSync(join(DIST, p))) throw new Error(`dist/vox-crm is not built (no ${p}): run scripts/package.sh (or PROFILE=--dev scripts/package.sh) first`);
  }
}

/** `time(label, fn)` runs fn and records its milliseconds in `timings[label]`. */
export function stopwatch() {
  const timings = {};
  const time = async (label, fn) => {
    const t0 = Date.now();
    try {
      return await fn();
    } finally {
      timings[label] = Date.now() - t0;
    }
  };
  return { timings, time };
}

/** A sandbox on 127.0.0.1 holding one lead, so that queryLeads({ limit: 1 }) gives total 1. */
export async function startSeededSandbox(name) {
  const sb = await startSandbox({ port: 0, quiet: true, callDelayMs: 60000, callDurationMs: 1000 });
  try {
    const seeded = await fetch(sb.url + "/leads/initiate", {
      method: "POST",
      headers: { Authorization: `Bearer ${TOKEN}`, "Content-Type": "application/json" },
      body: JSON.stringify({ lead: { projectId: PROJECT_ID, processId: "6650a1b2c3d4e5f6012345a1", name, phone: "+919812364502" }, init: false }),
    });
    assert.equal(seeded.status, 200);
    return sb;
  } catch (err) {
    await sb.close();
    throw err;
  }
}

/** `npm pack` of dist/vox-crm (or of `dir`) into `work`: npm's description of the .tgz, and its path. */
export async function packDist(work, dir = DIST) {
  const { stdout } = await npm(["pack", dir, "--pack-destination", work, "--json"], work);
  const [info] = JSON.parse(stdout);
  const tgz = join(work, info.filename);
  assert.ok(existsSync(tgz), `${info.filename} exists`);
  return { info, tgz };
}

/** A port on 127.0.0.1 that was free a moment ago (for a tool that must be told its port). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}
