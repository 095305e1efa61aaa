#!/usr/bin/env bash
# The README's second command: every test. Rust unit and HTTP integration tests against the real
# PostgreSQL (one fresh database per test), then the end-to-end suites (the SPA in Debian's
# Chromium; interop with the real better-auth package). Installs or starts what they need.
# Ends with one line: "Total: N passed, M failed".
set -uo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
export SQLX_OFFLINE=true

ensure_postgres || exit 1
ensure_redis || exit 1
ensure_nextest
ensure_pgbouncer >/dev/null || exit 1
ensure_nginx || exit 1
ensure_chromium
ensure_npm_deps "$ROOT/e2e"
scripts/build-spa.sh || exit 1
# The quick build scripts/run.sh serves, for its own end-to-end test (e2e/quick-build.test.mjs).
export QUICK_SPA_DIR="$TARGET_DIR/spa-quick"
CHATKEEP_SPA_DIR="$QUICK_SPA_DIR" scripts/build-spa.sh --quick || exit 1
log "building the server"
cargo build -p chatkeep || exit 1

# #[sqlx::test] creates a database per test through this server-level URL.
export DATABASE_URL="${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}"

logs="$(mktemp -d)"
trap 'rm -rf "$logs"' EXIT
log "Rust tests (cargo nextest)"
cargo nextest run --workspace --no-fail-fast 2>&1 | tee "$logs/rust.log"
rust_status=${PIPESTATUS[0]}

# The production database path: the same auth, chat and history tests with the app's pool
# behind a real PgBouncer in transaction mode (two server connections for its five).
log "Rust tests once more, through PgBouncer in transaction mode"
CHATKEEP_TEST_VIA_PGBOUNCER=1 cargo nextest run -p chatkeep --test api --no-fail-fast \
  -E 'test(/^(auth|messages|conversations|history|load)::/)' 2>&1 | tee "$logs/pooled.log"
pooled_status=${PIPESTATUS[0]}

log "end-to-end tests (node --test)"
(cd e2e && npm test --silent) 2>&1 | tee "$logs/e2e.log"
e2e_status=${PIPESTATUS[0]}

# The official-client suites (sessions and accounts; the email flows over real SMTP; guests;
# identity providers through the real OpenID provider; administrators) once more against the
# real Better Auth server: proof that what they expect of Chatkeep is what Better Auth itself does.
log "the official-client suite against Better Auth itself (reference run)"
(cd e2e && AUTH_TARGET=better-auth node --test --test-concurrency=1 --test-reporter=spec auth-client.test.mjs email-flows.test.mjs guests.test.mjs providers.test.mjs admin.test.mjs) 2>&1 | tee "$logs/reference.log"
reference_status=${PIPESTATUS[0]}

# Hostile input against the API document (schemathesis, signed in, against the debug build).
log "schemathesis against openapi/openapi.json"
scripts/schemathesis.sh 2>&1 | tee "$logs/schemathesis.log"
schemathesis_status=${PIPESTATUS[0]}

strip() { sed -e 's/\x1b\[[0-9;]*m//g' "$1"; }
nextest_count() { # log, passed|failed
  strip "$1" | grep -E '^ *Summary ' | tail -n1 | grep -oE "[0-9]+ $2" | grep -oE '[0-9]+' || echo 0
}
rust_passed=$(( $(nextest_count "$logs/rust.log" passed) + $(nextest_count "$logs/pooled.log" passed) ))
rust_failed=$(( $(nextest_count "$logs/rust.log" failed) + $(nextest_count "$logs/pooled.log" failed) ))
count() { strip "$1" | grep -E "^ℹ $2 " | tail -n1 | grep -oE '[0-9]+' || echo 0; }
e2e_passed=$(( $(count "$logs/e2e.log" pass) + $(count "$logs/reference.log" pass) ))
e2e_failed=$(( $(count "$logs/e2e.log" fail) + $(count "$logs/reference.log" fail) ))
# The schemathesis run counts as one test: all its cases pass or it fails.
if [ "$schemathesis_status" -eq 0 ]; then e2e_passed=$((e2e_passed + 1)); else e2e_failed=$((e2e_failed + 1)); fi

# A suite that crashed before summarising counts as a failure even with no failed test listed.
[ "$rust_status" -ne 0 ] || [ "$pooled_status" -ne 0 ] && [ "$rust_failed" -eq 0 ] && rust_failed=1
[ "$e2e_status" -ne 0 ] || [ "$reference_status" -ne 0 ] && [ "$e2e_failed" -eq 0 ] && e2e_failed=1

passed=$((rust_passed + e2e_passed))
failed=$((rust_failed + e2e_failed))
echo "Rust: $rust_passed passed, $rust_failed failed; end-to-end: $e2e_passed passed, $e2e_failed failed"
echo "Total: $passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
