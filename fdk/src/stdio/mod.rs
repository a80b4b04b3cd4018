//! The stdin/stdout formats that Fn servers up to 0.3.602 spoke:
//! `json`, `http`, `default` (cold) and `cloudevent`
//! (`protocol-spec/stdio.md`).
//!
//! `FN_FORMAT` picks the format at start-up; the handler, its extractors,
//! its [`Context`] and its return type are the same as over the socket.
//! Only the framing differs, and the status: these formats hand the
//! handler's status to the client as it is, so failures get ordinary HTTP
//! statuses (SIO-ERR-1..4):
//!
//! | what happens                     | the client gets                 |
//! |----------------------------------|---------------------------------|
//! | handler returns a response       | its status, headers and body    |
//! | input rejected (`Json<T>`)       | 400, `{"message": …}`           |
//! | handler returns `Err` or panics  | 500, `{"message": …}`           |
//! | the deadline passes              | 504, `{"message": …}`           |
//!
//! They are also the quickest way to try a function by hand:
//!
//! ```text
//! $ echo '{"name":"Jo"}' | FN_FORMAT=default ./hello
//! Hello Jo
//! $ echo '{"body":"{\"name\":\"Jo\"}"}' | FN_FORMAT=json ./hello
//! {"body":"Hello Jo","content_type":"text/plain; charset=utf-8","protocol":{"status_code":200,"headers":{…}}}
//! ```
//!
//! stdout belongs to the protocol: at start-up the FDK moves it to a
//! private descriptor and points fd 1 at stderr, so a handler's `println!`
//! goes to the logs instead of into a response (SIO-IO-2).

use std::future::Future;
use std::io::Write;
use std::sync::Arc;

use ::http::header::HeaderMap;
use bytes::Bytes;

use crate::body::Body;
use crate::config::Format;
use crate::context::{Context, StdioCall};
use crate::dispatch::{self, App};
use crate::error::Error;
use crate::logs;
use crate::outcome::{Outcome, Transport, finish};
use crate::protocol::{MAX_BODY_BYTES, MAX_HEADERS};
use crate::response::Response;

#[cfg(feature = "json")]
mod cloudevent;
mod default;
mod fd;
mod http;
mod input;
#[cfg(feature = "json")]
mod json;
#[cfg(feature = "json")]
mod objects;

pub(crate) use fd::claim_stdout;
pub(crate) use input::Input;

/// Where responses go: the protocol's private copy of stdout.
pub(crate) type Output = Box<dyn Write + Send>;

/// Serves `format` on `input` and `out` until the input ends (or, for the
/// hot formats, a stop signal arrives between calls).
pub(crate) async fn serve(
    format: Format,
    app: Arc<App>,
    input: Input,
    out: Output,
    shutdown: impl Future<Output = ()>,
) -> Result<(), Error> {
    match format {
        Format::Http => http::serve(&app, input, out, shutdown).await,
        Format::Default => default::serve(&app, input, out, shutdown).await,
        #[cfg(feature = "json")]
        Format::Json => json::serve(&app, input, out, shutdown).await,
        #[cfg(feature = "json")]
        Format::CloudEvent => cloudevent::serve(&app, input, out, shutdown).await,
        #[cfg(not(feature = "json"))]
        Format::Json | Format::CloudEvent => Err(Error::format(
            "FN_FORMAT=json and FN_FORMAT=cloudevent need the `json` feature of fn-fdk",
        )),
        Format::HttpStream => Err(Error::format(
            "http-stream is served on the socket, not on stdin/stdout",
        )),
    }
}

/// The largest request these formats buffer: the function's body limit
/// (`FDK_MAX_BODY` or what fits `FN_MEMORY`), never above the 64 MiB
/// SIO-ERR-5 states (SIO-ERR-8).
pub(crate) fn input_limit(app: &App) -> usize {
    app.max_body.min(MAX_BODY_BYTES)
}

/// The client's view of one finished call, body collected.
#[derive(Debug)]
pub(crate) struct Reply {
    /// The handler failed, panicked, ran out of time or its input was
    /// rejected (what the `default` format's exit status says).
    pub(crate) failed: bool,
    pub(crate) status: ::http::StatusCode,
    #[cfg_attr(not(feature = "json"), allow(dead_code))]
    pub(crate) headers: HeaderMap,
    pub(crate) body: Bytes,
}

