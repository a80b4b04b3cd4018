//! Reading a function's answer as the server's transport reads it: interim
//! `1xx` heads skipped, one budget for every head of the answer, the body
//! framed as the head says.

use std::fmt;
use std::io::{self, BufRead};

use super::{BodyDecoder, Error, Fields, Framing, Head, HeadDecoder, Role};

/// The largest response head accepted: the server's transport reads heads
/// up to Go's default `MaxResponseHeaderBytes` (10 MiB; the server's
/// `FN_MAX_HDR_RESPONSE_SIZE` is 0, "use the default") and fails the call
/// past it with "function response header too large".
pub(crate) const MAX_HEAD: u64 = 10 << 20;
/// The most header lines kept from one head. Go has no such limit, but each
/// line costs the reader far more than its bytes; a real FDK sends dozens.
pub(crate) const MAX_HEADERS: usize = 64 * 1024;
/// The largest body accepted (the server's default has no limit; this one
/// only keeps a broken peer from exhausting memory).
pub(crate) const MAX_BODY: u64 = 64 * 1024 * 1024;

/// One response read off the socket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// The status code.
    pub status: u16,
    /// The head: its fields in wire order, names as sent.
    pub head: Head,
    /// The body, with any chunk framing removed.
    pub body: Vec<u8>,
    /// The connection cannot carry another request (`Connection: close`,
    /// HTTP/1.0 without keep-alive, or a body delimited by closing).
    pub close: bool,
}

impl Response {
    /// The first value of the header `name` (compared case-insensitively).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.head.field(name)
    }

    /// The headers in wire order.
    pub fn headers(&self) -> Fields<'_> {
        self.head.fields()
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
        /// The head.
        head: Box<Head>,
        /// What went wrong in the body.
        error: Box<ResponseError>,
    },
}

impl ResponseError {
    /// Whether the read gave up on its timeout (the call's deadline).
    pub(crate) fn timed_out(&self) -> bool {
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

impl From<Error> for ResponseError {
    fn from(e: Error) -> Self {
        match e {
            Error::Closed => Self::Closed,
            Error::Malformed(what) => Self::Malformed(what),
            Error::TooLarge(what) => Self::TooLarge(what),
        }
    }
}

/// Reads one response, skipping interim `1xx` responses.
///
/// ```
/// use fn_emulator::http1::read_response;
///
/// let raw = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n";
/// let res = read_response(&mut &raw[..]).unwrap();
/// assert_eq!((res.status, &res.body[..], res.close), (200, &b"ok"[..], false));
/// ```
pub fn read_response<R: BufRead>(reader: &mut R) -> Result<Response, ResponseError> {
    // One budget for the final head and every interim one before it: the
    // server's transport (no `Got1xxResponse` hook) counts them together.
    let mut budget = MAX_HEAD;
    loop {
        let mut decoder = HeadDecoder::new(Role::Response, budget, MAX_HEADERS);
        let head = read_head(reader, &mut decoder)?;
        budget = decoder.budget();
        let status = head.status().unwrap_or_default();
        if (100..200).contains(&status) && status != 101 {
            continue;
        }
        return finish(reader, status, head);
    }
}

fn read_head<R: BufRead>(reader: &mut R, decoder: &mut HeadDecoder) -> Result<Head, ResponseError> {
    loop {
        let buf = match reader.fill_buf() {
            Ok(buf) => buf,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e.into()),
        };
        if buf.is_empty() {
            return Err(decoder.eof().into());
        }
        let (used, head) = decoder.feed(buf)?;
        reader.consume(used);
        if let Some(head) = head {
            return Ok(head);
        }
    }
}

fn finish<R: BufRead>(reader: &mut R, status: u16, head: Head) -> Result<Response, ResponseError> {
    let mut close = head.has_token("connection", "close")
        || (head.is_http10() && !head.has_token("connection", "keep-alive"));
    let chunked = match head.last_transfer_coding() {
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
        head.content_length()?
    };
    let framing = match (no_body, chunked, length) {
        (true, _, _) => Framing::Empty,
        (_, true, _) => Framing::Chunked,
        (_, _, Some(len)) => Framing::Length(len),
        _ => {
            close = true;
            Framing::UntilClose
        }
    };
    match read_body(reader, framing) {
        Ok(body) => Ok(Response {
            status,
            head,
            body,
            close,
        }),
        Err(error) => Err(ResponseError::Body {
            status,
            head: Box::new(head),
            error: Box::new(error),
        }),
    }
}

fn read_body<R: BufRead>(reader: &mut R, framing: Framing) -> Result<Vec<u8>, ResponseError> {
    if let Framing::Length(len) = framing {
        BodyDecoder::check_length(len, MAX_BODY)?;
    }
    let mut decoder = BodyDecoder::new(framing, MAX_BODY);
    let mut body = Vec::with_capacity(decoder.initial_capacity());
    while !decoder.is_done() {
        let buf = match reader.fill_buf() {
            Ok(buf) => buf,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e.into()),
        };
        if buf.is_empty() {
            decoder.eof(body.len())?;
            break;
        }
        let (used, _) = decoder.feed(buf, &mut body)?;
        reader.consume(used);
    }
    Ok(body)
}
