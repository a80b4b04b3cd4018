//! One call, from the socket request to the socket response: build the
//! [`Context`], write the log frame, run the handler inside its span, under
//! the deadline and the panic boundary, classify how it ended (an
//! [`Outcome`]), read what is left of the request body, and finish the
//! answer by the socket's status policy.

use std::future::Future;
use std::ops::Deref;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll, ready};

use http::{Method, Uri};
use hyper::body::Incoming;
use tokio::sync::oneshot;
use tracing::Instrument;
use tracing::instrument::Instrumented;

use crate::after_call::{self, CallEnd, Hook, Pending};
use crate::body::Body;
use crate::config::{Env, LogFrame, default_max_body};
use crate::context::Context;
use crate::deadline::{Deadline, Enforced, FnTimeout, TimedOut};
use crate::extract::Request;
use crate::handler::{BoxFuture, BoxHandler};
use crate::logs;
use crate::outcome::{Outcome, Transport, finish};
use crate::panic::CatchUnwind;
use crate::protocol::{CALL_PATH, INVOKE_PATH};
use crate::response::Response;
use crate::response::encode::CallKind;

/// What every call needs: the handler and the environment, read once.
pub(crate) struct App {
    pub(crate) handler: BoxHandler,
    pub(crate) env: Arc<Env>,
    pub(crate) log_frame: Option<LogFrame>,
    /// The fn timeout, as learned from the calls' deadlines (HS-DL-3).
    pub(crate) timeout: FnTimeout,
    /// The largest body a buffered extractor takes (HS-REQ-9).
    pub(crate) max_body: usize,
    /// Runs after each call, before its answer is complete (HS-LIFE-12).
    pub(crate) after_call: Option<Hook>,
    /// Whether the handler may read the `Context` from the request's
    /// extensions (`Handler::reads_context`): putting it there costs a map
    /// and three allocations a call, which a handler of body extractors
    /// (`String`, `Json<T>`...) does without.
    pub(crate) reads_context: bool,
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
            after_call: None,
            reads_context: true,
        }
    }

    /// The after-call hook of the call that ended as `outcome`, if one is
    /// set.
    pub(crate) fn after_call(&self, ctx: &Context, outcome: &Outcome) -> Option<Pending> {
        let hook = self.after_call.as_ref()?;
        let end = CallEnd::of(outcome, ctx.call_id());
        Some(Pending::new(
            hook,
            end,
            ctx.deadline_instant().map(|d| d.instant),
        ))
    }
}

/// Serves one socket request: the future of the whole call, built without
/// a wrapper of its own, so the connection boxes it once and nothing moves
/// it again while it runs.
pub(crate) fn dispatch(
    app: Arc<App>,
    req: http::Request<Incoming>,
) -> impl Future<Output = Response> + Send + 'static {
    let (parts, incoming) = req.into_parts();
    if http_body::Body::is_end_stream(&incoming) {
        // Nothing to read (`Content-Length: 0`): nothing can be left unread.
        let body = Body::incoming(incoming, None);
        return call(app, parts, body, None);
    }
    let (give_back, unread) = oneshot::channel();
    // Past the limit a buffered extractor stops reading and rejects the
    // call; what it left unread is drained below, never held (HS-REQ-9).
    let body = Body::incoming(incoming, Some(give_back)).limited(app.max_body);
    call(app, parts, body, Some(unread))
}

/// Answers a request whose head the guard refused, over the FDK's limits
/// or not valid HTTP (HS-REQ-10): the handler does not run, the body is read
/// as usual (HS-REQ-5), and the answer is a 502 with `message`.
pub(crate) async fn head_refused(req: http::Request<Incoming>, message: String) -> Response {
    let (parts, incoming) = req.into_parts();
    // The stand-in head carries the call id and the deadline over.
    let (ctx, _) = Context::from_socket(
        parts.headers,
        Arc::new(Env::default()),
        &FnTimeout::default(),
    );
    logs::error(format_args!("call {} failed: {message}", ctx.call_id()));
    if !http_body::Body::is_end_stream(&incoming) {
        drain(incoming, ctx.deadline_instant()).await;
    }
    finish(
        Outcome::HeadRefused(message),
        Transport::Socket(CallKind::Invoke),
        ctx.call_id(),
    )
}

/// Serves one call whose body is `body`; `unread` hands back a socket body
/// the handler dropped before its end. `app` is an `Arc` on the socket (the
/// call's future owns what it uses) and a reference in tests.
pub(crate) async fn call(
    app: impl Deref<Target = App> + Send,
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
        return finish(outcome, Transport::Socket(CallKind::Invoke), "");
    }
    if let Some(frame) = &app.log_frame {
        logs::write_frame(frame, &parts.headers);
    }

    let socket = std::mem::take(&mut parts.headers);
    let (ctx, client) = Context::from_socket(socket, Arc::clone(&app.env), &app.timeout);
    // From here on the request is the client's (HS-REQ-11).
    parts.headers = client;
    match ctx.gateway() {
        Some(gateway) => {
            parts.method = gateway.method().clone();
            parts.uri = gateway.url().clone();
        }
        None => parts.uri = Uri::from_static(INVOKE_PATH),
    }
    let transport = Transport::Socket(if ctx.is_gateway() {
        CallKind::Gateway
    } else {
        CallKind::Invoke
    });
    let outcome = run(&app, &ctx, parts, body, transport).await;
    // The server expects the whole request to be read before the response
    // head (HS-REQ-5). After a timeout there is no time left: answer at once.
    if !matches!(outcome, Outcome::TimedOut)
        && let Some(rest) = unread.and_then(|mut rx| rx.try_recv().ok())
    {
        // Boxed, as the hook below: rare paths, kept out of the size of
        // every call's future.
        Box::pin(drain(rest, ctx.deadline_instant())).await;
    }
    let after = app.after_call(&ctx, &outcome);
    let res = finish(outcome, transport, ctx.call_id());
    match after {
        Some(pending) => Box::pin(after_call::attach(res, pending)).await,
        None => res,
    }
}

