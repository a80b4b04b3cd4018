//! One call, from the socket request to the socket response: build the
//! [`Context`], write the log frame, run the handler inside its span, under
//! the deadline and the panic boundary, read what is left of the request
//! body, and encode the outcome.

use std::sync::Arc;

use http::Method;
use hyper::body::Incoming;
use tokio::sync::oneshot;
use tracing::Instrument;

use crate::body::Body;
use crate::config::{Env, LogFrame, default_max_body};
use crate::context::Context;
use crate::deadline::{Deadline, Enforced, FnTimeout, TimedOut};
use crate::extract::Request;
use crate::handler::BoxHandler;
use crate::logs;
use crate::panic::CatchUnwind;
use crate::protocol::CALL_PATH;
use crate::response::Response;
use crate::response::encode::{CallKind, Outcome, encode};
use crate::response::outcome::{Failed, Rejected};

/// What every call needs: the handler and the environment, read once.
pub(crate) struct App {
    pub(crate) handler: BoxHandler,
    pub(crate) env: Arc<Env>,
    pub(crate) log_frame: Option<LogFrame>,
    /// The fn timeout, as learned from the calls' deadlines (HS-DL-3).
    pub(crate) timeout: FnTimeout,
    /// The largest body a buffered extractor takes (HS-REQ-9).
    pub(crate) max_body: usize,
}

impl App {
    pub(crate) fn new(handler: BoxHandler, env: Arc<Env>) -> Self {
        let log_frame = env.log_frame();
        // A bad `FDK_MAX_BODY` already stopped a real process at start-up
        // (`Startup`); test harnesses that skip that check get the default.
        let max_body = env
            .max_body()
            .unwrap_or_else(|_| default_max_body(env.memory_mb()));
        Self {
            handler,
            env,
            log_frame,
            timeout: FnTimeout::default(),
            max_body,
        }
    }
}

/// Serves one socket request.
pub(crate) async fn dispatch(app: &App, req: http::Request<Incoming>) -> Response {
    let (parts, incoming) = req.into_parts();
    if http_body::Body::is_end_stream(&incoming) {
        // Nothing to read (`Content-Length: 0`): nothing can be left unread.
        return call(app, parts, Body::incoming(incoming, None), None).await;
    }
    let (give_back, unread) = oneshot::channel();
    // Past the limit a buffered extractor stops reading and rejects the
    // call; what it left unread is drained below, never held (HS-REQ-9).
    let body = Body::incoming(incoming, Some(give_back)).limited(app.max_body);
    call(app, parts, body, Some(unread)).await
}

/// Answers a request whose head the guard refused, over the FDK's limits
/// or not valid HTTP (HS-REQ-10): the handler does not run, the body is read
/// as usual (HS-REQ-5), and the answer is a 502 with `message`.
pub(crate) async fn head_refused(req: http::Request<Incoming>, message: &str) -> Response {
    let (mut parts, incoming) = req.into_parts();
    // The stand-in head carries the call id and the deadline over.
    let ctx = Context::from_socket(
        &mut parts.headers,
        Arc::new(Env::default()),
        &FnTimeout::default(),
    );
    let message = message.to_owned();
    logs::error(format_args!("call {} failed: {message}", ctx.call_id()));
    if !http_body::Body::is_end_stream(&incoming) {
        drain(incoming, ctx.deadline_instant()).await;
    }
    encode(
        Outcome::Returned(crate::response::outcome::failed(message)),
        CallKind::Invoke,
        ctx.call_id(),
    )
}

/// Serves one call whose body is `body`; `unread` hands back a socket body
/// the handler dropped before its end.
pub(crate) async fn call(
    app: &App,
    mut parts: http::request::Parts,
    body: Body,
    unread: Option<oneshot::Receiver<Incoming>>,
) -> Response {
    if parts.method != Method::POST || parts.uri.path() != CALL_PATH {
        logs::warn(format_args!(
            "answering an unexpected {} {} with 502; the Fn server only sends POST {CALL_PATH}",
            parts.method,
            parts.uri.path()
        ));
        let outcome = Outcome::NotACall {
            method: parts.method,
            path: parts.uri.path().to_owned(),
        };
        return encode(outcome, CallKind::Invoke, "");
    }
    if let Some(frame) = &app.log_frame {
        logs::write_frame(frame, &parts.headers);
    }

    let ctx = Context::from_socket(&mut parts.headers, Arc::clone(&app.env), &app.timeout);
    let kind = if ctx.is_gateway() {
        CallKind::Gateway
    } else {
        CallKind::Invoke
    };
    // A rejected input is a failed call for invoke calls (502), a client
    // error for gateway calls (`Fn-Http-Status: 400`).
    let rejections = match kind {
        CallKind::Invoke => Rejections::FailTheCall,
        CallKind::Gateway => Rejections::AreClientErrors,
    };
    let outcome = run(app, &ctx, parts, body, unread, rejections).await;
    encode(outcome, kind, ctx.call_id())
}

