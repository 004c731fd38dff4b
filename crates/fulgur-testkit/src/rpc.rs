//! A small blocking JSON-RPC client for a node's Unix socket, able to send raw bytes too, for
//! tests of the server's handling of bad input.

use anyhow::{anyhow, bail, Context, Result};
use serde_json::{json, Value};
use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// One reply: the whole JSON object the server sent.
#[derive(Debug, Clone)]
pub struct RpcReply(pub Value);

impl RpcReply {
    /// The `result` member, or an error describing the `error` member.
    pub fn result(&self) -> Result<&Value> {
        if let Some(r) = self.0.get("result") {
            return Ok(r);
        }
        Err(anyhow!(
            "rpc error: {}",
            self.0.get("error").cloned().unwrap_or(Value::Null)
        ))
    }

    /// The error's `(code, message)`, if this reply is an error.
    pub fn error(&self) -> Option<(i64, String)> {
        let e = self.0.get("error")?;
        Some((
            e.get("code")?.as_i64()?,
            e.get("message")?.as_str()?.to_string(),
        ))
    }
}

/// A connection to a node's `lightning-rpc` socket.
pub struct RpcClient {
    stream: UnixStream,
    buf: Vec<u8>,
    next_id: u64,
}

impl RpcClient {
    /// Connects to the socket at `path`.
    pub fn connect(path: &Path) -> Result<RpcClient> {
        let stream = UnixStream::connect(path)
            .with_context(|| format!("connecting to {}", path.display()))?;
        stream.set_read_timeout(Some(Duration::from_secs(60)))?;
        Ok(RpcClient {
            stream,
            buf: Vec::new(),
            next_id: 1,
        })
    }

    /// Calls `method` and returns the reply (an error reply is still `Ok`).
    pub fn call(&mut self, method: &str, params: Value) -> Result<RpcReply> {
        let id = self.next_id;
        self.next_id += 1;
        let req = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
        self.send_raw(req.to_string().as_bytes())?;
        self.read_reply()
    }

    /// Writes bytes as they are.
    pub fn send_raw(&mut self, bytes: &[u8]) -> Result<()> {
        self.stream.write_all(bytes)?;
        Ok(())
    }

    /// Closes the writing half (the server sees end of input).
    pub fn shutdown_write(&self) -> Result<()> {
        self.stream.shutdown(std::net::Shutdown::Write)?;
        Ok(())
    }

    /// Reads one reply, which the server ends with a blank line.
    pub fn read_reply(&mut self) -> Result<RpcReply> {
        let text = self.read_reply_text()?;
        Ok(RpcReply(
            serde_json::from_str(&text).with_context(|| format!("reply is not JSON: {text}"))?,
        ))
    }

    /// Reads one reply's exact text, including its final blank line.
    pub fn read_reply_text(&mut self) -> Result<String> {
        loop {
            if let Some(pos) = self.buf.windows(2).position(|w| w == b"\n\n") {
                let text: Vec<u8> = self.buf.drain(..pos + 2).collect();
                return Ok(String::from_utf8(text)?);
            }
            let mut chunk = [0u8; 65536];
            let n = self.stream.read(&mut chunk)?;
            if n == 0 {
                bail!(
                    "connection closed by the node (buffered: {:?})",
                    String::from_utf8_lossy(&self.buf)
                );
            }
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }

    /// True when the node has closed the connection (reads end of input).
    pub fn is_closed_by_peer(&mut self) -> bool {
        let mut b = [0u8; 1];
        matches!(self.stream.read(&mut b), Ok(0) | Err(_))
    }
}

/// Path helper: the socket of a lightning dir on regtest.
pub fn socket_path(lightning_dir: &Path) -> PathBuf {
    lightning_dir.join("regtest").join("lightning-rpc")
}

impl RpcClient {
    /// Sends bytes and closes the connection at once, without reading the reply.
    pub fn send_raw_and_close(mut self, bytes: &[u8]) {
        let _ = self.stream.write_all(bytes);
        let _ = self.stream.shutdown(std::net::Shutdown::Both);
    }
}
