#!/usr/bin/env node
import { realpathSync } from "node:fs";
import { rm } from "node:fs/promises";
// The Vox CRM local sandbox: entry point and importable module (also the package's `vox-crm/sandbox`,
// and `vox-crm sandbox` runs its command line). Owns the listening HTTP server's life cycle (start,
// ready file, persistence load/flush, close), the in-process controls of a started sandbox (reset,
// stats, faults, settings, leads: the admin routes' state functions, called directly) and the
// command line (flags, banner, signals). The API itself lives in lib/: sandbox.mjs is the request
// pipeline, api.mjs the endpoints.
import { createServer } from "node:http";
import { fileURLToPath } from "node:url";
import { readSettings, runtimeConfig } from "./lib/admin.mjs";
import { ConfigError, optionsFromCli, resolveConfig, usage } from "./lib/config.mjs";
import { FaultRuleError } from "./lib/faults.mjs";
import { leadView } from "./lib/leads.mjs";
import { Persister, writeFileAtomic } from "./lib/persist.mjs";
import { createSandbox } from "./lib/sandbox.mjs";

export { predictOutcome } from "./lib/calls.mjs";
export { DEFAULT_PROJECT, DEFAULT_PROJECT_ID, DEFAULT_TOKEN, DEFAULTS, SALES_PROCESS_ID, SUPPORT_PROCESS_ID } from "./lib/config.mjs";

function urlHost(host) {
  if (host === "0.0.0.0" || host === "") return "127.0.0.1";
  if (host === "::") return "[::1]";
  return host.includes(":") ? `[${host}]` : host;
}

/**
 * Starts a sandbox. options: see README (port, host, data, config, readyFile, admin, rateLimit, dupWindowMs,
 * dupMax, blockMs, callDelayMs, callDurationMs, quiet, projects, faults, ...). From code the port defaults
 * to 0 (a free one); the command line's default is 4010.
 * Resolves to { url, baseUrl, origin, port, token, projectId, processes, env, config, reset(), stats(),
 * fault(...rules), faultRules(), clearFaults(), configure(settings), leads(), flush(), close(), state }.
 */
export function startSandbox(options = {}) {
  return start(options, { port: 0 });
}

/** startSandbox with the caller's defaults under the options (the command line keeps the config's). */
async function start(options, defaults) {
  const config = resolveConfig(options, defaults);
  let origin = null;
  let sandbox = null;
  const persister = new Persister(config.dataFile, () => sandbox.state.store.toJSON(), config.saveDebounceMs);
  sandbox = createSandbox(config, { origin: () => origin, markDirty: () => persister.markDirty() });
  const { state } = sandbox;

  const addFaults = (rules) => {
    try {
      return state.faults.add(rules);
    } catch (err) {
      throw err instanceof FaultRuleError ? new ConfigError(err.message) : err;
    }
  };
  if (options.faults !== undefined) {
    try {
      addFaults(options.faults);
    } catch (err) {
      sandbox.close();
      throw err;
    }
  }

  const saved = await persister.load();
  if (saved) {
    const pending = state.store.load(saved);
    state.calls.resume(pending, Date.now());
  }

  if (config.readyFile) await rm(config.readyFile, { force: true });

  const server = createServer((req, res) => {
    sandbox.handle(req, res);
  });
  await new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(config.port, config.host, () => {
      server.off("error", reject);
      resolve();
    });
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

  // The first project (the default one unless the config leaves it out) is the one a test uses.
  const project = config.projects[0];
  const token = project.tokens[0];
  return {
    url,
    baseUrl: url,
    origin,
    port,
    token,
    projectId: project._id,
    processes: project.processes.map((p) => ({ id: p._id, name: p.name, states: [...p.states] })),
    /** The variables the vox-crm command line (and the README's examples) read. */
    env: { VOX_BASE_URL: url, VOX_TOKEN: token, VOX_PROJECT_ID: project._id },
    config,
    /** POST /__sandbox/reset: clears leads, activities, windows, blocks, counters and faults. */
    reset: () => {
      state.reset();
    },
    /** GET /__sandbox/stats. */
    stats: () => state.statsSnapshot(),
    /** POST /__sandbox/faults: adds rules (each argument one rule, or an array of them); the added ones. */
    fault: (...rules) => addFaults(rules.flat()),
    /** GET /__sandbox/faults: the rules with what is left of them. */
    faultRules: () => state.faults.list(),
    /** DELETE /__sandbox/faults: how many rules were cleared. */
    clearFaults: () => {
      const cleared = state.faults.rules.length;
      state.faults.clear();
      return cleared;
    },
    /** POST /__sandbox/config: changes runtime settings; the settings now in force. */
    configure: (settings) => {
      state.configure(readSettings(settings));
      return runtimeConfig(config);
    },
    /** The leads of a project (default: the first), oldest first, as the API shows them. */
    leads: ({ projectId = project._id, masked = false } = {}) => (state.store.projects.get(projectId)?.leads ?? []).map((lead) => leadView(lead, masked)),
    close,
    state,
    flush: () => persister.flush(),
  };
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
  lines.push(
    `  shell     export ${Object.entries(sb.env)
      .map(([k, v]) => `${k}=${v}`)
      .join(" ")}`,
  );
  return lines.join("\n");
}

/**
 * The sandbox's command line: argv (without node and script) and env to a running sandbox with a
 * banner, stopped by SIGINT or SIGTERM. `command` names it in the usage text (`vox-crm sandbox`
 * runs it too). Exits 2 on a bad flag or setting.
 */
export async function runSandboxCli(argv = process.argv.slice(2), { env = process.env, command } = {}) {
  const USAGE = usage(command);
  let options;
  try {
    options = optionsFromCli(argv, env);
  } catch (err) {
    console.error(`${err.message}\n\n${USAGE}`);
    process.exit(2);
  }
  if (options.help) {
    console.log(USAGE);
    return;
  }

  let sb;
  try {
    sb = await start(options, {});
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

if (isMain()) runSandboxCli();
