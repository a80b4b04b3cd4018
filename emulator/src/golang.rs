//! What Go's standard library did on the 0.3.602 server's side of the pipes:
//! `encoding/json`'s encoder (compact, HTML-safe escapes, sorted map keys)
//! and decoder (where one value ends in a stream, and the unmarshalling
//! rules of the server's structs), `textproto`'s header canonicalisation,
//! `unicode.IsSpace`, `time.Time`'s JSON form and `http.DetectContentType`.
//!
//! Written from Go's documented behaviour, never from the FDK under test.

use serde_json::{Map, Value};

// ------------------------------------------------------------ the scanner

/// What [`Scanner::feed`] found so far.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scan {
    /// One value ends just before this offset; the bytes before it (and
    /// after any leading white space) are the value.
    Complete {
        /// Where the value starts (after leading white space).
        start: usize,
        /// One past its last byte.
        end: usize,
    },
    /// More bytes are needed.
    Incomplete,
    /// The stream ended with nothing but white space (Go: `io.EOF`).
    Eof,
    /// The stream ended inside a value (Go: `unexpected EOF`).
    UnexpectedEof,
    /// Not JSON: Go's syntax error message.
    Invalid(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ctx {
    Object,
    Array,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Num {
    Neg,
    Zero,
    Int,
    Dot,
    Frac,
    E,
    ESign,
    Exp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// A value must start (white space skipped).
    Value,
    /// After `{`: a key or `}`.
    KeyOrEnd,
    /// After `,` in an object: a key.
    Key,
    /// After `[`: a value or `]`.
    ValueOrEnd,
    /// After a key: `:`.
    Colon,
    /// After a value inside a container: `,` or the closing bracket.
    After,
    /// Inside a string (`key`: an object key).
    Str { key: bool },
    /// After a backslash in a string.
    Esc { key: bool },
    /// In a `\u` escape with `left` hex digits to go.
    Hex { key: bool, left: u8 },
    /// In `true`, `false` or `null`, `done` bytes matched.
    Lit { word: &'static [u8], done: usize },
    /// In a number.
    Num(Num),
    /// A top-level scalar ended: Go's decoder waits for one more byte (or
    /// the end of the stream) to know it ended.
    TopEnd,
}

/// Finds where one JSON value ends in a stream, incrementally, as Go's
/// `json.Decoder.Decode` does: leading JSON white space (space, tab, CR,
/// LF) is skipped; an object or array ends at its closing bracket; a
/// top-level string, literal or number needs one more byte (or the end of
/// the stream); a syntax error is reported at the first byte that cannot
/// continue a value. Bytes that are not UTF-8 inside strings are accepted
/// (Go replaces them with U+FFFD).
///
/// Feed it the whole buffer each time (it remembers how far it got).
#[derive(Debug, Clone)]
pub struct Scanner {
    pos: usize,
    start: Option<usize>,
    stack: Vec<Ctx>,
    state: State,
}

impl Default for Scanner {
    fn default() -> Self {
        Self::new()
    }
}

/// Go's `quoteChar`, for syntax error messages.
fn quote_char(c: u8) -> String {
    match c {
        b'\'' => "'\\''".to_owned(),
        b'"' => "'\"'".to_owned(),
        0x20..=0x7e => format!("'{}'", char::from(c)),
        b'\n' => "'\\n'".to_owned(),
        b'\r' => "'\\r'".to_owned(),
        b'\t' => "'\\t'".to_owned(),
        _ => format!("'\\x{c:02x}'"),
    }
}

fn is_ws(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\r' | b'\n')
}

impl Scanner {
    /// A scanner at the start of a stream.
    pub fn new() -> Self {
        Self {
            pos: 0,
            start: None,
            stack: Vec::new(),
            state: State::Value,
        }
    }

    fn invalid(c: u8, context: &str) -> Scan {
        Scan::Invalid(format!("invalid character {} {context}", quote_char(c)))
    }

    /// A value (scalar or container) just ended at `self.pos` (exclusive).
    fn value_ended(&mut self, container: bool) -> Option<Scan> {
        match self.stack.last() {
            Some(_) => {
                self.state = State::After;
                None
            }
            None if container => Some(Scan::Complete {
                start: self.start.unwrap_or(0),
                end: self.pos,
            }),
            None => {
                self.state = State::TopEnd;
                None
            }
        }
    }

    /// Scans `buf` (the whole stream so far) from where the last call
    /// stopped; `eof` says no more bytes will come.
    pub fn feed(&mut self, buf: &[u8], eof: bool) -> Scan {
        while self.pos < buf.len() {
            let c = buf[self.pos];
            if let Some(result) = self.step(c) {
                return result;
            }
        }
        if !eof {
            return Scan::Incomplete;
        }
        match self.state {
            State::TopEnd | State::Num(Num::Zero | Num::Int | Num::Frac | Num::Exp)
                if self.stack.is_empty() =>
            {
                Scan::Complete {
                    start: self.start.unwrap_or(0),
                    end: self.pos,
                }
            }
            _ if self.start.is_none() => Scan::Eof,
            _ => Scan::UnexpectedEof,
        }
    }

    /// Looks at `c` (at `self.pos`); advances unless a number ended just
    /// before it. `Some` ends the scan.
    fn step(&mut self, c: u8) -> Option<Scan> {
        match self.state {
            State::Value | State::ValueOrEnd => {
                if is_ws(c) {
                    self.pos += 1;
                    return None;
                }
                if self.state == State::ValueOrEnd && c == b']' {
                    self.stack.pop();
                    self.pos += 1;
                    return self.value_ended(true);
                }
                self.start.get_or_insert(self.pos);
                self.pos += 1;
                self.state = match c {
                    b'{' => {
                        self.stack.push(Ctx::Object);
                        State::KeyOrEnd
                    }
                    b'[' => {
                        self.stack.push(Ctx::Array);
                        State::ValueOrEnd
                    }
                    b'"' => State::Str { key: false },
                    b'-' => State::Num(Num::Neg),
                    b'0' => State::Num(Num::Zero),
                    b'1'..=b'9' => State::Num(Num::Int),
                    b't' => State::Lit {
                        word: b"true",
                        done: 1,
                    },
                    b'f' => State::Lit {
                        word: b"false",
                        done: 1,
                    },
                    b'n' => State::Lit {
                        word: b"null",
                        done: 1,
                    },
                    _ => return Some(Self::invalid(c, "looking for beginning of value")),
                };
                None
            }
            State::KeyOrEnd | State::Key => {
                self.pos += 1;
                if is_ws(c) {
                    return None;
                }
                if c == b'}' && self.state == State::KeyOrEnd {
                    self.stack.pop();
                    return self.value_ended(true);
                }
                if c == b'"' {
                    self.state = State::Str { key: true };
                    return None;
                }
                Some(Self::invalid(
                    c,
                    "looking for beginning of object key string",
                ))
            }
            State::Colon => {
                self.pos += 1;
                match c {
                    _ if is_ws(c) => None,
                    b':' => {
                        self.state = State::Value;
                        None
                    }
                    _ => Some(Self::invalid(c, "after object key")),
                }
            }
            State::After => {
                self.pos += 1;
                if is_ws(c) {
                    return None;
                }
                match (self.stack.last(), c) {
                    (Some(Ctx::Object), b',') => {
                        self.state = State::Key;
                        None
                    }
                    (Some(Ctx::Object), b'}') | (Some(Ctx::Array), b']') => {
                        self.stack.pop();
                        self.value_ended(true)
                    }
                    (Some(Ctx::Array), b',') => {
                        self.state = State::Value;
                        None
                    }
                    (Some(Ctx::Object), _) => Some(Self::invalid(c, "after object key:value pair")),
                    _ => Some(Self::invalid(c, "after array element")),
                }
            }
            State::Str { key } => {
                self.pos += 1;
                match c {
                    b'"' if key => {
                        self.state = State::Colon;
                        None
                    }
                    b'"' => self.value_ended(false),
                    b'\\' => {
                        self.state = State::Esc { key };
                        None
                    }
                    0..=0x1f => Some(Self::invalid(c, "in string literal")),
                    _ => None,
                }
            }
            State::Esc { key } => {
                self.pos += 1;
                match c {
                    b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => {
                        self.state = State::Str { key };
                        None
                    }
                    b'u' => {
                        self.state = State::Hex { key, left: 4 };
                        None
                    }
                    _ => Some(Self::invalid(c, "in string escape code")),
                }
            }
            State::Hex { key, left } => {
                self.pos += 1;
                if !c.is_ascii_hexdigit() {
                    return Some(Self::invalid(c, "in \\u hexadecimal character escape"));
                }
                self.state = if left == 1 {
                    State::Str { key }
                } else {
                    State::Hex {
                        key,
                        left: left - 1,
                    }
                };
                None
            }
            State::Lit { word, done } => {
                self.pos += 1;
                if c != word[done] {
                    let name = String::from_utf8_lossy(word);
                    return Some(Self::invalid(
                        c,
                        &format!("in literal {name} (expecting {})", quote_char(word[done])),
                    ));
                }
                if done + 1 == word.len() {
                    return self.value_ended(false);
                }
                self.state = State::Lit {
                    word,
                    done: done + 1,
                };
                None
            }
            State::Num(n) => self.number(n, c),
            State::TopEnd => Some(Scan::Complete {
                start: self.start.unwrap_or(0),
                end: self.pos,
            }),
        }
    }

    fn number(&mut self, n: Num, c: u8) -> Option<Scan> {
        let next = match (n, c) {
            (Num::Neg, b'0') => Some(Num::Zero),
            (Num::Neg, b'1'..=b'9') => Some(Num::Int),
            (Num::Neg, _) => return Some(Self::invalid(c, "in numeric literal")),
            (Num::Int, b'0'..=b'9') => Some(Num::Int),
            (Num::Zero | Num::Int, b'.') => Some(Num::Dot),
            (Num::Zero | Num::Int | Num::Frac, b'e' | b'E') => Some(Num::E),
            (Num::Dot | Num::Frac, b'0'..=b'9') => Some(Num::Frac),
            (Num::Dot, _) => {
                return Some(Self::invalid(c, "after decimal point in numeric literal"));
            }
            (Num::E, b'+' | b'-') => Some(Num::ESign),
            (Num::E | Num::ESign | Num::Exp, b'0'..=b'9') => Some(Num::Exp),
            (Num::E | Num::ESign, _) => {
                return Some(Self::invalid(c, "in exponent of numeric literal"));
            }
            // Zero, Int, Frac, Exp followed by anything else: the number
            // ended before `c`, which is looked at again.
            _ => None,
        };
        match next {
            Some(n) => {
                self.pos += 1;
                self.state = State::Num(n);
                None
            }
            None => {
                let ended = self.value_ended(false);
                if ended.is_some() {
                    return ended;
                }
                // TopEnd: this byte is the one Go waited for.
                if self.state == State::TopEnd {
                    return Some(Scan::Complete {
                        start: self.start.unwrap_or(0),
                        end: self.pos,
                    });
                }
                None
            }
        }
    }
}

/// Parses the bytes of one complete value (as [`Scanner`] delimited it),
/// replacing bytes that are not UTF-8 with U+FFFD as Go does.
///
/// Limits that are serde_json's, not Go's: nesting deeper than 128 and
/// lone UTF-16 surrogates in `\u` escapes are errors here.
pub fn parse_value(bytes: &[u8]) -> Result<Value, String> {
    let text = String::from_utf8_lossy(bytes);
    serde_json::from_str(&text).map_err(|e| e.to_string())
}

// ------------------------------------------------------------ unmarshalling

/// Go's name for the JSON type of `v` in `cannot unmarshal <type> into …`.
pub fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn cannot(v: &Value, field: &str, go_type: &str) -> String {
    format!(
        "json: cannot unmarshal {} into Go struct field {field} of type {go_type}",
        kind(v)
    )
}

/// An object member as Go's decoder matches struct fields: the exact name,
/// else the first case-insensitive match.
pub fn member<'a>(obj: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    obj.get(name).or_else(|| {
        obj.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    })
}

