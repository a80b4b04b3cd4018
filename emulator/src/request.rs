//! The bytes of a call as the server sends them on the socket.
//!
//! The server's Go HTTP client writes the head in a fixed order (captures
//! README, "Request head order on the socket"):
//!
//! 1. `POST /call HTTP/1.1`, then `Host: localhost`;
//! 2. `User-Agent` (the client's for `/invoke`, `Go-http-client/1.1` for triggers);
//! 3. the framing: `Content-Length: 0` for an empty body, otherwise
//!    `Transfer-Encoding: chunked`;
//! 4. every other header sorted by name (a repeated header keeps its values in
//!    order on separate lines), `Fn-Call-Id` and `Fn-Deadline` among them;
//! 5. `Accept-Encoding: gzip` last, unless the headers carry their own
//!    `Accept-Encoding`, which is then sorted with the rest.
//!
//! A non-empty body goes out as one chunk followed by the last chunk.
//! [`RequestTemplate`] renders that order once; each call only fills in its
//! `Fn-Call-Id` and `Fn-Deadline`.

use std::time::{SystemTime, UNIX_EPOCH};

/// The `User-Agent` the server sends for trigger calls (and the bench's default).
pub const GO_USER_AGENT: &str = "Go-http-client/1.1";

use crate::wire::{CALL_ID, DEADLINE};

/// A call's head and body with holes for `Fn-Call-Id` and `Fn-Deadline`.
#[derive(Debug, Clone)]
pub struct RequestTemplate {
    /// Bytes up to the `Fn-Call-Id` line.
    before_call_id: Vec<u8>,
    /// Header lines sorted between `Fn-Call-Id` and `Fn-Deadline`.
    between: Vec<u8>,
    /// The remaining header lines, the blank line and the framed body.
    after_deadline: Vec<u8>,
}

impl RequestTemplate {
    /// Builds the template for a call with this `User-Agent`, these client
    /// headers and this body.
    ///
    /// Header names are compared byte-wise, so pass them in Go's canonical
    /// case (`Content-Type`, `Fn-Http-H-Accept`). Any `Fn-Call-Id` or
    /// `Fn-Deadline` among `headers` is dropped: the server overwrites them.
    pub fn new(user_agent: &str, headers: &[(&str, &str)], body: &[u8]) -> Self {
        let raw: Vec<(&str, &[u8])> = headers
            .iter()
            .map(|(name, value)| (*name, value.as_bytes()))
            .collect();
        Self::with_raw_values(user_agent, &raw, body)
    }

    /// [`RequestTemplate::new`] with header values as bytes, which need not
    /// be UTF-8: Go's client writes a value's bytes as they are.
    pub fn with_raw_values(user_agent: &str, headers: &[(&str, &[u8])], body: &[u8]) -> Self {
        let mut sorted: Vec<(&str, &[u8])> = headers
            .iter()
            .copied()
            .filter(|(name, _)| {
                !name.eq_ignore_ascii_case(CALL_ID) && !name.eq_ignore_ascii_case(DEADLINE)
            })
            .collect();
        // Stable: a repeated header keeps its values in the caller's order.
        sorted.sort_by(|a, b| a.0.cmp(b.0));
        let has_accept_encoding = sorted
            .iter()
            .any(|(name, _)| name.eq_ignore_ascii_case("Accept-Encoding"));

        let mut before_call_id = Vec::with_capacity(256);
        before_call_id.extend_from_slice(b"POST /call HTTP/1.1\r\nHost: localhost\r\n");
        push_header(&mut before_call_id, "User-Agent", user_agent.as_bytes());
        if body.is_empty() {
            push_header(&mut before_call_id, "Content-Length", b"0");
        } else {
            push_header(&mut before_call_id, "Transfer-Encoding", b"chunked");
        }
        let mut between = Vec::new();
        let mut after_deadline = Vec::with_capacity(body.len() + 64);
        for (name, value) in sorted {
            let part = if name < CALL_ID {
                &mut before_call_id
            } else if name < DEADLINE {
                &mut between
            } else {
                &mut after_deadline
            };
            push_header(part, name, value);
        }
        if !has_accept_encoding {
            push_header(&mut after_deadline, "Accept-Encoding", b"gzip");
        }
        after_deadline.extend_from_slice(b"\r\n");
        if !body.is_empty() {
            after_deadline.extend_from_slice(format!("{:x}\r\n", body.len()).as_bytes());
            after_deadline.extend_from_slice(body);
            after_deadline.extend_from_slice(b"\r\n0\r\n\r\n");
        }
        Self {
            before_call_id,
            between,
            after_deadline,
        }
    }

