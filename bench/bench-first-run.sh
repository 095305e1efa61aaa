#!/usr/bin/env bash
# How long the README's first command takes on a fresh machine: a fresh clone of COMMIT (default
# HEAD), an empty cargo home (no registry cache, no installed tools), an empty target folder, an
# empty npm cache, rustup's proxies only on PATH and no wasm32 target (it is installed again),
# then `./scripts/run.sh` with every output line stamped (seconds since the start) until the
# server listens and /healthz answers. PostgreSQL must be running, as the README assumes.
#   bench/bench-first-run.sh [COMMIT]     (about 4 minutes on the 2-core development machine)
set -euo pipefail
source "$(dirname "$0")/../scripts/lib.sh"
commit="$(git -C "$ROOT" rev-parse "${1:-HEAD}")"

work="$(mktemp -d)"
server=""
cleanup() {
  [ -n "$server" ] && kill "$server" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
git clone -q "$ROOT" "$work/clone" && git -C "$work/clone" checkout -q "$commit"
mkdir -p "$work/cargo-home/bin" "$work/proxies"
rustup_bin="$(command -v rustup)"
for proxy in cargo rustc rustup rustdoc rustfmt cargo-fmt cargo-clippy clippy-driver; do
  ln -s "$rustup_bin" "$work/proxies/$proxy"
done
path="$work/cargo-home/bin:$work/proxies:$(echo "$PATH" | tr ':' '\n' | grep -vx "$(dirname "$rustup_bin")" | paste -sd:)"
channel="$(sed -n 's/^channel = "\(.*\)"/\1/p' "$ROOT/rust-toolchain.toml")"
rustup target remove --toolchain "$channel" wasm32-unknown-unknown >/dev/null 2>&1 || true

port=18989
log "first run of $commit in $work/clone (port $port)"
start=$(date +%s.%N)
stamp() {
  while IFS= read -r line; do
    printf '[%6.1f] %s\n' "$(echo "$(date +%s.%N) - $start" | bc)" "$line"
  done
}
cd "$work/clone"
mkfifo "$work/out"
env PATH="$path" CARGO_HOME="$work/cargo-home" CARGO_TARGET_DIR="$work/target" \
  npm_config_cache="$work/npm-cache" CHATKEEP_BIND="127.0.0.1:$port" ./scripts/run.sh >"$work/out" 2>&1 &
server=$!
while IFS= read -r line; do
  echo "$line"
  if [[ "$line" == *"listening on"* ]]; then
    curl -fsS -o /dev/null "http://127.0.0.1:$port/healthz"
    printf 'first run: answering after %.0f s\n' "$(echo "$(date +%s.%N) - $start" | bc)"
    break
  fi
done < <(stamp <"$work/out")
