//! The request-head guard: checks every request head on the socket against
//! the FDK's limits *before* hyper parses it (HS-REQ-8, HS-REQ-10).
//!
//! hyper answers a head over its own limits with `431` (or panics in
//! `HeaderMap` past 24,576 header lines, if its limit is raised that far),
//! and the server kills the container for any socket status but 200, 502
//! and 504. Raising hyper's limit is no cure either: hyper then allocates
//! room for that many headers for every request it parses, which doubled
//! the cost of a call at 16,384. So the guard sits between the socket and
//! hyper and holds each head back until it is complete:
//!
//! * a head of at most [`HYPER_HEADERS`] lines goes to hyper unchanged
//!   (every call the server sends without a crowd of client headers);
//! * a larger head within the FDK's limits is parsed here; hyper gets a
//!   stand-in head (the request line and the body framing) and the
//!   connection's service swaps the real headers in ([`Mark::Headers`]);
//! * a head over the limits, or a large one that does not parse, gets a
//!   stand-in (`POST /call`, the body framing, call id and deadline) and a
//!   mark the service answers with a 502 and a JSON message.
//!
//! Either way the body that follows is read as the stand-in's, so the
//! connection stays usable.
//!
//! The guard knows where a head starts because the server sends one call at
//! a time: the next head is the first byte read after a response is done
//! ([`Conn::response_done`]).

use std::io;
use std::mem::MaybeUninit;
use std::pin::Pin;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll, ready};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use http::header::{HeaderMap, HeaderName, HeaderValue};

use crate::protocol::{MAX_HEAD_BYTES, MAX_HEADERS};
use crate::small_head::whole_small_head;

/// The header lines hyper parses without a heap allocation: its default
/// `max_headers`, which the server connection leaves unset. A head with
/// more lines must not reach hyper as it is.
pub(crate) const HYPER_HEADERS: usize = 100;

/// The longest framing or metadata line the stand-in head carries over;
/// longer ones are not the server's.
const KEPT_LINE: usize = 512;
/// Bytes read from the socket at a time while a head is scanned.
const SCAN_READ: usize = 16 << 10;

/// A head the guard did not hand to hyper, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct HeadTooLarge {
    /// Header lines, the request line not counted.
    pub(crate) lines: usize,
    /// Bytes of the head, up to and including its empty line.
    pub(crate) bytes: usize,
}

impl HeadTooLarge {
    /// The message of the 502: what was sent and what the FDK accepts.
    pub(crate) fn message(&self) -> String {
        format!(
            "the request head is too large for the FDK: {} header lines, {} bytes \
             (at most {MAX_HEADERS} header lines and {MAX_HEAD_BYTES} bytes are accepted)",
            self.lines, self.bytes
        )
    }
}

/// What the guard says about the stand-in head it just handed to hyper.
#[derive(Debug)]
pub(crate) enum Mark {
    /// The real head was over the limits: answer 502.
    TooLarge(HeadTooLarge),
    /// The real head's headers, parsed here: serve the call with them.
    Headers(HeaderMap),
    /// A large head that is not valid HTTP: answer 502 with this message.
    Invalid(String),
}

/// What the guard and the connection's service share.
#[derive(Debug, Default)]
pub(crate) struct Conn {
    /// A response is done: the next byte read starts a new head.
    next_head: AtomicBool,
    /// Set by the guard for the stand-in head it just handed to hyper.
    mark: Mutex<Option<Mark>>,
}

impl Conn {
    /// The service calls this once the response to a call is written (or
    /// dropped): what the peer sends next is a new head.
    pub(crate) fn response_done(&self) {
        self.next_head.store(true, Ordering::Release);
    }

    /// The mark for the request hyper just parsed, if the guard replaced its
    /// head. Taken once: the next request is judged afresh.
    pub(crate) fn take_mark(&self) -> Option<Mark> {
        self.mark.lock().ok().and_then(|mut m| m.take())
    }

    fn set_mark(&self, mark: Mark) {
        if let Ok(mut m) = self.mark.lock() {
            *m = Some(mark);
        }
    }
}

