// Deno 2.6+: the package's .wasm as a compiled WebAssembly.Module, imported as a module (a source
// phase import: no --allow-read). Copied as it is to deno/wasm.mjs; deno/index.mjs imports it, and
// reads the file where this fails (older Deno cannot parse it).
import source wasmModule from "../web/vox_crm_bg.wasm";
export default wasmModule;
