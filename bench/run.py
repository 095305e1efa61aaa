"""The measuring half of bench/bench.sh: runs each scenario against the servers the script
started, reads CPU time from /proc around it, and writes the Markdown report.

    python3 bench/run.py REPORT.md

Everything it needs comes from the environment bench.sh sets: CHATKEEP (base URL), CHATKEEP_PID,
UPSTREAM_CHATKEEP (a Chatkeep whose agent is the instant upstream), FLOOR (base URL), FLOOR_PID,
CREDS (bench/tokens.py's file), DURATION (closed-loop seconds), OPEN_SECONDS, CONNECTIONS,
PGURL (the benchmark database, for pgbench), QUICK (fewer scenarios).
"""

import json
import os
import platform
import subprocess
import sys
import time
from datetime import datetime, timezone

TICK = os.sysconf("SC_CLK_TCK")
ENV = os.environ


def cpu_seconds(pid):
    """User + system CPU of one process and its threads, in seconds."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def postgres_cpu():
    """CPU seconds PostgreSQL has used: every postgres process now running, plus what the
    postmaster has reaped of the backends that ended (its children's time)."""
    total = 0.0
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/comm") as f:
                if f.read().strip() != "postgres":
                    continue
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / TICK
            with open(f"/proc/{fields[1]}/comm") as f:
                parent_is_postgres = f.read().strip() == "postgres"
            if not parent_is_postgres:
                total += (int(fields[13]) + int(fields[14])) / TICK
        except OSError:
            continue
    return total


def peak_rss_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


def measured(run, server_pid):
    """Runs `run()` (which returns a dict with 'requests'), adding CPU per request."""
    server_before = cpu_seconds(server_pid)
    pg_before = postgres_cpu()
    result = run()
    result["server_us"] = (cpu_seconds(server_pid) - server_before) / max(result["requests"], 1) * 1e6
    result["pg_us"] = (postgres_cpu() - pg_before) / max(result["requests"], 1) * 1e6
    return result


def wrk(base, mode, cred, duration=None, connections=None):
    duration = duration or ENV.get("DURATION", "15")
    connections = connections or ENV.get("CONNECTIONS", "64")
    out = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{duration}s", "--timeout", "10s",
         "-s", "bench/bench.lua", base],
        env={**ENV, "MODE": mode, "CRED": cred, "ORIGIN": base},
        capture_output=True, text=True, check=True)
    stats = json.loads(out.stdout.strip().splitlines()[-1])
    stats["rps"] = stats["requests"] / stats["seconds"]
    stats["failed"] = stats["errors"] + stats["non2xx"]
    return stats


def oha(url, rate, token, seconds):
    out = subprocess.run(
        ["oha", "--no-tui", "--output-format", "json", "-z", f"{seconds}s", "-c", "1000",
         "-q", str(rate), "--latency-correction", "-m", "GET",
         "-H", f"authorization: Bearer {token}", url],
        capture_output=True, text=True, check=True)
    data = json.loads(out.stdout)
    summary = data["summary"]
    pct = data["latencyPercentiles"]
    codes = data.get("statusCodeDistribution", {})
    ok = int(codes.get("200", 0))
    total = sum(int(v) for v in codes.values())
    # Requests still open when the time is up are cut off, not failed.
    errors = sum(int(v) for k, v in data.get("errorDistribution", {}).items()
                 if k != "aborted due to deadline")
    return {
        "requests": total,
        "rps": summary["requestsPerSec"],
        "p50": pct["p50"] * 1000, "p95": pct["p95"] * 1000, "p99": pct["p99"] * 1000,
        "failed": total - ok + errors,
    }


