"""Credentials for bench/bench.sh, obtained the way a client gets them: each seeded user signs
in through POST /api/auth/sign-in/email (a real scrypt check), which gives the session token
(bearer) and the signed session cookie; GET /api/auth/token then gives a JWT. One line per user:
user-id, bearer token, cookie, JWT, the user's newest conversation id (tab separated).

    python3 bench/tokens.py BASE_URL USERS OUT_FILE
"""

import json
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor

PASSWORD = "seeded-password-1234"


def call(base, method, path, body=None, headers=None):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(base + path, data=data, method=method)
    request.add_header("content-type", "application/json")
    request.add_header("origin", base)
    for key, value in (headers or {}).items():
        request.add_header(key, value)
    with urllib.request.urlopen(request, timeout=60) as response:
        return response.headers, json.loads(response.read() or b"null")


def credentials(base, n):
    headers, body = call(base, "POST", "/api/auth/sign-in/email",
                         {"email": f"seed-user-{n}@example.com", "password": PASSWORD})
    token = body["token"]
    cookie = next(c.split(";", 1)[0] for c in headers.get_all("set-cookie")
                  if c.startswith("better-auth.session_token="))
    bearer = {"authorization": f"Bearer {token}"}
    _, jwt = call(base, "GET", "/api/auth/token", headers=bearer)
    _, page = call(base, "GET", "/api/conversations?limit=1", headers=bearer)
    return "\t".join([body["user"]["id"], token, cookie, jwt["token"], page["items"][0]["id"]])


def main():
    base, users, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    started = time.monotonic()
    # As many sign-ins at once as the server hashes passwords at once (one per core).
    with ThreadPoolExecutor(max_workers=4) as pool:
        lines = list(pool.map(lambda n: credentials(base, n), range(1, users + 1)))
    with open(out, "w") as f:
        f.write("\n".join(lines) + "\n")
    print(f"{users} users signed in through the auth API in {time.monotonic() - started:.1f} s",
          file=sys.stderr)


if __name__ == "__main__":
    main()
