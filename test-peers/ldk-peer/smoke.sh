#!/usr/bin/env bash
# Manual smoke test for ldk-peer (not part of CI): starts a throw-away regtest bitcoind, mines
# 101 blocks, starts two ldk-peer instances, connects A -> B, checks both see each other as
# connected, disconnects, checks, and stops both.
#
# Env: BITCOIND_BIN_DIR (default ~/.cache/fulgur/bitcoind-0.4.1/bin),
#      LDK_PEER (path to a built binary; default: output of scripts/build-ldk-peer.sh),
#      KEEP_TMP=1 to keep the temp dir (logs) afterwards.
SMOKE_NAME=smoke
# shellcheck source=smoke-lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/smoke-lib.sh"

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
