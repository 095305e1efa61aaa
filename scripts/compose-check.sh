#!/usr/bin/env bash
# docker-compose.yml, proven end to end on this machine: builds the images the file names (from
# Debian's packages when no registry can be reached: scripts/compose/standins/), runs
# `docker-compose up --build`, waits for health, drives a person's journey in Chromium against
# http://localhost:8080, then the `scale` profile on :8081 (a session made on one instance used
# on the other, the sign-in limit shared, a stop crossing instances), then `down -v`.
# Prints what it measured: build time, time to healthy, image sizes. Too long for every CI run;
# `.ci/run` checks `docker-compose config` for both profiles instead.
#
#   scripts/compose-check.sh            stand-ins built once, cached under ~/.cache/chatkeep-compose;
#                                       the Chatkeep image built without Docker's layer cache
#   COMPOSE_CHECK_CACHE=1 ...           reuse Docker's layer cache for the Chatkeep image
#   COMPOSE_OFFICIAL_IMAGES=1 ...       use the official images (needs a registry)
set -euo pipefail
# Docker, debootstrap and apt-get need root: as anyone else, run again through sudo.
if [ "$(id -u)" -ne 0 ]; then exec sudo --preserve-env "$0" "$@"; fi
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

CACHE="${CHATKEEP_COMPOSE_CACHE:-$HOME/.cache/chatkeep-compose}"
PROJECT="chatkeep-check"
mkdir -p "$CACHE"

seconds_since() { echo $(( $(date +%s) - $1 )); }
mib() { echo "$(( ($1 + 524288) / 1048576 )) MiB"; }

