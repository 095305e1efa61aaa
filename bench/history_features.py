#!/usr/bin/env python3
"""Measures the history features against a running release server on the seeded database:
search latency (the heavy user and random typical users; full words and prefixes), exporting
the heavy user (messages per second, the server's peak RSS), importing a generated ~100 MB
ChatGPT export (time, peak RSS), and deleting every conversation of that import at once.
Standard library only. Used by bench/bench-history-features.sh, which prints the results.

    history_features.py BASE_URL SERVER_PID HEAVY_TOKEN TYPICAL_TOKENS_FILE
"""

import http.client
import json
import os
import random
import statistics
import sys
import tempfile
import time
import urllib.parse

BASE, PID, HEAVY, TYPICAL_FILE = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
HOST = urllib.parse.urlparse(BASE)
random.seed(7)

FULL_WORDS = ["database", "tomato garden", '"proxy nginx"', "kernel -thread", "retrieval OR embedding"]
PREFIXES = ["datab", "conv", "garden wat", "lex", "migr"]


def connection():
    return http.client.HTTPConnection(HOST.hostname, HOST.port, timeout=600)


def request(conn, method, path, token, body=None, headers=None):
    h = {"authorization": "Bearer " + token}
    h.update(headers or {})
    started = time.perf_counter()
    conn.request(method, path, body=body, headers=h)
    response = conn.getresponse()
    data = response.read()
    return time.perf_counter() - started, response.status, data


def peak_rss_reset():
    with open(f"/proc/{PID}/clear_refs", "w") as f:
        f.write("5")


def rss():
    fields = {}
    with open(f"/proc/{PID}/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                fields[key] = int(value.split()[0]) / 1024
    return fields


def percentile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def search_latency(tokens, queries, rounds):
    conn = connection()
    times, hits = [], []
    for i in range(rounds):
        token = tokens[i % len(tokens)] if len(tokens) > 1 else tokens[0]
        q = queries[i % len(queries)]
        t, status, body = request(conn, "GET", "/api/search?" + urllib.parse.urlencode({"q": q}), token)
        assert status == 200, (status, body[:200])
        times.append(t * 1000)
        hits.append(len(json.loads(body)["items"]))
    return percentile(times, 50), percentile(times, 95), statistics.mean(hits)


def generate_chatgpt(path, target_bytes):
    """A conversations.json of about `target_bytes`: linear conversations of 20 messages with an
    occasional second answer (a branch), realistic-length text."""
    words = ("the of and to in is that for it with on as was this data model answer question "
             "tomato garden water recipe oven travel train museum kernel parser thread cache "
             "index query search export import history branch source vector retrieval").split()
    conversations = 0
    with open(path, "w") as f:
        f.write("[")
        while f.tell() < target_bytes:
            if conversations:
                f.write(",")
            t = 1_700_000_000 + conversations * 600.0
            mapping = {"root": {"id": "root", "message": None, "parent": None, "children": []}}
            parent = "root"
            for m in range(20):
                node = f"n{m}"
                role = "user" if m % 2 == 0 else "assistant"
                text = " ".join(random.choice(words) for _ in range(random.randint(10, 60)))
                mapping[node] = {"id": node, "parent": parent, "children": [], "message": {
                    "id": node, "author": {"role": role}, "create_time": t + m * 10.5,
                    "content": {"content_type": "text", "parts": [text]},
                    "metadata": {}, "recipient": "all"}}
                mapping[parent]["children"].append(node)
                parent = node
            json.dump({"title": f"Generated conversation {conversations}", "create_time": t,
                       "update_time": t + 300, "conversation_id": f"gen-{conversations}",
                       "current_node": parent, "mapping": mapping}, f)
            conversations += 1
        f.write("]")
    return conversations


def main():
    typical = [line.strip() for line in open(TYPICAL_FILE) if line.strip()]
    print("| search | full words p50 | p95 | prefixes p50 | p95 | hits per page |")
    print("|---|---|---|---|---|---|")
    for who, tokens, rounds in (("heavy user (100,000 messages)", [HEAVY], 200),
                                ("random typical users (100 messages)", typical, 400)):
        full = search_latency(tokens, FULL_WORDS, rounds)
        prefix = search_latency(tokens, PREFIXES, rounds)
        print(f"| {who} | {full[0]:.1f} ms | {full[1]:.1f} ms | {prefix[0]:.1f} ms | "
              f"{prefix[1]:.1f} ms | {statistics.mean([full[2], prefix[2]]):.1f} |")

    if os.environ.get("SEARCH_ONLY"):
        return
    conn = connection()
    base = rss()
    peak_rss_reset()
    t, status, body = request(conn, "GET", "/api/me/export", HEAVY)
    assert status == 200, status
    document = json.loads(body)
    messages = sum(len(c["messages"]) for c in document["conversations"])
    after = rss()
    print()
    print(f"export of the heavy user: {messages} messages, {len(body) / 1e6:.1f} MB in {t:.2f} s "
          f"= {messages / t:,.0f} messages/s; server RSS {base['VmRSS']:.0f} MiB before, "
          f"peak {after['VmHWM']:.0f} MiB during")

    # A fresh account for the import, signed up through the API.
    email = f"bench-import-{int(time.time())}@example.com"
    conn.request("POST", "/api/auth/sign-up/email",
                 body=json.dumps({"name": "Bench", "email": email, "password": "bench-password-1234"}),
                 headers={"content-type": "application/json", "origin": BASE})
    response = conn.getresponse()
    token = json.loads(response.read())["token"]
    path = os.path.join(tempfile.gettempdir(), "chatkeep-bench-chatgpt.json")
    if not os.path.exists(path) or os.path.getsize(path) < 95_000_000:
        generate_chatgpt(path, 99_000_000)
    size = os.path.getsize(path)
    base = rss()
    peak_rss_reset()
    # A new connection: the server closes one idle for its keep-alive (5 s) while the file is made.
    conn = connection()
    with open(path, "rb") as f:
        t, status, body = request(conn, "POST", "/api/me/import", token, body=f,
                                  headers={"content-length": str(size),
                                           "content-type": "application/json"})
    assert status == 200, (status, body[:300])
    report = json.loads(body)
    after = rss()
    print(f"import of a generated ChatGPT conversations.json, {size / 1e6:.1f} MB: "
          f"{report['imported']} conversations, {report['messages']} messages in {t:.1f} s "
          f"({report['messages'] / t:,.0f} messages/s); server RSS {base['VmRSS']:.0f} MiB "
          f"before, peak {after['VmHWM']:.0f} MiB during")

    t, status, body = request(conn, "DELETE", "/api/conversations", token,
                              body=json.dumps({"all": True}),
                              headers={"content-type": "application/json", "origin": BASE})
    assert status == 200, (status, body)
    done = json.loads(body)
    print(f"delete all at once: {done['deleted']} conversations, {done['messages']} messages "
          f"in {t:.2f} s")


main()
