#!/usr/bin/env bash
# Takes the screenshots of the fleet views: docs/desktop-drivers.png and
# docs/desktop-loads.png (the desktop monitor under Xvfb) and docs/web-drivers.png and
# docs/web-loads.png (headless Chromium, cmd/webshot), against a fresh demo server
# whose sandbox fleet has the gaps real vendors leave: two drivers without clocks, two
# with the driver app disconnected, two in violation; and one driver overridden by a
# dispatcher with a reason and an expiry.
#
# Needs the Fyne build packages (see docs/desktop.md), chromium and: xvfb x11-apps
# imagemagick curl.
set -euo pipefail
cd "$(dirname "$0")/.."
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

echo "building the server, the desktop and webshot"
go build -o "$tmp/server" ./server
go build -o "$tmp/desktop" ./desktop
go build -o "$tmp/webshot" ./cmd/webshot

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

curl -fsS -X PUT "$url/sandbox/_control/fleet" \
  -d '{"drivers":40,"loads":12,"withoutClocks":2,"disconnected":2,"inViolation":2}' >/dev/null

gql() { # json-body [token]
  curl -fsS "$url/graphql" -H 'Content-Type: application/json' ${2:+-H "Authorization: Bearer $2"} -d "$1"
}
token=$(gql "{\"query\":\"mutation{login(email:\\\"admin@localhost\\\",password:\\\"$password\\\"){token}}\"}" |
  sed -n 's/.*"token":"\([^"]*\)".*/\1/p')
id_of() {
  gql '{"query":"{integrations{id displayName}}"}' "$token" |
    grep -o "\"id\":\"[^\"]*\",\"displayName\":\"$1\"" | sed 's/"id":"\([^"]*\)".*/\1/'
}
for name in "Samsara ELD" "Truckbase loads"; do
  id=$(id_of "$name")
  gql "{\"query\":\"mutation{syncIntegration(id:\\\"$id\\\"){status}}\"}" "$token" >/dev/null
done
until=$(date -u -d '+4 hours' +%Y-%m-%dT%H:%M:%SZ)
gql "{\"query\":\"mutation(\$in: HOSOverrideInput!){overrideDriverHOS(driverId:\\\"52008\\\",input:\$in){dataSource}}\",\"variables\":{\"in\":{\"dutyStatus\":\"ON_DUTY\",\"hoursDriven\":10.5,\"driveRemainingHours\":0.5,\"shiftRemainingHours\":10,\"cycleRemainingHours\":55,\"timeUntilBreakHours\":5,\"reason\":\"ELD tablet replaced; paper log checked by dispatch\",\"expiresAt\":\"$until\"}}}" "$token" >/dev/null
load=$(gql '{"query":"{loads{loadId}}"}' "$token" | grep -o '"loadId":"[^"]*"' | head -n1 | sed 's/"loadId":"\([^"]*\)"/\1/')

display=:$((90 + RANDOM % 9))
Xvfb "$display" -screen 0 1360x900x24 -nolisten tcp >/dev/null 2>&1 &
pids+=($!)
sleep 1

shoot() { # view out
  mkdir -p "$tmp/home-$1"
  HOME="$tmp/home-$1" DISPLAY=$display LANG=en_US.UTF-8 SALLY_VIEW=$1 \
    SALLY_URL=$url SALLY_EMAIL=admin@localhost SALLY_PASSWORD=$password \
    "$tmp/desktop" >"$tmp/desktop-$1.log" 2>&1 &
  local pid=$!
  sleep 8 # log in, load the fleet and (loads) the first load's surroundings
  DISPLAY=$display xwd -silent -name "$title" | convert xwd:- "png:$2"
  kill "$pid"
  wait "$pid" 2>/dev/null || true
  echo "wrote $2"
}
shoot drivers docs/desktop-drivers.png
shoot loads docs/desktop-loads.png

"$tmp/webshot" -url "$url" -password "$password" -view drivers -select 52008 -width 1360 -height 1150 -out docs/web-drivers.png
"$tmp/webshot" -url "$url" -password "$password" -view loads -select "$load" -width 1360 -height 1250 -out docs/web-loads.png
