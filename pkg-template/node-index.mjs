// Node ESM entry: the same instance as the CommonJS entry, so `instanceof VoxError` holds
// across both module systems in one process. Loaded with `require`, not `import`: importing a
// CommonJS file makes Node scan its source for export names first (~9 ms for this one).
import { createRequire } from "node:module";

const api = createRequire(import.meta.url)("./index.cjs");

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
} = api;
export default api;
