#!/usr/bin/env bash
# Installs what LedgerBridge needs on a fresh Debian/Ubuntu machine with Python 3.11+.
#   scripts/bootstrap.sh          uv and the project's Python packages
#   scripts/bootstrap.sh --test   also PostgreSQL, Redis, Chromium and docker-compose (Debian packages) for the
#                                 test suite (docker-compose validates docker/compose.yaml; no Docker engine needed)
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v uv >/dev/null 2>&1; then
  python3 -m pip install --quiet uv || python3 -m pip install --quiet --user uv
  export PATH="$HOME/.local/bin:$PATH"
fi

if [ "${1:-}" = "--test" ]; then
  missing=()
  ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
  command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
  command -v chromium >/dev/null 2>&1 || missing+=(chromium)
  command -v docker-compose >/dev/null 2>&1 || missing+=(docker-compose)
  if [ ${#missing[@]} -gt 0 ]; then
    sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
    echo "installing Debian packages: ${missing[*]}"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
fi

if [ "${1:-}" = "--test" ]; then
  uv sync --locked --quiet
else
  # Only what the server needs: the test tools and the Acme test provider stay out of a demo's Integrations.
  uv sync --locked --quiet --no-dev
fi
