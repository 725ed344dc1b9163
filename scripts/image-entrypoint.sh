#!/bin/sh
# Entry point of the server and worker images. Started as root, it makes sure the user
# PUID:PGID (default 1000:1000, the image's `node` user) can write the data folder and every
# SYNCENGINE_ALLOWED_ROOTS folder (docker-compose.yml mounts the host's SYNCENGINE_SYNC_ROOT
# at /sync), then runs the command as that user. A folder it cannot write stops the
# container with a message saying what to run.
set -eu

if [ "$(id -u)" != 0 ]; then
  # Started with `--user`: nothing to switch.
  exec "$@"
fi
uid=${PUID:-1000}
gid=${PGID:-1000}
as_user() { setpriv --reuid="$uid" --regid="$gid" --clear-groups "$@"; }

if [ -n "${SYNCENGINE_DATA_DIR:-}" ]; then
  mkdir -p "$SYNCENGINE_DATA_DIR"
  [ "$(stat -c %u:%g "$SYNCENGINE_DATA_DIR")" = "$uid:$gid" ] || chown -R "$uid:$gid" "$SYNCENGINE_DATA_DIR"
fi

for root in $(printf '%s' "${SYNCENGINE_ALLOWED_ROOTS:-}" | tr ',:' '  '); do
  [ -d "$root" ] || continue
  as_user test -w "$root" -a -x "$root" && continue
  owner=$(stat -c %u:%g "$root")
  if [ "$owner" = 0:0 ] && [ -z "$(ls -A "$root")" ]; then
    # An empty folder owned by root: what Docker creates for a bind mount whose host
    # folder did not exist. Nothing in it to protect, so it goes to the user that syncs.
    chown "$uid:$gid" "$root"
    continue
  fi
  cat >&2 <<MESSAGE
SyncEngine cannot write to $root (owned by uid:gid $owner) as uid:gid $uid:$gid.
$root is the host folder SYNCENGINE_SYNC_ROOT. Either run SyncEngine as the folder's owner:
set PUID=${owner%%:*} and PGID=${owner##*:} in .env, or give the folder to uid $uid on the host:
  sudo chown -R $uid:$gid "\$SYNCENGINE_SYNC_ROOT"
then start again: docker compose up -d
MESSAGE
  exit 78
done

export HOME=/home/node
exec setpriv --reuid="$uid" --regid="$gid" --clear-groups "$@"
