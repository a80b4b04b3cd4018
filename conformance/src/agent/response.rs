//! A minimal HTTP/1.1 response reader: status line, headers, and a body framed
//! by `Content-Length`, by `Transfer-Encoding: chunked`, or by the end of the
//! connection.
//!
//! Hand-written on purpose: it is the server's side of the contract,
//! independent of hyper (which the FDK under test may use), and it costs the
//! benchmark client little. Sizes are capped so that no input from the wire
//! can make it allocate without bound.

use std::fmt;
use std::io::{self, BufRead, Read};

/// The largest response head accepted: the server's transport reads heads
/// up to Go's default `MaxResponseHeaderBytes` (10 MiB; the server's
/// `FN_MAX_HDR_RESPONSE_SIZE` is 0, "use the default") and fails the call
/// past it with "function response header too large".
pub const MAX_HEAD: u64 = 10 << 20;
/// The most header lines kept from one head. Go has no such limit, but each
/// line costs the harness far more than its bytes; a real FDK sends dozens.
const MAX_HEADERS: usize = 64 * 1024;
/// The longest chunk-size, chunk-end or trailer line accepted.
const CHUNK_LINE: u64 = 16 * 1024;
/// The largest body accepted (the server's default has no limit; this one
/// only keeps a broken peer from exhausting memory).
pub const MAX_BODY: u64 = 64 * 1024 * 1024;

/// One response read off the socket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// The status code.
    pub status: u16,
    /// The headers in wire order, names as sent.
    pub headers: Vec<(String, String)>,
    /// The body, with any chunk framing removed.
    pub body: Vec<u8>,
    /// The connection cannot carry another request (`Connection: close`,
    /// HTTP/1.0 without keep-alive, or a body delimited by closing).
    pub close: bool,
}

impl ResponseError {
    /// Whether the read gave up on its timeout (the call's deadline).
    pub fn timed_out(&self) -> bool {
        match self {
            Self::Io(e) => matches!(
                e.kind(),
                io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
            ),
            Self::Body { error, .. } => error.timed_out(),
            _ => false,
        }
    }
}

impl Response {
    /// The first value of the header `name` (compared case-insensitively).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Why a response could not be read.
#[derive(Debug)]
#[non_exhaustive]
pub enum ResponseError {
    /// Reading or writing the socket failed.
    Io(io::Error),
    /// The peer closed the connection before a status line.
    Closed,
    /// The bytes are not a valid HTTP/1.x response.
    Malformed(String),
    /// The head or the body went over the reader's limits.
    TooLarge(&'static str),
    /// The head arrived, then reading the body failed (`error`): the
    /// connection closed or timed out mid-body, or the framing was broken.
    /// The server has already taken the head as the function's answer.
    Body {
        /// The status of the head that arrived.
        status: u16,
        /// Its headers.
        headers: Vec<(String, String)>,
        /// What went wrong in the body.
        error: Box<ResponseError>,
    },
}

impl fmt::Display for ResponseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Io(_) => f.write_str("socket i/o failed"),
            Self::Closed => f.write_str("connection closed before a response"),
            Self::Malformed(what) => write!(f, "malformed response: {what}"),
            Self::TooLarge(what) => write!(f, "response too large: {what}"),
            Self::Body { status, .. } => {
                write!(f, "the body of a {status} response could not be read")
            }
        }
    }
}

impl std::error::Error for ResponseError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Io(e) => Some(e),
            Self::Body { error, .. } => Some(error.as_ref()),
            _ => None,
        }
    }
}

impl From<io::Error> for ResponseError {
    fn from(e: io::Error) -> Self {
        Self::Io(e)
    }
}

fn malformed(what: impl Into<String>) -> ResponseError {
    ResponseError::Malformed(what.into())
}

