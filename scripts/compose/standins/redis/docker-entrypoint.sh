#!/bin/sh
# As the official image: redis-server runs as the redis user, and protected mode is off (the
# official image builds Redis with that default, so other containers may connect).
set -eu
if [ "${1:-}" = "redis-server" ]; then
  shift
  exec setpriv --reuid=redis --regid=redis --init-groups redis-server --protected-mode no "$@"
fi
exec "$@"