/// A Go `string` field: absent or `null` is `""`.
pub fn go_string(v: Option<&Value>, field: &str) -> Result<String, String> {
    match v {
        None | Some(Value::Null) => Ok(String::new()),
        Some(Value::String(s)) => Ok(s.clone()),
        Some(other) => Err(cannot(other, field, "string")),
    }
}

/// A Go `int` field: an integer literal in range; absent or `null` is 0.
pub fn go_int(v: Option<&Value>, field: &str) -> Result<i64, String> {
    match v {
        None | Some(Value::Null) => Ok(0),
        Some(Value::Number(n)) => n.as_i64().ok_or_else(|| {
            format!("json: cannot unmarshal number {n} into Go struct field {field} of type int")
        }),
        Some(other) => Err(cannot(other, field, "int")),
    }
}

/// A Go `http.Header` field (`map[string][]string`): an object of arrays
/// of strings, `null` standing for an empty array or string. Pairs come
/// out by name, each name's values in order.
pub fn go_header(v: Option<&Value>, field: &str) -> Result<Vec<(String, String)>, String> {
    let obj = match v {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Object(obj)) => obj,
        Some(other) => return Err(cannot(other, field, "http.Header")),
    };
    let mut out = Vec::new();
    for (name, values) in obj {
        match values {
            Value::Null => {}
            Value::Array(values) => {
                for value in values {
                    match value {
                        Value::Null => out.push((name.clone(), String::new())),
                        Value::String(s) => out.push((name.clone(), s.clone())),
                        other => return Err(cannot(other, field, "[]string")),
                    }
                }
            }
            other => return Err(cannot(other, field, "[]string")),
        }
    }
    Ok(out)
}

