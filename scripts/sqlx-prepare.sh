#!/usr/bin/env bash
# Refreshes .sqlx/ (the offline query data that lets `query!` compile without a database).
# Run it after changing any SQL in the backend or any migration. `--check` only verifies.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

ensure_postgres
if ! cargo sqlx --version 2>/dev/null | grep -q "0.9.0"; then
  log "installing sqlx-cli 0.9.0 (about a minute, once)"
  CARGO_PROFILE_DEV_DEBUG=0 cargo install sqlx-cli --version 0.9.0 --no-default-features \
    --features postgres,sqlx-toml --debug
fi

# A scratch database with every migration applied, for the macros to describe queries against.
export DATABASE_URL="postgres://postgres@127.0.0.1:5432/chatkeep_sqlx_prepare"
cargo sqlx database drop -y >/dev/null 2>&1 || true
cargo sqlx database create
cargo sqlx migrate run --source migrations >/dev/null
unset SQLX_OFFLINE
cargo sqlx prepare --workspace "$@" -- --all-targets
cargo sqlx database drop -y >/dev/null
