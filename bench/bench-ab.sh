#!/usr/bin/env bash
# Before and after: two builds of the server measured in alternating rounds on the same data,
# so that a change is judged against the machine's noise (a single run on this 2-core machine
# moves by 10-15% on its own). Run bench/bench.sh once first: it seeds the database, signs the
# users in and leaves their credentials and the server's data folder behind.
#   bench/bench-ab.sh BIN_A BIN_B [rounds=4] [seconds=10] [mode=conversations] [cred=jwt]
# Prints each round and the median req/s and server/PostgreSQL CPU per request of each build.
set -euo pipefail
source "$(dirname "$0")/../scripts/lib.sh"
cd "$ROOT"
a="$1" b="$2" rounds="${3:-4}" mode="${5:-conversations}" cred="${6:-jwt}"
export DURATION="${4:-10}"
export CREDS=/tmp/chatkeep-bench-creds.tsv PGURL="postgres://postgres@127.0.0.1:5432/chatkeep_bench_history"
[ -s "$CREDS" ] || { echo "no credentials: run bench/bench.sh first" >&2; exit 1; }
ulimit -n 65536 2>/dev/null || true
pid=""
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null || true' EXIT
for round in $(seq 1 "$rounds"); do
  for side in A B; do
    bin="$a"; [ "$side" = B ] && bin="$b"
    DATABASE_URL="$PGURL" CHATKEEP_DATA_DIR="$TARGET_DIR/bench-data" RUST_LOG=warn AUTH_RATE_LIMIT=off \
      CHATKEEP_BIND=127.0.0.1:18100 BETTER_AUTH_URL=http://127.0.0.1:18100 "$bin" >/dev/null 2>&1 &
    pid=$!
    for _ in $(seq 1 150); do curl -sf http://127.0.0.1:18100/readyz >/dev/null && break; sleep 0.2; done
    CHATKEEP_PID=$pid python3 - "$side" "$round" "$mode" "$cred" <<'PY'
import os, sys
sys.path.insert(0, "bench")
import run
side, round_, mode, cred = sys.argv[1:]
r = run.measured(lambda: run.wrk("http://127.0.0.1:18100", mode, cred), os.environ["CHATKEEP_PID"])
print(f"{side} {round_} {r['rps']:.0f} {r['server_us']:.0f} {r['pg_us']:.0f} {r['failed']}", flush=True)
PY
    kill "$pid"; wait "$pid" 2>/dev/null || true; pid=""
  done
done | tee /tmp/chatkeep-ab.txt
python3 - <<'PY'
from statistics import median
rows = [l.split() for l in open("/tmp/chatkeep-ab.txt")]
for side in "AB":
    mine = [r for r in rows if r[0] == side]
    print(f"{side}: median {median(float(r[2]) for r in mine):,.0f} req/s, server "
          f"{median(float(r[3]) for r in mine):.0f} µs/req, PostgreSQL {median(float(r[4]) for r in mine):.0f} µs/req, "
          f"failed {sum(int(r[5]) for r in mine)}")
PY
