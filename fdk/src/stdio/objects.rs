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
use crate::protocol::MAX_BODY_BYTES;

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
    /// Worth a parse: a newline, a closing brace or the end arrived since
    /// the last incomplete parse.
    ready: bool,
    /// How long `pending` was at the last incomplete parse: the next try
    /// waits for twice that, so a value spread over many lines is parsed a
    /// logarithmic number of times, not once per line.
    tried_at: usize,
    /// The rest of a malformed line is still to come: drop it up to its
    /// newline, whichever read it arrives in.
    discarding: bool,
    ended: bool,
}

impl Objects {
    pub(crate) fn new(input: Input) -> Self {
        Self {
            input,
            pending: Vec::new(),
            ready: false,
            tried_at: 0,
            discarding: false,
            ended: false,
        }
    }

    /// The next value, or why there is none.
    pub(crate) async fn next(&mut self) -> Result<Next, Error> {
        loop {
            if self.discarding {
                match self.pending.iter().position(|b| *b == b'\n') {
                    Some(end) => {
                        self.pending.drain(..=end);
                        self.discarding = false;
                    }
                    None => self.pending.clear(),
                }
            }
            let start = self
                .pending
                .iter()
                .position(|b| !b.is_ascii_whitespace())
                .unwrap_or(self.pending.len());
            self.pending.drain(..start);
            if self.pending.is_empty() && self.ended {
                return Ok(Next::End);
            }
            if self.pending.len() > MAX_BODY_BYTES {
                // Larger than any request can be: refuse it, skip its line.
                self.pending.clear();
                self.discarding = !self.ended;
                self.tried_at = 0;
                return Ok(Next::Malformed(format!(
                    "the request is larger than {MAX_BODY_BYTES} bytes"
                )));
            }
            if !self.discarding && !self.pending.is_empty() && self.ready {
                let mut values =
                    serde_json::Deserializer::from_slice(&self.pending).into_iter::<Value>();
                match values.next() {
                    Some(Ok(value)) => {
                        let used = values.byte_offset();
                        self.pending.drain(..used);
                        self.tried_at = 0;
                        return Ok(Next::Value(value));
                    }
                    Some(Err(e)) if e.is_eof() => {
                        if self.ended {
                            self.pending.clear();
                            return Ok(Next::Truncated);
                        }
                        self.ready = false;
                        self.tried_at = self.pending.len();
                    }
                    Some(Err(e)) => {
                        let skip = end_of_line(&self.pending, e.line());
                        // No newline after the error yet: the line goes on
                        // in a later read, and is dropped there too.
                        self.discarding = skip == self.pending.len()
                            && self.pending.last() != Some(&b'\n')
                            && !self.ended;
                        self.pending.drain(..skip);
                        self.tried_at = 0;
                        return Ok(Next::Malformed(e.to_string()));
                    }
                    None => self.pending.clear(),
                }
            }
            if !self.ended {
                match self.input.chunk().await {
                    Some(Ok(chunk)) => {
                        self.pending.extend_from_slice(&chunk);
                        // A newline may end a value; so may a closing brace
                        // at the end of a read (an object written without
                        // one, to a pipe that stays open).
                        let worth =
                            chunk.contains(&b'\n') || chunk.trim_ascii_end().ends_with(b"}");
                        self.ready |= worth && self.pending.len() >= 2 * self.tried_at;
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

    /// Reads `parts` as separate chunks of the stream.
    async fn chunked(parts: &[&[u8]]) -> Vec<String> {
        struct Parts(std::collections::VecDeque<Vec<u8>>);
        impl std::io::Read for Parts {
            fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
                let Some(part) = self.0.pop_front() else {
                    return Ok(0);
                };
                buf[..part.len()].copy_from_slice(&part);
                Ok(part.len())
            }
        }
        let parts = Parts(parts.iter().map(|p| p.to_vec()).collect());
        let mut objects = Objects::new(Input::spawn(parts).unwrap());
        let mut seen = Vec::new();
        loop {
            match objects.next().await.unwrap() {
                Next::Value(v) => seen.push(v.to_string()),
                Next::Malformed(_) => seen.push("malformed".into()),
                Next::Truncated => seen.push("truncated".into()),
                Next::End => return seen,
            }
        }
    }

    #[tokio::test]
    async fn a_malformed_line_split_across_reads_is_one_error() {
        assert_eq!(
            chunked(&[b"{\"body\": nope, \"pad\":\"yy", b"yy}\n{\"ok\":1}\n"]).await,
            ["malformed", "{\"ok\":1}"]
        );
    }

    #[tokio::test]
    async fn an_object_without_a_newline_is_answered_at_its_brace() {
        // stdin stays open after the object, with no newline: the value
        // must come out without waiting for more input.
        struct OpenPipe {
            first: Option<Vec<u8>>,
            release: std::sync::mpsc::Receiver<()>,
        }
        impl std::io::Read for OpenPipe {
            fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
                if let Some(first) = self.first.take() {
                    buf[..first.len()].copy_from_slice(&first);
                    return Ok(first.len());
                }
                let _ = self.release.recv();
                Ok(0)
            }
        }
        let (release, wait) = std::sync::mpsc::channel();
        let pipe = OpenPipe {
            first: Some(b"{\"a\":1}".to_vec()),
            release: wait,
        };
        let mut objects = Objects::new(Input::spawn(pipe).unwrap());
        let next = tokio::time::timeout(std::time::Duration::from_secs(5), objects.next())
            .await
            .expect("the object was held back waiting for a newline")
            .unwrap();
        assert!(matches!(next, Next::Value(v) if v == serde_json::json!({"a": 1})));
        release.send(()).unwrap();
        assert!(matches!(objects.next().await.unwrap(), Next::End));
    }

    #[tokio::test]
    async fn the_end_inside_a_value_is_truncation() {
        assert_eq!(all("{\"a\":1}\n{\"b\":").await, ["{\"a\":1}", "truncated"]);
        assert_eq!(all("{\"a\":1}").await, ["{\"a\":1}"]);
        assert!(all("").await.is_empty());
    }
}
