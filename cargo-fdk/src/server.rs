//! `cargo fdk run`: a local stand-in for the Fn server.
//!
//! The front end is HTTP/1.1 on 127.0.0.1 with the server's two entry
//! points, `POST /invoke/<function>` and the HTTP triggers
//! `/t/<app>/<source>`. The back end is the server emulator's agent
//! ([`fn_emulator::Agent`], shared with `fdk-conformance`): the function runs hot, started
//! with the server's environment and judged ready by the same inotify
//! event, frozen between calls, called with the server's exact bytes, and
//! every answer classified as the server would (the client's status and
//! message, and whether the container is kept or killed). Nothing about
//! the classification is written twice: this module only turns the
//! agent's view of a call into the bytes the server's front end writes
//! ([`wire`]), with the server's exact error bodies and head order.
//!
//! One call at a time reaches the function, as on the server: the agent
//! lives on a thread of its own and takes calls from a queue.
//!
//! The front end is on a developer's machine but may still meet hostile
//! clients: its limits (head size as Go's, header and body timeouts, at
//! most `BODY_SLOTS` bodies in memory, a quiet backoff when `accept`
//! fails) are the constants below, and cargo-fdk/README.md compares each
//! with the Fn server.

mod wire;

use std::convert::Infallible;
use std::io::{Read, Seek, SeekFrom, Write};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use fn_emulator::golang::canonical_key;
use fn_emulator::http1::Head;
use fn_emulator::outcome::{CallKind, Fate, HOP_BY_HOP, ServerView};
use fn_emulator::wire as wire_names;
use fn_emulator::{Agent, AgentError, Call, Exchange};
use fn_emulator::{ResponseError, StartOptions};
use http_body_util::BodyExt;

use crate::sandbox::Sandbox;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::sync::{Notify, Semaphore, oneshot};

use crate::error::{Error, Result};
use crate::funcfile::FuncFile;
use wire::{GoHeader, Raw, Wire, go_write, gunzip, server_error};

/// The Fn CLI's limit on an invoke body (`fn invoke`: 10 MiB).
const MAX_BODY: usize = 10 << 20;
/// How many request bodies may be held at once, across all connections:
/// the one being served and the next one. The function takes one call at
/// a time, so more would only queue memory (up to `MAX_BODY` each) that
/// many clients could pile up; the others wait, holding only their head.
const BODY_SLOTS: usize = 2;
/// How long a client has to send a whole request body once its turn has
/// come: a client that trickles it would otherwise hold a body slot.
const BODY_READ_TIMEOUT: Duration = Duration::from_secs(30);
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
/// Fn's default call timeout, when func.yaml sets none.
const DEFAULT_TIMEOUT_S: u32 = 30;
/// The server's answer to an error that is not one of its own API errors
/// (`api/server/error_response.go`), a body cut short among them.
const INTERNAL: &str = "internal server error";
/// How long hyper gets to flush an answer cut short before its connection
/// is closed (the bytes are a few hundred at most, on loopback).
const CUT_GRACE: Duration = Duration::from_millis(100);

/// What `cargo fdk run` serves.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// The function binary (built by `cargo fdk build`, or given).
    pub binary: PathBuf,
    /// The function's func.yaml (name, timeout, memory, config, triggers).
    pub func: FuncFile,
    /// The app name in trigger URLs (`/t/<app>/…`).
    pub app: String,
    /// Where to listen.
    pub addr: SocketAddr,
    /// Freeze the function between calls, as the server's freezer does.
    pub freeze: bool,
    /// When `cargo fdk run` started (before building), for the timings it
    /// prints.
    pub started: Instant,
    /// `--watch`: rebuild (or re-read `--binary`) on a change and swap the
    /// function, keeping the endpoint up.
    pub watch: Option<crate::watch::Source>,
    /// Start the function in the server's container where this machine
    /// can build it (not `--no-sandbox`); see [`crate::sandbox`].
    pub sandbox: bool,
}

/// What the function's thread is asked to do.
enum Msg {
    /// Serve one call.
    Call(Job),
    /// Serve this build from now on (`--watch`): started before the old
    /// one stops, so a build that does not start changes nothing.
    Swap(crate::watch::NewBuild),
    /// Stop: the agent kills the function and removes its directory.
    Stop,
}

/// One request for the function, and where its answer goes.
struct Job {
    call: Call,
    label: String,
    /// The server's transport asked for gzip itself (the call carries no
    /// `Accept-Encoding` of the client's), so it decodes a gzip answer.
    transport_gzip: bool,
    reply: oneshot::Sender<Wire>,
}

/// Serves until Ctrl-C (SIGINT) or SIGTERM. Prints where, and each call.
pub fn run(options: RunOptions) -> Result<()> {
    let started = options.started;
    let (jobs, queue) = mpsc::channel::<Msg>();
    let (ready_tx, ready_rx) = mpsc::channel::<std::result::Result<(Duration, u32), String>>();
    let sandbox = Sandbox::choose(options.sandbox);
    println!("{}", sandbox.describe());
    let worker_options = options.clone();
    let worker = std::thread::Builder::new()
        .name("fdk-run-function".into())
        .spawn(move || function_thread(worker_options, sandbox, queue, ready_tx))
        .map_err(|e| Error::new(format!("could not start the function thread: {e}")))?;
    match ready_rx.recv() {
        Ok(Ok((ready, pid))) => println!(
            "{} is ready (pid {pid}, {} ms after exec, {} ms after `cargo fdk run` started)",
            options.func.name,
            ready.as_millis(),
            started.elapsed().as_millis()
        ),
        Ok(Err(why)) => return Err(Error::new(why)),
        Err(_) => return Err(Error::new("the function thread ended before the start")),
    }

    if let Some(source) = options.watch.clone() {
        let swaps = jobs.clone();
        crate::watch::spawn(source, move |build| {
            let _ = swaps.send(Msg::Swap(build));
        })
        .map_err(|e| Error::new(format!("could not start the watcher: {e}")))?;
    }

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::new(format!("could not build the async runtime: {e}")))?;
    let served = runtime.block_on(serve(options, jobs.clone(), started));
    // The connections' tasks still hold senders: ask the thread to stop
    // rather than wait for them, and wait until the function is gone (the
    // agent kills it and removes its directory when dropped).
    let _ = jobs.send(Msg::Stop);
    drop(runtime);
    let _ = worker.join();
    served
}

