#!/usr/bin/env bash
# Every test: make check (formatting, lints, the core natively, the documents' links), the
# sandbox, the wasm edge under Node and in headless Chromium against a running sandbox, and the
# built package from JavaScript: its suite, the command line, the example page, the packaging matrix.
# A step that runs no test fails the run.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p .build
log=.build/test-logs
mkdir -p "$log"

step() { printf '\n== %s\n' "$*"; }
need_passed() { # file label: fail unless the log shows at least one passed test and no failure
  if ! grep -Eq "test result: ok\. [1-9][0-9]* passed" "$1"; then
    echo "FAIL: $2 ran no test (or failed); see $1" >&2
    exit 1
  fi
}

# Formatting, lints (Rust and JavaScript), the core's native tests, the documents' links: make check.
scripts/check.sh

step "sandbox server"
node --test sandbox/test/

step "starting a sandbox for the wasm tests"
rm -f .build/sandbox-url
node sandbox/server.mjs --port 0 --admin --quiet --call-delay-ms 300 --call-duration-ms 300 \
  --ready-file .build/sandbox-url > "$log/sandbox.txt" 2>&1 &
sandbox_pid=$!
trap 'kill $sandbox_pid 2>/dev/null || true' EXIT
for _ in $(seq 50); do [ -s .build/sandbox-url ] && break; sleep 0.1; done
[ -s .build/sandbox-url ] || { cat "$log/sandbox.txt"; echo "FAIL: the sandbox did not start" >&2; exit 1; }
export VOX_SANDBOX_URL; VOX_SANDBOX_URL=$(cat .build/sandbox-url)

step "wasm edge under Node"
wasm-pack test --node 2>&1 | tee "$log/wasm-node.txt"
need_passed "$log/wasm-node.txt" "wasm-pack test --node"

step "wasm edge in headless Chromium"
# Without WASM_BINDGEN_USE_BROWSER=1 this command skips every test and exits 0.
WASM_BINDGEN_USE_BROWSER=1 wasm-pack test --headless --chrome \
  --chromedriver "$(command -v chromedriver)" --mode no-install 2>&1 | tee "$log/wasm-chrome.txt"
need_passed "$log/wasm-chrome.txt" "wasm-pack test --chrome"

step "package"
scripts/package.sh
node bench/size.mjs --check
# The package carries no reference to working notes outside the repository (a "shared" folder beside it).
if grep -rnE "\.\.[/]shared" dist/vox-crm; then echo "FAIL: dist/vox-crm names the notes outside the repository" >&2; exit 1; fi

step "published TypeScript types (tsc --strict, no any)"
npx tsc -p tests/types
if grep -nw any dist/vox-crm/index.d.ts; then echo "FAIL: 'any' in the public types" >&2; exit 1; fi

step "package from JavaScript (node --test)"
node --test tests/node/

step "command line and vox-crm/sandbox from the package (node --test)"
node --test tests/cli/

step "example page in headless Chromium"
node --test tests/browser/

step "packaging matrix (the packed .tgz: Node ESM/CJS, TypeScript, pages, esbuild, Vite, webpack, Rollup, Jest, workerd, Bun, Deno, Next.js)"
node --test tests/packaging/
