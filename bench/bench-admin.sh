#!/usr/bin/env bash
# The administrators' reads over the seeded history (10,000 users, 1.1M messages; bench/bench.sh's
# database, seeded once): Better Auth's GET /api/auth/admin/list-users and the Admin page's
# GET /api/admin/users (which also counts each listed account's conversations, messages, bytes
# and questions today through admin_user_usage), pages of 50 at random offsets and searches,
# one connection, one request at a time, against the release build. Prints p50/p95/p99.
#   bench/bench-admin.sh            # REQUESTS (300) per scenario
set -euo pipefail
source "$(dirname "$0")/../scripts/lib.sh"
cd "$ROOT"
export REQUESTS="${REQUESTS:-300}"

ensure_postgres
log "building release"
SQLX_OFFLINE=true cargo build --release -p chatkeep
db="chatkeep_bench_history"
url="postgres://postgres@127.0.0.1:5432/$db"
ensure_seeded_history_db "$db"
DATABASE_URL="$url" RUST_LOG=warn "$TARGET_DIR/release/chatkeep" admin grant seed-user-1@example.com
token="$(psql -tA -h 127.0.0.1 -U postgres -d "$db" -c "SELECT md5(id) FROM \"user\" WHERE email = 'seed-user-1@example.com'")"

data_dir="$TARGET_DIR/bench-data"; mkdir -p "$data_dir"
port=18110
DATABASE_URL="$url" CHATKEEP_DATA_DIR="$data_dir" RUST_LOG=warn AUTH_RATE_LIMIT=off \
  CHATKEEP_BIND="127.0.0.1:$port" BETTER_AUTH_URL="http://127.0.0.1:$port" \
  "$TARGET_DIR/release/chatkeep" &
pid=$!
trap 'kill $pid 2>/dev/null || true; wait 2>/dev/null || true' EXIT
for _ in $(seq 1 150); do curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.2; done

python3 - "$port" "$token" <<'PY'
import http.client, json, random, statistics, sys, time
port, token = int(sys.argv[1]), sys.argv[2]
n = int(__import__("os").environ["REQUESTS"])
conn = http.client.HTTPConnection("127.0.0.1", port)
def timed(path):
    start = time.perf_counter()
    conn.request("GET", path, headers={"authorization": f"Bearer {token}"})
    response = conn.getresponse()
    body = response.read()
    elapsed = (time.perf_counter() - start) * 1000
    assert response.status == 200, (path, response.status, body[:200])
    return elapsed, json.loads(body)
first = timed("/api/auth/admin/list-users?limit=1")[1]
print(f"users in the database: {first['total']}")
scenarios = {
    "list-users, 50 at a random offset, newest first": lambda: f"/api/auth/admin/list-users?limit=50&offset={random.randrange(0, 9950)}&sortBy=createdAt&sortDirection=desc",
    "list-users, email contains a number": lambda: f"/api/auth/admin/list-users?searchValue=user-{random.randrange(1, 10000)}&limit=50",
    "Admin page, 50 at a random offset, with usage": lambda: f"/api/admin/users?limit=50&offset={random.randrange(0, 9950)}",
    "Admin page, search, with usage": lambda: f"/api/admin/users?q=user-{random.randrange(1, 10000)}&limit=50",
}
print(f"| scenario ({n} requests, one at a time) | p50 ms | p95 ms | p99 ms |")
print("|---|---|---|---|")
for name, path in scenarios.items():
    for _ in range(20):
        timed(path())
    times = sorted(timed(path())[0] for _ in range(n))
    q = statistics.quantiles(times, n=100)
    print(f"| {name} | {q[49]:.1f} | {q[94]:.1f} | {q[98]:.1f} |")
PY
