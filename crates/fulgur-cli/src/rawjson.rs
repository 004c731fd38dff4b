//! A JSON reader that keeps the exact text of every value, so replies can be printed as the
//! node sent them (numbers and string escapes untouched).

/// Deepest nesting accepted, so a hostile reply cannot exhaust the stack.
const MAX_DEPTH: usize = 512;

/// One JSON value and its exact text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node<'a> {
    /// The value's text as received (strings include their quotes).
    pub text: &'a str,
    /// What the value is.
    pub kind: Kind<'a>,
}

/// The type of a [`Node`], with children for arrays and objects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind<'a> {
    /// A string.
    String,
    /// A number.
    Number,
    /// `true` or `false`.
    Bool(bool),
    /// `null`.
    Null,
    /// An array.
    Array(Vec<Node<'a>>),
    /// An object's members, in order; keys are string nodes.
    Object(Vec<(Node<'a>, Node<'a>)>),
}

impl<'a> Node<'a> {
    /// For strings, the text between the quotes (escapes not decoded); otherwise the text.
    pub fn inner(&self) -> &'a str {
        match self.kind {
            Kind::String => self.text.get(1..self.text.len() - 1).unwrap_or(""),
            _ => self.text,
        }
    }

    /// The decoded string, for strings.
    pub fn as_string(&self) -> Option<String> {
        match self.kind {
            Kind::String => serde_json::from_str(self.text).ok(),
            _ => None,
        }
    }

    /// The member `key` of an object (keys compared as written).
    pub fn get(&self, key: &str) -> Option<&Node<'a>> {
        match &self.kind {
            Kind::Object(members) => members
                .iter()
                .find(|(k, _)| k.inner() == key)
                .map(|(_, v)| v),
            _ => None,
        }
    }

    /// Whether this is `null`.
    pub fn is_null(&self) -> bool {
        self.kind == Kind::Null
    }
}

/// Why text is not one valid JSON value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid json at byte {offset}: {reason}")]
pub struct ParseError {
    /// Where the problem is.
    pub offset: usize,
    /// What is wrong.
    pub reason: &'static str,
}

/// Parses `text`, which must hold exactly one JSON value (surrounding whitespace allowed).
pub fn parse(text: &str) -> Result<Node<'_>, ParseError> {
    let mut parser = Parser {
        text,
        bytes: text.as_bytes(),
        pos: 0,
        depth: 0,
    };
    parser.skip_ws();
    let node = parser.value()?;
    parser.skip_ws();
    if parser.pos != text.len() {
        return Err(parser.error("trailing characters"));
    }
    Ok(node)
}

struct Parser<'a> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
    depth: usize,
}

