//! The server loop: accept connections on the socket, hand each to hyper's
//! HTTP/1.1 server, stop cleanly on SIGTERM/SIGINT (HS-LIFE-*).
//!
//! No timeouts are set on connections: the container is frozen between
//! calls, and an FDK that closed an idle connection on its own timer would
//! race a request the server is already sending on it (HS-LIFE-2).

use std::convert::Infallible;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use tokio::net::UnixStream;
use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::dispatch::{App, dispatch};
use crate::error::Error;
use crate::logs;
use crate::protocol::{MAX_HEAD_BYTES, MAX_HEADERS};
use crate::socket::Socket;

/// How long in-flight calls may run on after a stop signal (HS-LIFE-6).
pub(crate) const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// Serves calls on `socket` until `shutdown` resolves, then lets in-flight
/// calls finish (at most [`SHUTDOWN_GRACE`]) and removes the socket files.
pub(crate) async fn serve(socket: Socket, app: Arc<App>, shutdown: impl Future<Output = ()>) {
    let Socket { listener, files } = socket;
    let (stop_tx, stop_rx) = watch::channel(());
    let mut connections = JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            biased;
            () = &mut shutdown => break,
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
            accepted = listener.accept() => match accepted {
                Ok((stream, _addr)) => {
                    connections.spawn(serve_connection(stream, Arc::clone(&app), stop_rx.clone()));
                }
                Err(err) => {
                    // Out of file descriptors, typically (350 in the sandbox):
                    // back off briefly instead of spinning or exiting.
                    logs::warn(format_args!("failed to accept a connection: {err}"));
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            },
        }
    }
    // Stop accepting first, so the server sees a refused dial, not a hang.
    drop(listener);
    let _ = stop_tx.send(());
    let drained = tokio::time::timeout(SHUTDOWN_GRACE, async {
        while connections.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        logs::warn(format_args!(
            "calls still running {}s after the stop signal were abandoned",
            SHUTDOWN_GRACE.as_secs()
        ));
    }
    drop(files);
}

async fn serve_connection(stream: UnixStream, app: Arc<App>, mut stop: watch::Receiver<()>) {
    let service = hyper::service::service_fn(move |req| {
        let app = Arc::clone(&app);
        async move { Ok::<_, Infallible>(dispatch(&app, req).await) }
    });
    let conn = http1::Builder::new()
        .keep_alive(true)
        // No timer is set, so no timeout can fire; say so explicitly.
        .header_read_timeout(None)
        // A trigger forwards every client header: accept heads as large as
        // the server's front end does (HS-REQ-8).
        .max_headers(MAX_HEADERS)
        .max_buf_size(MAX_HEAD_BYTES)
        .serve_connection(TokioIo::new(stream), service);
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
