// Deno entry (bundled to deno/index.mjs; Deno takes it for `import`, while its `require` takes the
// "node" condition). Deno 2.6+ imports the .wasm as a module (deno/wasm.mjs, a source phase
// import), which needs no permission, where the Node build reads the file with fs and so needs
// --allow-read. Older Deno does not know that syntax: the import fails and the file is read
// (--allow-read, as before). The module is instantiated once loaded, so the phone functions work
// at once; `init()` resolves at once.
import * as glue from "vox-crm-glue";
import { loadedApi } from "../js/api.mjs";

let wasmModule;
try {
  ({ default: wasmModule } = await import("./wasm.mjs"));
} catch {
  wasmModule = Deno.readFileSync(new URL("../web/vox_crm_bg.wasm", import.meta.url));
}
glue.initSync({ module: wasmModule });

export const {
  init,
  VoxClient,
  VoxError,
  validatePhone,
  validatePhones,
  normalizePhone,
  maskPhone,
  validateLead,
  parseWebhook,
  verifyWebhookAuth,
  __panicForTests,
} = loadedApi(glue);
