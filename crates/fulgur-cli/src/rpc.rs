//! Talking to the node over its Unix socket: connect, send a request, read JSON messages one
//! at a time (the node ends each with a blank line), skipping or printing notifications
//! until the reply arrives.

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};

use fulgur_config::LogLevel;

use crate::rawjson::{self, Node};
use fulgur_rpc_types::framing::{Scan, Scanner};

/// Longest socket path `connect` takes directly (`sun_path` holds 108 bytes with the NUL).
const MAX_SOCKET_PATH: usize = 107;

/// A failure talking to the node (exit status 2).
#[derive(Debug, thiserror::Error)]
pub enum RpcError {
    /// The socket could not be reached.
    #[error("connecting to '{}': {source}", path.display())]
    Connect {
        /// The socket path.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// The request could not be sent.
    #[error("writing command: {0}")]
    Write(#[source] std::io::Error),
    /// The node closed the connection before replying.
    #[error("reading response: socket closed")]
    Closed,
    /// Reading failed.
    #[error("reading response: {0}")]
    Read(#[source] std::io::Error),
    /// The node sent something that is not a JSON object.
    #[error("malformed response '{0}'")]
    Malformed(String),
}

/// An open connection to the node.
pub struct Connection {
    stream: UnixStream,
    buf: Vec<u8>,
    framer: Scanner,
}

impl Connection {
    /// Connects to the socket at `path`. Paths too long for a socket address are reached by
    /// moving into their directory first, as `lightning-cli` does.
    pub fn connect(path: &Path) -> Result<Connection, RpcError> {
        let connect_error = |source| RpcError::Connect {
            path: path.to_path_buf(),
            source,
        };
        let stream = if path.as_os_str().len() > MAX_SOCKET_PATH {
            let dir = path.parent().unwrap_or_else(|| Path::new("/"));
            std::env::set_current_dir(dir).map_err(connect_error)?;
            let name = path.file_name().map(Path::new).unwrap_or(path);
            UnixStream::connect(name)
        } else {
            UnixStream::connect(path)
        };
        Ok(Connection {
            stream: stream.map_err(connect_error)?,
            buf: Vec::new(),
            framer: Scanner::new(),
        })
    }

    /// Sends one request.
    pub fn send(&mut self, request: &str) -> Result<(), RpcError> {
        self.stream
            .write_all(request.as_bytes())
            .map_err(RpcError::Write)?;
        self.stream.flush().map_err(RpcError::Write)
    }

    /// Reads the next complete JSON message.
    pub fn next_message(&mut self) -> Result<String, RpcError> {
        let mut chunk = vec![0u8; 64 * 1024];
        loop {
            match self.framer.scan(&self.buf) {
                Scan::Complete { end, .. } => {
                    let message: Vec<u8> = self.buf.drain(..end).collect();
                    self.framer = Scanner::new();
                    return String::from_utf8(message).map_err(|e| {
                        RpcError::Malformed(String::from_utf8_lossy(e.as_bytes()).into())
                    });
                }
                Scan::Empty(_) | Scan::Incomplete => {}
                Scan::NotAnObject => {
                    return Err(RpcError::Malformed(
                        String::from_utf8_lossy(&self.buf).into(),
                    ))
                }
            }
            let n = match self.stream.read(&mut chunk) {
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(RpcError::Read(e)),
            };
            if n == 0 {
                return Err(RpcError::Closed);
            }
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }

    /// Reads messages until one that is not a notification (an object without `id`), and
    /// returns it; notifications are printed (when `level` asks for them) or dropped.
    pub fn read_reply(&mut self, level: Option<LogLevel>) -> Result<String, RpcError> {
        let mut progress_line = false;
        loop {
            let message = self.next_message()?;
            let node =
                rawjson::parse(&message).map_err(|_| RpcError::Malformed(message.clone()))?;
            if let Some(text) = notification(&node, level, &mut progress_line) {
                print!("{text}");
                continue;
            }
            if progress_line {
                println!();
            }
            return Ok(message);
        }
    }
}

/// If `node` is a notification, what to print for it (possibly nothing).
fn notification(
    node: &Node<'_>,
    level: Option<LogLevel>,
    progress_line: &mut bool,
) -> Option<String> {
    if node.get("id").is_some() {
        return None;
    }
    let method = node.get("method")?;
    let params = node.get("params")?;
    let Some(level) = level else {
        return Some(String::new());
    };
    let mut out = String::new();
    match method.inner() {
        "message" => {
            let shown = params
                .get("level")
                .and_then(|l| l.inner().parse::<LogLevel>().ok())
                .is_some_and(|l| l >= level);
            if let (true, Some(message)) = (shown, params.get("message")) {
                if *progress_line {
                    out.push('\n');
                    *progress_line = false;
                }
                out.push_str(&format!("# {}\n", message.inner()));
            }
        }
        "progress" => {
            let number = |node: Option<&Node<'_>>| node.and_then(|n| n.inner().parse::<u64>().ok());
            if let (Some(num), Some(total)) =
                (number(params.get("num")), number(params.get("total")))
            {
                out.push_str(&progress_bar(num, total));
                *progress_line = num + 1 != total;
                if !*progress_line {
                    out.push('\n');
                }
            }
        }
        _ => {}
    }
    Some(out)
}

/// `\r# 3/10 |=====     |` (60 columns of bar).
fn progress_bar(num: u64, total: u64) -> String {
    const WIDTH: u64 = 60;
    let filled = if total > 1 {
        (WIDTH * num / (total - 1)).min(WIDTH)
    } else {
        WIDTH
    };
    let width = total.to_string().len();
    let filled = usize::try_from(filled).unwrap_or(0);
    let empty = usize::try_from(WIDTH).unwrap_or(0).saturating_sub(filled);
    format!(
        "\r# {:>width$}/{total} |{}{}|",
        num + 1,
        "=".repeat(filled),
        " ".repeat(empty)
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly on bad input.

    use super::*;

    #[test]
    fn notifications_are_recognised() {
        let mut progress = false;
        let reply = rawjson::parse(r#"{"id":1,"result":{}}"#).unwrap();
        assert_eq!(
            notification(&reply, Some(LogLevel::Info), &mut progress),
            None
        );
        let message = rawjson::parse(
            r#"{"jsonrpc":"2.0","method":"message","params":{"level":"info","message":"hi"}}"#,
        )
        .unwrap();
        assert_eq!(
            notification(&message, None, &mut progress),
            Some(String::new())
        );
        assert_eq!(
            notification(&message, Some(LogLevel::Debug), &mut progress),
            Some("# hi\n".into())
        );
        assert_eq!(
            notification(&message, Some(LogLevel::Broken), &mut progress),
            Some(String::new())
        );
        let bar = rawjson::parse(r#"{"method":"progress","params":{"num":0,"total":2}}"#).unwrap();
        let text = notification(&bar, Some(LogLevel::Info), &mut progress).unwrap();
        assert!(text.starts_with("\r# 1/2 |") && progress, "{text}");
    }

    #[test]
    fn bars() {
        assert_eq!(progress_bar(1, 2), format!("\r# 2/2 |{}|", "=".repeat(60)));
        assert_eq!(progress_bar(0, 1), format!("\r# 1/1 |{}|", "=".repeat(60)));
    }
}
