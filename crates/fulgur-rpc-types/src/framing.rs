//! Finds where one JSON request ends in a stream of bytes without parsing it, so a large
//! request arriving in many reads is scanned once, not re-parsed on every read.

/// What the scanner knows about the bytes seen so far.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scan {
    /// Only whitespace so far (this many bytes of it).
    Empty(usize),
    /// A value started but has not ended.
    Incomplete,
    /// A complete value spans `start..end`.
    Complete {
        /// Offset of its first byte.
        start: usize,
        /// Offset just past its last byte.
        end: usize,
    },
    /// The first non-whitespace byte cannot start a JSON object or array.
    NotAnObject,
}

/// An incremental scanner over one request at a time: feed it the whole buffer each time;
/// it resumes where it stopped.
#[derive(Debug, Default, Clone)]
pub struct Scanner {
    pos: usize,
    start: Option<usize>,
    depth: usize,
    in_string: bool,
    escape: bool,
    done: Option<(usize, usize)>,
}

impl Scanner {
    /// A scanner at the start of a request.
    pub fn new() -> Self {
        Self::default()
    }

    /// Continues scanning `buf` (which must extend the bytes given before). Once a value is
    /// complete, further calls report the same value; start a new scanner for the next one.
    pub fn scan(&mut self, buf: &[u8]) -> Scan {
        if let Some((start, end)) = self.done {
            return Scan::Complete { start, end };
        }
        while self.pos < buf.len() {
            let b = buf[self.pos];
            self.pos += 1;
            let Some(start) = self.start else {
                match b {
                    b' ' | b'\t' | b'\r' | b'\n' => continue,
                    b'{' | b'[' => {
                        self.start = Some(self.pos - 1);
                        self.depth = 1;
                        continue;
                    }
                    _ => return Scan::NotAnObject,
                }
            };
            if self.in_string {
                if self.escape {
                    self.escape = false;
                } else if b == b'\\' {
                    self.escape = true;
                } else if b == b'"' {
                    self.in_string = false;
                }
                continue;
            }
            match b {
                b'"' => self.in_string = true,
                b'{' | b'[' => self.depth += 1,
                b'}' | b']' => {
                    self.depth = self.depth.saturating_sub(1);
                    if self.depth == 0 {
                        self.done = Some((start, self.pos));
                        return Scan::Complete {
                            start,
                            end: self.pos,
                        };
                    }
                }
                _ => {}
            }
        }
        match self.start {
            None => Scan::Empty(self.pos),
            Some(_) => Scan::Incomplete,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn finds_request_ends() {
        let mut s = Scanner::new();
        assert_eq!(s.scan(b"  \n"), Scan::Empty(3));
        assert_eq!(s.scan(b"  \n{\"a\":\"}\\\""), Scan::Incomplete);
        let full = b"  \n{\"a\":\"}\\\"\"}{\"b\":1}";
        assert_eq!(s.scan(full), Scan::Complete { start: 3, end: 14 });
        // A finished scan stays finished (the next value needs a new scanner).
        assert_eq!(
            s.scan(b"  \n{\"a\":\"}\\\"\"}}}}}"),
            Scan::Complete { start: 3, end: 14 }
        );
        let mut s = Scanner::new();
        assert_eq!(s.scan(b"[1,[2]] "), Scan::Complete { start: 0, end: 7 });
        let mut s = Scanner::new();
        assert_eq!(s.scan(b"\x00\xff"), Scan::NotAnObject);
    }

    proptest! {
        #[test]
        fn never_panics_and_bounds_hold(data in proptest::collection::vec(any::<u8>(), 0..512)) {
            let mut s = Scanner::new();
            // Feed it in two pieces to exercise resumption.
            let half = data.len() / 2;
            let _ = s.scan(&data[..half]);
            if let Scan::Complete { start, end } = s.scan(&data) {
                prop_assert!(start < end && end <= data.len());
            }
        }
    }
}
