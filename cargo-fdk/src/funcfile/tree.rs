//! func.yaml as a tree of values, read with `yaml-rust2` at the event level.
//!
//! The crate's own `Yaml` values resolve scalars by the YAML 1.2 core
//! schema (`010` is 10, `yes` is text), but `fn` reads func.yaml with Go's
//! `gopkg.in/yaml.v2` into typed fields, and a string field takes a
//! scalar's text as written, whatever it looks like (`version: 1.10` is
//! `"1.10"`, `name: yes` is `"yes"`). So every scalar keeps its text and
//! whether it was plain (unquoted, untagged); the reader of a key decides
//! its type, as the Go struct does (see [`super::FuncFile`]).

use std::collections::HashMap;

use yaml_rust2::parser::{Event, Parser, Tag};
use yaml_rust2::scanner::{Marker, TScalarStyle};

use crate::error::{Error, Result};

/// How deep collections may nest: far past any func.yaml, and short of
/// what the recursive reader below could not handle.
const MAX_DEPTH: usize = 64;
/// How many values aliases may add in all (each use of an alias copies its
/// anchor's value): a small file cannot expand into gigabytes.
const MAX_ALIAS_NODES: usize = 100_000;

/// A parsed value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Value {
    /// Nothing: `key:` with no value, or a plain `~`/`null`/`Null`/`NULL`.
    Null,
    /// A scalar's text, with `plain` true when it was neither quoted nor a
    /// block scalar nor tagged `!!str`: only a plain scalar can be a number
    /// (yaml.v2 reads a quoted `"30"` as text).
    Scalar {
        /// The text as written (quotes and escapes resolved).
        text: String,
        /// Unquoted and untagged.
        plain: bool,
    },
    /// Keys in file order (a key given twice is refused).
    Map(Vec<(String, Value)>),
    /// Items in file order.
    List(Vec<Value>),
}

impl Value {
    /// A short name for messages.
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Value::Null => "nothing",
            Value::Scalar { .. } => "a single value",
            Value::Map(_) => "a map",
            Value::List(_) => "a list",
        }
    }
}

/// Parses the first document of `source` (as yaml.v2's `Unmarshal` reads
/// only the first). An empty document is [`Value::Null`].
pub(crate) fn parse(source: &str) -> Result<Value> {
    let mut reader = Reader {
        parser: Parser::new_from_str(source),
        anchors: HashMap::new(),
        alias_nodes: 0,
    };
    loop {
        let (event, mark) = reader.next()?;
        match event {
            Event::StreamStart | Event::DocumentStart | Event::Nothing => {}
            Event::StreamEnd | Event::DocumentEnd => return Ok(Value::Null),
            event => return reader.value(event, mark, 0),
        }
    }
}

struct Reader<'a> {
    parser: Parser<std::str::Chars<'a>>,
    /// Anchored values by the parser's anchor id, for aliases.
    anchors: HashMap<usize, Value>,
    /// Values added by aliases so far.
    alias_nodes: usize,
}