# --- Docker ---------------------------------------------------------------------------------
ensure_debian_packages() { # command package...
  local missing=()
  for pair in "$@"; do
    command -v "${pair%%:*}" >/dev/null || missing+=("${pair#*:}")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  log "installing Debian's ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}
ensure_debian_packages dockerd:docker.io docker-compose:docker-compose debootstrap:debootstrap
ensure_chromium
ensure_npm_deps "$ROOT/e2e"

dockerd_pid=""
if ! docker info >/dev/null 2>&1; then
  log "starting the Docker daemon (stopped again at the end)"
  dockerd >"$CACHE/dockerd.log" 2>&1 &
  dockerd_pid=$!
  for _ in $(seq 1 60); do docker info >/dev/null 2>&1 && break; sleep 1; done
  docker info >/dev/null 2>&1 || { echo "dockerd did not start: $CACHE/dockerd.log" >&2; exit 1; }
fi
compose() { docker-compose -p "$PROJECT" "$@"; }

cleanup() {
  local status=$?
  log "docker-compose down -v"
  compose --profile scale down -v --remove-orphans >/dev/null 2>&1 || true
  if [ -n "$dockerd_pid" ]; then
    log "stopping the Docker daemon this script started"
    kill "$dockerd_pid" 2>/dev/null && wait "$dockerd_pid" 2>/dev/null
  fi
  exit "$status"
}
trap cleanup EXIT

# --- Stand-ins for the official images ------------------------------------------------------
# Each is tagged with a hash of what built it, so it is built once and again only when changed.
STANDINS="$ROOT/scripts/compose/standins"
tree_hash() { (cd "$1" && find . -type f -print0 | sort -z | xargs -0 sha256sum) | sha256sum | cut -c1-12; }
have_image() { docker image inspect "$1" >/dev/null 2>&1; }

# Certificate authorities this machine adds to Debian's (a network that inspects TLS has one):
# the stand-ins trust them too, or cargo and npm could not reach their registries from a build.
extra_cas() { find /usr/local/share/ca-certificates -name '*.crt' 2>/dev/null | sort; }

standin_base() {
  local tag
  tag="chatkeep-standin/debian:bookworm-$( (tree_hash "$STANDINS/debian"; extra_cas | xargs -r cat) | sha256sum | cut -c1-12)"
  if ! have_image "$tag"; then
    local rootfs="$CACHE/rootfs"
    if [ ! -x "$rootfs/bin/sh" ] || [ ! -f "$rootfs/.complete" ]; then
      log "debootstrap --variant=minbase bookworm (once)"
      rm -rf "$rootfs"
      debootstrap --variant=minbase bookworm "$rootfs" http://deb.debian.org/debian >"$CACHE/debootstrap.log"
      touch "$rootfs/.complete"
    fi
    log "importing the Debian base as $tag"
    # As debian:bookworm-slim: no manuals, documentation or translations, now or when installed.
    install -m 0644 "$STANDINS/debian/dpkg-slim" "$rootfs/etc/dpkg/dpkg.cfg.d/docker-slim"
    install -m 0644 "$STANDINS/debian/apt-no-cache" "$rootfs/etc/apt/apt.conf.d/docker-clean"
    mkdir -p "$rootfs/usr/local/share/ca-certificates"
    extra_cas | xargs -r -I{} install -m 0644 {} "$rootfs/usr/local/share/ca-certificates/"
    find "$rootfs/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete
    find "$rootfs/usr/share/locale" -mindepth 1 -maxdepth 1 -not -name locale.alias -exec rm -rf {} +
    rm -rf "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/* \
      "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
    tar -C "$rootfs" --exclude=./.complete -c . | docker import - "$tag" >/dev/null
  fi
  echo "$tag"
}

standin() { # name base → tag
  local name=$1 base=$2
  local tag="chatkeep-standin/$name:$(tree_hash "$STANDINS/$name")-$(echo "$base" | sha256sum | cut -c1-6)"
  if ! have_image "$tag"; then
    log "building the stand-in $tag"
    docker build -q --build-arg "BASE_IMAGE=$base" -t "$tag" "$STANDINS/$name" >/dev/null
  fi
  echo "$tag"
}

# The official rust image's layout (/usr/local/rustup, /usr/local/cargo/bin) with this machine's
# pinned toolchain in it, as `rustup` has it installed (the wasm32 target, rustfmt, clippy).
standin_rust() {
  local base=$1
  ensure_wasm_target
  # Named as rust-toolchain.toml asks for it ("1.95.0-x86_64-unknown-linux-gnu"), wherever
  # this machine keeps it (here it may be the stable toolchain under another name).
  local channel host name toolchain version
  channel="$(sed -n 's/^channel = "\(.*\)"/\1/p' rust-toolchain.toml)"
  host="$(rustc -vV | sed -n 's/^host: //p')"
  name="$channel-$host"
  toolchain="$(rustup run "$channel" rustc --print sysroot)"
  version="$(rustup run "$channel" rustc --version | cut -d' ' -f2)"
  local tag="chatkeep-standin/rust:$version-$(tree_hash "$STANDINS/rust")-$(echo "$base $name $(ls "$toolchain/lib/rustlib")" | sha256sum | cut -c1-6)"
  if ! have_image "$tag"; then
    log "building the stand-in $tag (the toolchain at $toolchain)"
    local context="$CACHE/rust-context"
    rm -rf "$context" && mkdir -p "$context/rustup/toolchains" "$context/cargo/bin"
    cp "$STANDINS/rust/Dockerfile" "$context/"
    # The documentation stays behind (half the size); rustup finds the toolchain by its name.
    tar -C "$toolchain" --exclude=./share/doc -c . | (mkdir -p "$context/rustup/toolchains/$name" \
      && tar -C "$context/rustup/toolchains/$name" -x)
    printf 'version = "12"\ndefault_toolchain = "%s"\nprofile = "minimal"\nauto_self_update = "disable"\n' \
      "$name" > "$context/rustup/settings.toml"
    cp "$(command -v rustup)" "$context/cargo/bin/rustup"
    for proxy in cargo rustc rustdoc rustfmt cargo-fmt cargo-clippy clippy-driver; do
      ln -s rustup "$context/cargo/bin/$proxy"
    done
    docker build -q --build-arg "BASE_IMAGE=$base" -t "$tag" "$context" >/dev/null
    rm -rf "$context"
  fi
  echo "$tag"
}

if [ -n "${COMPOSE_OFFICIAL_IMAGES:-}" ]; then
  log "using the official images"
else
  log "stand-ins for the official images (scripts/compose/standins/README.md)"
  base="$(standin_base)"
  export RUNTIME_IMAGE="$base"
  export POSTGRES_IMAGE="$(standin postgres "$base")"
  export REDIS_IMAGE="$(standin redis "$base")"
  export NGINX_IMAGE="$(standin nginx "$base")"
  export RUST_IMAGE="$(standin_rust "$base")"
  printf '    %s\n' "RUNTIME_IMAGE=$RUNTIME_IMAGE" "POSTGRES_IMAGE=$POSTGRES_IMAGE" \
    "REDIS_IMAGE=$REDIS_IMAGE" "NGINX_IMAGE=$NGINX_IMAGE" "RUST_IMAGE=$RUST_IMAGE" >&2
fi
export CHATKEEP_IMAGE="chatkeep-check:local"

# --- The single instance on :8080 -----------------------------------------------------------
compose --profile scale down -v --remove-orphans >/dev/null 2>&1 || true
docker image rm "$CHATKEEP_IMAGE" >/dev/null 2>&1 || true
no_cache=(--no-cache)
how="from nothing"
if [ -n "${COMPOSE_CHECK_CACHE:-}" ]; then no_cache=() how="with Docker's layer cache"; fi
log "docker-compose build (the Chatkeep image, $how)"
started=$(date +%s)
compose build "${no_cache[@]}" chatkeep
build_seconds=$(seconds_since "$started")

wait_healthy() { # service...
  local service id status
  for service in "$@"; do
    id="$(compose ps -q "$service")"
    for _ in $(seq 1 180); do
      status="$(docker inspect -f '{{.State.Health.Status}}' "$id" 2>/dev/null || echo gone)"
      [ "$status" = healthy ] && break
      if [ "$status" = unhealthy ] || [ "$status" = gone ]; then break; fi
      sleep 1
    done
    if [ "$status" != healthy ]; then
      echo "$service is $status; its log:" >&2
      compose logs --tail=50 "$service" >&2
      return 1
    fi
  done
}

log "docker-compose up -d: PostgreSQL and Chatkeep"
started=$(date +%s)
compose up -d chatkeep
wait_healthy db chatkeep
healthy_seconds=$(seconds_since "$started")
log "healthy after $(duration "$healthy_seconds")"

log "the journey in Chromium against http://localhost:8080"
(cd e2e && COMPOSE_URL=http://localhost:8080 node --test --test-reporter=spec compose/single.mjs)

# --- The scale profile on :8081 -------------------------------------------------------------
# A slow answer to stop comes from the fake OpenAI-compatible upstream on this machine, reached
# from the containers at their network's gateway address.
gateway="$(docker network inspect "${PROJECT}_default" -f '{{(index .IPAM.Config 0).Gateway}}')"
upstream_port=18093
export AGENT_URL="http://$gateway:$upstream_port/v1" AGENT_MODEL=fake-slow
log "docker-compose --profile scale up -d: Redis, two instances, nginx (agent: $AGENT_URL)"
started=$(date +%s)
compose --profile scale up -d redis chatkeep-a chatkeep-b proxy
wait_healthy redis chatkeep-a chatkeep-b
scale_seconds=$(seconds_since "$started")
address() { docker inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' "$(compose ps -q "$1")"; }
log "across instances: http://localhost:8081, chatkeep-a at $(address chatkeep-a), chatkeep-b at $(address chatkeep-b)"
(cd e2e && COMPOSE_PROXY=http://localhost:8081 COMPOSE_A="http://$(address chatkeep-a):8080" \
  COMPOSE_B="http://$(address chatkeep-b):8080" FAKE_UPSTREAM_HOST="$gateway" \
  FAKE_UPSTREAM_PORT="$upstream_port" node --test --test-reporter=spec compose/scale.mjs)

size() { docker image inspect -f '{{.Size}}' "$1"; }
log "measured"
echo "  Chatkeep image built $how in $(duration "$build_seconds")"
echo "  single instance: up to healthy (PostgreSQL initialised, migrations run) in $(duration "$healthy_seconds")"
echo "  scale profile: Redis, two instances and nginx healthy in $(duration "$scale_seconds")"
echo "  images: chatkeep $(mib "$(size "$CHATKEEP_IMAGE")") (base $(mib "$(size "${RUNTIME_IMAGE:-debian:bookworm-slim}")")), \
postgres $(mib "$(size "${POSTGRES_IMAGE:-postgres:16}")"), redis $(mib "$(size "${REDIS_IMAGE:-redis:7}")"), \
nginx $(mib "$(size "${NGINX_IMAGE:-nginx:1.27}")")"
echo "  the runtime image runs as $(docker image inspect -f '{{.Config.User}}' "$CHATKEEP_IMAGE"), \
healthcheck: $(docker image inspect -f '{{json .Config.Healthcheck.Test}}' "$CHATKEEP_IMAGE")"
echo "compose check: passed"
