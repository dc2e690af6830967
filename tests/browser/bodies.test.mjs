// How the web build reads answers without a Content-Length (chunked, as frameworks such as Next.js
// send them) in Chromium: every call succeeds with no request shown as failed (a body read as a
// stream is, about one in two: net::ERR_ABORTED), and a body over 32 MiB is still refused.
//
//   node --test tests/browser/bodies.test.mjs   (after scripts/package.sh)

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import { join } from "node:path";
import { test } from "node:test";
import { chromium } from "playwright-core";
import { CHROMIUM_ARGS, CHROMIUM_PATH, requireChromium, watchPage } from "./chromium.mjs";

const DIST = join(import.meta.dirname, "..", "..", "dist", "vox-crm");
const PAGE = { _id: "6650a1b2c3d4e5f601234599", name: "Asha Rao" };

test("chunked answers in Chromium: no request shown as failed, and the 32 MiB cap holds", { timeout: 60000 }, async () => {
  requireChromium();
  const server = createServer((req, res) => {
    const url = new URL(req.url, "http://x");
    if (url.pathname === "/") {
      res.writeHead(200, { "content-type": "text/html" });
      return res.end("<!doctype html><title>bodies</title>");
    }
    if (url.pathname.startsWith("/pkg/")) {
      const file = join(DIST, url.pathname.slice("/pkg/".length).replace(/\.\./g, ""));
      res.writeHead(200, { "content-type": file.endsWith(".wasm") ? "application/wasm" : "text/javascript" });
      return res.end(readFileSync(file));
    }
    // No Content-Length: Node sends these chunked.
    res.writeHead(200, { "content-type": "application/json", "cache-control": "no-store" });
    if (url.searchParams.get("referenceId") === "huge") {
      // 33 MiB of a JSON string, in 1 MiB writes.
      res.write('{"success":true,"data":[],"pad":"');
      const mib = "x".repeat(1 << 20);
      for (let i = 0; i < 33; i++) res.write(mib);
      return res.end('"}');
    }
    const body = JSON.stringify({ success: true, data: [PAGE], pagination: { page: 1, limit: 20, total: 1, totalPages: 1, hasNextPage: false } });
    res.end(body);
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const origin = `http://127.0.0.1:${server.address().port}`;
  // A browser of its own (not the persistent profile of chromium.mjs), in which Chromium shows the
  // failure most often.
  const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: [...CHROMIUM_ARGS.filter((a) => a !== "--headless"), "--headless=new"] });
  try {
    const page = await browser.newPage();
    const watch = watchPage(page);
    await page.goto(origin + "/");
    const out = await page.evaluate(async (origin) => {
      const vox = await import(`${origin}/pkg/web/index.mjs`);
      await vox.init();
      const client = new vox.VoxClient({ projectId: "6650a1b2c3d4e5f601234567", baseUrl: `${origin}/api/v1`, maxRetries: 0 });
      const names = [];
      for (let i = 0; i < 100; i++) names.push((await client.queryLeads({})).leads[0].name);
      let huge;
      try {
        await client.queryLeads({ referenceId: "huge" });
      } catch (e) {
        huge = { code: e.code, message: e.message };
      }
      return { names, huge };
    }, origin);
    assert.deepEqual(out.names, Array(100).fill(PAGE.name), "every answer read");
    assert.equal(out.huge?.code, "invalid_response");
    assert.match(out.huge.message, /larger than 32 MiB/);
    // The huge answer's request is refused by the client, not failed by the network.
    assert.deepEqual(watch.problems, [], "no request shown as failed, no console error");
  } finally {
    await browser.close();
    server.closeAllConnections();
    server.close();
  }
});
