//! The accept loop of `cargo fdk run`: hyper's connection settings (the
//! head's limits and timeout), a task per connection, the stop on Ctrl-C or
//! SIGTERM, and what it does when `accept` fails (Go's backoff, and at most
//! one log line per `ACCEPT_LOG_EVERY`).

use std::convert::Infallible;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::sync::{Notify, Semaphore};

use super::front::{handle, respond};
use super::function::Msg;
use super::options::RunOptions;
use crate::error::{Error, Result};

/// How many request bodies may be held at once, across all connections:
/// the one being served and the next one. The function takes one call at
/// a time, so more would only queue memory (up to `MAX_BODY` each) that
/// many clients could pile up; the others wait, holding only their head.
const BODY_SLOTS: usize = 2;
/// How long a client has to send a request head (counted from when the
/// connection starts waiting for one, so an idle keep-alive connection is
/// closed after it too). The Fn server sets none by default
/// (`FN_REQUEST_HEADER_READ_TIMEOUT`); a stand-in on a developer's machine
/// should not keep a connection, and its descriptor, for a client that
/// never finishes one.
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// The most bytes a request head (request line to blank line) may have:
/// Go's `http.DefaultMaxHeaderBytes` (1 MiB, the Fn server's
/// `FN_MAX_HEADER_SIZE` default) plus the 4096 bytes Go's server lets
/// through past it. Over it: `431`, as from Go.
const MAX_HEAD: usize = (1 << 20) + 4096;
/// hyper's read buffer: above [`MAX_HEAD`], so that only the exact check
/// on a complete head decides (hyper's buffer check alone is approximate:
/// a read may overshoot it by the buffer's spare capacity).
const READ_BUFFER: usize = MAX_HEAD + (64 << 10);
/// The most header lines a request head may have. Go counts none (only
/// bytes), but hyper needs a number: it parses into a table of this many
/// entries (allocated per parse), and the `http` crate's `HeaderMap` holds
/// at most 24,576 names (past that it panics). So: 16,384, which any
/// 1 MiB head whose lines average 64 bytes or more fits in. More lines:
/// `431`.
const MAX_HEADERS: usize = 1 << 14;
/// The wait after a failed `accept`, doubled on each failure in a row up to
/// [`ACCEPT_BACKOFF_MAX`]: Go's `net/http` server does the same (5 ms to
/// 1 s) for temporary errors such as running out of descriptors, which
/// would otherwise make the accept loop spin.
const ACCEPT_BACKOFF_MIN: Duration = Duration::from_millis(5);
/// See [`ACCEPT_BACKOFF_MIN`].
const ACCEPT_BACKOFF_MAX: Duration = Duration::from_secs(1);
/// At most one log line per this long about failed accepts.
const ACCEPT_LOG_EVERY: Duration = Duration::from_secs(10);
/// How long hyper gets to flush an answer cut short before its connection
/// is closed (the bytes are a few hundred at most, on loopback).
const CUT_GRACE: Duration = Duration::from_millis(100);

