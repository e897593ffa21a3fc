#!/usr/bin/env bash
# Runs the Playwright suite in Debian's Chromium against the release build: a fresh database, two
# users, the server on a random loopback port. Expects the release build (`scripts/build.sh`) to have
# run (or, while developing, `cargo leptos build --split` with E2E_PROFILE=debug).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
. scripts/lib.sh
BIN="$ROOT/target/${E2E_PROFILE:-release}/payments-console"
[ -x "$BIN" ] || { echo "no build at $BIN; run scripts/build.sh" >&2; exit 1; }

WORK=$(mktemp -d)
SERVER_PID=""
REMOTE_PID=""
cleanup() {
  [ -n "$REMOTE_PID" ] && kill "$REMOTE_PID" 2>/dev/null && wait "$REMOTE_PID" 2>/dev/null
  [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT

export PAYMENTS_CONSOLE_DATABASE_URL="sqlite://$WORK/console.db"
export E2E_PASSWORD="e2e-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
export E2E_ADMIN_EMAIL="admin@example.com"
export E2E_SUPPORT_EMAIL="support@example.com"
echo "$E2E_PASSWORD" | "$BIN" users add --email "$E2E_ADMIN_EMAIL" --role admin --password-stdin
echo "$E2E_PASSWORD" | "$BIN" users add --email "$E2E_SUPPORT_EMAIL" --role support --password-stdin

PORT=$(free_port)
export BASE_URL="http://127.0.0.1:$PORT"
# The weight test reads the precompressed copies of what the browser loaded.
export SITE_ROOT="$ROOT/target/site"
# A master key and a JWT secret of the run's own, so that the secret scan after the suite knows them.
"$BIN" master-key generate "$WORK/console.key" >/dev/null
(umask 077; head -c 48 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$WORK/jwt.secret")
LEPTOS_SITE_ROOT="$ROOT/target/site" "$BIN" serve --addr "127.0.0.1:$PORT" --demo \
  --master-key-file "$WORK/console.key" --jwt-secret-file "$WORK/jwt.secret" >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
wait_ready "$BASE_URL/readyz" "$SERVER_PID" "$WORK/server.log"

# A second console in remote mode: no engine of its own in use, every payments call goes over
# HTTP to the first console's InsForge-compatible API with an API key made for it.
REMOTE_KEY=$("$BIN" api-keys create --name e2e-remote-console 2>/dev/null)
REMOTE_DB="sqlite://$WORK/remote.db"
echo "$E2E_PASSWORD" | PAYMENTS_CONSOLE_DATABASE_URL="$REMOTE_DB" "$BIN" users add --email "$E2E_ADMIN_EMAIL" --role admin --password-stdin
echo "$E2E_PASSWORD" | PAYMENTS_CONSOLE_DATABASE_URL="$REMOTE_DB" "$BIN" users add --email "$E2E_SUPPORT_EMAIL" --role support --password-stdin
(umask 077; head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$WORK/remote.key")
REMOTE_PORT=$(free_port)
export REMOTE_BASE_URL="http://127.0.0.1:$REMOTE_PORT"
# The same key lets the suite check, through the first console's API, what the second changed.
export E2E_API_KEY="$REMOTE_KEY"
PAYMENTS_CONSOLE_DATABASE_URL="$REMOTE_DB" LEPTOS_SITE_ROOT="$ROOT/target/site" "$BIN" serve \
  --addr "127.0.0.1:$REMOTE_PORT" --master-key-file "$WORK/remote.key" \
  --backend "$BASE_URL" --backend-api-key "$REMOTE_KEY" >"$WORK/remote.log" 2>&1 &
REMOTE_PID=$!
wait_ready "$REMOTE_BASE_URL/readyz" "$REMOTE_PID" "$WORK/remote.log"

cd end2end
rm -rf screenshots
status=0
export E2E_RECORD_DIR="$WORK/record"
npx playwright test "$@" || status=$?
# The secret scan (issue #9): a CSV export as an admin downloads it, then every secret the run
# used, searched for in what it served, logged and stored.
if [ "$status" = 0 ]; then
  python3 - "$BASE_URL" "$E2E_ADMIN_EMAIL" "$E2E_PASSWORD" "$E2E_RECORD_DIR/export.csv" <<'EOF' || status=$?
import http.cookiejar, sys, urllib.parse, urllib.request
base, email, password, out = sys.argv[1:]
opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
login = urllib.request.Request(f"{base}/api/console/login", urllib.parse.urlencode(
    {"email": email, "password": password}).encode(), headers={"Origin": base})
opener.open(login).read()
with open(out, "wb") as fh:
    fh.write(opener.open(f"{base}/export/test/payment-history.csv").read())
EOF
fi
if [ "$status" = 0 ]; then
  python3 "$ROOT/scripts/leaks.py" \
    --secret "the users' password=$E2E_PASSWORD" --secret "the API key=$REMOTE_KEY" \
    --secret-file "the JWT secret=$WORK/jwt.secret" --secret-file "the master key=$WORK/console.key" \
    --secret-file "the remote console's master key=$WORK/remote.key" \
    --tokens "$E2E_RECORD_DIR/cookies.txt" \
    --scan "$E2E_RECORD_DIR" --scan "$WORK/server.log" --scan "$WORK/remote.log" --scan "$ROOT/target/site/pkg" \
    --sqlite "$WORK/console.db" --sqlite "$WORK/remote.db" || status=$?
fi
# The benchmark: every page's time to interactive (reported, never asserted).
if [ "$status" = 0 ]; then
  node measure-tti.mjs || status=$?
fi
if [ "$status" != 0 ]; then
  echo "--- server log ---"; cat "$WORK/server.log"
  echo "--- remote-mode server log ---"; cat "$WORK/remote.log"
fi
exit "$status"
