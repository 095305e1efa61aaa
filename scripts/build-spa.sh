#!/usr/bin/env bash
# Builds the Leptos SPA into dist/: index.html plus content-hashed files under dist/assets/.
#   scripts/build-spa.sh           the release build CI checks: profile wasm-release, the parts
#                                  most visits never open cut into files of their own
#                                  (wasm-split-cli), every file through wasm-opt -Oz
#   scripts/build-spa.sh --quick   what scripts/run.sh makes: profile wasm-quick, one file, no
#                                  wasm-split-cli, no wasm-opt; minutes sooner on a fresh machine,
#                                  a larger download (it prints the sizes)
# Installs the wasm32 target and the tools it needs first if missing.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

mode=release
case "${1:-}" in
  "") ;;
  --quick) mode=quick ;;
  *) echo "usage: scripts/build-spa.sh [--quick]" >&2; exit 2 ;;
esac

ensure_wasm_target
ensure_wasm_bindgen
if [ "$mode" = release ]; then
  ensure_wasm_split
  ensure_frontend_tools
  profile=wasm-release features=()
else
  profile=wasm-quick features=(--no-default-features)
fi

log "building the SPA (wasm32, profile $profile)"
cargo build -p frontend --target wasm32-unknown-unknown --profile "$profile" "${features[@]}"
wasm="$TARGET_DIR/wasm32-unknown-unknown/$profile/frontend.wasm"

dist="${CHATKEEP_SPA_DIR:-$ROOT/dist}"
stamp="$mode $(cat "$wasm" scripts/build-spa.sh frontend/index.html frontend/style.css frontend/theme.js \
  | sha256sum | cut -c1-64)"
if [ -f "$dist/.build-stamp" ] && [ "$(cat "$dist/.build-stamp")" = "$stamp" ]; then
  log "SPA unchanged: $dist"
  exit 0
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
if [ "$mode" = quick ]; then
  log "JS bindings (wasm-bindgen)"
  wasm-bindgen --target web --no-typescript --out-dir "$work/app" --out-name app "$wasm"
else
  # 1. Split: the main module, one file per part (and chunks that several share), and
  #    __wasm_split.js, which fetches them on demand and links them to the main module's memory
  #    and function table.
  log "cutting out the parts (wasm-split-cli), JS bindings (wasm-bindgen), wasm-opt -Oz"
  wasm-split-cli "$wasm" "$work/split" --out-name app
  # 2. The JS bindings for the main module; LLD's exports stay, as the split files need them.
  wasm-bindgen --target web --no-typescript --keep-lld-exports --out-dir "$work/app" --out-name app \
    "$work/split/app.wasm"
  # 3. Every module optimised for size.
  mv "$work/split/__wasm_split.js" "$work/app/"
  for module in "$work/app/app_bg.wasm" "$work/split/"*.wasm; do
    [ "$module" = "$work/split/app.wasm" ] && continue
    frontend/node_modules/.bin/wasm-opt -Oz --enable-reference-types --enable-bulk-memory \
      --enable-nontrapping-float-to-int --enable-sign-ext --enable-mutable-globals \
      --enable-multivalue -o "$work/app/$(basename "$module")" "$module" 2> >(grep -v "unknown name subsection" >&2)
  done
fi

# The app's files refer to each other by name (`./app.js`, `./chunk_6.wasm`), so they share one
# folder whose name is the hash of them all: a new build is a new folder, cached for good.
hash() { cat "$@" | sha256sum | cut -c1-16; }
mkdir -p "$work/dist/assets"
app="app-$(hash "$work/app/"*)"
mv "$work/app" "$work/dist/assets/$app"
css="style-$(hash frontend/style.css).css"
theme="theme-$(hash frontend/theme.js).js"
# The page starts the app from a file, not an inline script, so the Content-Security-Policy
# can forbid inline script altogether.
printf 'import init from "./%s/app.js";\ninit({ module_or_path: "/assets/%s/app_bg.wasm" });\n' "$app" "$app" \
  > "$work/boot.js"
boot="boot-$(hash "$work/boot.js").js"
cp "$work/boot.js" "$work/dist/assets/$boot"
cp frontend/style.css "$work/dist/assets/$css"
cp frontend/theme.js "$work/dist/assets/$theme"
sed -e "s|{{APP_JS}}|$app/app.js|g" -e "s|{{APP_WASM}}|$app/app_bg.wasm|g" -e "s/{{STYLE_CSS}}/$css/g" \
  -e "s/{{BOOT_JS}}/$boot/g" -e "s/{{THEME_JS}}/$theme/g" \
  frontend/index.html > "$work/dist/index.html"
echo "$stamp" > "$work/dist/.build-stamp"

# Swap in the new build in one step so a running server never serves half of one.
rm -rf "$dist.old"
[ -d "$dist" ] && mv "$dist" "$dist.old"
mv "$work/dist" "$dist"
rm -rf "$dist.old"

gz() { gzip -9 -c "$1" | wc -c; }
main="$dist/assets/$app/app_bg.wasm"
lazy=0
for module in "$dist/assets/$app/"*.wasm; do
  [ "$module" = "$main" ] || lazy=$((lazy + $(gz "$module")))
done
parts="the parts loaded on demand add $((lazy / 1024)) KiB gzipped"
[ "$mode" = quick ] && parts="one file, not optimised for size (scripts/build-spa.sh without --quick makes the small one)"
log "SPA ($mode build) in $dist: the main module is $(($(stat -c %s "$main") / 1024)) KiB raw, \
$(($(gz "$main") / 1024)) KiB gzipped ($(gz "$main") bytes); $parts"