/// The socket stream with the guard in front of its read side; writes pass
/// straight through.
#[derive(Debug)]
pub(crate) struct Guarded<S> {
    inner: S,
    conn: std::sync::Arc<Conn>,
    mode: Mode,
    /// Bytes to hand to hyper before reading again.
    pending: Vec<u8>,
    pending_at: usize,
}

#[derive(Debug)]
enum Mode {
    /// A new head starts with the next byte, and none of it is held yet.
    Fresh,
    /// Reading a head that did not arrive whole within the limits in one
    /// read: nothing reaches hyper until it is complete.
    Head(Box<Scan>),
    /// A body (or anything after a head): bytes pass straight through.
    Pass,
    /// After a too-large head whose body framing could not be carried
    /// over: the rest of the connection is read and dropped.
    Discard,
}

impl<S> Guarded<S> {
    pub(crate) fn new(inner: S, conn: std::sync::Arc<Conn>) -> Self {
        Self {
            inner,
            conn,
            mode: Mode::Fresh,
            pending: Vec::new(),
            pending_at: 0,
        }
    }

    fn set_pending(&mut self, bytes: Vec<u8>) {
        self.pending = bytes;
        self.pending_at = 0;
    }

    /// Feeds bytes read while a head is held; once the head ends in them,
    /// decides what hyper gets and what the connection does next.
    fn hold(&mut self, data: &[u8]) {
        let Mode::Head(scan) = &mut self.mode else {
            return;
        };
        let Some(end) = scan.feed(data) else {
            return;
        };
        let rest = &data[end..];
        let (mut bytes, next) = match scan.verdict() {
            Verdict::Fits(head) => (head, Mode::Pass),
            Verdict::Replaced(mark, stand_in, framed) => {
                self.conn.set_mark(mark);
                (stand_in, if framed { Mode::Pass } else { Mode::Discard })
            }
        };
        if matches!(next, Mode::Pass) {
            bytes.extend_from_slice(rest);
        }
        self.mode = next;
        self.set_pending(bytes);
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Guarded<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        out: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        loop {
            if this.pending_at < this.pending.len() {
                let n = out.remaining().min(this.pending.len() - this.pending_at);
                out.put_slice(&this.pending[this.pending_at..this.pending_at + n]);
                this.pending_at += n;
                if this.pending_at == this.pending.len() {
                    this.set_pending(Vec::new());
                }
                return Poll::Ready(Ok(()));
            }
            match &mut this.mode {
                Mode::Pass => {
                    if this.conn.next_head.swap(false, Ordering::AcqRel) {
                        this.mode = Mode::Fresh;
                        continue;
                    }
                    return Pin::new(&mut this.inner).poll_read(cx, out);
                }
                Mode::Fresh => {
                    // Every call the server sends: the whole head in one
                    // read, within what hyper takes. It is read straight
                    // into hyper's buffer and left there, no copy, its
                    // framing lines moved last (`small_head`).
                    let before = out.filled().len();
                    ready!(Pin::new(&mut this.inner).poll_read(cx, out))?;
                    let data = &mut out.filled_mut()[before..];
                    if data.is_empty() {
                        // The peer closed between calls.
                        return Poll::Ready(Ok(()));
                    }
                    if whole_small_head(data).is_some() {
                        this.mode = Mode::Pass;
                        return Poll::Ready(Ok(()));
                    }
                    // Part of a head, or one hyper must not see as it is:
                    // take the bytes back and hold them.
                    let data = data.to_vec();
                    out.set_filled(before);
                    this.mode = Mode::Head(Box::default());
                    this.hold(&data);
                }
                Mode::Discard => {
                    // Uninitialised: zeroing 16 KiB per read costs more
                    // than the scan of a small head.
                    let mut scratch = [MaybeUninit::<u8>::uninit(); SCAN_READ];
                    let mut buf = ReadBuf::uninit(&mut scratch);
                    ready!(Pin::new(&mut this.inner).poll_read(cx, &mut buf))?;
                    if buf.filled().is_empty() {
                        return Poll::Ready(Ok(()));
                    }
                }
                Mode::Head(scan) => {
                    let mut scratch = [MaybeUninit::<u8>::uninit(); SCAN_READ];
                    let mut buf = ReadBuf::uninit(&mut scratch);
                    ready!(Pin::new(&mut this.inner).poll_read(cx, &mut buf))?;
                    let data = buf.filled();
                    if data.is_empty() {
                        // The peer closed mid-head: hand hyper what there is
                        // (it decides what a truncated head means), or
                        // nothing if the head was already too large.
                        let held = scan.take_held();
                        this.mode = Mode::Pass;
                        if held.is_empty() {
                            return Poll::Ready(Ok(()));
                        }
                        this.set_pending(held);
                        continue;
                    }
                    this.hold(data);
                }
            }
        }
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Guarded<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

/// One head being read: held back while it fits, counted when it does not.
#[derive(Debug, Default)]
struct Scan {
    /// The head so far, while it is within the limits; emptied once over.
    held: Vec<u8>,
    over: bool,
    /// Bytes of the head so far.
    bytes: usize,
    /// Complete header lines so far (the request line not counted).
    lines: usize,
    /// Past the request line (empty lines before it are skipped, as
    /// HTTP/1.1 allows).
    started: bool,
    /// The current line's first [`KEPT_LINE`] bytes, and its full length.
    line: Vec<u8>,
    line_len: usize,
    /// What the stand-in head carries over.
    framing: Framing,
    call_id: Option<Vec<u8>>,
    deadline: Option<Vec<u8>>,
    /// A `Connection` header asked to close after this call.
    close: bool,
}

#[derive(Debug, Default)]
enum Framing {
    /// No body (or none declared).
    #[default]
    None,
    Length(u64),
    Chunked,
    /// Framing the stand-in cannot carry (conflicting or garbled): the
    /// connection ends after the 502.
    Unknown,
}

enum Verdict {
    /// The head, unchanged.
    Fits(Vec<u8>),
    /// The mark, the stand-in head, and whether the body framing carried
    /// over (the connection can go on).
    Replaced(Mark, Vec<u8>, bool),
}

impl Scan {
    /// Reads `data`; returns where the head ends in it, once it does.
    fn feed(&mut self, data: &[u8]) -> Option<usize> {
        let mut end = None;
        for (i, &b) in data.iter().enumerate() {
            if b != b'\n' {
                self.line_len += 1;
                if self.line.len() < KEPT_LINE {
                    self.line.push(b);
                }
                continue;
            }
            let empty = self.line_len == 0 || (self.line_len == 1 && self.line == b"\r");
            if empty && self.started {
                end = Some(i + 1);
                break;
            }
            if !empty {
                if self.started {
                    self.lines += 1;
                    self.note_header();
                } else {
                    self.started = true;
                }
            }
            self.line.clear();
            self.line_len = 0;
        }
        let taken = &data[..end.unwrap_or(data.len())];
        self.bytes = self.bytes.saturating_add(taken.len());
        if self.lines > MAX_HEADERS || self.bytes > MAX_HEAD_BYTES {
            // Over: stop holding bytes, keep counting.
            self.over = true;
            self.held = Vec::new();
        }
        if !self.over {
            self.held.extend_from_slice(taken);
        }
        end
    }

    /// Notes the framing and metadata of the header line just completed.
    fn note_header(&mut self) {
        let complete = self.line_len <= KEPT_LINE;
        let line = self.line.strip_suffix(b"\r").unwrap_or(&self.line);
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            return;
        };
        let name = line[..colon].trim_ascii();
        let value = line[colon + 1..].trim_ascii();
        if name.eq_ignore_ascii_case(b"transfer-encoding") {
            let last = value.rsplit(|&b| b == b',').next().unwrap_or(b"");
            self.framing = if complete && last.trim_ascii().eq_ignore_ascii_case(b"chunked") {
                Framing::Chunked
            } else {
                Framing::Unknown
            };
        } else if name.eq_ignore_ascii_case(b"content-length") {
            let length = std::str::from_utf8(value)
                .ok()
                .filter(|v| complete && !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()))
                .and_then(|v| v.parse::<u64>().ok());
            self.framing = match (&self.framing, length) {
                // Transfer-Encoding wins over Content-Length (RFC 9112 §6.3).
                (Framing::Chunked | Framing::Unknown, _) => return,
                (Framing::None, Some(n)) => Framing::Length(n),
                (Framing::Length(m), Some(n)) if *m == n => Framing::Length(n),
                _ => Framing::Unknown,
            };
        } else if name.eq_ignore_ascii_case(b"connection") {
            self.close |= value
                .split(|&b| b == b',')
                .any(|t| t.trim_ascii().eq_ignore_ascii_case(b"close"));
        } else if complete && is_visible_ascii(value) {
            if name.eq_ignore_ascii_case(b"fn-call-id") {
                self.call_id = Some(value.to_vec());
            } else if name.eq_ignore_ascii_case(b"fn-deadline") {
                self.deadline = Some(value.to_vec());
            }
        }
    }

