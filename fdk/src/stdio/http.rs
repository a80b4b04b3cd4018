//! `FN_FORMAT=http`: HTTP/1.1 messages back to back on stdin and stdout
//! (HTTP-REQ-*, HTTP-RESP-*).
//!
//! The server wrote the client's request with four extra headers
//! (`Fn_call_id`, `Fn_deadline`, `Fn_method`, `Fn_request_url`) and read
//! one length-delimited response per request with Go's
//! `http.ReadResponse`.
//!
//! ```text
//! stdin  POST /invoke/01C… HTTP/1.1
//!        Host: localhost:8080
//!        Content-Length: 13
//!        Fn_call_id: 01C…
//!        Fn_deadline: 2018-10-25T19:30:01.123Z
//!        …
//!
//!        {"name":"Jo"}
//! stdout HTTP/1.1 200 OK
//!        content-type: text/plain; charset=utf-8
//!        content-length: 8
//!        …
//!
//!        Hello Jo
//! ```
//!
//! The framing is done here rather than by hyper's server: a malformed
//! request must get this FDK's own 400 (JSON body, version headers) before
//! the process exits, and hyper answers those with a bare 400 of its own.
//! `httparse` (hyper's own head parser) reads the heads.

use std::future::Future;

use bytes::Bytes;
use http::header::{CONTENT_LENGTH, HeaderMap, HeaderName, HeaderValue, TRANSFER_ENCODING};
use http::{Method, StatusCode};

use super::{Input, Output, Reply, answer, collect, input_limit, malformed_response, write_all};
use crate::context::StdioCall;
use crate::dispatch::App;
use crate::error::Error;
use crate::logs;
use crate::protocol::{HTTP_FN_CALL_ID, HTTP_FN_DEADLINE, HTTP_FN_METHOD, HTTP_FN_REQUEST_URL};
use crate::protocol::{MAX_HEAD_BYTES, MAX_HEADERS, MAX_LINE_BYTES};

pub(super) async fn serve(
    app: &App,
    input: Input,
    mut out: Output,
    shutdown: impl Future<Output = ()>,
) -> Result<(), Error> {
    let mut stream = Stream {
        input,
        buf: Vec::new(),
        ended: false,
        limit: input_limit(app),
    };
    tokio::pin!(shutdown);
    loop {
        let next = tokio::select! {
            biased;
            () = &mut shutdown => return Ok(()),
            next = stream.request() => next?,
        };
        let (head_method, reply) = match next {
            Next::Request {
                head_method,
                call,
                body,
            } => (head_method, answer(app, *call, body).await),
            Next::End => return Ok(()),
            Next::Truncated => {
                return Err(Error::input("stdin ended in the middle of a request"));
            }
            Next::Malformed(problem) => {
                // No resynchronisation point in an HTTP stream: answer,
                // then stop (HTTP-REQ-4).
                let message = format!("stdin does not carry a valid HTTP request: {problem}");
                logs::error(format_args!("{message}; answered 400 and stopped"));
                let res = malformed_response(&message);
                let reply = collect(res, "").await;
                write_all(&mut out, &encode(&Method::POST, &reply, true))?;
                return Err(Error::input(message));
            }
        };
        write_all(&mut out, &encode(&head_method, &reply, false))?;
    }
}

/// What the stream holds next.
enum Next {
    Request {
        /// The request line's method, which decides whether a body may
        /// follow the response head (HTTP-RESP-3).
        head_method: Method,
        call: Box<StdioCall>,
        body: Bytes,
    },
    End,
    Truncated,
    Malformed(String),
}

/// The bytes of stdin, read as far as the current request needs.
struct Stream {
    input: Input,
    buf: Vec<u8>,
    ended: bool,
    /// The largest body buffered (SIO-ERR-8).
    limit: usize,
}

impl Stream {
    /// Reads more input into `buf`; false at the end of the input.
    async fn fill(&mut self) -> Result<bool, Error> {
        if self.ended {
            return Ok(false);
        }
        match self.input.chunk().await {
            Some(Ok(chunk)) => {
                self.buf.extend_from_slice(&chunk);
                Ok(true)
            }
            Some(Err(e)) => Err(Error::input(format!("failed to read stdin: {e}"))),
            None => {
                self.ended = true;
                Ok(false)
            }
        }
    }

