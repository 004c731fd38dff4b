//! `fulgur-regtest`: a regtest network to use right away — one bitcoind (with 101 blocks
//! mined) and N `fulgurd` nodes in `--dir` (default `/tmp/fulgur-regtest`), running until
//! Ctrl-C. Prints how to call `fulgur-cli` on each node.

use anyhow::{bail, Context, Result};
use fulgur_testkit::{paths, Bitcoind, Node, NodeOptions};
use std::path::PathBuf;

fn main() -> Result<()> {
    let mut nodes = 2usize;
    let mut dir = PathBuf::from("/tmp/fulgur-regtest");
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--nodes" => nodes = args.next().context("--nodes needs a number")?.parse()?,
            "--dir" => dir = PathBuf::from(args.next().context("--dir needs a path")?),
            "-h" | "--help" => {
                println!("usage: fulgur-regtest [--nodes N] [--dir DIR]\n\nStarts bitcoind and N fulgurd nodes on regtest under DIR (wiped first), until Ctrl-C.");
                return Ok(());
            }
            other => bail!("unknown argument {other} (try --help)"),
        }
    }
    if dir.exists() {
        std::fs::remove_dir_all(&dir).with_context(|| format!("cannot clear {}", dir.display()))?;
    }
    let bitcoind = Bitcoind::start_in(&dir.join("bitcoind"))?;
    let height = bitcoind.generate(101)?;
    let mut running = Vec::new();
    for i in 1..=nodes {
        let lightning_dir = dir.join(format!("node{i}"));
        let node = Node::start(
            Some(&bitcoind),
            NodeOptions {
                lightning_dir: Some(lightning_dir),
                ..Default::default()
            },
        )?;
        // Ready means caught up with the chain, so `getinfo` shows the real height at once.
        node.rpc(
            "waitblockheight",
            serde_json::json!({"blockheight": height, "timeout": 60}),
        )
        .with_context(|| format!("node{i} did not reach block {height}"))?;
        running.push(node);
    }
    let cli = paths::workspace_bin("fulgur-cli");
    println!(
        "bitcoind: regtest, height {height}, RPC 127.0.0.1:{} (user {}, password {})",
        bitcoind.rpc_port, bitcoind.rpc_user, bitcoind.rpc_password
    );
    println!("bitcoin-cli: {} -regtest -datadir={} -rpcport={} -rpcuser={} -rpcpassword={} getblockchaininfo",
        paths::bitcoind_dir().join("bitcoin-cli").display(), bitcoind.datadir().display(), bitcoind.rpc_port, bitcoind.rpc_user, bitcoind.rpc_password);
    for (i, node) in running.iter().enumerate() {
        let info = node.rpc("getinfo", serde_json::json!({}))?;
        println!(
            "node{}: id {} alias {}",
            i + 1,
            info["id"].as_str().unwrap_or("?"),
            info["alias"].as_str().unwrap_or("?")
        );
        println!(
            "  {} --lightning-dir={} --regtest getinfo",
            cli.display(),
            node.lightning_dir.display()
        );
        println!("  log: {}", node.lightning_dir.join("log").display());
    }
    println!("Press Ctrl-C to stop everything.");
    wait_for_interrupt();
    println!("stopping...");
    drop(running);
    drop(bitcoind);
    Ok(())
}

fn wait_for_interrupt() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build();
    if let Ok(rt) = rt {
        rt.block_on(async {
            let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = async { match term.as_mut() { Some(t) => { t.recv().await; } None => std::future::pending::<()>().await } } => {}
            }
        });
    }
}
