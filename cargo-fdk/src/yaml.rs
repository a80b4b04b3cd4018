//! The block-style YAML subset that `func.yaml` files are written in: maps
//! and lists by indentation, plain and quoted scalars, `#` comments.
//!
//! Anything else (flow `{}`/`[]` collections, anchors and aliases, tags,
//! `|`/`>` block scalars, several documents, tabs in indentation, a plain
//! scalar continued on the next line) is refused with its line number rather
//! than misread. `fn init` and `fn deploy` never write those.

use crate::error::{Error, Result};

/// A parsed value. Scalars stay text; the reader of a key decides its type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Value {
    /// `key:` with nothing after it, or `~`/`null`.
    Null,
    /// Plain or quoted text.
    Scalar(String),
    /// Keys in file order (duplicates are refused).
    Map(Vec<(String, Value)>),
    /// Items in file order.
    List(Vec<Value>),
}

impl Value {
    /// A short name for messages.
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Value::Null => "nothing",
            Value::Scalar(_) => "a single value",
            Value::Map(_) => "a map",
            Value::List(_) => "a list",
        }
    }
}

#[derive(Debug, Clone)]
struct Line<'a> {
    number: usize,
    indent: usize,
    text: &'a str,
}

/// Parses a whole document. An empty document is `Value::Null`.
pub(crate) fn parse(source: &str) -> Result<Value> {
    let mut lines = Vec::new();
    let mut started = false;
    for (i, raw) in source.lines().enumerate() {
        let number = i + 1;
        let raw = raw.strip_suffix('\r').unwrap_or(raw);
        let body = raw.trim_start_matches(' ');
        let indent = raw.len() - body.len();
        if body.starts_with('\t') {
            return Err(unsupported(number, "a tab in the indentation"));
        }
        let trimmed = body.trim_end();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        if indent == 0 && (trimmed == "---" || trimmed.starts_with("--- ")) {
            if started {
                return Err(unsupported(number, "a second document (`---`)"));
            }
            if trimmed.len() > 3 && !trimmed[3..].trim_start().starts_with('#') {
                return Err(unsupported(number, "content after `---`"));
            }
            started = true;
            continue;
        }
        if indent == 0 && (trimmed == "..." || trimmed.starts_with('%')) {
            return Err(unsupported(number, "a document marker or directive"));
        }
        started = true;
        lines.push(Line {
            number,
            indent,
            text: trimmed,
        });
    }
    if lines.is_empty() {
        return Ok(Value::Null);
    }
    let mut parser = Parser { lines, pos: 0 };
    let first_indent = parser.lines[0].indent;
    let value = parser.block(first_indent)?;
    if let Some(line) = parser.lines.get(parser.pos) {
        return Err(syntax(
            line.number,
            "this line's indentation does not fit the lines above",
        ));
    }
    Ok(value)
}

fn unsupported(line: usize, what: &str) -> Error {
    Error::new(format!(
        "line {line}: {what} is not supported here (cargo fdk reads block-style YAML: \
         `key: value`, indented maps, `- ` lists, quoted or plain values)"
    ))
}

fn syntax(line: usize, what: &str) -> Error {
    Error::new(format!("line {line}: {what}"))
}

struct Parser<'a> {
    lines: Vec<Line<'a>>,
    pos: usize,
}

fn is_item(text: &str) -> bool {
    text == "-" || text.starts_with("- ")
}

impl<'a> Parser<'a> {
    /// A map or a list whose lines start at column `indent`.
    fn block(&mut self, indent: usize) -> Result<Value> {
        let line = &self.lines[self.pos];
        if is_item(line.text) {
            self.list(indent)
        } else {
            self.map(indent)
        }
    }