/// Go's `time.Time` JSON form: `null`, or a string in RFC 3339 (with or
/// without fractional seconds) naming a real instant.
pub fn go_time(v: Option<&Value>, field: &str) -> Result<(), String> {
    match v {
        None | Some(Value::Null) => Ok(()),
        Some(Value::String(s)) if is_rfc3339(s) => Ok(()),
        Some(Value::String(s)) => Err(format!(
            "parsing time {s:?} as \"2006-01-02T15:04:05Z07:00\": cannot parse (field {field})"
        )),
        Some(other) => Err(cannot(other, field, "time.Time")),
    }
}

/// `YYYY-MM-DDTHH:MM:SS[.frac](Z|±hh:mm)` with a valid date and time.
pub fn is_rfc3339(s: &str) -> bool {
    let b = s.as_bytes();
    let digits = |from: usize, n: usize| -> Option<u32> {
        let part = b.get(from..from + n)?;
        part.iter().all(u8::is_ascii_digit).then(|| {
            part.iter()
                .fold(0u32, |acc, d| acc * 10 + u32::from(d - b'0'))
        })
    };
    let sep = |at: usize, c: u8| b.get(at) == Some(&c);
    let (Some(year), Some(month), Some(day), Some(hour), Some(min), Some(sec)) = (
        digits(0, 4),
        digits(5, 2),
        digits(8, 2),
        digits(11, 2),
        digits(14, 2),
        digits(17, 2),
    ) else {
        return false;
    };
    if !(sep(4, b'-') && sep(7, b'-') && (sep(10, b'T') || sep(10, b't')))
        || !(sep(13, b':') && sep(16, b':'))
    {
        return false;
    }
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    if day == 0 || day > days || hour > 23 || min > 59 || sec > 59 {
        return false;
    }
    let mut at = 19;
    if sep(at, b'.') {
        at += 1;
        let from = at;
        while b.get(at).is_some_and(u8::is_ascii_digit) {
            at += 1;
        }
        if at == from {
            return false;
        }
    }
    match b.get(at) {
        Some(b'Z' | b'z') => at + 1 == b.len(),
        Some(b'+' | b'-') => {
            matches!((digits(at + 1, 2), digits(at + 4, 2)), (Some(h), Some(m)) if h < 24 && m < 60)
                && sep(at + 3, b':')
                && at + 6 == b.len()
        }
        _ => false,
    }
}

