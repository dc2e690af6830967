// Browser and bundler entry (bundled to web/index.mjs). Nothing happens on import: the .wasm
// beside it (web/vox_crm_bg.wasm, the .wasm of every build but Node's) is fetched and instantiated by `init()` — explicit, or
// on the first call of a VoxClient method — so that importing never fails or blocks (no
// top-level await) and a failed fetch is an error the caller can catch and retry.
import load, * as glue from "vox-crm-glue";
import { buildApi } from "../js/api.mjs";
import { thrownText } from "../js/host.js";

let loaded = false;
let loading = null;

/**
 * Loads the module once: from `input` (a URL, a Response, bytes or a compiled
 * WebAssembly.Module) or from the .wasm beside the package. Idempotent; a failure may be retried.
 */
export function init(input) {
  if (loading === null) {
    const source = input ?? new URL("./vox_crm_bg.wasm", import.meta.url);
    const p = load({ module_or_path: source }).then(
      () => {
        loaded = true;
        // The shape React's `use()` reads: once loaded, a component does not suspend again.
        Object.assign(p, { status: "fulfilled", value: undefined });
      },
      (err) => {
        // A VoxError like every other failure; from the default address, with what a bundler
        // that emits no .wasm (Rollup, esbuild) needs.
        const fromDefault = input === undefined || input === null;
        throw new VoxError(
          "not_initialized",
          `vox-crm's WebAssembly module could not be loaded${fromDefault ? ` from ${source.href}` : ""}: ${thrownText(err)}` +
            (fromDefault
              ? ". If your bundler does not copy it (Rollup, esbuild), copy node_modules/vox-crm/web/vox_crm_bg.wasm beside your bundle, or pass its URL to init(url)"
              : ""),
        );
      },
    );
    loading = p;
    loading.catch(() => {
      loading = null;
    });
  }
  return loading;
}

const api = buildApi(glue, { ready: init, isReady: () => loaded });
export const { VoxClient, VoxError, validatePhone, validatePhones, normalizePhone, maskPhone, validateLead, parseWebhook, verifyWebhookAuth, __panicForTests } =
  api;