    async fn request(&mut self) -> Result<Next, Error> {
        // The head.
        let (head_len, method, target, headers) = loop {
            match parse_head(&self.buf) {
                Head::Complete {
                    len,
                    method,
                    target,
                    headers,
                } => break (len, method, target, headers),
                Head::Malformed(problem) => return Ok(Next::Malformed(problem)),
                Head::Partial if self.buf.len() > MAX_HEAD_BYTES => {
                    return Ok(Next::Malformed(format!(
                        "the request head is larger than {MAX_HEAD_BYTES} bytes"
                    )));
                }
                Head::Partial => {
                    if !self.fill().await? {
                        // Blank lines after the last request (an `echo`'s
                        // newline) are the end, not half a request.
                        return Ok(if self.buf.iter().all(u8::is_ascii_whitespace) {
                            Next::End
                        } else {
                            Next::Truncated
                        });
                    }
                }
            }
        };
        self.buf.drain(..head_len);

        // The body.
        let body = match framing(&headers, self.limit) {
            Ok(Framing::Empty) => Bytes::new(),
            Ok(Framing::Length(n)) => match self.sized(n).await? {
                Some(body) => Bytes::from(body),
                None => return Ok(Next::Truncated),
            },
            Ok(Framing::Chunked) => match self.chunked().await? {
                Some(Ok(body)) => body,
                Some(Err(problem)) => return Ok(Next::Malformed(problem)),
                None => return Ok(Next::Truncated),
            },
            Err(problem) => return Ok(Next::Malformed(problem)),
        };
        Ok(Next::Request {
            call: Box::new(stdio_call(&method, &target, headers)),
            head_method: method,
            body,
        })
    }

    /// A body of `n` bytes, read straight into a buffer of its own: going
    /// through `buf` would hold it twice (SIO-ERR-8). `None` if the input
    /// ends first.
    async fn sized(&mut self, n: usize) -> Result<Option<Vec<u8>>, Error> {
        let from_buf = n.min(self.buf.len());
        let mut body = Vec::with_capacity(n);
        body.extend_from_slice(&self.buf[..from_buf]);
        self.buf.drain(..from_buf);
        while body.len() < n {
            if self.ended {
                return Ok(None);
            }
            match self.input.chunk().await {
                Some(Ok(chunk)) => {
                    let take = (n - body.len()).min(chunk.len());
                    body.extend_from_slice(&chunk[..take]);
                    // The start of the next request, if any.
                    self.buf.extend_from_slice(&chunk[take..]);
                }
                Some(Err(e)) => return Err(Error::input(format!("failed to read stdin: {e}"))),
                None => self.ended = true,
            }
        }
        Ok(Some(body))
    }

    /// A chunked body; `None` if the input ends inside it.
    async fn chunked(&mut self) -> Result<Option<Result<Bytes, String>>, Error> {
        let mut body = Vec::new();
        loop {
            let Some(line) = self.line().await? else {
                return Ok(None);
            };
            let size = line.split(|b| *b == b';').next().unwrap_or_default();
            let size = std::str::from_utf8(size)
                .ok()
                .map(str::trim)
                .and_then(|s| usize::from_str_radix(s, 16).ok());
            let Some(size) = size else {
                return Ok(Some(Err("a chunk size is not a hex number".into())));
            };
            if size > self.limit.saturating_sub(body.len()) {
                return Ok(Some(Err(format!(
                    "the chunked body is larger than {} bytes",
                    self.limit
                ))));
            }
            if size == 0 {
                // Trailers, up to the empty line; ignored.
                loop {
                    match self.line().await? {
                        None => return Ok(None),
                        Some(line) if line.is_empty() => return Ok(Some(Ok(body.into()))),
                        Some(_) => {}
                    }
                }
            }
            while self.buf.len() < size + 2 {
                if !self.fill().await? {
                    return Ok(None);
                }
            }
            if &self.buf[size..size + 2] != b"\r\n" {
                return Ok(Some(Err("a chunk does not end with CRLF".into())));
            }
            body.extend_from_slice(&self.buf[..size]);
            self.buf.drain(..size + 2);
        }
    }