// ------------------------------------------------------------ encoding

/// Appends `s` as a JSON string the way Go's encoder writes it: `"` and
/// `\` escaped, `\n` `\r` `\t` short, other control characters and `<`
/// `>` `&` U+2028 U+2029 as `\u00XX`-style escapes.
pub fn push_str(out: &mut String, s: &str) {
    out.push('"');
    push_str_inner(out, s);
    out.push('"');
}

fn push_str_inner(out: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                out.push_str(&format!("\\u{:04x}", u32::from(c)));
            }
            c if u32::from(c) < 0x20 => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
}

/// Appends bytes as a Go `string` value: each byte that is not part of
/// valid UTF-8 becomes `\ufffd`, as Go's encoder writes it.
pub fn push_bytes(out: &mut String, bytes: &[u8]) {
    out.push('"');
    for chunk in bytes.utf8_chunks() {
        push_str_inner(out, chunk.valid());
        for _ in chunk.invalid() {
            out.push_str("\\ufffd");
        }
    }
    out.push('"');
}

/// Appends `v` compactly, object keys sorted as Go sorts map keys.
/// Numbers are written as serde_json writes them, which is Go's form for
/// integers (the harness sends no others).
pub fn push_value(out: &mut String, v: &Value) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&n.to_string()),
        Value::String(s) => push_str(out, s),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                push_value(out, item);
            }
            out.push(']');
        }
        Value::Object(obj) => {
            let mut keys: Vec<&String> = obj.keys().collect();
            keys.sort();
            out.push('{');
            for (i, key) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                push_str(out, key);
                out.push(':');
                if let Some(value) = obj.get(key) {
                    push_value(out, value);
                }
            }
            out.push('}');
        }
    }
}

