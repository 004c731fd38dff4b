#!/usr/bin/env bash
# A regtest network to use right away: builds (or reuses) bitcoind, builds Fulgur, then starts
# bitcoind and N fulgurd nodes (default 2) under /tmp/fulgur-regtest until Ctrl-C, printing the
# fulgur-cli command for each node. Arguments go to fulgur-regtest (--nodes N, --dir DIR).
set -euo pipefail
cd "$(dirname "$0")/.."
FULGUR_BITCOIND_DIR="$(scripts/build-bitcoind.sh | tail -n1)"
export FULGUR_BITCOIND_DIR
cargo build --workspace -q
exec target/debug/fulgur-regtest "$@"