    /// What is held back, for a peer that closed mid-head.
    fn take_held(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.held)
    }

    fn verdict(&mut self) -> Verdict {
        if !self.over && self.lines <= HYPER_HEADERS {
            return Verdict::Fits(std::mem::take(&mut self.held));
        }
        if !self.over {
            return match self.parse() {
                Ok((request_line, headers)) => {
                    let (stand_in, framed) = self.stand_in(&request_line, false);
                    if framed {
                        Verdict::Replaced(Mark::Headers(headers), stand_in, true)
                    } else {
                        let message = "the request's body framing is invalid \
                                       (conflicting Content-Length or Transfer-Encoding)";
                        Verdict::Replaced(Mark::Invalid(message.into()), stand_in, false)
                    }
                }
                Err(message) => {
                    let (stand_in, framed) = self.stand_in(b"POST /call HTTP/1.1", true);
                    Verdict::Replaced(Mark::Invalid(message), stand_in, framed)
                }
            };
        }
        let info = HeadTooLarge {
            lines: self.lines,
            bytes: self.bytes,
        };
        let (stand_in, framed) = self.stand_in(b"POST /call HTTP/1.1", true);
        Verdict::Replaced(Mark::TooLarge(info), stand_in, framed)
    }

    /// Parses the held head (within the limits, more lines than hyper
    /// takes): its request line as hyper will see it, and its headers.
    fn parse(&self) -> Result<(Vec<u8>, HeaderMap), String> {
        let invalid = |what: &dyn std::fmt::Display| {
            format!("the request head is not valid HTTP/1.1: {what}")
        };
        // Exactly the lines counted: the parse cannot run out of slots.
        let mut slots = vec![httparse::EMPTY_HEADER; self.lines];
        let mut req = httparse::Request::new(&mut slots);
        match req.parse(&self.held) {
            Ok(httparse::Status::Complete(_)) => {}
            Ok(httparse::Status::Partial) => return Err(invalid(&"incomplete")),
            Err(e) => return Err(invalid(&e)),
        }
        let (Some(method), Some(path), Some(version)) = (req.method, req.path, req.version) else {
            return Err(invalid(&"no request line"));
        };
        let request_line = format!("{method} {path} HTTP/1.{version}").into_bytes();
        let mut headers =
            HeaderMap::try_with_capacity(req.headers.len()).map_err(|e| invalid(&e))?;
        for h in req.headers.iter() {
            let name = HeaderName::from_bytes(h.name.as_bytes())
                .map_err(|_| invalid(&format_args!("header name {:?}", h.name)))?;
            let value = HeaderValue::from_bytes(h.value)
                .map_err(|_| invalid(&format_args!("a value of header {:?}", h.name)))?;
            headers.try_append(name, value).map_err(|e| invalid(&e))?;
        }
        Ok((request_line, headers))
    }

    /// The head hyper gets instead of the real one: `request_line`, the
    /// body framing, `connection: close` if the real head asked for it, and
    /// (when `metadata`) the call id and deadline. The flag says whether
    /// the framing carried over.
    fn stand_in(&self, request_line: &[u8], metadata: bool) -> (Vec<u8>, bool) {
        let mut head = request_line.to_vec();
        head.extend_from_slice(b"\r\n");
        if self.close {
            head.extend_from_slice(b"connection: close\r\n");
        }
        if !metadata {
            return self.framed(head);
        }
        for (name, value) in [
            ("fn-call-id", &self.call_id),
            ("fn-deadline", &self.deadline),
        ] {
            if let Some(value) = value {
                head.extend_from_slice(name.as_bytes());
                head.extend_from_slice(b": ");
                head.extend_from_slice(value);
                head.extend_from_slice(b"\r\n");
            }
        }
        self.framed(head)
    }

    /// Ends `head` with the body framing and the empty line.
    fn framed(&self, mut head: Vec<u8>) -> (Vec<u8>, bool) {
        let framed = match self.framing {
            Framing::None => true,
            Framing::Length(n) => {
                head.extend_from_slice(format!("content-length: {n}\r\n").as_bytes());
                true
            }
            Framing::Chunked => {
                head.extend_from_slice(b"transfer-encoding: chunked\r\n");
                true
            }
            Framing::Unknown => {
                head.extend_from_slice(b"connection: close\r\n");
                false
            }
        };
        head.extend_from_slice(b"\r\n");
        (head, framed)
    }
}

