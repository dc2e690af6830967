// The entry that instantiates the .wasm synchronously from an import of it, built twice:
// - edge/index.mjs (the `workerd` condition): the import is left to the runtime's bundler, which
//   gives a compiled WebAssembly.Module (wrangler's CompiledWasm rule);
// - node/bundler.mjs (the `module` condition under `node`: a bundler building for a server, e.g.
//   Next.js): the bytes are inlined, so the bundle reads no file at run time wherever it is moved.
// Everything works on load; `init()` resolves at once.

import * as glue from "vox-crm-glue";
import { loadedApi } from "../js/api.mjs";
import wasm from "../web/vox_crm_bg.wasm";

glue.initSync({ module: wasm });

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
