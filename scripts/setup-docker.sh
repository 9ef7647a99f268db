#!/usr/bin/env bash
# A Docker engine and rli's local base image, for the docker backend and its tests.
#
# No image registry is reachable from these machines, so the base image is built from a Debian root
# filesystem made by debootstrap (kept in a cache directory, so later runs skip the 40 s bootstrap) and
# imported as rli-base:bookworm. Task Dockerfiles in the tests start FROM it.
#
# Idempotent: installs docker.io and debootstrap only when missing, starts dockerd (overlay2, its own data
# root) only when no daemon answers, and imports the image only when it is absent. Needs root.
set -euo pipefail

IMAGE="${RLI_BASE_IMAGE:-rli-base:bookworm}"
CACHE="${RLI_DOCKER_CACHE:-/var/cache/rli}"
DATA_ROOT="${RLI_DOCKER_DATA_ROOT:-/var/lib/rli-docker}"
SOCKET="/var/run/docker.sock"
LOG="/var/log/rli-dockerd.log"

if ! command -v dockerd >/dev/null 2>&1 || ! command -v debootstrap >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq docker.io debootstrap >/dev/null
fi

# Starts dockerd with a storage driver; true once it answers, false (and stopped) if it does not.
start_dockerd() {
  local driver="$1"
  mkdir -p "$DATA_ROOT/$driver"
  nohup dockerd --storage-driver "$driver" --data-root "$DATA_ROOT/$driver" -H "unix://$SOCKET" \
    --pidfile /var/run/rli-dockerd.pid >"$LOG" 2>&1 &
  local pid=$!
  for _ in $(seq 1 60); do
    docker info >/dev/null 2>&1 && return 0
    kill -0 "$pid" 2>/dev/null || break
    sleep 1
  done
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  return 1
}

if ! docker info >/dev/null 2>&1; then
  # overlay2 needs a backing filesystem that supports it (ext4 here); vfs always works but copies
  # every layer, so builds and container starts are about 10x slower.
  if ! start_dockerd overlay2; then
    echo "dockerd did not start with overlay2 ($(tail -1 "$LOG")); trying vfs" >&2
    if ! start_dockerd vfs; then
      echo "dockerd did not start; its log ($LOG):" >&2
      tail -20 "$LOG" >&2
      exit 1
    fi
  fi
fi

if ! docker image inspect "$IMAGE" >/dev/null 2>&1; then
  rootfs="$CACHE/bookworm-minbase"
  if [ ! -f "$rootfs/.complete" ]; then
    rm -rf "$rootfs"
    mkdir -p "$rootfs"
    mirror="$(sed -n 's/^URIs: *//p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -1)"
    debootstrap --variant=minbase bookworm "$rootfs" "${mirror:-http://deb.debian.org/debian}" >/dev/null
    touch "$rootfs/.complete"
  fi
  tar -C "$rootfs" --exclude=./.complete -c . | docker import - "$IMAGE" >/dev/null
fi
echo "docker: $(docker version --format '{{.Server.Version}}') on $SOCKET; base image $IMAGE"
