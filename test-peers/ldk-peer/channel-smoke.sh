#!/usr/bin/env bash
# Manual channel smoke test for ldk-peer (not part of CI): a throw-away regtest bitcoind and two
# ldk-peer instances A and B, both funded on chain. A opens an unannounced channel to B (with a
# push), both see channel_pending, 6 blocks later channel_ready and a usable channel; A closes
# it cooperatively. Then B opens an announced channel to A and force-closes it.
#
# Env: BITCOIND_BIN_DIR (default ~/.cache/fulgur/bitcoind-0.4.1/bin),
#      LDK_PEER (path to a built binary; default: output of scripts/build-ldk-peer.sh),
#      KEEP_TMP=1 to keep the temp dir (logs) afterwards.
SMOKE_NAME=chan-smoke
SMOKE_PEER_ARGS="--log-level debug"
# shellcheck source=smoke-lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/smoke-lib.sh"

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
