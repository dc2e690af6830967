#!/usr/bin/env bash
# Installs what the README's commands need, idempotently, from the package registries only.
#   scripts/setup.sh build     rust target, wasm-bindgen-cli, wasm-pack, npm dev dependencies
#   scripts/setup.sh test      the same plus Debian's chromium, chromedriver and redis-server
#   scripts/setup.sh bench     the build's plus redis-server (bench/traffic.mjs's shared-store run)
# Anything that cannot be installed stops the run with a message: nothing is skipped silently.
set -euo pipefail
cd "$(dirname "$0")/.."

WASM_BINDGEN_VERSION=0.2.130   # must equal the wasm-bindgen pin in Cargo.toml
WASM_PACK_VERSION=0.15.1
want=${1:-test}

say() { printf '== setup: %s\n' "$*"; }
die() { printf 'setup failed: %s\n' "$*" >&2; exit 1; }

command -v cargo >/dev/null || die "cargo is missing: install Rust with rustup"
command -v node >/dev/null || die "node is missing: install Node.js 20"
node -e 'process.exit(+process.versions.node.split(".")[0] >= 20 ? 0 : 1)' || die "Node.js 20 or newer is needed (found $(node --version))"

if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
  say "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$WASM_BINDGEN_VERSION" ]; then
  say "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION (a few minutes, once)"
  # Not --locked: the locked webpki-roots version is not served by the registry.
  cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION" --force
fi

if [ "$(wasm-pack --version 2>/dev/null | awk '{print $2}')" != "$WASM_PACK_VERSION" ]; then
  say "installing wasm-pack $WASM_PACK_VERSION (a few minutes, once)"
  cargo install --locked wasm-pack --version "$WASM_PACK_VERSION" --force
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "installing npm dev dependencies"
  npm ci --no-audit --no-fund
fi

if [ "$want" != build ]; then
  SUDO=""
  [ "$(id -u)" = 0 ] || SUDO=sudo
  apt_updated=""
  apt_install() { # packages...: Debian's packages, without the recommended ones
    [ -n "$apt_updated" ] || { $SUDO apt-get update -q; apt_updated=1; }
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@"
  }
  if [ "$want" = test ]; then
    if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
      say "installing Debian's chromium and chromium-driver"
      apt_install chromium chromium-driver
    fi
    command -v chromium >/dev/null && command -v chromedriver >/dev/null || die "chromium/chromedriver are still missing"
  fi
  # The Redis store's tests start their own redis-server on a free loopback port
  # (tests/node/redis-server.mjs); the system service is not used.
  if ! command -v redis-server >/dev/null; then
    say "installing Debian's redis-server"
    apt_install redis-server
    # The package may have started its service on 6379: stop it (best effort) and keep it from
    # starting at boot. Nothing here needs it.
    if [ -d /run/systemd/system ] && command -v systemctl >/dev/null; then
      $SUDO systemctl disable --now redis-server >/dev/null 2>&1 || true
    elif [ -x /etc/init.d/redis-server ]; then
      $SUDO /etc/init.d/redis-server stop >/dev/null 2>&1 || true
    fi
  fi
  command -v redis-server >/dev/null || die "redis-server is still missing"
fi
say "ok"
