//! Bundle text → a value tree where every node knows its byte span, so validation problems can
//! point at the exact line and column of the bundle file.
//!
//! JSON is parsed by a small hand-written parser (strict RFC 8259, no comments, nesting capped);
//! YAML is parsed with `yaml_serde`, re-written as pretty JSON and parsed again, so YAML bundles
//! get diagnostics located in that JSON rendering (the source shown is named accordingly).
//! Does not interpret the bundle: that is `bundle::load`.

use miette::SourceSpan;

/// Deepest nesting accepted (bundles nest 5 levels; this only stops hostile input).
const MAX_DEPTH: usize = 64;

/// One parsed value with the byte range it came from.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Node {
    /// Byte range in the source text.
    pub(crate) span: SourceSpan,
    /// The value.
    pub(crate) kind: NodeKind,
}

/// The JSON value kinds.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum NodeKind {
    Null,
    Bool(bool),
    /// The number exactly as written.
    Number(String),
    Str(String),
    Array(Vec<Node>),
    /// Members in document order: key, span of the key, value.
    Object(Vec<(String, SourceSpan, Node)>),
}

impl Node {
    /// The member `key` of an object node.
    pub(crate) fn get(&self, key: &str) -> Option<&Node> {
        match &self.kind {
            NodeKind::Object(members) => members.iter().find(|(k, _, _)| k == key).map(|m| &m.2),
            _ => None,
        }
    }

    /// A short name of the kind, for messages.
    pub(crate) fn kind_name(&self) -> &'static str {
        match self.kind {
            NodeKind::Null => "null",
            NodeKind::Bool(_) => "a boolean",
            NodeKind::Number(_) => "a number",
            NodeKind::Str(_) => "a string",
            NodeKind::Array(_) => "an array",
            NodeKind::Object(_) => "an object",
        }
    }

    /// Converts to a plain `serde_json::Value` (spans dropped).
    pub(crate) fn to_value(&self) -> serde_json::Value {
        use serde_json::Value;
        match &self.kind {
            NodeKind::Null => Value::Null,
            NodeKind::Bool(b) => Value::Bool(*b),
            NodeKind::Number(n) => serde_json::from_str(n).unwrap_or(Value::Null),
            NodeKind::Str(s) => Value::String(s.clone()),
            NodeKind::Array(items) => Value::Array(items.iter().map(Node::to_value).collect()),
            NodeKind::Object(members) => Value::Object(
                members
                    .iter()
                    .map(|(k, _, v)| (k.clone(), v.to_value()))
                    .collect(),
            ),
        }
    }
}

/// A JSON syntax error at a byte offset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SyntaxError {
    pub(crate) offset: usize,
    pub(crate) message: String,
}

/// Parses a whole JSON document.
pub(crate) fn parse_json(text: &str) -> Result<Node, SyntaxError> {
    let mut p = Parser {
        bytes: text.as_bytes(),
        text,
        pos: 0,
    };
    // A UTF-8 byte-order mark is tolerated.
    if text.starts_with('\u{feff}') {
        p.pos = 3;
    }
    p.ws();
    let node = p.value(0)?;
    p.ws();
    if p.pos < p.bytes.len() {
        return Err(p.err("unexpected text after the end of the document"));
    }
    Ok(node)
}

struct Parser<'a> {
    bytes: &'a [u8],
    text: &'a str,
    pos: usize,
}

