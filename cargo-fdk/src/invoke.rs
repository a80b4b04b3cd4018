//! `cargo fdk invoke`: one call to a function served by `cargo fdk run`,
//! like `fn invoke`: the body from `--body` or stdin, the answer's body on
//! stdout, a failure status on stderr with a non-zero exit.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use fn_emulator::http1::{ResponseError, read_response};

use crate::error::{Error, Result};

/// One HTTP answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// The status code.
    pub status: u16,
    /// Header names (as sent) and values, in order.
    pub headers: Vec<(String, String)>,
    /// The body, de-chunked.
    pub body: Vec<u8>,
}

/// Sends `method url` with `body` and `content_type` (HTTP/1.1 over plain
/// TCP; the URL must be `http://host:port/path`), waiting at most
/// `timeout` for the answer.
pub fn send(
    method: &str,
    url: &str,
    content_type: &str,
    body: &[u8],
    timeout: Duration,
) -> Result<Answer> {
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| Error::usage(format!("`{url}` is not an http:// URL")))?;
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let mut stream = TcpStream::connect(authority).map_err(|e| {
        Error::new(format!(
            "could not connect to {authority}: {e} (is `cargo fdk run` running?)"
        ))
    })?;
    let io = |e: std::io::Error| Error::new(format!("the call to {url} failed: {e}"));
    stream.set_read_timeout(Some(timeout)).map_err(io)?;
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {authority}\r\nUser-Agent: cargo-fdk/{}\r\n\
         Content-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        env!("CARGO_PKG_VERSION"),
        body.len()
    );
    stream.write_all(head.as_bytes()).map_err(io)?;
    stream.write_all(body).map_err(io)?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).map_err(io)?;
    match parse(&raw) {
        Parsed::Whole(answer) => Ok(answer),
        Parsed::Short {
            status,
            got,
            declared,
        } => Err(Error::new(format!(
            "{url} answered {status}, then closed the connection after {got} of the \
             {declared} body bytes it announced (the Fn server does this when a function's \
             body fails after its head)"
        ))),
        Parsed::NotHttp => Err(Error::new(format!("{url} did not answer with HTTP"))),
    }
}

/// What a response read to the end of the connection turned out to be.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Parsed {
    /// A complete answer.
    Whole(Answer),
    /// A head whose `Content-Length` body did not arrive whole.
    Short {
        status: u16,
        got: usize,
        declared: usize,
    },
    /// Not an HTTP/1.1 response.
    NotHttp,
}

/// Parses a whole HTTP/1.1 response read to the end of the connection,
/// with the emulator's reader (the one every part of the project reads
/// HTTP with).
fn parse(raw: &[u8]) -> Parsed {
    match read_response(&mut &raw[..]) {
        Ok(res) => Parsed::Whole(Answer {
            status: res.status,
            headers: res.head.to_pairs(),
            body: res.body,
        }),
        Err(ResponseError::Body { status, head, .. }) => match head.content_length() {
            Ok(Some(declared)) => Parsed::Short {
                status,
                got: raw
                    .len()
                    .saturating_sub(usize::try_from(head.wire_len()).unwrap_or(0)),
                declared: usize::try_from(declared).unwrap_or(usize::MAX),
            },
            _ => Parsed::NotHttp,
        },
        Err(_) => Parsed::NotHttp,
    }
}

/// The text of the Fn server's own error answer, `{"message":"…"}`.
pub fn server_message(answer: &Answer) -> Option<String> {
    let json: serde_json::Value = serde_json::from_slice(&answer.body).ok()?;
    json.as_object()
        .filter(|o| o.len() == 1)?
        .get("message")?
        .as_str()
        .map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn whole(raw: &[u8]) -> Answer {
        match parse(raw) {
            Parsed::Whole(answer) => answer,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn sized_and_chunked_answers_parse() {
        let a = whole(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello");
        assert_eq!((a.status, a.body.as_slice()), (200, &b"hello"[..]));
        let b = whole(b"HTTP/1.1 502 Bad Gateway\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n");
        assert_eq!((b.status, b.body.as_slice()), (502, &b"abcde"[..]));
        assert_eq!(parse(b"garbage"), Parsed::NotHttp);
    }

    /// The server's 500 after a function's body was cut short carries the
    /// function's `Content-Length` and no body.
    #[test]
    fn a_body_shorter_than_announced_is_reported() {
        assert_eq!(
            parse(b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 10\r\n\r\n"),
            Parsed::Short {
                status: 500,
                got: 0,
                declared: 10
            }
        );
        assert_eq!(
            parse(b"HTTP/1.1 200 OK\r\nX-A: b\r\nContent-Length: 10\r\n\r\nabc"),
            Parsed::Short {
                status: 200,
                got: 3,
                declared: 10
            }
        );
    }

    #[test]
    fn server_messages_are_read() {
        let a = whole(
            b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 30\r\n\r\n{\"message\":\"function failed\"}\n",
        );
        assert_eq!(server_message(&a).as_deref(), Some("function failed"));
        let b = whole(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}");
        assert_eq!(server_message(&b), None);
    }
}
