// Node ESM entry: the same instance as the CommonJS entry, so `instanceof VoxError` holds
// across both module systems in one process.
import api from "./index.cjs";

export const { VoxClient, VoxError, validatePhone, validatePhones, normalizePhone, maskPhone, validateLead, parseWebhook, verifyWebhookAuth, __panicForTests } = api;
export default api;
