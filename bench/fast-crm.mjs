// Very large bulks (bench/bigbulk.mjs, tests/node/bigbulk.test.mjs): a minimal fast fake CRM on
// 127.0.0.1 (POST /leads/bulk/initiate answers every lead created with an `_id`, GET /leads/query
// answers a project without leads), the leads (distinct valid Indian mobiles, never junk) and the
// child process that runs the bulks (bench/workers/bigbulk.mjs), so that its memory is its own.

import { spawn } from "node:child_process";
import http from "node:http";
import { fileURLToPath } from "node:url";
import { looksJunk } from "../tests/node/workers/leads.mjs";

export const PROJECT = "6650a1b2c3d4e5f601234567";
export const TOKEN = "sk_test_vox_sandbox";
export const PROCESS = "6650a1b2c3d4e5f6012345a1";
const BULK_PATH = "/api/v1/leads/bulk/initiate";
const QUERY_PATH = "/api/v1/leads/query";

/**
 * Starts the fake CRM. Returns { url (the API base), stats, close() }. `stats`: bulk `requests` and
 * their `leads`, `queries` (GET /leads/query, answered as a project without leads) and `other`
 * (anything else, answered 404).
 */
export async function startFastCrm() {
  let lastId = 0;
  const stats = { requests: 0, leads: 0, queries: 0, other: 0 };
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      const path = req.url.split("?")[0];
      if (req.method === "GET" && path === QUERY_PATH) {
        // A project without leads (what the client asks before a bulk: do any exist?).
        stats.queries++;
        res.writeHead(200, { "content-type": "application/json" });
        res.end('{"success":true,"data":[],"pagination":{"page":1,"limit":1,"total":0,"totalPages":0,"hasNextPage":false}}');
        return;
      }
      let leads;
      try {
        leads = req.method === "POST" && path === BULK_PATH ? JSON.parse(Buffer.concat(chunks)).leads : undefined;
      } catch {
        /* not JSON: 404 below */
      }
      if (!Array.isArray(leads)) {
        stats.other++;
        res.writeHead(404, { "content-type": "application/json" });
        res.end('{"success":false,"error":"Not found"}');
        return;
      }
      stats.requests++;
      stats.leads += leads.length;
      const success = leads.map((l) => ({ _id: (++lastId).toString(16).padStart(24, "0"), name: l.name, phone: l.phone, processId: l.processId }));
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ success, errors: [] }));
    });
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}/api/v1`,
    stats,
    close: () =>
      new Promise((resolve) => {
        server.close(resolve);
        server.closeAllConnections(); // idle keep-alive sockets too
      }),
  };
}

// Tails 6_000_000_000 + (k * STEP) mod 4_000_000_000: STEP is odd and not a multiple of 5, so k = 0, 1, ...
// walks every 10-digit number from 6 to 9 once (distinct phones), in an order without patterns.
const STEP = 48_271_003;
const SPAN = 4_000_000_000;

/**
 * A lead maker: `make(count)` returns the next `count` leads of the sequence (distinct phones across
 * calls), each { processId, name, phone: "+91" + 10 digits starting 6-9 }, skipping the numbers
 * tests/node/workers/leads.mjs `looksJunk` calls junk (stricter than the library's rules).
 */
export function bigLeadMaker() {
  let k = 0;
  let n = 0;
  return (count) => {
    const out = new Array(count);
    for (let i = 0; i < count; k++) {
      const national = String(6_000_000_000 + ((k * STEP) % SPAN));
      if (looksJunk(national)) continue;
      out[i++] = { processId: PROCESS, name: `Big Bulk ${n++}`, phone: `+91${national}` };
    }
    return out;
  };
}

const WORKER = fileURLToPath(new URL("./workers/bigbulk.mjs", import.meta.url));

/**
 * Runs bench/workers/bigbulk.mjs (node --expose-gc) with the bulks of `counts` leads, one after the
 * other, against `baseUrl`. Returns { child, done, kill }: `done` resolves to the child's reports
 * (one per count, see the worker) or rejects with its exit status and the end of its stderr; `kill()`
 * ends it if it still runs. The child also exits on its own when this process goes away (IPC).
 */
export function runBigBulk(baseUrl, counts) {
  const child = spawn(process.execPath, ["--expose-gc", WORKER, baseUrl, ...counts.map(String)], {
    stdio: ["ignore", "pipe", "pipe", "ipc"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (d) => {
    stdout += d;
  });
  child.stderr.setEncoding("utf8").on("data", (d) => {
    stderr = (stderr + d).slice(-4000);
  });
  const done = new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code, signal) => {
      const runs = [];
      for (const line of stdout.split("\n")) {
        try {
          runs.push(JSON.parse(line));
        } catch {
          /* not a report */
        }
      }
      if (code === 0 && runs.length === counts.length) resolve(runs);
      else
        reject(
          new Error(
            `bench/workers/bigbulk.mjs ${counts.join(" ")}: exit ${code ?? signal}, ${runs.length} of ${counts.length} reports; stderr: ${stderr.trim() || "(none)"}`,
          ),
        );
    });
  });
  const kill = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  };
  return { child, done, kill };
}
