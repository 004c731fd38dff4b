#!/usr/bin/env bash
# Manual channel smoke test for ldk-peer (not part of CI): a throw-away regtest bitcoind and two
# ldk-peer instances A and B, both funded on chain. A opens an unannounced channel to B (with a
# push), both see channel_pending, 6 blocks later channel_ready and a usable channel; A closes
# it cooperatively. Then B opens an announced channel to A and force-closes it.
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

TMP="$(mktemp -d /tmp/ldk-peer-chan-smoke.XXXXXX)"
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
    --alias "smoke-$name" --log-level debug <"$TMP/$name.in" >"$TMP/$name.out" 2>"$TMP/$name.err" 3>&- 4>&- &
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

res() { jq -c .result <<<"$R"; }
mine() { cli generatetoaddress "$1" bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080 >/dev/null; }
sync_both() { req a sync; ok sync; req b sync; ok sync; }
ev() { # peer jq-filter -> prints the first matching event line
  wait_line "$TMP/$1.out" "$2" 60
}

# --- funding: one 50 BTC coinbase each, matured -------------------------------------------
for p in a b; do
  req $p new_address; ok new_address
  cli generatetoaddress 1 "$(jq -r .result <<<"$R")" >/dev/null
done
mine 100
sync_both
req a list_balances; ok list_balances
[ "$(jq .result.spendable_onchain_balance_sats <<<"$R")" -gt 25000 ] || fail "A not funded: $R"
req b list_balances; ok list_balances
[ "$(jq .result.spendable_onchain_balance_sats <<<"$R")" -gt 25000 ] || fail "B not funded: $R"

# --- A -> B unannounced, push 10k sat, cooperative close -----------------------------------
req a open_channel "{\"node_id\":\"$ID_B\",\"address\":\"127.0.0.1:$PORT_B\",\"channel_amount_sat\":100000,\"push_msat\":10000000}"
ok open_channel
UCID_A=$(jq -r .result.user_channel_id <<<"$R")
[[ "$UCID_A" =~ ^[0-9]+$ ]] || fail "user_channel_id not decimal: $UCID_A"
P_A=$(ev a ".event==\"channel_pending\" and .user_channel_id==\"$UCID_A\""); say "A: $P_A"
CHAN=$(jq -r .channel_id <<<"$P_A")
P_B=$(ev b ".event==\"channel_pending\" and .channel_id==\"$CHAN\""); say "B: $P_B"
UCID_B=$(jq -r .user_channel_id <<<"$P_B")
req a list_channels; ok list_channels
jq -e --arg u "$UCID_A" '.result | length == 1 and .[0].user_channel_id == $u
  and .[0].is_outbound and (.[0].is_channel_ready | not) and .[0].short_channel_id == null
  and .[0].channel_value_sats == 100000 and (.[0].funding_txo | test(":[0-9]+$"))' <<<"$R" \
  >/dev/null || fail "A list_channels while pending: $R"
mine 6
sync_both
ev a ".event==\"channel_ready\" and .channel_id==\"$CHAN\"" >/dev/null
ev b ".event==\"channel_ready\" and .channel_id==\"$CHAN\"" >/dev/null
say "channel $CHAN ready on both"
for _ in $(seq 50); do
  req a list_channels
  jq -e '.result[0].is_usable' <<<"$R" >/dev/null && break
  sleep 0.2
done
jq -e '.result[0] | .is_usable and .is_channel_ready and .short_channel_id != null
  and .confirmations >= 6 and (.is_announced | not)' <<<"$R" >/dev/null \
  || fail "A list_channels when ready: $R"
say "A channel: $(jq -c '.result[0] | del(.debug)' <<<"$R")"
req b list_channels; ok list_channels
jq -e '.result[0] | (.is_outbound | not) and .inbound_capacity_msat > 0
  and .outbound_capacity_msat > 0' <<<"$R" >/dev/null || fail "B list_channels: $R"
req a list_balances; say "A balances: $(res)"
req a close_channel "{\"user_channel_id\":\"$UCID_A\",\"counterparty_node_id\":\"$ID_B\"}"
ok close_channel
C_A=$(ev a ".event==\"channel_closed\" and .channel_id==\"$CHAN\""); say "A: $C_A"
C_B=$(ev b ".event==\"channel_closed\" and .channel_id==\"$CHAN\""); say "B: $C_B"
[ "$(jq -r .reason_kind <<<"$C_A")" = LocallyInitiatedCooperativeClosure ] || fail "A reason"
[ "$(jq -r .reason_kind <<<"$C_B")" = CounterpartyInitiatedCooperativeClosure ] || fail "B reason"
mine 1; sync_both

# --- B -> A announced, force close ---------------------------------------------------------
req b open_channel "{\"node_id\":\"$ID_A\",\"address\":\"127.0.0.1:$PORT_A\",\"channel_amount_sat\":200000,\"announce\":true}"
ok open_channel
UCID2=$(jq -r .result.user_channel_id <<<"$R")
P2=$(ev b ".event==\"channel_pending\" and .user_channel_id==\"$UCID2\"")
CHAN2=$(jq -r .channel_id <<<"$P2")
ev a ".event==\"channel_pending\" and .channel_id==\"$CHAN2\"" >/dev/null
mine 6; sync_both
ev b ".event==\"channel_ready\" and .channel_id==\"$CHAN2\"" >/dev/null
req b list_channels
jq -e --arg c "$CHAN2" '.result[] | select(.channel_id == $c) | .is_announced' <<<"$R" >/dev/null \
  || fail "B channel 2 not announced: $R"
req b force_close_channel "{\"user_channel_id\":\"$UCID2\",\"counterparty_node_id\":\"$ID_A\",\"reason\":\"smoke\"}"
ok force_close_channel
C2=$(ev b ".event==\"channel_closed\" and .channel_id==\"$CHAN2\""); say "B: $C2"
[ "$(jq -r .reason_kind <<<"$C2")" = HolderForceClosed ] || fail "B force-close reason"
C2A=$(ev a ".event==\"channel_closed\" and .channel_id==\"$CHAN2\""); say "A: $C2A"
mine 1; sync_both
req b list_balances; say "B balances: $(res)"
# The to_self output of B's commitment is CSV-delayed: a claimable-after-confirmations balance.
jq -e '.result.lightning_balances | any(startswith("ClaimableAwaitingConfirmations"))' \
  <<<"$R" >/dev/null || fail "B: no ClaimableAwaitingConfirmations balance after force close"
req b list_channels; jq -e '.result | length == 0' <<<"$R" >/dev/null || fail "B channels left: $R"

# error paths
req a close_channel "{\"user_channel_id\":\"12345\",\"counterparty_node_id\":\"$ID_B\"}"
jq -e .error <<<"$R" >/dev/null || fail "closing an unknown channel should error"
req a open_channel "{\"node_id\":\"$ID_B\",\"address\":\"127.0.0.1:$PORT_B\"}"
jq -e .error <<<"$R" >/dev/null || fail "open_channel without an amount should error"

req a stop; ok stop
req b stop; ok stop
for p in "${PIDS[@]:1}"; do
  wait "$p" || fail "ldk-peer pid $p exited with $?"
done
PIDS=("${PIDS[0]}")
grep -h '"event"' "$TMP/a.out" "$TMP/b.out" | grep -v '"ready"' | jq -c 'del(.debug)' \
  | sed 's/^/event: /' || true
say "OK"
