#!/usr/bin/env bash
# The whole test suite, on a fresh machine too: installs what the tests need when it is
# missing — headless Chromium, ChromeDriver and a CJK font (Debian packages), the
# wasm32-unknown-unknown target and the wasm-bindgen CLI pinned to Cargo.lock — then runs
# `cargo test --workspace` (extra arguments go to it). The browser tests build the web app
# themselves (scripts/build-web.sh). .ci/run ends with this script.
set -euo pipefail
cd "$(dirname "$0")/.."
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v chromedriver >/dev/null 2>&1 || need+=(chromium-driver)
[ -e /usr/share/fonts/truetype/wqy/wqy-microhei.ttc ] || need+=(fonts-wqy-microhei)
if [ ${#need[@]} -gt 0 ]; then
  echo "[test] installing ${need[*]}" >&2
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${need[@]}"
fi
# shellcheck source=scripts/wasm-tools.sh
. scripts/wasm-tools.sh
exec cargo test --workspace "$@"
