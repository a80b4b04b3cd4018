//! `cargo fdk run`: a local stand-in for the Fn server.
//!
//! The front end is HTTP/1.1 on 127.0.0.1 with the server's two entry
//! points, `POST /invoke/<function>` and the HTTP triggers
//! `/t/<app>/<source>`. The back end is the conformance harness's server
//! emulation ([`fdk_conformance::harness`]): the function runs hot, started
//! with the server's environment and judged ready by the same inotify
//! event, frozen between calls, called with the server's exact bytes, and
//! every answer classified as the server would (the client's status and
//! message, and whether the container is kept or killed). Nothing about
//! the contract is written twice.
//!
//! One call at a time reaches the function, as on the server: the harness
//! lives on a thread of its own and takes calls from a queue.

use std::convert::Infallible;
use std::io::{Read, Seek, SeekFrom, Write};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use fdk_conformance::agent::outcome::{CallKind, Fate, HOP_BY_HOP, gateway_client_headers};
use fdk_conformance::agent::{FunctionCommand, StartOptions};
use fdk_conformance::harness::{Call, Exchange, Harness};
use fdk_conformance::stdio::golang::canonical_key;
use fdk_conformance::verdict::Verdict;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use tokio::sync::oneshot;

use crate::error::{Error, Result};
use crate::funcfile::FuncFile;

/// The Fn CLI's limit on an invoke body (`fn invoke`: 10 MiB).
const MAX_BODY: usize = 10 << 20;
/// Fn's default call timeout, when func.yaml sets none.
const DEFAULT_TIMEOUT_S: u32 = 30;

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
}

/// What the function's thread is asked to do.
enum Msg {
    /// Serve one call.
    Call(Job),
    /// Stop: the harness kills the function and removes its directory.
    Stop,
}

/// One request for the function, and where its answer goes.
struct Job {
    call: Call,
    label: String,
    reply: oneshot::Sender<Answer>,
}

/// What the client gets.
#[derive(Debug)]
struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: Bytes,
}

/// Serves until Ctrl-C (SIGINT) or SIGTERM. Prints where, and each call.
pub fn run(options: RunOptions) -> Result<()> {
    let started = options.started;
    let (jobs, queue) = mpsc::channel::<Msg>();
    let (ready_tx, ready_rx) = mpsc::channel::<std::result::Result<Duration, String>>();
    let worker_options = options.clone();
    let worker = std::thread::Builder::new()
        .name("fdk-run-function".into())
        .spawn(move || function_thread(worker_options, queue, ready_tx))
        .map_err(|e| Error::new(format!("could not start the function thread: {e}")))?;
    match ready_rx.recv() {
        Ok(Ok(ready)) => println!(
            "{} is ready ({} ms after exec, {} ms after `cargo fdk run` started)",
            options.func.name,
            ready.as_millis(),
            started.elapsed().as_millis()
        ),
        Ok(Err(why)) => return Err(Error::new(why)),
        Err(_) => return Err(Error::new("the function thread ended before the start")),
    }

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::new(format!("could not build the async runtime: {e}")))?;
    let served = runtime.block_on(serve(options, jobs.clone(), started));
    // The connections' tasks still hold senders: ask the thread to stop
    // rather than wait for them, and wait until the function is gone (the
    // harness kills it and removes its directory when dropped).
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
    let stop = stop_signal();
    tokio::pin!(stop);
    loop {
        let (stream, _) = tokio::select! {
            () = &mut stop => {
                println!("stopping");
                return Ok(());
            }
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    eprintln!("accept failed: {e}");
                    continue;
                }
            },
        };
        let jobs = jobs.clone();
        let options = Arc::clone(&shared);
        let first = Arc::clone(&first);
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |req| {
                let jobs = jobs.clone();
                let options = Arc::clone(&options);
                let first = Arc::clone(&first);
                async move {
                    let since_start = first.lock().ok().and_then(|mut f| f.take());
                    let res = handle(&options, &jobs, req).await;
                    if let Some(t) = since_start {
                        println!(
                            "first call answered {} ms after `cargo fdk run` started",
                            t.elapsed().as_millis()
                        );
                    }
                    Ok::<_, Infallible>(res)
                }
            });
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
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

