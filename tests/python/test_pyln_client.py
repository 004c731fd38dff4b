"""Core Lightning's own Python client, `pyln-client` 26.6.x, against real `fulgurd` nodes.

Fulgur must be a drop-in for CLN v26.06 on its JSON-RPC socket, so whatever pyln-client sends
must get CLN's answers. See conftest.py for the node fixtures.
"""

import re
import threading
import time

import pytest
from pyln.client import LightningRpc, RpcError

GETINFO_REQUIRED = [
    "id", "alias", "color", "num_peers", "num_pending_channels", "num_active_channels",
    "num_inactive_channels", "version", "blockheight", "network", "fees_collected_msat",
    "lightning-dir", "address",
]


@pytest.fixture
def err(rpc):
    def call(method, payload=None):
        with pytest.raises(RpcError) as exc:
            rpc.call(method, payload)
        assert exc.value.method == method
        return exc.value.error

    return call


# --- getinfo ----------------------------------------------------------------------------------

def test_getinfo_has_every_required_field(rpc, node1):
    info = rpc.getinfo()
    assert isinstance(info, dict)
    missing = [f for f in GETINFO_REQUIRED if f not in info]
    assert not missing, f"getinfo lacks {missing}: {info}"
    assert info["network"] == "regtest"
    assert info["blockheight"] >= 101
    assert re.fullmatch(r"0[23][0-9a-f]{64}", info["id"]), info["id"]
    assert re.fullmatch(r"[0-9a-f]{6}", info["color"])
    assert isinstance(info["address"], list)
    for k in ("num_peers", "num_pending_channels", "num_active_channels",
              "num_inactive_channels", "fees_collected_msat"):
        assert isinstance(info[k], int) and info[k] >= 0, (k, info[k])
    assert info["version"].startswith("v26.06")
    assert info["lightning-dir"] == str(node1.lightning_dir / "regtest")
    # What the launcher printed is what the node says.
    assert info["id"] == node1.id
    assert info["alias"] == node1.alias


def test_nodes_have_different_ids(rpc, rpc2, node2):
    a, b = rpc.getinfo(), rpc2.getinfo()
    assert a["id"] != b["id"]
    assert b["id"] == node2.id


# --- help -------------------------------------------------------------------------------------

def test_help_lists_commands(rpc):
    res = rpc.help()
    entries = res["help"]
    assert all(isinstance(e, dict) and isinstance(e["command"], str) for e in entries), entries
    names = {e["command"].split(" ", 1)[0] for e in entries}
    for cmd in ("getinfo", "help", "check", "stop", "listconfigs"):
        assert cmd in names, f"help lacks {cmd}: {sorted(names)}"
    # "name usage": the name, then a space, then the parameters.
    by_name = {e["command"].split(" ", 1)[0]: e["command"] for e in entries}
    assert by_name["help"].startswith("help ")
    assert "command" in by_name["help"]
    assert by_name["check"].startswith("check ") and "command_to_check" in by_name["check"]


def test_help_one_command(rpc):
    res = rpc.help("getinfo")
    assert len(res["help"]) == 1, res
    assert res["help"][0]["command"].split(" ", 1)[0] == "getinfo"


def test_help_unknown_command(err):
    # CLN v26.06 lightningd/jsonrpc.c json_help: "Unknown command %s" (no quotes, unlike dispatch)
    e = err("help", {"command": "nosuch"})
    assert e["code"] == -32601, e
    assert e["message"] == "Unknown command nosuch"


# --- listconfigs ------------------------------------------------------------------------------

def test_listconfigs(rpc, node1):
    res = rpc.listconfigs()
    configs = res["configs"]
    assert configs["network"] == {"value_str": "regtest", "source": "cmdline"}
    assert configs["lightning-dir"]["value_str"] == str(node1.lightning_dir)
    assert configs["alias"]["value_str"] == node1.alias


def test_listconfigs_one(rpc, node1):
    res = rpc.listconfigs("alias")
    assert list(res["configs"]) == ["alias"], res
    assert res["configs"]["alias"]["value_str"] == node1.alias


# --- check ------------------------------------------------------------------------------------

def test_check(rpc):
    assert rpc.check("getinfo") == {"command_to_check": "getinfo"}


def test_check_with_parameters(rpc):
    res = rpc.call("check", {"command_to_check": "listconfigs", "config": "alias"})
    assert res == {"command_to_check": "listconfigs"}


# --- errors -----------------------------------------------------------------------------------

def test_unknown_command(err):
    e = err("nosuch")
    assert e["code"] == -32601, e
    assert e["message"] == "Unknown command 'nosuch'"


