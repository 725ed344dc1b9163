#!/bin/sh
# Runs redis-server as the redis user on /data, reachable from other containers (no
# protected mode without a config file, as in the official image).
set -eu
if [ "$(id -u)" = 0 ]; then
  chown -R redis:redis /data
  exec setpriv --reuid=redis --regid=redis --init-groups "$0" "$@"
fi
if [ "${1:-}" = redis-server ]; then
  exec "$@" --protected-mode no
fi
exec "$@"
