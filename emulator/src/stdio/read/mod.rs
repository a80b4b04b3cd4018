//! Reading one response from a hot function's stdout as the 0.3.602 server
//! read it, with a fresh decoder per call (SIO-IO-7), and what the
//! server's client got from it:
//!
//! * `json` (JSON-RESP-4) and `cloudevent` (CE-RESP-4): one value read as
//!   `json.NewDecoder(stdout).Decode` reads it (`Scanner`), unmarshalled
//!   into the server's structs with Go's rules, then mapped to the client's
//!   status, headers and body;
//! * `http` (HTTP-RESP-4): one response read as `http.ReadResponse` reads
//!   it for the request's method: the status line, the MIME header, then
//!   a body framed by `Content-Length`, by `chunked`, by nothing (HEAD,
//!   1xx, 204, 304) or by the end of the stream.
//!
//! The reader is incremental: feed it everything the process has written
//! since the call began (and whether stdout has ended); it says when it has
//! one response and how many bytes that took.

mod http;
mod json;

use super::StdioFormat;
use crate::golang::{Scan, Scanner, parse_value};

use http::HttpReader;
pub(crate) use json::{cloudevent_response, json_response};

/// What the server's client received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientResponse {
    /// The status (Go accepts any; outside 100-599 is a failure of SIO-ERR-1).
    pub status: i64,
    /// The headers, canonical names, each name's values in order.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

impl ClientResponse {
    /// The first value of `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Every value of `name` (any case), in order.
    pub fn header_values(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// Sets `name` to one value, as Go's `Header.Set`.
    fn set(&mut self, name: &str, value: &str) {
        self.headers.retain(|(k, _)| !k.eq_ignore_ascii_case(name));
        self.headers.push((name.to_owned(), value.to_owned()));
    }
}

/// What a complete response decoded to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decoded {
    /// The client's response (SIO-ERR-7 row 1).
    Response(ClientResponse),
    /// It does not decode: 502 "invalid … response from function err: …",
    /// container killed.
    Undecodable(String),
    /// `cloudevent`: it decodes but cannot be mapped: 500, container kept.
    Unmappable(String),
    /// `cloudevent`: it decodes, but the 0.3.602 server panicked mapping it
    /// (CE-RESP-2, CE-RESP-3).
    Crash(String),
}

/// One step of reading.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Not complete yet.
    More,
    /// One response, `used` bytes of the stream long (leading white space
    /// included).
    Done {
        /// Bytes it took.
        used: usize,
        /// What it decoded to.
        decoded: Decoded,
    },
    /// The stream cannot hold a response: the server's decoder failed on
    /// it (502, container killed).
    Bad(String),
    /// stdout ended before a complete response (`partial`: some of one had
    /// arrived).
    Ended {
        /// Whether part of a response had arrived.
        partial: bool,
    },
}

/// A fresh decoder for one call's response.
#[derive(Debug)]
pub struct Reader {
    inner: Inner,
}

#[derive(Debug)]
enum Inner {
    Json { scanner: Scanner, cloudevent: bool },
    Http(Box<HttpReader>),
}

impl Reader {
    /// A reader for `format`; `method` is the request's (it decides
    /// whether an `http` response has a body).
    pub fn new(format: StdioFormat, method: &str) -> Self {
        let inner = match format {
            StdioFormat::Http => Inner::Http(Box::new(HttpReader::new(method))),
            StdioFormat::Cloudevent => Inner::Json {
                scanner: Scanner::new(),
                cloudevent: true,
            },
            StdioFormat::Json | StdioFormat::Default => Inner::Json {
                scanner: Scanner::new(),
                cloudevent: false,
            },
        };
        Self { inner }
    }

    /// Reads on: `buf` is everything since the call began, `eof` says
    /// stdout has ended.
    pub fn feed(&mut self, buf: &[u8], eof: bool) -> Step {
        match &mut self.inner {
            Inner::Json {
                scanner,
                cloudevent,
            } => match scanner.feed(buf, eof) {
                Scan::Incomplete => Step::More,
                Scan::Eof => Step::Ended { partial: false },
                Scan::UnexpectedEof => Step::Ended { partial: true },
                Scan::Invalid(e) => Step::Bad(e),
                Scan::Complete { start, end } => {
                    let decoded = match parse_value(&buf[start..end]) {
                        Err(e) => Decoded::Undecodable(e),
                        Ok(v) if *cloudevent => cloudevent_response(&v),
                        Ok(v) => json_response(&v),
                    };
                    Step::Done { used: end, decoded }
                }
            },
            Inner::Http(reader) => reader.feed(buf, eof),
        }
    }
}

#[cfg(test)]
mod tests;
