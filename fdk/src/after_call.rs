//! The after-call hook ([`Function::after_call`](crate::Function::after_call)):
//! user code that runs once per call, after the handler and before the
//! answer's last byte reaches the server (HS-LIFE-12).
//!
//! The Fn server freezes the container about 50 ms after a call's answer
//! is complete, and a frozen process does nothing until the next call: a
//! span exporter or a metrics flush that runs after the answer may never
//! run. So the hook runs *inside* the answer. On the socket the response
//! body is wrapped ([`Hooked`]): when the handler's body ends, the hook is
//! polled to completion before the last data frame (a body of known
//! length) or the end of the stream (a chunked body) is handed to hyper.
//! A body known to be empty never reaches hyper's body loop, so its hook
//! runs before the response head is handed over. With a stdin/stdout
//! format the hook runs after the body is collected and before the
//! response is written.
//!
//! The hook is bounded by the call's deadline (the instant the FDK itself
//! enforces, ahead of the server's), or [`NO_DEADLINE_BOUND`] for a call
//! without one; a hook still running then is dropped with a warning, and a
//! hook that panics is one error line. Either way the answer goes out.

use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll, ready};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::StatusCode;
use http_body::{Frame, SizeHint};

use crate::body::{Body, BodyError};
use crate::handler::BoxFuture;
use crate::logs;
use crate::outcome::Outcome;
use crate::panic::{CatchUnwind, panic_message};

/// How long a hook may run for a call without a deadline (a local run or a
/// test: the Fn server always sends one).
pub(crate) const NO_DEADLINE_BOUND: Duration = Duration::from_secs(1);

/// The user's hook, boxed and shareable between calls.
pub(crate) type Hook = Arc<dyn Fn(CallEnd) -> BoxFuture<()> + Send + Sync>;

/// Boxes `hook`.
pub(crate) fn boxed<F, Fut>(hook: F) -> Hook
where
    F: Fn(CallEnd) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    Arc::new(move |end| Box::pin(hook(end)))
}

/// How a call ended, as the [after-call hook](crate::Function::after_call)
/// sees it.
///
/// ```
/// async fn flush(call: fdk::CallEnd) {
///     if call.is_failure() {
///         eprintln!("call {} failed with {}", call.call_id(), call.status());
///     }
/// }
/// # let _ = flush;
/// ```
#[derive(Debug, Clone)]
pub struct CallEnd {
    call_id: String,
    failed: bool,
    status: StatusCode,
}

impl CallEnd {
    pub(crate) fn of(outcome: &Outcome, call_id: &str) -> Self {
        Self {
            call_id: call_id.to_owned(),
            failed: outcome.is_failure(),
            status: outcome.client_status(),
        }
    }

    /// The call's id (`Fn-Call-Id`), as [`Context::call_id`](crate::Context::call_id)
    /// gave it to the handler.
    pub fn call_id(&self) -> &str {
        &self.call_id
    }

    /// Did the call fail: the handler returned an error or panicked, an
    /// extractor rejected the input, the deadline passed, or the response
    /// body failed while it was sent?
    pub fn is_failure(&self) -> bool {
        self.failed
    }

    /// The call's HTTP status as the handler's client would put it, the
    /// same on every transport: the handler's own status when it returned
    /// a response, 400 (or 413) for a rejected input, 500 for an error or
    /// a panic, 504 past the deadline. (On the socket the FDK carries
    /// these as HS-RESP-1 says: a failure travels as 502.)
    pub fn status(&self) -> StatusCode {
        self.status
    }
}

/// The hook of one call, ready to run.
pub(crate) struct Pending {
    hook: Hook,
    end: CallEnd,
    bound: Instant,
}

impl Pending {
    /// `hook` for the call that ended as `end`, bounded by `deadline`.
    pub(crate) fn new(hook: &Hook, end: CallEnd, deadline: Option<Instant>) -> Self {
        let bound = deadline.unwrap_or_else(|| Instant::now() + NO_DEADLINE_BOUND);
        Self {
            hook: Arc::clone(hook),
            end,
            bound,
        }
    }

    /// Marks the call failed (its response body failed on the way out).
    pub(crate) fn fail(&mut self) {
        self.end.failed = true;
    }

