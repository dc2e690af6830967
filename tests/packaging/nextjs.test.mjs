// The packed vox-crm .tgz in a Next.js 16 app with NO next.config (the defaults people get):
//   - app/api/lead/route.js (Node runtime): a VoxClient calls the sandbox, validatePhone in the handler;
//   - app/phone-check.jsx ("use client"), in a <Suspense> in app/page.jsx: `use(init())`, then the
//     synchronous validatePhone/maskPhone during render (pre-rendered on the server, hydrated in the browser).
//   - app/api/vox/[...path]/route.js: vox-crm/proxy's handler as GET and POST (queryLeads only, masked),
//     which app/lead-count.jsx ("use client") calls with a VoxClient whose baseUrl is "/api/vox";
// Next sets the conditions module+node+import on the server (route handlers and the pre-render of client
// components: node/bundler.mjs, the .wasm inlined, instantiated on load) and module+browser+import in the
// browser (web/index.mjs, whose init() fetches the .wasm Next emits under /_next/static/media/).
//   1. `next build` (Turbopack, the default), then `next start` on 127.0.0.1 with node_modules/vox-crm moved
//      away: the route's JSON (the sandbox's one lead, the E.164), the pre-rendered HTML, and the page in
//      headless Chromium after hydration (no console error). Moving the package away proves the build reads
//      nothing from node_modules/vox-crm at run time.
//   2. `next build --webpack` of the same app, checked the same way.
// Versions are pinned exactly in the throwaway project; an install that fails fails the test.
//
//   node --test tests/packaging/nextjs.test.mjs   (after scripts/package.sh; VOX_KEEP_WORK=1 keeps the project)

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { launchChromium, requireChromium, watchPage } from "../browser/chromium.mjs";
import {
  DIST,
  E164,
  freePort,
  npm,
  PHONE,
  PROJECT_ID,
  packDist,
  requireBuilt,
  run,
  startSeededSandbox,
  stopwatch,
  TOKEN,
  workDir,
  writeFiles,
} from "./lib.mjs";

const WORK = workDir("nextjs");
const MASKED = "+91******7206";

// next 16.4.6 and the React it is built against (its own react-dom peer: ^19.0.0).
const PINS = { next: "16.4.6", react: "19.3.1", "react-dom": "19.3.1" };

const NEXT_ENV = { NEXT_TELEMETRY_DISABLED: "1", NO_COLOR: "1", FORCE_COLOR: "0" };

/** The app: plain .jsx (no tsconfig, so no TypeScript step), no next.config. */
const APP = {
  "app/layout.jsx": `// No favicon request (a 404 would be a console error).
export const metadata = { title: "vox-crm in Next.js", icons: { icon: "data:," } };

export default function RootLayout({ children }) {
  return (
    <html lang="en">
      <body>{children}</body>
    </html>
  );
}
`,
  "app/page.jsx": `import { Suspense } from "react";
import PhoneCheck from "./phone-check";
import LeadCount from "./lead-count";

export default function Page() {
  return (
    <main>
      <h1>vox-crm in Next.js</h1>
      <Suspense fallback={<p id="loading">Loading…</p>}>
        <PhoneCheck phone={${JSON.stringify(PHONE)}} />
      </Suspense>
      <LeadCount />
    </main>
  );
}
`,
  "app/phone-check.jsx": `"use client";
import { use, useEffect, useState } from "react";
import { init, maskPhone, validatePhone } from "vox-crm";

export default function PhoneCheck({ phone }) {
  use(init()); // suspends until the WebAssembly module is loaded (in the browser); never on the server
  const { e164 } = validatePhone(phone);
  // Set once this component has committed in the browser: its render (validatePhone) ran there too.
  const [where, setWhere] = useState("server");
  useEffect(() => setWhere("browser"), []);
  return (
    <dl>
      <dt>E.164</dt>
      <dd id="e164">{e164}</dd>
      <dt>masked</dt>
      <dd id="masked">{maskPhone(e164)}</dd>
      <dt>rendered in</dt>
      <dd id="where">{where}</dd>
    </dl>
  );
}
`,
  "app/lead-count.jsx": `"use client";
import { useEffect, useState } from "react";
import { VoxClient } from "vox-crm";

// In the browser: no token, the site's own route (app/api/vox/[...path]/route.js) as the API.
export default function LeadCount() {
  const [seen, setSeen] = useState(null);
  useEffect(() => {
    const client = new VoxClient({ projectId: ${JSON.stringify(PROJECT_ID)}, baseUrl: "/api/vox" });
    client.queryLeads({ limit: 1 }).then(
      (page) => setSeen({ total: page.total, phone: page.leads[0]?.phone }),
      (err) => setSeen({ error: err.code }),
    );
  }, []);
  return <p id="lead-count">{seen ? JSON.stringify(seen) : ""}</p>;
}
`,
  "app/api/vox/[...path]/route.js": `import { createProxyHandler } from "vox-crm/proxy";

export const runtime = "nodejs";
export const dynamic = "force-dynamic";

// Made on the first request: the build imports this module, where the token is not set.
let handler;
function proxy(request) {
  handler ??= createProxyHandler({
    projectId: ${JSON.stringify(PROJECT_ID)},
    token: process.env.VOX_TOKEN,
    baseUrl: process.env.VOX_BASE_URL,
    basePath: "/api/vox",
    allow: ["queryLeads"],
    authorize: () => ({ masked: true }),
  });
  return handler(request);
}

export { proxy as GET, proxy as POST };
`,
  "app/api/lead/route.js": `import { VoxClient, validatePhone } from "vox-crm";

export const runtime = "nodejs";
export const dynamic = "force-dynamic";

export async function GET() {
  const client = new VoxClient({
    projectId: ${JSON.stringify(PROJECT_ID)},
    token: ${JSON.stringify(TOKEN)},
    baseUrl: process.env.VOX_BASE_URL,
  });
  const page = await client.queryLeads({ limit: 1 });
  return Response.json({ ...page, e164: validatePhone(${JSON.stringify(PHONE)}).e164 });
}
`,
};

