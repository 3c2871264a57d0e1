#!/usr/bin/env bash
# Takes docs/desktop.png: the desktop monitor under Xvfb, logged in (SALLY_URL,
# SALLY_EMAIL, SALLY_PASSWORD) to a fresh demo server whose Samsara sandbox fails for a
# while, so the screenshot shows the health indicators, the feed and a history.
#
# Needs the Fyne build packages (see docs/desktop.md) and: xvfb x11-apps imagemagick curl.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-docs/desktop.png}
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

# Samsara fails until we clear it (its first sync is 4 s after the start); one
# OpenWeather call fails, so its sync retries once and succeeds.
curl -fsS -X PUT "$url/sandbox/_control/faults/samsara" -d '{"status":503}' >/dev/null
curl -fsS -X PUT "$url/sandbox/_control/faults/openweather" -d '{"status":503,"count":1}' >/dev/null

display=:$((90 + RANDOM % 9))
Xvfb "$display" -screen 0 1360x900x24 -nolisten tcp >/dev/null 2>&1 &
pids+=($!)
sleep 1

mkdir -p "$tmp/home"
HOME="$tmp/home" DISPLAY=$display LANG=en_US.UTF-8 \
  SALLY_URL=$url SALLY_EMAIL=admin@localhost SALLY_PASSWORD=$password \
  "$tmp/desktop" >"$tmp/desktop.log" 2>&1 &
pids+=($!)

gql() { # query [token]
  curl -fsS "$url/graphql" -H 'Content-Type: application/json' ${2:+-H "Authorization: Bearer $2"} -d "$1"
}
token=$(gql "{\"query\":\"mutation{login(email:\\\"admin@localhost\\\",password:\\\"$password\\\"){token}}\"}" |
  sed -n 's/.*"token":"\([^"]*\)".*/\1/p')
truckbase=$(gql '{"query":"{integrations{id displayName}}"}' "$token" |
  grep -o '"id":"[^"]*","displayName":"Truckbase loads"' | sed 's/"id":"\([^"]*\)".*/\1/')

sleep 2 # the desktop logs in
for _ in 1 2 3 4; do # a history for the selected (first) integration
  gql "{\"query\":\"mutation{syncIntegration(id:\\\"$truckbase\\\"){status}}\"}" "$token" >/dev/null
  sleep 0.5
done
sleep 12 # the scheduled first syncs: Samsara's retries and failure, OpenWeather's retry
curl -fsS -X DELETE "$url/sandbox/_control/faults" >/dev/null
sleep 1

DISPLAY=$display xwd -silent -name "$title" | convert xwd:- "png:$out"
echo "wrote $out"