    fn map(&mut self, indent: usize) -> Result<Value> {
        let mut entries: Vec<(String, Value)> = Vec::new();
        while let Some(line) = self.lines.get(self.pos).cloned() {
            if line.indent < indent {
                break;
            }
            if line.indent > indent {
                return Err(syntax(line.number, "unexpected indentation"));
            }
            if is_item(line.text) {
                return Err(syntax(
                    line.number,
                    "a list item where a `key: value` line was expected",
                ));
            }
            let (key, rest) = split_key(line.text, line.number)?;
            if entries.iter().any(|(k, _)| *k == key) {
                return Err(syntax(
                    line.number,
                    &format!("the key `{key}` appears twice"),
                ));
            }
            self.pos += 1;
            let value = if rest.is_empty() {
                match self.lines.get(self.pos) {
                    Some(next) if next.indent > indent => self.block(next.indent)?,
                    // `key:` then `- item` at the same column: a list.
                    Some(next) if next.indent == indent && is_item(next.text) => {
                        self.list(indent)?
                    }
                    _ => Value::Null,
                }
            } else {
                scalar(rest, line.number)?
            };
            entries.push((key, value));
        }
        Ok(Value::Map(entries))
    }

    fn list(&mut self, indent: usize) -> Result<Value> {
        let mut items = Vec::new();
        while let Some(line) = self.lines.get(self.pos).cloned() {
            if line.indent < indent || (line.indent == indent && !is_item(line.text)) {
                break;
            }
            if line.indent > indent {
                return Err(syntax(line.number, "unexpected indentation"));
            }
            let after = &line.text[1..];
            let rest = after.trim_start_matches(' ');
            if rest.is_empty() {
                self.pos += 1;
                match self.lines.get(self.pos) {
                    Some(next) if next.indent > indent => items.push(self.block(next.indent)?),
                    _ => items.push(Value::Null),
                }
                continue;
            }
            let column = indent + 1 + (after.len() - rest.len());
            if is_item(rest) {
                return Err(unsupported(
                    line.number,
                    "a list directly inside a list item",
                ));
            }
            if looks_like_key(rest) {
                // `- key: value`: a map whose keys start at `column`; its
                // other keys follow on lines indented to that column.
                self.lines[self.pos] = Line {
                    number: line.number,
                    indent: column,
                    text: rest,
                };
                items.push(self.map(column)?);
            } else {
                self.pos += 1;
                items.push(scalar(rest, line.number)?);
            }
        }
        Ok(Value::List(items))
    }
}

/// True when `text` starts with a key followed by `:` (a plain key up to
/// `: ` or a final `:`, or a quoted key).
fn looks_like_key(text: &str) -> bool {
    if text.starts_with('"') || text.starts_with('\'') {
        return quoted_end(text).is_some_and(|end| text[end..].trim_start().starts_with(':'));
    }
    plain_key_end(text).is_some()
}

fn plain_key_end(text: &str) -> Option<usize> {
    let before_comment = text.find(" #").unwrap_or(text.len());
    let text = &text[..before_comment];
    text.find(": ")
        .or_else(|| text.ends_with(':').then(|| text.len() - 1))
}

/// Splits `key: rest` (rest may be empty).
fn split_key(text: &str, number: usize) -> Result<(String, &str)> {
    let (key, after) = if text.starts_with('"') || text.starts_with('\'') {
        let end = quoted_end(text).ok_or_else(|| syntax(number, "an unclosed quote"))?;
        let key = unquote(&text[..end], number)?;
        let after = text[end..].trim_start();
        let after = after
            .strip_prefix(':')
            .ok_or_else(|| syntax(number, "a quoted key without `:` after it"))?;
        (key, after)
    } else {
        let end = plain_key_end(text).ok_or_else(|| syntax(number, "expected `key: value`"))?;
        let key = text[..end].trim_end();
        if key.starts_with(['{', '[', '&', '*', '!', '?', '|', '>']) {
            return Err(unsupported(number, &format!("the key `{key}`")));
        }
        (key.to_owned(), &text[end + 1..])
    };
    let rest = after.trim_start();
    let rest = if rest.starts_with('#') { "" } else { rest };
    Ok((key, rest))
}

/// The byte index just past the closing quote of a quoted scalar at the
/// start of `text`.
fn quoted_end(text: &str) -> Option<usize> {
    let quote = text.chars().next()?;
    let mut chars = text.char_indices().skip(1).peekable();
    while let Some((i, c)) = chars.next() {
        match (quote, c) {
            ('"', '\\') => {
                chars.next();
            }
            ('"', '"') => return Some(i + 1),
            ('\'', '\'') => {
                if matches!(chars.peek(), Some((_, '\''))) {
                    chars.next();
                } else {
                    return Some(i + 1);
                }
            }
            _ => {}
        }
    }
    None
}