const nextBin = (dir) => join(dir, "node_modules", "next", "dist", "bin", "next");

/** `next build [--webpack]` in dir; resolves to its output. */
async function nextBuild(dir, args) {
  try {
    const { stdout, stderr } = await run(process.execPath, [nextBin(dir), "build", ...args], {
      cwd: dir,
      env: { ...process.env, ...NEXT_ENV },
      timeout: 120000,
      maxBuffer: 16 << 20,
    });
    return stdout + stderr;
  } catch (err) {
    throw new Error(`next build ${args.join(" ")} failed in ${dir}:\n${err.stdout ?? ""}\n${err.stderr ?? err.message}`);
  }
}

/** `next start` on 127.0.0.1 in its own process group; resolves to { url, output(), stop() } once it is ready. */
async function nextStart(dir, env) {
  const port = await freePort();
  const child = spawn(process.execPath, [nextBin(dir), "start", "-H", "127.0.0.1", "-p", String(port)], {
    cwd: dir,
    env: { ...process.env, ...NEXT_ENV, ...env },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true, // its own process group: stop() ends next and anything it started
  });
  let out = "";
  child.stdout.on("data", (d) => (out += d));
  child.stderr.on("data", (d) => (out += d));
  const exited = new Promise((r) => child.once("exit", (code, signal) => r({ code, signal })));
  const running = () => child.exitCode === null && child.signalCode === null;
  const stop = async () => {
    if (!running()) return;
    try {
      process.kill(-child.pid, "SIGTERM");
    } catch {}
    const timer = setTimeout(() => {
      try {
        process.kill(-child.pid, "SIGKILL");
      } catch {}
    }, 5000);
    await exited;
    clearTimeout(timer);
  };
  const url = `http://127.0.0.1:${port}/`;
  try {
    await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`next start did not say it was ready within 30 s:\n${out}`)), 30000);
      const onData = () => {
        if (/Ready in/.test(out)) {
          clearTimeout(timer);
          resolve();
        }
      };
      child.stdout.on("data", onData);
      child.stderr.on("data", onData);
      exited.then(({ code, signal }) => {
        clearTimeout(timer);
        reject(new Error(`next start exited (${code ?? signal}) before it was ready:\n${out}`));
      });
    });
  } catch (err) {
    await stop();
    throw err;
  }
  return { url, output: () => out, stop };
}

const filesUnder = (dir) =>
  readdirSync(dir, { recursive: true })
    .map(String)
    .filter((f) => !f.endsWith(".map"));

