//! JSON values one after another on stdin, for the `json` and `cloudevent`
//! formats (JSON-REQ-1, CE-REQ-1).
//!
//! The server writes one compact object and a newline per call. People
//! typing at a terminal write pretty-printed objects over several lines, so
//! a value may span lines; a parse is only tried once a newline (or the end
//! of the input) arrived, which keeps a 6 MiB body from being re-parsed
//! for every 64 KiB chunk.
//!
//! A request is held once (SIO-ERR-8): the reader only checks that the
//! bytes are one JSON value (`IgnoredAny`, which builds nothing) and hands
//! over the bytes themselves. The formats then read the small members with
//! serde and decode the body's string in place ([`unescape_in_place`]), so
//! the body the handler gets shares the request's buffer instead of being
//! a second (and, through serde's scratch buffer, a third) copy of it.

use std::future::Future;
use std::ops::Range;

use serde::de::IgnoredAny;

use super::{Input, Output, write_all};
use crate::error::Error;

/// The loop of the JSON-object formats: `respond` turns each value, or the
/// reason a request is not JSON, into one response line, which is written
/// before the next request is read. Ends at the end of the input (an error
/// if it ends inside a value) or at a stop signal between calls.
pub(crate) async fn serve<F>(
    input: Input,
    limit: usize,
    mut out: Output,
    shutdown: impl Future<Output = ()>,
    mut respond: F,
) -> Result<(), Error>
where
    F: AsyncFnMut(Result<Vec<u8>, String>) -> Vec<u8>,
{
    let mut objects = Objects::new(input, limit);
    tokio::pin!(shutdown);
    loop {
        let next = tokio::select! {
            biased;
            () = &mut shutdown => return Ok(()),
            next = objects.next() => next?,
        };
        let line = match next {
            Next::Value(value) => respond(Ok(value)).await,
            Next::Malformed(e) => respond(Err(format!("the request is not JSON: {e}"))).await,
            Next::TooLarge(e) => respond(Err(e)).await,
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
    /// The bytes of one complete JSON value.
    Value(Vec<u8>),
    /// Bytes that are not JSON; the rest of their line was skipped.
    Malformed(String),
    /// A request past the limit; the rest of its line is skipped.
    TooLarge(String),
    /// The input ended between values.
    End,
    /// The input ended inside a value.
    Truncated,
}

/// Reads JSON values from an [`Input`].
#[derive(Debug)]
pub(crate) struct Objects {
    input: Input,
    /// The largest request taken (SIO-ERR-5, SIO-ERR-8).
    limit: usize,
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
    pub(crate) fn new(input: Input, limit: usize) -> Self {
        Self {
            input,
            limit,
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
            if self.pending.len() > self.limit {
                // Larger than a request may be: refuse it, skip its line;
                // the buffer goes too, not just its contents.
                self.pending = Vec::new();
                self.discarding = !self.ended;
                self.tried_at = 0;
                return Ok(Next::TooLarge(format!(
                    "the request is larger than this function's limit of {} bytes \
                     (FDK_MAX_BODY)",
                    self.limit
                )));
            }
            if !self.discarding && !self.pending.is_empty() && self.ready {
                let mut values =
                    serde_json::Deserializer::from_slice(&self.pending).into_iter::<IgnoredAny>();
                match values.next() {
                    Some(Ok(IgnoredAny)) => {
                        let used = values.byte_offset();
                        // The value keeps the buffer; what follows it (at
                        // most a read's worth) moves to a new one.
                        let rest = self.pending.split_off(used);
                        let value = std::mem::replace(&mut self.pending, rest);
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

/// The top-level members of the JSON object `value`, in order, as (name,
/// where the member's value is); repeated names are all listed, so that
/// taking the last one behaves as `encoding/json` and `serde_json::Value`
/// do. Errors if `value` is not an object.
pub(crate) fn members(value: &[u8]) -> Result<Vec<(String, Range<usize>)>, String> {
    let skip_ws = |mut at: usize| {
        while value.get(at).is_some_and(u8::is_ascii_whitespace) {
            at += 1;
        }
        at
    };
    // One value starting at `at`: what it is, and where it ends.
    fn one<'a, T: serde::Deserialize<'a>>(
        value: &'a [u8],
        at: usize,
    ) -> Result<(T, usize), String> {
        let mut values = serde_json::Deserializer::from_slice(&value[at..]).into_iter::<T>();
        match values.next() {
            Some(Ok(v)) => Ok((v, at + values.byte_offset())),
            Some(Err(e)) => Err(e.to_string()),
            None => Err("unexpected end of the object".into()),
        }
    }
    let mut at = skip_ws(0);
    if value.get(at) != Some(&b'{') {
        return Err("the request is a JSON value but not an object".into());
    }
    let mut out = Vec::new();
    at = skip_ws(at + 1);
    if value.get(at) == Some(&b'}') {
        return Ok(out);
    }
    loop {
        let (name, end) = one::<String>(value, at)?;
        at = skip_ws(end);
        if value.get(at) != Some(&b':') {
            return Err(format!("no `:` after member {name:?}"));
        }
        let start = skip_ws(at + 1);
        let (IgnoredAny, end) = one::<IgnoredAny>(value, start)?;
        out.push((name, start..end));
        at = skip_ws(end);
        match value.get(at) {
            Some(b',') => at = skip_ws(at + 1),
            Some(b'}') => return Ok(out),
            _ => return Err("expected `,` or `}` in the object".into()),
        }
    }
}

/// Decodes the JSON string literal at `buf[span]` (quotes included) in
/// place: the text is written from `span.start` on, and its range is
/// returned. Every escape is at least as long as what it stands for, so
/// the writes never overtake the reads. A lone surrogate (`\ud800`)
/// becomes U+FFFD, as Go's `encoding/json` decodes it. Errors if the
/// literal is malformed or the text is not UTF-8.
pub(crate) fn unescape_in_place(
    buf: &mut [u8],
    span: Range<usize>,
) -> Result<Range<usize>, String> {
    let bad = || "the body is not a valid JSON string".to_owned();
    if span.len() < 2
        || span.end > buf.len()
        || buf[span.start] != b'"'
        || buf[span.end - 1] != b'"'
    {
        return Err(bad());
    }
    let end = span.end - 1;
    let mut read = span.start + 1;
    let mut write = span.start;
    let hex = |buf: &[u8], at: usize| -> Option<u32> {
        let digits = std::str::from_utf8(buf.get(at..at + 4)?).ok()?;
        u32::from_str_radix(digits, 16).ok()
    };
    while read < end {
        // Copy the run up to the next escape in one go.
        let run = buf[read..end]
            .iter()
            .position(|b| *b == b'\\')
            .unwrap_or(end - read);
        buf.copy_within(read..read + run, write);
        read += run;
        write += run;
        if read >= end {
            break;
        }
        let Some(&kind) = buf.get(read + 1).filter(|_| read + 1 < end) else {
            return Err(bad());
        };
        let (ch, used) = match kind {
            b'"' => ('"', 2),
            b'\\' => ('\\', 2),
            b'/' => ('/', 2),
            b'b' => ('\u{8}', 2),
            b'f' => ('\u{c}', 2),
            b'n' => ('\n', 2),
            b'r' => ('\r', 2),
            b't' => ('\t', 2),
            b'u' => {
                let first = hex(buf, read + 2)
                    .filter(|_| read + 6 <= end)
                    .ok_or_else(bad)?;
                let low = (buf.get(read + 6..read + 8) == Some(b"\\u") && read + 12 <= end)
                    .then(|| hex(buf, read + 8))
                    .flatten()
                    .filter(|low| (0xDC00..0xE000).contains(low));
                match (first, low) {
                    (0xD800..0xDC00, Some(low)) => {
                        let code = 0x10000 + ((first - 0xD800) << 10) + (low - 0xDC00);
                        (char::from_u32(code).ok_or_else(bad)?, 12)
                    }
                    _ => (char::from_u32(first).unwrap_or('\u{FFFD}'), 6),
                }
            }
            _ => return Err(bad()),
        };
        let mut utf8 = [0u8; 4];
        let encoded = ch.encode_utf8(&mut utf8).as_bytes();
        buf[write..write + encoded.len()].copy_from_slice(encoded);
        write += encoded.len();
        read += used;
    }
    std::str::from_utf8(&buf[span.start..write])
        .map_err(|e| format!("the body is not UTF-8: {e}"))?;
    Ok(span.start..write)
}

/// Removes the white space between the tokens of the JSON value at
/// `buf[span]` in place, and returns where the compact value now is: the
/// value as it was sent, in compact form, without building it (CE-REQ-2).
/// `span` must hold a valid JSON value.
pub(crate) fn compact_in_place(buf: &mut [u8], span: Range<usize>) -> Range<usize> {
    let mut write = span.start;
    let (mut in_string, mut escaped) = (false, false);
    for read in span.clone() {
        let b = buf[read];
        if in_string {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            }
        } else if b.is_ascii_whitespace() {
            continue;
        } else if b == b'"' {
            in_string = true;
        }
        buf[write] = b;
        write += 1;
    }
    span.start..write
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

    fn compact(value: &[u8]) -> String {
        serde_json::from_slice::<serde_json::Value>(value)
            .unwrap()
            .to_string()
    }

    async fn all(input: &str) -> Vec<String> {
        let input = Input::spawn(std::io::Cursor::new(input.as_bytes().to_vec())).unwrap();
        let mut objects = Objects::new(input, 1 << 20);
        let mut seen = Vec::new();
        loop {
            match objects.next().await.unwrap() {
                Next::Value(v) => seen.push(compact(&v)),
                Next::Malformed(_) | Next::TooLarge(_) => seen.push("malformed".into()),
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
        let mut objects = Objects::new(Input::spawn(parts).unwrap(), 1 << 20);
        let mut seen = Vec::new();
        loop {
            match objects.next().await.unwrap() {
                Next::Value(v) => seen.push(compact(&v)),
                Next::Malformed(_) | Next::TooLarge(_) => seen.push("malformed".into()),
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
        let mut objects = Objects::new(Input::spawn(pipe).unwrap(), 1 << 20);
        let next = tokio::time::timeout(std::time::Duration::from_secs(5), objects.next())
            .await
            .expect("the object was held back waiting for a newline")
            .unwrap();
        assert!(matches!(next, Next::Value(v) if v == b"{\"a\":1}"));
        release.send(()).unwrap();
        assert!(matches!(objects.next().await.unwrap(), Next::End));
    }

    #[tokio::test]
    async fn the_end_inside_a_value_is_truncation() {
        assert_eq!(all("{\"a\":1}\n{\"b\":").await, ["{\"a\":1}", "truncated"]);
        assert_eq!(all("{\"a\":1}").await, ["{\"a\":1}"]);
        assert!(all("").await.is_empty());
    }

    #[tokio::test]
    async fn a_request_past_the_limit_is_refused_and_the_next_one_served() {
        let big = format!("{{\"body\":\"{}\"}}\n{{\"ok\":1}}\n", "x".repeat(300_000));
        let input = Input::spawn(std::io::Cursor::new(big.into_bytes())).unwrap();
        let mut objects = Objects::new(input, 100_000);
        assert!(matches!(objects.next().await.unwrap(), Next::TooLarge(m) if m.contains("100000")));
        assert!(matches!(objects.next().await.unwrap(), Next::Value(v) if v == b"{\"ok\":1}"));
    }

    #[test]
    fn values_compact_in_place_keeping_strings() {
        let mut buf = b"x { \"a b\" : [ 1 , \"c \\\" d\" ] ,\n\"e\":{ } } y".to_vec();
        let len = buf.len();
        let span = compact_in_place(&mut buf, 1..len - 1);
        assert_eq!(&buf[span], br#"{"a b":[1,"c \" d"],"e":{}}"#);
    }

    #[test]
    fn members_are_listed_in_order_with_their_spans() {
        let v = br#" { "a" : 1 , "b\u0063": {"x": [1, "}"]}, "a": null } "#;
        let m = members(v).unwrap();
        let got: Vec<(&str, &[u8])> = m.iter().map(|(k, r)| (k.as_str(), &v[r.clone()])).collect();
        assert_eq!(
            got,
            [
                ("a", &b"1"[..]),
                ("bc", br#"{"x": [1, "}"]}"#),
                ("a", b"null")
            ]
        );
        assert!(members(b"{}").unwrap().is_empty());
        for bad in [&b"[1]"[..], b"\"x\"", b"{\"a\" 1}", b"{\"a\":1 \"b\":2}"] {
            assert!(members(bad).is_err(), "{}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn strings_decode_in_place_as_serde_json_decodes_them() {
        for text in [
            "",
            "plain",
            "{\"name\":\"Jo\"}",
            "tab\tnew\nline\r\u{8}\u{c}/\\",
            "<&> é 漢字 🦀",
            "\u{0}\u{1f}",
        ] {
            // serde_json escapes control characters and quotes; Go also
            // escapes <, > and & as \u003c…, and `/` may come as `\/`.
            let mut lit = serde_json::to_string(text).unwrap();
            lit = lit
                .replace('<', "\\u003c")
                .replace('&', "\\u0026")
                .replace('/', "\\/");
            lit = lit.replace('🦀', "\\ud83e\\udd80");
            let mut buf = format!("xx{lit}yy").into_bytes();
            let span = unescape_in_place(&mut buf, 2..2 + lit.len()).unwrap();
            assert_eq!(std::str::from_utf8(&buf[span]).unwrap(), text, "{lit}");
        }
        let mut lone = br#""a\ud800b""#.to_vec();
        let len = lone.len();
        let span = unescape_in_place(&mut lone, 0..len).unwrap();
        assert_eq!(std::str::from_utf8(&lone[span]).unwrap(), "a\u{FFFD}b");
        for bad in [&br#""\x""#[..], br#""\u12""#, br#""abc"#, b"\"\xff\""] {
            let mut buf = bad.to_vec();
            let len = buf.len();
            assert!(
                unescape_in_place(&mut buf, 0..len).is_err(),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
    }
}
