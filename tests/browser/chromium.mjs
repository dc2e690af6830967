// Headless Chromium for the browser and packaging tests: Debian's `chromium` package driven by
// playwright-core. Never a downloaded browser: when /usr/bin/chromium is missing the tests FAIL
// with a message saying how to install it (they never skip).
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";

export const CHROMIUM_PATH = "/usr/bin/chromium";

/** The flags this machine needs (no sandbox as root, no GPU, no background traffic to the closed network). */
export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** Throws a clear error when Debian's chromium is not installed. */
export function requireChromium() {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(
      `Debian's Chromium is not installed: ${CHROMIUM_PATH} is missing. Install it with ` +
        "`apt-get update && apt-get install -y chromium` (or `scripts/setup.sh test`). " +
        "The browser tests use only that browser: they never download one, and they do not skip.",
    );
  }
}

/**
 * Launches Debian's chromium with a fresh, empty user-data-dir. Resolves to { context, close() };
 * close() ends the browser process and removes the profile.
 */
export async function launchChromium(options = {}) {
  requireChromium();
  const userDataDir = mkdtempSync(join(tmpdir(), "vox-chromium-"));
  let context;
  try {
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM_PATH,
      headless: true,
      args: CHROMIUM_ARGS,
      viewport: { width: 1280, height: 900 },
      locale: "en-US",
      timezoneId: "Asia/Kolkata",
      ...options,
    });
  } catch (err) {
    rmSync(userDataDir, { recursive: true, force: true });
    throw new Error(`could not start ${CHROMIUM_PATH} through playwright-core: ${err.message}`);
  }
  let closed = null;
  return {
    context,
    close() {
      closed ??= (async () => {
        await context.close().catch(() => {});
        rmSync(userDataDir, { recursive: true, force: true });
      })();
      return closed;
    },
  };
}

/**
 * Watches a page for console errors, uncaught exceptions and failed requests.
 * Returns { problems: string[] }.
 */
export function watchPage(page) {
  const problems = [];
  page.on("console", (msg) => {
    if (msg.type() === "error") problems.push(`console error: ${msg.text()} (${msg.location()?.url ?? ""})`);
  });
  page.on("pageerror", (err) => problems.push(`uncaught exception: ${err.message}`));
  page.on("requestfailed", (req) => problems.push(`request failed: ${req.method()} ${req.url()}: ${req.failure()?.errorText}`));
  return { problems };
}
