#!/bin/sh
# Test fixture for the Compose smoke test (deploy/stack.int.test.ts), used only on a machine
# that cannot pull the base images: builds local stand-ins from Debian packages and tags them
# with the names the Dockerfile and docker-compose.yml use.
#
#   deploy/base-images/build.sh IMAGE...     e.g. node:22-bookworm-slim postgres:17-alpine
#
# Each IMAGE that is already present is left alone; otherwise it is pulled, and only when the
# pull fails is a stand-in built:
#   node:*      Debian bookworm with the Node.js, npm and corepack this machine runs (Debian's
#               own nodejs is older than the 20.19 SyncEngine needs), user `node` (uid 1000)
#   postgres:*  Debian's postgresql, initialised from POSTGRES_USER/_PASSWORD/_DB like the
#               official image, data in /var/lib/postgresql/data
#   redis:*     Debian's redis-server, data in /data
# The Debian root file system is built once with debootstrap and kept as the image
# syncengine-standin-rootfs:bookworm.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
rootfs_image=syncengine-standin-rootfs:bookworm
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}

build_rootfs() {
  docker image inspect "$rootfs_image" >/dev/null 2>&1 && return 0
  command -v debootstrap >/dev/null 2>&1 || {
    echo "debootstrap is missing: apt-get install debootstrap" >&2
    exit 1
  }
  dir=$(mktemp -d)
  echo "base images: debootstrap bookworm into $dir"
  debootstrap --variant=minbase \
    --include=ca-certificates,libstdc++6,postgresql,redis-server \
    bookworm "$dir" "$mirror" >"$dir.log" 2>&1 || {
    tail -20 "$dir.log" >&2
    rm -rf "$dir" "$dir.log"
    exit 1
  }
  # The postgresql package's own cluster and the apt caches have no place in an image.
  rm -rf "$dir"/var/lib/postgresql/* "$dir"/etc/postgresql/* "$dir"/var/cache/apt/archives/*.deb \
    "$dir"/var/lib/apt/lists/*
  tar -C "$dir" -c . | docker import - "$rootfs_image"
  rm -rf "$dir" "$dir.log"
}

build_standin() {
  image=$1
  target=$2
  build_rootfs
  context=$(mktemp -d)
  cp "$here"/Dockerfile "$here"/*-entrypoint.sh "$context"/
  if [ "$target" = node ]; then
    # The Node.js this machine runs, laid out as in the official image (/usr/local).
    node=$(command -v node)
    modules=$(cd "$(dirname "$(readlink -f "$node")")/../lib/node_modules" && pwd)
    mkdir -p "$context/node/bin" "$context/node/lib"
    cp "$(readlink -f "$node")" "$context/node/bin/node"
    cp -r "$modules" "$context/node/lib/node_modules"
  else
    mkdir -p "$context/node"
  fi
  echo "base images: building a stand-in for $image"
  docker build -q --target "$target" -t "$image" "$context" >/dev/null
  rm -rf "$context"
}

for image in "$@"; do
  if docker image inspect "$image" >/dev/null 2>&1; then continue; fi
  if docker pull -q "$image" >/dev/null 2>&1; then continue; fi
  case "$image" in
    node:*) build_standin "$image" node ;;
    postgres:*) build_standin "$image" postgres ;;
    redis:*) build_standin "$image" redis ;;
    *)
      echo "cannot pull $image and have no stand-in for it" >&2
      exit 1
      ;;
  esac
done
