#!/usr/bin/env bash
# The benchmark suite of issue #10: builds the console and the benchmark in release mode (cargo
# reuses what is fresh), then runs `payments-bench`, which starts the Stripe sandbox and the
# console as their own processes, fills the tables and prints each figure beside its baseline.
# Flags go to payments-bench (`scripts/bench.sh --help`); `--small` runs in about a minute.
# PAYMENTS_BENCH_CONSOLE_BIN=path uses an existing console build instead of building one (CI
# passes the binary `scripts/build.sh` made).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
export CARGO_INCREMENTAL=${CARGO_INCREMENTAL:-0}

CONSOLE_BIN=${PAYMENTS_BENCH_CONSOLE_BIN:-}
if [ -z "$CONSOLE_BIN" ]; then
  # One invocation, so the two share every dependency build.
  cargo build --release --no-default-features --features payments-console/ssr \
    -p payments-console --bin payments-console -p payments-bench --bin payments-bench
  CONSOLE_BIN=target/release/payments-console
else
  cargo build --release -p payments-bench --bin payments-bench
fi
exec target/release/payments-bench --console-bin "$CONSOLE_BIN" "$@"