/// One client request: which entry point, then the call.
async fn handle(
    options: &RunOptions,
    jobs: &mpsc::Sender<Msg>,
    req: hyper::Request<Incoming>,
) -> hyper::Response<Full<Bytes>> {
    let (parts, body) = req.into_parts();
    let path = parts.uri.path().to_owned();
    let label = format!("{} {}", parts.method, parts.uri);
    let body = match Limited::new(body, MAX_BODY).collect().await {
        Ok(body) => body.to_bytes(),
        Err(e) => return message(413, &format!("could not read the request body: {e}")),
    };
    let name = &options.func.name;
    let call = if let Some(target) = path.strip_prefix("/invoke/") {
        if parts.method != hyper::Method::POST {
            return message(405, "invoke calls are POST");
        }
        if target != name && target != fdk_conformance::agent::process::FN_ID {
            return message(
                404,
                &format!("no function `{target}` here; this is `{name}`"),
            );
        }
        Call::invoke()
    } else if let Some(rest) = path
        .strip_prefix(&format!("/t/{}", options.app))
        .filter(|rest| rest.is_empty() || rest.starts_with('/'))
    {
        let source = if rest.is_empty() { "/" } else { rest };
        let known = options.func.triggers.is_empty()
            || options.func.triggers.iter().any(|t| t.source == source);
        if !known {
            return message(404, &format!("no trigger at {source} (func.yaml triggers)"));
        }
        let host = parts
            .headers
            .get(hyper::header::HOST)
            .and_then(|h| h.to_str().ok())
            .unwrap_or("localhost");
        let url = format!("http://{host}{}", parts.uri);
        Call::gateway(parts.method.as_str(), &url)
    } else {
        return message(
            404,
            &format!(
                "not an Fn endpoint: use POST /invoke/{name} or /t/{}/<trigger>",
                options.app
            ),
        );
    };
    let mut call = call
        .deadline_in(Duration::from_secs(u64::from(
            options.func.timeout.unwrap_or(DEFAULT_TIMEOUT_S),
        )))
        .body(body.to_vec());
    for (k, v) in &parts.headers {
        let lower = k.as_str();
        if HOP_BY_HOP.contains(&lower) || lower == "host" || lower == "content-length" {
            continue;
        }
        if let Ok(v) = v.to_str() {
            call = call.header(&canonical_key(lower), v);
        }
    }
    let (reply, answer) = oneshot::channel();
    if jobs.send(Msg::Call(Job { call, label, reply })).is_err() {
        return message(500, "the function thread has stopped");
    }
    match answer.await {
        Ok(answer) => {
            let mut res = hyper::Response::new(Full::new(answer.body));
            *res.status_mut() = hyper::StatusCode::from_u16(answer.status)
                .unwrap_or(hyper::StatusCode::BAD_GATEWAY);
            for (k, v) in answer.headers {
                if let (Ok(k), Ok(v)) = (
                    hyper::header::HeaderName::from_bytes(k.as_bytes()),
                    hyper::header::HeaderValue::from_str(&v),
                ) {
                    res.headers_mut().append(k, v);
                }
            }
            res
        }
        Err(_) => message(500, "the function thread dropped the call"),
    }
}

/// `{"message": …}`, as the Fn server answers its own errors.
fn message(status: u16, text: &str) -> hyper::Response<Full<Bytes>> {
    let body = serde_json::json!({ "message": text }).to_string();
    let mut res = hyper::Response::new(Full::new(Bytes::from(body)));
    *res.status_mut() =
        hyper::StatusCode::from_u16(status).unwrap_or(hyper::StatusCode::INTERNAL_SERVER_ERROR);
    res.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/json"),
    );
    res
}

