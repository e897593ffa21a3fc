#!/usr/bin/env bash
# The whole test suite, on a fresh machine or a warm one: installs what is missing, then runs
# formatting and lint checks, unit and integration tests, and the browser suite against a
# release build. `.ci/run` calls exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$(pwd)/.tools/node_modules/.bin:$PATH"

# Clean CI builds gain nothing from incremental compilation, which only costs disk and time.
export CARGO_INCREMENTAL=${CARGO_INCREMENTAL:-0}

step() { printf '\n\033[1;32m==> %s\033[0m (%s)\n' "$*" "$(date +%T)"; }

step "setup"
scripts/setup.sh --test

step "format"
cargo fmt --all -- --check

step "unit and integration tests (SQLite)"
cargo test --workspace --no-default-features --features ssr

step "integration tests again, on PostgreSQL"
PG_DIR=$(mktemp -d)
trap 'scripts/pg.sh stop "$PG_DIR"; rm -rf "$PG_DIR"' EXIT
PAYMENTS_CONSOLE_TEST_POSTGRES=$(scripts/pg.sh start "$PG_DIR") \
  cargo test --workspace --no-default-features --features ssr --test integration --test api

step "release build (server + WASM, precompressed)"
scripts/build.sh

step "contract fuzzing (schemathesis: every operation and phase, 5,000+ cases)"
scripts/fuzz.sh

step "benchmark suite, smallest size (correctness only: no timing is asserted)"
PAYMENTS_BENCH_CONSOLE_BIN=target/release/payments-console scripts/bench.sh --small

step "end-to-end tests in Chromium"
scripts/e2e.sh

step "all tests passed"
