//! Runs every example in `doc/rpc/*.md` against a live node and checks the documented response:
//! errors must match exactly (code and message); results must have the same shape (the same
//! members, recursively, with the same JSON types), since ids and heights differ per node.
//! `stop` runs last, on its own node.
//!
//! `FULGUR_UPDATE_DOCS=1 cargo test -p fulgurd --test doc_examples` rewrites every response
//! block with the response the node actually gave, which is how the examples are made.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests")]

use fulgur_testkit::{paths, Bitcoind, Node, NodeOptions};
use serde_json::Value;
use std::path::{Path, PathBuf};

/// The example peer's id (from the legacy `hsm_secret` 0x01..0x20) and address.
const PEER_ID: &str = "037d8d1109836a88daf2b86d6e52e12351f9c274f597b78eca941525b309096ca8";
const PEER_ADDR: &str = "127.0.0.1:19846";

struct Example {
    request: Value,
    response_span: (usize, usize),
    response: Option<Value>,
}

fn doc_dir() -> PathBuf {
    paths::workspace_root().join("doc/rpc")
}

/// Finds `json request` / `json response` fenced blocks, in order.
fn examples(text: &str) -> Vec<Example> {
    let mut out = Vec::new();
    let mut pending: Option<Value> = None;
    let mut pos = 0;
    while let Some(start) = text[pos..].find("```json ") {
        let start = pos + start;
        let info_end = start + text[start..].find('\n').unwrap();
        let kind = text[start + 8..info_end].trim();
        let body_start = info_end + 1;
        let body_end = body_start + text[body_start..].find("```").unwrap();
        let body = &text[body_start..body_end];
        match kind {
            "request" => {
                pending = Some(
                    serde_json::from_str(body)
                        .unwrap_or_else(|e| panic!("bad request block: {e}\n{body}")),
                )
            }
            "response" => {
                let request = pending
                    .take()
                    .expect("response block without a request block before it");
                out.push(Example {
                    request,
                    response_span: (body_start, body_end),
                    response: serde_json::from_str(body).ok(),
                });
            }
            other => panic!("unknown block kind {other:?}"),
        }
        pos = body_end + 3;
    }
    out
}

fn same_shape(doc: &Value, real: &Value, path: &str) -> Result<(), String> {
    match (doc, real) {
        (Value::Object(a), Value::Object(b)) => {
            let (ka, kb): (Vec<_>, Vec<_>) = (a.keys().collect(), b.keys().collect());
            if ka != kb {
                return Err(format!("{path}: documented members {ka:?}, real {kb:?}"));
            }
            for (k, v) in a {
                same_shape(v, &b[k], &format!("{path}.{k}"))?;
            }
            Ok(())
        }
        (Value::Array(a), Value::Array(b)) => {
            if let (Some(x), Some(y)) = (a.first(), b.first()) {
                same_shape(x, y, &format!("{path}[0]"))?;
            }
            Ok(())
        }
        (Value::String(_), Value::String(_))
        | (Value::Bool(_), Value::Bool(_))
        | (Value::Null, Value::Null) => Ok(()),
        (Value::Number(_), Value::Number(_)) => Ok(()),
        _ => Err(format!("{path}: documented {doc}, real {real}")),
    }
}

