// Node entry (bundled to node/index.cjs, with the Node build's glue): the Node build's .wasm
// (node/vox_crm_bg.wasm: the same code as web/'s, compiled for speed rather than size) is read and
// instantiated synchronously on load, so everything works at once; `init()` is there
// for code written for every build, and resolves at once.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import * as glue from "vox-crm-glue";
import { loadedApi } from "../js/api.mjs";

glue.initSync({ module: readFileSync(join(__dirname, "vox_crm_bg.wasm")) });

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
// Undocumented: the wasm-bindgen exports themselves, for the package's own tests and benchmarks
// (they compare the glue's fast paths with wasm's own results).
export const __wasm = glue;
