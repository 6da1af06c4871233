#!/usr/bin/env bash
# The whole test suite, on a fresh machine as on a developer's: installs what the tests
# need when it is missing, then runs them.
#   - Debian's chromium, chromium-driver and a CJK font (the browser tests drive a real
#     headless Chromium), and postgresql (the PostgreSQL tests start a throw-away cluster
#     with initdb + pg_ctl as the `postgres` user);
#   - the wasm32-unknown-unknown target and the wasm-bindgen CLI pinned to Cargo.lock
#     (scripts/wasm-tools.sh), for the web app and the in-browser tests;
# then: the client core's and the browser driver's tests inside Chromium
# (scripts/test-wasm.sh) and `cargo test --workspace` (which builds the web app itself).
# Extra arguments go to `cargo test --workspace`.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
say() { printf '\n[test] %s\n' "$*" >&2; }

need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v chromedriver >/dev/null 2>&1 || need+=(chromium-driver)
[ -e /usr/share/fonts/truetype/wqy/wqy-microhei.ttc ] || need+=(fonts-wqy-microhei)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
if [ ${#need[@]} -gt 0 ]; then
  say "installing Debian packages: ${need[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${need[@]}"
fi

# shellcheck source=scripts/wasm-tools.sh
. scripts/wasm-tools.sh

say "client core and browser driver tests in headless Chromium"
scripts/test-wasm.sh

say "cargo test --workspace"
cargo test --workspace "$@"