/// Reads one response, skipping interim `1xx` responses.
pub fn read_response<R: BufRead>(reader: &mut R) -> Result<Response, ResponseError> {
    let mut line = Vec::with_capacity(128);
    // One budget for the final head and every interim one before it: the
    // server's transport (no `Got1xxResponse` hook) counts them together.
    let mut budget = MAX_HEAD;
    loop {
        if read_line(reader, &mut line, "status line", &mut budget)? == 0 {
            return Err(ResponseError::Closed);
        }
        let (http10, status) = parse_status_line(&line)?;
        let headers = read_headers(reader, &mut line, &mut budget)?;
        if (100..200).contains(&status) && status != 101 {
            continue;
        }
        return finish(reader, http10, status, headers);
    }
}

fn finish<R: BufRead>(
    reader: &mut R,
    http10: bool,
    status: u16,
    headers: Vec<(String, String)>,
) -> Result<Response, ResponseError> {
    let mut close = has_token(&headers, "connection", "close")
        || (http10 && !has_token(&headers, "connection", "keep-alive"));
    let chunked = match last_transfer_coding(&headers) {
        None => false,
        Some(coding) if coding.eq_ignore_ascii_case("chunked") => true,
        Some(_) => {
            // Not chunked last: RFC 9112 says the body runs to the close.
            close = true;
            false
        }
    };
    let no_body = status == 204 || status == 304 || (100..200).contains(&status);
    // A bad `Content-Length` fails the head (Go's ReadResponse refuses it).
    let length = if chunked || no_body {
        None
    } else {
        content_length(&headers)?
    };
    let body = if no_body {
        Ok(Vec::new())
    } else {
        read_body(reader, chunked, length, &mut close)
    };
    match body {
        Ok(body) => Ok(Response {
            status,
            headers,
            body,
            close,
        }),
        Err(error) => Err(ResponseError::Body {
            status,
            headers,
            error: Box::new(error),
        }),
    }
}

/// The body after a head, framed as the head says.
fn read_body<R: BufRead>(
    reader: &mut R,
    chunked: bool,
    length: Option<u64>,
    close: &mut bool,
) -> Result<Vec<u8>, ResponseError> {
    let body = if chunked {
        read_chunked(reader)?
    } else if let Some(len) = length {
        if len > MAX_BODY {
            return Err(ResponseError::TooLarge("Content-Length"));
        }
        let mut body = Vec::with_capacity(usize::try_from(len).unwrap_or(0));
        let got = reader.take(len).read_to_end(&mut body)?;
        if u64::try_from(got).unwrap_or(u64::MAX) != len {
            return Err(malformed(format!(
                "body ended after {got} of {len} Content-Length bytes"
            )));
        }
        body
    } else {
        *close = true;
        let mut body = Vec::new();
        reader.take(MAX_BODY + 1).read_to_end(&mut body)?;
        if body.len() as u64 > MAX_BODY {
            return Err(ResponseError::TooLarge("body delimited by close"));
        }
        body
    };
    Ok(body)
}

/// Reads one line (up to and including `\n`) into `line`, without the line
/// end. Returns the number of bytes consumed; 0 means end of input.
fn read_line<R: BufRead>(
    reader: &mut R,
    line: &mut Vec<u8>,
    what: &'static str,
    budget: &mut u64,
) -> Result<usize, ResponseError> {
    line.clear();
    let n = reader.take(*budget).read_until(b'\n', line)?;
    if n == 0 {
        return Ok(0);
    }
    if line.last() != Some(&b'\n') {
        return Err(if n as u64 >= *budget {
            ResponseError::TooLarge(what)
        } else {
            malformed(format!("connection closed inside the {what}"))
        });
    }
    *budget -= n as u64;
    line.pop();
    if line.last() == Some(&b'\r') {
        line.pop();
    }
    Ok(n)
}