async fn serve(options: RunOptions, jobs: mpsc::Sender<Msg>, started: Instant) -> Result<()> {
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

/// The answer as hyper sends it: the head in the given order, the body
/// framed by it.
fn respond(wire: Wire, cut: Arc<Notify>) -> hyper::Response<Raw> {
    let mut res = hyper::Response::new(Raw::new(&wire, cut));
    *res.status_mut() =
        hyper::StatusCode::from_u16(wire.status).unwrap_or(hyper::StatusCode::BAD_GATEWAY);
    for (k, v) in &wire.headers {
        // Values pass as bytes, as Go passes them (UTF-8 included).
        if let (Ok(k), Ok(v)) = (
            hyper::header::HeaderName::from_bytes(k.as_bytes()),
            hyper::header::HeaderValue::from_bytes(v.as_bytes()),
        ) {
            res.headers_mut().append(k, v);
        }
    }
    res
}

/// One of the server's own errors, before any call exists (no
/// `Fn-Call-Id`): the router's 404 and 405, a missing app, trigger or
/// function.
fn route_error(status: u16, message: &str) -> Wire {
    server_error(status, message, GoHeader::default())
}

/// The function's request headers as the server forwards them: hop-by-hop
/// headers dropped (`common.StripHopHeaders`: a header whose first value is
/// empty stays, and so does `Te: trailers`), `Host` and the client's framing
/// left to the transport, names in Go's canonical case.
fn forwarded_headers(headers: &hyper::HeaderMap) -> Vec<(String, Vec<u8>)> {
    let stripped = |name: &str| {
        if !HOP_BY_HOP.contains(&name) {
            return false;
        }
        match headers.get(name).map(hyper::header::HeaderValue::as_bytes) {
            None | Some(b"") => false,
            Some(b"trailers") => name != "te",
            Some(_) => true,
        }
    };
    headers
        .iter()
        .filter(|(k, _)| {
            let name = k.as_str();
            name != "host" && name != "content-length" && !stripped(name)
        })
        // Values as bytes: Go's server and client pass a value's bytes
        // through, UTF-8 or not (`obs-text`).
        .map(|(k, v)| (canonical_key(k.as_str()), v.as_bytes().to_vec()))
        .collect()
}

/// One client request: which entry point (the server's router), then the
/// call.
async fn handle(
    options: &RunOptions,
    jobs: &mpsc::Sender<Msg>,
    slots: &Semaphore,
    req: hyper::Request<Incoming>,
) -> Wire {
    let (parts, body) = req.into_parts();
    let path = parts.uri.path().to_owned();
    let method = parts.method.as_str().to_owned();
    let label = format!("{} {}", parts.method, parts.uri);
    let name = &options.func.name;
    // gin's router: `POST /invoke/:fn_id`, `ANY /t/:app_name` and
    // `ANY /t/:app_name/*trigger_source`; the rest is its 405 or 404.
    let invoke_target = path
        .strip_prefix("/invoke/")
        .filter(|t| !t.is_empty() && !t.contains('/'));
    let trigger = path.strip_prefix("/t/").and_then(|rest| {
        let (app, source) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/"),
        };
        (!app.is_empty()).then_some((app, source))
    });
    let call = if let Some(target) = invoke_target {
        if parts.method != hyper::Method::POST {
            return route_error(405, &format!("Method not allowed: {method} {path}"));
        }
        if target != name && target != fn_emulator::process::FN_ID {
            return route_error(404, "Fn not found");
        }
        Call::invoke()
    } else if let Some((app, source)) = trigger {
        if app != options.app {
            return route_error(404, "App not found");
        }
        let known = options
            .func
            .triggers
            .iter()
            .any(|t| t.kind == "http" && t.source == source);
        if !known {
            return route_error(404, "Trigger not found");
        }
        Call::gateway(parts.method.as_str(), &request_url(&parts))
    } else {
        return route_error(404, &format!("Path not found: {method} {path}"));
    };
    let declared = parts
        .headers
        .get(hyper::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if let Some(n) = declared.filter(|&n| n > MAX_BODY as u64) {
        return route_error(
            413,
            &format!("Content-Length too large for this server, {n} > max {MAX_BODY}"),
        );
    }
    // The body is read only when one of the few body slots is free, and
    // the slot is held until the function has answered: however many
    // clients send at once, at most `BODY_SLOTS` bodies are in memory.
    let Ok(_slot) = slots.acquire().await else {
        return route_error(500, INTERNAL);
    };
    let body = match tokio::time::timeout(BODY_READ_TIMEOUT, read_body(body, declared)).await {
        Ok(Ok(body)) => body,
        Ok(Err(BodyError::TooLarge)) => {
            return route_error(
                413,
                &format!("the request body is too large for this server (max {MAX_BODY} bytes)"),
            );
        }
        Ok(Err(BodyError::Malformed(e))) => {
            return route_error(400, &format!("could not read the request body: {e}"));
        }
        Err(_) => {
            return route_error(
                408,
                &format!(
                    "the request body did not arrive within {} s",
                    BODY_READ_TIMEOUT.as_secs()
                ),
            );
        }
    };
    let mut call = call
        .deadline_in(Duration::from_secs(u64::from(
            options.func.timeout.unwrap_or(DEFAULT_TIMEOUT_S),
        )))
        .body(body);
    let headers = forwarded_headers(&parts.headers);
    // Go's transport adds `Accept-Encoding: gzip` (and so decodes a gzip
    // answer) unless the request has its own; a trigger's client header is
    // sent as `Fn-Http-H-Accept-Encoding`.
    let transport_gzip = call.kind() == CallKind::Gateway
        || !headers
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case("accept-encoding"));
    for (k, v) in &headers {
        call = call.header_bytes(k, v);
    }
    let (reply, answer) = oneshot::channel();
    let job = Job {
        call,
        label,
        transport_gzip,
        reply,
    };
    if jobs.send(Msg::Call(job)).is_err() {
        return route_error(500, INTERNAL);
    }
    answer.await.unwrap_or_else(|_| route_error(500, INTERNAL))
}

/// The URL the server gives a trigger's function (`Fn-Http-Request-Url`),
/// as its `reqURL` builds it: an absolute-form target (`GET http://h/t/a/s`)
/// is the URL as it came, else `http://` and the `Host` header before the
/// target.
fn request_url(parts: &hyper::http::request::Parts) -> String {
    if parts.uri.scheme().is_some() && parts.uri.authority().is_some() {
        return parts.uri.to_string();
    }
    let host = parts
        .headers
        .get(hyper::header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    let target = parts
        .uri
        .path_and_query()
        .map_or("/", hyper::http::uri::PathAndQuery::as_str);
    format!("http://{host}{target}")
}

/// Why a request body could not be read.
#[derive(Debug)]
enum BodyError {
    /// Over [`MAX_BODY`].
    TooLarge,
    /// The client's framing is broken (a malformed chunk, a body cut short).
    Malformed(hyper::Error),
}

/// The request body, into one buffer of at most [`MAX_BODY`] bytes: sized
/// from `declared` (already checked against the limit) and grown only as
/// bytes arrive.
async fn read_body(mut body: Incoming, declared: Option<u64>) -> Result<Vec<u8>, BodyError> {
    let capacity = declared
        .and_then(|n| usize::try_from(n).ok())
        .unwrap_or(0)
        .min(MAX_BODY);
    let mut out = Vec::with_capacity(capacity);
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(BodyError::Malformed)?;
        if let Ok(data) = frame.into_data() {
            if data.len() > MAX_BODY - out.len() {
                return Err(BodyError::TooLarge);
            }
            out.extend_from_slice(&data);
        }
    }
    Ok(out)
}

