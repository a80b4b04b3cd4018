//! One HTTP/1.1 message reader for every place that reads HTTP.
//!
//! Sans-IO, as hyper's own protocol layer is: [`HeadDecoder`] and
//! [`BodyDecoder`] are fed whatever bytes arrived and say how many they
//! used, so the same code reads a socket, a pipe or a byte slice.
//! [`read_response`] is the blocking adapter for any
//! [`BufRead`](std::io::BufRead).
//!
//! It reads by RFC 9112 as hyper does, or, for the `http` stdio format, by
//! the rules of Go's `http.ReadResponse` that the Fn 0.3.602 server read it
//! with (`Dialect::Go`, in `go`).
//!
//! Written apart from hyper on purpose: it is the server's side of the
//! contract, independent of what the FDK under test uses. Every size from
//! the wire is checked against a limit before it is held, so no input can
//! make it allocate without bound.

mod body;
mod go;
mod head;
mod response;

pub use body::{BodyDecoder, Framing};
pub use head::{Fields, Head, HeadDecoder, Role};
pub use response::{Response, ResponseError, read_response};

pub(crate) use go::response_framing;

use std::fmt;

/// Whose reading rules a decoder follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum Dialect {
    /// RFC 9112, as hyper reads a message (the http-stream contract).
    #[default]
    Strict,
    /// Go's `http.ReadResponse`, as the Fn 0.3.602 server read a
    /// function's `http` stdio answer: Go's lenient status line and field
    /// lines, its chunk-size rules and its error messages
    /// ([`Error::Malformed`] holds Go's text alone).
    Go,
}

/// Why bytes could not be read as a message (the transport's own failures
/// are the adapter's business).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// The input ended before the first byte of a head.
    Closed,
    /// The bytes are not a valid HTTP/1.x message.
    Malformed(String),
    /// A line, the head or the body went over the reader's limits.
    TooLarge(&'static str),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Closed => f.write_str("connection closed before a message"),
            Self::Malformed(what) => write!(f, "malformed message: {what}"),
            Self::TooLarge(what) => write!(f, "message too large: {what}"),
        }
    }
}

impl std::error::Error for Error {}

fn malformed(what: impl Into<String>) -> Error {
    Error::Malformed(what.into())
}

/// Where the first `\n` of `bytes` is.
fn find_line_end(bytes: &[u8]) -> Option<usize> {
    bytes.iter().position(|&b| b == b'\n')
}

/// A byte of an RFC 9110 token (a method, a field name): letters, digits
/// and ``!#$%&'*+-.^_`|~``.
pub(crate) fn is_token_byte(b: u8) -> bool {
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

#[cfg(test)]
mod tests;
