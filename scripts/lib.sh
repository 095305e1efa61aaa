# Shared helpers for scripts/*.sh and .ci/run. Source it; it changes nothing by itself.
# Every ensure_* installs or starts one thing only when it is missing, and says so.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
WASM_BINDGEN_VERSION="0.2.130"

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

# Seconds as "42s" or "3m 05s".
duration() {
  if [ "$1" -ge 60 ]; then printf '%dm %02ds' $(($1 / 60)) $(($1 % 60)); else printf '%ds' "$1"; fi
}

# `timed "what it does" command...`: one step of a long command, said before it starts and timed
# when it ends; `timings` lists the steps so far. A newcomer never watches a silent terminal.
TIMINGS=()
timed() {
  local what=$1 started=$SECONDS
  shift
  log "$what"
  "$@" || return
  local took=$((SECONDS - started))
  TIMINGS+=("$what: $(duration "$took")")
  log "$what: done in $(duration "$took")"
}
timings() {
  local line
  for line in "${TIMINGS[@]}"; do printf '    %s\n' "$line" >&2; done
}

ensure_wasm_target() {
  if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
    log "installing the wasm32-unknown-unknown Rust target"
    rustup target add wasm32-unknown-unknown
  fi
}

ensure_wasm_bindgen() {
  if ! wasm-bindgen --version 2>/dev/null | grep -q " $WASM_BINDGEN_VERSION\$"; then
    log "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION (about a minute, once)"
    # A debug build of the tool works the same and builds in a fraction of the time.
    CARGO_PROFILE_DEV_DEBUG=0 cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION" --debug
  fi
}

# Cuts the SPA's WASM at its `#[lazy]` points into files loaded on demand (what cargo-leptos
# does for Leptos's lazy routes).
WASM_SPLIT_VERSION="0.2.4"
ensure_wasm_split() {
  if ! command -v wasm-split-cli >/dev/null \
     || ! cargo install --list | grep -q "^wasm_split_cli_support v$WASM_SPLIT_VERSION:"; then
    log "installing wasm-split-cli $WASM_SPLIT_VERSION (about a minute, once)"
    CARGO_PROFILE_DEV_DEBUG=0 cargo install wasm_split_cli_support --version "$WASM_SPLIT_VERSION" \
      --features build-binary --locked --debug --force
  fi
}

# cargo deny's licence, ban and source checks (deny.toml).
CARGO_DENY_VERSION="0.20.2"
ensure_cargo_deny() {
  if ! cargo deny --version 2>/dev/null | grep -q " $CARGO_DENY_VERSION\$"; then
    log "installing cargo-deny $CARGO_DENY_VERSION (a few minutes, once)"
    CARGO_PROFILE_RELEASE_DEBUG=0 cargo install cargo-deny --version "$CARGO_DENY_VERSION" --locked
  fi
}

# schemathesis (PyPI), pinned, in its own virtualenv.
SCHEMATHESIS_VERSION="4.32.5"
SCHEMATHESIS_VENV="${CHATKEEP_TOOLS_DIR:-$HOME/.cache/chatkeep-tools}/schemathesis-venv"
ensure_schemathesis() {
  if ! "$SCHEMATHESIS_VENV/bin/schemathesis" --version 2>/dev/null | grep -q " $SCHEMATHESIS_VERSION\$"; then
    log "installing schemathesis $SCHEMATHESIS_VERSION into $SCHEMATHESIS_VENV (once)"
    python3 -m venv "$SCHEMATHESIS_VENV" || return 1
    "$SCHEMATHESIS_VENV/bin/pip" install -q "schemathesis==$SCHEMATHESIS_VERSION" || return 1
  fi
}

ensure_frontend_tools() {
  ensure_npm_deps "$ROOT/frontend"
}