/// The function's thread: owns the agent, serves the queue in order.
fn function_thread(
    options: RunOptions,
    sandbox: Sandbox,
    queue: mpsc::Receiver<Msg>,
    ready: mpsc::Sender<std::result::Result<(Duration, u32), String>>,
) {
    let (mut agent, mut start, mut tail) =
        match started_agent(&sandbox, &options.binary, &options.func, options.freeze) {
            Ok((agent, start, tail, ready_after, pid)) => {
                let _ = ready.send(Ok((ready_after, pid)));
                (agent, start, tail)
            }
            Err(why) => {
                let _ = ready.send(Err(why));
                return;
            }
        };
    // Whether a call moved enough bytes that the allocator may be holding
    // freed memory worth returning once the server is idle.
    let mut large_since_trim = false;
    loop {
        let msg = match queue.recv_timeout(TRIM_WHEN_IDLE) {
            Ok(msg) => msg,
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
            Err(mpsc::RecvTimeoutError::Timeout) => {
                if std::mem::take(&mut large_since_trim) {
                    release_freed_memory();
                }
                continue;
            }
        };
        match msg {
            Msg::Call(job) => {
                let answer = serve_one(&mut agent, &start, &job, &mut tail);
                large_since_trim |=
                    job.call.body_len() >= LARGE_CALL || answer.body.len() >= LARGE_CALL;
                let _ = job.reply.send(answer);
            }
            Msg::Swap(build) => {
                let func = build.func.as_ref().unwrap_or(&options.func);
                match started_agent(&sandbox, &build.binary, func, options.freeze) {
                    Ok((new_agent, new_start, new_tail, ready_after, pid)) => {
                        println!(
                            "watch: the new build serves now (pid {pid}, ready {} ms after exec)",
                            ready_after.as_millis()
                        );
                        // Dropping the old agent thaws and kills its function.
                        (agent, start, tail) = (new_agent, new_start, new_tail);
                    }
                    Err(why) => {
                        println!("watch: {why}; the last good build keeps serving");
                    }
                }
            }
            Msg::Stop => break,
        }
    }
    // Thaws and kills the function, removes its directory.
    drop(agent);
    tail.print();
}

/// An agent whose function `binary` has started with `func`'s settings,
/// with what it needs to serve: its start options, its log's tail, and the
/// start's time and pid. The error is one line.
fn started_agent(
    sandbox: &Sandbox,
    binary: &std::path::Path,
    func: &FuncFile,
    freeze: bool,
) -> std::result::Result<(Agent, StartOptions, LogTail, Duration, u32), String> {
    let (command, host_why) = sandbox
        .command(&func.name, binary)
        .map_err(|e| e.to_string())?;
    if let Some(why) = &host_why {
        println!("sandbox: {why}");
    }
    let contained = matches!(sandbox, Sandbox::Server(_)) && host_why.is_none();
    let mut agent =
        Agent::new(command).map_err(|e| format!("could not prepare a work directory: {e}"))?;
    if contained {
        // The server's cgroup too where it can be made: its memory limit,
        // 50 tasks and the real freezer (otherwise stop signals).
        if let Ok(cgroups) =
            fn_emulator::sandbox::Sandbox::new(fn_emulator::sandbox::Mode::Auto, None)
        {
            agent.set_sandbox(std::sync::Arc::new(cgroups));
        }
    }
    agent.set_freeze(freeze);
    let start = start_options(func);
    let mut tail = LogTail::new(agent.log_path().to_owned(), &func.name);
    let started = agent
        .start(start.clone())
        .map(|f| (f.ready_after(), f.pid()));
    tail.print();
    match started {
        Ok((ready_after, pid)) => Ok((agent, start, tail, ready_after, pid)),
        Err(error) => Err(format!("the function did not start: {}", error.what)),
    }
}

/// A call with a body (either way) of at least this many bytes makes the
/// function thread return freed memory once the server is idle.
const LARGE_CALL: usize = 1 << 20;
/// How long the queue must be empty before that.
const TRIM_WHEN_IDLE: Duration = Duration::from_millis(500);

