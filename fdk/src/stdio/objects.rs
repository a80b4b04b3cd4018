//! JSON values one after another on stdin, for the `json` and `cloudevent`
//! formats (JSON-REQ-1, CE-REQ-1).
//!
//! The server writes one compact object and a newline per call. People
//! typing at a terminal write pretty-printed objects over several lines, so
//! a value may span lines; a parse is only tried once a newline (or the end
//! of the input) arrived, which keeps a 6 MiB body from being re-parsed
//! for every 64 KiB chunk.

use std::future::Future;

use serde_json::Value;

use super::{Input, Output, write_all};
use crate::error::Error;

/// The loop of the JSON-object formats: `respond` turns each value, or the
/// reason a request is not JSON, into one response line, which is written
/// before the next request is read. Ends at the end of the input (an error
/// if it ends inside a value) or at a stop signal between calls.
pub(crate) async fn serve<F>(
    input: Input,
    mut out: Output,
    shutdown: impl Future<Output = ()>,
    mut respond: F,
) -> Result<(), Error>
where
    F: AsyncFnMut(Result<Value, String>) -> Vec<u8>,
{
    let mut objects = Objects::new(input);
    tokio::pin!(shutdown);
    loop {
        let next = tokio::select! {
            biased;
            () = &mut shutdown => return Ok(()),
            next = objects.next() => next?,
        };
        let line = match next {
            Next::Value(value) => respond(Ok(value)).await,
            Next::Malformed(e) => respond(Err(e)).await,
            Next::End => return Ok(()),
            Next::Truncated => {
                return Err(Error::input("stdin ended in the middle of a request"));
            }
        };
        write_all(&mut out, &line)?;
    }
}

/// What the next request on the stream is.
#[derive(Debug)]
pub(crate) enum Next {
    /// A complete JSON value.
    Value(Value),
    /// Bytes that are not JSON; the rest of their line was skipped.
    Malformed(String),
    /// The input ended between values.
    End,
    /// The input ended inside a value.
    Truncated,
}

/// Reads JSON values from an [`Input`].
#[derive(Debug)]
pub(crate) struct Objects {
    input: Input,
    pending: Vec<u8>,
    /// A newline (or the end) arrived since the last incomplete parse.
    ready: bool,
    ended: bool,
}

impl Objects {
    pub(crate) fn new(input: Input) -> Self {
        Self {
            input,
            pending: Vec::new(),
            ready: false,
            ended: false,
        }
    }

    /// The next value, or why there is none.
    pub(crate) async fn next(&mut self) -> Result<Next, Error> {
        loop {
            let start = self
                .pending
                .iter()
                .position(|b| !b.is_ascii_whitespace())
                .unwrap_or(self.pending.len());
            self.pending.drain(..start);
            if self.pending.is_empty() && self.ended {
                return Ok(Next::End);
            }
            if !self.pending.is_empty() && self.ready {
                let mut values =
                    serde_json::Deserializer::from_slice(&self.pending).into_iter::<Value>();
                match values.next() {
                    Some(Ok(value)) => {
                        let used = values.byte_offset();
                        self.pending.drain(..used);
                        return Ok(Next::Value(value));
                    }
                    Some(Err(e)) if e.is_eof() => {
                        if self.ended {
                            self.pending.clear();
                            return Ok(Next::Truncated);
                        }
                        self.ready = false;
                    }
                    Some(Err(e)) => {
                        let skip = end_of_line(&self.pending, e.line());
                        self.pending.drain(..skip);
                        return Ok(Next::Malformed(e.to_string()));
                    }
                    None => self.pending.clear(),
                }
            }
            if !self.ended {
                match self.input.chunk().await {
                    Some(Ok(chunk)) => {
                        self.ready |= chunk.contains(&b'\n');
                        self.pending.extend_from_slice(&chunk);
                    }
                    Some(Err(e)) => {
                        return Err(Error::input(format!("failed to read stdin: {e}")));
                    }
                    None => {
                        self.ended = true;
                        self.ready = true;
                    }
                }
            }
        }
    }
}

/// The offset just past line `line` (1-based) of `bytes`.
fn end_of_line(bytes: &[u8], line: usize) -> usize {
    bytes
        .iter()
        .enumerate()
        .filter(|(_, b)| **b == b'\n')
        .nth(line.saturating_sub(1))
        .map_or(bytes.len(), |(i, _)| i + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn all(input: &str) -> Vec<String> {
        let input = Input::spawn(std::io::Cursor::new(input.as_bytes().to_vec())).unwrap();
        let mut objects = Objects::new(input);
        let mut seen = Vec::new();
        loop {
            match objects.next().await.unwrap() {
                Next::Value(v) => seen.push(v.to_string()),
                Next::Malformed(_) => seen.push("malformed".into()),
                Next::Truncated => {
                    seen.push("truncated".into());
                    return seen;
                }
                Next::End => return seen,
            }
        }
    }

    #[tokio::test]
    async fn compact_lines_pretty_objects_and_whitespace() {
        assert_eq!(
            all("{\"a\":1}\n\n  {\n  \"b\": [1,\n 2]\n}\n{\"c\":3}{\"d\":4}\n").await,
            ["{\"a\":1}", "{\"b\":[1,2]}", "{\"c\":3}", "{\"d\":4}"]
        );
    }

    #[tokio::test]
    async fn a_malformed_line_is_skipped_and_the_next_one_served() {
        assert_eq!(
            all("{not json}\n{\"ok\":true}\n").await,
            ["malformed", "{\"ok\":true}"]
        );
    }

    #[tokio::test]
    async fn the_end_inside_a_value_is_truncation() {
        assert_eq!(all("{\"a\":1}\n{\"b\":").await, ["{\"a\":1}", "truncated"]);
        assert_eq!(all("{\"a\":1}").await, ["{\"a\":1}"]);
        assert!(all("").await.is_empty());
    }
}