fn check_or_update(node: &Node, file: &Path, text: &mut String, only_stop: bool) -> Vec<String> {
    let update = std::env::var_os("FULGUR_UPDATE_DOCS").is_some();
    let mut failures = Vec::new();
    let mut edits = Vec::new();
    for ex in examples(text) {
        let method = ex.request["method"].as_str().unwrap().to_string();
        if (method == "stop") != only_stop {
            continue;
        }
        let mut c = node.client().unwrap();
        c.send_raw(ex.request.to_string().as_bytes()).unwrap();
        let real = c.read_reply().unwrap().0;
        if update {
            edits.push((
                ex.response_span,
                format!("{}\n", serde_json::to_string_pretty(&real).unwrap()),
            ));
            continue;
        }
        let Some(doc) = ex.response else {
            failures.push(format!(
                "{}: response block for {method} is not JSON (run with FULGUR_UPDATE_DOCS=1)",
                file.display()
            ));
            continue;
        };
        let verdict = if doc.get("error").is_some() {
            if doc == real {
                Ok(())
            } else {
                Err(format!("documented error {doc}, real {real}"))
            }
        } else {
            same_shape(&doc, &real, "reply")
        };
        if let Err(e) = verdict {
            failures.push(format!("{} ({method}): {e}", file.display()));
        }
    }
    for ((s, e), replacement) in edits.into_iter().rev() {
        text.replace_range(s..e, &replacement);
    }
    failures
}

#[test]
fn every_documented_example_holds() {
    let b = Bitcoind::start().unwrap();
    b.generate(1).unwrap();
    let node = Node::start(Some(&b), NodeOptions::default()).unwrap();
    let mut stop_node = Node::start(Some(&b), NodeOptions::default()).unwrap();
    // The peer the examples talk to: a fixed hsm_secret (so a fixed node id) on a fixed port.
    let peer_dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(peer_dir.path().join("regtest")).unwrap();
    let secret: Vec<u8> = (1..=32).collect();
    std::fs::write(peer_dir.path().join("regtest/hsm_secret"), secret).unwrap();
    let _peer = Node::start(
        Some(&b),
        NodeOptions {
            lightning_dir: Some(peer_dir.path().to_path_buf()),
            extra_args: vec![format!("--addr={PEER_ADDR}")],
            ..Default::default()
        },
    )
    .unwrap();
    let mut failures = Vec::new();
    let mut pages = 0;
    let mut files: Vec<PathBuf> = std::fs::read_dir(doc_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "md") && !p.ends_with("README.md"))
        .collect();
    files.sort();
    for file in &files {
        let mut text = std::fs::read_to_string(file).unwrap();
        assert!(
            !examples(&text).is_empty(),
            "{} has no example",
            file.display()
        );
        pages += 1;
        // Every page starts with the node connected to the example peer.
        node.rpc(
            "connect",
            serde_json::json!({"id": format!("{PEER_ID}@{PEER_ADDR}")}),
        )
        .unwrap();
        failures.extend(check_or_update(&node, file, &mut text, false));
        failures.extend(check_or_update(&stop_node, file, &mut text, true));
        if std::env::var_os("FULGUR_UPDATE_DOCS").is_some() {
            std::fs::write(file, &text).unwrap();
        }
    }
    assert!(
        failures.is_empty(),
        "documentation examples do not hold:\n{}",
        failures.join("\n")
    );
    assert!(pages >= 5);
    assert!(
        stop_node.wait_exit(std::time::Duration::from_secs(10)),
        "stop example did not stop the node"
    );
}

#[test]
fn every_command_has_a_page_and_help_shows_it() {
    let b = Bitcoind::start().unwrap();
    let node = Node::start(Some(&b), NodeOptions::default()).unwrap();
    let list = node.rpc("help", serde_json::json!([])).unwrap();
    for entry in list["help"].as_array().unwrap() {
        let name = entry["command"]
            .as_str()
            .unwrap()
            .split(' ')
            .next()
            .unwrap()
            .to_string();
        let page = std::fs::read_to_string(doc_dir().join(format!("{name}.md")))
            .unwrap_or_else(|_| panic!("command {name} has no doc/rpc/{name}.md"));
        let one = node.rpc("help", serde_json::json!([name])).unwrap();
        assert_eq!(
            one["help"][0]["verbose"].as_str(),
            Some(page.as_str()),
            "help {name} does not show its page"
        );
        let index = std::fs::read_to_string(doc_dir().join("README.md")).unwrap();
        assert!(
            index.contains(&format!("[{name}]({name}.md)")),
            "doc/rpc/README.md does not list {name}"
        );
    }
}