/// Parses `HTTP/1.x NNN reason`; returns (is HTTP/1.0, status).
fn parse_status_line(line: &[u8]) -> Result<(bool, u16), ResponseError> {
    let text = std::str::from_utf8(line).map_err(|_| malformed("status line is not UTF-8"))?;
    let rest = text
        .strip_prefix("HTTP/1.")
        .ok_or_else(|| malformed(format!("bad status line {text:?}")))?;
    let http10 = match rest.as_bytes().first() {
        Some(b'0') => true,
        Some(b'1') => false,
        _ => return Err(malformed(format!("unsupported version in {text:?}"))),
    };
    let code = rest
        .get(1..)
        .and_then(|r| r.strip_prefix(' '))
        .and_then(|r| r.get(..3))
        .filter(|c| c.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|c| c.parse::<u16>().ok())
        .ok_or_else(|| malformed(format!("bad status code in {text:?}")))?;
    match rest.as_bytes().get(5) {
        None | Some(b' ') => Ok((http10, code)),
        Some(_) => Err(malformed(format!("bad status code in {text:?}"))),
    }
}

fn read_headers<R: BufRead>(
    reader: &mut R,
    line: &mut Vec<u8>,
    budget: &mut u64,
) -> Result<Vec<(String, String)>, ResponseError> {
    // Room for what a function usually sends, without regrowing.
    let mut headers = Vec::with_capacity(8);
    loop {
        if read_line(reader, line, "header section", budget)? == 0 {
            return Err(malformed("connection closed inside the header section"));
        }
        if line.is_empty() {
            return Ok(headers);
        }
        if headers.len() == MAX_HEADERS {
            return Err(ResponseError::TooLarge("header count"));
        }
        headers.push(parse_header(line)?);
    }
}

fn parse_header(line: &[u8]) -> Result<(String, String), ResponseError> {
    let text = std::str::from_utf8(line).map_err(|_| malformed("header line is not UTF-8"))?;
    if text.starts_with([' ', '\t']) {
        return Err(malformed("obsolete line folding"));
    }
    let (name, value) = text
        .split_once(':')
        .ok_or_else(|| malformed(format!("header line without colon {text:?}")))?;
    let valid_name = !name.is_empty() && name.bytes().all(is_token_byte);
    if !valid_name {
        return Err(malformed(format!("bad header name {name:?}")));
    }
    Ok((name.to_owned(), value.trim_matches([' ', '\t']).to_owned()))
}

/// A byte of an RFC 9110 token (a header name): letters, digits and
/// ``!#$%&'*+-.^_`|~``.
fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric()
        || matches!(
            b,
            b'!' | b'#'
                | b'$'
                | b'%'
                | b'&'
                | b'\''
                | b'*'
                | b'+'
                | b'-'
                | b'.'
                | b'^'
                | b'_'
                | b'`'
                | b'|'
                | b'~'
        )
}

/// Whether any `name` header lists `token` (comma-separated, case-insensitive).
fn has_token(headers: &[(String, String)], name: &str, token: &str) -> bool {
    headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case(name))
        .flat_map(|(_, v)| v.split(','))
        .any(|t| t.trim().eq_ignore_ascii_case(token))
}

fn last_transfer_coding(headers: &[(String, String)]) -> Option<&str> {
    headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case("transfer-encoding"))
        .flat_map(|(_, v)| v.split(','))
        .map(str::trim)
        .rfind(|t| !t.is_empty())
}

/// The `Content-Length`, if any; several headers must agree.
fn content_length(headers: &[(String, String)]) -> Result<Option<u64>, ResponseError> {
    let mut found = None;
    for (_, value) in headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case("content-length"))
    {
        for part in value.split(',') {
            let part = part.trim();
            if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
                return Err(malformed(format!("bad Content-Length {value:?}")));
            }
            let len = part
                .parse::<u64>()
                .map_err(|_| ResponseError::TooLarge("Content-Length"))?;
            if found.is_some_and(|f| f != len) {
                return Err(malformed("conflicting Content-Length headers"));
            }
            found = Some(len);
        }
    }
    Ok(found)
}