fn unquote(quoted: &str, number: usize) -> Result<String> {
    let inner = &quoted[1..quoted.len() - 1];
    if quoted.starts_with('\'') {
        return Ok(inner.replace("''", "'"));
    }
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        let escaped = match chars.next() {
            Some('n') => '\n',
            Some('t') => '\t',
            Some('r') => '\r',
            Some('0') => '\0',
            Some('"') => '"',
            Some('\\') => '\\',
            Some('/') => '/',
            Some(' ') => ' ',
            Some(kind @ ('x' | 'u' | 'U')) => {
                let len = match kind {
                    'x' => 2,
                    'u' => 4,
                    _ => 8,
                };
                let hex: String = chars.by_ref().take(len).collect();
                u32::from_str_radix(&hex, 16)
                    .ok()
                    .filter(|_| hex.len() == len)
                    .and_then(char::from_u32)
                    .ok_or_else(|| {
                        syntax(number, &format!("the escape `\\{kind}{hex}` is not valid"))
                    })?
            }
            Some(other) => {
                return Err(unsupported(number, &format!("the escape `\\{other}`")));
            }
            None => return Err(syntax(number, "a `\\` at the end of a quoted value")),
        };
        out.push(escaped);
    }
    Ok(out)
}

/// A value on the same line as its key or list dash.
fn scalar(text: &str, number: usize) -> Result<Value> {
    if text.starts_with('"') || text.starts_with('\'') {
        let end = quoted_end(text)
            .ok_or_else(|| unsupported(number, "a quoted value that does not close on its line"))?;
        let after = text[end..].trim_start();
        if !(after.is_empty() || after.starts_with('#')) {
            return Err(syntax(number, "text after a quoted value"));
        }
        return Ok(Value::Scalar(unquote(&text[..end], number)?));
    }
    let what = match text.chars().next() {
        Some('{' | '[') => Some("a flow collection (`{…}` or `[…]`)"),
        Some('&' | '*') => Some("an anchor or alias"),
        Some('!') => Some("a tag (`!…`)"),
        Some('|' | '>') => Some("a block scalar (`|` or `>`)"),
        Some('@' | '`' | '%') => Some("a value starting with a reserved character"),
        _ => None,
    };
    if let Some(what) = what {
        return Err(unsupported(number, what));
    }
    let value = match text.find(" #") {
        Some(i) => text[..i].trim_end(),
        None => text,
    };
    if value.contains(": ") || value.ends_with(':') {
        return Err(unsupported(number, "a nested `key: value` on one line"));
    }
    Ok(match value {
        "~" | "null" | "Null" | "NULL" => Value::Null,
        _ => Value::Scalar(value.to_owned()),
    })
}

