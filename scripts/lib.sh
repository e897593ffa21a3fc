# Helpers for the scripts that start console processes (sourced, not run).

# A free TCP port on loopback.
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# wait_ready URL PID LOG: waits up to 10 s for URL to answer; if the process PID exits first, or
# the time runs out, prints LOG and fails.
wait_ready() {
  local url=$1 pid=$2 log=$3
  for _ in $(seq 1 100); do
    python3 -c "import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=1)" "$url" 2>/dev/null && return 0
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  echo "$url never answered" >&2
  cat "$log" >&2
  return 1
}

# --- The release build's stamp (scripts/build.sh --if-changed) ------------------------------------

# build_inputs_hash: prints a digest of everything a release build reads from the tree in the
# current folder: every tracked file as it is on disk (the staged blob ids, then the work tree's
# changes to them), every untracked file git does not ignore, the local cargo configuration, and
# the tools' versions. Fails outside a git work tree: the caller then always builds.
build_inputs_hash() {
  git rev-parse --is-inside-work-tree >/dev/null 2>&1 || return 1
  {
    git ls-files --stage
    git diff --no-ext-diff --binary
    git ls-files -z --others --exclude-standard | xargs -0 -r sha256sum --
    cat .cargo/config.toml 2>/dev/null || true
    rustc -vV 2>/dev/null || true
    cargo leptos --version 2>/dev/null || true
    wasm-bindgen --version 2>/dev/null || true
    wasm-opt --version 2>/dev/null || true
  } | sha256sum | cut -d' ' -f1
}

# build_stamp INPUTS SITE BIN: what a build from inputs INPUTS left behind: their digest, the
# binary's size and modification time, and the site's files with theirs. Another build of either
# (`cargo leptos build` in debug, scripts/bench.sh's `cargo build --release`) changes it.
build_stamp() {
  local inputs=$1 site=$2 bin=$3
  printf '%s\n' "$inputs"
  stat -c '%s %Y' "$bin"
  (cd "$site" && find . -type f -printf '%P %s %T@\n' | LC_ALL=C sort | sha256sum | cut -d' ' -f1)
}

# site_is_current SITE BIN STAMP: whether STAMP says that SITE and BIN were built from exactly the
# tree in the current folder, and are still what that build made.
site_is_current() {
  local site=$1 bin=$2 stamp=$3 inputs
  [ -f "$stamp" ] && [ -x "$bin" ] && [ -d "$site/pkg" ] || return 1
  inputs=$(build_inputs_hash) || return 1
  [ "$(cat "$stamp")" = "$(build_stamp "$inputs" "$site" "$bin")" ]
}
