// Owns `vox-crm sandbox`: the local Vox CRM sandbox that ships in the package (sandbox/server.mjs,
// the same one as `import { startSandbox } from "vox-crm/sandbox"`), run in the foreground with its
// own command line: a banner with its URL and credentials, Ctrl-C stops it cleanly (data saved).
import { runSandboxCli } from "../../sandbox/server.mjs";

export const HELP_LINE = "vox-crm sandbox [--port N] [--data FILE] [--admin] [...]   run the local sandbox CRM (vox-crm sandbox --help)";

export function run(argv) {
  // It exits by itself on a signal; until then it keeps the process alive.
  return runSandboxCli(argv, { command: "vox-crm sandbox" }).then(() => null);
}