pub(super) async fn serve(
    options: RunOptions,
    jobs: mpsc::Sender<Msg>,
    started: Instant,
) -> Result<()> {
    let listener = tokio::net::TcpListener::bind(options.addr)
        .await
        .map_err(|e| Error::new(format!("could not listen on {}: {e}", options.addr)))?;
    let name = &options.func.name;
    let addr = options.addr;
    println!("Serving {name} on http://{addr} (Ctrl-C stops)");
    println!("  invoke:   curl -d 'Jo' http://{addr}/invoke/{name}");
    for trigger in &options.func.triggers {
        println!(
            "  trigger:  curl http://{addr}/t/{}{}   ({})",
            options.app, trigger.source, trigger.name
        );
    }
    println!("  or:       cargo fdk invoke --body 'Jo'");
    // Reported once: the "time to the first answered call".
    let first = Arc::new(Mutex::new(Some(started)));
    let shared = Arc::new(options);
    let slots = Arc::new(Semaphore::new(BODY_SLOTS));
    let mut builder = http1::Builder::new();
    builder
        // Go writes canonical header names (`Fn-Call-Id`), not hyper's
        // lower case.
        .title_case_headers(true)
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT)
        .max_buf_size(READ_BUFFER)
        .max_header_size(MAX_HEAD)
        .max_headers(MAX_HEADERS);
    let mut accept_errors = AcceptErrors::default();
    let stop = stop_signal();
    tokio::pin!(stop);
    loop {
        let (stream, _) = tokio::select! {
            () = &mut stop => {
                println!("stopping");
                return Ok(());
            }
            accepted = listener.accept() => match accepted {
                Ok(pair) => {
                    if let Some(line) = accept_errors.succeeded(Instant::now()) {
                        eprintln!("{line}");
                    }
                    pair
                }
                Err(e) => {
                    let (wait, line) = accept_errors.failed(Instant::now(), &e.to_string());
                    if let Some(line) = line {
                        eprintln!("{line}");
                    }
                    // Stop still works while waiting.
                    tokio::select! {
                        () = &mut stop => {
                            println!("stopping");
                            return Ok(());
                        }
                        () = tokio::time::sleep(wait) => {}
                    }
                    continue;
                }
            },
        };
        let jobs = jobs.clone();
        let slots = Arc::clone(&slots);
        let builder = builder.clone();
        let options = Arc::clone(&shared);
        let first = Arc::clone(&first);
        // Told when an answer is shorter than its `Content-Length`: the
        // connection then ends, as the Fn server's does.
        let cut = Arc::new(Notify::new());
        let cut_body = Arc::clone(&cut);
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |req| {
                let jobs = jobs.clone();
                let slots = Arc::clone(&slots);
                let options = Arc::clone(&options);
                let first = Arc::clone(&first);
                let cut = Arc::clone(&cut_body);
                async move {
                    let since_start = first.lock().ok().and_then(|mut f| f.take());
                    let res = respond(handle(&options, &jobs, &slots, req).await, cut);
                    if let Some(t) = since_start {
                        println!(
                            "first call answered {} ms after `cargo fdk run` started",
                            t.elapsed().as_millis()
                        );
                    }
                    Ok::<_, Infallible>(res)
                }
            });
            let conn = builder.serve_connection(TokioIo::new(stream), service);
            tokio::pin!(conn);
            tokio::select! {
                _ = conn.as_mut() => {}
                () = cut.notified() => {
                    // hyper has the short body; let it flush, then close.
                    let _ = tokio::time::timeout(CUT_GRACE, conn.as_mut()).await;
                }
            }
        });
    }
}

async fn stop_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    match (
        signal(SignalKind::interrupt()),
        signal(SignalKind::terminate()),
    ) {
        (Ok(mut int), Ok(mut term)) => {
            tokio::select! {
                _ = int.recv() => {}
                _ = term.recv() => {}
            }
        }
        _ => std::future::pending::<()>().await,
    }
}

/// What the accept loop does about failed accepts: wait longer after each
/// failure in a row (Go's 5 ms doubling to 1 s), and say so in at most one
/// line per [`ACCEPT_LOG_EVERY`], with how many failures it did not print.
/// Out of descriptors, a loop that neither waited nor held back its log
/// wrote over 100,000 lines a second.
#[derive(Debug, Default)]
struct AcceptErrors {
    /// The current wait; `None` after a successful accept.
    wait: Option<Duration>,
    /// When the last line was printed.
    last_line: Option<Instant>,
    /// Failures since then that no line has reported.
    unreported: u64,
}

