#!/usr/bin/env bash
# Chat latency: time to first streamed byte with the built-in agent, and what the proxy adds
# over an OpenAI-compatible upstream that streams instantly. Release build, fresh databases,
# one client on loopback (bench/chat_latency.py).   bench/bench-chat.sh [requests]
set -euo pipefail
source "$(dirname "$0")/../scripts/lib.sh"
cd "$ROOT"
requests="${1:-200}"
ensure_postgres
log "building the release server"
SQLX_OFFLINE=true cargo build --release -p chatkeep

pids=()
dbs=("chatkeep_bench_builtin_$$" "chatkeep_bench_proxy_$$")
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  for db in "${dbs[@]}"; do
    psql -q -h 127.0.0.1 -U postgres -d postgres -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null
  done
}
trap cleanup EXIT

start() { # port database extra-env...
  local port="$1" db="$2"; shift 2
  env DATABASE_URL="postgres://postgres@127.0.0.1:5432/$db" CHATKEEP_BIND="127.0.0.1:$port" \
    AUTH_RATE_LIMIT=off MESSAGE_RATE_LIMIT=100000 RUST_LOG=warn CHATKEEP_DATA_DIR="$(mktemp -d)" "$@" \
    "$TARGET_DIR/release/chatkeep" >/dev/null 2>&1 &
  pids+=($!)
  for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && return 0; sleep 0.2; done
  echo "Chatkeep on port $port did not start" >&2; exit 1
}
start 18090 "${dbs[0]}"
start 18091 "${dbs[1]}" AGENT_URL=http://127.0.0.1:18092 AGENT_MODEL=instant
python3 bench/chat_latency.py 18090 18091 18092 "$requests"