impl Reader<'_> {
    fn next(&mut self) -> Result<(Event, Marker)> {
        self.parser.next_token().map_err(|e| {
            let mark = e.marker();
            Error::new(format!(
                "line {}, column {}: {}",
                mark.line(),
                mark.col() + 1,
                e.info()
            ))
        })
    }

    /// The value that starts with `event`.
    fn value(&mut self, event: Event, mark: Marker, depth: usize) -> Result<Value> {
        if depth > MAX_DEPTH {
            return Err(at(
                mark,
                format!("nested more than {MAX_DEPTH} levels deep"),
            ));
        }
        let (value, anchor) = match event {
            Event::Scalar(text, style, anchor, tag) => (scalar(text, style, tag.as_ref()), anchor),
            Event::Alias(id) => {
                let value = self
                    .anchors
                    .get(&id)
                    .cloned()
                    .ok_or_else(|| at(mark, "an alias to an unknown anchor".to_owned()))?;
                self.alias_nodes = self.alias_nodes.saturating_add(size(&value));
                if self.alias_nodes > MAX_ALIAS_NODES {
                    return Err(at(
                        mark,
                        format!("aliases expand to more than {MAX_ALIAS_NODES} values"),
                    ));
                }
                return Ok(value);
            }
            Event::SequenceStart(anchor, _) => {
                let mut items = Vec::new();
                loop {
                    let (event, mark) = self.next()?;
                    if event == Event::SequenceEnd {
                        break;
                    }
                    items.push(self.value(event, mark, depth + 1)?);
                }
                (Value::List(items), anchor)
            }
            Event::MappingStart(anchor, _) => (self.map(depth)?, anchor),
            other => {
                return Err(at(mark, format!("unexpected {other:?}")));
            }
        };
        // The parser numbers anchors from 1; 0 is none.
        if anchor != 0 {
            self.anchors.insert(anchor, value.clone());
        }
        Ok(value)
    }

    /// A mapping's entries, up to its end. `<<` merges another map's
    /// entries (a YAML 1.1 merge key, which yaml.v2 supports): the keys
    /// written in the map itself win.
    fn map(&mut self, depth: usize) -> Result<Value> {
        let mut own: Vec<(String, Value)> = Vec::new();
        let mut merged: Vec<(String, Value)> = Vec::new();
        loop {
            let (event, mark) = self.next()?;
            if event == Event::MappingEnd {
                break;
            }
            let is_merge =
                matches!(&event, Event::Scalar(t, TScalarStyle::Plain, _, None) if t == "<<");
            let key = match self.value(event, mark, depth + 1)? {
                Value::Null => String::new(),
                Value::Scalar { text, .. } => text,
                other => {
                    return Err(at(
                        mark,
                        format!("a map key must be a single value, found {}", other.kind()),
                    ));
                }
            };
            let (event, value_mark) = self.next()?;
            let value = self.value(event, value_mark, depth + 1)?;
            if is_merge {
                let maps = match value {
                    Value::Map(entries) => vec![entries],
                    Value::List(items) => items
                        .into_iter()
                        .map(|item| match item {
                            Value::Map(entries) => Ok(entries),
                            other => Err(other),
                        })
                        .collect::<std::result::Result<_, _>>()
                        .map_err(|other| {
                            at(
                                value_mark,
                                format!("`<<` merges maps, found {}", other.kind()),
                            )
                        })?,
                    other => {
                        return Err(at(
                            value_mark,
                            format!("`<<` merges maps, found {}", other.kind()),
                        ));
                    }
                };
                for (k, v) in maps.into_iter().flatten() {
                    if !merged.iter().any(|(m, _)| *m == k) {
                        merged.push((k, v));
                    }
                }
                continue;
            }
            if own.iter().any(|(k, _)| *k == key) {
                return Err(at(mark, format!("`{key}` is given twice")));
            }
            own.push((key, value));
        }
        for (k, v) in merged {
            if !own.iter().any(|(o, _)| *o == k) {
                own.push((k, v));
            }
        }
        Ok(Value::Map(own))
    }
}

/// One scalar as yaml.v2 sees it: a plain `~`, `null`, `Null`, `NULL` or
/// nothing is null (YAML 1.1 and 1.2 agree there); `!!null` is null and
/// `!!str` is text whatever it looks like.
fn scalar(text: String, style: TScalarStyle, tag: Option<&Tag>) -> Value {
    let core = |name: &str| {
        tag.is_some_and(|t| {
            (t.handle == "!!" || t.handle == "tag:yaml.org,2002:") && t.suffix == name
        })
    };
    let plain = style == TScalarStyle::Plain && tag.is_none();
    if core("null") || (plain && matches!(text.as_str(), "" | "~" | "null" | "Null" | "NULL")) {
        return Value::Null;
    }
    Value::Scalar {
        plain: plain && !core("str"),
        text,
    }
}

