//! Shared by the fake-bitcoind tests: reading one HTTP/1.1 JSON-RPC request off a socket.

use serde_json::Value;
use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;

/// One request as a fake server saw it.
#[derive(Debug, Clone)]
#[allow(dead_code, reason = "each test binary uses a different subset")]
pub struct Request {
    /// The request line and headers.
    pub head: String,
    /// The `Authorization` header, if sent.
    pub authorization: Option<String>,
    /// The JSON body (`null` if it did not parse).
    pub body: Value,
}

#[allow(dead_code, reason = "each test binary uses a different subset")]
impl Request {
    /// The JSON-RPC id.
    pub fn id(&self) -> Value {
        self.body["id"].clone()
    }

    /// The JSON-RPC method.
    pub fn method(&self) -> &str {
        self.body["method"].as_str().unwrap_or_default()
    }

    /// The JSON-RPC params.
    pub fn params(&self) -> Value {
        self.body["params"].clone()
    }
}

/// Reads one request (headers, then a `Content-Length` body); `None` if the client went away.
pub async fn read_request(stream: &mut TcpStream) -> Option<Request> {
    let mut buf = Vec::new();
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i;
        }
        let mut chunk = [0u8; 4096];
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let header = |name: &str| {
        head.lines().skip(1).find_map(|l| {
            let (n, v) = l.split_once(':')?;
            n.eq_ignore_ascii_case(name).then(|| v.trim().to_owned())
        })
    };
    let len: usize = header("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    while buf.len() < head_end + 4 + len {
        let mut chunk = [0u8; 4096];
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
    let body = serde_json::from_slice(&buf[head_end + 4..head_end + 4 + len]).unwrap_or_default();
    Some(Request {
        authorization: header("authorization"),
        head,
        body,
    })
}