/** The build put the .wasm inline in the server's code (node/bundler.mjs) and not in the browser's (web/). */
function assertBuildOutput(dir, label, wasm) {
  const next = join(dir, ".next");
  const base64 = wasm.subarray(0, 48).toString("base64");
  const serverJs = filesUnder(join(next, "server")).filter((f) => f.endsWith(".js"));
  const inlined = serverJs.filter((f) => readFileSync(join(next, "server", f), "utf8").includes(base64));
  assert.ok(inlined.length > 0, `${label}: the server's code has the .wasm inline (node/bundler.mjs)`);
  const staticFiles = filesUnder(join(next, "static"));
  const wasmFiles = staticFiles.filter((f) => f.endsWith(".wasm"));
  assert.equal(wasmFiles.length, 1, `${label}: one .wasm for the browser: ${wasmFiles.join(", ") || "none"}`);
  assert.ok(readFileSync(join(next, "static", wasmFiles[0])).equals(wasm), `${label}: ${wasmFiles[0]} is the package's .wasm`);
  for (const f of staticFiles.filter((f) => f.endsWith(".js"))) {
    assert.ok(!readFileSync(join(next, "static", f), "utf8").includes(base64), `${label}: no inlined .wasm in the browser's ${f}`);
  }
  // The build traces (what a deployment copies from node_modules) name nothing of the package.
  for (const f of filesUnder(next).filter((f) => f.endsWith(".nft.json"))) {
    assert.ok(!readFileSync(join(next, f), "utf8").includes("vox-crm"), `${label}: ${f} names no vox-crm file`);
  }
  // The pre-render (server, node/bundler.mjs: init() already fulfilled, no suspending) has the numbers.
  const html = readFileSync(join(next, "server", "app", "index.html"), "utf8");
  assert.ok(html.includes(`id="e164">${E164}<`), `${label}: the pre-rendered page has the E.164`);
  assert.ok(html.includes(`id="masked">${MASKED}<`), `${label}: the pre-rendered page has the masked number`);
  assert.ok(!html.includes(`id="loading"`), `${label}: the pre-render did not suspend`);
  return { inlined };
}

/** The route handler: the sandbox's one lead and the E.164. */
async function checkRoute(url, label) {
  const res = await fetch(url + "api/lead");
  const text = await res.text();
  assert.equal(res.status, 200, `${label}: GET /api/lead: ${text}`);
  const body = JSON.parse(text);
  assert.equal(body.total, 1, `${label}: the sandbox's total`);
  assert.equal(body.limit, 1, `${label}: limit`);
  assert.ok(Array.isArray(body.leads) && body.leads.length === 1, `${label}: one lead`);
  assert.equal(body.e164, E164, `${label}: validatePhone in the route`);
}

