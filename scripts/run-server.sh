#!/usr/bin/env bash
# Build the browser app, then run jiuloop-server serving it at / (embedded SQLite in
# ./jiuloop-data unless --data says otherwise). Extra arguments go to `serve`, e.g.
#   scripts/run-server.sh --listen 0.0.0.0:8080
# Add users first: JIULOOP_PASSWORD=… cargo run --release -p jiuloop-server -- user add li --role rep --territory 贵州
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build-web.sh target/web
exec cargo run --release -p jiuloop-server -- serve --web target/web "$@"
