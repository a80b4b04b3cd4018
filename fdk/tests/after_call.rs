//! The after-call hook through the real socket and a stdin/stdout format:
//! it runs before the answer's last byte reaches the server (HS-LIFE-12).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use fdk::testing::{StdioRun, TestCall, TestServer};
use fdk::{Body, CallEnd, Function, FunctionError};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::UnixStream;

/// A hook that sleeps `for_`, then raises `flag`.
fn slow_hook(
    flag: Arc<AtomicBool>,
    for_: Duration,
) -> impl Fn(CallEnd) -> std::pin::Pin<Box<dyn Future<Output = ()> + Send>> + Send + Sync + 'static
{
    move |_end| {
        let flag = Arc::clone(&flag);
        Box::pin(async move {
            tokio::time::sleep(for_).await;
            flag.store(true, Ordering::SeqCst);
        })
    }
}

/// Reads until `done` says the bytes so far are a whole response; returns
/// them.
async fn read_until(
    stream: &mut UnixStream,
    buf: &mut Vec<u8>,
    done: impl Fn(&[u8]) -> bool,
) -> Vec<u8> {
    let mut chunk = [0u8; 4096];
    while !done(buf) {
        let n = stream.read(&mut chunk).await.unwrap();
        assert!(n > 0, "the connection closed early: {buf:?}");
        buf.extend_from_slice(&chunk[..n]);
    }
    buf.clone()
}

fn head_end(bytes: &[u8]) -> Option<usize> {
    bytes
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|i| i + 4)
}

/// Is `bytes` a whole response: its head, then a body of the length it
/// declares, or a chunked body up to its terminator?
fn complete(bytes: &[u8]) -> bool {
    let Some(end) = head_end(bytes) else {
        return false;
    };
    let head = String::from_utf8_lossy(&bytes[..end]).to_ascii_lowercase();
    let length = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .map(|v| v.trim().parse::<usize>().unwrap());
    match length {
        Some(n) => bytes.len() >= end + n,
        None => bytes.ends_with(b"0\r\n\r\n"),
    }
}

/// The head arrives while the hook still runs; the last byte only once it
/// is done, for a body of known length and for a streamed (chunked) one.
#[tokio::test]
async fn the_last_byte_arrives_only_after_the_hook_has_finished() {
    async fn buffered() -> &'static str {
        "hello"
    }
    async fn streamed() -> Body {
        let (mut tx, body) = Body::channel();
        tokio::spawn(async move {
            let _ = tx.send("hel").await;
            let _ = tx.send("lo").await;
        });
        body
    }
    for (name, function) in [
        ("buffered", Function::new(buffered)),
        ("streamed", Function::new(streamed)),
    ] {
        let flag = Arc::new(AtomicBool::new(false));
        let function =
            function.after_call(slow_hook(Arc::clone(&flag), Duration::from_millis(200)));
        let server = TestServer::start(function).await.unwrap();
        let mut stream = UnixStream::connect(server.socket_path()).await.unwrap();
        let start = Instant::now();
        stream
            .write_all(&TestCall::invoke().to_wire())
            .await
            .unwrap();
        let mut buf = Vec::new();
        read_until(&mut stream, &mut buf, |b| head_end(b).is_some()).await;
        assert!(
            !flag.load(Ordering::SeqCst),
            "{name}: the head waits for nothing"
        );
        assert!(!complete(&buf), "{name}: complete before the hook ran");
        let all = read_until(&mut stream, &mut buf, complete).await;
        assert!(
            flag.load(Ordering::SeqCst),
            "{name}: the last byte came before the hook finished"
        );
        assert!(start.elapsed() >= Duration::from_millis(200), "{name}");
        let text = String::from_utf8_lossy(&all);
        assert!(text.starts_with("HTTP/1.1 200"), "{name}: {text}");
        assert!(text.contains("hel"), "{name}: {text}");
        server.stop().await;
    }
}

/// An empty answer (`Content-Length: 0`) has no last body byte: its head
/// waits for the hook.
#[tokio::test]
async fn an_empty_answer_waits_for_the_hook_too() {
    async fn nothing() {}
    let flag = Arc::new(AtomicBool::new(false));
    let function =
        Function::new(nothing).after_call(slow_hook(Arc::clone(&flag), Duration::from_millis(100)));
    let server = TestServer::start(function).await.unwrap();
    let res = server.call(TestCall::invoke()).await.unwrap();
    assert!(flag.load(Ordering::SeqCst));
    assert_eq!(res.status(), 200);
}

