# Sourced by the screenshot scripts in docs/: a fresh demo server (SANDBOX, DEMO) in a
# temporary folder, GraphQL over curl as its admin, Xvfb and the desktop monitor.
# Everything started is stopped and the folder removed when the script exits.
#
# Needs the Fyne build packages (see docs/desktop.md) and: xvfb x11-apps imagemagick curl.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
password=demo-password-1234
title="Sally Integrations"

tmp=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT

# build PACKAGE... builds ./server and the given packages into $tmp (named by their last
# element: ./desktop -> $tmp/desktop).
build() {
  echo "building the server $*"
  go build -o "$tmp/server" ./server
  for p in "$@"; do go build -o "$tmp/$(basename "$p")" "$p"; done
}

# start_server starts the demo server and sets url and token (its admin's).
start_server() {
  PORT=0 DATA_DIR="$tmp/data" ADMIN_PASSWORD=$password SANDBOX=true DEMO=true \
    "$tmp/server" >/dev/null 2>"$tmp/server.log" &
  pids+=($!)
  url=""
  for _ in $(seq 1 300); do
    url=$(sed -n 's/.*msg=listening .*url=\([^ ]*\).*/\1/p' "$tmp/server.log" | head -n1)
    [ -n "$url" ] && break
    sleep 0.1
  done
  [ -n "$url" ] || { cat "$tmp/server.log"; echo "the server did not start" >&2; exit 1; }
  echo "server at $url"
  token=$(gql "{\"query\":\"mutation{login(email:\\\"admin@localhost\\\",password:\\\"$password\\\"){token}}\"}" "" |
    sed -n 's/.*"token":"\([^"]*\)".*/\1/p')
}

# gql JSON-BODY [TOKEN]: one GraphQL request; TOKEN defaults to the admin's.
gql() {
  local t=${2-$token}
  curl -fsS "$url/graphql" -H 'Content-Type: application/json' ${t:+-H "Authorization: Bearer $t"} -d "$1"
}

# id_of NAME: the id of the integration displayed as NAME.
id_of() {
  gql '{"query":"{integrations{id displayName}}"}' |
    grep -o "\"id\":\"[^\"]*\",\"displayName\":\"$1\"" | sed 's/"id":"\([^"]*\)".*/\1/'
}

# start_xvfb starts a virtual display and sets display.
start_xvfb() {
  display=:$((90 + RANDOM % 9))
  Xvfb "$display" -screen 0 1360x900x24 -nolisten tcp >/dev/null 2>&1 &
  pids+=($!)
  sleep 1
}

# start_desktop [NAME=VALUE...] starts the desktop monitor logged in as the admin, with
# the given environment on top, and sets desktop_pid.
start_desktop() {
  local home
  home=$(mktemp -d -p "$tmp")
  env HOME="$home" DISPLAY="$display" LANG=en_US.UTF-8 \
    SALLY_URL="$url" SALLY_EMAIL=admin@localhost SALLY_PASSWORD="$password" "$@" \
    "$tmp/desktop" >"$home/desktop.log" 2>&1 &
  desktop_pid=$!
  pids+=("$desktop_pid")
}

# capture OUT writes the desktop's window to OUT (PNG).
capture() {
  DISPLAY=$display xwd -silent -name "$title" | convert xwd:- "png:$1"
  echo "wrote $1"
}
