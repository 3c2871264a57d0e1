#!/usr/bin/env bash
# Takes docs/desktop-sync.png: the desktop monitor under Xvfb with one sync's detail
# open (SALLY_OPEN_SYNC): a manual Truckbase sync whose first two requests got a 503,
# so its timeline shows three tries and the waits between them.
#
# Needs what docs/desktop-screenshot.sh needs: the Fyne build packages, xvfb,
# x11-apps, imagemagick and curl.
source "$(dirname "$0")/demo-lib.sh"
out=${1:-docs/desktop-sync.png}

build ./desktop
start_server
truckbase=$(id_of "Truckbase loads")
sleep 4 # the demo's first scheduled syncs
curl -fsS -X PUT "$url/sandbox/_control/faults/truckbase" -d '{"status":503,"count":2}' >/dev/null
sync=$(gql "{\"query\":\"mutation{syncIntegration(id:\\\"$truckbase\\\"){id}}\"}" |
  sed -n 's/.*"id":"\([^"]*\)".*/\1/p')
echo "sync $sync"

start_xvfb
start_desktop SALLY_OPEN_SYNC="$sync"
sleep 6 # log in, load, open the detail
capture "$out"