/// Appends an `http.Header` as Go encodes it: names sorted, each with the
/// array of its values in order.
pub fn push_header(out: &mut String, headers: &[(String, String)]) {
    let mut names: Vec<&str> = headers.iter().map(|(k, _)| k.as_str()).collect();
    names.sort_unstable();
    names.dedup();
    out.push('{');
    for (i, name) in names.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        push_str(out, name);
        out.push_str(":[");
        let values = headers.iter().filter(|(k, _)| k == name);
        for (j, (_, value)) in values.enumerate() {
            if j > 0 {
                out.push(',');
            }
            push_str(out, value);
        }
        out.push(']');
    }
    out.push('}');
}

// ------------------------------------------------------------ odds and ends

/// Go's `textproto.CanonicalMIMEHeaderKey`: the first letter and each
/// letter after `-` upper case, the rest lower case; a name with a byte
/// that is not a token character is left as it is.
pub fn canonical_key(name: &str) -> String {
    let token = |c: u8| c.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&c);
    if name.is_empty() || !name.bytes().all(token) {
        return name.to_owned();
    }
    let mut upper = true;
    name.chars()
        .map(|c| {
            let out = if upper {
                c.to_ascii_uppercase()
            } else {
                c.to_ascii_lowercase()
            };
            upper = c == '-';
            out
        })
        .collect()
}

/// Whether `bytes` are all white space by Go's `unicode.IsSpace` (the
/// Unicode White_Space property). Bytes that are not UTF-8 are not.
pub fn all_unicode_space(bytes: &[u8]) -> bool {
    match std::str::from_utf8(bytes) {
        Ok(text) => text.chars().all(char::is_whitespace),
        Err(_) => false,
    }
}

