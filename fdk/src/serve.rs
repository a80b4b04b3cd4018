//! The server loop: accept connections on the socket, hand each to hyper's
//! HTTP/1.1 server, stop cleanly on SIGTERM/SIGINT (HS-LIFE-*).
//!
//! No timeouts are set on connections: the container is frozen between
//! calls, and an FDK that closed an idle connection on its own timer would
//! race a request the server is already sending on it (HS-LIFE-2).

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll, ready};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body::{Frame, SizeHint};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use std::sync::atomic::{AtomicUsize, Ordering};
use tokio::net::UnixStream;
use tokio::sync::{Notify, watch};
use tokio::task::JoinSet;

use crate::body::{Body, BodyError};
use crate::dispatch::{self, App, dispatch};
use crate::error::Error;
use crate::handler::BoxFuture;
use crate::head::{Conn, Guarded, Mark};
use crate::logs;
use crate::protocol::MAX_HEAD_BYTES;
use crate::response::Response;
use crate::shutdown::{Seconds, Shutdown};
use crate::socket::Socket;

/// How long connections with no call in flight get to close on their own
/// after a stop signal before they are dropped.
const SETTLE: Duration = Duration::from_millis(100);

/// Room in hyper's read buffer past the largest head: body bytes that
/// arrive with it.
const HYPER_BUF_SLACK: usize = 64 << 10;

/// Serves calls on `socket` until `signal` resolves, then lets in-flight
/// calls finish (within the shutdown grace), removes the socket files and
/// runs the shutdown hook in what is left of the grace (HS-LIFE-6,
/// HS-LIFE-11).
pub(crate) async fn serve(
    socket: Socket,
    app: Arc<App>,
    signal: impl Future<Output = ()>,
    shutdown: Shutdown,
) {
    let Socket { listener, files } = socket;
    let (stop_tx, stop_rx) = watch::channel(());
    let in_flight = Arc::new(Calls::default());
    let mut connections = JoinSet::new();
    let mut accept_errors = RateLimited::new(ACCEPT_ERROR_SUMMARY);
    tokio::pin!(signal);
    loop {
        tokio::select! {
            biased;
            () = &mut signal => break,
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
            accepted = listener.accept() => match accepted {
                Ok((stream, _addr)) => {
                    let calls = Arc::clone(&in_flight);
                    connections.spawn(serve_connection(stream, Arc::clone(&app), calls, stop_rx.clone()));
                }
                Err(err) => {
                    // Out of file descriptors, typically (350 in the sandbox):
                    // the listener stays readable, so every retry fails at
                    // once. One line, then a summary at most every
                    // ACCEPT_ERROR_SUMMARY, and a short sleep so the loop
                    // does not spin (a closing connection frees a slot).
                    if let Some(line) = accept_errors.note(Instant::now(), &err) {
                        logs::warn(format_args!("{line}"));
                    }
                    tokio::time::sleep(ACCEPT_BACKOFF).await;
                }
            },
        }
    }
    // One grace from the signal on, for the calls and the hook together.
    let deadline = shutdown.deadline_from_now();
    // Stop accepting first, so the server sees a refused dial, not a hang.
    drop(listener);
    let _ = stop_tx.send(());
    // Wait for calls, not connections: an idle connection, or one that has
    // sent half a head, carries no call and is simply closed.
    let drained = tokio::time::timeout_at(deadline, async {
        loop {
            tokio::select! {
                joined = connections.join_next() => if joined.is_none() { break },
                () = in_flight.idle() => {
                    // No call in flight: give the last response's final
                    // bytes (and a call whose head just arrived) a moment;
                    // whatever is still open after that is idle.
                    match tokio::time::timeout(SETTLE, connections.join_next()).await {
                        Ok(None) => break,
                        Ok(Some(_)) => {}
                        Err(_) if in_flight.count() == 0 => break,
                        Err(_) => {}
                    }
                }
            }
        }
    })
    .await;
    let running = in_flight.count();
    if drained.is_err() && running > 0 {
        logs::warn(format_args!(
            "{running} call(s) still running {} after the stop signal were abandoned",
            Seconds(shutdown.grace())
        ));
    }
    connections.abort_all();
    while connections.join_next().await.is_some() {}
    // The files go before the hook runs: a hook that hangs, panics or is
    // cut short by a SIGKILL leaves nothing behind.
    drop(files);
    shutdown.run_hook(deadline).await;
}