impl<'a> Parser<'a> {
    fn error(&self, reason: &'static str) -> ParseError {
        ParseError {
            offset: self.pos,
            reason,
        }
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    fn node(&self, start: usize, kind: Kind<'a>) -> Node<'a> {
        Node {
            text: self.text.get(start..self.pos).unwrap_or(""),
            kind,
        }
    }

    fn value(&mut self) -> Result<Node<'a>, ParseError> {
        let start = self.pos;
        match self.peek() {
            Some(b'{') => self.nested(|p| p.object_body()),
            Some(b'[') => self.nested(|p| p.array_body()),
            Some(b'"') => {
                self.string()?;
                Ok(self.node(start, Kind::String))
            }
            Some(b't') => self.literal("true", Kind::Bool(true)),
            Some(b'f') => self.literal("false", Kind::Bool(false)),
            Some(b'n') => self.literal("null", Kind::Null),
            Some(b'-' | b'0'..=b'9') => {
                self.number()?;
                Ok(self.node(start, Kind::Number))
            }
            Some(_) => Err(self.error("unexpected character")),
            None => Err(self.error("unexpected end")),
        }
    }

    fn nested(
        &mut self,
        body: impl FnOnce(&mut Self) -> Result<Kind<'a>, ParseError>,
    ) -> Result<Node<'a>, ParseError> {
        let start = self.pos;
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.error("nested too deeply"));
        }
        self.pos += 1;
        let kind = body(self)?;
        self.depth -= 1;
        Ok(self.node(start, kind))
    }

    fn literal(&mut self, word: &'static str, kind: Kind<'a>) -> Result<Node<'a>, ParseError> {
        let start = self.pos;
        if !self.text[self.pos..].starts_with(word) {
            return Err(self.error("unknown literal"));
        }
        self.pos += word.len();
        Ok(self.node(start, kind))
    }

    fn expect(&mut self, byte: u8, reason: &'static str) -> Result<(), ParseError> {
        if self.peek() != Some(byte) {
            return Err(self.error(reason));
        }
        self.pos += 1;
        Ok(())
    }

    fn array_body(&mut self) -> Result<Kind<'a>, ParseError> {
        let mut items = Vec::new();
        self.skip_ws();
        if self.peek() == Some(b']') {
            self.pos += 1;
            return Ok(Kind::Array(items));
        }
        loop {
            self.skip_ws();
            items.push(self.value()?);
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b']') => {
                    self.pos += 1;
                    return Ok(Kind::Array(items));
                }
                _ => return Err(self.error("expected ',' or ']'")),
            }
        }
    }

    fn object_body(&mut self) -> Result<Kind<'a>, ParseError> {
        let mut members = Vec::new();
        self.skip_ws();
        if self.peek() == Some(b'}') {
            self.pos += 1;
            return Ok(Kind::Object(members));
        }
        loop {
            self.skip_ws();
            let start = self.pos;
            if self.peek() != Some(b'"') {
                return Err(self.error("expected a string key"));
            }
            self.string()?;
            let key = self.node(start, Kind::String);
            self.skip_ws();
            self.expect(b':', "expected ':'")?;
            self.skip_ws();
            let value = self.value()?;
            members.push((key, value));
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    return Ok(Kind::Object(members));
                }
                _ => return Err(self.error("expected ',' or '}'")),
            }
        }
    }

    fn string(&mut self) -> Result<(), ParseError> {
        self.pos += 1;
        loop {
            match self.peek() {
                None => return Err(self.error("unterminated string")),
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(());
                }
                Some(b'\\') => {
                    self.pos += 1;
                    match self.peek() {
                        Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => {
                            self.pos += 1
                        }
                        Some(b'u') => {
                            let hex = self.bytes.get(self.pos + 1..self.pos + 5);
                            if !hex.is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit)) {
                                return Err(self.error("bad \\u escape"));
                            }
                            self.pos += 5;
                        }
                        _ => return Err(self.error("bad escape")),
                    }
                }
                Some(b) if b < 0x20 => return Err(self.error("control character in string")),
                Some(_) => self.pos += 1,
            }
        }
    }

    fn digits(&mut self) -> usize {
        let start = self.pos;
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.pos += 1;
        }
        self.pos - start
    }

    fn number(&mut self) -> Result<(), ParseError> {
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        match self.peek() {
            Some(b'0') => self.pos += 1,
            Some(b'1'..=b'9') => {
                self.digits();
            }
            _ => return Err(self.error("bad number")),
        }
        if self.peek() == Some(b'.') {
            self.pos += 1;
            if self.digits() == 0 {
                return Err(self.error("bad number"));
            }
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.pos += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.pos += 1;
            }
            if self.digits() == 0 {
                return Err(self.error("bad number"));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly on bad input.

    use super::*;

    #[test]
    fn keeps_exact_text() {
        let text = r#" {"a": 1.50, "b" : ["x\u00e9", true, null, -0e+3], "c": {}} "#;
        let node = parse(text).unwrap();
        assert_eq!(node.text, text.trim());
        assert_eq!(node.get("a").unwrap().text, "1.50");
        let b = node.get("b").unwrap();
        let Kind::Array(items) = &b.kind else {
            panic!("not an array")
        };
        assert_eq!(items[0].text, r#""x\u00e9""#);
        assert_eq!(items[0].inner(), r"x\u00e9");
        assert_eq!(items[0].as_string().as_deref(), Some("xé"));
        assert_eq!(items[1].kind, Kind::Bool(true));
        assert!(items[2].is_null());
        assert_eq!(items[3].text, "-0e+3");
        assert_eq!(node.get("c").unwrap().kind, Kind::Object(vec![]));
        assert!(node.get("d").is_none());
    }

    #[test]
    fn rejects_bad_json() {
        for bad in [
            "", "{", "[1,]", "{\"a\"}", "01", "1.", "\"\\x\"", "tru", "{} x", "\"a\nb\"",
        ] {
            assert!(parse(bad).is_err(), "{bad:?} accepted");
        }
        let deep = "[".repeat(MAX_DEPTH + 1) + &"]".repeat(MAX_DEPTH + 1);
        assert!(parse(&deep).is_err());
    }
}
