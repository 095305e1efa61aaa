#!/usr/bin/env bash
# Hostile input against the API document: schemathesis generates requests from
# openapi/openapi.json (valid and invalid) and sends them, signed in, to a real Chatkeep (the
# debug build) on a fresh database. Every answer must be documented (status, content type and
# schema) and none may be a 5xx. Run by scripts/test.sh; exits non-zero on any failure.
#   EXAMPLES=N (default 100): examples per operation in the fuzzing phase.
#   SCHEMATHESIS_SEED=N: replay a run; by default every run draws a new seed (and prints it), so
#   that inputs one seed never generates (a NUL in a query string, once) are not left to chance.
set -uo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
ensure_schemathesis || exit 1

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
database="chatkeep_schemathesis_$$"
url="http://127.0.0.1:$port"
work="$(mktemp -d)"
server=""
cleanup() {
  [ -n "$server" ] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null
  psql -h 127.0.0.1 -U postgres -qc "DROP DATABASE IF EXISTS \"$database\" WITH (FORCE)" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

DATABASE_URL="postgres://postgres@127.0.0.1:5432/$database" CHATKEEP_BIND="127.0.0.1:$port" \
  BETTER_AUTH_URL="$url" AUTH_RATE_LIMIT=off CHATKEEP_DATA_DIR="$work/data" RUST_LOG=warn \
  MESSAGE_RATE_LIMIT=100000 "$TARGET_DIR/debug/chatkeep" >"$work/server.log" 2>&1 &
server=$!
for _ in $(seq 1 100); do curl -sf "$url/readyz" >/dev/null && break; sleep 0.2; done
curl -sf "$url/readyz" >/dev/null || { echo "Chatkeep did not start:"; cat "$work/server.log"; exit 1; }

# One signed-in user, with a conversation and an exchange, whose bearer token signs every request.
token=$(curl -s -D - -o /dev/null -H "origin: $url" -H 'content-type: application/json' \
  -d '{"name":"Schemathesis","email":"schemathesis@example.com","password":"correct horse battery"}' \
  "$url/api/auth/sign-up/email" | tr -d '\r' | awk 'tolower($1) == "set-auth-token:" { print $2 }')
[ -n "$token" ] || { echo "sign-up failed"; exit 1; }
conversation=$(curl -s -H "origin: $url" -H "authorization: Bearer $token" -H 'content-type: application/json' \
  -d '{"title":"Fuzzed"}' "$url/api/conversations" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
curl -s -o /dev/null -H "origin: $url" -H "authorization: Bearer $token" -H 'content-type: application/json' \
  -d '{"content":"What is Chatkeep?"}' "$url/api/conversations/$conversation/messages"

seed="${SCHEMATHESIS_SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}"
echo "schemathesis seed: $seed (replay with SCHEMATHESIS_SEED=$seed scripts/schemathesis.sh)"

# Operations that would end the session the run signs in with are left out: signing out,
# revoking sessions (schemathesis links list-sessions' tokens into revoke-session), changing the
# password, deleting the account. Their own tests cover them.
"$SCHEMATHESIS_VENV/bin/schemathesis" run openapi/openapi.json --url "$url" \
  -H "Authorization: Bearer $token" -H "Origin: $url" \
  --checks not_a_server_error,response_schema_conformance,status_code_conformance,content_type_conformance \
  --exclude-path-regex '^/api/auth/(sign-out|revoke-session|revoke-sessions|revoke-other-sessions|change-password|delete-user)$' \
  --exclude-name 'DELETE /api/me' \
  --max-examples "${EXAMPLES:-100}" --seed "$seed" --no-color \
  --report junit --report-junit-path "$work/junit.xml" 2>&1 | tee "$work/run.log"
status=${PIPESTATUS[0]}
cases=$(grep -oE '[0-9]+ generated' "$work/run.log" | tail -1 | grep -oE '[0-9]+' || echo 0)
echo "schemathesis: $cases test cases generated with seed $seed, exit status $status"
[ "$(curl -s -o /dev/null -w '%{http_code}' -H "authorization: Bearer $token" "$url/api/me")" = 200 ] \
  || { echo "the run's session was ended midway: its results are not trustworthy"; exit 1; }
exit "$status"
