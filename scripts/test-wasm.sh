#!/usr/bin/env bash
# The client core's tests and the browser driver's tests, compiled to wasm and run in
# headless Chromium with wasm-bindgen-test (runner set in .cargo/config.toml, ChromeDriver
# from Debian's chromium-driver). Extra arguments go to cargo test.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/wasm-tools.sh
. scripts/wasm-tools.sh
export CHROMEDRIVER="${CHROMEDRIVER:-$(command -v chromedriver || echo /usr/bin/chromedriver)}"
if [ ! -x "$CHROMEDRIVER" ]; then
  echo "[test-wasm] ChromeDriver not found: apt-get install chromium chromium-driver" >&2
  exit 1
fi
exec cargo test -p jiuloop-client-core -p jiuloop-wasm --target wasm32-unknown-unknown "$@"
