//! The shutdown hook and grace through the real socket, stopped as SIGTERM
//! would stop it (`TestServer::stop`), and over stdin/stdout at the end of
//! the input: HS-LIFE-6, HS-LIFE-11.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use fdk::Function;
use fdk::testing::{StdioRun, TestCall, TestServer};

/// What the hook saw, in order.
#[derive(Default, Clone)]
struct Journal(Arc<Mutex<Vec<String>>>);

impl Journal {
    fn note(&self, line: impl Into<String>) {
        self.0.lock().unwrap().push(line.into());
    }
    fn lines(&self) -> Vec<String> {
        self.0.lock().unwrap().clone()
    }
}

/// The entries left in the socket's directory.
fn entries(socket: &Path) -> usize {
    std::fs::read_dir(socket.parent().unwrap()).map_or(0, |d| d.count())
}

fn slow(
    journal: Journal,
) -> impl Fn(Bytes) -> std::pin::Pin<Box<dyn Future<Output = Bytes> + Send>> + Clone {
    move |body: Bytes| {
        let journal = journal.clone();
        Box::pin(async move {
            tokio::time::sleep(Duration::from_millis(200)).await;
            journal.note(format!("call {} done", String::from_utf8_lossy(&body)));
            body
        })
    }
}

/// The hook runs once, after the call in flight has finished and the
/// socket files are gone; the call's answer reaches the client.
#[tokio::test]
async fn the_hook_runs_after_in_flight_calls_finish_and_the_files_are_removed() {
    let journal = Journal::default();
    let socket = Arc::new(Mutex::new(PathBuf::new()));
    let (hook_journal, hook_socket) = (journal.clone(), Arc::clone(&socket));
    let function = Function::new(slow(journal.clone())).on_shutdown(move || async move {
        let path = hook_socket.lock().unwrap().clone();
        hook_journal.note(format!("hook: {} entries left", entries(&path)));
    });
    let server = TestServer::start(function).await.unwrap();
    *socket.lock().unwrap() = server.socket_path().to_owned();
    let mut conn = server.connect().await.unwrap();
    let call = tokio::spawn(async move { conn.call(TestCall::invoke().body("a")).await });
    tokio::time::sleep(Duration::from_millis(50)).await;
    server.stop().await;
    let res = call.await.unwrap().unwrap();
    assert_eq!((res.status(), res.text()), (200, "a".to_owned()));
    assert_eq!(journal.lines(), ["call a done", "hook: 0 entries left"]);
}

/// The hook's own time counts against the grace: calls take part of it,
/// the hook is stopped at its end, and the server still stops cleanly.
#[tokio::test]
async fn the_grace_bounds_the_calls_and_the_hook_together() {
    let journal = Journal::default();
    let hook_journal = journal.clone();
    let function = Function::new(slow(journal.clone()))
        .shutdown_grace(Duration::from_millis(500))
        .on_shutdown(move || async move {
            hook_journal.note("hook started");
            tokio::time::sleep(Duration::from_secs(30)).await;
            hook_journal.note("hook finished");
        });
    let server = TestServer::start(function).await.unwrap();
    let socket = server.socket_path().to_owned();
    let mut conn = server.connect().await.unwrap();
    let call = tokio::spawn(async move { conn.call(TestCall::invoke().body("b")).await });
    tokio::time::sleep(Duration::from_millis(50)).await;
    let start = Instant::now();
    server.stop().await;
    let took = start.elapsed();
    assert!(
        took >= Duration::from_millis(400) && took < Duration::from_secs(3),
        "{took:?}"
    );
    assert_eq!(call.await.unwrap().unwrap().text(), "b");
    assert_eq!(journal.lines(), ["call b done", "hook started"]);
    assert!(!socket.exists());
}

/// A call that outlives the grace is abandoned; the hook still starts.
#[tokio::test]
async fn calls_past_the_grace_are_abandoned_and_the_hook_still_starts() {
    async fn hang() -> &'static str {
        tokio::time::sleep(Duration::from_secs(3600)).await;
        "late"
    }
    let journal = Journal::default();
    let hook_journal = journal.clone();
    let function = Function::new(hang)
        .shutdown_grace(Duration::from_millis(200))
        .on_shutdown(move || async move { hook_journal.note("hook") });
    let server = TestServer::start(function).await.unwrap();
    let mut conn = server.connect().await.unwrap();
    let call = tokio::spawn(async move { conn.call(TestCall::invoke()).await });
    tokio::time::sleep(Duration::from_millis(50)).await;
    let start = Instant::now();
    server.stop().await;
    assert!(start.elapsed() < Duration::from_secs(3));
    assert!(
        call.await.unwrap().is_err(),
        "the abandoned call has no answer"
    );
    assert_eq!(journal.lines(), ["hook"]);
}

/// A panicking hook is logged; the stop is clean (files removed) and the
/// hook runs once.
#[tokio::test]
async fn a_panicking_hook_does_not_break_the_stop() {
    async fn hello() -> &'static str {
        "hi"
    }
    let runs = Journal::default();
    let hook_runs = runs.clone();
    let function = Function::new(hello).on_shutdown(move || async move {
        hook_runs.note("hook");
        tokio::task::yield_now().await;
        panic!("the hook gave up");
    });
    let server = TestServer::start(function).await.unwrap();
    let socket = server.socket_path().to_owned();
    let res = server.call(TestCall::invoke()).await.unwrap();
    assert_eq!(res.text(), "hi");
    server.stop().await;
    assert!(!socket.exists());
    assert_eq!(runs.lines(), ["hook"]);
}

/// With a stdin/stdout format the hook runs once, when the input ends,
/// after the last call's answer is written.
#[tokio::test]
async fn over_stdio_the_hook_runs_once_when_the_input_ends() {
    let journal = Journal::default();
    let (calls, hook) = (journal.clone(), journal.clone());
    let handler = move |name: String| {
        calls.note(format!("call {name}"));
        std::future::ready(format!("Hello {name}"))
    };
    let function = Function::new(handler).on_shutdown(move || async move { hook.note("hook") });
    let out = StdioRun::new("json")
        .run(function, "{\"body\":\"Al\"}\n{\"body\":\"Jo\"}\n")
        .await;
    assert!(out.result.is_ok(), "{:?}", out.result);
    assert_eq!(journal.lines(), ["call Al", "call Jo", "hook"]);
}
