//! The response encoders: an arbitrary handler response (status, any
//! number of headers with any names and values a `HeaderMap` holds, body)
//! through the socket encoder (invoke and gateway calls) and the
//! stdin/stdout formats' encoder.
//!
//! Input (text, so seeds stay readable):
//! ```text
//! gateway error       <- flags: "gateway" for a gateway call, "error" for Err(..)
//! 404                 <- the handler's status
//! Name: value         <- header lines, up to an empty line
//!
//! body
//! ```
//! Invariants (HS-RESP-1, HS-RESP-9): socket status 200 or 502; no
//! hop-by-hop header, `Content-Length` or `Fn-Call-Id` of the handler's;
//! the FDK's version header once.

#![no_main]

use fdk::IntoResponse;
use fdk::response::Response;
use fdk_fuzz::header_line;
use http::StatusCode;
use libfuzzer_sys::fuzz_target;

/// At most this many handler headers: past 24,576 a `HeaderMap` is full,
/// and the encoder answers 502 instead (HS-RESP-13, its own tests); the
/// invariants below are for responses that fit.
const MAX_HEADERS: usize = 4096;

const UNSENDABLE: [&str; 10] = [
    "connection",
    "keep-alive",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "content-length",
    "fn-call-id",
    "fn-fdk-runtime",
];

struct Spec<'a> {
    gateway: bool,
    error: bool,
    status: StatusCode,
    headers: Vec<&'a [u8]>,
    body: &'a [u8],
}

fn spec(data: &[u8]) -> Spec<'_> {
    let mut lines = data.split(|&b| b == b'\n');
    let flags = lines.next().unwrap_or_default();
    let has = |word: &[u8]| flags.windows(word.len()).any(|w| w == word);
    let status = lines
        .next()
        .and_then(|l| std::str::from_utf8(l).ok())
        .and_then(|s| s.trim().parse::<u16>().ok())
        .and_then(|s| StatusCode::from_u16(s).ok())
        .unwrap_or(StatusCode::OK);
    let mut headers = Vec::new();
    let mut consumed = flags.len() + 1;
    consumed += data.get(consumed..).map_or(0, |rest| {
        rest.iter()
            .position(|&b| b == b'\n')
            .map_or(rest.len(), |p| p + 1)
    });
    for line in lines.by_ref() {
        consumed += line.len() + 1;
        if line.is_empty() {
            break;
        }
        headers.push(line);
    }
    Spec {
        gateway: has(b"gateway"),
        error: has(b"error"),
        status,
        headers,
        body: data.get(consumed.min(data.len())..).unwrap_or_default(),
    }
}

fn response(spec: &Spec<'_>) -> Response {
    if spec.error {
        let message = String::from_utf8_lossy(spec.body).into_owned();
        return fdk::FunctionError::msg(message).into_response();
    }
    let mut res = http::Response::new(fdk::Body::from(fdk::Bytes::copy_from_slice(spec.body)));
    *res.status_mut() = spec.status;
    for line in spec.headers.iter().take(MAX_HEADERS) {
        if let Some((name, value)) = header_line(line) {
            res.headers_mut().append(name, value);
        }
    }
    res
}

fuzz_target!(|data: &[u8]| {
    let spec = spec(data);

    let out = fdk::__fuzz::encode_socket_response(response(&spec), spec.gateway);
    let status = out.status().as_u16();
    if spec.error {
        assert_eq!(status, 502);
    } else {
        assert_eq!(status, 200);
    }
    let headers = out.headers();
    assert_eq!(headers.get_all("fn-fdk-version").iter().count(), 1);
    assert_eq!(headers.get_all("fn-fdk-runtime").iter().count(), 1);
    for name in UNSENDABLE.iter().filter(|n| **n != "fn-fdk-runtime") {
        assert!(
            !headers.contains_key(*name),
            "the socket response carries {name}"
        );
    }
    if spec.gateway && !spec.error {
        assert_eq!(headers.get_all("fn-http-status").iter().count(), 1);
    }

    let out = fdk::__fuzz::encode_stdio_response(response(&spec));
    let headers = out.headers();
    assert_eq!(headers.get_all("fn-fdk-version").iter().count(), 1);
    for name in UNSENDABLE.iter().filter(|n| **n != "fn-fdk-runtime") {
        assert!(
            !headers.contains_key(*name),
            "the stdio response carries {name}"
        );
    }
});
