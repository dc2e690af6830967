// The packaging matrix: the packed vox-crm .tgz, installed with npm into throwaway projects under
// tests/packaging/.work/ (gitignored), used the four ways people use it:
//   1. Node ESM          import { validatePhone, VoxClient } from "vox-crm"
//   2. Node CommonJS     require("vox-crm")
//   3. a plain page      <script type="module"> with an import map, served over http, in Chromium
//   4. an esbuild bundle esbuild --bundle --format=esm (the .wasm copied beside it), in Chromium
// Each validates a phone and makes one call to a sandbox CRM (queryLeads({ limit: 1 })). The plain page goes
// through a tiny same-origin proxy that adds the token (the SDK.md "Browsers" set-up); the bundle calls the
// sandbox directly with dangerouslyAllowBrowser: true, over the sandbox's CORS.
//
//   node --test tests/packaging/        (after scripts/package.sh; set VOX_KEEP_WORK=1 to keep the projects)
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { createServer, request as httpRequest } from "node:http";
import { copyFileSync, createReadStream, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, extname, join, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { build } from "esbuild";
import { startSandbox } from "../../sandbox/server.mjs";
import { launchChromium, requireChromium, watchPage } from "../browser/chromium.mjs";

const run = promisify(execFile);
const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, "..", "..");
const DIST = join(ROOT, "dist", "vox-crm");
const WORK = join(HERE, ".work", `run-${process.pid}-${Date.now().toString(36)}`);
const TOKEN = "sk_test_vox_sandbox";
const PROJECT_ID = "6650a1b2c3d4e5f601234567";
const PHONE = "98453 17206";
const E164 = "+919845317206";

// ---------------------------------------------------------------------------------------------------------
// Helpers

function writeFiles(dir, files) {
  for (const [name, content] of Object.entries(files)) {
    const path = join(dir, name);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, typeof content === "string" ? content : JSON.stringify(content, null, 2) + "\n");
  }
}

async function npm(args, cwd) {
  try {
    return await run("npm", [...args, "--no-audit", "--no-fund", "--loglevel=error"], { cwd, timeout: 120000, maxBuffer: 16 << 20 });
  } catch (err) {
    throw new Error(`npm ${args.join(" ")} in ${cwd} failed: ${err.stderr || err.message}`);
  }
}

/** Runs a Node script of a throwaway project; its last stdout line is JSON. */
async function nodeScript(cwd, script, env) {
  let out;
  try {
    out = await run(process.execPath, [script], { cwd, env: { ...process.env, ...env }, timeout: 60000 });
  } catch (err) {
    throw new Error(`node ${script} failed: ${err.stderr || err.message}`);
  }
  const lines = out.stdout.trim().split("\n");
  return JSON.parse(lines[lines.length - 1]);
}

const TYPES = { ".html": "text/html", ".js": "text/javascript", ".mjs": "text/javascript", ".json": "application/json", ".wasm": "application/wasm", ".css": "text/css" };