/// Returns the allocator's free pages to the system. glibc keeps freed
/// memory for reuse, and after large calls (up to `MAX_BODY` each, a few
/// copies per call) that is tens of MiB (64 MiB after 32 calls of 9 MiB,
/// measured) that a server sitting idle on a developer's machine has no use
/// for. No safe wrapper exists; this is the crate's only `unsafe`.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
fn release_freed_memory() {
    // SAFETY: `malloc_trim` takes no pointers and only gives free pages
    // back to the kernel; glibc's allocator locks make it safe to call
    // while other threads allocate.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// Other allocators (musl's) give large blocks back on `free`.
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn release_freed_memory() {}

/// What the server makes of an agent's failure: the view the agent
/// attached (a start failure, a refused dial), else the server's generic
/// 500.
fn failure_view(error: &AgentError) -> ServerView {
    error.server.clone().unwrap_or(ServerView {
        client_status: 500,
        message: Some(INTERNAL),
        container: Fate::Killed,
    })
}

fn start_options(func: &FuncFile) -> StartOptions {
    let mut env_set: Vec<(String, String)> = func
        .config
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    if let Some(memory) = func.memory {
        env_set.push(("FN_MEMORY".into(), memory.to_string()));
    }
    StartOptions {
        env_set,
        ..StartOptions::default()
    }
}

/// Serves one call as the server does: a process that exited on its own
/// since the last call fails this one (the server's call finds a dead
/// container: 502 "error receiving function response"), a container that
/// is gone is replaced first (a cold start), the call goes over the
/// harness, and a container the server would kill is discarded, so the next
/// call starts a new one. The same model as [`Harness::serve`], which gives
/// no call id or headers.
fn serve_one(agent: &mut Agent, start: &StartOptions, job: &Job, tail: &mut LogTail) -> Wire {
    let began = Instant::now();
    if agent.pid().is_some() && !agent.alive() {
        tail.print();
        println!("  the function exited on its own since the last call");
        let view = ServerView {
            client_status: 502,
            message: Some("error receiving function response"),
            container: Fate::Killed,
        };
        return failed_call(agent, job, view, began);
    }
    if agent.pid().is_none() {
        println!("starting a new container");
        let name = agent.command().name.clone();
        match agent.start(start.clone()) {
            Ok(f) => println!(
                "{name} is ready (pid {}, {} ms after exec)",
                f.pid(),
                f.ready_after().as_millis()
            ),
            Err(error) => {
                tail.print();
                println!("  {}", error.what);
                return failed_call(agent, job, failure_view(&error), began);
            }
        }
    }
    let exchange = match agent.call(&job.call) {
        Ok(ex) => ex,
        Err(error) => {
            tail.print();
            println!("  {}", error.what);
            return failed_call(agent, job, failure_view(&error), began);
        }
    };
    tail.print();
    let (answer, view) = client_answer(&exchange, job.call.kind(), job.transport_gzip);
    log_call(&exchange.call_id, job, answer.status, began, &view);
    if view.container == Fate::Killed {
        println!("  the server would kill this container: the next call starts a new one");
        agent.discard();
    }
    answer
}

/// A call that failed before it got an answer (the container did not
/// start, had died, or refused the dial): the server's error with a new
/// call id; whatever is left of the container is not used again.
fn failed_call(agent: &mut Agent, job: &Job, view: ServerView, began: Instant) -> Wire {
    let call_id = agent.next_call_id();
    let mut map = GoHeader::default();
    map.add(wire_names::CALL_ID, &call_id);
    let answer = server_error(view.client_status, view.message.unwrap_or(INTERNAL), map);
    log_call(&call_id, job, answer.status, began, &view);
    if agent.pid().is_some() {
        println!("  the server would kill this container: the next call starts a new one");
    }
    agent.discard();
    answer
}

fn log_call(call_id: &str, job: &Job, status: u16, began: Instant, view: &ServerView) {
    println!(
        "call {call_id}: {} -> {status} in {:.1} ms ({view})",
        job.label,
        began.elapsed().as_secs_f64() * 1000.0,
    );
}

/// The function's response headers as Go's transport hands them to the
/// server: canonical names, hop-by-hop headers stripped
/// (`common.StripHopHeaders`), and, when the transport decodes a gzip body
/// it asked for, no `Content-Encoding` or `Content-Length`.
fn function_headers(head: &Head, gzip_decoded: bool) -> GoHeader {
    let mut map = GoHeader::default();
    for (k, v) in head.fields() {
        map.add(k, v);
    }
    for name in HOP_BY_HOP {
        match map.get(name) {
            None | Some("") => {}
            Some("trailers") if name == "te" => {}
            Some(_) => map.del(name),
        }
    }
    if gzip_decoded {
        map.del("Content-Encoding");
        map.del("Content-Length");
    }
    map
}

/// Whether Go's transport decodes an answer with these headers: it asked
/// for gzip itself, the answer says `Content-Encoding: gzip`, and it has a
/// body (a `Content-Length: 0` answer is left alone).
fn decodes_gzip(head: &Head, transport_gzip: bool) -> bool {
    let header = |name: &str| head.field(name).map(str::trim);
    transport_gzip
        && header("Content-Encoding").is_some_and(|v| v.eq_ignore_ascii_case("gzip"))
        && header("Content-Length") != Some("0")
}

/// What the Fn server sends its client, and the view it acts on.
///
/// * A 200: for invoke (`runner_fninvoke.go`), the function's headers with
///   the server's `Fn-Call-Id` and its own `Content-Length`; for a trigger
///   (`runner_httptrigger.go`), only `Fn-Http-H-*` (unprefixed),
///   `Content-Type` and `Fn-Call-Id`, with the status from `Fn-Http-Status`.
/// * Any error: the server's `{"message":…}\n`. When a 200 head had
///   arrived and its body then failed (cut short, stalled past the
///   deadline, over the size limit), the server had already copied the
///   function's headers into its answer, unfiltered, and they go out with
///   the error, its `Content-Length` included: so a body cut short is a
///   500 with an empty body, as observed on fnserver 0.3.753.
fn client_answer(ex: &Exchange, kind: CallKind, transport_gzip: bool) -> (Wire, ServerView) {
    let mut view = ex.view.clone();
    let mut map = GoHeader::default();
    map.add(wire_names::CALL_ID, &ex.call_id);
    match &ex.result {
        Ok(res) if view.message.is_none() => {
            let gzip = decodes_gzip(&res.head, transport_gzip);
            let mut decoded = None;
            if gzip {
                match gunzip(&res.body) {
                    Ok(body) => decoded = Some(body),
                    Err(_) => {
                        // The body fails inside Go's gzip reader: a plain
                        // I/O error, as for a body cut short.
                        view = ServerView {
                            client_status: 500,
                            message: None,
                            container: Fate::Kept,
                        };
                        carry(&mut map, &function_headers(&res.head, true));
                        return (server_error(500, INTERNAL, map), view);
                    }
                }
            }
            let body = decoded.as_deref().unwrap_or(&res.body);
            carry(&mut map, &function_headers(&res.head, gzip));
            map.set("Content-Length", &body.len().to_string());
            let wire = match kind {
                CallKind::Invoke => go_write(200, map, body),
                CallKind::Gateway => go_write(view.client_status, gateway_map(&map), body),
            };
            (wire, view)
        }
        Err(ResponseError::Body {
            status: 200, head, ..
        }) => {
            let gzip = decodes_gzip(head, transport_gzip);
            carry(&mut map, &function_headers(head, gzip));
            let message = view.message.unwrap_or(INTERNAL);
            (server_error(view.client_status, message, map), view)
        }
        _ => {
            let message = view.message.unwrap_or(INTERNAL);
            (server_error(view.client_status, message, map), view)
        }
    }
}

/// Adds the function's headers to the server's map (`Header.Add`, after
/// the server's `Fn-Call-Id`).
fn carry(map: &mut GoHeader, function: &GoHeader) {
    for (name, values) in function.entries() {
        for value in values {
            map.add(name, value);
        }
    }
}

/// The trigger writer's filter (`triggerResponseWriter.WriteHeader`):
/// `Fn-Http-H-<Name>` becomes `<Name>`, `Content-Type` and `Fn-Call-Id`
/// stay, everything else (the `Content-Length` the server set included)
/// goes. Each kept name replaces any earlier one of the same name, as
/// `gwHeaders[k] = vs` does.
fn gateway_map(map: &GoHeader) -> GoHeader {
    let mut out = GoHeader::default();
    for (name, values) in map.entries() {
        if let Some(rest) = name.strip_prefix(wire_names::HTTP_HEADER_PREFIX) {
            if !rest.is_empty() {
                out.put(rest.to_owned(), values.clone());
            }
        } else if name == "Content-Type" || name == wire_names::CALL_ID {
            out.put(name.clone(), values.clone());
        }
    }
    out
}

/// Prints the function's log as it grows, each line prefixed with its name.
struct LogTail {
    path: PathBuf,
    offset: u64,
    prefix: String,
}

impl LogTail {
    fn new(path: PathBuf, name: &str) -> Self {
        Self {
            path,
            offset: 0,
            prefix: format!("  [{name}] "),
        }
    }

    fn print(&mut self) {
        let Ok(mut file) = std::fs::File::open(&self.path) else {
            return;
        };
        if file.seek(SeekFrom::Start(self.offset)).is_err() {
            return;
        }
        let mut new = Vec::new();
        if file.read_to_end(&mut new).is_err() {
            return;
        }
        self.offset += new.len() as u64;
        let mut out = std::io::stdout().lock();
        for line in String::from_utf8_lossy(&new).lines() {
            if !line.is_empty() {
                let _ = writeln!(out, "{}{line}", self.prefix);
            }
        }
    }
}

/// Where `cargo fdk run` listens by default: the Fn server's port, on loopback.
pub fn default_addr() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 8080))
}