pg_is_up() {
  if command -v pg_isready >/dev/null; then
    pg_isready -q -h 127.0.0.1 -p 5432
  else
    (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null
  fi
}

ensure_postgres() {
  pg_is_up && return 0
  if command -v pg_ctlcluster >/dev/null && [ -d /etc/postgresql ]; then
    log "starting PostgreSQL"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -n1)" main start || true
    for _ in $(seq 1 30); do pg_is_up && return 0; sleep 1; done
  fi
  echo "PostgreSQL is not running at 127.0.0.1:5432 and could not be started." >&2
  echo "Start it, or set DATABASE_URL to a running server." >&2
  return 1
}

ensure_chromium() {
  if [ ! -x "${CHROMIUM_PATH:-/usr/bin/chromium}" ]; then
    log "installing Debian's Chromium for the browser tests"
    local sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium >/dev/null
  fi
}

# Debian's docker-compose (v1.29, the one Debian 12 packages); `config` needs no Docker daemon.
ensure_docker_compose() {
  command -v docker-compose >/dev/null && return 0
  log "installing Debian's docker-compose"
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq docker-compose >/dev/null
}

ensure_nextest() {
  if ! cargo nextest --version >/dev/null 2>&1; then
    log "installing cargo-nextest"
    cargo install cargo-nextest --locked
  fi
}

# npm ci only when the lockfile changed since the last install.
ensure_npm_deps() {
  local dir="$1"
  if [ ! -d "$dir/node_modules" ] || ! cmp -s "$dir/package-lock.json" "$dir/node_modules/.package-lock.json.installed"; then
    log "installing npm packages in ${dir#"$ROOT"/}"
    npm ci --prefix "$dir" --no-audit --no-fund --loglevel=error
    cp "$dir/package-lock.json" "$dir/node_modules/.package-lock.json.installed"
  fi
}

ensure_redis() {
  if command -v redis-cli >/dev/null && redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null | grep -q PONG; then
    return 0
  fi
  if ! command -v redis-server >/dev/null; then
    log "installing Debian's Redis for the shared rate-limit tests"
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq redis-server >/dev/null
  fi
  if command -v redis-server >/dev/null; then
    log "starting Redis"
    redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no \
      --dir /tmp --logfile /tmp/chatkeep-redis.log
    for _ in $(seq 1 20); do redis-cli ping 2>/dev/null | grep -q PONG && return 0; sleep 0.5; done
  fi
  echo "Redis is not running at 127.0.0.1:6379 and could not be started (the shared rate-limit test needs it)." >&2
  return 1
}

# nginx as the load balancer in front of two instances (tests/api/scale_out.rs runs the shipped
# deploy/nginx.conf). Only the binary is used: the tests start their own, on their own ports.
ensure_nginx() {
  if [ -x "${CHATKEEP_NGINX:-/usr/sbin/nginx}" ]; then
    return 0
  fi
  log "installing Debian's nginx for the scale-out tests"
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  # policy-rc.d keeps the package from starting a system nginx on port 80.
  printf '#!/bin/sh\nexit 101\n' | $sudo tee /usr/sbin/policy-rc.d >/dev/null
  $sudo chmod +x /usr/sbin/policy-rc.d
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq nginx-light >/dev/null \
    || DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq nginx >/dev/null
  $sudo rm -f /usr/sbin/policy-rc.d
  [ -x /usr/sbin/nginx ] || { echo "nginx could not be installed (the scale-out tests need it)." >&2; return 1; }
}

