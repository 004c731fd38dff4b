//! Runs the built `fulgur-cli` against a fake node: a thread serving canned replies on a Unix
//! socket in a temporary directory. Checks the request sent, the output and the exit status.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly on setup errors.

use std::io::{Read, Write};
use std::os::unix::net::UnixListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::thread::JoinHandle;

use serde_json::{json, Value};

/// A temporary home with `.lightning/regtest/` in it.
struct Node {
    home: tempfile::TempDir,
}

impl Node {
    fn new() -> Node {
        let node = Node {
            home: tempfile::tempdir().unwrap(),
        };
        std::fs::create_dir_all(node.net_dir()).unwrap();
        node
    }

    fn ldir(&self) -> PathBuf {
        self.home.path().join(".lightning")
    }

    fn net_dir(&self) -> PathBuf {
        self.ldir().join("regtest")
    }

    /// Serves one connection at `socket`: reads requests and answers each with what `reply`
    /// returns for it (messages sent in order, each followed by a blank line). Returns the
    /// requests received.
    fn serve(
        &self,
        socket: &Path,
        replies: usize,
        reply: impl Fn(&Value) -> Vec<Value> + Send + 'static,
    ) -> JoinHandle<Vec<Value>> {
        let listener = UnixListener::bind(socket).unwrap();
        std::thread::spawn(move || {
            let (mut stream, _) = listener.accept().unwrap();
            let mut buf = Vec::new();
            let mut requests = Vec::new();
            while requests.len() < replies {
                let mut chunk = [0u8; 4096];
                let n = stream.read(&mut chunk).unwrap();
                assert!(n > 0, "client closed early");
                buf.extend_from_slice(&chunk[..n]);
                let mut stream_de = serde_json::Deserializer::from_slice(&buf).into_iter::<Value>();
                match stream_de.next() {
                    Some(Ok(request)) => {
                        let used = stream_de.byte_offset();
                        buf.drain(..used);
                        for message in reply(&request) {
                            let text = format!("{}\n\n", message);
                            stream.write_all(text.as_bytes()).unwrap();
                        }
                        requests.push(request);
                    }
                    Some(Err(e)) if e.is_eof() => {}
                    other => panic!("bad request: {other:?}"),
                }
            }
            requests
        })
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_fulgur-cli"))
            .args(args)
            .env("HOME", self.home.path())
            .current_dir(self.home.path())
            .output()
            .unwrap()
    }
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn ok_reply(request: &Value, result: Value) -> Vec<Value> {
    vec![json!({"jsonrpc": "2.0", "id": request["id"], "result": result})]
}

#[test]
fn ok_result_is_printed_as_json() {
    let node = Node::new();
    let server = node.serve(&node.net_dir().join("lightning-rpc"), 1, |request| {
        let mut messages = vec![json!({
            "jsonrpc": "2.0",
            "method": "message",
            "params": {"level": "info", "message": "ignored"}
        })];
        messages.extend(ok_reply(
            request,
            json!({"id": "02ab", "num_peers": 0, "list": []}),
        ));
        messages
    });
    let output = node.run(&["--regtest", "getinfo"]);
    let requests = server.join().unwrap();
    assert_eq!(output.status.code(), Some(0), "stderr: {}", stderr(&output));
    assert_eq!(
        stdout(&output),
        "{\n   \"id\": \"02ab\",\n   \"num_peers\": 0,\n   \"list\": []\n}\n"
    );
    let request = &requests[0];
    assert_eq!(request["jsonrpc"], "2.0");
    assert_eq!(request["method"], "getinfo");
    assert_eq!(request["params"], json!([]));
    let id = request["id"].as_str().unwrap();
    assert!(id.starts_with("fulgur-cli:getinfo#"), "{id}");
    assert!(
        id["fulgur-cli:getinfo#".len()..].parse::<u32>().is_ok(),
        "{id}"
    );
}

#[test]
fn keyword_and_positional_params_and_formats() {
    let node = Node::new();
    let socket = node.net_dir().join("lightning-rpc");
    let server = node.serve(&socket, 1, |request| {
        ok_reply(request, json!({"bolt11": "lnbcrt1", "n": [1, {"x": "y"}]}))
    });
    let output = node.run(&[
        "--regtest",
        "-F",
        "invoice",
        "amount_msat=1000",
        "label=lbl",
        "description=two words",
        "exposeprivatechannels=true",
    ]);
    let request = server.join().unwrap().remove(0);
    assert_eq!(output.status.code(), Some(0), "stderr: {}", stderr(&output));
    assert_eq!(
        request["params"],
        json!({"amount_msat": 1000, "label": "lbl", "description": "two words", "exposeprivatechannels": true})
    );
    assert_eq!(stdout(&output), "bolt11=lnbcrt1\nn[0]=1\nn[1].x=y\n");

    std::fs::remove_file(&socket).unwrap();
    let server = node.serve(&socket, 1, |request| ok_reply(request, json!({"a":  1})));
    let output = node.run(&[
        "--regtest",
        "-R",
        "-o",
        "pay",
        "lnbc1",
        "1000",
        "[\"x\"]",
        "{bad",
    ]);
    let request = server.join().unwrap().remove(0);
    assert_eq!(request["params"], json!(["lnbc1", 1000, ["x"], "{bad"]));
    assert_eq!(stdout(&output), "{\"a\":1}\n");
}

#[test]
fn help_list_and_verbose_help() {
    let node = Node::new();
    let socket = node.net_dir().join("lightning-rpc");
    let server = node.serve(&socket, 1, |request| {
        ok_reply(
            request,
            json!({"help": [
                {"command": "stop", "category": "utility"},
                {"command": "getinfo", "category": "utility"},
                {"command": "dev", "category": "developer"},
                {"command": "newaddr [addresstype]", "category": "bitcoin"}
            ]}),
        )
    });
    let output = node.run(&["--regtest", "help"]);
    server.join().unwrap();
    assert_eq!(
        stdout(&output),
        "newaddr [addresstype]\n\ngetinfo\n\nstop\n\ndev\n\n---\n\
         run `fulgur-cli help <command>` for more information on a specific command\n"
    );

    std::fs::remove_file(&socket).unwrap();
    let server = node.serve(&socket, 1, |request| {
        assert_eq!(request["params"], json!(["stop"]));
        ok_reply(
            request,
            json!({"help": [{"command": "stop", "verbose": "lightning-stop -- Shutdown\n\nSYNOPSIS"}],
                   "format-hint": "simple"}),
        )
    });
    let output = node.run(&["--regtest", "help", "stop"]);
    server.join().unwrap();
    assert_eq!(stdout(&output), "lightning-stop -- Shutdown\n\nSYNOPSIS\n");
}

#[test]
fn error_reply_exits_1() {
    let node = Node::new();
    let server = node.serve(&node.net_dir().join("lightning-rpc"), 1, |request| {
        vec![json!({
            "jsonrpc": "2.0",
            "id": request["id"],
            "error": {"code": -32601, "message": "Unknown command 'frob'"}
        })]
    });
    let output = node.run(&["--regtest", "frob", "1"]);
    let request = server.join().unwrap().remove(0);
    assert_eq!(request["method"], "frob");
    assert_eq!(request["params"], json!([1]));
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        stdout(&output),
        "{\n   \"code\": -32601,\n   \"message\": \"Unknown command 'frob'\"\n}\n"
    );
}

