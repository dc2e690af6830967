// Regenerates pkg-template/cli-import.png, the package README's picture of `vox-crm import` in a
// terminal: a real import of a generated 12,000-row CSV (bad rows included) against the package's
// sandbox, run in a pseudo-terminal (util-linux `script`) so that the progress bar draws itself;
// its output is replayed through a small terminal model (cursor moves, line erases) to the screen
// while the bar is at about 60% and to the last screen, rendered as HTML and photographed by
// Debian's Chromium (playwright-core). Usage: node tools/cli-screenshot.mjs [out.png]
// (VOX_PKG_DIR: another package than dist/vox-crm)
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { launchChromium } from "../tests/browser/chromium.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const pkg = resolve(root, process.env.VOX_PKG_DIR || join("dist", "vox-crm"));
const outFile = resolve(process.argv[2] || join(root, "pkg-template", "cli-import.png"));
const COLS = 128;
const SALES = "6650a1b2c3d4e5f6012345a1";

/** The screen (lines of text) after `text` has been written to a terminal COLS wide. */
function screen(text) {
  const lines = [""];
  let row = 0;
  let col = 0;
  const put = (ch) => {
    const line = lines[row].padEnd(col, " ");
    lines[row] = line.slice(0, col) + ch + line.slice(col + 1);
    col++;
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === "\x1b") {
      // biome-ignore lint/suspicious/noControlCharactersInRegex: a terminal escape sequence starts with ESC
      const m = /^\x1b\[([?\d;]*)([A-Za-z])/.exec(text.slice(i, i + 16));
      if (!m) continue;
      i += m[0].length - 1;
      const n = Number(m[1].replace("?", "")) || 0;
      if (m[1].startsWith("?")) continue; // cursor shown/hidden, wrapping: nothing to draw
      if (m[2] === "G") col = Math.max(0, (n || 1) - 1);
      else if (m[2] === "K") lines[row] = lines[row].slice(0, col);
      else if (m[2] === "A") row = Math.max(0, row - (n || 1));
      else if (m[2] === "B") {
        row += n || 1;
        while (lines.length <= row) lines.push("");
      } else if (m[2] === "C") col += n || 1;
      else if (m[2] === "D") col = Math.max(0, col - (n || 1));
      else if (m[2] === "J") lines.splice(row + 1);
      continue;
    }
    if (c === "\r") col = 0;
    else if (c === "\n") {
      row++;
      col = 0;
      if (lines.length <= row) lines.push("");
    } else if (c === "\b") col = Math.max(0, col - 1);
    else if (c >= " ") put(c);
  }
  while (lines.length && lines[lines.length - 1].trim() === "") lines.pop();
  return lines;
}

const escapeHtml = (s) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

function colour(line) {
  let h = escapeHtml(line);
  h = h.replace(/^(\$ )(.*)$/, '<span class="p">$1</span><span class="c">$2</span>');
  h = h.replace(/(█+)/g, '<span class="g">$1</span>').replace(/(░+)/g, '<span class="d">$1</span>');
  h = h.replace(/(✓ [\d,]+)/g, '<span class="g">$1</span>').replace(/(✗ [\d,]+)/g, '<span class="r">$1</span>');
  h = h.replace(/^( {2}created\s+[\d,]+)/, '<span class="g">$1</span>').replace(/^( {2}failed\s+[\d,]+)/, '<span class="r">$1</span>');
  return h;
}

