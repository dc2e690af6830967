// The example page's backend (node:http, no dependencies). It serves
//   /                 the page: index.html, app.js, style.css, ... from this folder
//   /config.json      the project and process ids the page needs (no secrets)
//   /vox-crm/...      the built package from dist/vox-crm (the page imports /vox-crm/web/index.mjs)
//   /api/v1/...       the package's backend route for pages (vox-crm/proxy): the calls the page makes
//                     (ALLOW below, nothing else), each made on the server with the token
// so that the token stays on the server: the page's VoxClient has no token and its baseUrl is this
// origin's /api/v1 (the package README, "A backend route for browser pages").
//
//   import { startExampleServer } from "./www-example/serve.mjs";
//   const page = await startExampleServer({ port: 8080, crmBaseUrl: "http://127.0.0.1:4010/api/v1" });
//   // page.url = "http://127.0.0.1:8080/"; await page.close();
//
// Settings (an option, else the environment, else the local sandbox's fixed defaults):
//   crmBaseUrl  VOX_BASE_URL    where /api/v1/* goes. VOX_BASE_URL, when set, wins over the option, so that
//                               `VOX_BASE_URL=... VOX_TOKEN=... VOX_PROJECT_ID=... make demo` points the page at
//                               a real CRM even though scripts/demo.mjs passes its sandbox's URL.
//   token       VOX_TOKEN       required whenever VOX_BASE_URL is set (the sandbox's token is never sent elsewhere)
//   projectId   VOX_PROJECT_ID
//   processes   VOX_PROCESS_IDS "id" or "Name=id", comma separated (VOX_PROCESS_ID: one id)
//   host                        interface to bind, default 127.0.0.1 (the proxy spends your token for whoever
//                               can reach it: add your users' session check as its `authorize` before
//                               exposing it)
//   env                         the environment to read (default process.env; tests pass {})
//
// Command line: node www-example/serve.mjs [--port 8080] [--crm URL]
//   without --crm and VOX_BASE_URL it starts a local sandbox CRM in-process first.

import { createReadStream, realpathSync } from "node:fs";
import { stat } from "node:fs/promises";
import { createServer } from "node:http";
import { dirname, extname, join, resolve, sep } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const HERE = dirname(fileURLToPath(import.meta.url));
const DIST = resolve(HERE, "..", "dist", "vox-crm");
const API_PREFIX = "/api/v1";

/** The local sandbox's fixed defaults (sandbox/README.md, "Default data"). */
export const SANDBOX_DEFAULTS = Object.freeze({
  baseUrl: "http://127.0.0.1:4010/api/v1",
  token: "sk_test_vox_sandbox",
  projectId: "6650a1b2c3d4e5f601234567",
  processes: [
    {
      id: "6650a1b2c3d4e5f6012345a1",
      name: "Sales",
      states: ["new", "make_first_call", "interested", "not_interested", "callback", "followup_1", "followup_2", "lost", "converted"],
    },
    {
      id: "6650a1b2c3d4e5f6012345a2",
      name: "Support",
      states: ["new", "make_first_call", "resolved", "escalated", "followup_1", "lost"],
    },
  ],
});

const TYPES = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".csv": "text/csv; charset=utf-8",
  ".wasm": "application/wasm",
  ".ts": "text/plain; charset=utf-8",
  ".md": "text/plain; charset=utf-8",
};
/** What the page folder serves: the page's own assets, never the Node scripts beside them. */
const PAGE_EXTENSIONS = new Set([".html", ".js", ".css", ".svg", ".png", ".ico", ".csv"]);
/** What the package folder serves. */
const PACKAGE_EXTENSIONS = new Set([".js", ".mjs", ".wasm", ".json", ".ts", ".md"]);

/** What the page does (app.js), and so all it may do: no bulkInitiateExisting, no getActivity. */
export const ALLOW = ["initiateLead", "initiateExistingLead", "bulkInitiateLeads", "updateLead", "getLead", "queryLeads"];
/** Per visitor: the page polls a lead while its call is on, and a bulk import counts its project's leads first. */
const VISITOR_LIMIT = { requests: 600, perMs: 60000 };

function parseProcesses(text) {
  return String(text)
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean)
    .map((item) => {
      const eq = item.indexOf("=");
      return eq > 0 ? { id: item.slice(eq + 1).trim(), name: item.slice(0, eq).trim() } : { id: item, name: item };
    });
}

