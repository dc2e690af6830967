// Starts a real redis-server for a test file: on a free loopback port, with no persistence and
// its working directory in a temporary folder (it never writes into the repository).
//
//   const redis = await startRedis();   // { url, port, stop(), kill(), start() }
//   await redis.kill();                 // SIGKILL, as a crash would
//   await redis.start();                // again, on the same port (empty: nothing was saved)
//   await redis.stop();                 // SIGTERM; waits for the exit
//
// startRedis({ cluster: true }) starts a one-node Redis Cluster that serves every slot.
// A missing redis-server is an error, never a skip: `scripts/setup.sh test` installs it.
// Every server started here is killed when the test process exits, however it exits: an exit
// handler, SIGINT/SIGTERM handlers, and a watchdog process that kills the server when this
// process is gone (even after a SIGKILL, which runs no handler).
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createConnection, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

const HOST = "127.0.0.1";
const READY_MS = 10_000;

/** Live servers of this process: { child, watchdog, dir }. */
const live = new Set();
let hooked = false;

function hookExit() {
  if (hooked) return;
  hooked = true;
  process.on("exit", killAllNow);
  for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"]) {
    process.once(sig, () => {
      killAllNow();
      process.kill(process.pid, sig); // the default action, now that the servers are gone
    });
  }
}

function killAllNow() {
  for (const s of live) {
    try {
      s.child.kill("SIGKILL");
    } catch {
      /* already gone */
    }
    disarm(s);
    rmSync(s.dir, { recursive: true, force: true });
  }
  live.clear();
}

/**
 * The watchdog: once its stdin closes without "disarm" (this process is gone), kills `pid` if it
 * still is a redis-server and removes the server's temporary folder.
 */
const WATCHDOG = `
const fs = require("node:fs");
const pid = Number(process.argv[1]);
const dir = process.argv[2];
let armed = true;
process.stdin.on("data", (d) => { if (String(d).includes("disarm")) armed = false; });
process.stdin.on("end", () => {
  if (armed) {
    let cmd = "";
    try { cmd = fs.readFileSync("/proc/" + pid + "/cmdline", "utf8"); } catch {}
    if (cmd.includes("redis-server")) { try { process.kill(pid, "SIGKILL"); } catch {} }
    setTimeout(() => { try { fs.rmSync(dir, { recursive: true, force: true }); } catch {} process.exit(0); }, 200);
  } else process.exit(0);
});
process.stdin.resume();
`;

function disarm(s) {
  if (!s.watchdog) return;
  try {
    s.watchdog.stdin.end("disarm\n");
  } catch {
    /* gone */
  }
  s.watchdog = null;
}

