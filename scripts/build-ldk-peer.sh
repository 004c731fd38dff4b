#!/usr/bin/env bash
# Builds the test-only Lightning peer `ldk-peer` (test-peers/ldk-peer, a wrapper around the
# crates.io crate `ldk-node`) and caches the binary outside the checkout. Prints the path of the
# binary on its last line of stdout; progress goes to stderr.
#
# Cache: $FULGUR_CACHE_DIR (default ~/.cache/fulgur)/ldk-peer-<hash>/ldk-peer, where <hash>
# covers test-peers/ldk-peer's Cargo.toml, Cargo.lock and src/ plus the build profile, so the
# binary is rebuilt only when those change. Cargo's target dir is kept at
# $FULGUR_CACHE_DIR/ldk-peer-target so rebuilds are incremental.
#
# LDK_PEER_PROFILE=release|debug (default: debug; it only runs in tests and builds much faster).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SRC="$ROOT/test-peers/ldk-peer"
CACHE_ROOT="${FULGUR_CACHE_DIR:-$HOME/.cache/fulgur}"
PROFILE="${LDK_PEER_PROFILE:-debug}"

log() { echo "build-ldk-peer: $*" >&2; }

case "$PROFILE" in
  debug) PROFILE_ARGS=(); PROFILE_DIR=debug ;;
  release) PROFILE_ARGS=(--release); PROFILE_DIR=release ;;
  *) log "LDK_PEER_PROFILE must be debug or release, got '$PROFILE'"; exit 2 ;;
esac

[ -f "$SRC/Cargo.toml" ] && [ -f "$SRC/Cargo.lock" ] || { log "missing $SRC/Cargo.{toml,lock}"; exit 1; }

HASH="$(
  cd "$SRC"
  {
    echo "profile=$PROFILE"
    find Cargo.toml Cargo.lock src -type f | LC_ALL=C sort | while IFS= read -r f; do
      printf '%s %s\n' "$(sha256sum < "$f" | cut -d' ' -f1)" "$f"
    done
  } | sha256sum | cut -c1-16
)"
OUT_DIR="$CACHE_ROOT/ldk-peer-$HASH"
OUT="$OUT_DIR/ldk-peer"

if [ -x "$OUT" ]; then
  log "cached: $OUT"
  echo "$OUT"
  exit 0
fi

# ldk-node's TLS stack is rustls/ring and its SQLite is bundled: the only system requirement is
# a C compiler (ring, libsqlite3-sys). No pkg-config / OpenSSL needed.
if ! command -v cc >/dev/null 2>&1; then
  log "installing Debian packages: gcc libc6-dev"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq gcc libc6-dev >&2
fi

TARGET_DIR="$CACHE_ROOT/ldk-peer-target"
mkdir -p "$TARGET_DIR"
log "building ldk-peer ($PROFILE) in $TARGET_DIR (first build takes several minutes)"
start=$(date +%s)
# Run from $SRC so its own workspace (and no outer config) is used; CARGO_TARGET_DIR overrides
# any value inherited from a surrounding cargo invocation.
( cd "$SRC" && CARGO_TARGET_DIR="$TARGET_DIR" cargo build --locked "${PROFILE_ARGS[@]}" \
    --bin ldk-peer >&2 )
log "built in $(( $(date +%s) - start ))s"

mkdir -p "$OUT_DIR"
# Copy then rename, so concurrent callers never see a partial binary.
TMP="$OUT_DIR/ldk-peer.tmp.$$"
cp "$TARGET_DIR/$PROFILE_DIR/ldk-peer" "$TMP"
chmod +x "$TMP"
mv -f "$TMP" "$OUT"
log "done: $OUT"
echo "$OUT"
