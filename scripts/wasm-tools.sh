#!/usr/bin/env bash
# Sourced by build-web.sh and test-wasm.sh: makes sure the wasm32-unknown-unknown target
# and the wasm-bindgen CLI of exactly the version of the wasm-bindgen crate in Cargo.lock
# are installed (the CLI and the crate must match).

wasm_tools_say() { printf '[wasm-tools] %s\n' "$*" >&2; }

if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
  wasm_tools_say "installing the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

WB_VERSION=$(awk '$0 == "name = \"wasm-bindgen\"" { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)
if [ -z "$WB_VERSION" ]; then
  wasm_tools_say "Cargo.lock has no wasm-bindgen crate"
  exit 1
fi
wb_have=$(wasm-bindgen --version 2>/dev/null | awk '{print $2}' || true)
if [ "$wb_have" != "$WB_VERSION" ] || ! command -v wasm-bindgen-test-runner >/dev/null 2>&1; then
  wasm_tools_say "installing wasm-bindgen-cli $WB_VERSION (found: ${wb_have:-none}); takes a few minutes"
  # --locked reproduces the CLI's own lock file; if one of its pinned dependencies has been
  # yanked from the registry since, fall back to a fresh resolution of the same version.
  cargo install wasm-bindgen-cli --version "$WB_VERSION" --locked \
    || cargo install wasm-bindgen-cli --version "$WB_VERSION"
fi
