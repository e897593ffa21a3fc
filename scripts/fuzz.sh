#!/usr/bin/env bash
# Contract fuzzing (issue #9): schemathesis generates requests for every operation of the InsForge
# Payments v2 OpenAPI (contract/insforge-payments-v2.openapi.yaml) in every phase it offers, and
# sends them to the release build in demo mode (the Stripe sandbox, demo data) on a random
# loopback port, as a `project_admin` JWT (which passes the admin guard and the runtime routes).
#
# Usage: scripts/fuzz.sh [--cases N] [--seed S]
#   --cases N   examples per operation and phase (default 150: about 5,000 cases in all).
#   --seed S    schemathesis's random seed (default fixed, so that runs are comparable).
# Checks: all of schemathesis's, except where the contract prescribes a rejection its schema
# cannot express; those are listed once, with the contract's reason, in contract/schemathesis.toml.
# Expects the release build (`scripts/build.sh`) and `scripts/setup.sh --test`
# (which installs schemathesis into .tools/venv-schemathesis).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
. scripts/lib.sh
CASES=150
SEED=20261204
while [ $# -gt 0 ]; do
  case "$1" in
    --cases) CASES="$2"; shift 2 ;;
    --seed) SEED="$2"; shift 2 ;;
    *) echo "usage: $0 [--cases N] [--seed S]" >&2; exit 2 ;;
  esac
done
BIN="$ROOT/target/${FUZZ_PROFILE:-release}/payments-console"
ST="$ROOT/.tools/venv-schemathesis/bin/schemathesis"
[ -x "$BIN" ] || { echo "no build at $BIN; run scripts/build.sh" >&2; exit 1; }
[ -x "$ST" ] || { echo "no schemathesis at $ST; run scripts/setup.sh --test" >&2; exit 1; }

WORK=$(mktemp -d)
SERVER_PID=""
cleanup() {
  [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT

export PAYMENTS_CONSOLE_DATABASE_URL="sqlite://$WORK/console.db"
(umask 077; head -c 48 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$WORK/jwt.secret")
PORT=$(free_port)
BASE_URL="http://127.0.0.1:$PORT"
LEPTOS_SITE_ROOT="$ROOT/target/site" "$BIN" serve --addr "127.0.0.1:$PORT" --demo \
  --jwt-secret-file "$WORK/jwt.secret" >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
wait_ready "$BASE_URL/readyz" "$SERVER_PID" "$WORK/server.log"

# An HS256 `project_admin` token for this run's secret, valid for a day.
TOKEN=$(python3 - "$WORK/jwt.secret" <<'EOF'
import base64, hashlib, hmac, json, sys, time
secret = open(sys.argv[1]).read().strip().encode()
b64 = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()
head = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
body = b64(json.dumps({"sub": "fuzz", "role": "project_admin", "exp": int(time.time()) + 86400}).encode())
sig = b64(hmac.new(secret, f"{head}.{body}".encode(), hashlib.sha256).digest())
print(f"{head}.{body}.{sig}")
EOF
)

# A product and a price of the demo catalog (contract/schemathesis.toml), once the demo sync has
# filled the mirror.
for _ in $(seq 1 100); do
  CATALOG=$(curl -fsS -H "Authorization: Bearer $TOKEN" "$BASE_URL/api/payments/test/catalog" || true)
  FUZZ_PRICE_ID=$(python3 -c 'import json,sys; p=json.loads(sys.argv[1] or "{}").get("prices", []); print(p[0]["stripePriceId"] if p else "")' "$CATALOG")
  [ -n "$FUZZ_PRICE_ID" ] && break
  sleep 0.2
done
[ -n "$FUZZ_PRICE_ID" ] || { echo "the demo catalog never appeared" >&2; exit 1; }
FUZZ_PRODUCT_ID=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["prices"][0]["stripeProductId"])' "$CATALOG")
export FUZZ_PRODUCT_ID FUZZ_PRICE_ID

echo "fuzzing $BASE_URL: $CASES examples per operation and phase, seed $SEED"
set +e
"$ST" --config-file "$ROOT/contract/schemathesis.toml" run "$ROOT/contract/insforge-payments-v2.openapi.yaml" \
  --url "$BASE_URL" -H "Authorization: Bearer $TOKEN" \
  --phases examples,coverage,fuzzing,stateful \
  --max-examples "$CASES" --seed "$SEED" --generation-database none \
  --workers 1 --request-timeout 30 --no-color --output-sanitize true \
  --report ndjson --report-dir "$WORK/report" | tee "$WORK/fuzz.log"
STATUS=${PIPESTATUS[0]}
set -e
# The run must have been the size asked for: 5,603 cases at the default 150, so at least 33 per unit.
GENERATED=$(sed -n 's/^ *\([0-9]*\) generated.*/\1/p' "$WORK/fuzz.log" | tail -1)
MIN=$((CASES * 33))
if [ "${GENERATED:-0}" -lt "$MIN" ]; then
  echo "only ${GENERATED:-0} cases were generated (expected at least $MIN)" >&2
  STATUS=1
fi
# The server's own view: a handler that panicked or answered 5xx leaves a trace here.
if grep -Ei 'panicked|internal error' "$WORK/server.log" | head -20; then
  echo "the server logged panics or internal errors (above)" >&2
  STATUS=1
fi
echo "schemathesis exit status $STATUS"
exit "$STATUS"
