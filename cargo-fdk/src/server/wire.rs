//! The bytes the Fn server's front end writes to its client, as Go's
//! `net/http` server writes a handler's answer (captures README, "Response
//! head order to the client"):
//!
//! * the handler's header map, sorted by name, a repeated header's values in
//!   the order they were added;
//! * then the headers the Go server adds itself: `Date` (unless the map has
//!   one), `Content-Length` (when the map has none and the handler wrote its
//!   whole body, at most 2048 bytes, before it returned; a longer body goes
//!   out chunked), and a sniffed `Content-Type` (when the map has none and
//!   there is a body);
//! * a `Content-Length` in the map is the framing: a body longer than it is
//!   not written at all (Go refuses the write), a shorter one is followed by
//!   the end of the connection.
//!
//! The server's own errors are `{"message":"…"}` and a newline, as Go's
//! `json.Encoder` writes them, with `Content-Type: application/json;
//! charset=utf-8` (`api/server/error_response.go`).

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use fn_emulator::golang::{canonical_key, detect_content_type};
use fn_emulator::rfc3339::format_unix_seconds;
use hyper::body::{Body, Frame};
use tokio::sync::Notify;

/// What Go's response writer buffers before it commits to a framing: a
/// handler that writes more than this in one go before returning gets a
/// chunked answer (`net/http` `bufferBeforeChunkingSize`).
const GO_BUFFER: usize = 2048;

/// The server's answer to an error that is not one of its own API errors
/// (`api/server/error_response.go`), a body cut short among them.
pub(crate) const INTERNAL: &str = "internal server error";

/// A Go `http.Header`: canonical names, sorted when written.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct GoHeader(BTreeMap<String, Vec<String>>);

impl GoHeader {
    /// `Header.Add`: one more value for `name`.
    pub(crate) fn add(&mut self, name: &str, value: &str) {
        self.0
            .entry(canonical_key(name))
            .or_default()
            .push(value.to_owned());
    }

    /// `Header.Set`: `value` replaces every value of `name`.
    pub(crate) fn set(&mut self, name: &str, value: &str) {
        self.0.insert(canonical_key(name), vec![value.to_owned()]);
    }

    /// `Header.Del`.
    pub(crate) fn del(&mut self, name: &str) {
        self.0.remove(&canonical_key(name));
    }

    /// `Header.Get`: the first value of `name`, if any.
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.0
            .get(&canonical_key(name))
            .and_then(|values| values.first())
            .map(String::as_str)
    }

    /// Whether the map has the key at all (Go's `_, ok := h[name]`).
    pub(crate) fn has(&self, name: &str) -> bool {
        self.0.contains_key(&canonical_key(name))
    }

    /// Every (name, values) pair, sorted by name.
    pub(crate) fn entries(&self) -> impl Iterator<Item = (&String, &Vec<String>)> {
        self.0.iter()
    }

    /// Replaces the values of a canonical `name` (the trigger writer's
    /// `gwHeaders[k] = vs`).
    pub(crate) fn put(&mut self, name: String, values: Vec<String>) {
        self.0.insert(name, values);
    }
}

/// One answer, ready for the wire: the head in the order it is written, and
/// the body bytes that follow it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Wire {
    /// The status code.
    pub(crate) status: u16,
    /// Every header line, in order, `Date` and the framing included (with no
    /// framing header the body goes out chunked).
    pub(crate) headers: Vec<(String, String)>,
    /// The body bytes written; fewer than a declared `Content-Length` when
    /// the server would end the connection short.
    pub(crate) body: Bytes,
}

