//! The minimal HTTP/1.1 client framing the JSON-RPC client needs: encode one `POST /` request,
//! and read one response (status line, headers, then a body framed by `Content-Length`, by the
//! chunked transfer coding, or by the end of the connection), under hard caps on header and
//! body size so a misbehaving server cannot make us allocate without bound.

use std::io;

use tokio::io::{AsyncRead, AsyncReadExt};

use crate::error::{ProtocolError, ResponsePart};

/// The cap on the status line plus headers of one response.
pub(crate) const MAX_HEADER_BYTES: usize = 64 * 1024;
/// How much to ask the socket for at a time.
const READ_CHUNK: usize = 64 * 1024;
/// The cap on one chunk-size line (size, extensions) of a chunked body.
const MAX_CHUNK_LINE: usize = 1024;
/// How many interim (1xx) responses are skipped before giving up.
const MAX_INTERIM: usize = 8;
/// How much of the body to reserve up front, whatever `Content-Length` claims.
const MAX_PREALLOC: usize = 1024 * 1024;

/// The size caps for reading one response.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    /// Cap on the status line plus headers.
    pub header_bytes: usize,
    /// Cap on the (decoded) body.
    pub body_bytes: usize,
}

/// A response: its status code and its body (already de-chunked).
#[derive(Debug)]
pub(crate) struct Response {
    /// The HTTP status code, 200..=599.
    pub status: u16,
    /// The body.
    pub body: Vec<u8>,
}

/// Why reading a response failed.
#[derive(Debug)]
pub(crate) enum ReadError {
    /// The socket failed.
    Io(io::Error),
    /// The bytes are not a well-formed HTTP/1.x response.
    Protocol(ProtocolError),
    /// A part of the response went over its cap.
    TooLarge {
        /// Which part.
        part: ResponsePart,
        /// The cap.
        limit: usize,
    },
}

impl From<ProtocolError> for ReadError {
    fn from(e: ProtocolError) -> ReadError {
        ReadError::Protocol(e)
    }
}

/// Encodes a `POST /` request carrying `body` as JSON, closing the connection afterwards.
pub(crate) fn encode_request(host: &str, authorization: &str, body: &[u8]) -> Vec<u8> {
    let head = format!(
        "POST / HTTP/1.1\r\nHost: {host}\r\nAuthorization: {authorization}\r\n\
         Content-Type: application/json\r\nAccept: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let mut out = Vec::with_capacity(head.len() + body.len());
    out.extend_from_slice(head.as_bytes());
    out.extend_from_slice(body);
    out
}

/// Reads one complete response from `reader`.
pub(crate) async fn read_response<R: AsyncRead + Unpin>(
    reader: &mut R,
    limits: Limits,
) -> Result<Response, ReadError> {
    let mut conn = Conn {
        reader,
        buf: Vec::new(),
        pos: 0,
        total: 0,
    };
    let mut interim = 0;
    let head = loop {
        let raw = conn.read_head(limits.header_bytes).await?;
        let head = parse_head(&raw, limits)?;
        if head.status >= 200 {
            break head;
        }
        interim += 1;
        if interim > MAX_INTERIM {
            return Err(ProtocolError::TooManyInterim.into());
        }
    };
    let body = match head.framing {
        _ if head.status == 204 || head.status == 304 => Vec::new(),
        Framing::Chunked => conn.read_chunked(limits).await?,
        Framing::Length(len) => conn.read_exact(len).await?,
        Framing::UntilClose => conn.read_to_end(limits.body_bytes).await?,
    };
    Ok(Response {
        status: head.status,
        body,
    })
}

/// How the body's end is found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Framing {
    /// `Content-Length: n`.
    Length(usize),
    /// `Transfer-Encoding: chunked`.
    Chunked,
    /// Neither: the body runs until the server closes the connection.
    UntilClose,
}

/// The parts of a response head the reader needs.
#[derive(Debug)]
struct Head {
    status: u16,
    framing: Framing,
}

/// Up to 80 characters of `bytes`, for error messages.
fn excerpt(bytes: &[u8]) -> String {
    String::from_utf8_lossy(&bytes[..bytes.len().min(80)]).into_owned()
}

