#!/usr/bin/env node
// The Vox CRM local sandbox: entry point and importable module. Owns the listening HTTP server's life
// cycle (start, ready file, persistence load/flush, close) and the command line (flags, banner, signals).
// The API itself lives in lib/: sandbox.mjs is the request pipeline, api.mjs the endpoints.
import { createServer } from "node:http";
import { realpathSync } from "node:fs";
import { rm } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { resolveConfig, optionsFromCli, ConfigError, USAGE } from "./lib/config.mjs";
import { createSandbox } from "./lib/sandbox.mjs";
import { Persister, writeFileAtomic } from "./lib/persist.mjs";

export {
  DEFAULT_TOKEN, DEFAULT_PROJECT_ID, SALES_PROCESS_ID, SUPPORT_PROCESS_ID, DEFAULT_PROJECT, DEFAULTS,
} from "./lib/config.mjs";
export { predictOutcome } from "./lib/calls.mjs";

function urlHost(host) {
  if (host === "0.0.0.0" || host === "" ) return "127.0.0.1";
  if (host === "::") return "[::1]";
  return host.includes(":") ? `[${host}]` : host;
}

/**
 * Starts a sandbox. options: see README (port, host, data, config, readyFile, admin, rateLimit, dupWindowMs,
 * dupMax, blockMs, callDelayMs, callDurationMs, quiet, projects, ...).
 * Resolves to { url, origin, port, config, close(), state }.
 */
export async function startSandbox(options = {}) {
  const config = resolveConfig(options);
  let origin = null;
  let sandbox = null;
  const persister = new Persister(config.dataFile, () => sandbox.state.store.toJSON(), config.saveDebounceMs);
  sandbox = createSandbox(config, { origin: () => origin, markDirty: () => persister.markDirty() });

  const saved = await persister.load();
  if (saved) {
    const pending = sandbox.state.store.load(saved);
    sandbox.state.calls.resume(pending, Date.now());
  }

  if (config.readyFile) await rm(config.readyFile, { force: true });

  const server = createServer((req, res) => { sandbox.handle(req, res); });
  await new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(config.port, config.host, () => { server.off("error", reject); resolve(); });
  });
  server.on("error", (err) => console.error("sandbox: server error:", err));

  const port = server.address().port;
  origin = (config.publicOrigin ?? `http://${urlHost(config.host)}:${port}`).replace(/\/+$/, "");
  const url = `${origin}/api/v1`;
  if (config.readyFile) await writeFileAtomic(config.readyFile, url + "\n");

  let closing = null;
  function close() {
    closing ??= (async () => {
      sandbox.close();
      const stopped = new Promise((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await stopped;
      await persister.flush();
      if (config.readyFile) await rm(config.readyFile, { force: true });
    })();
    return closing;
  }

  return { url, origin, port, config, close, state: sandbox.state, flush: () => persister.flush() };
}

function banner(sb) {
  const { config } = sb;
  const lines = [`Vox CRM sandbox listening on ${sb.url}`];
  for (const project of config.projects) {
    lines.push(`  project   ${project._id}  ${project.name}`);
    lines.push(`  token     ${project.tokens.join(", ")}`);
    for (const p of project.processes) lines.push(`  process   ${p._id}  ${p.name}: ${p.states.join(", ")}`);
  }
  const rl = config.rateLimit ? `${config.rateLimit.requests} requests per ${config.rateLimit.perMs} ms per project` : "off";
  lines.push(`  rate      ${rl}`);
  lines.push(`  dup block more than ${config.dupMax} duplicates in ${config.dupWindowMs} ms blocks the token for ${config.blockMs} ms`);
  lines.push(`  calls     start ${config.callDelayMs} ms after init, last ${config.callDurationMs} ms`);
  lines.push(`  data      ${config.dataFile ?? "in memory only"}`);
  lines.push(`  admin     ${config.admin ? `on: ${sb.origin}/__sandbox/{reset,stats,config,faults}` : "off (start with --admin for /__sandbox/*)"}`);
  return lines.join("\n");
}

async function main() {
  let options;
  try {
    options = optionsFromCli(process.argv.slice(2), process.env);
  } catch (err) {
    console.error(`${err.message}\n\n${USAGE}`);
    process.exit(2);
  }
  if (options.help) { console.log(USAGE); return; }

  let sb;
  try {
    sb = await startSandbox(options);
  } catch (err) {
    console.error(`sandbox: cannot start: ${err.message}`);
    process.exit(err instanceof ConfigError ? 2 : 1);
  }
  if (!sb.config.quiet) console.log(banner(sb));

  let stopping = false;
  const stop = async (signal) => {
    if (stopping) process.exit(1); // a second signal: give up at once
    stopping = true;
    try {
      await sb.close();
      if (!sb.config.quiet) console.log(`sandbox stopped (${signal})`);
      process.exit(0);
    } catch (err) {
      console.error(`sandbox: error while stopping: ${err.message}`);
      process.exit(1);
    }
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
}

function isMain() {
  if (!process.argv[1]) return false;
  try {
    return realpathSync(fileURLToPath(import.meta.url)) === realpathSync(process.argv[1]);
  } catch {
    return false;
  }
}

if (isMain()) main();
