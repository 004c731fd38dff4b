#!/usr/bin/env bash
# Manual smoke test for ldk-peer (not part of CI): starts a throw-away regtest bitcoind, mines
# 101 blocks, starts two ldk-peer instances, connects A -> B, checks both see each other as
# connected, disconnects, checks, and stops both.
#
# Env: BITCOIND_BIN_DIR (default ~/.cache/fulgur/bitcoind-0.4.1/bin),
#      LDK_PEER (path to a built binary; default: output of scripts/build-ldk-peer.sh),
#      KEEP_TMP=1 to keep the temp dir (logs) afterwards.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
BIN_DIR="${BITCOIND_BIN_DIR:-${FULGUR_CACHE_DIR:-$HOME/.cache/fulgur}/bitcoind-0.4.1/bin}"
LDK_PEER="${LDK_PEER:-$("$ROOT/scripts/build-ldk-peer.sh" | tail -n1)}"
command -v jq >/dev/null || { echo "smoke: needs jq" >&2; exit 1; }

TMP="$(mktemp -d /tmp/ldk-peer-smoke.XXXXXX)"
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
    --alias "smoke-$name" <"$TMP/$name.in" >"$TMP/$name.out" 2>"$TMP/$name.err" 3>&- 4>&- &
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

req a node_id; [ "$(jq -r .result <<<"$R")" = "$ID_A" ] || fail "node_id mismatch"
req a new_address; ok new_address
req a sync; ok sync
req a balances; ok balances
req a bogus; jq -e .error <<<"$R" >/dev/null || fail "unknown method should error"

req a connect "{\"node_id\":\"$ID_B\",\"address\":\"127.0.0.1:$PORT_B\",\"persist\":false}"
ok connect

wait_state() { # peer other_id expected(true|false|absent)
  local s
  for _ in $(seq 50); do
    req "$1" list_peers
    s=$(jq -r --arg id "$2" \
      '[.result[] | select(.node_id==$id) | .is_connected][0] | if . == null then "absent" else tostring end' <<<"$R")
    [ "$s" = "$3" ] && return 0
    sleep 0.2
  done
  fail "$1: expected $3 for $2, got $s"
}
wait_state a "$ID_B" true; say "A sees B connected"
wait_state b "$ID_A" true; say "B sees A connected"

req a disconnect "{\"node_id\":\"$ID_B\"}"; ok disconnect
wait_state a "$ID_B" absent; say "A: B gone after disconnect"
wait_state b "$ID_A" absent; say "B: A gone after disconnect"

req a stop; ok stop
exec 4>&-   # B: close stdin, must exit cleanly on EOF
for p in "${PIDS[@]:1}"; do
  wait "$p" || fail "ldk-peer pid $p exited with $?"
done
PIDS=("${PIDS[0]}")
say "both ldk-peer instances exited 0"
grep -h '"event"' "$TMP/a.out" "$TMP/b.out" | grep -v '"ready"' | sed 's/^/event: /' || true
say "OK"
