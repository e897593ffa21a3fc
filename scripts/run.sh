#!/usr/bin/env bash
# Runs the console on its embedded defaults at http://127.0.0.1:3000: SQLite under ./data/, the
# offline Stripe sandbox until a Stripe key is configured. Installs what is missing first, and
# rebuilds only when a source, Cargo.lock or a tool changed since the last build (scripts/build.sh).
# Extra arguments go to `payments-console serve` (see `--help`).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$(pwd)/.tools/node_modules/.bin:$PATH"
scripts/setup.sh
scripts/build.sh --if-changed
exec env LEPTOS_SITE_ROOT=target/site target/release/payments-console serve --demo "$@"