/// How a rejected input is logged: as the call's failure, or as a client
/// error (a warning).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Rejections {
    FailTheCall,
    AreClientErrors,
}

/// Runs the handler for one call whose context is `ctx`, inside the call's
/// span, the panic boundary and the deadline; logs a failure; reads what
/// the handler left of the request body. Shared by every format: only the
/// decoding before and the encoding after differ.
pub(crate) async fn run(
    app: &App,
    ctx: &Context,
    mut parts: http::request::Parts,
    body: Body,
    unread: Option<oneshot::Receiver<Incoming>>,
    rejections: Rejections,
) -> Outcome {
    let deadline = ctx.deadline_instant();
    let span = tracing::info_span!(
        "fn_call",
        call_id = ctx.call_id(),
        trace_id = tracing::field::Empty,
        parent_span_id = tracing::field::Empty,
    );
    if !span.is_disabled() {
        // Only read the trace headers when someone listens.
        let trace = ctx.trace();
        span.record("trace_id", trace.trace_id());
        span.record("parent_span_id", trace.parent_span_id());
    }
    parts.extensions.insert(ctx.clone());

    let req = Request::from_parts(parts, body);
    let call = CatchUnwind::new((app.handler)(req)).instrument(span);
    let outcome = match deadline {
        // Already past on arrival: the handler would be dropped at once anyway.
        Some(deadline) if deadline.remaining().is_zero() => Outcome::TimedOut,
        Some(deadline) => match Enforced::new(call, deadline.instant).await {
            Ok(result) => returned(result),
            Err(TimedOut) => Outcome::TimedOut,
        },
        None => returned(call.await),
    };
    report(ctx, rejections, &outcome);

    // The server expects the whole request to be read before the response
    // head. After a timeout there is no time left: answer at once.
    if !matches!(outcome, Outcome::TimedOut)
        && let Some(rest) = unread.and_then(|mut rx| rx.try_recv().ok())
    {
        drain(rest, deadline).await;
    }
    outcome
}

fn returned(result: Result<Response, String>) -> Outcome {
    match result {
        Ok(res) => Outcome::Returned(res),
        Err(panic) => Outcome::Panicked(panic),
    }
}

/// Failures go to the function's log: the server discards 502 bodies.
fn report(ctx: &Context, rejections: Rejections, outcome: &Outcome) {
    let id = ctx.call_id();
    match outcome {
        Outcome::Returned(res) => {
            if let Some(Failed(message)) = res.extensions().get::<Failed>() {
                logs::error(format_args!("call {id} failed: {message}"));
            } else if let Some(Rejected(message)) = res.extensions().get::<Rejected>() {
                if rejections == Rejections::FailTheCall {
                    logs::error(format_args!("call {id} rejected its input: {message}"));
                } else {
                    logs::warn(format_args!(
                        "call {id} rejected its input (400): {message}"
                    ));
                }
            }
        }
        Outcome::Panicked(message) => logs::error(format_args!("call {id} panicked: {message}")),
        Outcome::TimedOut => logs::error(format_args!(
            "call {id} ran past its deadline; answered 504 and dropped the handler"
        )),
        Outcome::NotACall { .. } => {}
    }
}

/// Reads and discards the rest of a request body the handler did not read.
async fn drain(body: Incoming, deadline: Option<Deadline>) {
    let mut body = Body::drain_only(body);
    let read_all = async { while let Some(Ok(_)) = body.chunk().await {} };
    match deadline {
        Some(d) => {
            let _ = tokio::time::timeout_at(d.instant.into(), read_all).await;
        }
        None => read_all.await,
    }
}