impl Parser<'_> {
    fn err(&self, message: &str) -> SyntaxError {
        SyntaxError {
            offset: self.pos.min(self.bytes.len()),
            message: message.to_string(),
        }
    }

    fn ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.bytes.get(self.pos) {
            self.pos += 1;
        }
    }

    fn value(&mut self, depth: usize) -> Result<Node, SyntaxError> {
        if depth > MAX_DEPTH {
            return Err(self.err("nesting is too deep"));
        }
        let start = self.pos;
        let kind = match self.bytes.get(self.pos) {
            None => return Err(self.err("unexpected end of input, expected a value")),
            Some(b'{') => self.object(depth)?,
            Some(b'[') => self.array(depth)?,
            Some(b'"') => NodeKind::Str(self.string()?),
            Some(b't') => self.literal("true", NodeKind::Bool(true))?,
            Some(b'f') => self.literal("false", NodeKind::Bool(false))?,
            Some(b'n') => self.literal("null", NodeKind::Null)?,
            Some(b'-' | b'0'..=b'9') => self.number()?,
            Some(_) => return Err(self.err("expected a JSON value")),
        };
        Ok(Node {
            span: (start, self.pos - start).into(),
            kind,
        })
    }

    fn literal(&mut self, word: &str, kind: NodeKind) -> Result<NodeKind, SyntaxError> {
        if self.bytes[self.pos..].starts_with(word.as_bytes()) {
            self.pos += word.len();
            Ok(kind)
        } else {
            Err(self.err("expected a JSON value"))
        }
    }

    fn number(&mut self) -> Result<NodeKind, SyntaxError> {
        let start = self.pos;
        if self.bytes.get(self.pos) == Some(&b'-') {
            self.pos += 1;
        }
        let digits = |p: &mut Self| {
            let s = p.pos;
            while let Some(b'0'..=b'9') = p.bytes.get(p.pos) {
                p.pos += 1;
            }
            p.pos > s
        };
        if !digits(self) {
            return Err(self.err("invalid number"));
        }
        if self.bytes.get(self.pos) == Some(&b'.') {
            self.pos += 1;
            if !digits(self) {
                return Err(self.err("invalid number"));
            }
        }
        if let Some(b'e' | b'E') = self.bytes.get(self.pos) {
            self.pos += 1;
            if let Some(b'+' | b'-') = self.bytes.get(self.pos) {
                self.pos += 1;
            }
            if !digits(self) {
                return Err(self.err("invalid number"));
            }
        }
        Ok(NodeKind::Number(self.text[start..self.pos].to_string()))
    }

    fn string(&mut self) -> Result<String, SyntaxError> {
        // Opening quote.
        self.pos += 1;
        let mut out = String::new();
        loop {
            let run_start = self.pos;
            while let Some(&b) = self.bytes.get(self.pos) {
                if b == b'"' || b == b'\\' || b < 0x20 {
                    break;
                }
                self.pos += 1;
            }
            out.push_str(&self.text[run_start..self.pos]);
            match self.bytes.get(self.pos) {
                None => return Err(self.err("unterminated string")),
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(out);
                }
                Some(b'\\') => {
                    self.pos += 1;
                    let c = match self.bytes.get(self.pos) {
                        Some(b'"') => '"',
                        Some(b'\\') => '\\',
                        Some(b'/') => '/',
                        Some(b'b') => '\u{8}',
                        Some(b'f') => '\u{c}',
                        Some(b'n') => '\n',
                        Some(b'r') => '\r',
                        Some(b't') => '\t',
                        Some(b'u') => {
                            self.pos += 1;
                            let hi = self.hex4()?;
                            let code = if (0xD800..0xDC00).contains(&hi) {
                                if self.bytes[self.pos..].starts_with(b"\\u") {
                                    self.pos += 2;
                                    let lo = self.hex4()?;
                                    if !(0xDC00..0xE000).contains(&lo) {
                                        return Err(self.err("invalid unicode surrogate pair"));
                                    }
                                    0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)
                                } else {
                                    return Err(self.err("lone unicode surrogate"));
                                }
                            } else {
                                hi
                            };
                            out.push(
                                char::from_u32(code)
                                    .ok_or_else(|| self.err("invalid unicode escape"))?,
                            );
                            continue;
                        }
                        _ => return Err(self.err("invalid escape in string")),
                    };
                    out.push(c);
                    self.pos += 1;
                }
                Some(_) => return Err(self.err("control character in string")),
            }
        }
    }

    fn hex4(&mut self) -> Result<u32, SyntaxError> {
        let digits = self
            .text
            .get(self.pos..self.pos + 4)
            .ok_or_else(|| self.err("truncated unicode escape"))?;
        let v = u32::from_str_radix(digits, 16).map_err(|_| self.err("invalid unicode escape"))?;
        self.pos += 4;
        Ok(v)
    }

    fn array(&mut self, depth: usize) -> Result<NodeKind, SyntaxError> {
        self.pos += 1;
        let mut items = Vec::new();
        self.ws();
        if self.bytes.get(self.pos) == Some(&b']') {
            self.pos += 1;
            return Ok(NodeKind::Array(items));
        }
        loop {
            self.ws();
            items.push(self.value(depth + 1)?);
            self.ws();
            match self.bytes.get(self.pos) {
                Some(b',') => self.pos += 1,
                Some(b']') => {
                    self.pos += 1;
                    return Ok(NodeKind::Array(items));
                }
                _ => return Err(self.err("expected `,` or `]` in array")),
            }
        }
    }

    fn object(&mut self, depth: usize) -> Result<NodeKind, SyntaxError> {
        self.pos += 1;
        let mut members = Vec::new();
        self.ws();
        if self.bytes.get(self.pos) == Some(&b'}') {
            self.pos += 1;
            return Ok(NodeKind::Object(members));
        }
        loop {
            self.ws();
            if self.bytes.get(self.pos) != Some(&b'"') {
                return Err(self.err("expected a string key in object"));
            }
            let key_start = self.pos;
            let key = self.string()?;
            let key_span: SourceSpan = (key_start, self.pos - key_start).into();
            self.ws();
            if self.bytes.get(self.pos) != Some(&b':') {
                return Err(self.err("expected `:` after object key"));
            }
            self.pos += 1;
            self.ws();
            let value = self.value(depth + 1)?;
            members.push((key, key_span, value));
            self.ws();
            match self.bytes.get(self.pos) {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    return Ok(NodeKind::Object(members));
                }
                _ => return Err(self.err("expected `,` or `}` in object")),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_point_at_values() {
        let text = r#"{ "a": [1, "x\n\u00e9"], "b": {"c": null, "d": true} }"#;
        let n = parse_json(text).unwrap();
        let a = n.get("a").unwrap();
        assert_eq!(
            &text[a.span.offset()..a.span.offset() + a.span.len()],
            r#"[1, "x\n\u00e9"]"#
        );
        match &a.kind {
            NodeKind::Array(items) => assert_eq!(items[1].kind, NodeKind::Str("x\né".into())),
            _ => panic!("not an array"),
        }
        assert_eq!(
            n.get("b").unwrap().get("d").unwrap().kind,
            NodeKind::Bool(true)
        );
    }

    #[test]
    fn hostile_inputs_are_errors_not_panics() {
        for bad in [
            "",
            "{",
            "[1,]",
            "{\"a\" 1}",
            "\"\\u12\"",
            "\"\\ud800\"",
            "01x",
            "-",
            "{\"a\":1}x",
            "\"unterminated",
            "[\"\u{1}\"]",
        ] {
            assert!(parse_json(bad).is_err(), "accepted {bad:?}");
        }
        let deep = "[".repeat(10_000);
        assert!(parse_json(&deep).is_err());
    }
}
