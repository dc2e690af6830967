// Nothing of the sandbox, the command line or their dependencies reaches a bundle of the library:
// esbuild bundles `vox-crm` (the package under test, through its exports map) for the browser
// and for Node, and neither the inputs it read nor the output has any of their files or strings.

import assert from "node:assert/strict";
import { mkdirSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { build } from "esbuild";
import { PKG, requirePackage, tempDir } from "./lib.mjs";

requirePackage();

// Strings that only the sandbox (server.mjs, lib/), the command line (cli/), papaparse or cli-progress contain.
const MARKERS = [
  "Vox CRM sandbox listening on",
  "sandboxOutcome",
  "/__sandbox/",
  "runSandboxCli",
  "Stopping: no new requests",
  "vox-crm import",
  "duplicate_in_file",
  "Not sent: the import was interrupted",
  "UndetectableDelimiter",
  "delimitersToGuess",
  "etaBuffer",
  "barCompleteChar",
];

for (const platform of ["browser", "node"]) {
  test(`an esbuild ${platform} bundle of vox-crm has none of the sandbox's or the command line's code`, async (t) => {
    const dir = tempDir(t, `bundle-${platform}`);
    mkdirSync(join(dir, "node_modules"));
    symlinkSync(PKG, join(dir, "node_modules", "vox-crm"), "dir");
    const out = await build({
      stdin: { contents: 'import * as vox from "vox-crm"; globalThis.vox = vox;', resolveDir: dir, loader: "js" },
      bundle: true,
      format: "esm",
      platform,
      write: false,
      metafile: true,
      logLevel: "silent",
      loader: { ".wasm": "file" },
      outdir: join(dir, "out"),
    });
    const inputs = Object.keys(out.metafile.inputs);
    assert.ok(
      inputs.some((p) => /(^|\/)(web|node)\/(index|bundler)\.m?js$/.test(p)),
      `the library's entry is bundled: ${inputs.join(", ")}`,
    );
    for (const p of inputs) assert.doesNotMatch(p, /(^|\/)(cli|sandbox)\/|papaparse|cli-progress/, `${p} is not in a bundle of vox-crm`);
    const text = out.outputFiles
      .filter((f) => f.path.endsWith(".js"))
      .map((f) => f.text)
      .join("\n");
    assert.ok(text.length > 10000, "a real bundle");
    for (const m of MARKERS) assert.ok(!text.includes(m), `the ${platform} bundle has no "${m}"`);
  });
}
