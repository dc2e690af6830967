// Assembles the npm package in dist/vox-crm from the two wasm builds (scripts/package.sh) and
// pkg-template/. The web build's vox_crm_bg.wasm (in web/, beside the entry that fetches it) is
// shared by the entries web/ (ESM, loads it with init() or on first use), edge/ (ESM for workerd,
// imports it as a compiled module), node/bundler.mjs (for server bundlers, its bytes inline) and
// deno/ (imports it as a module, `import source`, so that Deno needs no --allow-read; reads it on
// Deno before 2.6). node/index.cjs (CommonJS; node/index.mjs re-exports it, one instance for import
// and require) loads the Node build's, node/vox_crm_bg.wasm, synchronously, with that build's glue.
// Usage: node scripts/package.mjs [outDir]

import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const out = join(root, process.argv[2] || "dist/vox-crm");
const tpl = join(root, "pkg-template");

function need(path) {
  if (!existsSync(path)) {
    console.error(`missing ${relative(root, path)}: run the wasm-pack builds first (make package)`);
    process.exit(1);
  }
  return path;
}

rmSync(out, { recursive: true, force: true });
mkdirSync(join(out, "web"), { recursive: true });
mkdirSync(join(out, "node"), { recursive: true });
cpSync(need(join(root, ".build", "web", "vox_crm_bg.wasm")), join(out, "web", "vox_crm_bg.wasm"));
cpSync(need(join(root, ".build", "node", "vox_crm_bg.wasm")), join(out, "node", "vox_crm_bg.wasm"));

