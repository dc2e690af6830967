// The packed vox-crm .tgz through the bundlers people use, each with its DEFAULT configuration (no config
// file), each page doing real work in headless Chromium (the CHECK of lib.mjs after `await vox.init()`):
//   1. Vite 8       `vite build` (default targets) served by startStatic; the dev server `vite` (its
//                   dependency pre-bundling rewrites the package's `new URL("./vox_crm_bg.wasm", import.meta.url)`)
//   2. a Vite module worker (`new Worker(new URL("./worker.js", import.meta.url), { type: "module" })`),
//                   messaged at once after it is created: the first message is answered (default worker
//                   format of the build, and in dev)
//   3. webpack 5    `webpack --mode production`, no webpack.config.js (no `experiments`): the .wasm is emitted
//   4. Rollup 4     `rollup src/main.js -p node-resolve -o out/app.js`: Rollup emits no .wasm; copying
//                   node_modules/vox-crm/web/vox_crm_bg.wasm beside the bundle (or passing its URL to init()) works
// Every tool's version is pinned exactly in its throwaway project; an install that fails fails the test.
// Pages served by startStatic call the sandbox through its same-origin proxy (no token in the page); the
// Vite dev server's page calls it directly with dangerouslyAllowBrowser (the sandbox answers CORS).
//
//   node --test tests/packaging/bundlers.test.mjs   (after scripts/package.sh; VOX_KEEP_WORK=1 keeps the projects)

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { launchChromium, requireChromium, watchPage } from "../browser/chromium.mjs";
import {
  assertResult,
  CHECK,
  DIST,
  E164,
  freePort,
  inChromium as inChromiumOf,
  npm,
  PHONE,
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

const WORK = workDir("bundlers");

// The newest of each major line on the registry when this was written (`npm view vite@8 version` etc.).
const PINS = {
  vite: { vite: "8.4.0" },
  webpack: { webpack: "5.113.0", "webpack-cli": "7.3.1" },
  rollup: { rollup: "4.68.8", "@rollup/plugin-node-resolve": "16.0.3" },
};

const WASM = readFileSync(join(DIST, "web", "vox_crm_bg.wasm"));

/** The app every bundle runs: config.json beside the page, the sync functions before init(), init, CHECK. */
const appSource = (initCall = "vox.init()") => `import * as vox from "vox-crm";

async function main() {
  const options = await (await fetch(new URL("config.json", location.href))).json();
  if (options.baseUrl.startsWith("/")) options.baseUrl = location.origin + options.baseUrl;
  let early;
  try { vox.validatePhone("1"); } catch (e) { early = e.code; }
  await ${initCall};
  const result = await (async () => {${CHECK}})();
  result.early = early;
  return result;
}
main().then((r) => { window.__result = r; }, (e) => { window.__error = String((e && e.stack) || e); });
`;

const html = (title, script) => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${title}</title>
<link rel="icon" href="data:,">
${script}
</head><body><p>${title}</p></body></html>
`;

/** Calls through startStatic's same-origin proxy (it adds the token). */
const PROXIED = { projectId: PROJECT_ID, baseUrl: "/api/v1" };

/** A bin of a package installed in dir, as node would run it. */
function binOf(dir, pkg, name = pkg) {
  const meta = JSON.parse(readFileSync(join(dir, "node_modules", pkg, "package.json"), "utf8"));
  const rel = typeof meta.bin === "string" ? meta.bin : meta.bin[name];
  return join(dir, "node_modules", pkg, rel);
}

async function tool(dir, pkg, args, name) {
  try {
    return await run(process.execPath, [binOf(dir, pkg, name), ...args], {
      cwd: dir,
      env: { ...process.env, NO_COLOR: "1" },
      timeout: 120000,
      maxBuffer: 16 << 20,
    });
  } catch (err) {
    throw new Error(`${name ?? pkg} ${args.join(" ")} failed in ${dir}:\n${err.stdout ?? ""}\n${err.stderr ?? err.message}`);
  }
}

/** Starts `vite` (the dev server) in dir on 127.0.0.1; resolves to { url, output(), stop() }. */
async function startViteDev(dir) {
  const port = await freePort();
  const child = spawn(process.execPath, [binOf(dir, "vite"), "--host", "127.0.0.1", "--port", String(port), "--strictPort"], {
    cwd: dir,
    env: { ...process.env, NO_COLOR: "1" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout.on("data", (d) => (out += d));
  child.stderr.on("data", (d) => (out += d));
  const exited = new Promise((r) => child.once("exit", (code, signal) => r({ code, signal })));
  const url = `http://127.0.0.1:${port}/`;
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
    await exited;
    clearTimeout(timer);
  };
  try {
    await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`vite did not say it was ready within 30 s:\n${out}`)), 30000);
      const onData = () => {
        // biome-ignore lint/suspicious/noControlCharactersInRegex: ANSI colour codes start with ESC
        if (out.replace(/\x1b\[[0-9;]*m/g, "").includes(url)) {
          clearTimeout(timer);
          resolve();
        }
      };
      child.stdout.on("data", onData);
      exited.then(({ code, signal }) => {
        clearTimeout(timer);
        reject(new Error(`vite exited (${code ?? signal}) before it was ready:\n${out}`));
      });
    });
  } catch (err) {
    await stop();
    throw err;
  }
  return { url, output: () => out, stop };
}