/// Parses a status line and headers (without the final empty line).
fn parse_head(raw: &[u8], limits: Limits) -> Result<Head, ReadError> {
    let mut lines = raw
        .split(|&b| b == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l));
    let status_line = lines.next().unwrap_or_default();
    let status = parse_status_line(status_line)
        .ok_or_else(|| ProtocolError::StatusLine(excerpt(status_line)))?;

    let mut content_length: Option<usize> = None;
    let mut codings: Vec<String> = Vec::new();
    for line in lines {
        let bad = || ProtocolError::Header(excerpt(line));
        let text = std::str::from_utf8(line).map_err(|_| bad())?;
        let (name, value) = text.split_once(':').ok_or_else(bad)?;
        let name_ok = !name.is_empty()
            && name
                .bytes()
                .all(|b| b.is_ascii_graphic() && b != b':' && b != b'"');
        if !name_ok {
            return Err(bad().into());
        }
        let value = value.trim_matches(|c| c == ' ' || c == '\t');
        if name.eq_ignore_ascii_case("content-length") {
            let len = parse_content_length(value)
                .ok_or_else(|| ProtocolError::ContentLength(value.to_owned()))?;
            if content_length.is_some_and(|l| l != len) {
                return Err(ProtocolError::ContentLength(value.to_owned()).into());
            }
            content_length = Some(len);
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            codings.extend(
                value
                    .split(',')
                    .map(|c| c.trim().to_ascii_lowercase())
                    .filter(|c| !c.is_empty()),
            );
        }
    }

    let framing = if !codings.is_empty() {
        if codings.iter().any(|c| c != "chunked") || codings.len() > 1 {
            return Err(ProtocolError::TransferEncoding(codings.join(", ")).into());
        }
        Framing::Chunked
    } else if let Some(len) = content_length {
        if len > limits.body_bytes {
            return Err(ReadError::TooLarge {
                part: ResponsePart::Body,
                limit: limits.body_bytes,
            });
        }
        Framing::Length(len)
    } else {
        Framing::UntilClose
    };
    Ok(Head { status, framing })
}

/// `HTTP/1.x SSS [reason]` → `SSS`, if it is a status code in 100..=599.
fn parse_status_line(line: &[u8]) -> Option<u16> {
    let rest = line.strip_prefix(b"HTTP/1.")?;
    let (minor, rest) = rest.split_first()?;
    if !minor.is_ascii_digit() {
        return None;
    }
    let rest = rest.strip_prefix(b" ")?;
    let code = rest.get(..3)?;
    if !code.iter().all(u8::is_ascii_digit) || !matches!(rest.get(3), None | Some(b' ')) {
        return None;
    }
    let status = code
        .iter()
        .fold(0u16, |acc, d| acc * 10 + u16::from(d - b'0'));
    (100..=599).contains(&status).then_some(status)
}

/// A decimal `Content-Length` value that fits in `usize`.
fn parse_content_length(value: &str) -> Option<usize> {
    if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    value.parse().ok()
}