fn is_visible_ascii(value: &[u8]) -> bool {
    !value.is_empty() && value.iter().all(|b| (0x20..0x7f).contains(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(lines: usize, extra: &str) -> Vec<u8> {
        let mut h = b"POST /call HTTP/1.1\r\n".to_vec();
        h.extend_from_slice(extra.as_bytes());
        for i in 0..lines {
            h.extend_from_slice(format!("x-h-{i}: v\r\n").as_bytes());
        }
        h.extend_from_slice(b"\r\n");
        h
    }

    /// Feeds `bytes` in pieces of `step`; returns the verdict and the rest.
    fn scan(bytes: &[u8], step: usize) -> (Verdict, Vec<u8>) {
        let mut s = Scan::default();
        for (n, piece) in bytes.chunks(step).enumerate() {
            if let Some(end) = s.feed(piece) {
                let rest = bytes[n * step + end..].to_vec();
                return (s.verdict(), rest);
            }
        }
        panic!("the head never ended");
    }

    /// The no-copy path agrees with the scan: whenever it lets a head
    /// through, the scan ends it at the same byte and lets it through
    /// unchanged; it declines every head the scan would replace.
    #[test]
    fn the_no_copy_path_ends_heads_where_the_scan_does() {
        let mut cases = Vec::new();
        for lines in [
            0,
            1,
            7,
            HYPER_HEADERS - 2,
            HYPER_HEADERS,
            HYPER_HEADERS + 1,
            300,
        ] {
            for extra in [
                "",
                "content-length: 3\r\n",
                "Transfer-Encoding: chunked\r\n",
            ] {
                let crlf = head(lines, extra);
                let lf = String::from_utf8(crlf.clone())
                    .unwrap()
                    .replace("\r\n", "\n");
                let mut blank_first = b"\r\n".to_vec();
                blank_first.extend_from_slice(&crlf);
                cases.extend([crlf, lf.into_bytes(), blank_first]);
            }
        }
        cases.push(b"POST /call HTTP/1.1\r\nx: a\r".to_vec());
        cases.push(b"POST /call HTTP/1.1\r\nx: a\r\n".to_vec());
        for case in cases {
            let mut bytes = case.clone();
            bytes.extend_from_slice(b"abcPOST /next");
            let quick = whole_small_head(&mut bytes.clone());
            let mut s = Scan::default();
            let end = s.feed(&bytes);
            match quick {
                Some(at) => {
                    assert_eq!(Some(at), end, "{:?}", String::from_utf8_lossy(&case));
                    assert_eq!(at, case.len());
                    let Verdict::Fits(held) = s.verdict() else {
                        panic!("replaced: {:?}", String::from_utf8_lossy(&case));
                    };
                    assert_eq!(held, case);
                }
                None => {
                    let lines_ok = s.lines <= HYPER_HEADERS;
                    let starts_blank = matches!(case.first(), Some(b'\r' | b'\n'));
                    assert!(
                        end.is_none() || !lines_ok || starts_blank,
                        "declined a head the scan lets through: {:?}",
                        String::from_utf8_lossy(&case)
                    );
                }
            }
        }
    }

    #[test]
    fn a_head_hyper_takes_passes_unchanged_in_any_pieces() {
        let mut bytes = b"\r\n".to_vec();
        bytes.extend(head(HYPER_HEADERS - 1, "content-length: 3\r\n"));
        let whole = bytes.clone();
        bytes.extend_from_slice(b"abcPOST");
        for step in [1, 7, 4096, bytes.len()] {
            let (verdict, rest) = scan(&bytes, step);
            let Verdict::Fits(held) = verdict else {
                panic!("step {step}: replaced");
            };
            assert_eq!(held, whole, "step {step}");
            assert_eq!(rest, b"abcPOST", "step {step}");
        }
    }

    #[test]
    fn a_larger_head_within_the_limits_is_parsed_here() {
        let mut bytes = head(1_001, "Content-Length: 3\r\nConnection: close\r\n");
        bytes.extend_from_slice(b"abcPOST");
        for step in [1, 4096] {
            let (verdict, rest) = scan(&bytes, step);
            let Verdict::Replaced(Mark::Headers(headers), stand_in, true) = verdict else {
                panic!("step {step}: not parsed");
            };
            assert_eq!(headers.len(), 1_003);
            assert_eq!(headers["x-h-1000"], "v");
            assert_eq!(headers["content-length"], "3");
            assert_eq!(
                String::from_utf8(stand_in).unwrap(),
                "POST /call HTTP/1.1\r\nconnection: close\r\ncontent-length: 3\r\n\r\n"
            );
            assert_eq!(rest, b"abcPOST", "step {step}");
        }
    }

    #[test]
    fn a_larger_head_that_is_not_http_is_refused_with_a_message() {
        let bytes = head(200, "Bad Name: x\r\n");
        let (verdict, _) = scan(&bytes, 4096);
        let Verdict::Replaced(Mark::Invalid(message), stand_in, true) = verdict else {
            panic!("accepted");
        };
        assert!(message.contains("not valid HTTP/1.1"), "{message}");
        assert!(stand_in.starts_with(b"POST /call HTTP/1.1\r\n"));
    }

    #[test]
    fn bare_newlines_end_a_head_too() {
        let (verdict, rest) = scan(b"POST /call HTTP/1.1\nA: b\n\nbody", 3);
        assert!(matches!(verdict, Verdict::Fits(h) if h == b"POST /call HTTP/1.1\nA: b\n\n"));
        assert_eq!(rest, b"body");
    }

    #[test]
    fn too_many_lines_become_a_stand_in_with_the_framing() {
        let extra = "Fn-Call-Id: 01CALL\r\nFn-Deadline: 2030-01-01T00:00:00Z\r\n\
                     Transfer-Encoding: chunked\r\n";
        let mut bytes = head(MAX_HEADERS, extra);
        bytes.extend_from_slice(b"3\r\nabc\r\n0\r\n\r\n");
        let (verdict, rest) = scan(&bytes, 1000);
        let Verdict::Replaced(Mark::TooLarge(info), stand_in, framed) = verdict else {
            panic!("accepted");
        };
        assert_eq!(info.lines, MAX_HEADERS + 3);
        assert_eq!(info.bytes, bytes.len() - rest.len());
        assert!(framed);
        assert_eq!(
            String::from_utf8(stand_in).unwrap(),
            "POST /call HTTP/1.1\r\nfn-call-id: 01CALL\r\n\
             fn-deadline: 2030-01-01T00:00:00Z\r\ntransfer-encoding: chunked\r\n\r\n"
        );
        assert_eq!(rest, b"3\r\nabc\r\n0\r\n\r\n");
    }

    #[test]
    fn too_many_bytes_with_a_length_or_garbled_framing() {
        let big = format!(
            "x-big: {}\r\ncontent-length: 5\r\n",
            "b".repeat(MAX_HEAD_BYTES)
        );
        let (verdict, _) = scan(&head(0, &big), SCAN_READ);
        let Verdict::Replaced(Mark::TooLarge(info), stand_in, true) = verdict else {
            panic!("accepted or unframed");
        };
        assert_eq!(info.lines, 2);
        assert!(stand_in.ends_with(b"content-length: 5\r\n\r\n"));

        let garbled = format!("{big}content-length: 6\r\n");
        let (verdict, _) = scan(&head(0, &garbled), SCAN_READ);
        let Verdict::Replaced(Mark::TooLarge(_), stand_in, false) = verdict else {
            panic!("accepted or framed");
        };
        assert!(stand_in.ends_with(b"connection: close\r\n\r\n"));
    }
}
