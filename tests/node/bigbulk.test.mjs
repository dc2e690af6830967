// A very large bulk keeps the wasm memory flat (issue 14, item 1: a 3,000,000-lead bulkInitiateLeads
// died with "RuntimeError: unreachable", and the wasm memory kept ~1.4 GB after 1,000,000 leads).
// In one child process (bench/workers/bigbulk.mjs, node --expose-gc, so that its memory is its own):
// a bulk of 50,000 leads, then one of 400,000, against the fast fake CRM of bench/fast-crm.mjs on
// 127.0.0.1 (the same server, leads and child as `node bench/bigbulk.mjs`, which runs 3,000,000).

import assert from "node:assert/strict";
import { test } from "node:test";
import { runBigBulk, startFastCrm } from "../../bench/fast-crm.mjs";

const FIRST = 50_000;
const SECOND = 400_000;
const MB = 2 ** 20;
// The wasm memory only grows, so its size after a bulk is its peak during it. The first bulk pays for
// what is allocated once; from after it to after the second (measured: under 1 MB), per-lead state of b
// bytes adds at least 350,000 × b if it is freed at the end of a bulk (the second's peak minus the
// first's) and 400,000 × b if it is kept: 8 MB catches 24 bytes a lead, less than one 24-character
// `_id` kept in a Rust String (24 + 12 bytes).
const GROWTH_LIMIT = 8 * MB;

test("bulks of 50,000 then 400,000 leads: every lead created in order, the wasm memory does not grow per lead", { timeout: 90_000 }, async (t) => {
  const crm = await startFastCrm();
  t.after(() => crm.close());
  const job = runBigBulk(crm.url, [FIRST, SECOND]);
  t.after(job.kill); // a failed or timed-out test leaves no child behind
  const [first, second] = await job.done;

  for (const [run, n] of [
    [first, FIRST],
    [second, SECOND],
  ]) {
    const what = `bulk of ${n}: ${JSON.stringify({ ...run, ms: Math.round(run.ms) })}`;
    assert.equal(run.leads, n, what);
    assert.equal(run.created + run.failed + run.unknown, n, `every lead accounted for; ${what}`);
    assert.equal(run.created, n, `every (valid, distinct) lead created; ${what}`);
    assert.ok(run.inOrder, `created[i].index === i for every i; ${what}`);
    assert.ok(run.idsOk, `every created lead has a string _id; ${what}`);
    assert.ok(run.phonesOk, `created[i].lead is the server's answer for input i; ${what}`);
  }
  assert.equal(crm.stats.leads, FIRST + SECOND, "the server got every lead once");
  assert.equal(crm.stats.requests, (FIRST + SECOND) / 1000, "in full chunks of 1000");
  assert.equal(crm.stats.other, 0, "no request the fake CRM does not answer");

  // The package exposes no memory: the worker captures the WebAssembly.Memory its instance exports.
  assert.equal(second.wasmInstances, 1, "the wasm memory was found, and the module never restarted (a restart would hide growth)");
  const wasmGrowth = second.wasmBytes - first.wasmBytes;
  assert.ok(
    wasmGrowth < GROWTH_LIMIT,
    `wasm memory ${(first.wasmBytes / MB).toFixed(2)} MB after the bulk of ${FIRST}, ${(second.wasmBytes / MB).toFixed(2)} MB after the one of ${SECOND} (limit: + ${GROWTH_LIMIT / MB} MB)`,
  );
  // The same through public API: process.memoryUsage().external counts a WebAssembly.Memory
  // (arrayBuffers does not), with Node's other off-heap memory.
  const externalGrowth = second.externalBytes - first.externalBytes;
  assert.ok(
    externalGrowth < GROWTH_LIMIT,
    `memoryUsage().external ${(first.externalBytes / MB).toFixed(1)} MB, then ${(second.externalBytes / MB).toFixed(1)} MB (limit: + ${GROWTH_LIMIT / MB} MB)`,
  );
  t.diagnostic(
    `${FIRST} leads in ${Math.round(first.ms)} ms, ${SECOND} in ${Math.round(second.ms)} ms; wasm memory ${(first.wasmBytes / MB).toFixed(2)} → ${(second.wasmBytes / MB).toFixed(2)} MB; peak RSS ${Math.round(second.peakRssKb / 1024)} MB`,
  );
});
