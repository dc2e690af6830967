// Node entry (bundled to node/index.cjs): the wasm-bindgen nodejs build loads synchronously.
import * as wasm from "vox-crm-glue";
import { buildApi } from "../js/api.mjs";

const api = buildApi(wasm);
export const { VoxClient, VoxError, validatePhone, validatePhones, normalizePhone, maskPhone, validateLead, parseWebhook, verifyWebhookAuth, __panicForTests } = api;
// Undocumented: the wasm-bindgen exports themselves, for the package's own tests and benchmarks
// (they compare the glue's fast paths with wasm's own results).
export const __wasm = wasm;
