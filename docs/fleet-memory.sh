#!/usr/bin/env bash
# Measures the desktop monitor's memory with the fleet views open over repeated HOS
# syncs: the real desktop binary (Fyne on OpenGL, under Xvfb) logged in to a running
# demo server with a large sandbox fleet, on the Drivers view (the Loads view's model
# and table stay loaded behind their tab), one Samsara sync a minute; it prints the
# desktop's resident set (VmRSS) after each sync.
#
#   SANDBOX=true DEMO=true ADMIN_PASSWORD=… PORT=8080 go run ./server &
#   docs/fleet-memory.sh http://localhost:8080 <password> [syncs] [drivers] [loads]
#
# Needs the Fyne build packages (see docs/desktop.md), xvfb and curl.
set -euo pipefail
cd "$(dirname "$0")/.."
url=$1 password=$2 syncs=${3:-10} drivers=${4:-1000} loads=${5:-500}
tmp=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT

go build -o "$tmp/desktop" ./desktop
curl -fsS -X PUT "$url/sandbox/_control/fleet" -d "{\"drivers\":$drivers,\"loads\":$loads}" >/dev/null
gql() { curl -fsS "$url/graphql" -H 'Content-Type: application/json' ${2:+-H "Authorization: Bearer $2"} -d "$1"; }
token=$(gql "{\"query\":\"mutation{login(email:\\\"admin@localhost\\\",password:\\\"$password\\\"){token}}\"}" |
  sed -n 's/.*"token":"\([^"]*\)".*/\1/p')
id_of() {
  gql '{"query":"{integrations{id displayName}}"}' "$token" |
    grep -o "\"id\":\"[^\"]*\",\"displayName\":\"$1\"" | sed 's/"id":"\([^"]*\)".*/\1/'
}
samsara=$(id_of "Samsara ELD")
truckbase=$(id_of "Truckbase loads")
sync() { gql "{\"query\":\"mutation{syncIntegration(id:\\\"$1\\\"){status}}\"}" "$token" >/dev/null; }
sync "$truckbase"
sync "$samsara"

display=:$((80 + RANDOM % 9))
Xvfb "$display" -screen 0 1360x900x24 -nolisten tcp >/dev/null 2>&1 &
pids+=($!)
sleep 1
mkdir -p "$tmp/home"
HOME="$tmp/home" DISPLAY=$display LANG=en_US.UTF-8 SALLY_VIEW=drivers \
  SALLY_URL=$url SALLY_EMAIL=admin@localhost SALLY_PASSWORD=$password \
  "$tmp/desktop" >"$tmp/desktop.log" 2>&1 &
desktop=$!
pids+=($desktop)
sleep 15 # log in and load the fleet
rss() { awk '/VmRSS/ {print $2 " " $3}' "/proc/$desktop/status"; }
echo "fleet $drivers drivers, $loads loads; one Samsara sync a minute"
echo "start: $(rss)"
for i in $(seq 1 "$syncs"); do
  start=$(date +%s)
  sync "$samsara"
  sleep $((60 - ($(date +%s) - start)))
  echo "after sync $i: $(rss)"
done
