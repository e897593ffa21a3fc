#!/usr/bin/env bash
# The whole test suite, on a fresh machine or a warm one: installs what is missing, then runs
# formatting and lint checks, unit and integration tests, and the browser suite against a
# release build. `.ci/run` calls exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$(pwd)/.tools/node_modules/.bin:$PATH"

step() { printf '\n\033[1;32m==> %s\033[0m (%s)\n' "$*" "$(date +%T)"; }

step "setup"
scripts/setup.sh --test

step "format"
cargo fmt --all -- --check

step "unit and integration tests"
cargo test --workspace --no-default-features --features ssr

step "release build (server + WASM)"
cargo leptos build --release

step "end-to-end tests in Chromium"
scripts/e2e.sh

step "all tests passed"