/** The proxy route: what it allows (masked), what it refuses. */
async function checkProxy(url, label) {
  const res = await fetch(url + "api/vox/leads/query?limit=1");
  const text = await res.text();
  assert.equal(res.status, 200, `${label}: GET /api/vox/leads/query: ${text}`);
  const body = JSON.parse(text);
  assert.equal(body.pagination.total, 1, `${label}: the proxy's answer`);
  assert.equal(body.data[0].phone, "+********4502", `${label}: read masked`);
  const refused = await fetch(url + "api/vox/leads/initiate", { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
  assert.equal(refused.status, 403, `${label}: initiateLead is not allowed`);
  const evil = await fetch(url + "api/vox/leads/query?limit=1", { headers: { origin: "https://evil.example" } });
  assert.equal(evil.status, 403, `${label}: another origin`);
}

/** The page in Chromium: hydrated (the client component's effect ran), the numbers rendered in the browser. */
async function checkPage(browser, url, label) {
  const page = await browser.context.newPage();
  const watch = watchPage(page);
  const wasmResponses = [];
  page.on("response", (r) => {
    if (new URL(r.url()).pathname.endsWith(".wasm")) wasmResponses.push({ url: r.url(), status: r.status() });
  });
  try {
    await page.goto(url);
    await page
      .waitForFunction(() => document.getElementById("where")?.textContent === "browser", null, { timeout: 30000 })
      .catch((err) => {
        throw new Error(`${label}: the page did not hydrate: ${err.message}\n${watch.problems.join("\n")}`);
      });
    const seen = await page.evaluate(() => ({
      e164: document.getElementById("e164")?.textContent,
      masked: document.getElementById("masked")?.textContent,
    }));
    assert.deepEqual(seen, { e164: E164, masked: MASKED }, `${label}: the page after hydration`);
    await page.waitForFunction(() => document.getElementById("lead-count")?.textContent !== "", null, { timeout: 15000 });
    const count = JSON.parse(await page.evaluate(() => document.getElementById("lead-count").textContent));
    assert.deepEqual(count, { total: 1, phone: "+********4502" }, `${label}: the page's VoxClient through the proxy route`);
    assert.deepEqual(watch.problems, [], `${label}: no console error or failed request`);
    assert.equal(wasmResponses.length, 1, `${label}: the browser fetched one .wasm: ${JSON.stringify(wasmResponses)}`);
    assert.match(new URL(wasmResponses[0].url).pathname, /^\/_next\/static\/media\/.+\.wasm$/, `${label}: the .wasm Next emitted`);
    assert.equal(wasmResponses[0].status, 200, `${label}: the .wasm was served`);
  } finally {
    await page.close();
  }
}

// ---------------------------------------------------------------------------------------------------------

test("Next.js 16: the packed .tgz in an app with no next.config (Turbopack and webpack builds, next start, Chromium)", { timeout: 240000 }, async (t) => {
  requireBuilt("node/bundler.mjs");
  requireChromium();
  const wasm = readFileSync(join(DIST, "web", "vox_crm_bg.wasm"));
  const { timings, time } = stopwatch();
  const started = Date.now();

  mkdirSync(WORK, { recursive: true });
  const sb = await startSeededSandbox("Next Seed");
  const dir = join(WORK, "app");
  const installed = join(dir, "node_modules", "vox-crm");
  const away = join(WORK, "vox-crm-away"); // outside every node_modules: nothing can resolve it there
  let server = null;
  let browser = null;
  let launching = null;
  try {
    let _tgz;
    await t.test("npm pack, npm install next, react, react-dom and the .tgz", async () => {
      const { info, tgz: packed } = await time("npm pack", () => packDist(WORK));
      _tgz = packed;
      // Chromium starts while npm installs.
      launching = launchChromium();
      launching.catch(() => {});
      writeFiles(dir, {
        "package.json": { name: "vox-nextjs", private: true, dependencies: { ...PINS, "vox-crm": `file:../${info.filename}` } },
        ...APP,
      });
      await time("npm install", () => npm(["install", "--no-package-lock", "--prefer-offline"], dir));
      for (const [name, version] of Object.entries(PINS)) {
        assert.equal(JSON.parse(readFileSync(join(dir, "node_modules", name, "package.json"), "utf8")).version, version, `${name} ${version} installed`);
      }
      assert.equal(JSON.parse(readFileSync(join(installed, "package.json"), "utf8")).name, "vox-crm");
    });

    const runChecks = async (label) => {
      // Nothing of the package at run time: moved out of node_modules for next start.
      renameSync(installed, away);
      try {
        server = await time(`${label}: next start`, () => nextStart(dir, { VOX_BASE_URL: sb.url, VOX_TOKEN: TOKEN }));
        await time(`${label}: route`, () => checkRoute(server.url, label));
        await time(`${label}: proxy route`, () => checkProxy(server.url, label));
        const res = await fetch(server.url);
        assert.equal(res.status, 200, `${label}: GET /`);
        const html = await res.text();
        assert.ok(html.includes(`id="e164">${E164}<`) && html.includes(`id="masked">${MASKED}<`), `${label}: the served HTML has the numbers`);
        browser ??= await launching;
        await time(`${label}: chromium`, () => checkPage(browser, server.url, label));
        assert.doesNotMatch(server.output(), /\b(Error|TypeError|VoxError)\b/, `${label}: next start logged no error:\n${server.output()}`);
      } finally {
        await server?.stop();
        server = null;
        renameSync(away, installed);
      }
    };

    await t.test("next build (Turbopack), next start with node_modules/vox-crm moved away: route, page, Chromium", async () => {
      const out = await time("turbopack: next build", () => nextBuild(dir, []));
      assert.match(out, /Next\.js 16\.4\.6 \(Turbopack\)/, `the default build is Turbopack:\n${out}`);
      assert.match(out, /ƒ \/api\/lead/, "the route is dynamic");
      assert.match(out, /○ \/\s/, "the page is pre-rendered");
      const { inlined } = assertBuildOutput(dir, "turbopack", wasm);
      t.diagnostic(`turbopack: the .wasm inline in ${inlined.length} server chunk(s): ${inlined.join(", ")}`);
      await runChecks("turbopack");
    });

    await t.test("next build --webpack, next start with node_modules/vox-crm moved away: route, page, Chromium", async () => {
      rmSync(join(dir, ".next"), { recursive: true, force: true });
      const out = await time("webpack: next build", () => nextBuild(dir, ["--webpack"]));
      assert.match(out, /Next\.js 16\.4\.6 \(webpack\)/, `the webpack build:\n${out}`);
      const { inlined } = assertBuildOutput(dir, "webpack", wasm);
      t.diagnostic(`webpack: the .wasm inline in ${inlined.length} server file(s): ${inlined.join(", ")}`);
      await runChecks("webpack");
    });

    timings.total = Date.now() - started;
    t.diagnostic(`timings (ms): ${JSON.stringify(timings)}`);
  } finally {
    await server?.stop();
    if (existsSync(away) && !existsSync(installed)) renameSync(away, installed);
    await (browser ?? (await launching?.catch(() => null)))?.close();
    await sb.close();
    if (!process.env.VOX_KEEP_WORK) rmSync(WORK, { recursive: true, force: true });
  }
});