/** Resolves the settings (see the header). Throws on a combination that would leak or cannot work. */
export function resolveSettings(options = {}) {
  const env = options.env ?? process.env;
  const envBase = env.VOX_BASE_URL?.trim();
  const baseUrl = (envBase || options.crmBaseUrl || SANDBOX_DEFAULTS.baseUrl).replace(/\/+$/, "");
  let target;
  try {
    target = new URL(baseUrl);
  } catch {
    throw new Error(`the CRM base URL is not a URL: ${baseUrl}`);
  }
  if (target.protocol !== "http:" && target.protocol !== "https:") throw new Error(`the CRM base URL must be http(s): ${baseUrl}`);

  const token = options.token || env.VOX_TOKEN || (envBase ? undefined : SANDBOX_DEFAULTS.token);
  if (!token) throw new Error("VOX_BASE_URL is set but VOX_TOKEN is not: the proxy needs the CRM token (it stays on the server)");
  const projectId = options.projectId || env.VOX_PROJECT_ID || (envBase ? undefined : SANDBOX_DEFAULTS.projectId);
  if (!projectId) throw new Error("VOX_BASE_URL is set but VOX_PROJECT_ID is not");

  let processes = options.processes;
  if (!processes && env.VOX_PROCESS_IDS) processes = parseProcesses(env.VOX_PROCESS_IDS);
  if (!processes && env.VOX_PROCESS_ID) processes = parseProcesses(env.VOX_PROCESS_ID);
  if (!processes) processes = envBase ? [] : SANDBOX_DEFAULTS.processes;
  const sandbox = !envBase && projectId === SANDBOX_DEFAULTS.projectId && token === SANDBOX_DEFAULTS.token;
  return { baseUrl, target, token, projectId, processes, sandbox };
}

/**
 * Starts the example server. Resolves to { url, port, close() }.
 * options: { port = 8080, host = "127.0.0.1", crmBaseUrl, token, projectId, processes, env, quiet }
 */
export async function startExampleServer(options = {}) {
  const settings = resolveSettings(options);
  const { port = 8080, host = "127.0.0.1" } = options;
  if (!(await exists(join(DIST, "proxy.mjs")))) throw new Error("the vox-crm package is not built: run scripts/package.sh (or make demo)");
  const { createProxyHandler, toNodeHandler } = await import(pathToFileURL(join(DIST, "proxy.mjs")).href);
  const proxy = toNodeHandler(
    createProxyHandler({
      projectId: settings.projectId,
      token: settings.token,
      baseUrl: settings.baseUrl,
      basePath: API_PREFIX,
      allow: ALLOW,
      limit: VISITOR_LIMIT,
    }),
  );
  const pageRoot = realpathSync(HERE);
  const publicConfig = JSON.stringify({
    projectId: settings.projectId,
    processes: settings.processes,
    // Where the proxy goes (not secret), so the page can say what it is talking to.
    crm: { kind: settings.sandbox ? "sandbox" : "custom", host: settings.target.host },
    apiBase: API_PREFIX,
  });
  // Recordings are media from wherever the CRM keeps them (recordingUrl): the page may play them; it may
  // fetch only from its own origin (connect-src).
  const csp = [
    "default-src 'self'",
    "script-src 'self' 'wasm-unsafe-eval'",
    "style-src 'self'",
    "img-src 'self' data:",
    "media-src 'self' http: https:",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
    "form-action 'self'",
  ].join("; ");

  const sockets = new Set();
  const server = createServer((req, res) => {
    handle(req, res).catch((err) => {
      if (!res.headersSent) sendJson(res, 500, { success: false, error: `example server: ${err.message}` });
      else res.destroy();
    });
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });

  async function handle(req, res) {
    // Only origin-form targets ("/path?query"): never an absolute URL that would turn this into an open proxy.
    if (!req.url?.startsWith("/") || req.url.startsWith("//")) return sendJson(res, 400, { success: false, error: "Bad request" });
    const url = new URL(req.url, "http://example.invalid");
    const path = url.pathname;
    if (path === API_PREFIX || path.startsWith(API_PREFIX + "/")) return proxy(req, res);
    if (req.method !== "GET" && req.method !== "HEAD") return sendJson(res, 405, { success: false, error: "Method not allowed" }, { Allow: "GET, HEAD" });
    if (path === "/config.json") return sendBody(req, res, 200, publicConfig, { "Content-Type": TYPES[".json"], "Cache-Control": "no-store" });
    if (path === "/healthz") return sendBody(req, res, 200, "ok\n", { "Content-Type": "text/plain" });
    if (path === "/vox-crm" || path.startsWith("/vox-crm/")) {
      return serveFile(req, res, DIST, decodeURIComponent(path.slice("/vox-crm".length)), PACKAGE_EXTENSIONS, true);
    }
    return serveFile(req, res, pageRoot, path === "/" ? "/index.html" : decodeURIComponent(path), PAGE_EXTENSIONS, false);
  }

  async function serveFile(req, res, root, rel, allowed, isPackage) {
    const ext = extname(rel).toLowerCase();
    const file = resolve(root, "." + rel);
    const inside = file.startsWith(root + sep);
    if (!inside || !allowed.has(ext) || rel.includes("\0") || /(^|\/)\./.test(rel) || /(^|\/)node_modules(\/|$)/.test(rel)) {
      return notFound(req, res);
    }
    let info;
    try {
      info = await stat(file);
    } catch {
      if (isPackage && !(await exists(join(DIST, "package.json")))) {
        return sendBody(req, res, 503, "The vox-crm package is not built: run scripts/package.sh (or make demo).\n", {
          "Content-Type": "text/plain; charset=utf-8",
        });
      }
      return notFound(req, res);
    }
    if (!info.isFile()) return notFound(req, res);
    const headers = {
      "Content-Type": TYPES[ext] ?? "application/octet-stream",
      "Content-Length": info.size,
      "Cache-Control": "no-cache",
      "X-Content-Type-Options": "nosniff",
    };
    if (ext === ".html") {
      headers["Content-Security-Policy"] = csp;
      headers["Referrer-Policy"] = "no-referrer";
    }
    res.writeHead(200, headers);
    if (req.method === "HEAD") return res.end();
    const stream = createReadStream(file);
    stream.on("error", () => res.destroy());
    stream.pipe(res);
  }

  function notFound(req, res) {
    return sendBody(req, res, 404, "Not found\n", { "Content-Type": "text/plain; charset=utf-8" });
  }

  await new Promise((resolveListen, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolveListen();
    });
  });
  const address = server.address();
  const shownHost = host === "0.0.0.0" || host === "::" ? "127.0.0.1" : host.includes(":") ? `[${host}]` : host;
  const url = `http://${shownHost}:${address.port}/`;

  let closing = null;
  function close() {
    closing ??= new Promise((done) => {
      server.close(() => done());
      for (const s of sockets) s.destroy();
    });
    return closing;
  }
  return { url, port: address.port, close, crm: settings.baseUrl };
}

