#!/usr/bin/env node
// The vox-crm command line (`npx vox-crm …`, the package's bin): picks the command, runs it, and
// turns its outcome into the exit code — 0 done, 1 failed (some row failed, not found, the API
// failed), 2 usage or settings error, 130 interrupted. A UsageError or CommandError prints one
// message and no stack trace (VOX_DEBUG=1 shows it). Commands are loaded on demand, so --help and
// `validate` do not pay for the others.
import { readFileSync } from "node:fs";
import { CommandError, EXIT, UsageError } from "./args.mjs";

const COMMANDS = {
  import: () => import("./commands/import.mjs").then((m) => [m.run, m.HELP]),
  validate: () => import("./commands/validate.mjs").then((m) => [m.run, m.HELP]),
  get: () => import("./commands/lookup.mjs").then((m) => [m.get, m.GET_HELP]),
  query: () => import("./commands/lookup.mjs").then((m) => [m.query, m.QUERY_HELP]),
  activity: () => import("./commands/lookup.mjs").then((m) => [m.activity, m.ACTIVITY_HELP]),
  sandbox: () => import("./commands/sandbox.mjs").then((m) => [m.run, null]),
};

const HELP = `Usage: vox-crm <command> [options]      (vox-crm <command> --help for each)

Commands:
  import FILE --process ID   create a lead for every row of a CSV or JSON Lines file, with a
                             results file, --dry-run, --resume and a progress bar
  validate FILE              the phone report of a file: valid, invalid by reason, per region
  get LEAD_ID                one lead with its activities
  query [--state S ...]      leads by filter (--json: JSON Lines)
  activity ACTIVITY_ID       one activity (a call, its outcome and transcript)
  sandbox [--port N ...]     run the local sandbox CRM (prints its URL and credentials)
  help [COMMAND]             this text, or a command's

Credentials come from VOX_TOKEN and VOX_PROJECT_ID (or --token, --project-id) and are never
printed; the API's address from VOX_BASE_URL or --base-url (default https://crm.uservox.ai/api/v1),
e.g. a sandbox's: http://127.0.0.1:4010/api/v1.

Exit codes: 0 done (every row created), 1 failed (some row failed or is unknown, not found, the
API failed), 2 usage or settings error (nothing was sent), 130 interrupted (Ctrl-C).`;

function version() {
  try {
    return JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")).version;
  } catch {
    return "unknown";
  }
}

/** Exits once stdout and stderr have been written out (a pipe may still hold them). */
function exit(code) {
  let left = 2;
  const done = () => {
    if (--left === 0) process.exit(code);
  };
  process.stdout.write("", done);
  process.stderr.write("", done);
}

async function main(argv) {
  const [name, ...rest] = argv;
  if (name === undefined || name === "--help" || name === "-h") {
    process.stdout.write(HELP + "\n");
    return name === undefined ? EXIT.usage : EXIT.ok;
  }
  if (name === "--version" || name === "-v") {
    process.stdout.write(`vox-crm ${version()}\n`);
    return EXIT.ok;
  }
  if (name === "help") {
    if (rest[0] === undefined) {
      process.stdout.write(HELP + "\n");
      return EXIT.ok;
    }
    return main([rest[0], "--help"]);
  }
  const load = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : null;
  if (!load) throw new UsageError(`unknown command "${name}" (commands: ${Object.keys(COMMANDS).join(", ")}, help)`);
  const [run] = await load();
  return run(rest);
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code !== null) exit(code);
  },
  (err) => {
    if (process.env.VOX_DEBUG) console.error(err);
    if (err instanceof UsageError) {
      process.stderr.write(
        `vox-crm: ${err.message}\n${err.command ? `(vox-crm ${err.command} --help for the options)\n` : "(vox-crm --help for the commands)\n"}`,
      );
      exit(EXIT.usage);
    } else if (err instanceof CommandError) {
      process.stderr.write(`vox-crm: ${err.message}\n`);
      exit(err.exitCode);
    } else {
      process.stderr.write(`vox-crm: unexpected error: ${err?.message ?? err}${process.env.VOX_DEBUG ? "" : " (VOX_DEBUG=1 shows where)"}\n`);
      exit(EXIT.failed);
    }
  },
);