fn read_chunked<R: BufRead>(reader: &mut R) -> Result<Vec<u8>, ResponseError> {
    let mut body = Vec::new();
    let mut line = Vec::with_capacity(32);
    loop {
        if read_line(reader, &mut line, "chunk size", &mut CHUNK_LINE.clone())? == 0 {
            return Err(malformed("connection closed before the last chunk"));
        }
        let size_text = line
            .split(|&b| b == b';')
            .next()
            .map(|s| s.trim_ascii())
            .unwrap_or_default();
        let size = std::str::from_utf8(size_text)
            .ok()
            .filter(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_hexdigit()))
            .and_then(|s| u64::from_str_radix(s, 16).ok())
            .ok_or_else(|| {
                malformed(format!(
                    "bad chunk size {:?}",
                    String::from_utf8_lossy(&line)
                ))
            })?;
        if size == 0 {
            // Trailer fields, then the blank line.
            loop {
                if read_line(
                    reader,
                    &mut line,
                    "trailer section",
                    &mut CHUNK_LINE.clone(),
                )? == 0
                {
                    return Err(malformed("connection closed inside the trailers"));
                }
                if line.is_empty() {
                    return Ok(body);
                }
            }
        }
        if body.len() as u64 + size > MAX_BODY {
            return Err(ResponseError::TooLarge("chunked body"));
        }
        let got = reader.take(size).read_to_end(&mut body)?;
        if got as u64 != size {
            return Err(malformed("connection closed inside a chunk"));
        }
        if read_line(reader, &mut line, "chunk end", &mut CHUNK_LINE.clone())? == 0
            || !line.is_empty()
        {
            return Err(malformed("chunk data not followed by CRLF"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(bytes: &[u8]) -> Result<Response, ResponseError> {
        let mut reader = bytes;
        read_response(&mut reader)
    }

    #[test]
    fn content_length_body() {
        let raw = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello";
        let res = read(raw).unwrap();
        assert_eq!(res.status, 200);
        assert_eq!(res.body, b"hello");
        assert_eq!(res.header("content-type"), Some("text/plain"));
        assert!(!res.close);
    }

    #[test]
    fn keep_alive_leaves_the_next_response_unread() {
        let raw = b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\naHTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\n\r\n";
        let mut reader = &raw[..];
        assert_eq!(read_response(&mut reader).unwrap().body, b"a");
        let second = read_response(&mut reader).unwrap();
        assert_eq!((second.status, second.body.len()), (502, 0));
        assert!(reader.is_empty());
    }

    /// The canned `chunked-resp` answer of the captures.
    #[test]
    fn chunked_body_with_extension_and_trailer() {
        let raw = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n7\r\nchunk1-\r\n7;x=y\r\nchunk2-\r\n7\r\nchunk3\n\r\n0\r\nX-Trailer: t\r\n\r\nrest";
        let mut reader = &raw[..];
        let res = read_response(&mut reader).unwrap();
        assert_eq!(res.body, b"chunk1-chunk2-chunk3\n");
        assert_eq!(reader, b"rest");
    }

    #[test]
    fn chunk_size_in_upper_and_lower_hex() {
        let mut raw = b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n1A\r\n".to_vec();
        raw.extend_from_slice(&[b'x'; 26]);
        raw.extend_from_slice(b"\r\na\r\n0123456789\r\n0\r\n\r\n");
        assert_eq!(read(&raw).unwrap().body.len(), 36);
    }

    #[test]
    fn bare_lf_line_ends_are_accepted() {
        let res = read(b"HTTP/1.1 200 OK\nContent-Length: 2\n\nok").unwrap();
        assert_eq!(res.body, b"ok");
    }

    #[test]
    fn interim_responses_are_skipped() {
        let res =
            read(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
        assert_eq!(res.unwrap().status, 200);
    }

    #[test]
    fn connection_close_and_http10() {
        let res = read(b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
        assert!(res.unwrap().close);
        let res = read(b"HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n");
        assert!(res.unwrap().close);
        let res = read(b"HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 0\r\n\r\n");
        assert!(!res.unwrap().close);
    }

    #[test]
    fn body_without_framing_runs_to_close() {
        let res = read(b"HTTP/1.1 200 OK\r\n\r\nuntil the end").unwrap();
        assert_eq!(res.body, b"until the end");
        assert!(res.close);
    }

    #[test]
    fn no_body_for_204() {
        let raw = b"HTTP/1.1 204 No Content\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
        let mut reader = &raw[..];
        assert_eq!(read_response(&mut reader).unwrap().status, 204);
        assert_eq!(read_response(&mut reader).unwrap().status, 200);
    }

    #[test]
    fn status_without_reason() {
        assert_eq!(
            read(b"HTTP/1.1 504\r\nContent-Length: 0\r\n\r\n")
                .unwrap()
                .status,
            504
        );
    }

    #[test]
    fn closed_before_anything() {
        assert!(matches!(read(b""), Err(ResponseError::Closed)));
    }

    #[test]
    fn malformed_inputs() {
        for raw in [
            &b"HTTP/2 200 OK\r\n\r\n"[..],
            b"HTTP/1.1 20 OK\r\n\r\n",
            b"HTTP/1.1 2000 OK\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nno colon\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nX: a\r\n folded\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
            b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n",
        ] {
            let err = read(raw).unwrap_err();
            assert!(
                matches!(err, ResponseError::Malformed(_)),
                "{:?}: {err:?}",
                String::from_utf8_lossy(raw)
            );
        }
    }

    #[test]
    fn a_body_cut_short_keeps_the_head() {
        for raw in [
            &b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nabc"[..],
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcX\r\n0\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nab",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n",
        ] {
            let err = read(raw).unwrap_err();
            let ResponseError::Body { status, error, .. } = &err else {
                panic!("{:?}: {err:?}", String::from_utf8_lossy(raw));
            };
            assert_eq!(*status, 200);
            assert!(matches!(**error, ResponseError::Malformed(_)), "{error:?}");
            assert!(!err.timed_out());
        }
    }

    #[test]
    fn limits() {
        let raw = b"HTTP/1.1 200 OK\r\nContent-Length: 99999999999\r\n\r\n";
        assert!(matches!(
            read(raw),
            Err(ResponseError::Body { ref error, .. }) if matches!(**error, ResponseError::TooLarge(_))
        ));
        // Heads up to the server's 10 MiB pass, in one line or many.
        let mut big = b"HTTP/1.1 200 OK\r\nX: ".to_vec();
        big.extend(std::iter::repeat_n(b'a', 20 * 1024));
        big.extend_from_slice(b"\r\n");
        for i in 0..2000 {
            big.extend_from_slice(format!("X-{i}: {}\r\n", "b".repeat(100)).as_bytes());
        }
        big.extend_from_slice(b"Content-Length: 0\r\n\r\n");
        assert_eq!(read(&big).unwrap().headers.len(), 2002);
        // One byte past 10 MiB is too large.
        let mut long = b"HTTP/1.1 200 OK\r\nX: ".to_vec();
        long.extend(std::iter::repeat_n(b'a', MAX_HEAD as usize));
        long.extend_from_slice(b"\r\n\r\n");
        assert!(matches!(read(&long), Err(ResponseError::TooLarge(_))));
    }

    /// Lines split across the reader's buffer fills read as whole lines;
    /// a head cut off mid-line is a closed connection, not a line.
    #[test]
    fn lines_split_across_buffer_fills_are_whole() {
        let raw = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nX-Long: abcdefghij\r\nContent-Length: 5\r\n\r\nhello";
        for capacity in [1, 2, 3, 7, 64] {
            let mut reader = std::io::BufReader::with_capacity(capacity, &raw[..]);
            let res = read_response(&mut reader).unwrap();
            assert_eq!(res.body, b"hello", "capacity {capacity}");
            assert_eq!(
                res.header("x-long"),
                Some("abcdefghij"),
                "capacity {capacity}"
            );
            let cut = &raw[..30];
            let mut reader = std::io::BufReader::with_capacity(capacity, cut);
            let err = read_response(&mut reader).unwrap_err();
            assert!(
                err.to_string().contains("closed inside the header section"),
                "{err}"
            );
        }
    }
}
