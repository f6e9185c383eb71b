#!/usr/bin/env bash
# Installs Debian's redis-server for the Redis tests, only when no redis-server is on the machine.
# The tests start their own servers on free loopback ports; nothing here starts or configures one.
set -euo pipefail

if command -v redis-server >/dev/null 2>&1; then
  echo "== redis-server present: $(command -v redis-server) ($(redis-server --version | head -n1))"
  exit 0
fi

SUDO=""
if [ "$(id -u)" != "0" ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "install-redis: redis-server is missing and this user cannot run apt-get (not root, no sudo)" >&2
    exit 1
  fi
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-redis: redis-server is missing and apt-get is not available; install redis-server (>= 6.2) by hand" >&2
  exit 1
fi

echo "== installing redis-server with apt-get"
$SUDO apt-get update
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends redis-server
redis-server --version