/// Starts the handler for one call whose context is `ctx`, inside the
/// call's span, the panic boundary and the deadline; the [`Running`] call
/// says how it ended (logging a failure). Shared by every transport: only
/// the decoding before and the answer after differ, and `transport` says
/// how a rejection is logged.
///
/// Not an `async fn`: the request moves once, into the handler's own boxed
/// future, and the caller awaits a future of a few words instead of one
/// that holds the request.
pub(crate) fn run<'a>(
    app: &App,
    ctx: &'a Context,
    mut parts: http::request::Parts,
    body: Body,
    transport: Transport,
) -> Running<'a> {
    let deadline = ctx.deadline_instant();
    let span = tracing::info_span!(
        "fn_call",
        call_id = ctx.call_id(),
        trace_id = tracing::field::Empty,
        parent_span_id = tracing::field::Empty,
    );
    if !span.is_disabled() {
        // Only read the trace headers when someone listens.
        let trace = ctx.trace_with(&parts.headers);
        span.record("trace_id", trace.trace_id());
        span.record("parent_span_id", trace.parent_span_id());
    }
    if app.reads_context {
        parts.extensions.insert(ctx.clone());
    }

    let req = Request::from_parts(parts, body);
    // Making the future runs user code too (a `Handler::call` written by
    // hand, a state's `Clone`): a panic there is the call's, as one while
    // polling is, not the connection's.
    let future = std::panic::catch_unwind(AssertUnwindSafe(|| (app.handler)(req)))
        .unwrap_or_else(|panic| Box::pin(async move { std::panic::resume_unwind(panic) }));
    let call = CatchUnwind::new(future).instrument(span);
    let handling = match deadline {
        // Already past on arrival: the handler would be dropped at once anyway.
        Some(deadline) if deadline.remaining().is_zero() => Handling::Late,
        Some(deadline) => Handling::Bounded(Enforced::new(call, deadline.instant)),
        None => Handling::Unbounded(call),
    };
    Running {
        ctx,
        transport,
        handling,
    }
}

/// The handler's future as the FDK polls it.
type Call = Instrumented<CatchUnwind<BoxFuture<Response>>>;

/// A started call ([`run`]): resolves to its [`Outcome`], reported.
pub(crate) struct Running<'a> {
    ctx: &'a Context,
    transport: Transport,
    handling: Handling,
}

enum Handling {
    /// Past the deadline on arrival: the handler is not polled.
    Late,
    Bounded(Enforced<Call>),
    Unbounded(Call),
}

impl Future for Running<'_> {
    type Output = Outcome;

    fn poll(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Outcome> {
        let this = self.get_mut();
        let outcome = match &mut this.handling {
            Handling::Late => Outcome::TimedOut,
            Handling::Bounded(call) => match ready!(Pin::new(call).poll(cx)) {
                Ok(result) => returned(result),
                Err(TimedOut) => Outcome::TimedOut,
            },
            Handling::Unbounded(call) => returned(ready!(Pin::new(call).poll(cx))),
        };
        report(this.ctx, this.transport, &outcome);
        Poll::Ready(outcome)
    }
}

fn returned(result: Result<Response, String>) -> Outcome {
    match result {
        Ok(res) => Outcome::of(res),
        Err(panic) => Outcome::Panicked(panic),
    }
}

/// Failures go to the function's log: the server discards 502 bodies.
fn report(ctx: &Context, transport: Transport, outcome: &Outcome) {
    let id = ctx.call_id();
    match outcome {
        Outcome::Failed { message, .. } => logs::error(format_args!("call {id} failed: {message}")),
        Outcome::Rejected { message, .. } if transport.rejections_fail() => {
            logs::error(format_args!("call {id} rejected its input: {message}"));
        }
        Outcome::Rejected { message, .. } => {
            logs::warn(format_args!(
                "call {id} rejected its input (400): {message}"
            ));
        }
        Outcome::Panicked(message) => logs::error(format_args!("call {id} panicked: {message}")),
        Outcome::TimedOut => logs::error(format_args!(
            "call {id} ran past its deadline; answered 504 and dropped the handler"
        )),
        Outcome::Returned(_)
        | Outcome::NotACall { .. }
        | Outcome::HeadRefused(_)
        | Outcome::TooManyHeaders(_) => {}
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
