//! The ops that only a real process can show: `exit` ends it mid-call, and
//! `log` writes to its stdout and stderr.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fs;
use std::os::unix::fs::FileTypeExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use fdk::testing::{TestCall, TestConnection};

/// A fresh directory for `lsnr.sock`, removed afterwards.
struct Dir(PathBuf);

impl Dir {
    fn new(tag: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("probe-{tag}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }
    fn socket(&self) -> PathBuf {
        self.0.join("lsnr.sock")
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

fn spawn(dir: &Dir) -> Child {
    Command::new(env!("CARGO_BIN_EXE_probe"))
        .env_clear()
        .env("FN_LISTENER", format!("unix:{}", dir.socket().display()))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Waits for `lsnr.sock` to lead to a socket, as the server does; a bounded
/// poll that fails loudly.
fn wait_ready(path: &Path, child: &mut Child) {
    let start = Instant::now();
    while !fs::metadata(path).is_ok_and(|m| m.file_type().is_socket()) {
        if let Some(status) = child.try_wait().unwrap() {
            panic!("the probe exited before its socket appeared: {status}");
        }
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "no lsnr.sock after 5 s"
        );
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// Waits (bounded) for the process to end and collects its output.
fn wait_exit(mut child: Child) -> Output {
    let start = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > Duration::from_secs(5) {
            let _ = child.kill();
            panic!("the probe did not exit within 5 s");
        }
        std::thread::sleep(Duration::from_millis(2));
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
fn exit_ends_the_process_mid_call_with_the_code() {
    let dir = Dir::new("exit");
    let mut child = spawn(&dir);
    wait_ready(&dir.socket(), &mut child);
    runtime().block_on(async {
        let mut conn = TestConnection::open(dir.socket()).await.unwrap();
        let call = TestCall::invoke().header("X-Probe", r#"{"op":"exit","code":3}"#);
        conn.send_raw(&call.to_wire()).await.unwrap();
        // The process is gone mid-call: the connection closes, no response.
        let err = conn.read_response().await.unwrap_err();
        assert!(
            matches!(
                err.kind(),
                std::io::ErrorKind::UnexpectedEof | std::io::ErrorKind::ConnectionReset
            ),
            "{err:?}"
        );
    });
    let out = wait_exit(child);
    assert_eq!(out.status.code(), Some(3), "{:?}", out.status);
}

#[test]
fn log_writes_each_line_to_its_stream() {
    let dir = Dir::new("log");
    let mut child = spawn(&dir);
    wait_ready(&dir.socket(), &mut child);
    runtime().block_on(async {
        let mut conn = TestConnection::open(dir.socket()).await.unwrap();
        let call = TestCall::invoke().header(
            "X-Probe",
            r#"{"op":"log","stdout":"to stdout","stderr":"to stderr"}"#,
        );
        let res = conn.call(call).await.unwrap();
        assert_eq!((res.status(), res.text()), (200, "logged".to_owned()));
        let call = TestCall::invoke().header("X-Probe", r#"{"op":"exit","code":0}"#);
        assert!(conn.call(call).await.is_err());
    });
    let out = wait_exit(child);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(String::from_utf8(out.stdout).unwrap(), "to stdout\n");
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.lines().any(|l| l == "to stderr"), "{stderr}");
}