impl Wire {
    /// The header `name`'s first value (case-insensitive), for tests and logs.
    #[cfg(test)]
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Go's server writing `status`, `map` and `body` from a handler that wrote
/// the whole body in one call, after setting the headers.
pub(crate) fn go_write(status: u16, mut map: GoHeader, body: &[u8]) -> Wire {
    // An unusable `Content-Length` is logged and dropped by Go.
    let declared = match map.get("Content-Length") {
        Some(v) => match v.parse::<u64>() {
            Ok(n) => Some(n),
            Err(_) => {
                map.del("Content-Length");
                None
            }
        },
        None => None,
    };
    let body_allowed = !(matches!(status, 100..=199 | 204 | 304));
    if !body_allowed {
        // RFC 9110: no body, and none of its description.
        for name in ["Content-Type", "Content-Length", "Transfer-Encoding"] {
            map.del(name);
        }
    }
    // Go refuses a write that would go past a declared length, whole.
    let written: &[u8] = match declared {
        _ if !body_allowed => &[],
        Some(n) if (body.len() as u64) > n => &[],
        _ => body,
    };
    let sniff = !map.has("Content-Type") && !written.is_empty();
    let has_date = map.has("Date");
    let mut headers: Vec<(String, String)> = map
        .entries()
        .flat_map(|(name, values)| values.iter().map(move |v| (name.clone(), v.clone())))
        .collect();
    if !has_date {
        headers.push(("Date".into(), http_date(SystemTime::now())));
    }
    if body_allowed && declared.is_none() && written.len() <= GO_BUFFER {
        headers.push(("Content-Length".into(), written.len().to_string()));
    }
    if sniff {
        headers.push((
            "Content-Type".into(),
            detect_content_type(written).to_owned(),
        ));
    }
    Wire {
        status,
        headers,
        body: Bytes::copy_from_slice(written),
    }
}

/// The server's own error answer (`WriteError`): `Content-Type` set on
/// `map` (which holds the call's `Fn-Call-Id`, and whatever function
/// headers the server had already copied), then `{"message":…}\n`.
pub(crate) fn server_error(status: u16, message: &str, mut map: GoHeader) -> Wire {
    map.set("Content-Type", "application/json; charset=utf-8");
    go_write(status, map, &error_json(message))
}

/// `{"message":"…"}` and a newline, escaped as Go's `json.Encoder` escapes
/// (`<`, `>`, `&`, U+2028 and U+2029 as `\uXXXX`).
pub(crate) fn error_json(message: &str) -> Vec<u8> {
    let plain = serde_json::json!({ "message": message }).to_string();
    let mut out = String::with_capacity(plain.len() + 1);
    for c in plain.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out.push('\n');
    out.into_bytes()
}

/// An HTTP date (IMF-fixdate, as Go writes `Date`): `Thu, 26 Nov 2026
/// 21:03:22 GMT`.
pub(crate) fn http_date(time: SystemTime) -> String {
    let secs = time
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    // `YYYY-MM-DDTHH:MM:SSZ`, fixed width from 1970 to 9999.
    let iso = format_unix_seconds(secs);
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let weekday = DAYS[usize::try_from(secs / 86_400 % 7).unwrap_or(0)];
    let month = iso
        .get(5..7)
        .and_then(|m| m.parse::<usize>().ok())
        .and_then(|m| MONTHS.get(m.wrapping_sub(1)))
        .copied()
        .unwrap_or("Jan");
    let part = |range: std::ops::Range<usize>| iso.get(range).unwrap_or("00");
    format!(
        "{weekday}, {} {month} {} {} GMT",
        part(8..10),
        part(0..4),
        part(11..19)
    )
}

/// Decompresses a gzip body as Go's transport does when it asked for gzip
/// itself (`Accept-Encoding` it added): multi-member streams included; an
/// empty body is an empty body.
pub(crate) fn gunzip(body: &[u8]) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let mut out = Vec::new();
    if !body.is_empty() {
        flate2::read::MultiGzDecoder::new(body).read_to_end(&mut out)?;
    }
    Ok(out)
}

/// A body for hyper that never announces its length: the framing is the
/// head's (`Content-Length`, or chunked when it has none). With `end`,
/// there is no body at all (a `204`, a `304`).
///
/// A body shorter than its declared `Content-Length` is how Go's server
/// answers some failures: it writes what it has and ends the connection.
/// hyper would drop such an answer unsent, so this body parks after its
/// bytes and tells `cut`; the connection's task then gives hyper a moment
/// to flush and closes the connection.
#[derive(Debug)]
pub(crate) struct Raw {
    data: Option<Bytes>,
    end: bool,
    cut: Option<Arc<Notify>>,
}

impl Raw {
    /// The body of `wire`; `cut` is told when it has written all it has
    /// and the connection must end.
    pub(crate) fn new(wire: &Wire, cut: Arc<Notify>) -> Self {
        let declared = wire
            .headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
            .and_then(|(_, v)| v.parse::<u64>().ok());
        let short = declared.is_some_and(|n| (wire.body.len() as u64) < n);
        Self {
            data: Some(wire.body.clone()).filter(|b| !b.is_empty()),
            end: matches!(wire.status, 100..=199 | 204 | 304),
            cut: short.then_some(cut),
        }
    }
}