#[cfg(test)]
mod tests {
    use super::*;
    use fn_emulator::Via;
    use fn_emulator::http1::read_response;
    use fn_emulator::outcome::classify;

    /// One `h-*` scenario of the captures (fnserver 0.3.753): the bytes the
    /// function wrote, and everything the client got but the `Date` value.
    struct Capture {
        name: &'static str,
        kind: CallKind,
        transport_gzip: bool,
        call_id: &'static str,
        function: &'static [u8],
        status: u16,
        headers: &'static [(&'static str, &'static str)],
        body: &'static [u8],
        kept: bool,
    }

    /// The function's answer `raw`, read and classified by the harness,
    /// as the client gets it.
    fn answer(
        raw: &[u8],
        kind: CallKind,
        transport_gzip: bool,
        call_id: &str,
    ) -> (Wire, ServerView) {
        let result = read_response(&mut &raw[..]);
        let view = classify(&result, kind);
        let ex = Exchange {
            sent: Vec::new(),
            call_id: call_id.to_owned(),
            result,
            view,
            via: Via::Own,
            cut_short: None,
        };
        client_answer(&ex, kind, transport_gzip)
    }

    fn head(wire: &Wire) -> Vec<(&str, &str)> {
        wire.headers
            .iter()
            .map(|(k, v)| (k.as_str(), if k == "Date" { "<date>" } else { v.as_str() }))
            .collect()
    }

