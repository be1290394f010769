#!/usr/bin/env bash
# Builds the ncm migration image on this machine, idempotently:
#   1. starts a Docker engine if none answers (without its bridge network: containers use
#      --network host), and leaves an engine it did not start alone;
#   2. makes the stand-in for the Python base image from Debian with debootstrap when the
#      image is missing, keeping the tarball in NCM_DOCKER_CACHE (default ~/.cache/ncm-docker)
#      so that a second run on the same machine skips debootstrap;
#   3. builds ncm-migration:latest (all plugins) and ncm-migration:postgres (NCM_PLUGINS=postgres)
#      with BuildKit through the 20.10 client.
# Prints the build times and image sizes. Stop an engine it started with: kill "$(cat
# "$NCM_DOCKER_CACHE/dockerd.pid")".
set -euo pipefail
cd "$(dirname "$0")/.."

DOCKER=/usr/bin/docker # the 20.10 client: it builds with BuildKit without buildx
BASE=python:3.11.15-slim-bookworm
CACHE="${NCM_DOCKER_CACHE:-$HOME/.cache/ncm-docker}"
mkdir -p "$CACHE"

say() { printf 'docker-image: %s\n' "$*" >&2; }

start_engine() {
  if "$DOCKER" info >/dev/null 2>&1; then
    return
  fi
  command -v dockerd >/dev/null || { say "dockerd is not installed (apt-get install docker.io)"; exit 1; }
  # A bridge left by a default start would put containers on 172.17.0.0/16.
  ip link delete docker0 2>/dev/null || true
  say "starting dockerd (log: $CACHE/dockerd.log)"
  dockerd --bridge=none --iptables=false --ip-forward=false --ip-masq=false >"$CACHE/dockerd.log" 2>&1 &
  echo $! >"$CACHE/dockerd.pid"
  for _ in $(seq 1 120); do
    "$DOCKER" info >/dev/null 2>&1 && return
    sleep 0.5
  done
  say "dockerd did not answer within 60 s; see $CACHE/dockerd.log"
  exit 1
}

make_base() {
  if "$DOCKER" image inspect "$BASE" >/dev/null 2>&1; then
    return
  fi
  local tarball="$CACHE/python-3.11-bookworm-rootfs.tar"
  if [[ ! -s "$tarball" ]]; then
    command -v debootstrap >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
    local rootfs mirror
    rootfs="$(mktemp -d)"
    mirror="$(sed -n 's/^URIs: //p' /etc/apt/sources.list.d/debian.sources | head -1)"
    say "making the stand-in for $BASE with debootstrap (about 2 minutes, once)"
    debootstrap --variant=minbase --include=python3,python3-venv,python3-pip,ca-certificates \
      bookworm "$rootfs" "$mirror" >"$CACHE/debootstrap.log" 2>&1
    rm -f "$rootfs/usr/lib/python3.11/EXTERNALLY-MANAGED"
    ln -sf /usr/bin/python3 "$rootfs/usr/bin/python"
    ln -sf /usr/bin/pip3 "$rootfs/usr/bin/pip"
    # pip in the build reaches the package index the way this machine does.
    cp /etc/ssl/certs/ca-certificates.crt "$rootfs/etc/ssl/certs/ca-certificates.crt"
    printf '[global]\ncert = /etc/ssl/certs/ca-certificates.crt\n' >"$rootfs/etc/pip.conf"
    rm -rf "$rootfs/var/cache/apt/archives/"*.deb "$rootfs/var/lib/apt/lists/"*
    tar -C "$rootfs" -cf "$tarball.part" .
    mv "$tarball.part" "$tarball"
    rm -rf "$rootfs"
  fi
  "$DOCKER" import --change 'CMD ["python3"]' "$tarball" "$BASE" >/dev/null
}

build() {
  local tag="$1" plugins="$2" started=$SECONDS
  DOCKER_BUILDKIT=1 "$DOCKER" build --quiet --network host -f docker/Dockerfile.migration \
    --build-arg NCM_PLUGINS="$plugins" --build-arg VCS_REF="$(git rev-parse HEAD 2>/dev/null || echo unknown)" \
    -t "$tag" . >"$CACHE/build-${tag#*:}.log" 2>&1 || { cat "$CACHE/build-${tag#*:}.log" >&2; exit 1; }
  say "built $tag in $((SECONDS - started)) s, $("$DOCKER" image inspect -f '{{.Size}}' "$tag" | awk '{printf "%.0f MB", $1 / 1e6}')"
}

start_engine
make_base
build ncm-migration:latest "sql sqlite postgres mysql mongo"
build ncm-migration:postgres "postgres"
