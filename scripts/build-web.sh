#!/usr/bin/env bash
# Build the browser app into target/web (or the directory given as $1):
#   1. the wasm32-unknown-unknown target and the wasm-bindgen CLI of exactly the version
#      of the wasm-bindgen crate in Cargo.lock, installed when missing;
#   2. wasm-client in the size-optimised `wasm-release` profile;
#   3. wasm-bindgen --target web (plain ES modules, no bundler), web/ copied beside it;
#   4. the service worker stamped with the build hash and its file list; .gz copies of
#      the big files for clients that accept gzip.
# The output is replaced atomically, so a running server never serves half a build.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT="${1:-target/web}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"

say() { printf '[build-web] %s\n' "$*" >&2; }

# shellcheck source=scripts/wasm-tools.sh
. scripts/wasm-tools.sh

say "cargo build -p jiuloop-wasm (wasm-release)"
cargo build -p jiuloop-wasm --target wasm32-unknown-unknown --profile wasm-release
# Where cargo put it: CARGO_TARGET_DIR when set (a shared or out-of-tree target directory).
WASM="${CARGO_TARGET_DIR:-target}/wasm32-unknown-unknown/wasm-release/jiuloop_wasm.wasm"

STAGE="$OUT.tmp.$$"
rm -rf "$STAGE"
mkdir -p "$STAGE/pkg"
trap 'rm -rf "$STAGE"' EXIT
wasm-bindgen --target web --no-typescript --remove-name-section --remove-producers-section --out-dir "$STAGE/pkg" "$WASM"
# Old wasm-opt releases (Debian's binaryen 108) break wasm-bindgen's externref table (the
# app fails at start) and make the module bigger: only a recent one is used.
wasm_opt_ok() {
  local v
  v=$(wasm-opt --version 2>/dev/null | grep -o '[0-9]\+' | head -1)
  [ -n "$v" ] && [ "$v" -ge 116 ]
}
if command -v wasm-opt >/dev/null 2>&1 && [ -z "${JIULOOP_NO_WASM_OPT:-}" ] && wasm_opt_ok; then
  say "wasm-opt -Oz"
  wasm-opt -Oz --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext --enable-mutable-globals \
    "$STAGE/pkg/jiuloop_wasm_bg.wasm" -o "$STAGE/pkg/jiuloop_wasm_bg.opt.wasm" \
    && mv "$STAGE/pkg/jiuloop_wasm_bg.opt.wasm" "$STAGE/pkg/jiuloop_wasm_bg.wasm" \
    || say "wasm-opt failed; keeping the unoptimised module"
fi
cp -R web/. "$STAGE/"

# The service worker caches exactly this build's files.
FILES=$(cd "$STAGE" && find . -type f ! -name sw.js ! -name '*.gz' | sed 's|^\./||' | LC_ALL=C sort)
HASH=$(cd "$STAGE" && printf '%s\n' $FILES | xargs sha256sum | sha256sum | cut -c1-16)
LIST=$(printf '%s\n' $FILES | awk 'BEGIN { printf "[\"./\"" } { printf ", \"%s\"", $0 } END { printf "]" }')
sed -i -e "s|__BUILD__|$HASH|" -e "s|__FILES__|$LIST|" "$STAGE/sw.js"
printf '%s\n' "$HASH" > "$STAGE/build-id.txt"

find "$STAGE" -type f \( -name '*.wasm' -o -name '*.js' -o -name '*.css' -o -name '*.html' \) -size +1k \
  -exec gzip -9 -k -n {} \;

rm -rf "$OUT.old"
[ -d "$OUT" ] && mv "$OUT" "$OUT.old"
mv "$STAGE" "$OUT"
rm -rf "$OUT.old"
trap - EXIT

raw=$(stat -c %s "$OUT/pkg/jiuloop_wasm_bg.wasm")
gz=$(stat -c %s "$OUT/pkg/jiuloop_wasm_bg.wasm.gz")
say "built $OUT (build $HASH): wasm $raw bytes raw, $gz bytes gzip"
