// The packed vox-crm .tgz in the runtimes beyond Node and browsers, each from the npm registry with its
// exact version pinned in a throwaway project under tests/packaging/.work/ (gitignored), each doing real
// work (the CHECK of lib.mjs, or validatePhone + maskPhone + a VoxClient) against a sandbox CRM on 127.0.0.1:
//   1. Jest with the jsdom environment  require("vox-crm") in a test file; the setting it needs
//      (testEnvironmentOptions.customExportConditions) and what happens without it
//   2. workerd (Miniflare)             a Worker module script bundled by esbuild with the "workerd" condition,
//      the .wasm kept as a CompiledWasm module, served on 127.0.0.1, calling the sandbox
//   3. Bun                             an ESM script (and require), with no setting at all
//   4. Deno                            a local node_modules ("nodeModulesDir": "manual"): the "deno" condition,
//      which needs no --allow-read, and the one permission it does need (the API's address)
// A tool that cannot be installed fails its test (npm drops a platform package it cannot get without a word,
// so each binary is run and its version checked).
//
//   node --test tests/packaging/runtimes.test.mjs   (after scripts/package.sh; VOX_KEEP_WORK=1 keeps the projects)

import assert from "node:assert/strict";
import { mkdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import {
  assertProxyResult,
  assertResult,
  CHECK,
  DIST,
  E164,
  nodeScript,
  npm,
  PHONE,
  PROJECT_ID,
  PROXY_CHECK,
  packDist,
  requireBuilt,
  run,
  startSeededSandbox,
  stopwatch,
  TOKEN,
  workDir,
  writeFiles,
} from "./lib.mjs";

const WORK = workDir("runtimes");

// The newest of each line when this was written; bump them together with what they prove.
const PINS = {
  jest: "30.5.2",
  "jest-environment-jsdom": "30.5.2",
  miniflare: "4.20260730.0",
  esbuild: "0.28.2",
  bun: "1.4.5",
  deno: "2.9.6",
};
// A date that Miniflare 4.20260730's workerd supports (it refuses later ones).
const COMPATIBILITY_DATE = "2026-07-01";

/** Runs `file args` in cwd; its last stdout line is JSON. Fails with its stderr. */
async function runJson(file, args, cwd, env = {}, timeout = 60000) {
  let out;
  try {
    out = await run(file, args, { cwd, env: { ...process.env, ...env }, timeout, maxBuffer: 16 << 20 });
  } catch (err) {
    throw new Error(`${file} ${args.join(" ")} failed: ${err.stderr || err.stdout || err.message}`);
  }
  const lines = out.stdout.trim().split("\n");
  return JSON.parse(lines[lines.length - 1]);
}

/** Runs `file args` in cwd, expecting it to fail; resolves to its output. */
async function runFailing(file, args, cwd, env = {}, timeout = 60000) {
  try {
    const out = await run(file, args, { cwd, env: { ...process.env, ...env }, timeout, maxBuffer: 16 << 20 });
    throw Object.assign(new Error(`${file} ${args.join(" ")} succeeded, a failure was expected: ${out.stdout}`), { unexpected: true });
  } catch (err) {
    if (err.unexpected) throw err;
    return { stdout: err.stdout ?? "", stderr: err.stderr ?? "", code: err.code };
  }
}

const version = (dir, name) => JSON.parse(readFileSync(join(dir, "node_modules", name, "package.json"), "utf8")).version;

// ---------------------------------------------------------------------------------------------------------

test("runtimes: the packed .tgz under Jest + jsdom, workerd (Miniflare), Bun and Deno", { timeout: 240000 }, async (t) => {
  requireBuilt("edge/index.mjs");
  const { timings, time } = stopwatch();

  mkdirSync(WORK, { recursive: true });
  const sb = await startSeededSandbox("Runtimes Seed");
  try {
    assert.match(sb.url, /^http:\/\/127\.0\.0\.1:\d+\/api\/v1$/, "the sandbox listens on 127.0.0.1");
    const sandboxEnv = { VOX_BASE_URL: sb.url, VOX_TOKEN: TOKEN, VOX_PROJECT_ID: PROJECT_ID };

    const { tgz } = await time("npm pack", () => packDist(WORK));

    // Four throwaway projects, installed in parallel; each runtime's test waits for its own, so that one tool
    // that cannot be installed fails its test (loudly) and not the others.
    const projects = {
      jest: { name: "runtimes-jest", private: true, devDependencies: { jest: PINS.jest, "jest-environment-jsdom": PINS["jest-environment-jsdom"] } },
      workerd: { name: "runtimes-workerd", private: true, type: "module", devDependencies: { miniflare: PINS.miniflare, esbuild: PINS.esbuild } },
      bun: { name: "runtimes-bun", private: true, type: "module", devDependencies: { bun: PINS.bun } },
      deno: { name: "runtimes-deno", private: true, type: "module", devDependencies: { deno: PINS.deno } },
    };
    const installed = {};
    for (const [name, pkg] of Object.entries(projects)) {
      const dir = join(WORK, name);
      writeFiles(dir, { "package.json": pkg });
      installed[name] = time(`npm install ${name}`, async () => {
        // --include=dev: devDependencies whatever NODE_ENV says; the .tgz becomes a dependency.
        await npm(["install", tgz, "--no-package-lock", "--prefer-offline", "--include=dev"], dir);
        for (const [tool, pin] of Object.entries(pkg.devDependencies)) {
          assert.equal(version(dir, tool), pin, `${name}: ${tool}@${pin} installed`);
        }
        assert.equal(version(dir, "vox-crm"), JSON.parse(readFileSync(join(DIST, "package.json"), "utf8")).version, `${name}: vox-crm from the .tgz`);
        return dir;
      });
      installed[name].catch(() => {}); // awaited (and reported) by its own test
    }

    // ---------------------------------------------------------------------------------------------------
    await t.test(`Jest ${PINS.jest} + jest-environment-jsdom: require("vox-crm") in a jsdom test`, async () => {
      const dir = await installed.jest;
      const jest = join(dir, "node_modules", "jest", "bin", "jest.js");
      const out = join(dir, "out");
      writeFiles(dir, {
        // The whole setting: jsdom's own export conditions are ["browser"], which pick the ESM web build
        // (require cannot load it); "node" picks node/index.cjs, as under the node environment.
        "jest.config.js": `module.exports = {
  testEnvironment: "jsdom",
  testEnvironmentOptions: { customExportConditions: ["node"] },
};
`,
        // Jest's documented default for jsdom, to show what the setting fixes.
        "jsdom-only.config.js": `module.exports = { testEnvironment: "jsdom", testMatch: ["**/component.test.js"] };\n`,
        // jsdom has no fetch; for a test that does make requests, an environment that lends it Node's.
        "jsdom-with-fetch.js": `const { TestEnvironment } = require("jest-environment-jsdom");
module.exports = class JsdomWithFetch extends TestEnvironment {
  constructor(config, context) {
    super(config, context);
    Object.assign(this.global, { fetch, Request, Response, Headers });
  }
};
`,
        "__tests__/component.test.js": `const { writeFileSync } = require("node:fs");
const { validatePhone, maskPhone, VoxClient, VoxError, init } = require("vox-crm");

const options = { projectId: process.env.VOX_PROJECT_ID, token: process.env.VOX_TOKEN, baseUrl: process.env.VOX_BASE_URL };
const facts = {};
afterAll(() => writeFileSync(process.env.VOX_OUT + "/component.json", JSON.stringify(facts)));

test("runs in jsdom", () => {
  document.body.innerHTML = '<input id="phone" value=${JSON.stringify(PHONE)}>';
  facts.jsdom = navigator.userAgent.includes("jsdom") && document.getElementById("phone").value === ${JSON.stringify(PHONE)};
  facts.globals = { fetch: typeof fetch, TextDecoder: typeof TextDecoder, TextEncoder: typeof TextEncoder };
  facts.resolved = require.resolve("vox-crm");
  expect(facts.jsdom).toBe(true);
});

test("phones, at once (no init() needed)", async () => {
  const check = validatePhone(document.getElementById("phone").value);
  facts.check = check;
  facts.masked = maskPhone(check.e164);
  await init();
  expect(check.e164).toBe(${JSON.stringify(E164)});
});

test("a VoxClient; with no fetch in jsdom, a call says so", async () => {
  const client = new VoxClient(options);
  facts.client = typeof client.queryLeads === "function";
  const err = await client.queryLeads({ limit: 1 }).catch((e) => e);
  facts.noFetch = { isVoxError: err instanceof VoxError, code: err.code, message: err.message };
  expect(err).toBeInstanceOf(VoxError);
});
`,
        "__tests__/sandbox.test.js": `/** @jest-environment ./jsdom-with-fetch.js */
const { writeFileSync } = require("node:fs");
const vox = require("vox-crm");

test("the CHECK against the sandbox, with Node's fetch lent to jsdom", async () => {
  const options = { projectId: process.env.VOX_PROJECT_ID, token: process.env.VOX_TOKEN, baseUrl: process.env.VOX_BASE_URL };
  const result = await (async () => {${CHECK}})();
  result.jsdom = typeof document === "object" && navigator.userAgent.includes("jsdom");
  writeFileSync(process.env.VOX_OUT + "/sandbox.json", JSON.stringify(result));
  expect(result.query.total).toBe(1);
});
`,
      });
      mkdirSync(out, { recursive: true });
      const env = { ...sandboxEnv, VOX_OUT: out };
      const cache = `--cacheDirectory=${join(dir, ".jest-cache")}`;

      // Without the setting: jsdom's "browser" condition gives require() the ESM web build.
      const plain = await time("jest jsdom-only (fails)", () => runFailing(process.execPath, [jest, "--config", "jsdom-only.config.js", cache], dir, env));
      assert.match(
        plain.stderr,
        /Must use import to load ES Module: .*node_modules\/vox-crm\/web\/index\.mjs/,
        `jsdom alone: the web build is required: ${plain.stderr}`,
      );

      // With it.
      try {
        await time("jest", () =>
          run(process.execPath, [jest, "--json", `--outputFile=${join(out, "jest.json")}`, cache], {
            cwd: dir,
            env: { ...process.env, ...env },
            timeout: 120000,
          }),
        );
      } catch (err) {
        throw new Error(`jest failed: ${err.stderr || err.message}`);
      }
      const report = JSON.parse(readFileSync(join(out, "jest.json"), "utf8"));
      assert.equal(report.success, true);
      assert.deepEqual([report.numTotalTestSuites, report.numPassedTests, report.numFailedTests], [2, 4, 0], "two suites, four tests, all passed");

      const facts = JSON.parse(readFileSync(join(out, "component.json"), "utf8"));
      assert.equal(facts.jsdom, true, "the test ran in jsdom");
      assert.match(facts.resolved, /node_modules\/vox-crm\/node\/index\.cjs$/, "the node/require condition");
      assert.deepEqual(
        facts.globals,
        { fetch: "undefined", TextDecoder: "undefined", TextEncoder: "undefined" },
        "jsdom has no fetch, TextDecoder or TextEncoder (the Node build takes node:util's)",
      );
      assert.equal(facts.check.valid, true);
      assert.equal(facts.check.e164, E164);
      assert.equal(facts.masked, "+91******7206");
      assert.equal(facts.client, true, "a VoxClient is made");
      assert.deepEqual(
        facts.noFetch,
        { isVoxError: true, code: "invalid_argument", message: "This runtime has no global fetch: pass options.fetch" },
        "no fetch: a clear VoxError, not a TypeError",
      );

      const result = JSON.parse(readFileSync(join(out, "sandbox.json"), "utf8"));
      assertResult(result, "Jest jsdom");
      assert.equal(result.jsdom, true, "the sandbox call ran in jsdom too");
    });

    // ---------------------------------------------------------------------------------------------------
    await t.test(`workerd via Miniflare ${PINS.miniflare}: a Worker bundled by esbuild with the "workerd" condition`, async () => {
      const dir = await installed.workerd;
      // The binary comes from the registry as @cloudflare/workerd-linux-64 (an optional dependency: check it).
      const workerdBin = join(dir, "node_modules", ".bin", "workerd");
      const { stdout: workerdVersion } = await run(workerdBin, ["--version"], { timeout: 30000 }).catch((err) => {
        throw new Error(
          `workerd did not install (the platform package @cloudflare/workerd-${process.platform}-${process.arch === "x64" ? "64" : process.arch}): ${err.message}`,
        );
      });
      t.diagnostic(`workerd: ${workerdVersion.trim()}`);
      writeFiles(dir, {
        // The Worker: the phone functions at load (the module is instantiated on import), then the CHECK.
        // /api/vox/* is vox-crm/proxy's handler, mounted as it is.
        "src/worker.js": `import * as vox from "vox-crm";
import { createProxyHandler } from "vox-crm/proxy";
const atLoad = vox.validatePhone(${JSON.stringify(PHONE)}).e164;
let proxied;
export default {
  async fetch(request, env) {
    try {
      const options = { projectId: env.VOX_PROJECT_ID, token: env.VOX_TOKEN, baseUrl: env.VOX_BASE_URL };
      if (new URL(request.url).pathname === "/proxy-check") {
        const serve = async (handler) => (path) => handler(new Request(new URL(path, request.url)));
        return Response.json(await (async () => {${PROXY_CHECK}})());
      }
      await vox.init(); // resolves at once here
      const result = await (async () => {${CHECK}})();
      return Response.json({ ...result, atLoad, url: request.url });
    } catch (e) {
      return Response.json({ error: String((e && e.stack) || e), code: e && e.code }, { status: 500 });
    }
  },
};
`,
        // Bundle (Miniflare does not), start, ask over HTTP on 127.0.0.1, stop.
        "run.mjs": `import { build } from "esbuild";
import { Miniflare } from "miniflare";
const t0 = Date.now();
const built = await build({
  entryPoints: ["src/worker.js"],
  bundle: true,
  format: "esm",
  platform: "neutral",
  conditions: ["workerd", "worker", "browser"], // wrangler's
  loader: { ".wasm": "copy" },                  // the .wasm beside the bundle, its import kept
  outdir: "dist",
  metafile: true,
  logLevel: "warning",
});
const bundled = Date.now() - t0;
const mf = new Miniflare({
  modules: true,
  scriptPath: "dist/worker.js",
  modulesRules: [{ type: "CompiledWasm", include: ["**/*.wasm"] }], // wrangler's default rule
  compatibilityDate: ${JSON.stringify(COMPATIBILITY_DATE)},
  bindings: { VOX_BASE_URL: process.env.VOX_BASE_URL, VOX_TOKEN: process.env.VOX_TOKEN, VOX_PROJECT_ID: process.env.VOX_PROJECT_ID },
  host: "127.0.0.1",
  port: 0,
});
try {
  const url = await mf.ready;
  const started = Date.now() - t0;
  const res = await fetch(url);
  const body = await res.json();
  const proxy = await (await fetch(new URL("/proxy-check", url))).json();
  console.log(JSON.stringify({ status: res.status, body, proxy, url: String(url), inputs: Object.keys(built.metafile.inputs), outputs: Object.keys(built.metafile.outputs), ms: { bundled, started, answered: Date.now() - t0 } }));
} finally {
  await mf.dispose();
}
`,
      });
      const out = await time("miniflare", () => nodeScript(dir, "run.mjs", sandboxEnv));
      assert.match(out.url, /^http:\/\/127\.0\.0\.1:\d+\/$/, "the Worker listens on 127.0.0.1");
      assert.ok(
        out.inputs.some((p) => p.endsWith("node_modules/vox-crm/edge/index.mjs")),
        `the workerd entry was bundled: ${out.inputs.join(", ")}`,
      );
      assert.ok(!out.inputs.some((p) => p.includes("vox-crm/web/index.mjs") || p.includes("vox-crm/node/")), "nothing of the web or Node builds");
      assert.equal(out.outputs.filter((p) => p.endsWith(".wasm")).length, 1, "one .wasm module beside the bundle");
      assert.equal(out.status, 200, `the Worker answered: ${JSON.stringify(out.body)}`);
      assert.equal(out.body.atLoad, E164, "the phone functions work when the Worker loads");
      assertResult(out.body, "workerd");
      assertProxyResult(out.proxy, "workerd");
      t.diagnostic(`miniflare (ms): ${JSON.stringify(out.ms)}`);
    });

    // ---------------------------------------------------------------------------------------------------
    await t.test(`Bun ${PINS.bun}: an ESM script importing vox-crm, and require`, async () => {
      const dir = await installed.bun;
      const bun = join(dir, "node_modules", ".bin", "bun");
      const { stdout: bunVersion } = await run(bun, ["--version"], { timeout: 30000 }).catch((err) => {
        throw new Error(`bun did not install (the platform package @oven/bun-${process.platform}-${process.arch}): ${err.message}`);
      });
      assert.equal(bunVersion.trim(), PINS.bun);
      writeFiles(dir, {
        "main.js": `import * as vox from "vox-crm";
import { createProxyHandler } from "vox-crm/proxy";
import { createRequire } from "node:module";
const options = { projectId: process.env.VOX_PROJECT_ID, token: process.env.VOX_TOKEN, baseUrl: process.env.VOX_BASE_URL };
const result = await (async () => {${CHECK}})();
// vox-crm/proxy as Bun.serve's fetch handler (Bun's server as its second argument: the client address).
let server;
const serve = async (handler) => {
  server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: (request, srv) => handler(request, srv) });
  return (path) => fetch(new URL(path, server.url));
};
result.proxy = await (async () => {${PROXY_CHECK}})();
server.stop(true);
const require = createRequire(import.meta.url);
result.resolved = import.meta.resolve("vox-crm");
result.required = require.resolve("vox-crm");
result.oneVoxError = require("vox-crm").VoxError === vox.VoxError;
console.log(JSON.stringify(result));
`,
      });
      const result = await time("bun", () => runJson(bun, ["main.js"], dir, { ...sandboxEnv, DO_NOT_TRACK: "1" }));
      assertResult(result, "Bun");
      assert.match(result.resolved, /node_modules\/vox-crm\/node\/index\.mjs$/, "Bun: the node/import condition");
      assert.match(result.required, /node_modules\/vox-crm\/node\/index\.cjs$/, "Bun: the node/require condition");
      assert.equal(result.oneVoxError, true, "one VoxError for import and require");
      assertProxyResult(result.proxy, "Bun");
    });

    // ---------------------------------------------------------------------------------------------------
    await t.test(`Deno ${PINS.deno}: a local node_modules, the "deno" condition, only --allow-net`, async () => {
      const dir = await installed.deno;
      const deno = join(dir, "node_modules", ".bin", "deno");
      const { stdout: denoVersion } = await run(deno, ["--version"], { timeout: 30000 }).catch((err) => {
        throw new Error(`deno did not install (the platform package @deno/${process.platform}-${process.arch}-glibc): ${err.message}`);
      });
      assert.match(denoVersion, new RegExp(`^deno ${PINS.deno.replaceAll(".", "\\.")} `));
      const port = new URL(sb.url).port;
      const net = `--allow-net=127.0.0.1:${port}`;
      // Its cache in the project; no update check (no network), no prompt, no colour in the messages.
      const env = { DENO_DIR: join(dir, ".deno"), DENO_NO_UPDATE_CHECK: "1", DENO_NO_PROMPT: "1", NO_COLOR: "1" };
      // The sandbox's URL as an argument: Deno.args needs no --allow-env.
      // vox-crm/proxy called as Deno.serve would call it (its info as the second argument), with no
      // listening socket: that would need more --allow-net.
      const script = (specifier) => `import * as vox from ${JSON.stringify(specifier)};
import { createProxyHandler } from ${JSON.stringify(specifier + "/proxy")};
const options = { projectId: ${JSON.stringify(PROJECT_ID)}, token: ${JSON.stringify(TOKEN)}, baseUrl: Deno.args[0] };
const result = await (async () => {${CHECK}})();
const serve = async (handler) => (path) => handler(new Request(new URL(path, "http://site.example")), { remoteAddr: { hostname: "10.0.0.1" } });
result.proxy = await (async () => {${PROXY_CHECK}})();
result.resolved = import.meta.resolve(${JSON.stringify(specifier)});
console.log(JSON.stringify(result));
`;
      const files = {
        "deno.json": { nodeModulesDir: "manual" },
        "main.js": script("vox-crm"),
        "main-npm.js": script("npm:vox-crm"),
      };
      writeFiles(dir, files);
      const pkg = JSON.parse(readFileSync(join(dir, "node_modules", "vox-crm", "package.json"), "utf8"));
      assert.equal(pkg.exports["."].deno, "./deno/index.mjs", "the package has a deno condition");

      // The "deno" condition: deno/index.mjs imports the .wasm as a module (`import source`, Deno 2.6+), so a
      // run needs no --allow-read; what it lacks is the network (Deno's refusal reaches the caller as a
      // VoxError network_error, after the client's retries). The least that works: that one address.
      const offline = await time("deno, no permission (fails)", () => runFailing(deno, ["run", "main.js", sb.url], dir, env));
      assert.match(
        offline.stderr,
        new RegExp(`VoxError: Network error: Requires net access to "127\\.0\\.0\\.1:${port}"`),
        `no read access needed: ${offline.stderr}`,
      );
      for (const main of ["main.js", "main-npm.js"]) {
        const result = await time(`deno ${main}`, () => runJson(deno, ["run", net, main, sb.url], dir, env));
        assertResult(result, `Deno ${main}`);
        assert.match(result.resolved, /node_modules\/vox-crm\/deno\/index\.mjs$/, "Deno: the deno condition");
        assertProxyResult(result.proxy, `Deno ${main}`);
      }
    });

    t.diagnostic(`versions: ${JSON.stringify(PINS)}`);
    t.diagnostic(`timings (ms): ${JSON.stringify(timings)}`);
  } finally {
    await sb.close();
    if (!process.env.VOX_KEEP_WORK) rmSync(WORK, { recursive: true, force: true });
  }
});
