// Entry for workerd (Cloudflare Workers) and other runtimes that import a .wasm file as a
// compiled WebAssembly.Module (bundled to edge/index.mjs; the import of the .wasm is left for
// the runtime's bundler, e.g. wrangler's CompiledWasm rule). It instantiates synchronously on
// load, so the phone functions work at once; `init()` resolves at once.
import wasmModule from "../web/vox_crm_bg.wasm";
import * as glue from "vox-crm-glue";
import { buildApi } from "../js/api.mjs";

glue.initSync({ module: wasmModule });

/** Nothing to wait for here: the module loaded with the package. */
export function init() {
  return Promise.resolve();
}

const api = buildApi(glue, { ready: init, isReady: () => true });
export const { VoxClient, VoxError, validatePhone, validatePhones, normalizePhone, maskPhone, validateLead, parseWebhook, verifyWebhookAuth, __panicForTests } = api;
