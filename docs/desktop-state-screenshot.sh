#!/usr/bin/env bash
# Takes docs/desktop-needs-credentials.png: the desktop monitor under Xvfb with the
# demo's Truckbase integration selected after the vendor rejected its new key three
# times: "needs new key" in the list and the banner over its details.
#
# Needs what docs/desktop-screenshot.sh needs: the Fyne build packages, xvfb,
# x11-apps, imagemagick and curl.
source "$(dirname "$0")/demo-lib.sh"
out=${1:-docs/desktop-needs-credentials.png}

build ./desktop
start_server
truckbase=$(id_of "Truckbase loads")
sleep 4 # the demo's first scheduled syncs
gql "{\"query\":\"mutation{updateIntegration(id:\\\"$truckbase\\\",input:{credentials:{apiKey:\\\"invalid-revoked-key\\\"}}){state}}\"}" >/dev/null
for _ in 1 2 3; do
  gql "{\"query\":\"mutation{syncIntegration(id:\\\"$truckbase\\\"){status}}\"}" >/dev/null || true
done
gql "{\"query\":\"{integration(id:\\\"$truckbase\\\"){state stateReason}}\"}"
echo

start_xvfb
start_desktop
sleep 6 # log in, load; the first row (Truckbase) is selected
capture "$out"
