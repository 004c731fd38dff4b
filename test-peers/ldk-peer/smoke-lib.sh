# Shared set-up of the manual ldk-peer smoke scripts (sourced, not run): a throw-away
# regtest bitcoind with 101 blocks, two ldk-peer instances A and B reading requests on fd 3
# and 4, and the helpers say, fail, cli, wait_line, req and ok. Everything is stopped and the
# temp dir removed on exit (kept on failure or with KEEP_TMP=1).
#
# Set before sourcing: SMOKE_NAME (temp dir prefix), SMOKE_PEER_ARGS (extra ldk-peer args).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
BIN_DIR="${BITCOIND_BIN_DIR:-${FULGUR_CACHE_DIR:-$HOME/.cache/fulgur}/bitcoind-0.4.1/bin}"
LDK_PEER="${LDK_PEER:-$("$ROOT/scripts/build-ldk-peer.sh" | tail -n1)}"
command -v jq >/dev/null || { echo "smoke: needs jq" >&2; exit 1; }

TMP="$(mktemp -d "/tmp/ldk-peer-${SMOKE_NAME:-smoke}.XXXXXX")"
PIDS=()
cleanup() {
  local rc=$?
  exec 3>&- 4>&- || true
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  if [ "${KEEP_TMP:-0}" = 1 ] || [ $rc -ne 0 ]; then echo "smoke: logs kept in $TMP" >&2
  else rm -rf "$TMP"; fi
  exit $rc
}
trap cleanup EXIT

say() { echo "smoke: $*"; }
fail() { echo "smoke: FAIL: $*" >&2; exit 1; }

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
RPC_PORT=$(free_port); P2P_PORT=$(free_port); PORT_A=$(free_port); PORT_B=$(free_port)

# --- bitcoind -------------------------------------------------------------------------------
mkdir -p "$TMP/btc"
"$BIN_DIR/bitcoind" -regtest -datadir="$TMP/btc" -rpcport="$RPC_PORT" -port="$P2P_PORT" \
  -listen=0 -server -rpcuser=u -rpcpassword=p -fallbackfee=0.0002 -printtoconsole=0 &
PIDS+=($!)
cli() { "$BIN_DIR/bitcoin-cli" -regtest -datadir="$TMP/btc" -rpcport="$RPC_PORT" -rpcuser=u -rpcpassword=p "$@"; }
for _ in $(seq 100); do cli getblockchaininfo >/dev/null 2>&1 && break; sleep 0.2; done
cli getblockchaininfo >/dev/null || fail "bitcoind did not come up"
cli generatetoaddress 101 bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080 >/dev/null
say "bitcoind up on rpc $RPC_PORT, height $(cli getblockcount)"

# --- ldk-peer instances ---------------------------------------------------------------------
# Each peer reads requests from a fifo (kept open on fd 3 / 4) and writes lines to a file.
start_peer() { # name port
  local name=$1 port=$2
  mkfifo "$TMP/$name.in"
  "$LDK_PEER" --datadir "$TMP/$name" --network regtest --listen "127.0.0.1:$port" \
    --bitcoind-rpc "127.0.0.1:$RPC_PORT" --bitcoind-user u --bitcoind-password p \
    --alias "smoke-$name" ${SMOKE_PEER_ARGS:-} <"$TMP/$name.in" >"$TMP/$name.out" 2>"$TMP/$name.err" 3>&- 4>&- &
  PIDS+=($!)
}
start_peer a "$PORT_A"; exec 3>"$TMP/a.in"
start_peer b "$PORT_B"; exec 4>"$TMP/b.in"

wait_line() { # file jq-filter timeout_s -> prints first matching line
  local file=$1 filter=$2 deadline=$(( $(date +%s) + ${3:-30} ))
  while [ "$(date +%s)" -lt "$deadline" ]; do
    local line
    line=$(jq -c "select($filter)" "$file" 2>/dev/null | head -n1 || true)
    [ -n "$line" ] && { echo "$line"; return 0; }
    sleep 0.1
  done
  fail "timeout waiting for $filter in $file"
}

READY_A=$(wait_line "$TMP/a.out" '.event=="ready"' 60); say "A: $READY_A"
READY_B=$(wait_line "$TMP/b.out" '.event=="ready"' 60); say "B: $READY_B"
ID_A=$(jq -r .node_id <<<"$READY_A"); ID_B=$(jq -r .node_id <<<"$READY_B")

NEXT_ID=0
R=""
req() { # peer(a|b) method [params-json]; sets R to the answer line (no subshell: keeps NEXT_ID)
  local peer=$1 method=$2 params=${3:-null} fd line
  NEXT_ID=$((NEXT_ID + 1))
  [ "$peer" = a ] && fd=3 || fd=4
  line=$(jq -nc --argjson id "$NEXT_ID" --arg m "$method" --argjson p "$params" \
    '{id:$id,method:$m} + (if $p == null then {} else {params:$p} end)')
  echo ">> $peer $line"
  echo "$line" >&"$fd"
  R=$(wait_line "$TMP/$peer.out" ".id==$NEXT_ID" 60)
  echo "<< $peer $R"
}
ok() { jq -e 'has("result")' <<<"$R" >/dev/null || fail "$1: $R"; }