def pgbench(script, client, seconds):
    """pgbench with a custom script: transactions a second and latency, as `client` logs in."""
    path = f"/tmp/chatkeep-bench-{abs(hash(script))}.sql"
    with open(path, "w") as f:
        f.write(script)
    url = ENV["PGURL"].replace("postgres@", f"{client}@")
    out = subprocess.run(
        ["pgbench", "-n", "-M", "prepared", "-c", "16", "-j", "2", "-T", str(seconds), "-f", path, url],
        capture_output=True, text=True, check=True).stdout
    tps = float(next(l for l in out.splitlines() if l.startswith("tps")).split()[2])
    count = int(next(l for l in out.splitlines() if "transactions actually processed" in l).split()[-1].split("/")[0])
    latency = float(next(l for l in out.splitlines() if l.startswith("latency average")).split()[3])
    # Its backends end with it; they count once the postmaster has reaped them.
    time.sleep(1)
    return {"requests": count, "rps": tps, "latency": latency}


LIST_QUERY = """SELECT id, title, pinned, archived_at, created_at, updated_at, last_message_at, active_message_id
  FROM conversation WHERE user_id = 'seed-user-' || :n AND archived_at IS NULL
 ORDER BY last_message_at DESC, id DESC LIMIT 11;"""


def rls_scripts():
    pick = "\\set n random(1, 10000)\n"
    return {
        "plain SELECT as the owner (no transaction, RLS bypassed)": pick + LIST_QUERY + "\n",
        "BEGIN; SET LOCAL ROLE + app.user_id; SELECT; COMMIT (Chatkeep's shape, RLS on)": pick
        + "BEGIN;\nSELECT set_config('role', 'chatkeep_app', true), set_config('app.user_id', 'seed-user-' || :n, true);\n"
        + LIST_QUERY + "\nCOMMIT;\n",
        "the same transaction as the owner, RLS bypassed (what the wall costs is the difference)": pick
        + "BEGIN;\nSELECT set_config('app.user_id', 'seed-user-' || :n, true);\n" + LIST_QUERY + "\nCOMMIT;\n",
    }


def fmt_row(name, r):
    cells = [name, f"{r['rps']:,.0f}"]
    cells += [f"{r[k]:.1f} ms" if r[k] >= 10 else f"{r[k]:.2f} ms" for k in ("p50", "p95", "p99")]
    cells += [f"{r['server_us']:.0f} µs", f"{r['pg_us']:.0f} µs", str(r["failed"])]
    return "| " + " | ".join(cells) + " |"


