#!/usr/bin/env bash
# History reads at scale (SPEC's quality bar): 10,000 users, 100,000 conversations, 1,000,000
# messages; wrk with many connections reads random users' conversation lists and message pages
# through the release server (auth, RLS transaction and keyset query each time).
#   bench/bench-history.sh [connections] [seconds]
set -euo pipefail
source "$(dirname "$0")/../scripts/lib.sh"
cd "$ROOT"
connections="${1:-1000}"
seconds="${2:-20}"
command -v wrk >/dev/null || { echo "wrk is needed: apt-get install wrk" >&2; exit 1; }
ulimit -n 65536 2>/dev/null || true
ensure_postgres
log "building the release server"
SQLX_OFFLINE=true cargo build --release -p chatkeep

db="chatkeep_bench_history"
url="postgres://postgres@127.0.0.1:5432/$db"
psql_db() { psql -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -U postgres -d "$db" "$@"; }
pid=""
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null || true; }
trap cleanup EXIT

start_server() {
  DATABASE_URL="$url" CHATKEEP_BIND=127.0.0.1:18095 RUST_LOG=warn AUTH_RATE_LIMIT=off \
    CHATKEEP_DATA_DIR="$(mktemp -d)" "$TARGET_DIR/release/chatkeep" >/dev/null 2>&1 &
  pid=$!
  for _ in $(seq 1 100); do curl -sf http://127.0.0.1:18095/readyz >/dev/null && return 0; sleep 0.2; done
  echo "the server did not start" >&2; exit 1
}

ensure_seeded_history_db "$db"
psql_db -tA -F ' ' -c "SELECT DISTINCT ON (s.token) s.token, c.id FROM session s JOIN conversation c ON c.user_id = s.\"userId\" WHERE s.\"userId\" LIKE 'seed-user-%' ORDER BY s.token, c.last_message_at DESC" \
  > /tmp/chatkeep-bench-pairs.txt

start_server
for mode in conversations messages; do
  log "GET $mode page, random user each time: wrk -t2 -c$connections -d${seconds}s"
  MODE=$mode PAIRS=/tmp/chatkeep-bench-pairs.txt wrk -t2 -c"$connections" -d"${seconds}s" --latency \
    -s bench/history.lua http://127.0.0.1:18095 | grep -E "Requests/sec|Latency |50%|75%|90%|99%|Non-2xx|Socket errors"
done