    /// Writes one call's bytes into `out` (cleared first).
    pub fn render(&self, call_id: &str, deadline: &str, out: &mut Vec<u8>) {
        out.clear();
        out.extend_from_slice(&self.before_call_id);
        push_header(out, CALL_ID, call_id.as_bytes());
        out.extend_from_slice(&self.between);
        push_header(out, DEADLINE, deadline.as_bytes());
        out.extend_from_slice(&self.after_deadline);
    }

    /// Writes one call's bytes into `out` (cleared first) with no
    /// `Fn-Deadline` at all, which the server never does: for the cases that
    /// check an FDK copes without one (HS-DL-2).
    pub(crate) fn render_without_deadline(&self, call_id: &str, out: &mut Vec<u8>) {
        out.clear();
        out.extend_from_slice(&self.before_call_id);
        push_header(out, CALL_ID, call_id.as_bytes());
        out.extend_from_slice(&self.between);
        out.extend_from_slice(&self.after_deadline);
    }
}

fn push_header(out: &mut Vec<u8>, name: &str, value: &[u8]) {
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(b": ");
    out.extend_from_slice(value);
    out.extend_from_slice(b"\r\n");
}

/// Hands out call IDs shaped like the server's (26 Crockford base-32
/// characters, ULID-like: e.g. `01M8CTNWSBFW0000A6M0000004`), unique within a
/// run and, through the process ID, across concurrent runs.
#[derive(Debug, Clone)]
pub struct CallIds {
    prefix: String,
    next: u64,
}

impl CallIds {
    /// Starts a sequence stamped with the current time and this process's ID.
    pub fn new() -> Self {
        let millis = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis())
            .unwrap_or(0);
        // 48 bits of milliseconds in 10 characters, then 32 bits of PID in 7.
        let prefix = format!(
            "{}{}",
            crockford(u64::try_from(millis).unwrap_or(0) & 0xFFFF_FFFF_FFFF, 10),
            crockford(u64::from(std::process::id()), 7)
        );
        Self { prefix, next: 0 }
    }

    /// The next ID: the prefix, then a 9-character counter.
    pub fn next_id(&mut self) -> String {
        self.next += 1;
        format!("{}{}", self.prefix, crockford(self.next, 9))
    }
}

impl Default for CallIds {
    fn default() -> Self {
        Self::new()
    }
}

