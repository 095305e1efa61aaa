#!/usr/bin/env bash
# History reads at scale (SPEC's quality bar): 10,000 users, 100,000 conversations, 1,000,000
# messages; wrk with many connections reads random users' conversation lists and message pages
# through the release server (auth, RLS transaction and keyset query each time).
#   scripts/bench-history.sh [connections] [seconds]
set -euo pipefail
source "$(dirname "$0")/lib.sh"
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

if [ "$(psql -tA -h 127.0.0.1 -U postgres -d postgres -c "SELECT count(*) FROM pg_database WHERE datname = '$db'")" != 1 ] \
   || [ "$(psql_db -tA -c 'SELECT count(*) FROM message' 2>/dev/null || echo 0)" != 1000000 ]; then
  log "seeding $db (10k users, 100k conversations, 1M messages; a minute or two, once)"
  psql -q -h 127.0.0.1 -U postgres -d postgres -c "DROP DATABASE IF EXISTS $db WITH (FORCE)"
  start_server; kill "$pid"; wait "$pid" 2>/dev/null || true; pid=""   # creates and migrates it
  psql_db <<'SQL'
INSERT INTO "user" (id, name, email, "emailVerified")
  SELECT 'bench-user-' || g, 'User ' || g, 'user' || g || '@example.com', false FROM generate_series(1, 10000) g;
INSERT INTO session (id, token, "userId", "expiresAt", "updatedAt")
  SELECT 'bench-session-' || g, 'tok' || lpad(g::text, 29, '0'), 'bench-user-' || g,
         now() + interval '7 days', now()
    FROM generate_series(1, 10000) g;
INSERT INTO conversation (id, user_id, title, created_at, updated_at, last_message_at)
  SELECT gen_random_uuid(), 'bench-user-' || u, 'Conversation ' || c,
         now() - (c || ' hours')::interval, now(), now() - (c || ' hours')::interval
    FROM generate_series(1, 10000) u, generate_series(1, 10) c;
INSERT INTO message (id, conversation_id, user_id, role, content, status, created_at, updated_at)
  SELECT gen_random_uuid(), c.id, c.user_id,
         CASE WHEN m % 2 = 0 THEN 'user' ELSE 'assistant' END,
         repeat('Lorem ipsum dolor sit amet, consectetur adipiscing elit. ', 4),
         'complete', c.created_at + (m || ' minutes')::interval, now()
    FROM conversation c, generate_series(1, 10) m;
ANALYZE;
SQL
fi
psql_db -tA -F ' ' -c "SELECT DISTINCT ON (s.token) s.token, c.id FROM session s JOIN conversation c ON c.user_id = s.\"userId\" ORDER BY s.token, c.last_message_at DESC" \
  > /tmp/chatkeep-bench-pairs.txt

start_server
for mode in conversations messages; do
  log "GET $mode page, random user each time: wrk -t2 -c$connections -d${seconds}s"
  MODE=$mode PAIRS=/tmp/chatkeep-bench-pairs.txt wrk -t2 -c"$connections" -d"${seconds}s" --latency \
    -s bench/history.lua http://127.0.0.1:18095 | grep -E "Requests/sec|Latency |50%|75%|90%|99%|Non-2xx|Socket errors"
done