impl AcceptErrors {
    /// After a failed accept at `now`: how long to wait before the next,
    /// and the line to print, if one is due.
    fn failed(&mut self, now: Instant, error: &str) -> (Duration, Option<String>) {
        let wait = self
            .wait
            .map_or(ACCEPT_BACKOFF_MIN, |w| (w * 2).min(ACCEPT_BACKOFF_MAX));
        self.wait = Some(wait);
        let due = self
            .last_line
            .is_none_or(|last| now.saturating_duration_since(last) >= ACCEPT_LOG_EVERY);
        if !due {
            self.unreported += 1;
            return (wait, None);
        }
        let more = match std::mem::take(&mut self.unreported) {
            0 => String::new(),
            n => format!(" ({n} more since the last line)"),
        };
        self.last_line = Some(now);
        let line = format!(
            "accept failed: {error}{more}; retrying in up to {} ms, at most one line per {} s",
            ACCEPT_BACKOFF_MAX.as_millis(),
            ACCEPT_LOG_EVERY.as_secs()
        );
        (wait, Some(line))
    }

    /// After a successful accept at `now`: the wait starts over, and the
    /// failures not yet reported get a line if one is due. Every line goes
    /// through the same gate, so a server that flaps between failing and
    /// succeeding still prints at most one line per [`ACCEPT_LOG_EVERY`].
    fn succeeded(&mut self, now: Instant) -> Option<String> {
        self.wait.take()?;
        let due = self
            .last_line
            .is_none_or(|last| now.saturating_duration_since(last) >= ACCEPT_LOG_EVERY);
        if self.unreported == 0 || !due {
            return None;
        }
        let n = std::mem::take(&mut self.unreported);
        self.last_line = Some(now);
        Some(format!(
            "accepting connections again ({n} failed accepts since the last line)"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Out of descriptors, `accept` fails at once, every time: the loop
    /// must wait longer each time (to 1 s) and print one line per 10 s,
    /// not one per failure.
    #[test]
    fn failed_accepts_back_off_and_print_rarely() {
        let mut errors = AcceptErrors::default();
        let start = Instant::now();
        let mut now = start;
        let mut lines = Vec::new();
        let mut waits = Vec::new();
        // A minute of failures, the clock moving by each wait.
        while now.duration_since(start) < Duration::from_secs(60) {
            let (wait, line) = errors.failed(now, "Too many open files (os error 24)");
            waits.push(wait);
            lines.extend(line);
            now += wait;
        }
        assert_eq!(waits[..3], [5, 10, 20].map(Duration::from_millis));
        assert_eq!(waits.last(), Some(&ACCEPT_BACKOFF_MAX));
        // About 70 failures in the minute, 6 lines (one per 10 s).
        assert!(waits.len() < 100, "{}", waits.len());
        assert_eq!(lines.len(), 6, "{lines:#?}");
        assert!(lines[0].starts_with("accept failed: Too many open files (os error 24); retrying"));
        assert!(
            lines[1].contains(" more since the last line)"),
            "{}",
            lines[1]
        );
        // Even a clock that does not move (failures in a burst) gives one.
        let mut burst = AcceptErrors::default();
        let printed = (0..100_000)
            .filter(|_| burst.failed(start, "x").1.is_some())
            .count();
        assert_eq!(printed, 1);
        // Recovery: the wait starts over; the count waits for its line
        // until one is due, so flapping between failure and success stays
        // at one line per 10 s.
        assert_eq!(burst.succeeded(start), None);
        assert_eq!(burst.failed(start, "x"), (ACCEPT_BACKOFF_MIN, None));
        assert_eq!(burst.succeeded(start + Duration::from_secs(1)), None);
        assert_eq!(
            burst.succeeded(start + ACCEPT_LOG_EVERY).as_deref(),
            None,
            "no failure since the last success"
        );
        burst.failed(start + Duration::from_secs(2), "x");
        assert_eq!(
            burst.succeeded(start + ACCEPT_LOG_EVERY).as_deref(),
            Some("accepting connections again (100001 failed accepts since the last line)")
        );
        assert_eq!(burst.succeeded(start + ACCEPT_LOG_EVERY), None);
    }
}
