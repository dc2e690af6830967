// Browser and bundler entry (bundled to web/index.mjs): fetches and instantiates the .wasm
// that sits beside this file, once, before the exports are used.
import init, * as wasm from "vox-crm-glue";
import { buildApi } from "../js/api.mjs";

await init({ module_or_path: new URL("./vox_crm_bg.wasm", import.meta.url) });
const api = buildApi(wasm);
export const { VoxClient, VoxError, validatePhone, validatePhones, normalizePhone, maskPhone, validateLead, parseWebhook, verifyWebhookAuth, __panicForTests } = api;
