#!/usr/bin/env python3
"""Chat latency, measured from a client on the same machine (stdlib only).

Started by bench/bench-chat.sh with two Chatkeep servers already running: one with the
built-in retrieval agent, one proxying to the instant fake upstream this script serves. Prints
time to first byte and to first delta through Chatkeep, and the fake upstream's own times, so the
proxy's added latency is the difference.
"""
import http.client
import http.server
import json
import statistics
import sys
import threading
import time

N = int(sys.argv[4]) if len(sys.argv) > 4 else 200

CHUNKS = [
    b'data: {"choices":[{"index":0,"delta":{"role":"assistant"}}]}\n\n',
    *[b'data: {"choices":[{"index":0,"delta":{"content":"word "}}]}\n\n' for _ in range(20)],
    b'data: {"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}\n\n',
    b'data: [DONE]\n\n',
]


class InstantUpstream(http.server.BaseHTTPRequestHandler):
    """An OpenAI-compatible endpoint that streams its whole answer at once."""

    protocol_version = "HTTP/1.1"
    # Real upstreams send each chunk at once; with Nagle on, the body would wait for the
    # client's delayed ACK of the headers (~40 ms) and we would be measuring the kernel.
    disable_nagle_algorithm = True

    def do_POST(self):
        self.rfile.read(int(self.headers.get("content-length", 0)))
        body = b"".join(CHUNKS)
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def request(host, port, path, body, headers):
    """Returns (time to first byte, time to first delta event, total) in milliseconds."""
    conn = http.client.HTTPConnection(host, port, timeout=30)
    start = time.perf_counter()
    conn.request("POST", path, body=json.dumps(body), headers=headers)
    response = conn.getresponse()
    first_byte = first_delta = None
    buffer = b""
    while True:
        chunk = response.read1(65536)
        if not chunk:
            break
        now = time.perf_counter()
        if first_byte is None:
            first_byte = now
        buffer += chunk
        if first_delta is None and (b"event: delta" in buffer or b'"content":"word' in buffer):
            first_delta = now
    total = time.perf_counter()
    conn.close()
    if response.status != 200:
        raise SystemExit(f"{path}: HTTP {response.status}: {buffer[:200]!r}")
    ms = lambda t: (t - start) * 1000 if t else float("nan")
    return ms(first_byte), ms(first_delta), ms(total)


def summary(name, samples):
    cols = list(zip(*samples))
    def p(values, q):
        values = sorted(values)
        return values[min(len(values) - 1, int(q * len(values)))]
    print(f"{name}")
    for label, values in zip(["first byte", "first delta", "whole answer"], cols):
        print(f"  {label:13} p50 {p(values, 0.5):7.2f} ms   p95 {p(values, 0.95):7.2f} ms   mean {statistics.mean(values):7.2f} ms")


def sign_up_and_conversation(port):
    conn = http.client.HTTPConnection("127.0.0.1", port)
    email = f"bench-{time.time_ns()}@example.com"
    conn.request("POST", "/api/auth/sign-up/email", body=json.dumps(
        {"name": "Bench", "email": email, "password": "correct horse battery staple"}),
        headers={"content-type": "application/json"})
    response = conn.getresponse()
    token = response.getheader("set-auth-token")
    response.read()
    auth = {"authorization": f"Bearer {token}", "content-type": "application/json"}
    conn.request("POST", "/api/conversations", headers=auth)
    conversation = json.loads(conn.getresponse().read())["id"]
    conn.close()
    return auth, conversation


def chatkeep_samples(port, question):
    auth, conversation = sign_up_and_conversation(port)
    headers = {**auth, "accept": "text/event-stream"}
    path = f"/api/conversations/{conversation}/messages"
    for _ in range(10):  # warm-up: connections, caches
        request("127.0.0.1", port, path, {"content": question}, headers)
    return [request("127.0.0.1", port, path, {"content": question}, headers) for _ in range(N)]


def main():
    builtin_port, proxy_port, upstream_port = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    server = http.server.ThreadingHTTPServer(("127.0.0.1", upstream_port), InstantUpstream)
    threading.Thread(target=server.serve_forever, daemon=True).start()

    print(f"{N} sequential questions each (after 10 warm-up), SSE, one client on loopback\n")
    summary("Chatkeep, built-in retrieval agent", chatkeep_samples(builtin_port, "How do I delete my account?"))
    direct = [request("127.0.0.1", upstream_port, "/v1/chat/completions", {"model": "m", "stream": True},
                      {"content-type": "application/json"}) for _ in range(N)]
    summary("Fake upstream alone (instant, 20 deltas)", direct)
    proxied = chatkeep_samples(proxy_port, "Say twenty words")
    summary("Chatkeep proxying that upstream", proxied)
    added_first = statistics.median(s[1] for s in proxied) - statistics.median(s[1] for s in direct)
    added_total = statistics.median(s[2] for s in proxied) - statistics.median(s[2] for s in direct)
    print(f"\nadded by Chatkeep (median): {added_first:.2f} ms to the first delta, {added_total:.2f} ms to the whole answer")
    server.shutdown()


if __name__ == "__main__":
    main()