/** A static file server for `root`; with `proxyTo`, /api/v1/* goes there with the token added (the SDK's browser set-up). */
async function startStatic(root, { proxyTo } = {}) {
  const server = createServer((req, res) => {
    const url = new URL(req.url, "http://x");
    if (proxyTo && url.pathname.startsWith("/api/v1/")) {
      const target = new URL(proxyTo);
      const headers = { ...req.headers, host: target.host, authorization: `Bearer ${TOKEN}` };
      const up = httpRequest({ host: target.hostname, port: target.port, path: url.pathname + url.search, method: req.method, headers }, (r) => {
        res.writeHead(r.statusCode, { "content-type": r.headers["content-type"] ?? "application/json", ...(r.headers["retry-after"] ? { "retry-after": r.headers["retry-after"] } : {}) });
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
    close: () => new Promise((r) => {
      server.close(() => r());
      server.closeAllConnections();
    }),
  };
}

/** The check every consumer runs, as the source of a function body taking (vox, options) and returning a result. */
const CHECK = `
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

function assertResult(result, label) {
  for (const name of ["VoxClient", "VoxError", "validatePhone", "validatePhones", "normalizePhone", "maskPhone", "validateLead"]) {
    assert.ok(result.names.includes(name), `${label}: exports ${name}`);
  }
  assert.equal(result.check.valid, true, `${label}: the phone is valid`);
  assert.equal(result.check.e164, E164, `${label}: E.164`);
  assert.deepEqual(result.batches, [[E164, "too_short", "+442079460958"], [E164, E164]], `${label}: validatePhones`);
  assert.equal(result.masked, "+91******7206", `${label}: masked`);
  assert.deepEqual(result.invalid, { code: "invalid_phone", isVoxError: true, isError: true }, `${label}: VoxError`);
  assert.deepEqual(result.query, { isArray: true, limit: 1, page: 1, total: 1 }, `${label}: one call to the sandbox`);
}

// ---------------------------------------------------------------------------------------------------------

test("packaging matrix: the packed .tgz from Node ESM, Node CommonJS, a plain module page and an esbuild bundle", { timeout: 180000 }, async (t) => {
  if (!existsSync(join(DIST, "package.json")) || !existsSync(join(DIST, "web", "vox_crm_bg.wasm")) || !existsSync(join(DIST, "node", "index.cjs"))) {
    throw new Error("dist/vox-crm is not built: run scripts/package.sh (or PROFILE=--dev scripts/package.sh) first");
  }
  requireChromium();
  const timings = {};
  const time = async (label, fn) => {
    const t0 = Date.now();
    try {
      return await fn();
    } finally {
      timings[label] = Date.now() - t0;
    }
  };

  mkdirSync(WORK, { recursive: true });
  const sb = await startSandbox({ port: 0, quiet: true, callDelayMs: 60000, callDurationMs: 1000 });
  const servers = [];
  let browser = null;
  try {
    // One lead, so that queryLeads({ limit: 1 }) has something to return (total 1 for every consumer).
    const seeded = await fetch(sb.url + "/leads/initiate", {
      method: "POST",
      headers: { Authorization: `Bearer ${TOKEN}`, "Content-Type": "application/json" },
      body: JSON.stringify({ lead: { projectId: PROJECT_ID, processId: "6650a1b2c3d4e5f6012345a1", name: "Matrix Seed", phone: "+919812364502" }, init: false }),
    });
    assert.equal(seeded.status, 200);

    let tgz;
    await t.test("npm pack dist/vox-crm", async () => {
      const { stdout } = await time("npm pack", () => npm(["pack", DIST, "--pack-destination", WORK, "--json"], WORK));
      const [info] = JSON.parse(stdout);
      tgz = join(WORK, info.filename);
      assert.ok(existsSync(tgz), `${info.filename} exists`);
      const files = info.files.map((f) => f.path);
      for (const f of ["package.json", "index.d.ts", "README.md", "node/index.cjs", "node/index.mjs", "node/vox_crm_bg.wasm", "web/index.mjs", "web/vox_crm_bg.wasm"]) {
        assert.ok(files.includes(f), `the tarball has ${f}`);
      }
      assert.ok(!files.some((f) => f.includes("node_modules") || f.endsWith(".tgz")), "nothing stray in the tarball");
      assert.deepEqual(JSON.parse(readFileSync(join(DIST, "package.json"), "utf8")).dependencies ?? {}, {}, "no dependencies");
      t.diagnostic(`${info.filename}: ${(info.size / 1024).toFixed(0)} KiB packed, ${info.entryCount} files`);
    });

    // Four throwaway projects, installed in parallel.
    const projects = {
      esm: { "package.json": { name: "matrix-esm", private: true, type: "module" } },
      cjs: { "package.json": { name: "matrix-cjs", private: true, type: "commonjs" } },
      page: { "package.json": { name: "matrix-page", private: true } },
      bundle: { "package.json": { name: "matrix-bundle", private: true, type: "module" } },
    };
    await t.test("npm install the .tgz into four throwaway projects", async () => {
      await time("npm install x4", () => Promise.all(Object.entries(projects).map(async ([name, files]) => {
        const dir = join(WORK, name);
        writeFiles(dir, files);
        await npm(["install", tgz, "--no-package-lock", "--prefer-offline"], dir);
        const installed = JSON.parse(readFileSync(join(dir, "node_modules", "vox-crm", "package.json"), "utf8"));
        assert.equal(installed.name, "vox-crm");
        assert.equal(installed.version, JSON.parse(readFileSync(join(DIST, "package.json"), "utf8")).version);
      })));
    });

    const nodeEnv = { VOX_BASE_URL: sb.url, VOX_TOKEN: TOKEN, VOX_PROJECT_ID: PROJECT_ID };

    await t.test("Node ESM: import { validatePhone, VoxClient } from \"vox-crm\"", async () => {
      const dir = join(WORK, "esm");
      writeFiles(dir, {
        "main.mjs": `import * as vox from "vox-crm";
import { validatePhone, VoxClient } from "vox-crm";
const options = { projectId: process.env.VOX_PROJECT_ID, token: process.env.VOX_TOKEN, baseUrl: process.env.VOX_BASE_URL };
const result = await (async () => {${CHECK}})();
result.resolved = import.meta.resolve("vox-crm");
result.named = typeof validatePhone === "function" && typeof VoxClient === "function";
console.log(JSON.stringify(result));
`,
      });
      const result = await time("node esm", () => nodeScript(dir, "main.mjs", nodeEnv));
      assertResult(result, "Node ESM");
      assert.ok(result.named);
      assert.match(result.resolved, /node_modules\/vox-crm\/node\/index\.mjs$/, "the node/import condition");
    });

    await t.test("Node CommonJS: require(\"vox-crm\")", async () => {
      const dir = join(WORK, "cjs");
      writeFiles(dir, {
        "main.cjs": `const vox = require("vox-crm");
const { validatePhone, VoxClient } = require("vox-crm");
const options = { projectId: process.env.VOX_PROJECT_ID, token: process.env.VOX_TOKEN, baseUrl: process.env.VOX_BASE_URL };
(async () => {${CHECK}})().then((result) => {
  result.resolved = require.resolve("vox-crm");
  result.named = typeof validatePhone === "function" && typeof VoxClient === "function";
  console.log(JSON.stringify(result));
}, (err) => { console.error(err); process.exit(1); });
`,
      });
      const result = await time("node cjs", () => nodeScript(dir, "main.cjs", nodeEnv));
      assertResult(result, "Node CommonJS");
      assert.ok(result.named);
      assert.match(result.resolved, /node_modules\/vox-crm\/node\/index\.cjs$/, "the node/require condition");
    });

    browser = await launchChromium();

    /** Opens url in a new page and returns window.__result (or fails with the page's error). */
    async function inChromium(url, label) {
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

    await t.test("a plain <script type=\"module\"> page with an import map, in Chromium, through a same-origin proxy", async () => {
      const dir = join(WORK, "page");
      const pkg = JSON.parse(readFileSync(join(dir, "node_modules", "vox-crm", "package.json"), "utf8"));
      // The import map points "vox-crm" where the exports map's browser condition says.
      const browserEntry = pkg.exports["."].browser;
      assert.equal(browserEntry, "./web/index.mjs");
      const entry = "./node_modules/vox-crm/" + browserEntry.replace(/^\.\//, "");
      writeFiles(dir, {
        "index.html": `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>vox-crm plain page</title>
<link rel="icon" href="data:,">
<script type="importmap">${JSON.stringify({ imports: { "vox-crm": entry } })}</script>
<script type="module">
  import * as vox from "vox-crm";
  const options = { projectId: ${JSON.stringify(PROJECT_ID)}, baseUrl: location.origin + "/api/v1" };
  try {
    window.__result = await (async () => {${CHECK}})();
    let unsafe;
    try { new vox.VoxClient({ projectId: options.projectId, token: "x" }); } catch (e) { unsafe = e.code; }
    window.__result.unsafe = unsafe;
  } catch (e) {
    window.__error = String(e && e.stack || e);
  }
</script>
</head><body><p>vox-crm in a plain module page</p></body></html>
`,
      });
      const server = await startStatic(dir, { proxyTo: sb.origin });
      servers.push(server);
      const { result, requests } = await time("chromium page", () => inChromium(server.url, "plain page"));
      assertResult(result, "plain page");
      assert.equal(result.unsafe, "browser_unsafe", "a token in the page is refused");
      assert.ok(requests.some((u) => u.endsWith("/node_modules/vox-crm/web/vox_crm_bg.wasm")), "the wasm beside the entry was fetched");
      assert.ok(requests.some((u) => u.startsWith(server.url + "api/v1/leads/query")), "the call went through the page's own origin");
    });

    await t.test("an esbuild bundle (--bundle --format=esm, the .wasm copied beside it), in Chromium", async () => {
      const dir = join(WORK, "bundle");
      writeFiles(dir, {
        "src/main.js": `import * as vox from "vox-crm";
const options = await (await fetch("./config.json")).json();
try {
  window.__result = await (async () => {${CHECK}})();
} catch (e) {
  window.__error = String(e && e.stack || e);
}
`,
        "out/index.html": `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>vox-crm bundle</title>
<link rel="icon" href="data:,"><script type="module" src="./app.js"></script></head><body><p>bundled</p></body></html>
`,
        // The bundle calls the sandbox directly (CORS), so it needs the token: the opt-in is explicit.
        "out/config.json": { projectId: PROJECT_ID, token: TOKEN, baseUrl: sb.url, dangerouslyAllowBrowser: true },
      });
      const built = await time("esbuild", () => build({
        absWorkingDir: dir,
        entryPoints: ["src/main.js"],
        bundle: true,
        format: "esm",
        platform: "browser",
        target: "es2022",
        outfile: "out/app.js",
        metafile: true,
        logLevel: "silent",
      }));
      const inputs = Object.keys(built.metafile.inputs);
      assert.ok(inputs.some((p) => p.endsWith("node_modules/vox-crm/web/index.mjs")), `the browser entry was bundled: ${inputs.join(", ")}`);
      assert.ok(!inputs.some((p) => p.includes("vox-crm/node/")), "nothing of the Node build");
      assert.ok(!readFileSync(join(dir, "out", "app.js"), "utf8").includes("require(\""), "no require() in the bundle");
      copyFileSync(join(dir, "node_modules", "vox-crm", "web", "vox_crm_bg.wasm"), join(dir, "out", "vox_crm_bg.wasm"));
      const server = await startStatic(join(dir, "out"));
      servers.push(server);
      const { result, requests } = await time("chromium bundle", () => inChromium(server.url, "esbuild bundle"));
      assertResult(result, "esbuild bundle");
      assert.ok(requests.includes(server.url + "vox_crm_bg.wasm"), "the wasm beside the bundle was fetched");
      assert.ok(requests.some((u) => u.startsWith(sb.url + "/leads/query")), "the call went to the sandbox directly");
    });

    t.diagnostic(`timings (ms): ${JSON.stringify(timings)}`);
  } finally {
    await browser?.close();
    for (const s of servers) await s.close();
    await sb.close();
    if (!process.env.VOX_KEEP_WORK) rmSync(WORK, { recursive: true, force: true });
  }
});