    /// Every canned answer of the captures gives the client the captured
    /// status, head (names, order, values) and body, and the captured
    /// container fate.
    #[test]
    fn clients_get_what_the_captured_server_sent() {
        let captures = [
        Capture {
            name: "h-bad-204-invoke",
            kind: CallKind::Invoke,
            transport_gzip: true,
            call_id: "01M8CTQ8QCFW0000A6M0000012",
            function: b"HTTP/1.1 204 No Content\r\nFn-Fdk-Version: fdk-capture/0.0.1\r\n\r\n",
            status: 502,
            headers: &[("Content-Type", "application/json; charset=utf-8"), ("Fn-Call-Id", "01M8CTQ8QCFW0000A6M0000012"), ("Date", "<date>"), ("Content-Length", "40")],
            body: b"{\"message\":\"invalid function response\"}\n",
            kept: false,
        },
        Capture {
            name: "h-bad-204-trigger",
            kind: CallKind::Gateway,
            transport_gzip: true,
            call_id: "01M8CTQBQTFW0000A6M0000016",
            function: b"HTTP/1.1 204 No Content\r\nFn-Fdk-Version: fdk-capture/0.0.1\r\n\r\n",
            status: 502,
            headers: &[("Content-Type", "application/json; charset=utf-8"), ("Fn-Call-Id", "01M8CTQBQTFW0000A6M0000016"), ("Date", "<date>"), ("Content-Length", "40")],
            body: b"{\"message\":\"invalid function response\"}\n",
            kept: false,
        },
        Capture {
            name: "h-bad-500-invoke",
            kind: CallKind::Invoke,
            transport_gzip: true,
            call_id: "01M8CTQ2KWFW0000A6M000000T",
            function: b"HTTP/1.1 500 Internal Server Error\r\nContent-Type: application/json\r\nContent-Length: 37\r\n\r\n{\"message\":\"capture-fn bad-500 body\"}",
            status: 502,
            headers: &[("Content-Type", "application/json; charset=utf-8"), ("Fn-Call-Id", "01M8CTQ2KWFW0000A6M000000T"), ("Date", "<date>"), ("Content-Length", "40")],
            body: b"{\"message\":\"invalid function response\"}\n",
            kept: false,
        },
        Capture {
            name: "h-bad-500-trigger",
            kind: CallKind::Gateway,
            transport_gzip: true,
            call_id: "01M8CTQ5KEFW0000A6M000000Y",
            function: b"HTTP/1.1 500 Internal Server Error\r\nContent-Type: application/json\r\nContent-Length: 37\r\n\r\n{\"message\":\"capture-fn bad-500 body\"}",
            status: 502,
            headers: &[("Content-Type", "application/json; charset=utf-8"), ("Fn-Call-Id", "01M8CTQ5KEFW0000A6M000000Y"), ("Date", "<date>"), ("Content-Length", "40")],
            body: b"{\"message\":\"invalid function response\"}\n",
            kept: false,
        },
        Capture {
            name: "h-chunked-resp-invoke",
            kind: CallKind::Invoke,
            transport_gzip: true,
            call_id: "01M8CTR54CFW0000A6M000001T",
            function: b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nchunk1\r\n7\r\n-chunk2\r\n8\r\n-chunk3\n\r\n0\r\n\r\n",
            status: 200,
            headers: &[("Content-Length", "21"), ("Content-Type", "text/plain"), ("Fn-Call-Id", "01M8CTR54CFW0000A6M000001T"), ("Date", "<date>")],
            body: b"chunk1-chunk2-chunk3\n",
            kept: true,
        },
        Capture {
            name: "h-chunked-resp-trigger",
            kind: CallKind::Gateway,
            transport_gzip: true,
            call_id: "01M8CTR7VGFW0000A6M000001W",
            function: b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nchunk1\r\n7\r\n-chunk2\r\n8\r\n-chunk3\n\r\n0\r\n\r\n",
            status: 200,
            headers: &[("Content-Type", "text/plain"), ("Fn-Call-Id", "01M8CTR7VGFW0000A6M000001W"), ("Date", "<date>"), ("Content-Length", "21")],
            body: b"chunk1-chunk2-chunk3\n",
            kept: true,
        },
        Capture {
            name: "h-err-502-invoke",
            kind: CallKind::Invoke,
            transport_gzip: true,
            call_id: "01M8CTPQV1FW0000A6M000000J",
            function: b"HTTP/1.1 502 Bad Gateway\r\nContent-Type: application/json\r\nContent-Length: 37\r\n\r\n{\"message\":\"capture-fn err-502 body\"}",
            status: 502,
            headers: &[("Content-Type", "application/json; charset=utf-8"), ("Fn-Call-Id", "01M8CTPQV1FW0000A6M000000J"), ("Date", "<date>"), ("Content-Length", "30")],
            body: b"{\"message\":\"function failed\"}\n",
            kept: true,
        },
        Capture {
            name: "h-err-502-trigger",
            kind: CallKind::Gateway,
            transport_gzip: true,
            call_id: "01M8CTPTGRFW0000A6M000000M",
            function: b"HTTP/1.1 502 Bad Gateway\r\nContent-Type: application/json\r\nContent-Length: 37\r\n\r\n{\"message\":\"capture-fn err-502 body\"}",
            status: 502,
            headers: &[("Content-Type", "application/json; charset=utf-8"), ("Fn-Call-Id", "01M8CTPTGRFW0000A6M000000M"), ("Date", "<date>"), ("Content-Length", "30")],
            body: b"{\"message\":\"function failed\"}\n",
            kept: true,
        },
        Capture {
            name: "h-err-504-invoke",
            kind: CallKind::Invoke,
            transport_gzip: true,
            call_id: "01M8CTPX6XFW0000A6M000000P",
            function: b"HTTP/1.1 504 Gateway Timeout\r\nContent-Type: application/json\r\nContent-Length: 37\r\n\r\n{\"message\":\"capture-fn err-504 body\"}",
            status: 504,
            headers: &[("Content-Type", "application/json; charset=utf-8"), ("Fn-Call-Id", "01M8CTPX6XFW0000A6M000000P"), ("Date", "<date>"), ("Content-Length", "24")],
            body: b"{\"message\":\"Timed out\"}\n",
            kept: true,
        },
        Capture {
            name: "h-err-504-trigger",
            kind: CallKind::Gateway,
            transport_gzip: true,
            call_id: "01M8CTPZXZFW0000A6M000000R",
            function: b"HTTP/1.1 504 Gateway Timeout\r\nContent-Type: application/json\r\nContent-Length: 37\r\n\r\n{\"message\":\"capture-fn err-504 body\"}",
            status: 504,
            headers: &[("Content-Type", "application/json; charset=utf-8"), ("Fn-Call-Id", "01M8CTPZXZFW0000A6M000000R"), ("Date", "<date>"), ("Content-Length", "24")],
            body: b"{\"message\":\"Timed out\"}\n",
            kept: true,
        },
        Capture {
            name: "h-gw-404-invoke",
            kind: CallKind::Invoke,
            transport_gzip: true,
            call_id: "01M8CTQF9VFW0000A6M000001A",
            function: b"HTTP/1.1 200 OK\r\nFn-Http-Status: 404\r\nFn-Http-H-X-Thing: v1\r\nFn-Http-H-X-Thing: v2\r\nContent-Type: application/json\r\nX-Unprefixed: z\r\nContent-Length: 21\r\n\r\n{\"error\":\"not found\"}",
            status: 200,
            headers: &[("Content-Length", "21"), ("Content-Type", "application/json"), ("Fn-Call-Id", "01M8CTQF9VFW0000A6M000001A"), ("Fn-Http-H-X-Thing", "v1"), ("Fn-Http-H-X-Thing", "v2"), ("Fn-Http-Status", "404"), ("X-Unprefixed", "z"), ("Date", "<date>")],
            body: b"{\"error\":\"not found\"}",
            kept: true,
        },
        Capture {
            name: "h-gw-404-trigger",
            kind: CallKind::Gateway,
            transport_gzip: true,
            call_id: "01M8CTQJ1NFW0000A6M000001C",
            function: b"HTTP/1.1 200 OK\r\nFn-Http-Status: 404\r\nFn-Http-H-X-Thing: v1\r\nFn-Http-H-X-Thing: v2\r\nContent-Type: application/json\r\nX-Unprefixed: z\r\nContent-Length: 21\r\n\r\n{\"error\":\"not found\"}",
            status: 404,
            headers: &[("Content-Type", "application/json"), ("Fn-Call-Id", "01M8CTQJ1NFW0000A6M000001C"), ("X-Thing", "v1"), ("X-Thing", "v2"), ("Date", "<date>"), ("Content-Length", "21")],
            body: b"{\"error\":\"not found\"}",
            kept: true,
        },
        Capture {
            name: "h-gw-bad-status-invoke",
            kind: CallKind::Invoke,
            transport_gzip: true,
            call_id: "01M8CTQMSNFW0000A6M000001E",
            function: b"HTTP/1.1 200 OK\r\nFn-Http-Status: abc\r\nContent-Type: text/plain\r\nContent-Length: 19\r\n\r\ngw-bad-status body\n",
            status: 200,
            headers: &[("Content-Length", "19"), ("Content-Type", "text/plain"), ("Fn-Call-Id", "01M8CTQMSNFW0000A6M000001E"), ("Fn-Http-Status", "abc"), ("Date", "<date>")],
            body: b"gw-bad-status body\n",
            kept: true,
        },
        Capture {
            name: "h-gw-bad-status-trigger",
            kind: CallKind::Gateway,
            transport_gzip: true,
            call_id: "01M8CTQQGRFW0000A6M000001G",
            function: b"HTTP/1.1 200 OK\r\nFn-Http-Status: abc\r\nContent-Type: text/plain\r\nContent-Length: 19\r\n\r\ngw-bad-status body\n",
            status: 200,
            headers: &[("Content-Type", "text/plain"), ("Fn-Call-Id", "01M8CTQQGRFW0000A6M000001G"), ("Date", "<date>"), ("Content-Length", "19")],
            body: b"gw-bad-status body\n",
            kept: true,
        },
        Capture {
            name: "h-gzip-invoke-client-accept-encoding",
            kind: CallKind::Invoke,
            transport_gzip: false,
            call_id: "01M8CTRG0HFW0000A6M0000022",
            function: b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Encoding: gzip\r\nContent-Length: 25\r\n\r\n\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\x03\xcbH\xcd\xc9\xc9\x07\x00\x86\xa6\x106\x05\x00\x00\x00",
            status: 200,
            headers: &[("Content-Encoding", "gzip"), ("Content-Length", "25"), ("Content-Type", "text/plain"), ("Fn-Call-Id", "01M8CTRG0HFW0000A6M0000022"), ("Date", "<date>")],
            body: b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\x03\xcbH\xcd\xc9\xc9\x07\x00\x86\xa6\x106\x05\x00\x00\x00",
            kept: true,
        },
        Capture {
            name: "h-gzip-invoke",
            kind: CallKind::Invoke,
            transport_gzip: true,
            call_id: "01M8CTRAJDFW0000A6M000001Y",
            function: b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Encoding: gzip\r\nContent-Length: 25\r\n\r\n\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\x03\xcbH\xcd\xc9\xc9\x07\x00\x86\xa6\x106\x05\x00\x00\x00",
            status: 200,
            headers: &[("Content-Length", "5"), ("Content-Type", "text/plain"), ("Fn-Call-Id", "01M8CTRAJDFW0000A6M000001Y"), ("Date", "<date>")],
            body: b"hello",
            kept: true,
        },
        Capture {
            name: "h-gzip-trigger",
            kind: CallKind::Gateway,
            transport_gzip: true,
            call_id: "01M8CTRD9TFW0000A6M0000020",
            function: b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Encoding: gzip\r\nContent-Length: 25\r\n\r\n\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\x03\xcbH\xcd\xc9\xc9\x07\x00\x86\xa6\x106\x05\x00\x00\x00",
            status: 200,
            headers: &[("Content-Type", "text/plain"), ("Fn-Call-Id", "01M8CTRD9TFW0000A6M0000020"), ("Date", "<date>"), ("Content-Length", "5")],
            body: b"hello",
            kept: true,
        },
        Capture {
            name: "h-hop-invoke",
            kind: CallKind::Invoke,
            transport_gzip: true,
            call_id: "01M8CTQZP0FW0000A6M000001P",
            function: b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\nKeep-Alive: timeout=5\r\nContent-Length: 9\r\n\r\nhop body\n",
            status: 200,
            headers: &[("Content-Length", "9"), ("Content-Type", "text/plain"), ("Fn-Call-Id", "01M8CTQZP0FW0000A6M000001P"), ("Date", "<date>")],
            body: b"hop body\n",
            kept: true,
        },
        Capture {
            name: "h-hop-trigger",
            kind: CallKind::Gateway,
            transport_gzip: true,
            call_id: "01M8CTR2CSFW0000A6M000001R",
            function: b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\nKeep-Alive: timeout=5\r\nContent-Length: 9\r\n\r\nhop body\n",
            status: 200,
            headers: &[("Content-Type", "text/plain"), ("Fn-Call-Id", "01M8CTR2CSFW0000A6M000001R"), ("Date", "<date>"), ("Content-Length", "9")],
            body: b"hop body\n",
            kept: true,
        },
        Capture {
            name: "h-no-ct-invoke",
            kind: CallKind::Invoke,
            transport_gzip: true,
            call_id: "01M8CTQT8AFW0000A6M000001J",
            function: b"HTTP/1.1 200 OK\r\nContent-Length: 15\r\n\r\n<html>hi</html>",
            status: 200,
            headers: &[("Content-Length", "15"), ("Fn-Call-Id", "01M8CTQT8AFW0000A6M000001J"), ("Date", "<date>"), ("Content-Type", "text/html; charset=utf-8")],
            body: b"<html>hi</html>",
            kept: true,
        },
        Capture {
            name: "h-no-ct-trigger",
            kind: CallKind::Gateway,
            transport_gzip: true,
            call_id: "01M8CTQWZGFW0000A6M000001M",
            function: b"HTTP/1.1 200 OK\r\nContent-Length: 15\r\n\r\n<html>hi</html>",
            status: 200,
            headers: &[("Fn-Call-Id", "01M8CTQWZGFW0000A6M000001M"), ("Date", "<date>"), ("Content-Length", "15"), ("Content-Type", "text/html; charset=utf-8")],
            body: b"<html>hi</html>",
            kept: true,
        },
        Capture {
            name: "h-ok-headers-invoke",
            kind: CallKind::Invoke,
            transport_gzip: true,
            call_id: "01M8CTPJF2FW0000A6M000000E",
            function: b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nX-Custom: a\r\nX-Custom: b\r\nFn-Fdk-Version: fdk-capture/0.0.1\r\nContent-Length: 16\r\n\r\nok-headers body\n",
            status: 200,
            headers: &[("Content-Length", "16"), ("Content-Type", "text/plain"), ("Fn-Call-Id", "01M8CTPJF2FW0000A6M000000E"), ("Fn-Fdk-Version", "fdk-capture/0.0.1"), ("X-Custom", "a"), ("X-Custom", "b"), ("Date", "<date>")],
            body: b"ok-headers body\n",
            kept: true,
        },
        Capture {
            name: "h-ok-headers-trigger",
            kind: CallKind::Gateway,
            transport_gzip: true,
            call_id: "01M8CTPN51FW0000A6M000000G",
            function: b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nX-Custom: a\r\nX-Custom: b\r\nFn-Fdk-Version: fdk-capture/0.0.1\r\nContent-Length: 16\r\n\r\nok-headers body\n",
            status: 200,
            headers: &[("Content-Type", "text/plain"), ("Fn-Call-Id", "01M8CTPN51FW0000A6M000000G"), ("Date", "<date>"), ("Content-Length", "16")],
            body: b"ok-headers body\n",
            kept: true,
        },

        ];
        for c in captures {
            let (wire, view) = answer(c.function, c.kind, c.transport_gzip, c.call_id);
            assert_eq!(wire.status, c.status, "{}", c.name);
            assert_eq!(head(&wire), c.headers, "{}", c.name);
            assert_eq!(&wire.body[..], c.body, "{}", c.name);
            assert_eq!(view.container == Fate::Kept, c.kept, "{}", c.name);
        }
    }

