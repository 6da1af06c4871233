#!/usr/bin/env bash
# Build the browser app, then run jiuloop-server serving it at / (embedded SQLite in
# ./jiuloop-data unless --data says otherwise). Extra arguments go to `serve`, e.g.
#   scripts/run-server.sh --listen 0.0.0.0:8080
# With --demo: a demo company (users for every role, customers, visits and orders in every
# status) in ./jiuloop-demo unless --data says otherwise, seeded on the first run; the
# users and their passwords are printed (JIULOOP_PASSWORD, when set, is every user's).
# Without it, the first start says how to create the first admin user:
#   JIULOOP_PASSWORD=… cargo run --release -p jiuloop-server -- user add admin --role admin
set -euo pipefail
cd "$(dirname "$0")/.."
demo=0
data=""
args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --demo) demo=1 ;;
    --data) data="$2"; shift ;;
    --data=*) data="${1#--data=}" ;;
    *) args+=("$1") ;;
  esac
  shift
done
if [ -z "$data" ]; then
  if [ "$demo" = 1 ]; then data=./jiuloop-demo; else data=./jiuloop-data; fi
fi
scripts/build-web.sh target/web
cargo build --release -p jiuloop-server
server="${CARGO_TARGET_DIR:-target}/release/jiuloop-server"
if [ "$demo" = 1 ]; then
  if [ -e "$data/jiuloop.db" ]; then
    echo "[run-server] $data holds the demo company already (delete it to seed a new one); users:"
    "$server" --data "$data" user list
  else
    "$server" --data "$data" demo
  fi
fi
exec "$server" --data "$data" serve --web target/web "${args[@]}"
