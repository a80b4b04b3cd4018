//! `contract-floor`: the least work a function that honours the Fn contract
//! can do to answer as `examples/hello` answers. With `floor` it brackets an
//! FDK's cost: `floor` is what no function can beat; the distance from
//! `contract-floor` to the FDK's `hello` is what the FDK's own machinery
//! costs (its head guard, `Context`, deadline enforcement, panic boundary,
//! outcome and tracing span), and the distance from `floor` to
//! `contract-floor` is what the contract and `hello` ask of any function.
//!
//! A bare hyper 1 server (see `fdk_conformance::bench::floor`) that, for
//! every call:
//! - runs on a runtime with timers, which enforcing a deadline needs and user
//!   code expects (`tokio::time`);
//! - removes the framing headers (`Host`, `Content-Length`,
//!   `Transfer-Encoding`), which the handler must not see (HS-REQ-4);
//! - reads `Fn-Call-Id` and parses `Fn-Deadline`, turning it into an instant
//!   on the monotonic clock (one read of each clock), as enforcing it needs
//!   (HS-DL-*); a timer is only armed for a handler that waits, and this one
//!   does not;
//! - reads the body as text and answers `Hello <body>` (`Hello World` for an
//!   empty body) as `text/plain; charset=utf-8`, with `Fn-Fdk-Version` and
//!   `Fn-Fdk-Runtime` (HS-RESP-3).
//!
//! It leaves out what only a careful FDK does: limits on the head, a panic
//! boundary, the log frame, a tracing span, a context for the handler.

use std::hint::black_box;
use std::process::ExitCode;
use std::time::{Duration, Instant, SystemTime};

use fdk_conformance::bench::floor::{self, Answer, Runtime};
use fn_emulator::rfc3339;
use http::HeaderValue;
use http::header::{CONTENT_LENGTH, CONTENT_TYPE, HOST, TRANSFER_ENCODING};
use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response};

fn main() -> ExitCode {
    floor::main("contract-floor", Runtime::WithTimers, answer)
}

async fn answer(request: Request<Incoming>) -> Answer {
    let (mut parts, body) = request.into_parts();
    for framing in [HOST, CONTENT_LENGTH, TRANSFER_ENCODING] {
        parts.headers.remove(framing);
    }
    let call_id = parts.headers.get("fn-call-id");
    let deadline = parts
        .headers
        .get("fn-deadline")
        .and_then(|value| value.to_str().ok())
        .and_then(rfc3339::parse)
        .and_then(|(secs, nanos)| {
            let wall = SystemTime::UNIX_EPOCH
                + Duration::from_secs(u64::try_from(secs).ok()?)
                + Duration::from_nanos(u64::from(nanos));
            let left = wall.duration_since(SystemTime::now()).unwrap_or_default();
            Some(Instant::now() + left)
        });
    black_box((call_id, deadline, &parts));

    let body = body.collect().await?.to_bytes();
    let name = std::str::from_utf8(&body).unwrap_or_default().trim();
    let text = format!("Hello {}", if name.is_empty() { "World" } else { name });
    let mut response = Response::new(Full::new(Bytes::from(text)));
    let headers = response.headers_mut();
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    headers.insert("fn-fdk-version", HeaderValue::from_static(FDK_VERSION));
    headers.insert("fn-fdk-runtime", HeaderValue::from_static(FDK_RUNTIME));
    Ok(response)
}

/// The same lengths as the Rust FDK's values, so the response is as long.
const FDK_VERSION: &str = "fdk-rust/0.1.0";
const FDK_RUNTIME: &str = "rust/1.95.0";