    /// fnserver 0.3.753, observed: a 200 whose body ends early is a 500
    /// and the container is kept; the server had already copied the
    /// function's headers, so they go out with it, its `Content-Length`
    /// included (an empty body, then the connection ends).
    #[test]
    fn a_body_cut_short_is_an_empty_500_with_the_function_headers() {
        let raw = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nFn-Fdk-Version: x/1\r\n\
                    Connection: close\r\nContent-Length: 10\r\n\r\nabc";
        for kind in [CallKind::Invoke, CallKind::Gateway] {
            let (wire, view) = answer(raw, kind, true, "ID");
            assert_eq!(view.container, Fate::Kept);
            assert_eq!(wire.status, 500);
            assert_eq!(
                head(&wire),
                [
                    ("Content-Length", "10"),
                    ("Content-Type", "application/json; charset=utf-8"),
                    ("Fn-Call-Id", "ID"),
                    ("Fn-Fdk-Version", "x/1"),
                    ("Date", "<date>"),
                ]
            );
            assert!(wire.body.is_empty());
        }
        // Chunked: no length to keep, the whole JSON goes out.
        let raw = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n";
        let (wire, _) = answer(raw, CallKind::Invoke, true, "ID");
        assert_eq!(
            head(&wire),
            [
                ("Content-Type", "application/json; charset=utf-8"),
                ("Fn-Call-Id", "ID"),
                ("Date", "<date>"),
                ("Content-Length", "36"),
            ]
        );
        assert_eq!(&wire.body[..], b"{\"message\":\"internal server error\"}\n");
        // A 502 head is a "function failed" whatever its body does.
        let raw = b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 10\r\n\r\nabc";
        let (wire, view) = answer(raw, CallKind::Invoke, true, "ID");
        assert_eq!((wire.status, view.container), (502, Fate::Kept));
        assert_eq!(&wire.body[..], b"{\"message\":\"function failed\"}\n");
    }

