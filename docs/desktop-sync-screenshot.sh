#!/usr/bin/env bash
# Takes docs/desktop-sync.png: the desktop monitor under Xvfb with one sync's detail
# open (SALLY_OPEN_SYNC): a manual Truckbase sync whose first two requests got a 503,
# so its timeline shows three tries and the waits between them.
#
# Needs what docs/desktop-screenshot.sh needs: the Fyne build packages, xvfb,
# x11-apps, imagemagick and curl.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-docs/desktop-sync.png}
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

echo "building the server and the desktop"
go build -o "$tmp/server" ./server
go build -o "$tmp/desktop" ./desktop

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

gql() { # query [token]
  curl -fsS "$url/graphql" -H 'Content-Type: application/json' ${2:+-H "Authorization: Bearer $2"} -d "$1"
}
token=$(gql "{\"query\":\"mutation{login(email:\\\"admin@localhost\\\",password:\\\"$password\\\"){token}}\"}" |
  sed -n 's/.*"token":"\([^"]*\)".*/\1/p')
truckbase=$(gql '{"query":"{integrations{id displayName}}"}' "$token" |
  grep -o '"id":"[^"]*","displayName":"Truckbase loads"' | sed 's/"id":"\([^"]*\)".*/\1/')
sleep 4 # the demo's first scheduled syncs
curl -fsS -X PUT "$url/sandbox/_control/faults/truckbase" -d '{"status":503,"count":2}' >/dev/null
sync=$(gql "{\"query\":\"mutation{syncIntegration(id:\\\"$truckbase\\\"){id}}\"}" "$token" |
  sed -n 's/.*"id":"\([^"]*\)".*/\1/p')
echo "sync $sync"

display=:$((90 + RANDOM % 9))
Xvfb "$display" -screen 0 1360x900x24 -nolisten tcp >/dev/null 2>&1 &
pids+=($!)
sleep 1

mkdir -p "$tmp/home"
HOME="$tmp/home" DISPLAY=$display LANG=en_US.UTF-8 \
  SALLY_URL=$url SALLY_EMAIL=admin@localhost SALLY_PASSWORD=$password SALLY_OPEN_SYNC=$sync \
  "$tmp/desktop" >"$tmp/desktop.log" 2>&1 &
pids+=($!)
sleep 6 # log in, load, open the detail

DISPLAY=$display xwd -silent -name "$title" | convert xwd:- "png:$out"
echo "wrote $out"
