"""Fixtures for driving real `fulgurd` nodes with the real `pyln-client`.

The nodes come from the Rust test kit's launcher, `fulgur-regtest --nodes N --dir DIR`, which
starts a regtest bitcoind plus N `fulgurd` under DIR and runs until SIGINT/SIGTERM. Build it
first with `cargo build --workspace`; binaries are taken from `$FULGUR_BIN_DIR`, else
`<repo>/target/debug`.

Environment:
  FULGUR_BIN_DIR          where `fulgur-regtest`, `fulgurd`, `fulgur-cli` are
  FULGUR_START_TIMEOUT    seconds to wait for the launcher's ready line (default 120)
  FULGUR_KEEP_DIR         if set, node directories are left in place after the run
  FULGUR_CLN_SCHEMAS      CLN v26.06 schema directory (default <repo>/../shared/cln-v26.06-schemas)
"""

import json
import os
import queue
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
READY_LINE = "Press Ctrl-C to stop everything."
NODE_LINE = re.compile(r"^node(\d+): id ([0-9a-f]{66}) alias (.*)$")
BITCOIND_LINE = re.compile(
    r"^bitcoind: regtest, height \d+, RPC ([0-9.]+):(\d+) \(user (\S+), password (\S+)\)$")


def bin_dir() -> Path:
    return Path(os.environ.get("FULGUR_BIN_DIR") or REPO / "target" / "debug")


@dataclass
class Node:
    index: int
    lightning_dir: Path
    rpc_path: Path
    id: str
    alias: str


