# Sourced by the scripts: the environment that keeps builds and wrangler offline.
export PATH="$PWD/node_modules/.bin:${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"   # Node 22 (for wrangler) first
export WRANGLER_SEND_METRICS=false WRANGLER_SEND_ERROR_REPORTS=false
export CLOUDFLARE_CF_FETCH_ENABLED=false DO_NOT_TRACK=1
export WASM_BINDGEN_BIN=wasm-bindgen
export ESBUILD_BIN="$PWD/node_modules/@esbuild/linux-x64/bin/esbuild"