    /// One CRLF-terminated line, without its CRLF; chunk-size and trailer
    /// lines are short, so a longer one is cut off (and then fails to parse)
    /// rather than buffered without end.
    async fn line(&mut self) -> Result<Option<Vec<u8>>, Error> {
        let mut searched = 0;
        loop {
            if let Some(end) = self.buf[searched..]
                .windows(2)
                .position(|w| w == b"\r\n")
                .map(|i| i + searched)
            {
                let line = self.buf[..end].to_vec();
                self.buf.drain(..end + 2);
                return Ok(Some(line));
            }
            if self.buf.len() > MAX_LINE_BYTES {
                return Ok(Some(self.buf.drain(..MAX_LINE_BYTES).collect()));
            }
            // Only the new bytes (and a CR left at the end) need searching.
            searched = self.buf.len().saturating_sub(1);
            if !self.fill().await? {
                return Ok(None);
            }
        }
    }
}

enum Head {
    Complete {
        len: usize,
        method: Method,
        target: String,
        headers: HeaderMap,
    },
    Partial,
    Malformed(String),
}

fn parse_head(buf: &[u8]) -> Head {
    // Most heads have a few headers; retry with room for the most the
    // socket accepts only when needed.
    for capacity in [64, MAX_HEADERS] {
        let mut slots = vec![httparse::EMPTY_HEADER; capacity];
        let mut req = httparse::Request::new(&mut slots);
        match req.parse(buf) {
            Ok(httparse::Status::Partial) => return Head::Partial,
            Ok(httparse::Status::Complete(len)) => return complete(&req, len),
            Err(httparse::Error::TooManyHeaders) if capacity < MAX_HEADERS => {}
            Err(e) => return Head::Malformed(e.to_string()),
        }
    }
    Head::Malformed(format!("more than {MAX_HEADERS} headers"))
}

fn complete(req: &httparse::Request<'_, '_>, len: usize) -> Head {
    let method = req.method.map(|m| Method::from_bytes(m.as_bytes()));
    let Some(Ok(method)) = method else {
        return Head::Malformed("invalid method".into());
    };
    if req.version != Some(1) {
        return Head::Malformed("only HTTP/1.1 requests are served".into());
    }
    let mut headers = HeaderMap::with_capacity(req.headers.len());
    for h in req.headers.iter() {
        match (
            HeaderName::from_bytes(h.name.as_bytes()),
            HeaderValue::from_bytes(h.value),
        ) {
            (Ok(name), Ok(value)) => {
                headers.append(name, value);
            }
            _ => return Head::Malformed(format!("invalid header {:?}", h.name)),
        }
    }
    Head::Complete {
        len,
        method,
        target: req.path.unwrap_or("/").to_owned(),
        headers,
    }
}

enum Framing {
    Empty,
    Length(usize),
    Chunked,
}

/// How the body is framed: chunked wins over `Content-Length`, as in
/// RFC 9112 §6.3.
fn framing(headers: &HeaderMap, limit: usize) -> Result<Framing, String> {
    if let Some(te) = headers.get(TRANSFER_ENCODING) {
        let last = te
            .to_str()
            .ok()
            .and_then(|v| v.rsplit(',').next())
            .map(|v| v.trim().to_ascii_lowercase());
        return match last.as_deref() {
            Some("chunked") => Ok(Framing::Chunked),
            _ => Err(format!("unsupported Transfer-Encoding {te:?}")),
        };
    }
    let mut lengths = headers.get_all(CONTENT_LENGTH).iter();
    let Some(first) = lengths.next() else {
        return Ok(Framing::Empty);
    };
    if lengths.any(|v| v != first) {
        return Err("conflicting Content-Length headers".into());
    }
    match first
        .to_str()
        .ok()
        .and_then(|v| v.trim().parse::<usize>().ok())
    {
        Some(0) => Ok(Framing::Empty),
        Some(n) if n > limit => Err(format!(
            "Content-Length {n} is larger than the {limit} bytes this function accepts"
        )),
        Some(n) => Ok(Framing::Length(n)),
        None => Err(format!("invalid Content-Length {first:?}")),
    }
}

