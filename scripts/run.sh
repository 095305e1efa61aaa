#!/usr/bin/env bash
# The README's first command: installs what is missing, builds the SPA and the server, and runs
# Chatkeep in the foreground (http://127.0.0.1:8080 unless CHATKEEP_BIND says otherwise).
# Nothing to configure: the database is created and migrated, the built-in agent is used.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

ensure_postgres || true # if it is still down, the server says where it looked and what to do
scripts/build-spa.sh
log "building the server"
SQLX_OFFLINE=true cargo build -p chatkeep
exec "$TARGET_DIR/debug/chatkeep" "$@"
