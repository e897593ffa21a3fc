#!/usr/bin/env bash
# The release build: `cargo leptos build --release --split` (server binary, WASM bundle with hashed file
# names, CSS, public assets under target/site), then `payments-console precompress`, which writes
# the `.br` and `.gz` copies the server sends.
#
# With --if-changed (scripts/run.sh), nothing is rebuilt when the stamp beside the binary says the
# last build used exactly this tree's sources, Cargo.lock and tools (see build_inputs_hash in
# scripts/lib.sh); outside a git work tree it always builds.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$(pwd)/.tools/node_modules/.bin:$PATH"

SITE=target/site
BIN=target/release/payments-console
STAMP=target/release/site.stamp

if [ "${1:-}" = "--if-changed" ] && site_is_current "$SITE" "$BIN" "$STAMP"; then
  echo "release build is up to date with the sources; not rebuilding (scripts/build.sh rebuilds)" >&2
  exit 0
fi

rm -f "$STAMP"
# Taken before building, so that a file edited during the build makes the next run build again.
inputs=$(build_inputs_hash) || inputs=""
# cargo-leptos hashes every file it finds in pkg/: last build's hashed names and compressed
# copies would come back renamed again, so pkg/ starts empty.
rm -rf "$SITE/pkg"
# --split: the lazily loaded code (src/pages/lazy.rs: the catalog's editors) leaves the main module
# for a download fetched only where it runs, so no other page downloads it.
cargo leptos build --release --split
"$BIN" precompress --site-root "$SITE"
if [ -n "$inputs" ]; then
  build_stamp "$inputs" "$SITE" "$BIN" >"$STAMP"
fi