/// How many values `value` holds, itself included.
fn size(value: &Value) -> usize {
    match value {
        Value::Null | Value::Scalar { .. } => 1,
        Value::Map(entries) => 1 + entries.iter().map(|(_, v)| size(v)).sum::<usize>(),
        Value::List(items) => 1 + items.iter().map(size).sum::<usize>(),
    }
}

fn at(mark: Marker, what: String) -> Error {
    Error::new(format!(
        "line {}, column {}: {what}",
        mark.line(),
        mark.col() + 1
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(text: &str) -> Value {
        Value::Scalar {
            text: text.to_owned(),
            plain: true,
        }
    }

    fn q(text: &str) -> Value {
        Value::Scalar {
            text: text.to_owned(),
            plain: false,
        }
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
    fn scalars_keep_their_text() {
        assert_eq!(
            parse("a: 010\nb: yes\nc: 1.10\nd: '30'\ne: ~\nf:\ng: !!str 5\nh: \"null\"\n").unwrap(),
            map(&[
                ("a", s("010")),
                ("b", s("yes")),
                ("c", s("1.10")),
                ("d", q("30")),
                ("e", Value::Null),
                ("f", Value::Null),
                ("g", q("5")),
                ("h", q("null")),
            ])
        );
    }

    #[test]
    fn flow_block_anchors_and_merges() {
        let text = "base: &b {x: 1, y: [a, b]}\nlit: |\n  one\n  two\nfold: >-\n  one\n  two\n\
                    copy: *b\nmerged:\n  <<: *b\n  x: 2\n";
        assert_eq!(
            parse(text).unwrap(),
            map(&[
                (
                    "base",
                    map(&[("x", s("1")), ("y", Value::List(vec![s("a"), s("b")]))])
                ),
                ("lit", q("one\ntwo\n")),
                ("fold", q("one two")),
                (
                    "copy",
                    map(&[("x", s("1")), ("y", Value::List(vec![s("a"), s("b")]))])
                ),
                (
                    "merged",
                    map(&[("x", s("2")), ("y", Value::List(vec![s("a"), s("b")]))])
                ),
            ])
        );
    }

    #[test]
    fn only_the_first_document_is_read() {
        assert_eq!(parse("").unwrap(), Value::Null);
        assert_eq!(parse("# only a comment\n").unwrap(), Value::Null);
        assert_eq!(
            parse("%YAML 1.2\n---\na: 1\n...\n---\nb: 2\n").unwrap(),
            map(&[("a", s("1"))])
        );
    }

    #[test]
    fn bad_input_is_an_error_with_its_place() {
        for (text, want) in [
            ("a: 1\na: 2\n", "line 2, column 1: `a` is given twice"),
            ("a: [1, 2\n", "line 2"),
            ("a: *nope\n", "line 1, column 4"),
            ("? [a]\n: b\n", "a map key must be a single value"),
            ("a:\n\t- b\n", "line 2"),
            ("a: 1\n<<: [x]\n", "`<<` merges maps"),
        ] {
            let err = parse(text).unwrap_err().to_string();
            assert!(err.contains(want), "{text:?}: {err}");
        }
        let deep = format!("a: {}{}\n", "[".repeat(200), "]".repeat(200));
        let err = parse(&deep).unwrap_err().to_string();
        assert!(err.contains("nested more than 64"), "{err}");
        // A billion laughs: refused long before it is built.
        let mut bomb = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..10 {
            let prev = format!("*l{}", i - 1).replace("*l0", "*a");
            bomb.push_str(&format!("l{i}: &l{i} [{}]\n", vec![prev; 10].join(", ")));
        }
        let err = parse(&bomb).unwrap_err().to_string();
        assert!(err.contains("aliases expand"), "{err}");
    }
}
