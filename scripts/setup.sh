#!/usr/bin/env bash
# Installs everything the console needs to build, run and test, and nothing that is already there.
#
# Idempotent: every step first checks for what it would install. Only package registries are used
# (crates.io, npm, PyPI, Debian), because the machines this runs on reach nothing else.
#
# Usage: scripts/setup.sh [--test]   (--test also installs what only the test suite needs)
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$(pwd)

# Versions are pinned so that the wasm-bindgen CLI matches the crate in Cargo.lock exactly
# ("schema versions must exactly match") and cargo-leptos builds with this machine's rustc 1.95
# (0.3.11 needs 1.96+).
CARGO_LEPTOS_VERSION=0.3.10
WASM_BINDGEN_VERSION=0.2.130
BINARYEN_VERSION=132.0.0

WANT_TEST=0
[ "${1:-}" = "--test" ] && WANT_TEST=1

log() { printf '\033[1;34m[setup]\033[0m %s\n' "$*"; }

export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$ROOT/.tools/node_modules/.bin:$PATH"

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

apt_updated=0
apt_install() {
  if [ "$apt_updated" = 0 ]; then
    as_root apt-get update -qq
    apt_updated=1
  fi
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends "$@"
}

# --- Rust: the WASM target --------------------------------------------------------------------
if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  log "adding rustup target wasm32-unknown-unknown"
  rustup target add wasm32-unknown-unknown
fi

# --- cargo-leptos and wasm-bindgen, built in parallel (each is minutes on two cores) ----------
pids=()
if ! cargo leptos --version 2>/dev/null | grep -q " $CARGO_LEPTOS_VERSION"; then
  # --debug: a debug build of the tool installs in about half the time and builds just as fast,
  # because the tool spends its time waiting on cargo and wasm-bindgen, not computing.
  log "installing cargo-leptos $CARGO_LEPTOS_VERSION (debug build; ~13 min cold)"
  cargo install cargo-leptos --version "$CARGO_LEPTOS_VERSION" --locked --debug --quiet &
  pids+=($!)
fi
if ! wasm-bindgen --version 2>/dev/null | grep -q " $WASM_BINDGEN_VERSION"; then
  # Not --locked: one of its locked dependencies was yanked from the registry.
  log "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION (~4 min cold)"
  cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION" --force --quiet &
  pids+=($!)
fi

# --- npm tools: binaryen's wasm-opt for release builds ----------------------------------------
# Debian's binaryen (108) produces a WASM whose hydration fails in Chromium, so npm's is used.
if ! [ -x .tools/node_modules/.bin/wasm-opt ] ||
   ! grep -q "\"version\": \"$BINARYEN_VERSION\"" .tools/node_modules/binaryen/package.json 2>/dev/null; then
  log "installing binaryen@$BINARYEN_VERSION from npm into .tools/"
  mkdir -p .tools
  (cd .tools && { [ -f package.json ] || echo '{"private":true}' > package.json; } &&
   npm install --silent --no-audit --no-fund "binaryen@$BINARYEN_VERSION")
fi

if [ "$WANT_TEST" = 1 ]; then
  # --- Chromium from Debian, for Playwright (never `npx playwright install`) ----------------
  need=()
  command -v chromium >/dev/null || need+=(chromium)
  compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || need+=(postgresql)
  # Debian's python3 needs python3-venv for `python3 -m venv` to bootstrap pip (ensurepip).
  python3 -c 'import ensurepip' 2>/dev/null || need+=(python3-venv)
  if [ "${#need[@]}" -gt 0 ]; then
    log "installing Debian packages: ${need[*]}"
    apt_install "${need[@]}"
  fi
  # --- Playwright's test runner --------------------------------------------------------------
  if ! [ -d end2end/node_modules/@playwright/test ]; then
    log "installing end2end npm packages"
    (cd end2end && npm ci --silent --no-audit --no-fund)
  fi
  # --- cross-check tier: localstripe venv and npm stripe ---
  # Used by crates/stripe-client/tests/{crosscheck,official_stripe_node}.rs, which fail (not skip)
  # without them. localstripe runs as a separate process only (it is GPL); nothing is vendored.
  LOCALSTRIPE_VERSION=1.15.10
  STRIPE_NODE_VERSION=23.1.0
  if ! [ -x .tools/venv-localstripe/bin/localstripe ]; then
    log "installing localstripe $LOCALSTRIPE_VERSION into .tools/venv-localstripe"
    mkdir -p .tools
    python3 -m venv .tools/venv-localstripe
    .tools/venv-localstripe/bin/pip install --quiet --disable-pip-version-check "localstripe==$LOCALSTRIPE_VERSION"
  fi
  if ! [ -f .tools/node_modules/stripe/package.json ]; then
    log "installing npm stripe@$STRIPE_NODE_VERSION into .tools/"
    mkdir -p .tools
    (cd .tools && { [ -f package.json ] || echo '{"private":true}' > package.json; } &&
     npm install --silent --no-audit --no-fund "stripe@$STRIPE_NODE_VERSION")
  fi
  # --- end cross-check tier ---
  # --- schemathesis, for scripts/fuzz.sh (contract fuzzing, issue #9) ---
  SCHEMATHESIS_VERSION=4.32.5
  if ! .tools/venv-schemathesis/bin/schemathesis --version 2>/dev/null | grep -q "version $SCHEMATHESIS_VERSION\$"; then
    log "installing schemathesis $SCHEMATHESIS_VERSION into .tools/venv-schemathesis"
    mkdir -p .tools
    python3 -m venv .tools/venv-schemathesis
    .tools/venv-schemathesis/bin/pip install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
  fi
  # --- InsForge SDK for the engine's contract tests ---
  # Used by crates/payments-engine/tests/api/sdk.rs, which fails (not skips) without it.
  INSFORGE_SDK_VERSION=1.3.1
  if ! [ -f .tools/node_modules/@insforge/sdk/package.json ]; then
    log "installing npm @insforge/sdk@$INSFORGE_SDK_VERSION into .tools/"
    mkdir -p .tools
    (cd .tools && { [ -f package.json ] || echo '{"private":true}' > package.json; } &&
     npm install --silent --no-audit --no-fund "@insforge/sdk@$INSFORGE_SDK_VERSION")
  fi
  # --- end InsForge SDK ---
fi

for pid in "${pids[@]}"; do
  wait "$pid"
done
log "toolchain ready: $(cargo leptos --version), $(wasm-bindgen --version), wasm-opt $(wasm-opt --version | head -1)"