/// How long the accept loop sleeps after a failed accept.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);
/// At most one summary of suppressed accept errors per this interval.
const ACCEPT_ERROR_SUMMARY: Duration = Duration::from_secs(10);

/// A log line that would repeat many times a second (a failing accept):
/// the first one is logged, the rest are counted and summed up in one line
/// at most every `every`.
#[derive(Debug)]
pub(crate) struct RateLimited {
    every: Duration,
    /// When the last line was logged; `None` before the first.
    last: Option<Instant>,
    suppressed: u64,
}

impl RateLimited {
    pub(crate) fn new(every: Duration) -> Self {
        Self {
            every,
            last: None,
            suppressed: 0,
        }
    }

    /// Notes a failed accept at `now`; returns the line to log, if any.
    pub(crate) fn note(&mut self, now: Instant, err: &std::io::Error) -> Option<String> {
        match self.last {
            None => {
                self.last = Some(now);
                Some(format!(
                    "failed to accept a connection: {err} (further failures are summed up every {}s)",
                    self.every.as_secs()
                ))
            }
            Some(last) if now.duration_since(last) >= self.every => {
                let more = std::mem::take(&mut self.suppressed);
                self.last = Some(now);
                Some(format!(
                    "failed to accept a connection: {err} ({} more failure(s) in the last {}s)",
                    more + 1,
                    now.duration_since(last).as_secs()
                ))
            }
            Some(_) => {
                self.suppressed += 1;
                None
            }
        }
    }
}

/// The calls in flight: counted on every call, waited for only at a stop,
/// so a call pays two atomic operations and no lock unless it is the last.
#[derive(Debug, Default)]
pub(crate) struct Calls {
    running: AtomicUsize,
    /// Woken when the count drops to zero.
    none_left: Notify,
}

impl Calls {
    fn count(&self) -> usize {
        self.running.load(Ordering::Acquire)
    }

    /// Resolves once no call is in flight.
    async fn idle(&self) {
        loop {
            let notified = self.none_left.notified();
            tokio::pin!(notified);
            // Registered before the count is read: a drop to zero between
            // the two still wakes this waiter.
            notified.as_mut().enable();
            if self.count() == 0 {
                return;
            }
            notified.await;
        }
    }
}

/// Counts a call as in flight from its request head until its response
/// body is done (or dropped).
struct InFlight(Arc<Calls>);

impl InFlight {
    fn start(calls: &Arc<Calls>) -> Self {
        calls.running.fetch_add(1, Ordering::AcqRel);
        Self(Arc::clone(calls))
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        if self.0.running.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.0.none_left.notify_waiters();
        }
    }
}

/// The response body on the socket: when hyper is done with it (written or
/// dropped), the call is over and the next byte on the connection starts a
/// new head.
struct Tracked {
    body: Body,
    conn: Arc<Conn>,
    _call: InFlight,
}

impl Drop for Tracked {
    fn drop(&mut self) {
        self.conn.response_done();
    }
}

