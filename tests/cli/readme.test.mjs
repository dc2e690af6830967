// The package README's examples of "Testing your code against the sandbox", run as they are
// written: the package under test packed (npm pack), installed with Vitest (pinned) into a
// throwaway project under tests/packaging/.work/, the node:test example run with `node --test`
// and the Vitest one with `vitest run`, both against `vox-crm/sandbox`; the packed files (the bin,
// the sandbox, its types) and the sandbox's types checked with tsc under nodenext.

import assert from "node:assert/strict";
import { mkdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { npm, packDist, run, workDir, writeFiles } from "../packaging/lib.mjs";
import { PKG, ROOT, requirePackage } from "./lib.mjs";

requirePackage();

// Vitest 4 is the newest line that runs on Node 20 (5 wants Node 22).
const VITEST = "4.1.12";

/** The ```js blocks of a README section whose first line names a file: [{ name, code }]. */
export function examples(readme, heading) {
  const start = readme.indexOf(`\n## ${heading}\n`);
  assert.ok(start >= 0, `the README has the section "${heading}"`);
  const end = readme.indexOf("\n## ", start + 4);
  const section = readme.slice(start, end < 0 ? undefined : end);
  const out = [];
  for (const m of section.matchAll(/```js\n(\/\/ ([\w.-]+\.m?js)\n[\s\S]*?)```/g)) out.push({ name: m[2], code: m[1] });
  return out;
}

test("the README's node:test and Vitest examples pass against vox-crm/sandbox, from the packed .tgz", { timeout: 240000 }, async (t) => {
  const work = workDir("cli-readme");
  mkdirSync(work, { recursive: true });
  if (!process.env.VOX_KEEP_WORK) t.after(() => rmSync(work, { recursive: true, force: true }));
  const { info, tgz } = await packDist(work, PKG);
  const files = new Set(info.files.map((f) => f.path));
  for (const f of ["cli/main.mjs", "cli/commands/import.mjs", "sandbox/server.mjs", "sandbox/lib/sandbox.mjs", "sandbox.d.ts", "README.md"])
    assert.ok(files.has(f), `the .tgz has ${f}`);
  assert.ok(![...files].some((f) => f.startsWith("sandbox/test") || f === "sandbox/testing.mjs"), "not the sandbox's own tests");

  const readme = readFileSync(join(PKG, "README.md"), "utf8");
  const blocks = examples(readme, "Testing your code against the sandbox");
  assert.deepEqual(
    blocks.map((b) => b.name),
    ["enrol.test.mjs", "calls.test.mjs"],
  );
  const project = join(work, "app");
  writeFiles(project, {
    "package.json": { name: "readme-examples", private: true, type: "module", devDependencies: { vitest: VITEST, "vox-crm": `file:${tgz}` } },
    ...Object.fromEntries(blocks.map((b) => [b.name, b.code])),
    // The types of vox-crm/sandbox, as a TypeScript user reads them.
    "types.ts": [
      'import { startSandbox, type Sandbox, type SandboxFaultRule, type SandboxStats } from "vox-crm/sandbox";',
      'import { VoxClient } from "vox-crm";',
      'const rule: SandboxFaultRule = { kind: "status", status: 503, path: "/leads/bulk/initiate" };',
      "export async function check(): Promise<number> {",
      '  const sb: Sandbox = await startSandbox({ callDelayMs: 20, rateLimit: "100/5000", faults: [rule] });',
      "  const vox = new VoxClient({ baseUrl: sb.baseUrl, token: sb.token, projectId: sb.projectId });",
      "  const stats: SandboxStats = sb.stats();",
      "  sb.fault(rule, [rule]);",
      "  const cleared: number = sb.clearFaults();",
      "  const ids: string[] = sb.processes.map((p) => p.id).concat(sb.leads().map((l) => l._id));",
      "  await vox.queryLeads({ limit: 1 });",
      "  await sb.close();",
      "  return stats.maxRequestsInWindow + cleared + ids.length + sb.port;",
      "}",
      "",
    ].join("\n"),
    "tsconfig.json": {
      compilerOptions: { strict: true, noEmit: true, module: "nodenext", moduleResolution: "nodenext", target: "es2022", types: [], skipLibCheck: false },
      files: ["types.ts"],
    },
  });
  await npm(["install"], project);

  const env = { ...process.env, CI: "1", NO_COLOR: "1" };
  for (const k of Object.keys(env)) if (k.startsWith("VOX_")) delete env[k];
  delete env.NODE_TEST_CONTEXT; // set by the runner of this file: the inner node --test would report to it
  const nodeTest = await run(process.execPath, ["--test", "enrol.test.mjs"], { cwd: project, env, timeout: 60000 }).catch((err) => err);
  assert.equal(nodeTest.code ?? 0, 0, `node --test enrol.test.mjs:\n${nodeTest.stdout}${nodeTest.stderr}`);
  assert.match(nodeTest.stdout, /^# pass 3$/m);
  assert.match(nodeTest.stdout, /^# fail 0$/m);

  const vitest = await run(join(project, "node_modules", ".bin", "vitest"), ["run", "calls.test.mjs"], { cwd: project, env, timeout: 120000 }).catch(
    (err) => err,
  );
  const vitestOut = `${vitest.stdout}${vitest.stderr}`;
  assert.equal(vitest.code ?? 0, 0, `vitest run calls.test.mjs:\n${vitestOut}`);
  assert.match(vitestOut, /Tests\s+2 passed \(2\)/);

  const tsc = await run(process.execPath, [join(ROOT, "node_modules", "typescript", "bin", "tsc"), "-p", "tsconfig.json"], {
    cwd: project,
    timeout: 60000,
  }).catch((err) => err);
  assert.equal(tsc.code ?? 0, 0, `tsc (nodenext, strict) on vox-crm/sandbox's types:\n${tsc.stdout}${tsc.stderr}`);

  // The bin is linked, and finds its dependencies where npm put them.
  const version = await run(join(project, "node_modules", ".bin", "vox-crm"), ["--version"], { cwd: project });
  assert.match(version.stdout, /^vox-crm \d+\.\d+\.\d+/);
  const du = await run("du", [
    "-sk",
    ...["papaparse", "cli-progress", "string-width", "strip-ansi", "ansi-regex", "emoji-regex", "is-fullwidth-code-point"].map((p) =>
      join(project, "node_modules", p),
    ),
  ]).catch(() => null);
  if (du)
    t.diagnostic(
      `the command line's dependencies installed: ${du.stdout
        .trim()
        .split("\n")
        .reduce((a, l) => a + Number(l.split("\t")[0]), 0)} KiB`,
    );
});
