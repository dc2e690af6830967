// Assembles the npm package in dist/vox-crm from the two wasm-pack builds (.build/node and
// .build/web) and pkg-template/. Usage: node scripts/package.mjs [outDir]
import { build } from "esbuild";
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

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
for (const target of ["node", "web"]) {
  mkdirSync(join(out, target), { recursive: true });
  cpSync(need(join(root, ".build", target, "vox_crm_bg.wasm")), join(out, target, "vox_crm_bg.wasm"));
}

// Each build's JS is one minified file: the wasm-bindgen glue, its snippets (js/host.js) and the
// public surface (js/api.mjs), bundled from the entry.
// wasm-bindgen's nodejs glue is CommonJS and requires its snippets by a String.raw template,
// which a bundler cannot follow: read it as CommonJS, with plain string requires.
const nodeGlue = {
  name: "nodejs-glue",
  setup(b) {
    b.onLoad({ filter: /[\\/]\.build[\\/]node[\\/]vox_crm\.js$/ }, (args) => ({
      contents: readFileSync(args.path, "utf8").replace(/require\(String\.raw`([^`]+)`\)/g, (_, p) => `require(${JSON.stringify(p)})`),
      loader: "js",
      resolveDir: dirname(args.path),
    }));
  },
};
writeFileSync(join(root, ".build", "node", "package.json"), '{ "type": "commonjs" }\n');
// The glue lists one import object per `extern` block of a module; the repeats are harmless.
const common = { bundle: true, minify: !process.env.VOX_NO_MINIFY, logLevel: "warning", legalComments: "none", logOverride: { "duplicate-object-key": "silent" } };
await build({
  ...common,
  entryPoints: [join(tpl, "entry-node.mjs")],
  alias: { "vox-crm-glue": need(join(root, ".build", "node", "vox_crm.js")) },
  plugins: [nodeGlue],
  outfile: join(out, "node", "index.cjs"),
  format: "cjs",
  platform: "node",
  target: "node20",
});
await build({
  ...common,
  entryPoints: [join(tpl, "entry-web.mjs")],
  alias: { "vox-crm-glue": need(join(root, ".build", "web", "vox_crm.js")) },
  outfile: join(out, "web", "index.mjs"),
  format: "esm",
  platform: "browser",
  target: "es2022",
});
cpSync(join(tpl, "node-index.mjs"), join(out, "node", "index.mjs"));
// The nodejs glue is CommonJS while the package is "type": "module".
writeFileSync(join(out, "node", "package.json"), '{ "type": "commonjs" }\n');
for (const f of ["package.json", "README.md", "index.d.ts", "redis.mjs", "redis.d.ts"]) cpSync(need(join(tpl, f)), join(out, f));
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
// The package's version follows the crate's.
const version = /^version\s*=\s*"([^"]+)"/m.exec(readFileSync(join(root, "Cargo.toml"), "utf8"))[1];
const pkg = JSON.parse(readFileSync(join(out, "package.json"), "utf8"));
pkg.version = version;
writeFileSync(join(out, "package.json"), JSON.stringify(pkg, null, 2) + "\n");
console.log(`packaged vox-crm ${version} in ${relative(root, out)}`);
