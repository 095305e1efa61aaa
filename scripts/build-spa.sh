#!/usr/bin/env bash
# Builds the Leptos SPA into dist/: index.html plus content-hashed files under dist/assets/.
# Installs the wasm32 target, wasm-bindgen-cli and wasm-opt first if they are missing.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

ensure_wasm_target
ensure_wasm_bindgen
ensure_frontend_tools

log "building the SPA (wasm32, profile wasm-release)"
cargo build -p frontend --target wasm32-unknown-unknown --profile wasm-release
wasm="$TARGET_DIR/wasm32-unknown-unknown/wasm-release/frontend.wasm"

dist="${CHATKEEP_SPA_DIR:-$ROOT/dist}"
stamp="$(cat "$wasm" frontend/index.html frontend/style.css frontend/theme.js | sha256sum | cut -c1-64)"
if [ -f "$dist/.build-stamp" ] && [ "$(cat "$dist/.build-stamp")" = "$stamp" ]; then
  log "SPA unchanged: $dist"
  exit 0
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
wasm-bindgen --target web --no-typescript --out-dir "$work" --out-name app "$wasm"
frontend/node_modules/.bin/wasm-opt -Oz --enable-reference-types --enable-bulk-memory \
  --enable-nontrapping-float-to-int --enable-sign-ext --enable-mutable-globals \
  --enable-multivalue -o "$work/app_bg.opt.wasm" "$work/app_bg.wasm"

hash() { sha256sum "$1" | cut -c1-16; }
mkdir -p "$work/dist/assets"
js="app-$(hash "$work/app.js").js"
wasm_out="app-$(hash "$work/app_bg.opt.wasm").wasm"
css="style-$(hash frontend/style.css).css"
theme="theme-$(hash frontend/theme.js).js"
cp "$work/app.js" "$work/dist/assets/$js"
# The page starts the app from a file, not an inline script, so the Content-Security-Policy
# can forbid inline script altogether.
printf 'import init from "./%s";\ninit({ module_or_path: "/assets/%s" });\n' "$js" "$wasm_out" \
  > "$work/boot.js"
boot="boot-$(hash "$work/boot.js").js"
cp "$work/boot.js" "$work/dist/assets/$boot"
cp "$work/app_bg.opt.wasm" "$work/dist/assets/$wasm_out"
cp frontend/style.css "$work/dist/assets/$css"
cp frontend/theme.js "$work/dist/assets/$theme"
sed -e "s/{{APP_JS}}/$js/g" -e "s/{{APP_WASM}}/$wasm_out/g" -e "s/{{STYLE_CSS}}/$css/g" \
  -e "s/{{BOOT_JS}}/$boot/g" -e "s/{{THEME_JS}}/$theme/g" \
  frontend/index.html > "$work/dist/index.html"
echo "$stamp" > "$work/dist/.build-stamp"

# Swap in the new build in one step so a running server never serves half of one.
rm -rf "$dist.old"
[ -d "$dist" ] && mv "$dist" "$dist.old"
mv "$work/dist" "$dist"
rm -rf "$dist.old"

raw=$(stat -c %s "$dist/assets/$wasm_out")
gz=$(gzip -9 -c "$dist/assets/$wasm_out" | wc -c)
log "SPA built into $dist: $wasm_out is $((raw / 1024)) KiB raw, $((gz / 1024)) KiB gzipped"