/** Like lib's inChromium, but returns what happened (for a page that is meant to fail). */
async function pageOutcome(browser, url) {
  const page = await browser.context.newPage();
  const watch = watchPage(page);
  try {
    await page.goto(url);
    await page.waitForFunction(() => window.__result || window.__error, null, { timeout: 30000 });
    const { result, error } = await page.evaluate(() => ({ result: window.__result, error: window.__error }));
    return { result, error, problems: watch.problems };
  } finally {
    await page.close();
  }
}

const wasmFiles = (dir) =>
  readdirSync(dir, { recursive: true })
    .filter((f) => String(f).endsWith(".wasm"))
    .map(String);

function assertOneWasm(dir, label) {
  const files = wasmFiles(dir);
  assert.equal(files.length, 1, `${label}: one .wasm emitted in ${dir}: ${files.join(", ") || "none"}`);
  assert.ok(readFileSync(join(dir, files[0])).equals(WASM), `${label}: ${files[0]} is the package's .wasm`);
  return files[0];
}

// ---------------------------------------------------------------------------------------------------------

test("bundlers: the packed .tgz through Vite 8 (build, dev server, a module worker), webpack 5 and Rollup 4, in Chromium", { timeout: 240000 }, async (t) => {
  requireBuilt("web/index.mjs");
  requireChromium();
  const { timings, time } = stopwatch();
  const started = Date.now();

  mkdirSync(WORK, { recursive: true });
  const sb = await startSeededSandbox("Bundler Seed");
  const servers = [];
  const devServers = [];
  let browser = null;
  let launching = null;
  try {
    // Called directly (the Vite dev server's page): the token in the page, explicitly allowed.
    const DIRECT = { projectId: PROJECT_ID, token: TOKEN, baseUrl: sb.url, dangerouslyAllowBrowser: true };

    let tgz;
    await t.test("npm pack dist/vox-crm", async () => {
      const { tgz: packed } = await time("npm pack", () => packDist(WORK));
      tgz = packed;
    });

    // Chromium starts while npm installs.
    launching = launchChromium();
    launching.catch(() => {});

    await t.test("npm install the .tgz and the pinned tools into three throwaway projects, in parallel", async () => {
      await time("npm install x3", () =>
        Promise.all(
          Object.entries(PINS).map(async ([name, devDependencies]) => {
            const dir = join(WORK, name);
            writeFiles(dir, { "package.json": { name: `bundler-${name}`, private: true, type: "module", devDependencies } });
            await time(`npm install ${name}`, () => npm(["install", tgz, "--no-package-lock", "--prefer-offline", "--include=dev"], dir));
            for (const [pkg, version] of Object.entries(devDependencies)) {
              const installed = JSON.parse(readFileSync(join(dir, "node_modules", pkg, "package.json"), "utf8")).version;
              assert.equal(installed, version, `${name}: ${pkg} is the pinned ${version}`);
            }
            assert.equal(JSON.parse(readFileSync(join(dir, "node_modules", "vox-crm", "package.json"), "utf8")).name, "vox-crm");
          }),
        ),
      );
      t.diagnostic(
        `pinned: ${Object.values(PINS)
          .flatMap((p) => Object.entries(p).map(([k, v]) => `${k}@${v}`))
          .join(", ")}`,
      );
    });

    browser = await launching;
    const inChromium = (url, label) => time(`chromium ${label}`, () => inChromiumOf(browser, url, label));

    // The Vite project: the app at its root (index.html, main.js, public/config.json) and the worker page in
    // worker/ (its own root for `vite build worker`, /worker/ on the dev server).
    const viteDir = join(WORK, "vite");
    writeFiles(viteDir, {
      "index.html": html("vox-crm with Vite", `<script type="module" src="/main.js"></script>`),
      "main.js": appSource(),
      "public/config.json": DIRECT,
      "worker/index.html": html("vox-crm in a Vite module worker", `<script type="module" src="./page.js"></script>`),
      "worker/page.js": `const worker = new Worker(new URL("./worker.js", import.meta.url), { type: "module" });
const answers = [];
worker.onmessage = (e) => {
  answers.push(e.data);
  if (answers.length === 2) window.__result = { answers };
};
worker.onerror = (e) => { window.__error = "the worker failed: " + (e.message || "an error event"); };
// At once, before any reply: the worker must not lose a message while its module loads.
worker.postMessage(${JSON.stringify(PHONE)});
worker.postMessage("12");
setTimeout(() => {
  if (!window.__result) window.__error = "after 10 s the worker had answered " + answers.length + " of 2 messages: " + JSON.stringify(answers);
}, 10000);
`,
      "worker/worker.js": `import { init, validatePhone } from "vox-crm";

self.onmessage = async (event) => {
  try {
    await init();
    self.postMessage({ input: event.data, check: validatePhone(event.data) });
  } catch (e) {
    self.postMessage({ input: event.data, error: String((e && e.stack) || e) });
  }
};
`,
    });
    const assertWorkerAnswers = (result, label) => {
      assert.equal(result.answers.length, 2, `${label}: both messages answered`);
      const [first, second] = result.answers;
      assert.equal(first.error, undefined, `${label}: the first message: ${first.error}`);
      assert.equal(first.input, PHONE, `${label}: the first message posted is answered first`);
      assert.equal(first.check.valid, true, `${label}: the first answer`);
      assert.equal(first.check.e164, E164, `${label}: the first answer's E.164`);
      assert.equal(second.input, "12");
      assert.equal(second.check.reason, "too_short", `${label}: the second answer`);
    };

    // The dev server runs before the builds, so that its dependency scan sees no built worker/dist/index.html.
    await t.test("Vite dev server (`vite`, default config): the pre-bundled package finds its .wasm; the page and the worker work", async () => {
      const dev = await time("vite dev start", () => startViteDev(viteDir));
      devServers.push(dev);
      try {
        const { result, requests } = await inChromium(dev.url, "vite dev");
        assertResult(result, "vite dev");
        assert.equal(result.early, "not_initialized", "vite dev: a synchronous function before init()");
        // The package was pre-bundled into node_modules/.vite/deps/ (the case known to break `new URL(…, import.meta.url)`)...
        assert.ok(
          requests.some((u) => u.startsWith(dev.url + "node_modules/.vite/deps/vox-crm.js")),
          `vite dev: the package came pre-bundled: ${requests.join(", ")}`,
        );
        // ...and its .wasm URL still points at the package's own file, which Vite serves as application/wasm.
        const wasmUrl = dev.url + "node_modules/vox-crm/web/vox_crm_bg.wasm";
        assert.ok(requests.includes(wasmUrl), `vite dev: the .wasm came from the package: ${requests.filter((u) => u.includes(".wasm")).join(", ")}`);
        const wasm = await fetch(wasmUrl);
        assert.equal(wasm.status, 200);
        assert.equal(wasm.headers.get("content-type"), "application/wasm");
        assert.ok(Buffer.from(await wasm.arrayBuffer()).equals(WASM), "vite dev: the served .wasm is the package's");
        assert.ok(
          requests.some((u) => u.startsWith(sb.url + "/leads/query")),
          "vite dev: the call went to the sandbox directly",
        );

        const worker = await inChromium(dev.url + "worker/", "vite dev worker");
        assertWorkerAnswers(worker.result, "vite dev worker");
        assert.ok(worker.requests.includes(wasmUrl), "vite dev worker: the worker loaded the package's .wasm");
      } finally {
        await dev.stop();
      }
      assert.doesNotMatch(dev.output(), /error/i, `vite dev: the server's output has no error:\n${dev.output()}`);
    });

    await t.test("Vite build (`vite build`, default targets): succeeds, emits the .wasm, and the built page works", async () => {
      const { stdout, stderr } = await time("vite build", () => tool(viteDir, "vite", ["build"]));
      assert.doesNotMatch(stdout + stderr, /top-level await|error/i, `vite build: no error:\n${stdout}\n${stderr}`);
      const dist = join(viteDir, "dist");
      const wasm = assertOneWasm(dist, "vite build");
      writeFiles(dist, { "config.json": PROXIED }); // replaces the dev server's copy of public/config.json
      const server = await startStatic(dist, { proxyTo: sb.origin });
      servers.push(server);
      const { result, requests } = await inChromium(server.url, "vite build");
      assertResult(result, "vite build");
      assert.equal(result.early, "not_initialized", "vite build: a synchronous function before init()");
      assert.ok(requests.includes(server.url + wasm), `vite build: the emitted ${wasm} was fetched`);
      assert.ok(
        requests.some((u) => u.startsWith(server.url + "api/v1/leads/query")),
        "vite build: the call went through the page's own origin",
      );
      t.diagnostic(`vite build emitted ${wasm}; ${stderr.trim() ? `stderr: ${stderr.trim()}` : "nothing on stderr"}`);
    });

    await t.test("a Vite module worker (`vite build worker`, default worker format): the message posted at once is answered", async () => {
      const { stdout, stderr } = await time("vite build worker", () => tool(viteDir, "vite", ["build", "worker"]));
      assert.doesNotMatch(stdout + stderr, /error/i, `vite build worker:\n${stdout}\n${stderr}`);
      const dist = join(viteDir, "worker", "dist");
      const wasm = assertOneWasm(dist, "vite build worker");
      const workerChunk = readdirSync(join(dist, "assets")).find((f) => /^worker-.*\.js$/.test(f));
      assert.ok(workerChunk, `vite build worker: a worker chunk: ${readdirSync(join(dist, "assets")).join(", ")}`);
      const chunk = readFileSync(join(dist, "assets", workerChunk), "utf8");
      // Vite's default worker.format is "iife": the chunk is a classic script (no import/export, no import.meta).
      assert.match(chunk, /^\s*\(function\s*\(/, "vite build worker: the worker chunk is an IIFE (Vite's default worker format)");
      assert.doesNotMatch(chunk, /import\.meta/, "vite build worker: no import.meta left in the IIFE");
      const server = await startStatic(dist);
      servers.push(server);
      const { result, requests } = await inChromium(server.url, "vite build worker");
      assertWorkerAnswers(result, "vite build worker");
      assert.ok(requests.includes(server.url + "assets/" + workerChunk), "vite build worker: the worker chunk was loaded");
      assert.ok(requests.includes(server.url + wasm), `vite build worker: the worker fetched ${wasm}`);
    });

    await t.test("webpack 5 (`webpack --mode production`, no config file, no experiments): the .wasm is emitted and the page works", async () => {
      const dir = join(WORK, "webpack");
      writeFiles(dir, { "src/index.js": appSource() }); // webpack's default entry; the default output is dist/main.js
      const { stdout, stderr } = await time("webpack", () => tool(dir, "webpack", ["--mode", "production", "--json", "stats.json"]));
      const stats = JSON.parse(readFileSync(join(dir, "stats.json"), "utf8"));
      assert.deepEqual(stats.errors, [], `webpack: no error: ${stdout}${stderr}`);
      const modules = [];
      const walk = (list) => {
        for (const m of list ?? []) {
          modules.push(m.name);
          walk(m.modules);
        }
      };
      walk(stats.modules);
      assert.ok(modules.includes("./node_modules/vox-crm/web/index.mjs"), `webpack: the browser entry was bundled: ${modules.join(", ")}`);
      assert.ok(!modules.some((m) => m.includes("vox-crm/node/") || m.includes("vox-crm/edge/")), "webpack: nothing of the Node or workerd build");
      const dist = join(dir, "dist");
      const wasm = assertOneWasm(dist, "webpack");
      assert.ok(
        stats.assets.some((a) => a.name === wasm),
        "webpack: the .wasm is one of the build's assets",
      );
      writeFiles(dist, { "index.html": html("vox-crm with webpack", `<script src="./main.js"></script>`), "config.json": PROXIED });
      const server = await startStatic(dist, { proxyTo: sb.origin });
      servers.push(server);
      const { result, requests } = await inChromium(server.url, "webpack");
      assertResult(result, "webpack");
      assert.equal(result.early, "not_initialized", "webpack: a synchronous function before init()");
      assert.ok(requests.includes(server.url + wasm), `webpack: the emitted ${wasm} was fetched`);
      assert.ok(
        requests.some((u) => u.startsWith(server.url + "api/v1/leads/query")),
        "webpack: the call went through the page's own origin",
      );
      t.diagnostic(`webpack emitted ${wasm}; warnings: ${stats.warnings.map((w) => w.message.split("\n")[0]).join(" | ") || "none"}`);
    });

    await t.test(
      "Rollup 4 (`rollup src/main.js -p node-resolve -o out/app.js`): no .wasm emitted; copied beside the bundle, or its URL given to init(), it works",
      async () => {
        const dir = join(WORK, "rollup");
        writeFiles(dir, {
          "src/main.js": appSource(),
          "src/elsewhere.js": appSource(`vox.init(new URL("./assets/vox_crm_bg.wasm", import.meta.url))`),
          "out/index.html": html("vox-crm with Rollup", `<script type="module" src="./app.js"></script>`),
          "out/config.json": PROXIED,
          "out2/index.html": html("vox-crm with Rollup, the .wasm elsewhere", `<script type="module" src="./app.js"></script>`),
          "out2/config.json": PROXIED,
        });
        await time("rollup x2", () =>
          Promise.all([
            tool(dir, "rollup", ["src/main.js", "-p", "node-resolve", "-o", "out/app.js"]),
            tool(dir, "rollup", ["src/elsewhere.js", "-p", "node-resolve", "-o", "out2/app.js"]),
          ]),
        );
        const bundle = readFileSync(join(dir, "out", "app.js"), "utf8");
        assert.doesNotMatch(bundle, /^\s*import\s|\bfrom\s*["']vox-crm["']|require\(/m, "rollup: vox-crm is in the bundle (node-resolve found it)");
        assert.match(bundle, /new URL\(["']\.\/vox_crm_bg\.wasm["'],\s*import\.meta\.url\)/, "rollup: the .wasm URL is left relative to the bundle");
        assert.deepEqual(wasmFiles(join(dir, "out")), [], "rollup: no .wasm emitted");

        // Without the copy: init() rejects, naming the address it tried (what a Rollup user sees first).
        const out = join(dir, "out");
        const server = await startStatic(out, { proxyTo: sb.origin });
        servers.push(server);
        const missing = await time("chromium rollup, no .wasm", () => pageOutcome(browser, server.url));
        assert.equal(missing.result, undefined);
        assert.match(missing.error, /404/, `rollup without the copy: ${missing.error}`);
        assert.ok(missing.error.includes(server.url + "vox_crm_bg.wasm"), `rollup without the copy: the error names the URL: ${missing.error}`);

        // The documented setting: copy node_modules/vox-crm/web/vox_crm_bg.wasm beside the bundle.
        copyFileSync(join(dir, "node_modules", "vox-crm", "web", "vox_crm_bg.wasm"), join(out, "vox_crm_bg.wasm"));
        const { result, requests } = await inChromium(server.url, "rollup");
        assertResult(result, "rollup");
        assert.equal(result.early, "not_initialized", "rollup: a synchronous function before init()");
        assert.ok(requests.includes(server.url + "vox_crm_bg.wasm"), "rollup: the .wasm beside the bundle was fetched");
        assert.ok(
          requests.some((u) => u.startsWith(server.url + "api/v1/leads/query")),
          "rollup: the call went through the page's own origin",
        );

        // Or: the .wasm wherever the assets go, and its URL given to init().
        const out2 = join(dir, "out2");
        mkdirSync(join(out2, "assets"), { recursive: true });
        copyFileSync(join(dir, "node_modules", "vox-crm", "web", "vox_crm_bg.wasm"), join(out2, "assets", "vox_crm_bg.wasm"));
        const server2 = await startStatic(out2, { proxyTo: sb.origin });
        servers.push(server2);
        const elsewhere = await inChromium(server2.url, "rollup init(url)");
        assertResult(elsewhere.result, "rollup init(url)");
        assert.ok(elsewhere.requests.includes(server2.url + "assets/vox_crm_bg.wasm"), "rollup init(url): the given URL was fetched");
        assert.ok(!elsewhere.requests.includes(server2.url + "vox_crm_bg.wasm"), "rollup init(url): not the default one");
      },
    );

    timings.total = Date.now() - started;
    t.diagnostic(`timings (ms): ${JSON.stringify(timings)}`);
  } finally {
    for (const d of devServers) await d.stop();
    await (browser ?? (await launching?.catch(() => null)))?.close();
    for (const s of servers) await s.close();
    await sb.close();
    if (!process.env.VOX_KEEP_WORK) rmSync(WORK, { recursive: true, force: true });
  }
});