function sendBody(req, res, status, body, headers) {
  const payload = Buffer.from(body);
  res.writeHead(status, { ...headers, "Content-Length": payload.length });
  res.end(req.method === "HEAD" ? undefined : payload);
}

function sendJson(res, status, body, headers = {}) {
  const payload = Buffer.from(JSON.stringify(body));
  res.writeHead(status, { "Content-Type": TYPES[".json"], "Content-Length": payload.length, ...headers });
  res.end(payload);
}

async function exists(path) {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------------------------------------------------
// Command line

function isMain() {
  try {
    return !!process.argv[1] && realpathSync(fileURLToPath(import.meta.url)) === realpathSync(process.argv[1]);
  } catch {
    return false;
  }
}

async function main() {
  const args = process.argv.slice(2);
  const flag = (name) => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : undefined;
  };
  if (args.includes("--help") || args.includes("-h")) {
    console.log(
      "usage: node www-example/serve.mjs [--port 8080] [--host 127.0.0.1] [--crm BASE_URL]\n" +
        "env: VOX_BASE_URL, VOX_TOKEN, VOX_PROJECT_ID, VOX_PROCESS_IDS (see the top of this file)",
    );
    return;
  }
  let sandbox = null;
  let crmBaseUrl = flag("--crm");
  if (!crmBaseUrl && !process.env.VOX_BASE_URL) {
    const { startSandbox } = await import("../sandbox/server.mjs");
    sandbox = await startSandbox({ port: 0, quiet: true, callDelayMs: 1500, callDurationMs: 2500 });
    crmBaseUrl = sandbox.url;
    console.log(`Sandbox CRM at ${sandbox.url}`);
  }
  const page = await startExampleServer({
    port: Number(flag("--port") ?? process.env.VOX_EXAMPLE_PORT ?? 8080),
    host: flag("--host") ?? "127.0.0.1",
    crmBaseUrl,
  });
  console.log(`Example page: ${page.url}  (proxying /api/v1 to ${page.crm}; Ctrl-C stops)`);
  const stop = async () => {
    await page.close();
    await sandbox?.close();
    process.exit(0);
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}

if (isMain()) {
  main().catch((err) => {
    console.error(`serve.mjs: ${err.message}`);
    process.exit(1);
  });
}