/** Throws unless `redis-server` can be run. */
export function requireRedisServer() {
  const r = spawnSync("redis-server", ["--version"], { encoding: "utf8" });
  if (r.error && r.error.code === "ENOENT") {
    throw new Error(
      "redis-server is not installed (not on PATH). The Redis store's tests need a real one: " +
        "run `scripts/setup.sh test` (or `apt-get install -y --no-install-recommends redis-server`).",
    );
  }
  if (r.error) throw new Error(`redis-server --version failed: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`redis-server --version exited ${r.status}: ${r.stderr || r.stdout}`);
  return r.stdout.trim();
}

/** A port that was free on 127.0.0.1 a moment ago. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, HOST, () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** Sends one command in RESP; resolves its reply as text ("+OK" / "-ERR ..." / a bulk string), or null. */
function raw(port, args) {
  return new Promise((resolve) => {
    const sock = createConnection({ host: HOST, port });
    let buf = "";
    const done = (reply) => {
      sock.destroy();
      resolve(reply);
    };
    sock.setTimeout(1000, () => done(null));
    sock.on("error", () => done(null));
    sock.on("connect", () => sock.write(`*${args.length}\r\n` + args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join("")));
    sock.on("data", (d) => {
      buf += d;
      const eol = buf.indexOf("\r\n");
      if (eol < 0) return;
      if (buf[0] !== "$") return done(buf.slice(0, eol));
      const len = Number(buf.slice(1, eol));
      if (len < 0) return done(null);
      if (buf.length >= eol + 2 + len) done(buf.slice(eol + 2, eol + 2 + len));
    });
  });
}
const ping = async (port) => (await raw(port, ["PING"])) === "+PONG";

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Starts one redis-server process on `port`; resolves when it answers PING. */
async function launch(port, cluster) {
  const dir = mkdtempSync(join(tmpdir(), "vox-redis-"));
  const args = [
    "--port",
    String(port),
    "--bind",
    HOST,
    "--protected-mode",
    "yes",
    "--save",
    "",
    "--appendonly",
    "no",
    "--dir",
    dir,
    "--dbfilename",
    "never-written.rdb",
    "--daemonize",
    "no",
    "--logfile",
    "",
    "--loglevel",
    "warning",
  ];
  if (cluster) args.push("--cluster-enabled", "yes", "--cluster-config-file", join(dir, "nodes.conf"), "--cluster-announce-ip", HOST);
  else args.push("--databases", "1");
  const child = spawn("redis-server", args, { stdio: ["ignore", "pipe", "pipe"] });
  let log = "";
  const keep = (d) => {
    log = (log + d).slice(-8000);
  };
  child.stdout.on("data", keep);
  child.stderr.on("data", keep);
  let exited = null;
  const exit = new Promise((resolve) =>
    child.on("exit", (code, signal) => {
      exited = { code, signal };
      resolve(exited);
    }),
  );
  let spawnError = null;
  child.on("error", (e) => {
    spawnError = e;
  });
  // Do not keep the test process alive for it: the exit handlers kill it.
  child.unref();
  child.stdout.unref?.();
  child.stderr.unref?.();

  const s = { child, dir, exit, watchdog: null, log: () => log };
  hookExit();
  live.add(s);
  const watchdog = spawn(process.execPath, ["-e", WATCHDOG, String(child.pid), dir], { stdio: ["pipe", "ignore", "ignore"], detached: true });
  watchdog.unref();
  watchdog.stdin.unref?.();
  watchdog.stdin.on("error", () => {});
  s.watchdog = watchdog;

  const deadline = Date.now() + READY_MS;
  while (Date.now() < deadline) {
    if (spawnError) {
      live.delete(s);
      disarm(s);
      rmSync(dir, { recursive: true, force: true });
      if (spawnError.code === "ENOENT") requireRedisServer();
      throw new Error(`could not start redis-server: ${spawnError.message}`);
    }
    if (exited) break;
    if (await ping(port)) {
      if (!cluster) return s;
      // A one-node cluster: this node serves every slot.
      const added = await raw(port, ["CLUSTER", "ADDSLOTSRANGE", "0", "16383"]);
      if (added !== "+OK") {
        await halt(s, "SIGKILL");
        throw new Error(`CLUSTER ADDSLOTSRANGE answered ${added}`);
      }
      while (Date.now() < deadline) {
        if (/cluster_state:ok/.test((await raw(port, ["CLUSTER", "INFO"])) ?? "")) return s;
        await sleep(20);
      }
      break;
    }
    await sleep(20);
  }
  await halt(s, "SIGKILL");
  throw new Error(
    exited
      ? `redis-server exited (${exited.code ?? exited.signal}) before answering on port ${port}:\n${log}`
      : `redis-server did not answer PING on port ${port} within ${READY_MS} ms:\n${log}`,
  );
}

/** Signals the server and waits for its exit (SIGKILL after 5 s). */
async function halt(s, signal) {
  disarm(s);
  if (s.child.exitCode === null && s.child.signalCode === null) {
    s.child.kill(signal);
    const t = setTimeout(() => s.child.kill("SIGKILL"), 5000);
    await s.exit;
    clearTimeout(t);
  }
  live.delete(s);
  rmSync(s.dir, { recursive: true, force: true });
}

/**
 * Starts a redis-server on a free loopback port and waits until it answers PING.
 * `cluster: true`: a one-node Redis Cluster serving every slot (for cluster clients).
 * @param {{cluster?: boolean}} [options]
 * @returns {Promise<{url: string, port: number, stop(): Promise<void>, kill(): Promise<void>, start(): Promise<void>, log(): string}>}
 */
export async function startRedis({ cluster = false } = {}) {
  requireRedisServer();
  let port;
  let current = null;
  for (let attempt = 0; ; attempt++) {
    port = await freePort();
    try {
      current = await launch(port, cluster);
      break;
    } catch (e) {
      // Another process may have taken the port in between: try another, a few times.
      if (attempt >= 4 || !/Address already in use|exited/.test(e.message)) throw e;
    }
  }
  return {
    url: `redis://${HOST}:${port}`,
    port,
    /** The server's recent output (warnings and errors). */
    log: () => (current ? current.log() : ""),
    /** SIGTERM and wait; idempotent. Nothing is saved. */
    async stop() {
      if (current) await halt(current, "SIGTERM");
      current = null;
    },
    /** SIGKILL and wait, as a crash would. */
    async kill() {
      if (current) await halt(current, "SIGKILL");
      current = null;
    },
    /** Starts it again on the same port (a no-op if it is running). */
    async start() {
      if (!current) current = await launch(port, cluster);
    },
  };
}
