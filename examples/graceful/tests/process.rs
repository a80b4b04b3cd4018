//! The graceful binary as the Fn server runs it, stopped with SIGTERM: the
//! call in flight finishes, the socket files go, then the shutdown hook
//! runs, and the process exits 0 (HS-LIFE-6, HS-LIFE-11).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fs;
use std::os::unix::fs::FileTypeExt;
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use fdk::testing::{TestCall, TestConnection};

struct Dir(PathBuf);

impl Dir {
    fn new(tag: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("graceful-{tag}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }
    fn socket(&self) -> PathBuf {
        self.0.join("lsnr.sock")
    }
    fn entries(&self) -> Vec<String> {
        fs::read_dir(&self.0)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect()
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// Starts the binary as the server does, and waits for `lsnr.sock`.
fn start(dir: &Dir, extra: &[(&str, &str)]) -> Child {
    let mut child = Command::new(env!("CARGO_BIN_EXE_graceful"))
        .env_clear()
        .env("FN_LISTENER", format!("unix:{}", dir.socket().display()))
        .env("FN_FORMAT", "http-stream")
        .envs(extra.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while !fs::metadata(dir.socket()).is_ok_and(|m| m.file_type().is_socket()) {
        if let Some(status) = child.try_wait().unwrap() {
            panic!("exited before the socket appeared: {status}");
        }
        assert!(start.elapsed() < Duration::from_secs(5), "no lsnr.sock");
        std::thread::sleep(Duration::from_millis(1));
    }
    child
}

fn sigterm(child: &Child) {
    let ok = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(ok.success());
}

fn wait(mut child: Child) -> Output {
    let start = Instant::now();
    while child.try_wait().unwrap().is_none() {
        assert!(start.elapsed() < Duration::from_secs(10), "no exit");
        std::thread::sleep(Duration::from_millis(5));
    }
    child.wait_with_output().unwrap()
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn sigterm_finishes_the_call_then_runs_the_hook_and_exits_0() {
    let dir = Dir::new("hook");
    let child = start(&dir, &[]);
    let rt = runtime();
    let slow = rt.block_on(async {
        let mut conn = TestConnection::open(dir.socket()).await.unwrap();
        let res = conn.call(TestCall::invoke().body("fast")).await.unwrap();
        assert_eq!(res.text(), "call 1");
        conn.send_raw(&TestCall::invoke().body("slow").to_wire())
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(50)).await;
        sigterm(&child);
        conn.read_response().await.unwrap()
    });
    assert_eq!((slow.status(), slow.text()), (200, "call 2".to_owned()));
    let out = wait(child);
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(out.status.success(), "{:?}: {stderr}", out.status);
    assert_eq!(stderr, "graceful: served 2 call(s)\n");
    assert!(dir.entries().is_empty(), "left behind: {:?}", dir.entries());
}

#[test]
fn a_panicking_hook_still_exits_0_with_the_files_removed() {
    let dir = Dir::new("panic");
    let child = start(&dir, &[("HOOK", "panic"), ("GRACE_MS", "1000")]);
    sigterm(&child);
    let out = wait(child);
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(out.status.success(), "{:?}: {stderr}", out.status);
    assert!(
        stderr.contains("fdk error: the shutdown hook panicked: the hook was told to panic"),
        "{stderr}"
    );
    assert!(dir.entries().is_empty(), "left behind: {:?}", dir.entries());
}

#[test]
fn a_call_past_the_grace_is_abandoned_and_the_hook_still_runs() {
    let dir = Dir::new("grace");
    let child = start(&dir, &[("GRACE_MS", "100")]);
    let rt = runtime();
    let start = Instant::now();
    rt.block_on(async {
        let mut conn = TestConnection::open(dir.socket()).await.unwrap();
        conn.send_raw(&TestCall::invoke().body("hang").to_wire())
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(50)).await;
        sigterm(&child);
        assert!(conn.read_response().await.is_err(), "abandoned: no answer");
    });
    let out = wait(child);
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "waited for the call"
    );
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(out.status.success(), "{:?}: {stderr}", out.status);
    assert!(
        stderr.contains("1 call(s) still running 0.1s after the stop signal were abandoned"),
        "{stderr}"
    );
    assert!(stderr.ends_with("graceful: served 0 call(s)\n"), "{stderr}");
    assert!(dir.entries().is_empty(), "left behind: {:?}", dir.entries());
}