/// A hexadecimal chunk size, ignoring chunk extensions (`;name=value`).
fn parse_chunk_size(line: &[u8]) -> Option<usize> {
    let end = line.iter().position(|&b| b == b';').unwrap_or(line.len());
    let digits = line[..end].trim_ascii();
    if digits.is_empty() || digits.len() > 16 {
        return None;
    }
    let text = std::str::from_utf8(digits).ok()?;
    usize::from_str_radix(text, 16)
        .ok()
        .filter(|_| text.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// The position of `needle` in `haystack`.
fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// A reader with a look-ahead buffer.
struct Conn<'a, R> {
    reader: &'a mut R,
    /// Bytes read but not yet consumed start at `pos`.
    buf: Vec<u8>,
    pos: usize,
    /// Bytes read from the socket so far.
    total: usize,
}

impl<R: AsyncRead + Unpin> Conn<'_, R> {
    /// The bytes read but not consumed.
    fn available(&self) -> &[u8] {
        &self.buf[self.pos..]
    }

    /// Marks `n` available bytes as consumed.
    fn consume(&mut self, n: usize) {
        self.pos += n;
        if self.pos == self.buf.len() {
            self.buf.clear();
            self.pos = 0;
        }
    }

    /// Reads more bytes into the buffer; `Ok(0)` at the end of the stream.
    async fn fill(&mut self) -> Result<usize, ReadError> {
        if self.pos > 0 {
            self.buf.drain(..self.pos);
            self.pos = 0;
        }
        let start = self.buf.len();
        self.buf.resize(start + READ_CHUNK, 0);
        loop {
            match self.reader.read(&mut self.buf[start..]).await {
                Ok(n) => {
                    self.buf.truncate(start + n);
                    self.total += n;
                    return Ok(n);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    self.buf.truncate(start);
                    return Err(ReadError::Io(e));
                }
            }
        }
    }

    /// The error for a stream that ended early.
    fn eof_error(&self) -> ReadError {
        if self.total == 0 {
            ProtocolError::Empty.into()
        } else {
            ProtocolError::Truncated.into()
        }
    }

    /// Reads up to and including the empty line ending a head; returns the head without it.
    async fn read_head(&mut self, limit: usize) -> Result<Vec<u8>, ReadError> {
        let mut scanned = 0;
        loop {
            if let Some(i) = find(&self.available()[scanned..], b"\r\n\r\n") {
                let len = scanned + i;
                if len > limit {
                    break;
                }
                let head = self.available()[..len].to_vec();
                self.consume(len + 4);
                return Ok(head);
            }
            let avail = self.available().len();
            if avail > limit + 3 {
                break;
            }
            scanned = avail.saturating_sub(3);
            if self.fill().await? == 0 {
                return Err(self.eof_error());
            }
        }
        Err(ReadError::TooLarge {
            part: ResponsePart::Headers,
            limit,
        })
    }

    /// Reads one CRLF-terminated line of at most `limit` bytes; returns it without the CRLF.
    async fn read_line(&mut self, limit: usize, what: &'static str) -> Result<Vec<u8>, ReadError> {
        let mut scanned = 0;
        loop {
            if let Some(i) = find(&self.available()[scanned..], b"\r\n") {
                let len = scanned + i;
                if len > limit {
                    break;
                }
                let line = self.available()[..len].to_vec();
                self.consume(len + 2);
                return Ok(line);
            }
            let avail = self.available().len();
            if avail > limit + 1 {
                break;
            }
            scanned = avail.saturating_sub(1);
            if self.fill().await? == 0 {
                return Err(self.eof_error());
            }
        }
        Err(ProtocolError::Chunk(what).into())
    }

    /// Moves `n` bytes into `out`, reading as needed.
    async fn take_into(&mut self, mut n: usize, out: &mut Vec<u8>) -> Result<(), ReadError> {
        loop {
            let take = n.min(self.available().len());
            out.extend_from_slice(&self.available()[..take]);
            self.consume(take);
            n -= take;
            if n == 0 {
                return Ok(());
            }
            if self.fill().await? == 0 {
                return Err(self.eof_error());
            }
        }
    }

    /// Reads a body of exactly `len` bytes (already checked against the cap).
    async fn read_exact(&mut self, len: usize) -> Result<Vec<u8>, ReadError> {
        let mut body = Vec::with_capacity(len.min(MAX_PREALLOC));
        self.take_into(len, &mut body).await?;
        Ok(body)
    }

    /// Reads a body that ends when the server closes the connection.
    async fn read_to_end(&mut self, limit: usize) -> Result<Vec<u8>, ReadError> {
        let mut body = Vec::new();
        loop {
            let avail = self.available().len();
            if body.len() + avail > limit {
                return Err(ReadError::TooLarge {
                    part: ResponsePart::Body,
                    limit,
                });
            }
            body.extend_from_slice(self.available());
            self.consume(avail);
            if self.fill().await? == 0 {
                return Ok(body);
            }
        }
    }

    /// Reads and decodes a chunked body, then its trailer section.
    async fn read_chunked(&mut self, limits: Limits) -> Result<Vec<u8>, ReadError> {
        let mut body = Vec::new();
        loop {
            let line = self
                .read_line(MAX_CHUNK_LINE, "chunk-size line too long")
                .await?;
            let size = parse_chunk_size(&line).ok_or(ProtocolError::Chunk("bad chunk size"))?;
            if size == 0 {
                break;
            }
            if size > limits.body_bytes - body.len() {
                return Err(ReadError::TooLarge {
                    part: ResponsePart::Body,
                    limit: limits.body_bytes,
                });
            }
            self.take_into(size, &mut body).await?;
            let end = self.read_line(0, "chunk data not followed by CRLF").await?;
            debug_assert!(end.is_empty());
        }
        // Trailer fields, ignored, up to the empty line.
        let mut trailer_bytes = 0;
        loop {
            let line = self
                .read_line(limits.header_bytes, "trailer line too long")
                .await?;
            if line.is_empty() {
                return Ok(body);
            }
            trailer_bytes += line.len() + 2;
            if trailer_bytes > limits.header_bytes {
                return Err(ReadError::TooLarge {
                    part: ResponsePart::Headers,
                    limit: limits.header_bytes,
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    // Tests fail loudly on purpose.
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use std::pin::Pin;
    use std::task::{Context, Poll};

    use proptest::prelude::*;
    use tokio::io::ReadBuf;

    use super::*;

    const LIMITS: Limits = Limits {
        header_bytes: 1024,
        body_bytes: 4096,
    };

    /// Serves `data` at most `step` bytes per read.
    struct Trickle {
        data: Vec<u8>,
        pos: usize,
        step: usize,
    }

    impl AsyncRead for Trickle {
        fn poll_read(
            mut self: Pin<&mut Self>,
            _cx: &mut Context<'_>,
            buf: &mut ReadBuf<'_>,
        ) -> Poll<io::Result<()>> {
            let n = self
                .step
                .min(self.data.len() - self.pos)
                .min(buf.remaining());
            let start = self.pos;
            buf.put_slice(&self.data[start..start + n]);
            self.pos += n;
            Poll::Ready(Ok(()))
        }
    }

    fn read_with(data: &[u8], step: usize, limits: Limits) -> Result<Response, ReadError> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let mut r = Trickle {
            data: data.to_vec(),
            pos: 0,
            step: step.max(1),
        };
        rt.block_on(read_response(&mut r, limits))
    }

    fn read(data: &[u8]) -> Result<Response, ReadError> {
        read_with(data, usize::MAX, LIMITS)
    }

    fn chunked(body: &[u8], sizes: &[usize]) -> Vec<u8> {
        let mut out = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
        let mut rest = body;
        let mut i = 0;
        while !rest.is_empty() {
            let n = sizes
                .get(i)
                .copied()
                .unwrap_or(rest.len())
                .clamp(1, rest.len());
            out.extend_from_slice(format!("{n:x}\r\n").as_bytes());
            out.extend_from_slice(&rest[..n]);
            out.extend_from_slice(b"\r\n");
            rest = &rest[n..];
            i += 1;
        }
        out.extend_from_slice(b"0\r\n\r\n");
        out
    }

    #[test]
    fn request_is_a_post_with_length_and_auth() {
        let req = encode_request("127.0.0.1:18443", "Basic dTpw", b"{}");
        let text = String::from_utf8(req).unwrap();
        assert!(text.starts_with("POST / HTTP/1.1\r\nHost: 127.0.0.1:18443\r\n"));
        assert!(text.contains("\r\nAuthorization: Basic dTpw\r\n"));
        assert!(text.contains("\r\nContent-Type: application/json\r\n"));
        assert!(text.contains("\r\nContent-Length: 2\r\n"));
        assert!(text.ends_with("\r\nConnection: close\r\n\r\n{}"));
    }

    #[test]
    fn content_length_body() {
        let r = read(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhelloEXTRA").unwrap();
        assert_eq!((r.status, r.body.as_slice()), (200, b"hello".as_slice()));
    }

    #[test]
    fn body_until_close() {
        let r = read(b"HTTP/1.0 500 Internal Server Error\r\nX: y\r\n\r\n{\"a\":1}").unwrap();
        assert_eq!(
            (r.status, r.body.as_slice()),
            (500, b"{\"a\":1}".as_slice())
        );
    }

    #[test]
    fn chunked_body_with_extensions_and_trailers() {
        let data = b"HTTP/1.1 200 OK\r\ntransfer-encoding: Chunked\r\n\r\n\
            3;ext=1\r\nabc\r\nA\r\n0123456789\r\n0\r\nX-Trailer: 1\r\n\r\n";
        let r = read(data).unwrap();
        assert_eq!(r.body, b"abc0123456789");
    }

    #[test]
    fn interim_responses_are_skipped() {
        let r = read(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx")
            .unwrap();
        assert_eq!(r.body, b"x");
    }

    #[test]
    fn no_content_has_no_body() {
        let r = read(b"HTTP/1.1 204 No Content\r\n\r\n").unwrap();
        assert!(r.body.is_empty());
    }

    #[test]
    fn empty_and_truncated_streams() {
        assert!(matches!(
            read(b""),
            Err(ReadError::Protocol(ProtocolError::Empty))
        ));
        assert!(matches!(
            read(b"HTTP/1.1 200"),
            Err(ReadError::Protocol(ProtocolError::Truncated))
        ));
        assert!(matches!(
            read(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc"),
            Err(ReadError::Protocol(ProtocolError::Truncated))
        ));
        assert!(matches!(
            read(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab"),
            Err(ReadError::Protocol(ProtocolError::Truncated))
        ));
    }

    #[test]
    fn malformed_heads_are_rejected() {
        for data in [
            &b"hello world\r\n\r\n"[..],
            b"HTTP/2 200 OK\r\n\r\n",
            b"HTTP/1.1 20 OK\r\n\r\n",
            b"HTTP/1.1 2000 OK\r\n\r\n",
            b"HTTP/1.1 999 What\r\n\r\n",
        ] {
            assert!(
                matches!(
                    read(data),
                    Err(ReadError::Protocol(ProtocolError::StatusLine(_)))
                ),
                "{data:?}"
            );
        }
        assert!(matches!(
            read(b"HTTP/1.1 200 OK\r\nno colon\r\n\r\n"),
            Err(ReadError::Protocol(ProtocolError::Header(_)))
        ));
        assert!(matches!(
            read(b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n"),
            Err(ReadError::Protocol(ProtocolError::ContentLength(_)))
        ));
        assert!(matches!(
            read(b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab"),
            Err(ReadError::Protocol(ProtocolError::ContentLength(_)))
        ));
        assert!(matches!(
            read(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"),
            Err(ReadError::Protocol(ProtocolError::TransferEncoding(_)))
        ));
        assert!(matches!(
            read(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"),
            Err(ReadError::Protocol(ProtocolError::Chunk(_)))
        ));
        assert!(matches!(
            read(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n0\r\n\r\n"),
            Err(ReadError::Protocol(ProtocolError::Chunk(_)))
        ));
    }

    #[test]
    fn oversized_parts_are_refused() {
        let big = format!("HTTP/1.1 200 OK\r\nX: {}\r\n\r\n", "a".repeat(2000));
        assert!(matches!(
            read(big.as_bytes()),
            Err(ReadError::TooLarge {
                part: ResponsePart::Headers,
                limit: 1024
            })
        ));
        assert!(matches!(
            read(b"HTTP/1.1 200 OK\r\nContent-Length: 4097\r\n\r\n"),
            Err(ReadError::TooLarge {
                part: ResponsePart::Body,
                limit: 4096
            })
        ));
        let mut until_close = b"HTTP/1.1 200 OK\r\n\r\n".to_vec();
        until_close.extend(std::iter::repeat_n(b'x', 5000));
        assert!(matches!(
            read(&until_close),
            Err(ReadError::TooLarge {
                part: ResponsePart::Body,
                ..
            })
        ));
        let chunks = chunked(&[b'y'; 5000], &[1000; 5]);
        assert!(matches!(
            read(&chunks),
            Err(ReadError::TooLarge {
                part: ResponsePart::Body,
                ..
            })
        ));
        let huge_chunk =
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffff\r\n";
        assert!(matches!(read(huge_chunk), Err(ReadError::TooLarge { .. })));
        // Exactly at the limits is fine.
        let at_limit = chunked(&[b'z'; 4096], &[4096]);
        assert_eq!(read(&at_limit).unwrap().body.len(), 4096);
    }

    #[test]
    fn chunk_sizes_parse_strictly() {
        assert_eq!(parse_chunk_size(b"1a"), Some(26));
        assert_eq!(parse_chunk_size(b"1A ; x=y"), Some(26));
        assert_eq!(parse_chunk_size(b"+1"), None);
        assert_eq!(parse_chunk_size(b""), None);
        assert_eq!(parse_chunk_size(b"10000000000000000"), None);
    }

    proptest! {
        #[test]
        fn random_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..3000),
                                    step in 1usize..64) {
            let _ = read_with(&data, step, LIMITS);
        }

        #[test]
        fn mutated_responses_never_panic(
            body in proptest::collection::vec(any::<u8>(), 0..600),
            flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 0..6),
            step in 1usize..40,
            chunked_body in any::<bool>(),
        ) {
            let mut data = if chunked_body {
                chunked(&body, &[7, 100, 3])
            } else {
                let mut d = format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n", body.len())
                    .into_bytes();
                d.extend_from_slice(&body);
                d
            };
            for (at, byte) in flips {
                let i = at % data.len();
                data[i] = byte;
            }
            let _ = read_with(&data, step, LIMITS);
        }

        #[test]
        fn valid_responses_round_trip(
            body in proptest::collection::vec(any::<u8>(), 0..4000),
            sizes in proptest::collection::vec(1usize..700, 0..10),
            step in 1usize..300,
            use_chunked in any::<bool>(),
        ) {
            let data = if use_chunked {
                chunked(&body, &sizes)
            } else {
                let mut d = format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n", body.len())
                    .into_bytes();
                d.extend_from_slice(&body);
                d
            };
            let r = read_with(&data, step, LIMITS).unwrap();
            prop_assert_eq!(r.status, 200);
            prop_assert_eq!(r.body, body);
        }
    }
}
