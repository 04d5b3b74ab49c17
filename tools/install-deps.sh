#!/usr/bin/env bash
# install-deps.sh: installs what building, running and testing the project
# needs on Debian 12: the Debian packages below, then the npm developer tools
# pinned in package-lock.json (buf, ajv, redocly) into node_modules/.
#
# Idempotent: when everything is present it prints one line and changes
# nothing. As root it installs missing packages with apt-get; otherwise it
# prints the one sudo command to run and exits 1. Safe with CI=true and no
# standard input.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

# The one list of Debian packages the project needs.
PACKAGES=(
    build-essential cmake pkg-config clang clang-format libclang-rt-14-dev
    libzmq3-dev libprotobuf-c-dev protobuf-c-compiler libprotobuf-dev protobuf-compiler
    libpq-dev postgresql-15 postgresql-client-15
    libuv1-dev libcmocka-dev libjansson-dev uuid-dev node-llhttp libcurl4-openssl-dev libsodium-dev curl
    libnats-dev nats-server
    libicu-dev
    python3 python3-zmq python3-protobuf python3-psycopg2 python3-aiosmtpd python3-yaml
    prometheus
    nodejs npm
    libgmime-3.0-dev
    chromium chromium-driver python3-selenium
    strace
)

s_installed() {
    [[ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null || true)" == "install ok installed" ]]
}

if ! command -v dpkg-query >/dev/null 2>&1; then
    echo "install-deps: dpkg-query not found; this script supports Debian 12 only" >&2
    echo "install-deps: install the equivalents of: ${PACKAGES[*]}" >&2
    exit 1
fi

# A node and npm already on PATH (e.g. from nodesource or nvm) are used as
# they are; Debian's nodejs/npm are installed only when either is missing.
have_node=0
if command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1; then
    have_node=1
fi

missing=()
for p in "${PACKAGES[@]}"; do
    if [[ $have_node == 1 && ($p == nodejs || $p == npm) ]]; then
        continue
    fi
    s_installed "$p" || missing+=("$p")
done

changed=0
if ((${#missing[@]})); then
    if [[ $(id -u) != 0 ]]; then
        echo "install-deps: missing Debian packages: ${missing[*]}" >&2
        echo "install-deps: run this, then try again:" >&2
        echo "sudo apt-get install -y --no-install-recommends ${missing[*]}"
        exit 1
    fi
    echo "install-deps: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get -q update </dev/null
    apt-get install -y -q --no-install-recommends "${missing[@]}" </dev/null
    changed=1
fi

# npm developer tools, exactly as pinned in package-lock.json. Reinstalled
# when a tool is missing or the lock file changed since the last install.
if [[ ! -x node_modules/.bin/buf || ! -x node_modules/.bin/ajv || ! -x node_modules/.bin/redocly ||
    ! -f node_modules/chart.js/dist/chart.umd.js ||
    (-f package-lock.json && package-lock.json -nt node_modules/.package-lock.json) ]]; then
    echo "install-deps: installing npm developer tools into node_modules/"
    if [[ -f package-lock.json ]]; then
        npm ci --no-audit --no-fund </dev/null
    else
        npm install --no-audit --no-fund </dev/null
    fi
    changed=1
fi

if [[ $changed == 0 ]]; then
    echo "dependencies: ok"
else
    echo "dependencies: ok (installed what was missing)"
fi
