#!/usr/bin/env bash
# The fast loop (make check), under a minute warm: formatting and lints of the Rust and the
# JavaScript, the core's native tests, and the repository's own checks (links, references).
# No wasm build, no browser, no package: make test runs everything.
set -euo pipefail
cd "$(dirname "$0")/.."
log=.build/test-logs
mkdir -p "$log"

step() { printf '\n== %s\n' "$*"; }

step "Rust: format and lints (native, wasm32, the fuzz targets' testkit)"
cargo fmt --check
cargo clippy --workspace --all-targets --quiet -- -D warnings
cargo clippy --workspace --target wasm32-unknown-unknown --quiet -- -D warnings
cargo clippy --workspace --features testkit --quiet -- -D warnings

step "JavaScript and TypeScript: format and lints (Biome, biome.json)"
npx --no-install biome ci --error-on-warnings

step "core, natively"
cargo test --workspace --quiet 2>&1 | tee "$log/native.txt"
if ! grep -Eq "test result: ok\. [1-9][0-9]* passed" "$log/native.txt"; then
  echo "FAIL: cargo test ran no test (or failed); see $log/native.txt" >&2
  exit 1
fi

step "the repository's documents: links and references resolve inside it"
node --test tests/repo/