function page(panels) {
  const body = panels
    .map(
      ({ title, lines }) => `
    <div class="win"><div class="bar"><i></i><i></i><i></i><span>${escapeHtml(title)}</span></div>
    <pre>${lines.map(colour).join("\n")}</pre></div>`,
    )
    .join("");
  return `<!doctype html><meta charset="utf-8"><style>
    body { margin: 0; padding: 18px; background: #e8eaee; font-family: "DejaVu Sans Mono", monospace; display: inline-block; }
    .win { background: #16191f; border-radius: 8px; box-shadow: 0 4px 16px #0003; margin-bottom: 16px; width: ${COLS}ch; font-size: 13px; }
    .bar { height: 26px; background: #2a2e37; border-radius: 8px 8px 0 0; display: flex; align-items: center; padding: 0 10px; gap: 7px; }
    .bar i { width: 11px; height: 11px; border-radius: 50%; background: #ff5f57; } .bar i:nth-child(2) { background: #febc2e; } .bar i:nth-child(3) { background: #28c840; }
    .bar span { color: #9aa1ad; font-size: 12px; margin-left: 10px; font-family: sans-serif; }
    pre { margin: 0; padding: 12px 14px 14px; color: #d6dae1; line-height: 1.4; font: inherit; white-space: pre; }
    .p { color: #7ee787; } .c { color: #ffffff; } .g { color: #56d364; } .d { color: #3d444d; } .r { color: #f97583; }
  </style><body>${body}</body>`;
}

const dir = mkdtempSync(join(tmpdir(), "vox-screenshot-"));
const { startSandbox } = await import(pathToFileURL(join(pkg, "sandbox", "server.mjs")).href);
const sb = await startSandbox({ quiet: true, callDelayMs: 600000 });
try {
  // A spreadsheet's export: mixed phone spellings, a few bad rows, a duplicate now and then.
  const rows = ["Name,Mobile No,Email,City"];
  const cities = ["Pune", "Mumbai", "Bengaluru", "Chennai", "Delhi"];
  for (let i = 1; i <= 12000; i++) {
    let phone = i % 3 ? `+91 98${String(31000000 + i).slice(0, 3)} ${String(31000000 + i).slice(3)}` : `098${31000000 + i}`;
    if (i % 211 === 0) phone = "98453";
    if (i % 307 === 0) phone = "9999999999";
    const email = i % 401 === 0 ? `lead${i - 1}@example.com` : `lead${i}@example.com`;
    rows.push(`"Lead ${i}",${phone},${email},"${cities[i % 5]}, IN"`);
  }
  writeFileSync(join(dir, "leads.csv"), rows.join("\n") + "\n");
  const command = `npx vox-crm import leads.csv --process ${SALES} --map City=metadata.city`;
  const env = { ...process.env, VOX_BASE_URL: sb.url, VOX_TOKEN: sb.token, VOX_PROJECT_ID: sb.projectId, TERM: "xterm-256color" };
  // The client keeps to 6 requests a second and sends 100 leads a request: about 20 s, so the bar is seen moving.
  const inner = `stty cols ${COLS} rows 24; node ${join(pkg, "cli", "main.mjs")} import leads.csv --process ${SALES} --map City=metadata.city --rate-limit 6/1000 --chunk-size 100`;
  const log = join(dir, "typescript");
  try {
    // Not execFileSync: the sandbox answers from this process's event loop.
    await promisify(execFile)("script", ["-qfec", inner, log], { cwd: dir, env });
  } catch (err) {
    if (err.code !== 1) throw err; // 1: some rows failed, as they do here
  }
  const raw = readFileSync(log, "utf8")
    .replace(/^Script started.*\n/, "")
    .replace(/\nScript done.*\n?$/, "");
  // The moment the bar first shows 60% or more: the text up to that redraw.
  const at = [...raw.matchAll(/ (\d+)% \| /g)].find((m) => Number(m[1]) >= 60);
  const cut = at ? raw.indexOf("\x1b", at.index) : raw.length;
  const prompt = `$ ${command}`;
  const during = [prompt, ...screen(raw.slice(0, cut === -1 ? raw.length : cut))];
  const after = [prompt, ...screen(raw), "$"];
  const browser = await launchChromium({ viewport: { width: 1200, height: 800 }, deviceScaleFactor: 2 });
  try {
    const p = await browser.context.newPage();
    await p.setContent(
      page([
        { title: "while it runs", lines: during },
        { title: "when it is done", lines: after },
      ]),
    );
    await p.locator("body").screenshot({ path: outFile });
  } finally {
    await browser.close();
  }
  console.log(`wrote ${outFile}`);
} finally {
  await sb.close();
  rmSync(dir, { recursive: true, force: true });
}