/// Runs one call whose body is already in memory and collects the answer.
pub(crate) async fn answer(app: &App, call: StdioCall, body: Bytes) -> Reply {
    let (ctx, headers) = Context::from_stdio(call, Arc::clone(&app.env), &app.timeout);
    // The request is the client's, as on the socket (HS-REQ-11, SIO-IO-4).
    let mut req = ::http::Request::new(());
    if let Some(gateway) = ctx.gateway() {
        *req.method_mut() = gateway.method().clone();
        *req.uri_mut() = gateway.url().clone();
    }
    *req.headers_mut() = headers;
    let (parts, ()) = req.into_parts();
    let outcome = dispatch::run(app, &ctx, parts, Body::from(body), Transport::Stdio).await;
    let failed = outcome.is_failure();
    let after = app.after_call(&ctx, &outcome);
    let res = finish(outcome, Transport::Stdio, ctx.call_id());
    let mut reply = collect(res, ctx.call_id()).await;
    // Before the answer is written: the server may freeze or end the
    // process once it has read it (HS-LIFE-12).
    if let Some(mut pending) = after {
        if reply.failed {
            pending.fail();
        }
        pending.run().await;
    }
    reply.failed |= failed;
    reply
}

/// The answer to input the format could not read as a request: a rejected
/// input (400) with `message` (SIO-ERR-5).
pub(crate) fn malformed_response(message: &str) -> Response {
    finish(
        Outcome::of(crate::response::mark::rejected(message.to_owned())),
        Transport::Stdio,
        "",
    )
}

/// Collects the response body; a body that fails half-way becomes a 500,
/// which these formats (unlike the socket) can still say.
pub(crate) async fn collect(res: Response, call_id: &str) -> Reply {
    let (parts, body) = res.into_parts();
    match body.collect().await {
        Ok(body) => Reply {
            failed: false,
            status: parts.status,
            headers: parts.headers,
            body,
        },
        Err(err) => {
            let message = format!("the response body failed: {err}");
            logs::error(format_args!("call {call_id}: {message}"));
            let (parts, body) =
                finish(Outcome::failed(message), Transport::Stdio, call_id).into_parts();
            Reply {
                failed: true,
                status: parts.status,
                headers: parts.headers,
                body: body.collect().await.unwrap_or_default(),
            }
        }
    }
}

/// Checks a request's header count before anything is allocated for it:
/// past [`MAX_HEADERS`] the request is malformed (SIO-ERR-9); the error
/// says how many arrived.
pub(crate) fn check_header_count(count: usize) -> Result<(), String> {
    if count > MAX_HEADERS {
        return Err(format!(
            "the request has {count} header values; the FDK accepts at most {MAX_HEADERS}"
        ));
    }
    Ok(())
}

/// Writes one framed response and flushes it: the server reads it as soon
/// as it is complete.
pub(crate) fn write_all(out: &mut Output, bytes: &[u8]) -> Result<(), Error> {
    out.write_all(bytes)
        .and_then(|()| out.flush())
        .map_err(|e| Error::runtime("failed to write a response to stdout", e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::FDK_VERSION;

    #[tokio::test]
    async fn failures_get_plain_http_statuses() {
        use crate::error::FunctionError;
        use crate::response::IntoResponse;
        let cases = [
            (Outcome::of("ok".into_response()), 200),
            (Outcome::of(FunctionError::msg("boom").into_response()), 500),
            (
                Outcome::of(crate::response::mark::rejected("bad json".into())),
                400,
            ),
            (
                Outcome::of(crate::response::mark::too_large("big".into())),
                413,
            ),
            (Outcome::Panicked("oops".into()), 500),
            (Outcome::TimedOut, 504),
        ];
        for (outcome, status) in cases {
            let res = finish(outcome, Transport::Stdio, "");
            assert_eq!(res.status(), status);
            assert_eq!(res.headers()["fn-fdk-version"], FDK_VERSION);
        }
    }
}