def main():
    report = sys.argv[1]
    quick = ENV.get("QUICK") == "1"
    chatkeep, floor = ENV["CHATKEEP"], ENV["FLOOR"]
    ck_pid, floor_pid = ENV["CHATKEEP_PID"], ENV["FLOOR_PID"]
    rows = []

    def closed(name, base, pid, mode, cred):
        print(f"  {name}", file=sys.stderr, flush=True)
        result = measured(lambda: wrk(base, mode, cred), pid)
        rows.append((name, result))
        return result

    # Warm PostgreSQL's cache first (after a fresh seed the first scenario to read a table
    # would otherwise pay for the disk, and the comparison with it).
    print("  warming up", file=sys.stderr, flush=True)
    for mode in ("conversations", "messages", "search"):
        wrk(chatkeep, mode, "jwt", duration=5 if quick else 10)

    floor_list = closed("floor (sqlx): conversation list, JWT", floor, floor_pid, "conversations", "jwt")
    list_jwt = closed("Chatkeep: conversation list, JWT", chatkeep, ck_pid, "conversations", "jwt")
    list_bearer = closed("Chatkeep: conversation list, bearer session token", chatkeep, ck_pid, "conversations", "bearer")
    if not quick:
        closed("Chatkeep: conversation list, session cookie", chatkeep, ck_pid, "conversations", "cookie")
    floor_messages = closed("floor (sqlx): newest 50 messages, JWT", floor, floor_pid, "messages", "jwt")
    messages_jwt = closed("Chatkeep: newest 50 messages, JWT", chatkeep, ck_pid, "messages", "jwt")
    if not quick:
        closed("Chatkeep: newest 50 messages, bearer session token", chatkeep, ck_pid, "messages", "bearer")
        closed("Chatkeep: newest 50 messages, session cookie", chatkeep, ck_pid, "messages", "cookie")
    search = closed("Chatkeep: search (one word, 20 hits), JWT", chatkeep, ck_pid, "search", "jwt")
    closed("Chatkeep: get-session, session cookie", chatkeep, ck_pid, "session", "cookie")
    if not quick:
        closed("Chatkeep: get-session, bearer session token", chatkeep, ck_pid, "session", "bearer")
    closed("Chatkeep: post a message, built-in agent, JWT", chatkeep, ck_pid, "post", "jwt")
    closed("Chatkeep: post a message, instant OpenAI-compatible upstream, JWT",
           ENV["UPSTREAM_CHATKEEP"], ENV["UPSTREAM_CHATKEEP_PID"], "post", "jwt")

    # Open loop: one user's JWT, fixed arrival rates, latency corrected for coordinated omission.
    token = open(ENV["CREDS"]).readline().split("\t")[3]
    open_rows = []
    seconds = ENV.get("OPEN_SECONDS", "30")
    rates = [1000, 2000, 5000] if not quick else [1000, 5000]
    for rate in rates:
        print(f"  open loop {rate}/s", file=sys.stderr, flush=True)
        r = measured(lambda: oha(f"{chatkeep}/api/conversations?limit=10", rate, token, seconds), ck_pid)
        open_rows.append((f"Chatkeep: conversation list, JWT, {rate:,}/s offered", r))
    r = measured(lambda: oha(f"{floor}/api/conversations", 5000, token, seconds), floor_pid)
    open_rows.append(("floor (sqlx): conversation list, JWT, 5,000/s offered", r))
    rss = peak_rss_mib(ck_pid)

    # The second wall's price, in PostgreSQL alone.
    rls_rows = []
    for name, script in rls_scripts().items():
        print(f"  pgbench: {name}", file=sys.stderr, flush=True)
        rls_rows.append((name, measured(lambda: pgbench(script, "postgres", 10), os.getpid())))

    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
    mem = next(l.split()[1] for l in open("/proc/meminfo") if l.startswith("MemTotal"))
    lines = [
        f"Measured {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC on {os.cpu_count()} cores ({cpu}), "
        f"{int(mem) // 1024 // 1024} GiB, {platform.system()} {platform.release()}; PostgreSQL, the servers "
        f"and the load generator share the machine. Release builds; `chatkeep seed` data (10k users, 100k "
        f"conversations, 1.1M messages); {sum(1 for _ in open(ENV['CREDS']))} users signed in through "
        f"the auth API, a random one per request. Closed loop: wrk, {ENV.get('CONNECTIONS', '64')} "
        f"connections, {ENV.get('DURATION', '15')} s each.",
        "",
        "| scenario | req/s | p50 | p95 | p99 | server CPU / req | PostgreSQL CPU / req | failed |",
        "|---|---|---|---|---|---|---|---|",
        *[fmt_row(n, r) for n, r in rows],
        "",
        f"Against the floor in the same run: conversation list {list_jwt['rps'] / floor_list['rps']:.0%} "
        f"of the floor's throughput with a JWT ({list_bearer['rps'] / floor_list['rps']:.0%} with a "
        f"session token); newest 50 messages {messages_jwt['rps'] / floor_messages['rps']:.0%}. "
        f"Search p95 {search['p95']:.1f} ms.",
        "",
        f"Open loop (oha, 1,000 connections, {seconds} s each, one user's JWT, latency corrected):",
        "",
        "| scenario | req/s done | p50 | p95 | p99 | server CPU / req | PostgreSQL CPU / req | failed |",
        "|---|---|---|---|---|---|---|---|",
        *[fmt_row(n, r) for n, r in open_rows],
        "",
        f"Chatkeep's peak RSS over the whole run: {rss:.0f} MiB.",
        "",
        "Row-level security's price in PostgreSQL alone (pgbench, 16 clients, prepared, the list "
        "query for a random seeded user):",
        "",
        "| shape | transactions/s | mean latency | PostgreSQL CPU / transaction |",
        "|---|---|---|---|",
        *[f"| {n} | {r['rps']:,.0f} | {r['latency']:.2f} ms | {r['pg_us']:.0f} µs |" for n, r in rls_rows],
        "",
    ]
    with open(report, "w") as f:
        f.write("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