/// The call's metadata from the `Fn_*` headers; the request line stands in
/// for a missing `Fn_method` or `Fn_request_url` (HTTP-REQ-2).
fn stdio_call(method: &Method, target: &str, mut headers: HeaderMap) -> StdioCall {
    let mut take = |name: &HeaderName| {
        headers
            .remove(name)
            .and_then(|v| v.to_str().ok().map(str::to_owned))
    };
    let call_id = take(&HTTP_FN_CALL_ID);
    let deadline = take(&HTTP_FN_DEADLINE);
    let fn_method = take(&HTTP_FN_METHOD);
    let request_url = take(&HTTP_FN_REQUEST_URL);
    if call_id.is_none() {
        logs::warn(format_args!("an http-format request without Fn_call_id"));
    }
    StdioCall {
        call_id: call_id.unwrap_or_default(),
        deadline: deadline.filter(|d| !d.is_empty()),
        method: fn_method.or_else(|| Some(method.to_string())),
        request_url: request_url.or_else(|| Some(target.to_owned())),
        headers,
    }
}

/// The response bytes: status line, headers, `Content-Length`, body
/// (HTTP-RESP-1..3).
fn encode(method: &Method, reply: &Reply, last: bool) -> Vec<u8> {
    let status = reply.status;
    let no_body = *method == Method::HEAD
        || status.is_informational()
        || status == StatusCode::NO_CONTENT
        || status == StatusCode::NOT_MODIFIED;
    if no_body && !reply.body.is_empty() {
        logs::warn(format_args!(
            "dropping a {}-byte body that HTTP does not allow after status {} to {method}",
            reply.body.len(),
            status.as_u16()
        ));
    }
    let mut out = Vec::with_capacity(256 + reply.body.len());
    out.extend_from_slice(b"HTTP/1.1 ");
    out.extend_from_slice(status.as_str().as_bytes());
    out.push(b' ');
    out.extend_from_slice(status.canonical_reason().unwrap_or("").as_bytes());
    out.extend_from_slice(b"\r\n");
    for (name, value) in &reply.headers {
        out.extend_from_slice(name.as_str().as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    if !(status.is_informational() || status == StatusCode::NO_CONTENT) {
        out.extend_from_slice(format!("content-length: {}\r\n", reply.body.len()).as_bytes());
    }
    if last {
        out.extend_from_slice(b"connection: close\r\n");
    }
    out.extend_from_slice(b"\r\n");
    if !no_body {
        out.extend_from_slice(&reply.body);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn framing_follows_rfc_9112() {
        let h = |pairs: &[(&str, &str)]| {
            let mut m = HeaderMap::new();
            for (k, v) in pairs {
                m.append(
                    HeaderName::from_bytes(k.as_bytes()).unwrap(),
                    v.parse().unwrap(),
                );
            }
            framing(&m, 100)
        };
        assert!(matches!(h(&[]), Ok(Framing::Empty)));
        assert!(matches!(
            h(&[("content-length", "12")]),
            Ok(Framing::Length(12))
        ));
        assert!(matches!(
            h(&[("content-length", "12"), ("transfer-encoding", "chunked")]),
            Ok(Framing::Chunked)
        ));
        assert!(h(&[("content-length", "x")]).is_err());
        assert!(h(&[("content-length", "1"), ("content-length", "2")]).is_err());
        assert!(h(&[("transfer-encoding", "gzip")]).is_err());
        // Past the limit before a body byte is read.
        assert!(h(&[("content-length", "100")]).is_ok());
        assert!(h(&[("content-length", "101")]).is_err());
    }

    #[test]
    fn head_responses_have_a_length_and_no_body() {
        let reply = Reply {
            failed: false,
            status: StatusCode::OK,
            headers: HeaderMap::new(),
            body: Bytes::from_static(b"abc"),
        };
        let head = encode(&Method::HEAD, &reply, false);
        assert_eq!(head, b"HTTP/1.1 200 OK\r\ncontent-length: 3\r\n\r\n");
        let get = encode(&Method::GET, &reply, false);
        assert!(get.ends_with(b"content-length: 3\r\n\r\nabc"));
    }
}