impl Body for Raw {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        if let Some(data) = self.data.take() {
            return Poll::Ready(Some(Ok(Frame::data(data))));
        }
        match &self.cut {
            Some(cut) => {
                cut.notify_one();
                Poll::Pending
            }
            None => Poll::Ready(None),
        }
    }

    fn is_end_stream(&self) -> bool {
        self.end
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(wire: &Wire) -> Vec<&str> {
        wire.headers.iter().map(|(k, _)| k.as_str()).collect()
    }

    /// Captures h-err-502-*: `Content-Type`, `Fn-Call-Id`, `Date`,
    /// `Content-Length: 30`, `{"message":"function failed"}\n`.
    #[test]
    fn server_errors_are_written_as_in_the_captures() {
        let mut map = GoHeader::default();
        map.add("Fn-Call-Id", "01M8CTPQV1FW0000A6M000000J");
        let wire = server_error(502, "function failed", map);
        assert_eq!(
            names(&wire),
            ["Content-Type", "Fn-Call-Id", "Date", "Content-Length"]
        );
        assert_eq!(
            wire.header("content-type"),
            Some("application/json; charset=utf-8")
        );
        assert_eq!(wire.header("content-length"), Some("30"));
        assert_eq!(&wire.body[..], b"{\"message\":\"function failed\"}\n");
    }

    /// Captures h-ok-headers-invoke and h-no-ct-*: the sorted map, then
    /// `Date`, then what Go adds.
    #[test]
    fn success_heads_follow_go_order() {
        let mut map = GoHeader::default();
        map.add("Fn-Call-Id", "id");
        map.add("content-type", "text/plain");
        map.add("X-Custom", "a");
        map.add("X-Custom", "b");
        map.add("Fn-Fdk-Version", "fdk-capture/0.0.1");
        map.set("Content-Length", "16");
        let wire = go_write(200, map, b"ok-headers body\n");
        assert_eq!(
            names(&wire),
            [
                "Content-Length",
                "Content-Type",
                "Fn-Call-Id",
                "Fn-Fdk-Version",
                "X-Custom",
                "X-Custom",
                "Date"
            ]
        );
        let mut map = GoHeader::default();
        map.add("Fn-Call-Id", "id");
        let wire = go_write(200, map, b"<html>hi</html>");
        assert_eq!(
            names(&wire),
            ["Fn-Call-Id", "Date", "Content-Length", "Content-Type"]
        );
        assert_eq!(
            wire.header("content-type"),
            Some("text/html; charset=utf-8")
        );
    }

    #[test]
    fn a_declared_length_frames_the_body() {
        // Shorter: nothing fits, nothing is written (the connection ends).
        let mut map = GoHeader::default();
        map.set("Content-Length", "10");
        let wire = server_error(500, "internal server error", map);
        assert!(wire.body.is_empty());
        assert_eq!(wire.header("content-length"), Some("10"));
        // Longer: the whole JSON, then the connection ends short.
        let mut map = GoHeader::default();
        map.set("Content-Length", "100");
        let wire = server_error(504, "Timed out", map);
        assert_eq!(&wire.body[..], b"{\"message\":\"Timed out\"}\n");
        // Unparseable: dropped, Go frames the body itself.
        let mut map = GoHeader::default();
        map.set("Content-Length", "x");
        let wire = go_write(200, map, b"abc");
        assert_eq!(wire.header("content-length"), Some("3"));
    }

    #[test]
    fn long_bodies_without_a_length_are_chunked() {
        let wire = go_write(200, GoHeader::default(), &[b'a'; GO_BUFFER + 1]);
        assert_eq!(wire.header("content-length"), None);
        let wire = go_write(200, GoHeader::default(), &[b'a'; GO_BUFFER]);
        assert_eq!(wire.header("content-length"), Some("2048"));
    }

    #[test]
    fn no_body_statuses_carry_no_body_headers() {
        let mut map = GoHeader::default();
        map.add("Content-Type", "text/plain");
        let wire = go_write(204, map, b"dropped");
        assert_eq!(names(&wire), ["Date"]);
        assert!(wire.body.is_empty());
    }

    #[test]
    fn error_json_escapes_as_go_does() {
        assert_eq!(
            error_json("Path not found: GET /<a>&\"b\""),
            b"{\"message\":\"Path not found: GET /\\u003ca\\u003e\\u0026\\\"b\\\"\"}\n"
        );
    }

    #[test]
    fn dates_are_imf_fixdate() {
        // Capture h-bad-500-invoke: Date: Thu, 26 Nov 2026 21:03:22 GMT.
        let t = UNIX_EPOCH + std::time::Duration::from_secs(1_795_727_002);
        assert_eq!(http_date(t), "Thu, 26 Nov 2026 21:03:22 GMT");
        assert_eq!(http_date(UNIX_EPOCH), "Thu, 01 Jan 1970 00:00:00 GMT");
    }

    #[test]
    fn gzip_bodies_are_decoded() {
        use std::io::Write;
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        enc.write_all(b"hello").unwrap();
        let gz = enc.finish().unwrap();
        assert_eq!(gunzip(&gz).unwrap(), b"hello");
        assert_eq!(gunzip(b"").unwrap(), b"");
        assert!(gunzip(b"not gzip").is_err());
    }
}