    /// Closed before a head, or no head at all: the server's 502, killed.
    #[test]
    fn no_head_is_error_receiving_function_response() {
        let (wire, view) = answer(b"", CallKind::Gateway, true, "ID");
        assert_eq!((wire.status, view.container), (502, Fate::Killed));
        assert_eq!(
            &wire.body[..],
            b"{\"message\":\"error receiving function response\"}\n"
        );
        assert_eq!(
            head(&wire),
            [
                ("Content-Type", "application/json; charset=utf-8"),
                ("Fn-Call-Id", "ID"),
                ("Date", "<date>"),
                ("Content-Length", "48"),
            ]
        );
    }

    /// Over the size limit (the harness's stands in for the server's
    /// `FN_MAX_RESPONSE_SIZE`): the server's 502, the function's headers
    /// already copied, the container kept.
    #[test]
    fn a_body_over_the_limit_is_a_502_with_the_function_headers() {
        let ex = Exchange {
            sent: Vec::new(),
            call_id: "ID".into(),
            result: Err(ResponseError::Body {
                status: 200,
                head: Box::new(Head::response(200, [("X-Mine", "m")])),
                error: Box::new(ResponseError::TooLarge("Content-Length")),
            }),
            view: ServerView {
                client_status: 502,
                message: Some("function response body too large"),
                container: Fate::Kept,
            },
            via: Via::Own,
            cut_short: None,
        };
        let (wire, view) = client_answer(&ex, CallKind::Gateway, true);
        assert_eq!(view.container, Fate::Kept);
        assert_eq!(
            head(&wire),
            [
                ("Content-Type", "application/json; charset=utf-8"),
                ("Fn-Call-Id", "ID"),
                ("X-Mine", "m"),
                ("Date", "<date>"),
                ("Content-Length", "47"),
            ]
        );
        assert_eq!(
            &wire.body[..],
            b"{\"message\":\"function response body too large\"}\n"
        );
    }

    /// A gzip body the transport cannot decode fails inside the copy: the
    /// server's 500, container kept.
    #[test]
    fn a_broken_gzip_body_is_a_500() {
        let raw = b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 3\r\n\r\nabc";
        let (wire, view) = answer(raw, CallKind::Invoke, true, "ID");
        assert_eq!((wire.status, view.container), (500, Fate::Kept));
        assert_eq!(&wire.body[..], b"{\"message\":\"internal server error\"}\n");
        // Not asked for by the transport: passed as it is.
        let (wire, _) = answer(raw, CallKind::Invoke, false, "ID");
        assert_eq!((wire.status, &wire.body[..]), (200, &b"abc"[..]));
    }

    /// The harness's failures before an answer: its view (a start failure,
    /// a refused dial), else the server's generic 500.
    #[test]
    fn failures_before_an_answer_use_the_harness_view() {
        let failure = AgentError {
            what: "could not connect".to_owned(),
            server: Some(ServerView {
                client_status: 502,
                message: Some("error receiving function response"),
                container: Fate::Killed,
            }),
        };
        assert_eq!(failure_view(&failure).client_status, 502);
        assert_eq!(failure_view(&AgentError::new("x")).client_status, 500);
    }

    #[test]
    fn forwarded_headers_strip_hop_by_hop_as_the_server_does() {
        let mut h = hyper::HeaderMap::new();
        for (k, v) in [
            ("host", "x"),
            ("content-length", "3"),
            ("connection", "keep-alive"),
            ("keep-alive", "timeout=5"),
            ("te", "trailers"),
            ("upgrade", ""),
            ("x-multi", "1"),
            ("x-multi", "2"),
        ] {
            h.append(
                hyper::header::HeaderName::from_static(k),
                hyper::header::HeaderValue::from_static(v),
            );
        }
        // Not UTF-8: forwarded as its bytes, as Go forwards it.
        h.append(
            hyper::header::HeaderName::from_static("x-bin"),
            hyper::header::HeaderValue::from_bytes(b"caf\xe9").unwrap(),
        );
        let pair = |k: &str, v: &[u8]| (k.to_owned(), v.to_vec());
        assert_eq!(
            forwarded_headers(&h),
            [
                pair("Te", b"trailers"),
                pair("Upgrade", b""),
                pair("X-Multi", b"1"),
                pair("X-Multi", b"2"),
                pair("X-Bin", b"caf\xe9"),
            ]
        );
    }

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

    /// Origin form: `http://` + `Host` + target. Absolute form: the target
    /// as it came, whatever `Host` says (Go's `reqURL`).
    #[test]
    fn request_urls_as_the_server_builds_them() {
        let url = |target: &str, host: Option<&str>| {
            let mut req = hyper::Request::builder().uri(target);
            if let Some(host) = host {
                req = req.header("host", host);
            }
            let (parts, ()) = req.body(()).unwrap().into_parts();
            request_url(&parts)
        };
        assert_eq!(
            url("/t/app/s?x=1", Some("127.0.0.1:8080")),
            "http://127.0.0.1:8080/t/app/s?x=1"
        );
        assert_eq!(url("/t/app/s", None), "http://localhost/t/app/s");
        assert_eq!(
            url("http://example.com:81/t/app/s?x=1", Some("127.0.0.1:8080")),
            "http://example.com:81/t/app/s?x=1"
        );
    }

    #[test]
    fn start_options_carry_config_and_memory() {
        let mut func = FuncFile::new("hello");
        func.config.insert("GREETING".into(), "hi".into());
        func.memory = Some(256);
        let options = start_options(&func);
        assert!(options.env_set.contains(&("GREETING".into(), "hi".into())));
        assert!(
            options
                .env_set
                .contains(&("FN_MEMORY".into(), "256".into()))
        );
    }
}
