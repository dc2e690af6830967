// The entry that instantiates the .wasm synchronously from an import of it, built twice:
// - edge/index.mjs (the `workerd` condition): the import is left to the runtime's bundler, which
//   gives a compiled WebAssembly.Module (wrangler's CompiledWasm rule);
// - node/bundler.mjs (the `module` condition under `node`: a bundler building for a server, e.g.
//   Next.js): the bytes are inlined, so the bundle reads no file at run time wherever it is moved.
// Everything works on load; `init()` resolves at once.
import wasm from "../web/vox_crm_bg.wasm";
import * as glue from "vox-crm-glue";
import { buildApi } from "../js/api.mjs";

glue.initSync({ module: wasm });

// Already fulfilled, in the shape React's `use()` reads without suspending.
const ready = Object.assign(Promise.resolve(), { status: "fulfilled", value: undefined });

/** Nothing to wait for here: the module loaded with the package. */
export function init() {
  return ready;
}

const api = buildApi(glue, { ready: init, isReady: () => true });
export const { VoxClient, VoxError, validatePhone, validatePhones, normalizePhone, maskPhone, validateLead, parseWebhook, verifyWebhookAuth, __panicForTests } = api;
