// `make demo`: starts the sandbox CRM, runs the walkthrough of every endpoint against it,
// then keeps the sandbox (and the example page, when it exists) running until Ctrl-C.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { startSandbox } from "../sandbox/server.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const port = Number(process.env.VOX_SANDBOX_PORT || 4010);
const sandbox = await startSandbox({ port, quiet: true, callDelayMs: 1500, callDurationMs: 2500 });
console.log(`Sandbox CRM at ${sandbox.url} (token sk_test_vox_sandbox)`);

const code = await new Promise((resolve) => {
  // The walkthrough runs against the sandbox with the sandbox's own credentials, never with a
  // real token that may be in the environment.
  const env = { ...process.env, VOX_TOKEN: "sk_test_vox_sandbox", VOX_PROJECT_ID: "", VOX_PROCESS_ID: "" };
  const child = spawn(process.execPath, [join(root, "www-example", "walkthrough.mjs"), sandbox.url], { stdio: "inherit", env });
  child.on("exit", resolve);
});
if (code !== 0) {
  await sandbox.close();
  process.exit(code ?? 1);
}

let page = null;
const serve = join(root, "www-example", "serve.mjs");
if (existsSync(serve)) {
  const { startExampleServer } = await import(serve);
  page = await startExampleServer({ port: Number(process.env.VOX_EXAMPLE_PORT || 8080), crmBaseUrl: sandbox.url });
  console.log(`\nExample page: ${page.url}`);
}
console.log(`\nThe sandbox keeps running for you to explore, e.g.:
  curl -s -H 'Authorization: Bearer sk_test_vox_sandbox' '${sandbox.url}/leads/query?limit=2'
Press Ctrl-C to stop.`);

const stop = async () => {
  await page?.close();
  await sandbox.close();
  process.exit(0);
};
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