def test_too_many_parameters(err):
    e = err("getinfo", ["extra"])
    assert e["code"] == -32602, e
    assert e["message"] == "too many parameters: got 1, expected 0"


def test_missing_required_parameter(err):
    e = err("check", {})
    assert e["code"] == -32602, e
    assert e["message"] == "missing required parameter: command_to_check"


def test_unknown_config(err):
    e = err("listconfigs", {"config": "nope"})
    assert e["code"] == -32602, e
    assert e["message"].startswith("config: Unknown config option"), e


def test_check_reports_parameter_errors(err):
    # CLN v26.06 common/json_param.c parse_by_name
    e = err("check", {"command_to_check": "getinfo", "extra": 1})
    assert e["code"] == -32602, e
    assert e["message"].startswith("unknown parameter: extra"), e


def test_check_unknown_command(err):
    # CLN v26.06 lightningd/jsonrpc.c param_command
    e = err("check", {"command_to_check": "nosuch"})
    assert e["code"] == -32601, e
    assert e["message"] == "Unknown command 'nosuch'"


# --- filter -----------------------------------------------------------------------------------

def test_filter(rpc):
    res = rpc.call("getinfo", filter={"id": True})
    assert list(res) == ["id"], res
    assert re.fullmatch(r"0[23][0-9a-f]{64}", res["id"])


def test_reply_filter_context(rpc):
    with rpc.reply_filter({"network": True, "blockheight": True}):
        res = rpc.getinfo()
    assert res == {"network": "regtest", "blockheight": res["blockheight"]}
    assert set(rpc.getinfo()) >= set(GETINFO_REQUIRED)  # filter no longer applies


# --- concurrency ------------------------------------------------------------------------------

def test_concurrent_clients(node1):
    threads, calls = 8, 50
    start = threading.Barrier(threads)
    results = [[] for _ in range(threads)]
    failures = []

    def worker(i):
        rpc = LightningRpc(str(node1.rpc_path))
        try:
            start.wait(timeout=30)
            for _ in range(calls):
                results[i].append(rpc.getinfo()["id"])
        except Exception as e:  # noqa: BLE001 -- reported below
            failures.append((i, repr(e)))

    ts = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in ts), "getinfo calls hung"
    assert not failures, failures
    assert [len(r) for r in results] == [calls] * threads
    assert {x for r in results for x in r} == {node1.id}


# --- responses against CLN v26.06's schemas ---------------------------------------------------

SCHEMA_CASES = {
    "getinfo": ("getinfo", None),
    "help": ("help", None),
    "help-getinfo": ("help", {"command": "getinfo"}),
    "listconfigs": ("listconfigs", None),
    "listconfigs-alias": ("listconfigs", {"config": "alias"}),
    "check": ("check", {"command_to_check": "getinfo"}),
    "check-listconfigs": ("check", {"command_to_check": "listconfigs", "config": "alias"}),
}


@pytest.mark.parametrize("case", list(SCHEMA_CASES))
def test_response_matches_cln_schema(case, rpc, rpc2, cln_response_validator):
    method, payload = SCHEMA_CASES[case]
    for r in (rpc, rpc2):
        cln_response_validator(method, r.call(method, payload))


def test_schema_validation_catches_mismatches(rpc, cln_response_validator):
    """The translated schemas are strict enough to notice a wrong response."""
    good = rpc.getinfo()
    bad_cases = [
        {k: v for k, v in good.items() if k != "blockheight"},   # missing required field
        {**good, "surprise": 1},                                  # additionalProperties: false
        {**good, "id": "zz"},                                     # pubkey
        {**good, "num_peers": -1},                                # u32
        {**good, "fees_collected_msat": "0msat"},                 # msat is an integer
        {**good, "color": "12345"},                               # hex, 6 chars
    ]
    for bad in bad_cases:
        with pytest.raises(AssertionError):
            cln_response_validator("getinfo", bad)


# --- stop (on a network of its own; keep last) ------------------------------------------------

def test_stop(start_network, cln_schemas_optional):
    net = start_network(1)
    node = net.nodes[0]
    rpc = LightningRpc(str(node.rpc_path))
    assert rpc.getinfo()["id"] == node.id
    res = rpc.stop()
    assert res == {"result": "Shutdown complete"}
    if cln_schemas_optional is not None:
        cln_schemas_optional("stop", res)
    # The node goes away: its socket stops answering.
    deadline = time.monotonic() + 30
    while True:
        try:
            rpc.getinfo()
        except (OSError, ValueError, RpcError):
            break
        assert time.monotonic() < deadline, "node still answering 30s after stop"
        time.sleep(0.2)
    # The launcher still shuts down cleanly when its node is already gone.
    assert net.stop() is not None

