#!/usr/bin/env bash
# One command for the performance picture, from a fresh clone: builds release, seeds the
# history (`chatkeep seed`: 10k users, 100k conversations, 1.1M messages, once), starts Chatkeep,
# a second Chatkeep whose agent is an instant OpenAI-compatible upstream, and the floor server
# (bench/floor: verify the JWT, one indexed SELECT), signs USERS seeded users in through the
# auth API, and measures every scenario side by side (bench/run.py): closed loop with wrk, open
# loop with oha, CPU per request for the server and PostgreSQL from /proc, peak RSS, and the
# price of row-level security in PostgreSQL alone (pgbench). Writes bench/results/latest.md.
#   bench/bench.sh                 # the whole run, about 12 minutes once seeded
#   QUICK=1 bench/bench.sh         # fewer scenarios, shorter runs
# Settings: USERS (2000), DURATION (closed-loop seconds, 15), OPEN_SECONDS (30), CONNECTIONS (64).
set -euo pipefail
source "$(dirname "$0")/../scripts/lib.sh"
cd "$ROOT"
export USERS="${USERS:-2000}" DURATION="${DURATION:-15}" OPEN_SECONDS="${OPEN_SECONDS:-30}"
export CONNECTIONS="${CONNECTIONS:-64}"
if [ "${QUICK:-0}" = 1 ]; then
  USERS="${USERS_QUICK:-400}" DURATION=8 OPEN_SECONDS=10
fi

ensure_postgres
for tool in wrk pgbench; do
  if ! command -v "$tool" >/dev/null; then
    log "installing Debian's $tool"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
      "$([ "$tool" = pgbench ] && echo postgresql-contrib || echo wrk)" >/dev/null
  fi
done
if ! command -v oha >/dev/null; then
  log "installing oha (open-loop load with latency correction; a few minutes, once)"
  # Without --locked a dependency wants a newer Rust than ours.
  cargo install oha --locked
fi
ulimit -n 65536 2>/dev/null || true

log "building release: the server and the floor"
SQLX_OFFLINE=true cargo build --release -p chatkeep -p floor

db="chatkeep_bench_history"
export PGURL="postgres://postgres@127.0.0.1:5432/$db"
ensure_seeded_history_db "$db"
# The signing key is encrypted with the data folder's secret: start from a key of this folder's.
psql -q -h 127.0.0.1 -U postgres -d "$db" -c "DELETE FROM jwks" -c "VACUUM ANALYZE" >/dev/null

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT
wait_ready() {
  for _ in $(seq 1 150); do curl -sf "$1" >/dev/null && return 0; sleep 0.2; done
  echo "$1 did not answer" >&2; exit 1
}

export CHATKEEP=http://127.0.0.1:18100 UPSTREAM_CHATKEEP=http://127.0.0.1:18101
export FLOOR=http://127.0.0.1:18102
# Limits meant for people are lifted: the load comes from one address and a few thousand users.
# One data folder (its secret) across runs, so bench/bench-ab.sh can reuse the credentials.
data_dir="$TARGET_DIR/bench-data"; mkdir -p "$data_dir"
chatkeep_env=(DATABASE_URL="$PGURL" CHATKEEP_DATA_DIR="$data_dir" RUST_LOG=warn AUTH_RATE_LIMIT=off MESSAGE_RATE_LIMIT=100000
  MAX_STREAMS_PER_USER=1000 MAX_STREAMS_PER_IP=10000 AGENT_MAX_CONCURRENCY=1000
  PASSWORD_HASH_MAX_WAIT_MS=60000)
log "starting Chatkeep ($CHATKEEP) and the floor ($FLOOR)"
env "${chatkeep_env[@]}" CHATKEEP_BIND=127.0.0.1:18100 BETTER_AUTH_URL="$CHATKEEP" \
  "$TARGET_DIR/release/chatkeep" >/tmp/chatkeep-bench.log 2>&1 &
pids+=($!); export CHATKEEP_PID=$!
wait_ready "$CHATKEEP/readyz"
FLOOR_BIND=127.0.0.1:18102 DATABASE_URL="$PGURL" FLOOR_ISSUER="$CHATKEEP" \
  FLOOR_JWKS="$(curl -sf "$CHATKEEP/api/auth/jwks")" "$TARGET_DIR/release/floor" &
pids+=($!); export FLOOR_PID=$!
env "${chatkeep_env[@]}" CHATKEEP_BIND=127.0.0.1:18101 BETTER_AUTH_URL="$CHATKEEP" \
  AGENT_URL="$FLOOR/v1" "$TARGET_DIR/release/chatkeep" \
  >/tmp/chatkeep-bench-upstream.log 2>&1 &
pids+=($!); export UPSTREAM_CHATKEEP_PID=$!
wait_ready "$UPSTREAM_CHATKEEP/readyz"
# Both Chatkeeps share the database and the data folder (its secret), so one's tokens and
# cookies hold on the other.

export CREDS=/tmp/chatkeep-bench-creds.tsv
log "signing $USERS seeded users in through the auth API"
python3 bench/tokens.py "$CHATKEEP" "$USERS" "$CREDS"

mkdir -p bench/results
log "measuring"
python3 bench/run.py bench/results/latest.md
log "written to bench/results/latest.md"
