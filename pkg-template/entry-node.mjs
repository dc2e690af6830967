// Node entry (bundled to node/index.cjs): the wasm-bindgen nodejs build loads synchronously.
import * as wasm from "./vox_crm.js";
import { buildApi } from "../js/api.mjs";

const api = buildApi(wasm);
export const { VoxClient, VoxError, validatePhone, validatePhones, normalizePhone, maskPhone, validateLead, parseWebhook, verifyWebhookAuth, __panicForTests } = api;
