#!/usr/bin/env bash
# Takes docs/web.png (the sync history of the demo's Truckbase integration at laptop
# size, whole page) and docs/web-phone.png (the same at phone width) with cmd/webshot
# (headless Chromium) against a fresh demo server.
#
# Needs chromium and curl.
source "$(dirname "$0")/demo-lib.sh"

build ./cmd/webshot
start_server
sleep 5 # the demo's first scheduled syncs
"$tmp/webshot" -url "$url" -password "$password" -syncs 3 -full -out docs/web.png
"$tmp/webshot" -url "$url" -password "$password" -width 390 -height 844 -out docs/web-phone.png
