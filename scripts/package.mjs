// Assembles the npm package in dist/vox-crm from the two wasm-pack builds (.build/node and
// .build/web) and pkg-template/. Usage: node scripts/package.mjs [outDir]
import { build, transform } from "esbuild";
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
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

function walk(dir) {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? walk(p) : [p];
  });
}

rmSync(out, { recursive: true, force: true });
for (const target of ["node", "web"]) {
  const from = need(join(root, ".build", target));
  const to = join(out, target);
  mkdirSync(to, { recursive: true });
  for (const f of ["vox_crm.js", "vox_crm_bg.wasm", "vox_crm.d.ts", "vox_crm_bg.wasm.d.ts"]) {
    if (existsSync(join(from, f))) cpSync(join(from, f), join(to, f));
  }
  if (existsSync(join(from, "snippets"))) cpSync(join(from, "snippets"), join(to, "snippets"), { recursive: true });
}

// The nodejs glue require()s its JS snippets: make them CommonJS so any Node 20 loads them.
for (const file of walk(join(out, "node", "snippets"))) {
  const { code } = await transform(readFileSync(file, "utf8"), { format: "cjs", target: "node20" });
  writeFileSync(file, code);
}

const common = { bundle: true, logLevel: "warning", external: ["./vox_crm.js"], legalComments: "none" };
await build({
  ...common,
  entryPoints: [join(tpl, "entry-node.mjs")],
  outfile: join(out, "node", "index.cjs"),
  format: "cjs",
  platform: "node",
  target: "node20",
});
await build({
  ...common,
  entryPoints: [join(tpl, "entry-web.mjs")],
  outfile: join(out, "web", "index.mjs"),
  format: "esm",
  platform: "browser",
  target: "es2022",
});
cpSync(join(tpl, "node-index.mjs"), join(out, "node", "index.mjs"));
// The nodejs glue is CommonJS while the package is "type": "module".
writeFileSync(join(out, "node", "package.json"), '{ "type": "commonjs" }\n');
for (const f of ["package.json", "README.md", "index.d.ts"]) cpSync(need(join(tpl, f)), join(out, f));
// The package's version follows the crate's.
const version = /^version\s*=\s*"([^"]+)"/m.exec(readFileSync(join(root, "Cargo.toml"), "utf8"))[1];
const pkg = JSON.parse(readFileSync(join(out, "package.json"), "utf8"));
pkg.version = version;
writeFileSync(join(out, "package.json"), JSON.stringify(pkg, null, 2) + "\n");
console.log(`packaged vox-crm ${version} in ${relative(root, out)}`);
