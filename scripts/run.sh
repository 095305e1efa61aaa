#!/usr/bin/env bash
# The README's first command: installs what is missing, builds the SPA and the server, and runs
# Chatkeep in the foreground (http://127.0.0.1:8080 unless CHATKEEP_BIND says otherwise).
# Nothing to configure: the database is created and migrated, the built-in agent is used.
#
# The SPA is the quick build (one file, not optimised for size: scripts/build-spa.sh --quick),
# minutes sooner on a fresh machine. `scripts/run.sh --release-spa` builds the small, split one
# that CI checks and the Docker image ships. Every step says how long it took.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

spa=(--quick)
if [ "${1:-}" = "--release-spa" ]; then
  spa=()
  shift
fi

started=$SECONDS
timed "PostgreSQL" ensure_postgres || true # if still down, the server says where it looked and what to do
timed "the WebAssembly tools (wasm32 target, wasm-bindgen-cli; once)" \
  eval 'ensure_wasm_target && ensure_wasm_bindgen'
timed "the SPA (scripts/build-spa.sh ${spa[*]})" scripts/build-spa.sh "${spa[@]}"
timed "the server (cargo build -p chatkeep)" env SQLX_OFFLINE=true cargo build -p chatkeep
log "built in $(duration $((SECONDS - started))):"
timings
log "starting Chatkeep"
exec "$TARGET_DIR/debug/chatkeep" "$@"