/// The function's thread: owns the harness, serves the queue in order.
fn function_thread(
    options: RunOptions,
    queue: mpsc::Receiver<Msg>,
    ready: mpsc::Sender<std::result::Result<Duration, String>>,
) {
    let command = FunctionCommand {
        name: options.func.name.clone(),
        program: options.binary.clone().into_os_string(),
        args: Vec::new(),
    };
    let mut harness = match Harness::new(command, false) {
        Ok(h) => h,
        Err(e) => {
            let _ = ready.send(Err(format!("could not prepare a work directory: {e}")));
            return;
        }
    };
    harness.set_freeze(options.freeze);
    let start = start_options(&options.func);
    let log = harness.work_path().join("function.log");
    let mut tail = LogTail::new(log, &options.func.name);
    match harness.start(start.clone()) {
        Ok(f) => {
            let _ = ready.send(Ok(f.ready_after()));
        }
        Err(verdict) => {
            tail.print();
            let _ = ready.send(Err(format!(
                "the function did not start: {}",
                why(&verdict)
            )));
            return;
        }
    }
    tail.print();
    for msg in queue {
        let Msg::Call(job) = msg else { break };
        let answer = serve_one(&mut harness, &start, &job, &mut tail);
        let _ = job.reply.send(answer);
    }
    // Thaws and kills the function, removes its directory.
    drop(harness);
    tail.print();
}

/// The harness's reason, in one line (its evidence is the log, already
/// shown).
fn why(verdict: &Verdict) -> String {
    match verdict {
        Verdict::Fail(failure) => failure.what.clone(),
        Verdict::NotApplicable(text) | Verdict::Skipped(text) => text.clone(),
        Verdict::Pass => "no reason given".to_owned(),
    }
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

fn serve_one(harness: &mut Harness, start: &StartOptions, job: &Job, tail: &mut LogTail) -> Answer {
    if !harness.alive() {
        println!("starting a new container");
        if let Err(verdict) = harness.start(start.clone()) {
            tail.print();
            return Answer {
                status: 502,
                headers: vec![("content-type".into(), "application/json".into())],
                body: Bytes::from(
                    serde_json::json!({ "message": format!("container failed to start: {}", why(&verdict)) })
                        .to_string(),
                ),
            };
        }
    }
    let began = Instant::now();
    let exchange = match harness.call(&job.call) {
        Ok(ex) => ex,
        Err(verdict) => {
            tail.print();
            return Answer {
                status: 502,
                headers: vec![("content-type".into(), "application/json".into())],
                body: Bytes::from(
                    serde_json::json!({ "message": format!("the call could not be made: {}", why(&verdict)) })
                        .to_string(),
                ),
            };
        }
    };
    let took = began.elapsed();
    tail.print();
    let answer = client_answer(&exchange, job.call.kind());
    println!(
        "call {}: {} -> {} in {:.1} ms ({})",
        exchange.call_id,
        job.label,
        answer.status,
        took.as_secs_f64() * 1000.0,
        exchange.view
    );
    if exchange.view.container == Fate::Killed {
        println!("  the server would kill this container: the next call starts a new one");
        harness.discard();
    }
    answer
}

/// What the Fn server sends its client (contract §5.2, §5.3): the server's
/// error message when the call failed; for invoke, the function's headers
/// (minus hop-by-hop) and body; for triggers, the decoded gateway headers
/// and status.
fn client_answer(ex: &Exchange, kind: CallKind) -> Answer {
    let mut headers = vec![("fn-call-id".to_owned(), ex.call_id.clone())];
    let view = &ex.view;
    match (view.message, ex.response()) {
        (None, Some(res)) => {
            match kind {
                CallKind::Invoke => headers.extend(
                    res.headers
                        .iter()
                        .filter(|(k, _)| {
                            let k = k.to_ascii_lowercase();
                            !HOP_BY_HOP.contains(&k.as_str()) && k != "content-length"
                        })
                        .cloned(),
                ),
                CallKind::Gateway => headers.extend(gateway_client_headers(res)),
            }
            Answer {
                status: view.client_status,
                headers,
                body: Bytes::from(res.body.clone()),
            }
        }
        (message, _) => {
            headers.push(("content-type".into(), "application/json".into()));
            let text = message.unwrap_or("function failed");
            Answer {
                status: view.client_status,
                headers,
                body: Bytes::from(serde_json::json!({ "message": text }).to_string()),
            }
        }
    }
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
