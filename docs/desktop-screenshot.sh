#!/usr/bin/env bash
# Takes docs/desktop.png: the desktop monitor under Xvfb, logged in (SALLY_URL,
# SALLY_EMAIL, SALLY_PASSWORD) to a fresh demo server whose Samsara sandbox fails for a
# while, so the screenshot shows the health indicators, the feed and a history.
#
# Needs the Fyne build packages (see docs/desktop.md) and: xvfb x11-apps imagemagick curl.
source "$(dirname "$0")/demo-lib.sh"
out=${1:-docs/desktop.png}

build ./desktop
start_server
# Samsara fails until we clear it (its first sync is 4 s after the start); one
# OpenWeather call fails, so its sync retries once and succeeds.
curl -fsS -X PUT "$url/sandbox/_control/faults/samsara" -d '{"status":503}' >/dev/null
curl -fsS -X PUT "$url/sandbox/_control/faults/openweather" -d '{"status":503,"count":1}' >/dev/null
start_xvfb
start_desktop
truckbase=$(id_of "Truckbase loads")

sleep 2 # the desktop logs in
for _ in 1 2 3 4; do # a history for the selected (first) integration
  gql "{\"query\":\"mutation{syncIntegration(id:\\\"$truckbase\\\"){status}}\"}" >/dev/null
  sleep 0.5
done
sleep 12 # the scheduled first syncs: Samsara's retries and failure, OpenWeather's retry
curl -fsS -X DELETE "$url/sandbox/_control/faults" >/dev/null
sleep 1
capture "$out"