impl http_body::Body for Tracked {
    type Data = Bytes;
    type Error = BodyError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut TaskContext<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BodyError>>> {
        Pin::new(&mut self.get_mut().body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

/// The service's future for one request: the call's answer, then the
/// response body that tracks it.
struct Answer {
    answer: BoxFuture<Response>,
    /// Taken when the answer is ready.
    tracking: Option<(Arc<Conn>, InFlight)>,
}

impl Future for Answer {
    type Output = Result<http::Response<Tracked>, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let res = ready!(this.answer.as_mut().poll(cx));
        let Some((conn, call)) = this.tracking.take() else {
            // Polled again after it was ready: hyper never does.
            return Poll::Pending;
        };
        Poll::Ready(Ok(res.map(|body| Tracked {
            body,
            conn,
            _call: call,
        })))
    }
}

pub(crate) async fn serve_connection(
    stream: UnixStream,
    app: Arc<App>,
    calls: Arc<Calls>,
    mut stop: watch::Receiver<()>,
) {
    let conn = Arc::new(Conn::default());
    let io = Guarded::new(stream, Arc::clone(&conn));
    let service = hyper::service::service_fn(move |mut req: http::Request<Incoming>| {
        let call = InFlight::start(&calls);
        // The call's whole future, boxed once here: hyper keeps the small
        // `Answer` in its state, and nothing moves the call again.
        let answer: BoxFuture<Response> = match conn.take_mark() {
            None => Box::pin(dispatch(Arc::clone(&app), req)),
            Some(Mark::Headers(headers)) => {
                *req.headers_mut() = headers;
                Box::pin(dispatch(Arc::clone(&app), req))
            }
            Some(Mark::TooLarge(too_large)) => {
                Box::pin(dispatch::head_refused(req, too_large.message()))
            }
            Some(Mark::Invalid(message)) => Box::pin(dispatch::head_refused(req, message)),
        };
        Answer {
            answer,
            tracking: Some((Arc::clone(&conn), call)),
        }
    });
    let conn = http1::Builder::new()
        .keep_alive(true)
        // No timer is set, so no timeout can fire; say so explicitly.
        .header_read_timeout(None)
        // `max_headers` stays hyper's default (HYPER_HEADERS, parsed on the
        // stack): the guard hands hyper no head with more lines, and no head
        // over MAX_HEAD_BYTES, so hyper's own answer to a large head (431)
        // never goes out (HS-REQ-8, HS-REQ-10). The buffer also holds the
        // first body bytes.
        .max_buf_size(MAX_HEAD_BYTES + HYPER_BUF_SLACK)
        .serve_connection(TokioIo::new(io), service);
    tokio::pin!(conn);
    let result = tokio::select! {
        result = conn.as_mut() => result,
        _ = stop.changed() => {
            // Finish the call in flight (if any), then close.
            conn.as_mut().graceful_shutdown();
            conn.await
        }
    };
    if let Err(err) = result {
        // A peer that hangs up mid-call, or bytes that are not HTTP: this
        // connection ends, the process and other connections go on.
        if !err.is_incomplete_message() {
            logs::warn(format_args!("connection ended with an error: {err}"));
        }
    }
}

/// Resolves on the first SIGTERM or SIGINT.
pub(crate) fn stop_signal() -> Result<impl Future<Output = ()>, Error> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate())
        .map_err(|e| Error::runtime("failed to install the SIGTERM handler", e))?;
    let mut int = signal(SignalKind::interrupt())
        .map_err(|e| Error::runtime("failed to install the SIGINT handler", e))?;
    Ok(async move {
        tokio::select! {
            _ = term.recv() => {}
            _ = int.recv() => {}
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_accept_failures_are_one_line_then_a_summary_per_interval() {
        let every = Duration::from_secs(10);
        let mut limited = RateLimited::new(every);
        let err = std::io::Error::from_raw_os_error(libc::EMFILE);
        let start = Instant::now();
        let first = limited.note(start, &err).unwrap();
        assert!(first.contains("failed to accept a connection"), "{first}");
        // 89 failures a second, as the attack measured: all counted, none logged.
        let mut logged = Vec::new();
        for i in 1..890u64 {
            let at = start + Duration::from_millis(i * 1000 / 89);
            logged.extend(limited.note(at, &err));
        }
        assert_eq!(logged.len(), 0, "{logged:?}");
        let summary = limited.note(start + every, &err).unwrap();
        assert!(
            summary.contains("890 more failure(s) in the last 10s"),
            "{summary}"
        );
        // The count starts over after a summary.
        assert!(
            limited
                .note(start + every + Duration::from_secs(1), &err)
                .is_none()
        );
        let next = limited.note(start + every * 2, &err).unwrap();
        assert!(next.contains("2 more failure(s)"), "{next}");
    }
}