# PgBouncer in transaction mode is what a pooled Neon URL is, and Neon's pooler (PgBouncer 1.22
# and later) keeps the driver's named prepared statements working (`max_prepared_statements`).
# Debian 12's own package is 1.18, which predates that, so the tests run Debian 13's package
# (1.24), unpacked under ~/.cache with the libraries it was built against and started through
# their loader: nothing on the system changes. Prints the path of a `pgbouncer` wrapper.
PGBOUNCER_DIR="${CHATKEEP_TOOLS_DIR:-$HOME/.cache/chatkeep-tools}/pgbouncer-trixie"
ensure_pgbouncer() {
  local wrapper="$PGBOUNCER_DIR/pgbouncer"
  if [ -x "$wrapper" ] && "$wrapper" --version >/dev/null 2>&1; then
    echo "$wrapper"
    return 0
  fi
  log "fetching Debian 13's pgbouncer and its libraries into $PGBOUNCER_DIR (once)"
  local mirror="http://deb.debian.org/debian" work
  work="$(mktemp -d)"
  curl -fsS "$mirror/dists/trixie/main/binary-amd64/Packages.xz" -o "$work/Packages.xz" || return 1
  rm -rf "$PGBOUNCER_DIR" && mkdir -p "$PGBOUNCER_DIR/root"
  local package file
  for package in pgbouncer libc6 libcares2 libevent-2.1-7t64 libssl3t64; do
    file=$(xz -dc "$work/Packages.xz" \
      | awk -v p="$package" '$0 == "Package: " p { found = 1 } found && /^Filename:/ { print $2; exit }')
    [ -n "$file" ] || { echo "trixie has no package $package" >&2; return 1; }
    curl -fsS "$mirror/$file" -o "$work/$package.deb" || return 1
    dpkg-deb -x "$work/$package.deb" "$PGBOUNCER_DIR/root" || return 1
  done
  rm -rf "$work"
  local lib="$PGBOUNCER_DIR/root/usr/lib/x86_64-linux-gnu"
  cat >"$wrapper" <<WRAPPER
#!/bin/sh
# Debian 13's pgbouncer on its own C library; the rest (libsystemd, libpam) from this system.
exec "$lib/ld-linux-x86-64.so.2" --library-path "$lib:/lib/x86_64-linux-gnu:/usr/lib/x86_64-linux-gnu" \
  "$PGBOUNCER_DIR/root/usr/sbin/pgbouncer" "\$@"
WRAPPER
  chmod +x "$wrapper"
  "$wrapper" --version >&2 || return 1
  echo "$wrapper"
}

# The benchmarks' history: `chatkeep seed`'s 10k users / 100k conversations / 1M messages and
# one heavy user in $1 (seeded once, a few minutes), and one bearer session per seeded user
# whose token is md5(user id) (signing 10,000 users in through scrypt would take minutes).
# Needs the release binary.
ensure_seeded_history_db() {
  local db="$1" url="postgres://postgres@127.0.0.1:5432/$1"
  local psql_db=(psql -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -U postgres -d "$db")
  # At least the seeded million: bench/bench.sh's questions add to it.
  if [ "$(psql -tA -h 127.0.0.1 -U postgres -d postgres -c "SELECT count(*) FROM pg_database WHERE datname = '$db'")" != 1 ] \
     || [ "$("${psql_db[@]}" -tA -c "SELECT count(*) >= 1000000 FROM message WHERE user_id LIKE 'seed-user-%'" 2>/dev/null || echo f)" != t ]; then
    log "seeding $db with chatkeep seed (10k users, 100k conversations, 1M messages, one heavy user; a few minutes, once)"
    psql -q -h 127.0.0.1 -U postgres -d postgres -c "DROP DATABASE IF EXISTS $db WITH (FORCE)"
    DATABASE_URL="$url" RUST_LOG=warn "$TARGET_DIR/release/chatkeep" seed \
      --users 10000 --conversations-per-user 10 --messages-per-conversation 10 --heavy-messages 100000
  fi
  "${psql_db[@]}" -c "INSERT INTO session (id, token, \"userId\", \"expiresAt\", \"updatedAt\")
    SELECT 'bench-session-' || u.id, md5(u.id), u.id, now() + interval '7 days', now()
      FROM \"user\" u WHERE u.id LIKE 'seed-%' ON CONFLICT DO NOTHING" >/dev/null
}