/// A small port of Go's `http.DetectContentType` (the first 512 bytes):
/// HTML, XML, PDF, PostScript, byte-order marks, the common images and
/// archives, then `text/plain; charset=utf-8` for data without binary
/// bytes and `application/octet-stream` for the rest. Signatures Go knows
/// beyond these (fonts, audio, video, wasm) come out as one of the last two.
pub fn detect_content_type(data: &[u8]) -> &'static str {
    let data = &data[..data.len().min(512)];
    let trimmed = {
        let skip = data
            .iter()
            .take_while(|c| matches!(c, b'\t' | b'\n' | 0x0c | b'\r' | b' '))
            .count();
        &data[skip..]
    };
    const HTML: [&[u8]; 17] = [
        b"<!DOCTYPE HTML",
        b"<HTML",
        b"<HEAD",
        b"<SCRIPT",
        b"<IFRAME",
        b"<H1",
        b"<DIV",
        b"<FONT",
        b"<TABLE",
        b"<A",
        b"<STYLE",
        b"<TITLE",
        b"<B",
        b"<BODY",
        b"<BR",
        b"<P",
        b"<!--",
    ];
    for sig in HTML {
        if trimmed.len() > sig.len()
            && trimmed[..sig.len()].eq_ignore_ascii_case(sig)
            && matches!(trimmed[sig.len()], b' ' | b'>')
        {
            return "text/html; charset=utf-8";
        }
    }
    if trimmed.starts_with(b"<?xml") {
        return "text/xml; charset=utf-8";
    }
    let exact: [(&[u8], &'static str); 12] = [
        (b"%PDF-", "application/pdf"),
        (b"%!PS-Adobe-", "application/postscript"),
        (b"\xFE\xFF", "text/plain; charset=utf-16be"),
        (b"\xFF\xFE", "text/plain; charset=utf-16le"),
        (b"\xEF\xBB\xBF", "text/plain; charset=utf-8"),
        (b"GIF87a", "image/gif"),
        (b"GIF89a", "image/gif"),
        (b"\x89PNG\x0D\x0A\x1A\x0A", "image/png"),
        (b"\xFF\xD8\xFF", "image/jpeg"),
        (b"BM", "image/bmp"),
        (b"\x1F\x8B\x08", "application/x-gzip"),
        (b"PK\x03\x04", "application/zip"),
    ];
    for (sig, mime) in exact {
        if data.starts_with(sig) {
            return mime;
        }
    }
    let binary = |c: &u8| matches!(c, 0x00..=0x08 | 0x0B | 0x0E..=0x1A | 0x1C..=0x1F);
    if data.iter().any(binary) {
        "application/octet-stream"
    } else {
        "text/plain; charset=utf-8"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan_all(input: &[u8], eof: bool) -> Scan {
        Scanner::new().feed(input, eof)
    }

    #[test]
    fn objects_end_at_their_closing_brace() {
        let input = b"  {\"a\":[1,2.5e-3,\"x\\u00e9\\n\"],\"b\":{}}\n{\"next\":1}";
        assert_eq!(scan_all(input, false), Scan::Complete { start: 2, end: 37 });
        assert_eq!(
            &input[2..37],
            b"{\"a\":[1,2.5e-3,\"x\\u00e9\\n\"],\"b\":{}}"
        );
    }

    #[test]
    fn byte_by_byte_feeding_finds_the_same_end() {
        let input = b"\n{\"body\":\"hi \\\"there\\\"\",\"protocol\":{\"status_code\":200}}\n";
        let mut scanner = Scanner::new();
        let mut found = None;
        for n in 1..=input.len() {
            match scanner.feed(&input[..n], false) {
                Scan::Incomplete => {}
                other => {
                    found = Some((n, other));
                    break;
                }
            }
        }
        assert_eq!(
            found,
            Some((
                input.len() - 1,
                Scan::Complete {
                    start: 1,
                    end: input.len() - 1
                }
            ))
        );
    }

    #[test]
    fn syntax_errors_are_reported_at_the_first_bad_byte() {
        assert_eq!(
            scan_all(b"stray line\n{}", false),
            Scan::Invalid("invalid character 's' looking for beginning of value".into())
        );
        assert_eq!(
            scan_all(b"{\"a\" 1}", false),
            Scan::Invalid("invalid character '1' after object key".into())
        );
        assert_eq!(
            scan_all(b"[1 2]", false),
            Scan::Invalid("invalid character '2' after array element".into())
        );
        assert_eq!(
            scan_all(b"nul!", false),
            Scan::Invalid("invalid character '!' in literal null (expecting 'l')".into())
        );
        assert_eq!(
            scan_all(b"\"a\nb\"", false),
            Scan::Invalid("invalid character '\\n' in string literal".into())
        );
        assert!(matches!(scan_all(b"-x", false), Scan::Invalid(_)));
        assert!(matches!(scan_all(b"{,}", false), Scan::Invalid(_)));
    }

    #[test]
    fn top_level_scalars_need_one_more_byte_or_the_end() {
        assert_eq!(scan_all(b"123", false), Scan::Incomplete);
        assert_eq!(scan_all(b"123", true), Scan::Complete { start: 0, end: 3 });
        assert_eq!(
            scan_all(b"123 ", false),
            Scan::Complete { start: 0, end: 3 }
        );
        assert_eq!(scan_all(b"true", false), Scan::Incomplete);
        assert_eq!(
            scan_all(b"true\n", false),
            Scan::Complete { start: 0, end: 4 }
        );
        assert_eq!(
            scan_all(b" \"s\"x", false),
            Scan::Complete { start: 1, end: 4 }
        );
    }

    #[test]
    fn the_end_of_the_stream_is_eof_or_unexpected_eof() {
        assert_eq!(scan_all(b" \n\t", true), Scan::Eof);
        assert_eq!(scan_all(b"", true), Scan::Eof);
        assert_eq!(scan_all(b"{\"a\":", true), Scan::UnexpectedEof);
        assert_eq!(scan_all(b"1.", true), Scan::UnexpectedEof);
    }

    #[test]
    fn invalid_utf8_in_strings_is_accepted_and_replaced() {
        let input = b"{\"body\":\"a\xffb\"}";
        assert_eq!(
            scan_all(input, false),
            Scan::Complete {
                start: 0,
                end: input.len()
            }
        );
        let v = parse_value(input).unwrap();
        assert_eq!(v["body"], "a\u{fffd}b");
    }

    #[test]
    fn strings_are_escaped_as_go_escapes_them() {
        let mut out = String::new();
        push_str(
            &mut out,
            "<b>h\u{e9}llo</b> & \"q\" \\ tab\tline\nsep\u{2028}end \u{1F600}\u{1}",
        );
        assert_eq!(
            out,
            "\"\\u003cb\\u003eh\u{e9}llo\\u003c/b\\u003e \\u0026 \\\"q\\\" \\\\ tab\\tline\\nsep\\u2028end \u{1F600}\\u0001\""
        );
        let mut out = String::new();
        push_bytes(&mut out, b"a\xff\xfeb");
        assert_eq!(out, "\"a\\ufffd\\ufffdb\"");
    }

    #[test]
    fn values_and_headers_encode_with_sorted_keys() {
        let v: Value = serde_json::from_str(r#"{"b":[1,{"z":null,"a":true}],"a":"x"}"#).unwrap();
        let mut out = String::new();
        push_value(&mut out, &v);
        assert_eq!(out, r#"{"a":"x","b":[1,{"a":true,"z":null}]}"#);
        let headers = vec![
            ("X-Multi".to_owned(), "1".to_owned()),
            ("Accept".to_owned(), "*/*".to_owned()),
            ("X-Multi".to_owned(), "2".to_owned()),
        ];
        let mut out = String::new();
        push_header(&mut out, &headers);
        assert_eq!(out, r#"{"Accept":["*/*"],"X-Multi":["1","2"]}"#);
    }

    #[test]
    fn unmarshalling_follows_go_types() {
        let v: Value =
            serde_json::from_str(r#"{"Body":"x","n":200,"f":200.0,"h":{"A":["1",null],"B":null}}"#)
                .unwrap();
        let obj = v.as_object().unwrap();
        assert_eq!(go_string(member(obj, "body"), "body").unwrap(), "x");
        assert_eq!(go_string(member(obj, "none"), "none").unwrap(), "");
        assert!(go_string(member(obj, "n"), "n").is_err());
        assert_eq!(go_int(member(obj, "n"), "n").unwrap(), 200);
        assert!(go_int(member(obj, "f"), "f").is_err());
        assert_eq!(
            go_header(member(obj, "h"), "h").unwrap(),
            vec![
                ("A".to_owned(), "1".to_owned()),
                ("A".to_owned(), String::new())
            ]
        );
        assert!(go_header(member(obj, "n"), "n").is_err());
    }

    #[test]
    fn rfc3339_times() {
        for ok in [
            "0001-01-01T00:00:00Z",
            "2018-10-25T19:30:01.123Z",
            "2024-02-29T23:59:59+02:00",
        ] {
            assert!(is_rfc3339(ok), "{ok}");
        }
        for bad in [
            "",
            "2018-10-25",
            "2023-02-29T00:00:00Z",
            "2018-13-01T00:00:00Z",
            "2018-10-25T19:30:01.Z",
            "2018-10-25T19:30:01",
            "2018-10-25 19:30:01Z",
        ] {
            assert!(!is_rfc3339(bad), "{bad}");
        }
    }

    #[test]
    fn header_names_are_canonicalised_as_go_does() {
        assert_eq!(canonical_key("x-custom"), "X-Custom");
        assert_eq!(canonical_key("FN_CALL_ID"), "Fn_call_id");
        assert_eq!(canonical_key("content-md5"), "Content-Md5");
        assert_eq!(canonical_key("bad name"), "bad name");
    }

    #[test]
    fn white_space_is_unicode_white_space() {
        assert!(all_unicode_space(b" \n\t\r\x0b\x0c"));
        assert!(all_unicode_space("\u{a0}\u{2028}\u{85}".as_bytes()));
        assert!(!all_unicode_space(b" x "));
        assert!(!all_unicode_space(b"\xff"));
    }

    #[test]
    fn content_types_are_sniffed_like_go() {
        assert_eq!(detect_content_type(b""), "text/plain; charset=utf-8");
        assert_eq!(detect_content_type(b"Hello"), "text/plain; charset=utf-8");
        assert_eq!(
            detect_content_type(b"  <html><body>"),
            "text/html; charset=utf-8"
        );
        assert_eq!(
            detect_content_type(b"<?xml version"),
            "text/xml; charset=utf-8"
        );
        assert_eq!(detect_content_type(b"\x89PNG\r\n\x1a\n...."), "image/png");
        assert_eq!(
            detect_content_type(b"\x00\x01\x02"),
            "application/octet-stream"
        );
    }
}