/// `text` as a YAML scalar: plain when that reads back as the same string,
/// double-quoted otherwise.
pub(crate) fn quote(text: &str) -> String {
    let plain_char = |c: char| c.is_ascii_alphanumeric() || " ._/-+=,@()".contains(c);
    let ambiguous = matches!(
        text.to_ascii_lowercase().as_str(),
        "" | "~" | "null" | "true" | "false" | "yes" | "no" | "on" | "off" | "y" | "n"
    ) || text.parse::<f64>().is_ok()
        || text.starts_with(['-', ' ', '@'])
        || text.ends_with(' ')
        || text.contains(": ")
        || text.contains(" #");
    if !ambiguous && text.chars().all(plain_char) {
        return text.to_owned();
    }
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(text: &str) -> Value {
        Value::Scalar(text.to_owned())
    }

    fn map(entries: &[(&str, Value)]) -> Value {
        Value::Map(
            entries
                .iter()
                .map(|(k, v)| ((*k).to_owned(), v.clone()))
                .collect(),
        )
    }

    #[test]
    fn reads_what_fn_init_writes() {
        let doc = "schema_version: 20180708\nname: hello\nversion: 0.0.1\nruntime: go\n\
                   build_image: fnproject/go:1.24-dev\nentrypoint: ./func\nmemory: 256\n\
                   triggers:\n- name: hello\n  type: http\n  source: /hello\n";
        let value = parse(doc).unwrap();
        let Value::Map(entries) = &value else {
            panic!("{value:?}")
        };
        assert_eq!(entries.len(), 8);
        assert_eq!(entries[1], ("name".into(), s("hello")));
        assert_eq!(
            entries[7].1,
            Value::List(vec![map(&[
                ("name", s("hello")),
                ("type", s("http")),
                ("source", s("/hello"))
            ])])
        );
    }

    #[test]
    fn nested_maps_lists_quotes_and_comments() {
        let doc = "# a comment\n---\nconfig:\n  A: \"x: y # z\"   # trailing\n  'B c': 'it''s'\n  \
                   C: plain # comment\n  D:\n  E: ~\nbuild:\n  - cargo fdk build\n  - \"echo \\\"hi\\\"\\n\"\n\
                   expects:\n  config:\n    - name: A\n      required: true\nlist_of_lists:\n-\n  - a\n";
        let value = parse(doc).unwrap();
        assert_eq!(
            value,
            map(&[
                (
                    "config",
                    map(&[
                        ("A", s("x: y # z")),
                        ("B c", s("it's")),
                        ("C", s("plain")),
                        ("D", Value::Null),
                        ("E", Value::Null),
                    ])
                ),
                (
                    "build",
                    Value::List(vec![s("cargo fdk build"), s("echo \"hi\"\n")])
                ),
                (
                    "expects",
                    map(&[(
                        "config",
                        Value::List(vec![map(&[("name", s("A")), ("required", s("true"))])])
                    )])
                ),
                (
                    "list_of_lists",
                    Value::List(vec![Value::List(vec![s("a")])])
                ),
            ])
        );
    }

    #[test]
    fn refuses_what_it_does_not_understand_with_the_line() {
        for (doc, line, what) in [
            ("a: {b: c}\n", 1, "flow collection"),
            ("a: [1, 2]\n", 1, "flow collection"),
            ("a: &x 1\nb: *x\n", 1, "anchor"),
            ("a: !!str 1\n", 1, "tag"),
            ("a: |\n  text\n", 1, "block scalar"),
            ("a: 1\n---\nb: 2\n", 2, "second document"),
            ("a:\n\tb: 1\n", 2, "tab"),
            ("a: b: c\n", 1, "nested"),
            ("a: \"open\n", 1, "does not close"),
        ] {
            let err = parse(doc).unwrap_err().to_string();
            assert!(err.starts_with(&format!("line {line}: ")), "{doc:?}: {err}");
            assert!(err.contains(what), "{doc:?}: {err}");
        }
        for (doc, line, what) in [
            ("a: 1\n  b: 2\n", 2, "indentation"),
            ("a: 1\na: 2\n", 2, "appears twice"),
            ("just text\n", 1, "expected `key: value`"),
            ("a:\n  - x\n  b: 1\n", 3, "indentation"),
        ] {
            let err = parse(doc).unwrap_err().to_string();
            assert!(err.starts_with(&format!("line {line}: ")), "{doc:?}: {err}");
            assert!(err.contains(what), "{doc:?}: {err}");
        }
    }

    #[test]
    fn quote_round_trips() {
        for text in [
            "hello",
            "0.0.1",
            "1.0",
            "true",
            "",
            "/hello",
            "a: b",
            "x #y",
            "-x",
            "it's",
            "say \"hi\"\n",
            "cargo fdk build --out .fn/func",
            " lead",
            "tab\there",
            "null",
        ] {
            let doc = format!("k: {}\n", quote(text));
            assert_eq!(parse(&doc).unwrap(), map(&[("k", s(text))]), "{doc}");
        }
        assert_eq!(quote("0.0.1"), "0.0.1");
        assert_eq!(quote("/hello"), "/hello");
        assert_eq!(quote("1.0"), "\"1.0\"");
    }
}