// Each entry's JS is one minified file: the wasm-bindgen glue, js/host.js and the public surface
// (js/api.mjs). The glue imports host.js from the copy wasm-pack made under snippets/; it is
// resolved to js/host.js itself, so that the bundle holds one module (one VoxError class).
const oneHost = {
  name: "one-host",
  setup(b) {
    b.onResolve({ filter: /[\\/]snippets[\\/].*[\\/]js[\\/]host\.js$/ }, () => ({ path: join(root, "js", "host.js") }));
  },
};
const glue = need(join(root, ".build", "web", "vox_crm.js"));
const nodeGlue = need(join(root, ".build", "node", "vox_crm.js"));
// entry-sync.mjs imports "../web/vox_crm_bg.wasm" as the package lays it out: left as it is for
// the runtime (edge/), or the file's bytes inlined (node/bundler.mjs).
const theWasm = (inline) => ({
  name: "the-wasm",
  setup(b) {
    b.onResolve({ filter: /^\.\.\/web\/vox_crm_bg\.wasm$/ }, (args) =>
      inline ? { path: join(out, "web", "vox_crm_bg.wasm") } : { path: args.path, external: true },
    );
  },
});
// The glue lists one import object per `extern` block of a module; the repeats are harmless.
// Its default path for the .wasm uses import.meta.url, which the CommonJS build never takes
// (the entry passes the module).
const common = {
  bundle: true,
  minify: !process.env.VOX_NO_MINIFY,
  logLevel: "warning",
  legalComments: "none",
  logOverride: { "duplicate-object-key": "silent", "empty-import-meta": "silent" },
  alias: { "vox-crm-glue": glue },
  plugins: [oneHost],
};
await build({
  ...common,
  alias: { "vox-crm-glue": nodeGlue },
  entryPoints: [join(tpl, "entry-node.mjs")],
  outfile: join(out, "node", "index.cjs"),
  format: "cjs",
  platform: "node",
  target: "node20",
  // Node's own, not the global ones: a jsdom test environment (Jest) has none.
  banner: { js: 'const { TextDecoder, TextEncoder } = require("node:util");' },
});
await build({
  ...common,
  entryPoints: [join(tpl, "entry-web.mjs")],
  outfile: join(out, "web", "index.mjs"),
  format: "esm",
  platform: "browser",
  target: "es2022",
});
// The sync entries pass the module to initSync, so the glue's default path for the .wasm (`new
// URL("vox_crm_bg.wasm", import.meta.url)`, kept with the glue's namespace) is dead code there;
// left as it is, a bundler that follows new URL(…, import.meta.url) (Turbopack, webpack) looks
// for a .wasm beside node/bundler.mjs and fails the build. No other use of import.meta.url.
const noDefaultWasmPath = { define: { "import.meta.url": "undefined" } };
// edge/: the runtime's bundler imports the .wasm as a compiled module.
await build({
  ...common,
  ...noDefaultWasmPath,
  entryPoints: [join(tpl, "entry-sync.mjs")],
  outfile: join(out, "edge", "index.mjs"),
  format: "esm",
  platform: "browser",
  target: "es2022",
  plugins: [oneHost, theWasm(false)],
});
// node/bundler.mjs: for bundlers building for a server, the .wasm's bytes inline (base64).
await build({
  ...common,
  ...noDefaultWasmPath,
  entryPoints: [join(tpl, "entry-sync.mjs")],
  outfile: join(out, "node", "bundler.mjs"),
  format: "esm",
  platform: "node",
  target: "node20",
  loader: { ".wasm": "binary" },
  plugins: [oneHost, theWasm(true)],
  banner: { js: 'import { TextDecoder, TextEncoder } from "node:util";' },
});
// deno/: the Deno entry (top-level await, which only Deno sees), and beside it, as it is, the
// module that imports the .wasm with `import source`, which the entry imports dynamically.
await build({
  ...common,
  entryPoints: [join(tpl, "entry-deno.mjs")],
  outfile: join(out, "deno", "index.mjs"),
  format: "esm",
  platform: "neutral",
  target: "es2022",
  external: ["./wasm.mjs"],
});
cpSync(join(tpl, "deno-wasm.mjs"), join(out, "deno", "wasm.mjs"));
cpSync(join(tpl, "node-index.mjs"), join(out, "node", "index.mjs"));
for (const f of ["package.json", "README.md", "index.d.ts", "redis.mjs", "redis.d.ts"]) cpSync(need(join(tpl, f)), join(out, f));
// The types again for `require` (TypeScript's node16/nodenext read a .d.cts as CommonJS).
writeFileSync(join(out, "index.d.cts"), readFileSync(join(tpl, "index.d.ts"), "utf8").replaceAll('"./redis.js"', '"./redis.cjs"'));
cpSync(join(tpl, "redis.d.ts"), join(out, "redis.d.cts"));
// vox-crm/redis: the Redis store, Node only (no wasm; kept out of the web build, which never
// imports it). The ESM file as written, and a CommonJS copy for require.
await build({
  ...common,
  minify: false,
  entryPoints: [join(tpl, "redis.mjs")],
  outfile: join(out, "redis.cjs"),
  format: "cjs",
  platform: "node",
  target: "node20",
});
// vox-crm/proxy: the backend route for browser pages, server only (the main entry never imports
// it). It imports the package by its own name, so that each runtime's condition picks the entry;
// the ESM file as written, and a CommonJS copy for require.
cpSync(join(tpl, "proxy.mjs"), join(out, "proxy.mjs"));
cpSync(join(tpl, "proxy.d.ts"), join(out, "proxy.d.ts"));
cpSync(join(tpl, "proxy.d.ts"), join(out, "proxy.d.cts"));
await build({
  ...common,
  minify: false,
  entryPoints: [join(tpl, "proxy.mjs")],
  outfile: join(out, "proxy.cjs"),
  format: "cjs",
  platform: "node",
  target: "node20",
  external: ["vox-crm"],
});
// vox-crm/sandbox (the local sandbox CRM: sandbox/server.mjs and its lib/, as written, the one
// implementation) and the command line (cli/, the bin; it imports ../node/index.mjs and
// ../sandbox/server.mjs). Node only; no entry of the library imports them.
cpSync(join(root, "sandbox", "server.mjs"), join(out, "sandbox", "server.mjs"));
cpSync(join(root, "sandbox", "lib"), join(out, "sandbox", "lib"), { recursive: true });
cpSync(join(tpl, "sandbox.d.ts"), join(out, "sandbox.d.ts"));
cpSync(join(root, "cli"), join(out, "cli"), { recursive: true });
// The package's version follows the crate's.
const version = /^version\s*=\s*"([^"]+)"/m.exec(readFileSync(join(root, "Cargo.toml"), "utf8"))[1];
const pkg = JSON.parse(readFileSync(join(out, "package.json"), "utf8"));
pkg.version = version;
writeFileSync(join(out, "package.json"), JSON.stringify(pkg, null, 2) + "\n");
console.log(`packaged vox-crm ${version} in ${relative(root, out)}`);
