#!/usr/bin/env bash
# The whole test suite, on a fresh machine or an old one:
#   1. builds (or reuses) bitcoind and bitcoin-cli from the Bitcoin Core source in
#      libbitcoinkernel-sys (cached under ~/.cache/fulgur);
#   then checks formatting and clippy (warnings are errors);
#   2. builds (or reuses) the ldk-node test peer (test-peers/ldk-peer, cached likewise);
#   3. runs every Rust test (unit, vectors, property, integration against real regtest
#      bitcoind and fulgurd processes, interop with ldk-node, the cln-rpc client, documented
#      examples);
#   4. runs the pyln-client tests in a Python venv.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

step "bitcoind (cached build)"
FULGUR_BITCOIND_DIR="$(scripts/build-bitcoind.sh | tail -n1)"
export FULGUR_BITCOIND_DIR
echo "using $FULGUR_BITCOIND_DIR"

step "ldk-node test peer (cached build)"
FULGUR_LDK_PEER="$(scripts/build-ldk-peer.sh | tail -n1)"
export FULGUR_LDK_PEER
echo "using $FULGUR_LDK_PEER"

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy --all-targets -D warnings"
cargo clippy --workspace --all-targets -q -- -D warnings

step "cargo build"
cargo build --workspace -q

step "cargo test"
cargo test --workspace -q 2>&1 | tee /tmp/fulgur-cargo-test.$$ | grep -v '^$' || { cat /tmp/fulgur-cargo-test.$$ | tail -50; exit 1; }
rust_passed=$(grep -Eo 'test result: ok\. [0-9]+ passed' /tmp/fulgur-cargo-test.$$ | awk '{s+=$4} END {print s+0}')
rm -f /tmp/fulgur-cargo-test.$$

step "pyln-client tests"
VENV="$(scripts/python-venv.sh | tail -n1)"
"$VENV/bin/python" -m pytest tests/python -q

step "done: ${rust_passed} Rust tests passed, Python tests passed"