#[test]
fn missing_socket_exits_2() {
    let node = Node::new();
    let output = node.run(&["--regtest", "getinfo"]);
    assert_eq!(output.status.code(), Some(2));
    let err = stderr(&output);
    let socket = node.net_dir().join("lightning-rpc");
    assert!(err.contains(&format!("'{}'", socket.display())), "{err}");
    assert!(err.contains("No such file or directory"), "{err}");
    assert!(stdout(&output).is_empty());
}

#[test]
fn wrong_id_or_garbage_exits_2() {
    let node = Node::new();
    let socket = node.net_dir().join("lightning-rpc");
    let server = node.serve(&socket, 1, |_| {
        vec![json!({"jsonrpc": "2.0", "id": "other", "result": {}})]
    });
    let output = node.run(&["--regtest", "getinfo"]);
    server.join().unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("incorrect 'id'"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn usage_errors_exit_3() {
    let node = Node::new();
    let output = node.run(&["--bogus", "getinfo"]);
    assert_eq!(output.status.code(), Some(3));
    assert!(
        stderr(&output).contains("--bogus: unrecognized option"),
        "{}",
        stderr(&output)
    );
    let output = node.run(&["--regtest", "-k", "invoice", "nokey"]);
    assert_eq!(output.status.code(), Some(3));
    assert!(
        stderr(&output).contains("expected key=value in 'nokey'"),
        "{}",
        stderr(&output)
    );
    let output = node.run(&["--network=moon", "getinfo"]);
    assert_eq!(output.status.code(), Some(3));
    assert!(
        stderr(&output).contains("unknown network name 'moon'"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn config_files_locate_the_socket() {
    let node = Node::new();
    std::fs::write(
        node.ldir().join("config"),
        "regtest\nalias=daemon-only\nplugin-opt=1\n",
    )
    .unwrap();
    std::fs::write(
        node.net_dir().join("config"),
        "rpc-file=custom-rpc\nfee-base=oops\n",
    )
    .unwrap();
    let server = node.serve(&node.net_dir().join("custom-rpc"), 1, |request| {
        ok_reply(request, json!({"ok": true}))
    });
    let output = node.run(&["-H", "getinfo"]);
    server.join().unwrap();
    assert_eq!(output.status.code(), Some(0), "stderr: {}", stderr(&output));
    assert_eq!(stdout(&output), "true\n");
}

#[test]
fn version_and_help_need_no_node() {
    let node = Node::new();
    let output = node.run(&["--version"]);
    assert_eq!(output.status.code(), Some(0));
    assert!(stdout(&output).starts_with('v'));
    let output = node.run(&["-h"]);
    assert_eq!(output.status.code(), Some(0));
    assert!(stdout(&output).contains("--keywords"));
}
