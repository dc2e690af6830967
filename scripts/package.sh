#!/usr/bin/env bash
# Builds the wasm (release, wasm-bindgen's web target: its glue loads a module given to it, which
# every entry of the package does) and assembles the npm package in dist/vox-crm.
set -euo pipefail
cd "$(dirname "$0")/.."
profile=${PROFILE:---release}
# wasm-opt from the npm package binaryen (see Cargo.toml); wasm-pack finds it on PATH.
export PATH="$PWD/node_modules/.bin:$PATH"
wasm-pack --quiet build "$profile" --weak-refs --target web --out-dir .build/web --out-name vox_crm --no-pack .
node scripts/package.mjs
