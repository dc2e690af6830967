// The repository explains itself: every Markdown link, and every reference to a document in a
// comment or a string, resolves to a file inside the repository (and a link's #anchor to a
// heading of that file); nothing names the working notes outside it (`../shared`).
//
//   node --test tests/repo/        (make check and make test run it; no build needed)

import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");

/** The repository's files: tracked, and new ones not ignored (what a commit would hold). */
function files() {
  const out = execFileSync("git", ["ls-files", "--cached", "--others", "--exclude-standard", "-z"], { cwd: ROOT, encoding: "utf8" });
  return [...new Set(out.split("\0").filter(Boolean))].filter((f) => existsSync(join(ROOT, f)) && statSync(join(ROOT, f)).isFile());
}

const TEXT = /\.(md|rs|mjs|cjs|js|ts|sh|toml|json|html|css|yml|yaml)$|(^|\/)(Makefile|run)$/;
// Generated or vendored text that is not ours to keep: libphonenumber's tables, lock files.
const SKIP = /(^|\/)(Cargo\.lock|package-lock\.json)$|^phone\/src\/tables|^tools\/phone-gen\/.*\.json$|^fuzz\/corpus\//;

/** GitHub's anchor of a heading. */
function slug(heading) {
  return heading
    .trim()
    .toLowerCase()
    .replace(/`/g, "")
    .replace(/[^\p{L}\p{N}\s_-]/gu, "")
    .replace(/\s/g, "-");
}

const anchorsCache = new Map();
function anchors(file) {
  if (!anchorsCache.has(file)) {
    const seen = new Map();
    const out = new Set();
    let fenced = false;
    for (const line of readFileSync(file, "utf8").split("\n")) {
      if (/^\s*```/.test(line)) fenced = !fenced;
      const m = !fenced && /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
      if (!m) continue;
      const base = slug(m[1]);
      const n = seen.get(base) ?? 0;
      seen.set(base, n + 1);
      out.add(n === 0 ? base : `${base}-${n}`);
    }
    anchorsCache.set(file, out);
  }
  return anchorsCache.get(file);
}

/** Markdown links and images outside code: [text](target), ![alt](target). */
function links(text) {
  const out = [];
  let fenced = false;
  text.split("\n").forEach((line, i) => {
    if (/^\s*```/.test(line)) {
      fenced = !fenced;
      return;
    }
    if (fenced) return;
    const bare = line.replace(/`[^`]*`/g, "");
    for (const m of bare.matchAll(/!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) out.push({ target: m[1], line: i + 1 });
  });
  return out;
}

test("every Markdown link resolves to a file (and heading) inside the repository", () => {
  const broken = [];
  let checked = 0;
  for (const f of files().filter((f) => f.endsWith(".md") && !SKIP.test(f))) {
    const path = join(ROOT, f);
    for (const { target, line } of links(readFileSync(path, "utf8"))) {
      if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // https:, mailto: — not a file of the repository
      checked++;
      const [file, anchor] = target.split("#");
      const to = file === "" ? path : resolve(dirname(path), decodeURIComponent(file));
      const inside = !relative(ROOT, to).startsWith("..");
      if (!inside || !existsSync(to)) broken.push(`${f}:${line}: ${target} (no such file in the repository)`);
      else if (anchor && to.endsWith(".md") && !anchors(to).has(anchor)) broken.push(`${f}:${line}: ${target} (no heading #${anchor})`);
    }
  }
  assert.ok(checked > 10, `links were checked (${checked})`);
  assert.deepEqual(broken, []);
});

test("every reference to a document (in code, comments and prose) names a file of the repository", () => {
  const broken = [];
  let checked = 0;
  for (const f of files().filter((f) => TEXT.test(f) && !SKIP.test(f))) {
    const text = readFileSync(join(ROOT, f), "utf8");
    text.split("\n").forEach((line, i) => {
      for (const m of line.matchAll(/(?<![\w./@-])((?:\.{1,2}\/|[\w-]+\/)*[\w.-]+\.md)\b/g)) {
        const ref = m[1];
        checked++;
        const fromFile = resolve(dirname(join(ROOT, f)), ref);
        const fromRoot = resolve(ROOT, ref);
        const ok = [fromFile, fromRoot].some((p) => !relative(ROOT, p).startsWith("..") && existsSync(p));
        if (!ok) broken.push(`${f}:${i + 1}: ${ref}`);
      }
    });
  }
  assert.ok(checked > 20, `references were checked (${checked})`);
  assert.deepEqual(broken, []);
});

test("nothing names the working notes outside the repository (../shared)", () => {
  const found = [];
  for (const f of files().filter((f) => TEXT.test(f) || f.endsWith(".md"))) {
    if (f === "tests/repo/docs.test.mjs") continue;
    readFileSync(join(ROOT, f), "utf8")
      .split("\n")
      .forEach((line, i) => {
        if (/\.\.\/shared\b|\/work\/shared\b/.test(line)) found.push(`${f}:${i + 1}`);
      });
  }
  assert.deepEqual(found, []);
});