    /// Runs the hook to its end, its bound, or its panic; never fails.
    pub(crate) fn run(self) -> BoxFuture<()> {
        let Self { hook, end, bound } = self;
        Box::pin(async move {
            let call_id = end.call_id.clone();
            // Building the future runs user code too: inside the boundary.
            let fut = match catch_unwind(AssertUnwindSafe(|| hook(end))) {
                Ok(fut) => fut,
                Err(payload) => return panicked(&call_id, &panic_message(payload.as_ref())),
            };
            // A bound already past still polls the hook once (tokio polls
            // the future before the timer), so a synchronous flush runs.
            match tokio::time::timeout_at(bound.into(), CatchUnwind::new(fut)).await {
                Ok(Ok(())) => {}
                Ok(Err(message)) => panicked(&call_id, &message),
                Err(_) => logs::warn(format_args!(
                    "the after-call hook of call {call_id} did not finish before the call's \
                     deadline; it was stopped"
                )),
            }
        })
    }
}

fn panicked(call_id: &str, message: &str) {
    logs::error(format_args!(
        "the after-call hook of call {call_id} panicked: {message}"
    ));
}

/// Runs `pending` before `res` is handed to the server: inline when the
/// body is known to be empty (hyper would write the whole answer with the
/// head), otherwise inside the body ([`Hooked`]).
pub(crate) async fn attach(
    res: crate::response::Response,
    pending: Pending,
) -> crate::response::Response {
    use http_body::Body as _;
    let body = res.body();
    if body.is_end_stream() || body.size_hint().exact() == Some(0) {
        pending.run().await;
        return res;
    }
    res.map(|body| Body::wrap(Hooked::new(body, pending)))
}

/// A response body that runs the after-call hook before its last frame.
pub(crate) struct Hooked {
    inner: Body,
    /// Bytes still to come when the length is known: the frame that takes
    /// this to zero is the last one hyper writes.
    remaining: Option<u64>,
    state: State,
}

enum State {
    /// The body is still being sent.
    Sending(Pending),
    /// The hook runs; `last` is what is handed over when it is done.
    Running {
        hook: BoxFuture<()>,
        last: Option<Result<Frame<Bytes>, BodyError>>,
    },
    /// The hook ran; the body has ended.
    Done,
}

impl Hooked {
    fn new(inner: Body, pending: Pending) -> Self {
        use http_body::Body as _;
        Self {
            remaining: inner.size_hint().exact(),
            inner,
            state: State::Sending(pending),
        }
    }

    /// Starts the hook; `last` goes out once it is done.
    fn start(&mut self, last: Option<Result<Frame<Bytes>, BodyError>>) {
        if let State::Sending(mut pending) = std::mem::replace(&mut self.state, State::Done) {
            if matches!(last, Some(Err(_))) {
                pending.fail();
            }
            self.state = State::Running {
                hook: pending.run(),
                last,
            };
        }
    }
}

impl Drop for Hooked {
    fn drop(&mut self) {
        // The server hung up (or hyper stopped reading) before the end: the
        // hook still runs, on its own task, within its bound.
        let hook = match std::mem::replace(&mut self.state, State::Done) {
            State::Sending(pending) => pending.run(),
            State::Running { hook, .. } => hook,
            State::Done => return,
        };
        if let Ok(handle) = tokio::runtime::Handle::try_current() {
            drop(handle.spawn(hook));
        }
    }
}

impl http_body::Body for Hooked {
    type Data = Bytes;
    type Error = BodyError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut TaskContext<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BodyError>>> {
        let this = self.get_mut();
        loop {
            match &mut this.state {
                State::Done => return Pin::new(&mut this.inner).poll_frame(cx),
                State::Running { hook, last } => {
                    ready!(hook.as_mut().poll(cx));
                    let last = last.take();
                    this.state = State::Done;
                    return Poll::Ready(last);
                }
                State::Sending(_) => {
                    let frame = ready!(Pin::new(&mut this.inner).poll_frame(cx));
                    let is_last = match &frame {
                        None | Some(Err(_)) => true,
                        Some(Ok(frame)) => match (frame.data_ref(), this.remaining.as_mut()) {
                            (Some(data), Some(remaining)) => {
                                *remaining = remaining.saturating_sub(data.len() as u64);
                                *remaining == 0
                            }
                            // Trailers end a body.
                            (None, _) => frame.is_trailers(),
                            (Some(_), None) => false,
                        },
                    };
                    if !is_last {
                        return Poll::Ready(frame);
                    }
                    this.start(frame);
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        // Until the hook has run the body is not over: hyper must ask again.
        matches!(self.state, State::Done) && self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
