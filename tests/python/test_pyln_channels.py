"""Channels through `pyln-client`, as a CLN user's scripts drive them: pyln's own method
signatures (`fundchannel`, `multifundchannel`, `setchannel`, `listpeerchannels`, `close`) must
reach Fulgur with the parameter names Fulgur expects, and every result must match CLN
v26.06's schema. Runs on a network of its own (three nodes), funded through its bitcoind.
"""

import time

import pytest
from pyln.client import LightningRpc, RpcError

# A P2WPKH address of a fixed test key, for blocks nobody needs to spend.
BURN = "bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080"


def wait_for(what, predicate, timeout=60):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.2)


@pytest.fixture(scope="module")
def funded(start_network):
    net = start_network(3)
    rpcs = [LightningRpc(str(n.rpc_path)) for n in net.nodes]
    addr = rpcs[0].newaddr("bech32")["bech32"]
    net.bitcoind("generatetoaddress", 1, addr)
    net.bitcoind("generatetoaddress", 100, BURN)
    wait_for("the coinbase in node1's wallet",
             lambda: any(o["status"] == "confirmed" for o in rpcs[0].listfunds()["outputs"]))
    return net, rpcs


def target(rpc, node):
    return f"{node.id}@127.0.0.1:{rpc.getinfo()['binding'][0]['port']}"


def test_channel_lifecycle_through_pyln(funded, cln_schemas_optional):
    net, (a, b, c) = funded
    check = cln_schemas_optional or (lambda *_: None)
    nb, nc = net.nodes[1], net.nodes[2]

    # fundchannel (pyln sends `id`, `amount`, `push_msat`, `announce`, `reserve`, `mindepth`).
    check("connect", a.connect(target(b, nb)))
    opened = a.fundchannel(nb.id, 300_000, push_msat=10_000_000, announce=False,
                           reserve="5000sat", mindepth=1)
    check("fundchannel", opened)
    # The funding's change confirms; then multifundchannel to the third node, `all` of it.
    net.bitcoind("generatetoaddress", 1, BURN)
    wait_for("the change confirmed", lambda: any(
        o["status"] == "confirmed" and not o["reserved"] for o in a.listfunds()["outputs"]))
    multi = a.multifundchannel([{"id": target(c, nc), "amount": "all"}], feerate="1000perkw")
    check("multifundchannel", multi)
    assert len(multi["channel_ids"]) == 1
    net.bitcoind("generatetoaddress", 1, BURN)
    chans = wait_for("both channels normal", lambda: (
        lambda cs: cs if len(cs) == 2 and all(x["state"] == "CHANNELD_NORMAL" for x in cs) else None
    )(a.listpeerchannels()["channels"]))
    check("listpeerchannels", {"channels": chans})
    to_b = a.listpeerchannels(nb.id)["channels"][0]
    assert to_b["channel_id"] == opened["channel_id"]
    assert to_b["their_reserve_msat"] == 5_000_000
    assert to_b["to_us_msat"] == 290_000_000

    # setchannel by short channel id.
    scid = to_b["short_channel_id"]
    set_ = a.setchannel(scid, feebase=2000, feeppm=150, htlcmin=1000)
    check("setchannel", set_)
    assert set_["channels"][0]["fee_base_msat"] == 2000
    assert a.listpeerchannels(short_channel_id=scid)["channels"][0][
        "fee_proportional_millionths"] == 150

    # Errors come back as pyln RpcErrors with CLN's codes.
    with pytest.raises(RpcError) as e:
        a.setchannel("1x1x1", feeppm=1)
    assert e.value.error["code"] == -32602
    check("listhtlcs", a.listhtlcs())

    # close, buried: listclosedchannels.
    closed = a.close(nb.id)
    check("close", closed)
    assert closed["type"] == "mutual"
    net.bitcoind("generatetoaddress", 100, BURN)
    gone = wait_for("the close in listclosedchannels",
                    lambda: a.listclosedchannels()["closedchannels"])
    check("listclosedchannels", a.listclosedchannels())
    assert gone[0]["channel_id"] == opened["channel_id"]
    assert gone[0]["close_cause"] == "user"
    assert gone[0]["last_commitment_txid"] == closed["txids"][0]
    theirs = wait_for("the close in b's listclosedchannels",
                      lambda: b.listclosedchannels(net.nodes[0].id)["closedchannels"])
    assert theirs[0]["close_cause"] == "remote"
