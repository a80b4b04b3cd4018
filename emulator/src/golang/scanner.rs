//! Where one JSON value ends in a stream, as Go's `json.Decoder` finds it,
//! fed whatever bytes arrived.

use serde_json::Value;

/// What [`Scanner::feed`] found so far.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Scan {
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
pub(crate) struct Scanner {
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
    pub(crate) fn new() -> Self {
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
    pub(crate) fn feed(&mut self, buf: &[u8], eof: bool) -> Scan {
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
pub(crate) fn parse_value(bytes: &[u8]) -> Result<Value, String> {
    let text = String::from_utf8_lossy(bytes);
    serde_json::from_str(&text).map_err(|e| e.to_string())
}
