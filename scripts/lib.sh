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
