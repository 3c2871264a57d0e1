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
source "$(dirname "$0")/demo-lib.sh"

build ./desktop ./cmd/webshot
start_server

curl -fsS -X PUT "$url/sandbox/_control/fleet" \
  -d '{"drivers":40,"loads":12,"withoutClocks":2,"disconnected":2,"inViolation":2}' >/dev/null

for name in "Samsara ELD" "Truckbase loads"; do
  id=$(id_of "$name")
  gql "{\"query\":\"mutation{syncIntegration(id:\\\"$id\\\"){status}}\"}" >/dev/null
done
until=$(date -u -d '+4 hours' +%Y-%m-%dT%H:%M:%SZ)
gql "{\"query\":\"mutation(\$in: HOSOverrideInput!){overrideDriverHOS(driverId:\\\"52008\\\",input:\$in){dataSource}}\",\"variables\":{\"in\":{\"dutyStatus\":\"ON_DUTY\",\"hoursDriven\":10.5,\"driveRemainingHours\":0.5,\"shiftRemainingHours\":10,\"cycleRemainingHours\":55,\"timeUntilBreakHours\":5,\"reason\":\"ELD tablet replaced; paper log checked by dispatch\",\"expiresAt\":\"$until\"}}}" >/dev/null
load=$(gql '{"query":"{loads{loadId}}"}' | grep -o '"loadId":"[^"]*"' | head -n1 | sed 's/"loadId":"\([^"]*\)"/\1/')

start_xvfb

shoot() { # view out
  start_desktop SALLY_VIEW="$1"
  sleep 8 # log in, load the fleet and (loads) the first load's surroundings
  capture "$2"
  kill "$desktop_pid"
  wait "$desktop_pid" 2>/dev/null || true
}
shoot drivers docs/desktop-drivers.png
shoot loads docs/desktop-loads.png

"$tmp/webshot" -url "$url" -password "$password" -view drivers -select 52008 -width 1360 -height 1150 -out docs/web-drivers.png
"$tmp/webshot" -url "$url" -password "$password" -view loads -select "$load" -width 1360 -height 1250 -out docs/web-loads.png