@dataclass
class RegtestNetwork:
    """A running `fulgur-regtest` launcher and the nodes it started."""

    dir: Path
    proc: subprocess.Popen
    nodes: list = field(default_factory=list)
    output: list = field(default_factory=list)
    bitcoind_url: str = ""
    bitcoind_auth: tuple = ("", "")

    def bitcoind(self, method: str, *params):
        """Calls the network's bitcoind over its JSON-RPC; returns the result."""
        import base64
        import urllib.error
        import urllib.request

        body = json.dumps({"jsonrpc": "1.0", "id": "py", "method": method,
                           "params": list(params)}).encode()
        req = urllib.request.Request(self.bitcoind_url, data=body,
                                     headers={"Content-Type": "application/json"})
        token = base64.b64encode(":".join(self.bitcoind_auth).encode()).decode()
        req.add_header("Authorization", f"Basic {token}")
        try:
            with urllib.request.urlopen(req, timeout=60) as r:
                reply = json.loads(r.read())
        except urllib.error.HTTPError as e:  # bitcoind answers errors with HTTP 500
            reply = json.loads(e.read())
        if reply.get("error"):
            raise RuntimeError(f"bitcoind {method}: {reply['error']}")
        return reply["result"]

    @classmethod
    def start(cls, n_nodes: int, directory: Path, timeout: float | None = None):
        launcher = bin_dir() / "fulgur-regtest"
        if not launcher.exists():
            pytest.fail(f"{launcher} not found: run `cargo build --workspace` first "
                        "(or set FULGUR_BIN_DIR)")
        if timeout is None:
            timeout = float(os.environ.get("FULGUR_START_TIMEOUT", "120"))
        env = dict(os.environ)
        env.setdefault("FULGUR_BIN_DIR", str(bin_dir()))
        proc = subprocess.Popen(
            [str(launcher), "--nodes", str(n_nodes), "--dir", str(directory)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            bufsize=1,
            env=env,
            start_new_session=True,  # its own process group, so a kill also takes its children
        )
        net = cls(dir=directory, proc=proc)
        lines: "queue.Queue[str | None]" = queue.Queue()

        def pump():
            # Keeps draining stdout for the launcher's whole life so it never blocks on a pipe.
            for line in proc.stdout:
                line = line.rstrip("\n")
                net.output.append(line)
                lines.put(line)
            lines.put(None)

        threading.Thread(target=pump, name="fulgur-regtest-stdout", daemon=True).start()

        try:
            ids = net._wait_ready(lines, timeout)
        except BaseException:
            net.stop(whole_group=True)  # never leave anything running
            raise
        for i in range(1, n_nodes + 1):
            node_id, alias = ids.get(i, (None, None))
            ldir = directory / f"node{i}"
            net.nodes.append(Node(i, ldir, ldir / "regtest" / "lightning-rpc", node_id, alias))
        return net

    def _wait_ready(self, lines, timeout):
        """Reads the launcher's output until its ready line; returns {index: (id, alias)}."""
        deadline = time.monotonic() + timeout
        ids = {}
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                pytest.fail(f"fulgur-regtest not ready after {timeout:g}s; output:\n"
                            + "\n".join(self.output))
            try:
                line = lines.get(timeout=remaining)
            except queue.Empty:
                continue
            if line is None:
                self.proc.wait(timeout=10)
                pytest.fail(f"fulgur-regtest exited with {self.proc.returncode} before it was "
                            "ready; output:\n" + "\n".join(self.output))
            b = BITCOIND_LINE.match(line)
            if b:
                self.bitcoind_url = f"http://{b.group(1)}:{b.group(2)}/"
                self.bitcoind_auth = (b.group(3), b.group(4))
            m = NODE_LINE.match(line)
            if m:
                ids[int(m.group(1))] = (m.group(2), m.group(3))
            if line.strip() == READY_LINE:
                return ids

    def stop(self, timeout: float = 30, whole_group: bool = False):
        """SIGINT the launcher (it stops the nodes and bitcoind) and wait; kill on timeout.

        The launcher runs in its own process group with bitcoind and the nodes. `whole_group`
        sends the SIGINT to all of them (for a launcher interrupted while starting, before it
        handles signals). Either way this returns once the whole group has gone, SIGKILLing
        whatever is left after `timeout`.
        """
        pgid = self.proc.pid
        if self.proc.poll() is None:
            try:
                if whole_group:
                    os.killpg(pgid, signal.SIGINT)
                else:
                    self.proc.send_signal(signal.SIGINT)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + timeout
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            pass
        while _group_alive(pgid) and time.monotonic() < deadline:
            time.sleep(0.1)
        if _group_alive(pgid) or self.proc.poll() is None:
            try:
                os.killpg(pgid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        return self.proc.wait(timeout=10)


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True


def _new_dir(prefix: str) -> Path:
    # Short paths under /tmp: the RPC socket path must fit in sun_path (108 bytes).
    return Path(tempfile.mkdtemp(prefix=prefix))


@pytest.fixture(scope="session")
def start_network():
    """Factory: start a `fulgur-regtest` network in a fresh directory, stopped at the end."""
    started = []

    def start(n_nodes: int):
        d = _new_dir("fulgur-py-")
        try:
            net = RegtestNetwork.start(n_nodes, d)
        except BaseException:
            if not os.environ.get("FULGUR_KEEP_DIR"):
                shutil.rmtree(d, ignore_errors=True)
            raise
        started.append(net)
        return net

    yield start
    for net in started:
        net.stop()
        if not os.environ.get("FULGUR_KEEP_DIR"):
            shutil.rmtree(net.dir, ignore_errors=True)


@pytest.fixture(scope="session")
def network(start_network):
    """The shared two-node network. Never call `stop` on these nodes."""
    return start_network(2)


@pytest.fixture(scope="session")
def node1(network):
    return network.nodes[0]


@pytest.fixture(scope="session")
def node2(network):
    return network.nodes[1]


@pytest.fixture
def rpc(node1):
    from pyln.client import LightningRpc

    return LightningRpc(str(node1.rpc_path))


@pytest.fixture
def rpc2(node2):
    from pyln.client import LightningRpc

    return LightningRpc(str(node2.rpc_path))


# --- CLN v26.06 JSON schemas ------------------------------------------------------------------

SCHEMA_DIR = Path(os.environ.get("FULGUR_CLN_SCHEMAS")
                  or REPO.parent / "shared" / "cln-v26.06-schemas")

# CLN's custom types (lightningd-rpc.7) as plain JSON Schema.
_U = lambda bits: {"type": "integer", "minimum": 0, "maximum": 2**bits - 1}  # noqa: E731
_HEX64 = {"type": "string", "pattern": "^[0-9a-f]{64}$"}
CUSTOM_TYPES = {
    "u8": _U(8), "u16": _U(16), "u32": _U(32), "u64": _U(64),
    "msat": _U(64), "sat": _U(64),
    "pubkey": {"type": "string", "pattern": "^0[23][0-9a-f]{64}$"},
    "hex": {"type": "string", "pattern": "^([0-9a-fA-F]{2})*$"},
    "txid": _HEX64, "hash": _HEX64, "secret": _HEX64,
    "short_channel_id": {"type": "string", "pattern": r"^\d+x\d+x\d+$"},
    "short_channel_id_dir": {"type": "string", "pattern": r"^\d+x\d+x\d+/[01]$"},
}
# Anything else CLN-specific (signature, bip340sig, outpoint, feerate, ...) is a string here.
STANDARD_TYPES = {"string", "integer", "number", "boolean", "object", "array", "null"}
# Documentation-only keywords of CLN's meta-schema.
DOC_KEYWORDS = {"added", "deprecated", "description", "comment", "untyped", "default",
                "pre_return_value_notes", "post_return_value_notes", "rpc", "title"}


def translate_schema(s):
    """CLN schema -> JSON Schema (draft 7): custom types become standard ones."""
    if isinstance(s, list):
        return [translate_schema(x) for x in s]
    if not isinstance(s, dict):
        return s
    out = {}
    for k, v in s.items():
        if k in DOC_KEYWORDS:
            continue
        if k == "properties":
            out[k] = {name: translate_schema(sub) for name, sub in v.items()}
        elif k == "type" and isinstance(v, str) and v not in STANDARD_TYPES:
            extra = CUSTOM_TYPES.get(v, {"type": "string"})
            out.update({kk: vv for kk, vv in extra.items() if kk not in s or kk == "type"})
        elif k == "type" and isinstance(v, list):
            out[k] = sorted({t if t in STANDARD_TYPES else CUSTOM_TYPES.get(t, {"type": "string"})["type"]
                             for t in v})
        else:
            out[k] = translate_schema(v)
    return out


@pytest.fixture(scope="session")
def cln_response_validator():
    """Returns `validate(command, response)`; skips when the CLN schemas are absent."""
    if not SCHEMA_DIR.is_dir():
        pytest.skip(f"CLN v26.06 schemas not found at {SCHEMA_DIR} "
                    "(set FULGUR_CLN_SCHEMAS to validate responses against them)")
    import jsonschema

    cache = {}

    def validate(command: str, response):
        if command not in cache:
            path = SCHEMA_DIR / f"{command}.json"
            assert path.exists(), f"no CLN schema for {command}: {path}"
            schema = translate_schema(json.loads(path.read_text())["response"])
            jsonschema.Draft7Validator.check_schema(schema)
            cache[command] = jsonschema.Draft7Validator(schema)
        errors = sorted(cache[command].iter_errors(response), key=lambda e: list(e.absolute_path))
        assert not errors, f"{command} response does not match CLN's schema:\n" + "\n".join(
            f"  at /{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in errors)

    return validate


@pytest.fixture
def cln_schemas_optional(request):
    """The schema validator, or None when the schemas are absent (for tests that run anyway)."""
    if not SCHEMA_DIR.is_dir():
        return None
    return request.getfixturevalue("cln_response_validator")
