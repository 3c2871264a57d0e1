#!/usr/bin/env bash
# The whole test suite, on a fresh Debian machine or a developer's: installs and starts
# what the tests need (PostgreSQL), checks that generated code is up to date, then runs
# go vet, staticcheck and go test -race on SQLite and PostgreSQL.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '\n== %s\n' "$*"; }
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

apt_install() {
  local missing=()
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  if [ ${#missing[@]} -gt 0 ]; then
    log "installing ${missing[*]}"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
}

# Chromium (Debian's package) for the web UI's end-to-end test, which fails without it.
[ -n "${CHROMIUM_PATH:-}" ] || [ -x /usr/bin/chromium ] || apt_install chromium

# The desktop monitor (./desktop, Fyne) builds with cgo against the OpenGL and X11
# headers; build it here so that a broken desktop build fails the run (its tests run
# headless with Fyne's test driver, below).
apt_install gcc libc6-dev libgl1-mesa-dev libx11-dev libxcursor-dev libxrandr-dev \
  libxinerama-dev libxi-dev libxxf86vm-dev
log "go build ./desktop"
CGO_ENABLED=1 go build -o /dev/null ./desktop

# PostgreSQL: use TEST_DATABASE_URL if given, else a local server (installed and
# started here when missing).
if [ -z "${TEST_DATABASE_URL:-}" ]; then
  export TEST_DATABASE_URL="postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
  if ! command -v pg_isready >/dev/null 2>&1 || ! pg_isready -q -h 127.0.0.1 -p 5432; then
    command -v pg_ctlcluster >/dev/null 2>&1 || apt_install postgresql
    ver=$(ls /etc/postgresql | sort -V | tail -n1)
    log "starting PostgreSQL $ver"
    pg_ctlcluster --skip-systemctl-redirect "$ver" main start 2>/dev/null || true
    for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
    pg_isready -h 127.0.0.1 -p 5432
    # A fresh cluster: trust loopback connections and create the test database.
    if ! psql -h 127.0.0.1 -U postgres -Atc 'select 1' >/dev/null 2>&1; then
      hba=$(ls /etc/postgresql/"$ver"/main/pg_hba.conf)
      sed -i -E 's/^(host\s+all\s+all\s+127\.0\.0\.1\/32\s+)\S+/\1trust/; s/^(host\s+all\s+all\s+::1\/128\s+)\S+/\1trust/' "$hba"
      pg_ctlcluster --skip-systemctl-redirect "$ver" main reload
    fi
  fi
  psql -h 127.0.0.1 -U postgres -Atc "select 1 from pg_database where datname='test'" | grep -q 1 ||
    psql -h 127.0.0.1 -U postgres -c 'create database test' >/dev/null
fi

# Tests that stop or exhaust PostgreSQL (internal/testpg) run a private, throwaway
# cluster of their own on a free port (initdb and pg_ctl, as the postgres user when
# run as root), never the shared one above: they need the server binaries even when
# TEST_DATABASE_URL points elsewhere.
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null 2>&1 || apt_install postgresql

# Every generated file (ent/, graph/generated, graph/model, desktop/gqlclient/...)
# must be what go generate makes: the tree, untracked files included, must be the same
# after it as before (a developer's uncommitted changes are compared, not refused).
log "go generate (generated code must be committed and up to date)"
tree_state() { { git status --porcelain=v1 --untracked-files=all; git diff HEAD; git ls-files --others --exclude-standard -z | xargs -0r sha256sum; } | sha256sum; }
before=$(tree_state)
go generate ./...
if [ "$(tree_state)" != "$before" ]; then
  git status --short --untracked-files=all
  echo "generated code is out of date: run 'go generate ./...' and commit what it changes or adds" >&2
  exit 1
fi

log "go vet"
go vet ./...

# staticcheck is a tool dependency in go.mod: go tool fetches the pinned version.
log "staticcheck"
go tool staticcheck ./...

# The npm graphql-ws client that graph's subscription tests drive, and graphql-http's
# GraphQL-over-HTTP audits that graph's tests run against the server (Node >= 20).
command -v npm >/dev/null 2>&1 || apt_install nodejs npm
log "npm ci (graphql-ws test client, graphql-http audits)"
(cd internal/wsclient/node && npm ci --no-audit --no-fund --loglevel=error)
(cd internal/httpaudit/node && npm ci --no-audit --no-fund --loglevel=error)

log "go test -race"
go test -race -count=1 -timeout 30m ./... 2>&1 | tee /tmp/sally-test.log
