// The packaging matrix: the packed vox-crm .tgz, installed with npm into throwaway projects under
// tests/packaging/.work/ (gitignored), used the four ways people use it:
//   1. Node ESM          import { validatePhone, VoxClient } from "vox-crm"
//   2. Node CommonJS     require("vox-crm")
//   3. a plain page      <script type="module"> with an import map, served over http, in Chromium
//   4. an esbuild bundle esbuild --bundle --format=esm (the .wasm copied beside it), in Chromium
// Each validates a phone and makes one call to a sandbox CRM (queryLeads({ limit: 1 })). The plain page goes
// through a tiny same-origin proxy that adds the token (the docs/sdk.md "Browsers" set-up); the bundle calls the
// sandbox directly with dangerouslyAllowBrowser: true, over the sandbox's CORS.
//
//   node --test tests/packaging/        (after scripts/package.sh; set VOX_KEEP_WORK=1 to keep the projects)

import assert from "node:assert/strict";
import { copyFileSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { build } from "esbuild";
import { launchChromium, requireChromium } from "../browser/chromium.mjs";
import {
  assertResult,
  CHECK,
  DIST,
  inChromium as inChromiumOf,
  nodeScript,
  npm,
  PROJECT_ID,
  packDist,
  requireBuilt,
  run,
  startSeededSandbox,
  startStatic,
  stopwatch,
  TOKEN,
  workDir,
  writeFiles,
} from "./lib.mjs";

const WORK = workDir("run");

// ---------------------------------------------------------------------------------------------------------

test("packaging matrix: the packed .tgz from Node ESM, Node CommonJS, a plain module page and an esbuild bundle", { timeout: 180000 }, async (t) => {
  requireBuilt("node/index.cjs");
  requireChromium();
  const { timings, time } = stopwatch();

  mkdirSync(WORK, { recursive: true });
  const sb = await startSeededSandbox("Matrix Seed");
  const servers = [];
  let browser = null;
  try {
    let tgz;
    await t.test("npm pack dist/vox-crm", async () => {
      const { info, tgz: packed } = await time("npm pack", () => packDist(WORK));
      tgz = packed;
      const files = info.files.map((f) => f.path);
      for (const f of [
        "package.json",
        "index.d.ts",
        "index.d.cts",
        "README.md",
        "node/index.cjs",
        "node/index.mjs",
        "web/index.mjs",
        "web/vox_crm_bg.wasm",
        "edge/index.mjs",
        "node/bundler.mjs",
        "deno/index.mjs",
        "deno/wasm.mjs",
      ]) {
        assert.ok(files.includes(f), `the tarball has ${f}`);
      }
      assert.deepEqual(
        files.filter((f) => f.endsWith(".wasm")).sort(),
        ["node/vox_crm_bg.wasm", "web/vox_crm_bg.wasm"],
        "two .wasm: Node's, and web/'s shared by every other build",
      );
      assert.ok(!files.some((f) => f.includes("node_modules") || f.endsWith(".tgz")), "nothing stray in the tarball");
      for (const f of ["proxy.mjs", "proxy.cjs", "proxy.d.ts", "redis.mjs", "sandbox/server.mjs", "sandbox.d.ts", "cli/main.mjs"]) {
        assert.ok(files.includes(f), `the tarball has ${f}`);
      }
      // The command line's two, exactly pinned; no entry of the library imports them (tests/cli/bundle.test.mjs).
      assert.deepEqual(
        JSON.parse(readFileSync(join(DIST, "package.json"), "utf8")).dependencies,
        { "cli-progress": "3.12.0", papaparse: "5.7.1" },
        "dependencies",
      );
      t.diagnostic(`${info.filename}: ${(info.size / 1024).toFixed(0)} KiB packed, ${info.entryCount} files`);
    });

    // Four throwaway projects, installed in parallel.
    const projects = {
      esm: { "package.json": { name: "matrix-esm", private: true, type: "module" } },
      cjs: { "package.json": { name: "matrix-cjs", private: true, type: "commonjs" } },
      page: { "package.json": { name: "matrix-page", private: true } },
      bundle: { "package.json": { name: "matrix-bundle", private: true, type: "module" } },
      types: { "package.json": { name: "matrix-types", private: true, type: "module", devDependencies: { typescript: "5.9.3" } } },
    };
    await t.test("npm install the .tgz into four throwaway projects", async () => {
      await time("npm install x4", () =>
        Promise.all(
          Object.entries(projects).map(async ([name, files]) => {
            const dir = join(WORK, name);
            writeFiles(dir, files);
            await npm(["install", tgz, "--no-package-lock", "--prefer-offline", "--include=dev"], dir);
            const installed = JSON.parse(readFileSync(join(dir, "node_modules", "vox-crm", "package.json"), "utf8"));
            assert.equal(installed.name, "vox-crm");
            assert.equal(installed.version, JSON.parse(readFileSync(join(DIST, "package.json"), "utf8")).version);
          }),
        ),
      );
    });

    const nodeEnv = { VOX_BASE_URL: sb.url, VOX_TOKEN: TOKEN, VOX_PROJECT_ID: PROJECT_ID };

    await t.test('Node ESM: import { validatePhone, VoxClient } from "vox-crm"', async () => {
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

    await t.test('Node CommonJS: require("vox-crm")', async () => {
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

    const inChromium = (url, label) => inChromiumOf(browser, url, label);

    await t.test('a plain <script type="module"> page with an import map, in Chromium, through a same-origin proxy', async () => {
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
    // Before init(): a synchronous function says what to do; a client's call loads the module itself.
    let early;
    try { vox.validatePhone("1"); } catch (e) { early = e.code; }
    // A module that fails to load is an error the page catches, and init() may be tried again.
    let failedLoad;
    try { await vox.init(new Uint8Array([0, 97, 115, 109, 9, 9, 9, 9])); } catch (e) { failedLoad = e instanceof vox.VoxError && e.code; }
    const lazy = await new vox.VoxClient(options).queryLeads({ limit: 1 });
    await vox.init();
    window.__result = await (async () => {${CHECK}})();
    Object.assign(window.__result, { early, failedLoad, lazyTotal: lazy.total });
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
      assert.equal(result.early, "not_initialized", "a synchronous function before init()");
      assert.equal(result.failedLoad, "not_initialized", "a failed load rejects init() with a VoxError (and the page goes on)");
      assert.equal(result.lazyTotal, 1, "a client's call before init() loads the module itself (after a failed init)");
      assert.equal(result.unsafe, "browser_unsafe", "a token in the page is refused");
      assert.ok(
        requests.some((u) => u.endsWith("/node_modules/vox-crm/web/vox_crm_bg.wasm")),
        "the wasm beside the entry was fetched",
      );
      assert.ok(
        requests.some((u) => u.startsWith(server.url + "api/v1/leads/query")),
        "the call went through the page's own origin",
      );
    });

    await t.test("an esbuild bundle (--bundle --format=esm, the .wasm copied beside it), in Chromium", async () => {
      const dir = join(WORK, "bundle");
      writeFiles(dir, {
        "src/main.js": `import * as vox from "vox-crm";
const options = await (await fetch("./config.json")).json();
try {
  await vox.init(); // the .wasm beside the bundle (esbuild does not copy it: the test does)
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
      const built = await time("esbuild", () =>
        build({
          absWorkingDir: dir,
          entryPoints: ["src/main.js"],
          bundle: true,
          format: "esm",
          platform: "browser",
          target: "es2022",
          outfile: "out/app.js",
          metafile: true,
          logLevel: "silent",
        }),
      );
      const inputs = Object.keys(built.metafile.inputs);
      assert.ok(
        inputs.some((p) => p.endsWith("node_modules/vox-crm/web/index.mjs")),
        `the browser entry was bundled: ${inputs.join(", ")}`,
      );
      assert.ok(!inputs.some((p) => p.includes("vox-crm/node/")), "nothing of the Node build");
      assert.ok(!readFileSync(join(dir, "out", "app.js"), "utf8").includes('require("'), "no require() in the bundle");
      copyFileSync(join(dir, "node_modules", "vox-crm", "web", "vox_crm_bg.wasm"), join(dir, "out", "vox_crm_bg.wasm"));
      const server = await startStatic(join(dir, "out"));
      servers.push(server);
      const { result, requests } = await time("chromium bundle", () => inChromium(server.url, "esbuild bundle"));
      assertResult(result, "esbuild bundle");
      assert.ok(requests.includes(server.url + "vox_crm_bg.wasm"), "the wasm beside the bundle was fetched");
      assert.ok(
        requests.some((u) => u.startsWith(sb.url + "/leads/query")),
        "the call went to the sandbox directly",
      );
    });

    await t.test("TypeScript: a .cts and a .mts under node16, nodenext, and bundler resolution", async () => {
      const dir = join(WORK, "types");
      const options = (module, moduleResolution) => ({
        compilerOptions: { strict: true, noEmit: true, target: "es2022", module, moduleResolution, lib: ["es2022", "dom"], types: [], skipLibCheck: false },
      });
      writeFiles(dir, {
        // CommonJS: require gets the CommonJS types (index.d.cts), not the ESM ones (TS1479/TS1541 before).
        "src/cjs.cts": `import vox = require("vox-crm");
import redis = require("vox-crm/redis");
const check: vox.PhoneCheck = vox.validatePhone("+919845317206");
const code: vox.ErrorCode = "not_initialized";
const client = new vox.VoxClient({ projectId: "6650a1b2c3d4e5f601234567" });
void client.queryLeads({ limit: 1 }).then((p: vox.LeadPage) => p.total);
void vox.init();
void redis.redisStore;
export = { check, code };
`,
        "src/esm.mts": `import { validatePhone, maskPhone, init, VoxClient, VoxError, type PhoneCheck } from "vox-crm";
import { redisStore } from "vox-crm/redis";
await init();
const check: PhoneCheck = validatePhone("+919845317206");
const masked: string = maskPhone("+919845317206");
const isVoxError = (e: unknown): e is VoxError => e instanceof VoxError;
export { check, masked, isVoxError, VoxClient, redisStore };
`,
        "src/app.ts": `import { validatePhone, init, type Lead } from "vox-crm";
await init();
export const valid: boolean = validatePhone("+919845317206").valid;
export type L = Lead;
`,
        "tsconfig.node16.json": { ...options("node16", "node16"), files: ["src/cjs.cts", "src/esm.mts"] },
        "tsconfig.nodenext.json": { ...options("nodenext", "nodenext"), files: ["src/cjs.cts", "src/esm.mts"] },
        "tsconfig.bundler.json": { ...options("esnext", "bundler"), files: ["src/app.ts", "src/esm.mts"] },
      });
      const tsc = join(dir, "node_modules", "typescript", "bin", "tsc");
      for (const config of ["tsconfig.node16.json", "tsconfig.nodenext.json", "tsconfig.bundler.json"]) {
        await time(`tsc ${config}`, async () => {
          try {
            await run(process.execPath, [tsc, "-p", config], { cwd: dir, timeout: 120000 });
          } catch (err) {
            throw new Error(`tsc -p ${config}: ${err.stdout || err.stderr || err.message}`);
          }
        });
      }
    });

    t.diagnostic(`timings (ms): ${JSON.stringify(timings)}`);
  } finally {
    await browser?.close();
    for (const s of servers) await s.close();
    await sb.close();
    if (!process.env.VOX_KEEP_WORK) rmSync(WORK, { recursive: true, force: true });
  }
});
