#!/usr/bin/env bash
# Builds the wasm twice, with wasm-bindgen's web target (its glue loads a module given to it, which
# every entry of the package does), and assembles the npm package in dist/vox-crm:
#   .build/web   the release build, for size (opt-level z): every entry but Node's
#   .build/node  the same crate for speed ([profile.node] in Cargo.toml: opt-level 3), with its own
#                glue (optimising can drop imports): what node/index.cjs loads
# PROFILE=--dev builds both as debug builds, without wasm-opt.
set -euo pipefail
cd "$(dirname "$0")/.."
profile=${PROFILE:---release}
# wasm-opt from the npm package binaryen (see Cargo.toml); wasm-pack finds it on PATH.
export PATH="$PWD/node_modules/.bin:$PATH"
wasm-pack --quiet build "$profile" --weak-refs --target web --out-dir .build/web --out-name vox_crm --no-pack .
if [ "$profile" = --dev ]; then
  cargo build --quiet --target wasm32-unknown-unknown --lib
  wasm="target/wasm32-unknown-unknown/debug/vox_crm.wasm"
else
  cargo build --quiet --profile node --target wasm32-unknown-unknown --lib
  wasm="target/wasm32-unknown-unknown/node/vox_crm.wasm"
fi
rm -rf .build/node
wasm-bindgen --target web --weak-refs --out-dir .build/node --out-name vox_crm "$wasm"
if [ "$profile" != --dev ]; then
  # The web build's wasm-opt flags, as Cargo.toml gives them to wasm-pack.
  flags=$(node -e 'const t = require("fs").readFileSync("Cargo.toml", "utf8"); console.log(JSON.parse(/^wasm-opt = (\[.*\])$/m.exec(t)[1]).join(" "))')
  read -ra flags <<<"$flags"
  wasm-opt "${flags[@]}" .build/node/vox_crm_bg.wasm -o .build/node/vox_crm_bg.wasm
fi
node scripts/package.mjs
