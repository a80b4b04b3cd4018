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
use crate::dispatch::{self, App, Rejections};
use crate::error::Error;
use crate::logs;
use crate::protocol::{MAX_BODY_BYTES, MAX_HEADERS, stdio_status};
use crate::response::Response;
use crate::response::encode::{Outcome, TooManyHeaders, identify, without_unsendable};
use crate::response::outcome::{self, Failed, Rejected};

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
    let ctx = Context::from_stdio(call, Arc::clone(&app.env), &app.timeout);
    let mut req = ::http::Request::new(());
    if let Some(gateway) = ctx.gateway() {
        *req.method_mut() = gateway.method().clone();
        *req.uri_mut() = gateway.url().clone();
    }
    *req.headers_mut() = ctx.headers().clone();
    let (parts, ()) = req.into_parts();
    let outcome = dispatch::run(
        app,
        &ctx,
        parts,
        Body::from(body),
        None,
        Rejections::AreClientErrors,
    )
    .await;
    let failed = is_failure(&outcome);
    let mut reply = collect(client_response(outcome, ctx.call_id()), ctx.call_id()).await;
    reply.failed |= failed;
    reply
}

/// Did the call fail, as opposed to return a response of its own?
fn is_failure(outcome: &Outcome) -> bool {
    match outcome {
        Outcome::Returned(res) => {
            res.extensions().get::<Failed>().is_some()
                || res.extensions().get::<Rejected>().is_some()
        }
        Outcome::Panicked(_) | Outcome::TimedOut | Outcome::NotACall { .. } => true,
    }
}

/// The response the client gets for `outcome` of call `call_id`: in these
/// formats the server passed the function's status through (SIO-ERR-1..4).
pub(crate) fn client_response(outcome: Outcome, call_id: &str) -> Response {
    let mut res = match outcome {
        Outcome::Returned(mut res) => {
            if res.extensions().get::<Failed>().is_some() {
                *res.status_mut() = stdio_status::FAILED;
            } else if res.extensions().get::<Rejected>().is_some()
                && !res.status().is_client_error()
            {
                // 400, or the 413 of a body past the limit.
                *res.status_mut() = stdio_status::REJECTED;
            }
            let headers = std::mem::take(res.headers_mut());
            *res.headers_mut() = without_unsendable(headers);
            res
        }
        Outcome::Panicked(message) => outcome::json_error(
            stdio_status::FAILED,
            &format!("the function panicked: {message}"),
        ),
        Outcome::TimedOut => outcome::json_error(
            stdio_status::TIMED_OUT,
            "the function did not finish before its deadline",
        ),
        Outcome::NotACall { method, path } => outcome::json_error(
            stdio_status::FAILED,
            &format!("unexpected request {method} {path}"),
        ),
    };
    let too_many = TooManyHeaders::of(res.headers());
    if identify(res.headers_mut()).is_err() {
        // The user's headers fill the map: a failure these formats can say
        // (SIO-ERR-9).
        let message = too_many.message();
        logs::error(format_args!(
            "call {call_id} failed: {message}; answered 500"
        ));
        res = outcome::json_error(stdio_status::FAILED, &message);
        res.extensions_mut().insert(Failed(message));
        // A fresh map with one entry: this cannot fail.
        let _ = identify(res.headers_mut());
    }
    res
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
                client_response(Outcome::Returned(outcome::failed(message)), call_id).into_parts();
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
            (Outcome::Returned("ok".into_response()), 200),
            (
                Outcome::Returned(FunctionError::msg("boom").into_response()),
                500,
            ),
            (Outcome::Returned(outcome::rejected("bad json".into())), 400),
            (Outcome::Panicked("oops".into()), 500),
            (Outcome::TimedOut, 504),
        ];
        for (outcome, status) in cases {
            let res = client_response(outcome, "");
            assert_eq!(res.status(), status);
            assert_eq!(res.headers()["fn-fdk-version"], FDK_VERSION);
        }
    }
}
