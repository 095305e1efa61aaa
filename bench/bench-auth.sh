#!/usr/bin/env bash
# get-session throughput: Chatkeep (release build) and the real Better Auth 1.7.25 server, side by
# side on this machine, each with a fresh database, one signed-in user, and the same wrk load
# (session cookie, keep-alive). Both return the session and sign a JWT (set-auth-jwt) per call.
#   bench/bench-auth.sh [duration-seconds] [connections]
set -euo pipefail
source "$(dirname "$0")/../scripts/lib.sh"
cd "$ROOT"
duration="${1:-10}"
connections="${2:-32}"
command -v wrk >/dev/null || { echo "wrk is needed: apt-get install wrk" >&2; exit 1; }
ensure_postgres
ensure_npm_deps "$ROOT/e2e"

log "building the release server"
SQLX_OFFLINE=true cargo build --release -p chatkeep
db="chatkeep_bench_$$"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  psql -q -h 127.0.0.1 -U postgres -d postgres -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null
}
trap cleanup EXIT

wait_for() { for _ in $(seq 1 100); do curl -sf "$1" >/dev/null && return 0; sleep 0.2; done; return 1; }

session_cookie() { # base-url -> "better-auth.session_token=..."
  curl -s -D - -o /dev/null -H 'content-type: application/json' \
    -d "{\"name\":\"Bench\",\"email\":\"bench-$RANDOM@example.com\",\"password\":\"correct horse battery staple\"}" \
    "$1/api/auth/sign-up/email" | sed -n 's/^set-cookie: \([^;]*\);.*/\1/Ip' | head -n1
}

run_wrk() { # name url cookie
  # The load must hit a real session, not the cheap anonymous `null`.
  curl -sf -H "cookie: $3" "$2/api/auth/get-session" | grep -q '"session"' \
    || { echo "$1: the session cookie does not work" >&2; exit 1; }
  log "$1: wrk -t2 -c$connections -d${duration}s GET /api/auth/get-session"
  wrk -t2 -c"$connections" -d"${duration}s" --latency -H "cookie: $3" "$2/api/auth/get-session" \
    | grep -E "Requests/sec|Latency|50%|99%|Non-2xx|Socket errors"
}

DATABASE_URL="postgres://postgres@127.0.0.1:5432/$db" CHATKEEP_BIND=127.0.0.1:18080 \
  AUTH_RATE_LIMIT=off RUST_LOG=warn CHATKEEP_DATA_DIR="$(mktemp -d)" \
  "$TARGET_DIR/release/chatkeep" >/dev/null 2>&1 &
pids+=($!)
wait_for http://127.0.0.1:18080/readyz
run_wrk Chatkeep http://127.0.0.1:18080 "$(session_cookie http://127.0.0.1:18080)"
kill "${pids[0]}"

(cd e2e && PORT=18081 NODE_ENV=production node bench/better-auth-server.mjs >/dev/null 2>&1) &
pids+=($!)
wait_for http://127.0.0.1:18081/api/auth/ok
run_wrk "Better Auth 1.7.25 (Node $(node --version))" http://127.0.0.1:18081 "$(session_cookie http://127.0.0.1:18081)"