/// A hook that panics, while building its future or while it runs, is
/// logged; the answer goes out and the connection serves the next call.
#[tokio::test]
async fn a_panicking_hook_still_delivers_the_answer() {
    async fn hello() -> &'static str {
        "hello"
    }
    let calls = Arc::new(Mutex::new(0u32));
    let counted = Arc::clone(&calls);
    let function = Function::new(hello).after_call(move |_end: CallEnd| {
        let n = {
            let mut calls = counted.lock().unwrap();
            *calls += 1;
            *calls
        };
        if n == 1 {
            panic!("the hook gave up before its future");
        }
        async move {
            tokio::task::yield_now().await;
            if n == 2 {
                panic!("the hook gave up");
            }
        }
    });
    let server = TestServer::start(function).await.unwrap();
    let mut conn = server.connect().await.unwrap();
    for _ in 0..3 {
        let res = conn.call(TestCall::invoke()).await.unwrap();
        assert_eq!((res.status(), res.text().as_str()), (200, "hello"));
    }
    assert_eq!(*calls.lock().unwrap(), 3);
}

/// What the hook saw of each call.
#[derive(Default, Clone)]
struct Seen(Arc<Mutex<Vec<(String, bool, u16)>>>);

impl Seen {
    fn hook(&self) -> impl Fn(CallEnd) -> std::future::Ready<()> + Send + Sync + 'static {
        let seen = self.clone();
        move |end: CallEnd| {
            seen.0.lock().unwrap().push((
                end.call_id().to_owned(),
                end.is_failure(),
                end.status().as_u16(),
            ));
            std::future::ready(())
        }
    }
    fn take(&self) -> Vec<(String, bool, u16)> {
        std::mem::take(&mut *self.0.lock().unwrap())
    }
}

/// The hook of a failing call sees the failure, with the call's id.
#[tokio::test]
async fn the_hook_of_a_failing_call_sees_the_failure() {
    async fn failing(body: String) -> Result<String, FunctionError> {
        match body.as_str() {
            "fail" => Err(FunctionError::msg("db down")),
            "panic" => panic!("oops"),
            _ => Ok(body),
        }
    }
    let seen = Seen::default();
    let server = TestServer::start(Function::new(failing).after_call(seen.hook()))
        .await
        .unwrap();
    for (body, status) in [("fail", 502), ("panic", 502), ("ok", 200)] {
        let res = server
            .call(TestCall::invoke().call_id(&format!("01{body}")).body(body))
            .await
            .unwrap();
        assert_eq!(res.status(), status, "{body}");
    }
    assert_eq!(
        seen.take(),
        vec![
            ("01fail".to_owned(), true, 500),
            ("01panic".to_owned(), true, 500),
            ("01ok".to_owned(), false, 200),
        ]
    );
}

/// A hook that outlives the call's deadline is stopped there; the answer
/// goes out.
#[tokio::test]
async fn a_slow_hook_is_stopped_at_the_deadline() {
    async fn hello() -> &'static str {
        "hello"
    }
    let flag = Arc::new(AtomicBool::new(false));
    let function =
        Function::new(hello).after_call(slow_hook(Arc::clone(&flag), Duration::from_secs(60)));
    let server = TestServer::start(function).await.unwrap();
    let start = Instant::now();
    // Whole seconds, as the server sends it: 1 to 2 s from now.
    let call = TestCall::invoke().deadline_in(Duration::from_secs(2));
    let res = tokio::time::timeout(Duration::from_secs(10), server.call(call))
        .await
        .expect("the hook was not bounded")
        .unwrap();
    assert_eq!((res.status(), res.text().as_str()), (200, "hello"));
    assert!(start.elapsed() < Duration::from_secs(3));
    assert!(!flag.load(Ordering::SeqCst));
}

/// With a stdin/stdout format the hook runs for each call, before its
/// response is written.
#[tokio::test]
async fn stdio_calls_run_the_hook() {
    async fn failing(body: String) -> Result<String, FunctionError> {
        if body == "fail" {
            return Err(FunctionError::msg("db down"));
        }
        Ok(body)
    }
    let seen = Seen::default();
    let input = concat!(
        r#"{"call_id":"01A","body":"ok"}"#,
        "\n",
        r#"{"call_id":"01B","body":"fail"}"#,
        "\n"
    );
    let out = StdioRun::new("json")
        .run(Function::new(failing).after_call(seen.hook()), input)
        .await;
    assert!(out.result.is_ok());
    assert_eq!(
        seen.take(),
        vec![
            ("01A".to_owned(), false, 200),
            ("01B".to_owned(), true, 500)
        ]
    );
}
