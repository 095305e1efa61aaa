#!/usr/bin/env bash
# The history features at scale, on the same seeded database as bench-history.sh (10k users,
# 100k conversations, 1M messages, one heavy user with 100,000): search latency for the heavy
# user and for random typical users (full words and prefixes, one request at a time), the heavy
# user's full export (messages/s, the server's peak RSS), importing a generated ~100 MB ChatGPT
# export (time, peak RSS), and deleting all of its ~10,000 conversations at once. Release build.
#   bench/bench-history-features.sh        (SEARCH_ONLY=1: the search rows alone)
set -euo pipefail
source "$(dirname "$0")/../scripts/lib.sh"
cd "$ROOT"
ensure_postgres
log "building the release server"
SQLX_OFFLINE=true cargo build --release -p chatkeep

db="chatkeep_bench_history"
url="postgres://postgres@127.0.0.1:5432/$db"
port=18096
pid=""
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null || true; }
trap cleanup EXIT

ensure_seeded_history_db "$db"
# The steady state a live database is in (autovacuum): visibility map and statistics current.
psql -q -h 127.0.0.1 -U postgres -d "$db" -c "VACUUM ANALYZE" >/dev/null
heavy="$(psql -tA -h 127.0.0.1 -U postgres -d "$db" -c "SELECT md5(id) FROM \"user\" WHERE id = 'seed-heavy-1'")"
psql -tA -h 127.0.0.1 -U postgres -d "$db" \
  -c "SELECT md5(id) FROM \"user\" WHERE id LIKE 'seed-user-%' ORDER BY md5(id || 'bench') LIMIT 400" \
  > /tmp/chatkeep-bench-typical.txt

DATABASE_URL="$url" CHATKEEP_BIND="127.0.0.1:$port" RUST_LOG=warn AUTH_RATE_LIMIT=off \
  CHATKEEP_DATA_DIR="$(mktemp -d)" "$TARGET_DIR/release/chatkeep" >/dev/null 2>&1 &
pid=$!
for _ in $(seq 1 300); do curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.2; done

log "measuring (on $(nproc) cores, $(date -u +%Y-%m-%d))"
python3 bench/history_features.py "http://127.0.0.1:$port" "$pid" "$heavy" /tmp/chatkeep-bench-typical.txt
