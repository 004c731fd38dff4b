#!/usr/bin/env bash
# Builds `bitcoind` and `bitcoin-cli` from the Bitcoin Core source that ships inside the
# crates.io package `libbitcoinkernel-sys` (pinned below) and caches the two binaries outside
# the checkout. Prints the directory holding them on its last line of stdout.
#
# Cache: $FULGUR_CACHE_DIR (default ~/.cache/fulgur)/bitcoind-<crate version>/bin.
# A cached build is reused; delete the directory to rebuild.
set -euo pipefail

CRATE_VERSION="0.4.1"
CACHE_ROOT="${FULGUR_CACHE_DIR:-$HOME/.cache/fulgur}"
OUT="$CACHE_ROOT/bitcoind-$CRATE_VERSION"

if [ -x "$OUT/bin/bitcoind" ] && [ -x "$OUT/bin/bitcoin-cli" ]; then
  echo "$OUT/bin"
  exit 0
fi

log() { echo "build-bitcoind: $*" >&2; }

need_pkgs=()
for p in cmake pkg-config; do command -v "$p" >/dev/null 2>&1 || need_pkgs+=("$p"); done
[ -e /usr/include/boost/version.hpp ] || need_pkgs+=(libboost-dev)
[ -e /usr/include/event2/event.h ] || need_pkgs+=(libevent-dev)
if [ ${#need_pkgs[@]} -gt 0 ]; then
  log "installing Debian packages: ${need_pkgs[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_pkgs[@]}" >&2
fi

# Fetch the crate through cargo (its registry is the only source we use).
WORK="$CACHE_ROOT/bitcoind-build-$CRATE_VERSION"
mkdir -p "$WORK/fetch/src"
cat > "$WORK/fetch/Cargo.toml" <<TOML
[package]
name = "fetch-bitcoin-core"
version = "0.0.0"
edition = "2021"
publish = false
[dependencies]
libbitcoinkernel-sys = "=$CRATE_VERSION"
[workspace]
TOML
echo "" > "$WORK/fetch/src/lib.rs"
log "fetching libbitcoinkernel-sys $CRATE_VERSION"
( cd "$WORK/fetch" && cargo fetch -q >&2 )
SRC_CRATE=$(ls -d "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/libbitcoinkernel-sys-"$CRATE_VERSION" | head -n1)
SRC="$SRC_CRATE/bitcoin"
[ -f "$SRC/CMakeLists.txt" ] || { log "no Bitcoin Core source found in $SRC_CRATE"; exit 1; }
log "source: $SRC"

BUILD="$WORK/build"
cmake -S "$SRC" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release \
  -DBUILD_DAEMON=ON -DBUILD_CLI=ON -DENABLE_WALLET=OFF -DWITH_EMBEDDED_ASMAP=OFF \
  -DENABLE_IPC=OFF -DBUILD_TESTS=OFF -DBUILD_BENCH=OFF -DBUILD_KERNEL_LIB=OFF \
  -DBUILD_UTIL=OFF -DBUILD_TX=OFF -DBUILD_WALLET_TOOL=OFF -DBUILD_FUZZ_BINARY=OFF >&2
log "compiling (about 10 minutes on 2 cores)"
cmake --build "$BUILD" -j"$(nproc)" --target bitcoind bitcoin-cli >&2

mkdir -p "$OUT/bin"
cp "$(find "$BUILD" -type f -name bitcoind -perm -u+x | head -n1)" "$OUT/bin/bitcoind.tmp"
cp "$(find "$BUILD" -type f -name bitcoin-cli -perm -u+x | head -n1)" "$OUT/bin/bitcoin-cli.tmp"
strip "$OUT/bin/bitcoind.tmp" "$OUT/bin/bitcoin-cli.tmp" 2>/dev/null || true
mv "$OUT/bin/bitcoind.tmp" "$OUT/bin/bitcoind"
mv "$OUT/bin/bitcoin-cli.tmp" "$OUT/bin/bitcoin-cli"
rm -rf "$BUILD"
log "done: $OUT/bin"
echo "$OUT/bin"
