#!/usr/bin/env bash
# The app's history features measured in Chromium (e2e/bench/app-perf.mjs): search from
# keypress to results painted on the seeded heavy user (100,000 messages, the data of
# bench-history-features.sh), and the time to reattach to a running answer after a reload.
# Builds the release server and the SPA, seeds once (a few minutes), then prints the table.
set -euo pipefail
source "$(dirname "$0")/../scripts/lib.sh"
cd "$ROOT"
ensure_postgres
ensure_chromium
ensure_npm_deps "$ROOT/e2e"
scripts/build-spa.sh
log "building the release server"
cargo build --release -p chatkeep
ensure_seeded_history_db chatkeep_bench_history
log "measuring in Chromium"
CHATKEEP_BIN="$TARGET_DIR/release/chatkeep" SEEDED_DB=chatkeep_bench_history node e2e/bench/app-perf.mjs