/// The low `5 * width` bits of `value` in Crockford base 32, most significant first.
fn crockford(value: u64, width: u32) -> String {
    const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    (0..width)
        .rev()
        .map(|i| {
            let digit = value.checked_shr(5 * i).unwrap_or(0) & 31;
            char::from(ALPHABET[digit as usize])
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(template: &RequestTemplate, call_id: &str, deadline: &str) -> String {
        let mut out = Vec::new();
        template.render(call_id, deadline, &mut out);
        String::from_utf8(out).unwrap()
    }

    /// Capture a-invoke-json, `function_received.raw`.
    #[test]
    fn invoke_with_body_matches_capture() {
        let template = RequestTemplate::new(
            "curl/7.88.1",
            &[("Content-Type", "application/json"), ("Accept", "*/*")],
            br#"{"name":"Jimmy"}"#,
        );
        let expected = "POST /call HTTP/1.1\r\nHost: localhost\r\nUser-Agent: curl/7.88.1\r\n\
            Transfer-Encoding: chunked\r\nAccept: */*\r\nContent-Type: application/json\r\n\
            Fn-Call-Id: 01M8CTNWSBFW0000A6M0000004\r\nFn-Deadline: 2026-11-26T21:03:13Z\r\n\
            Accept-Encoding: gzip\r\n\r\n10\r\n{\"name\":\"Jimmy\"}\r\n0\r\n\r\n";
        assert_eq!(
            render(
                &template,
                "01M8CTNWSBFW0000A6M0000004",
                "2026-11-26T21:03:13Z"
            ),
            expected
        );
    }

    /// Capture b-invoke-empty, `function_received.raw`.
    #[test]
    fn invoke_empty_matches_capture() {
        let template = RequestTemplate::new("curl/7.88.1", &[("Accept", "*/*")], b"");
        let expected = "POST /call HTTP/1.1\r\nHost: localhost\r\nUser-Agent: curl/7.88.1\r\n\
            Content-Length: 0\r\nAccept: */*\r\nFn-Call-Id: 01M8CTNZQAFW0000A6M0000007\r\n\
            Fn-Deadline: 2026-11-26T21:03:16Z\r\nAccept-Encoding: gzip\r\n\r\n";
        assert_eq!(
            render(
                &template,
                "01M8CTNZQAFW0000A6M0000007",
                "2026-11-26T21:03:16Z"
            ),
            expected
        );
    }

    /// Capture e-trigger-get-query: headers sorted after `Fn-Deadline`, a
    /// repeated header in order, and a client `Fn-Call-Id` replaced.
    #[test]
    fn trigger_headers_match_capture() {
        let template = RequestTemplate::new(
            GO_USER_AGENT,
            &[
                ("Fn-Intent", "httprequest"),
                ("Fn-Http-Method", "GET"),
                ("Fn-Http-H-X-Multi", "1"),
                (
                    "Fn-Http-Request-Url",
                    "http://127.0.0.1:18080/t/cap/cap?x=1&y=two%20words",
                ),
                ("Fn-Http-H-Accept", "application/json"),
                ("Fn-Call-Id", "client-chosen"),
                ("Fn-Http-H-Cookie", "a=b"),
                ("Fn-Http-H-User-Agent", "curl/7.88.1"),
                ("Fn-Http-H-X-Multi", "2"),
            ],
            b"",
        );
        let expected = "POST /call HTTP/1.1\r\nHost: localhost\r\nUser-Agent: Go-http-client/1.1\r\n\
            Content-Length: 0\r\nFn-Call-Id: 01M8CTP7SMFW0000A6M000000A\r\n\
            Fn-Deadline: 2026-11-26T21:03:24Z\r\nFn-Http-H-Accept: application/json\r\n\
            Fn-Http-H-Cookie: a=b\r\nFn-Http-H-User-Agent: curl/7.88.1\r\nFn-Http-H-X-Multi: 1\r\n\
            Fn-Http-H-X-Multi: 2\r\nFn-Http-Method: GET\r\n\
            Fn-Http-Request-Url: http://127.0.0.1:18080/t/cap/cap?x=1&y=two%20words\r\n\
            Fn-Intent: httprequest\r\nAccept-Encoding: gzip\r\n\r\n";
        assert_eq!(
            render(
                &template,
                "01M8CTP7SMFW0000A6M000000A",
                "2026-11-26T21:03:24Z"
            ),
            expected
        );
    }

    /// Capture f-trigger-post-text: `Content-Type` unprefixed, one chunk.
    #[test]
    fn trigger_post_text_matches_capture() {
        let template = RequestTemplate::new(
            GO_USER_AGENT,
            &[
                ("Content-Type", "text/plain"),
                ("Fn-Http-H-Accept", "*/*"),
                ("Fn-Http-H-Content-Length", "5"),
                ("Fn-Http-H-User-Agent", "curl/7.88.1"),
                ("Fn-Http-Method", "POST"),
                ("Fn-Http-Request-Url", "http://127.0.0.1:18080/t/cap/cap"),
                ("Fn-Intent", "httprequest"),
            ],
            b"hello",
        );
        let expected = "POST /call HTTP/1.1\r\nHost: localhost\r\nUser-Agent: Go-http-client/1.1\r\n\
            Transfer-Encoding: chunked\r\nContent-Type: text/plain\r\n\
            Fn-Call-Id: 01M8CTPAF9FW0000A6M000000B\r\nFn-Deadline: 2026-11-26T21:03:27Z\r\n\
            Fn-Http-H-Accept: */*\r\nFn-Http-H-Content-Length: 5\r\nFn-Http-H-User-Agent: curl/7.88.1\r\n\
            Fn-Http-Method: POST\r\nFn-Http-Request-Url: http://127.0.0.1:18080/t/cap/cap\r\n\
            Fn-Intent: httprequest\r\nAccept-Encoding: gzip\r\n\r\n5\r\nhello\r\n0\r\n\r\n";
        assert_eq!(
            render(
                &template,
                "01M8CTPAF9FW0000A6M000000B",
                "2026-11-26T21:03:27Z"
            ),
            expected
        );
    }

    /// Captures README: a client `Accept-Encoding` takes its sorted place and
    /// Go adds none of its own.
    #[test]
    fn client_accept_encoding_is_sorted_not_appended() {
        let template = RequestTemplate::new(
            "curl/7.88.1",
            &[("Accept", "*/*"), ("Accept-Encoding", "gzip")],
            b"",
        );
        let text = render(&template, "ID", "D");
        assert!(text.contains("Accept: */*\r\nAccept-Encoding: gzip\r\nFn-Call-Id: ID\r\n"));
        assert_eq!(text.matches("Accept-Encoding").count(), 1);
        assert!(text.ends_with("Fn-Deadline: D\r\n\r\n"));
    }

    #[test]
    fn header_between_call_id_and_deadline() {
        let template = RequestTemplate::new(GO_USER_AGENT, &[("Fn-Cz", "1")], b"");
        let text = render(&template, "ID", "D");
        assert!(text.contains("Fn-Call-Id: ID\r\nFn-Cz: 1\r\nFn-Deadline: D\r\n"));
    }

    #[test]
    fn chunk_size_is_hex() {
        let body = vec![b'x'; 300];
        let template = RequestTemplate::new(GO_USER_AGENT, &[], &body);
        let text = render(&template, "ID", "D");
        assert!(text.contains("\r\n\r\n12c\r\n"));
        assert!(text.ends_with("x\r\n0\r\n\r\n"));
    }

    #[test]
    fn call_ids_are_unique_and_shaped_like_the_servers() {
        let mut ids = CallIds::new();
        let a = ids.next_id();
        let b = ids.next_id();
        assert_ne!(a, b);
        assert_eq!(a.len(), 26);
        assert!(
            a.bytes()
                .all(|c| c.is_ascii_digit() || c.is_ascii_uppercase())
        );
        assert!(a.ends_with("000000001") && b.ends_with("000000002"));
    }

    #[test]
    fn crockford_digits() {
        assert_eq!(crockford(0, 3), "000");
        assert_eq!(crockford(31, 2), "0Z");
        assert_eq!(crockford(32, 2), "10");
        assert_eq!(crockford(u64::MAX, 13), "FZZZZZZZZZZZZ");
    }

    #[test]
    fn without_a_deadline_only_that_line_is_missing() {
        let template = RequestTemplate::new(GO_USER_AGENT, &[("Accept", "*/*")], b"hi");
        let with = render(&template, "ID", "2026-11-26T21:03:13Z");
        let mut out = Vec::new();
        template.render_without_deadline("ID", &mut out);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            with.replace("Fn-Deadline: 2026-11-26T21:03:13Z\r\n", "")
        );
    }
}
