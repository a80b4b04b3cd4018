//! The hello binary as the Fn server runs it: a process with `FN_*`
//! variables, readiness by `lsnr.sock`, calls on the socket, signals.
//! Requirement IDs refer to `protocol-spec/http-stream.md`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fs;
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use fdk::testing::{TestCall, TestConnection};

struct Dir(PathBuf);

impl Dir {
    fn new(tag: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("hello-{tag}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o777)).unwrap();
        Self(dir)
    }
    fn socket(&self) -> PathBuf {
        self.0.join("lsnr.sock")
    }
    fn entries(&self) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(&self.0)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        names
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

fn hello(env: &[(&str, &str)]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_hello"));
    cmd.env_clear()
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd
}

fn server_env(dir: &Dir) -> Vec<(String, String)> {
    vec![
        (
            "FN_LISTENER".into(),
            format!("unix:{}", dir.socket().display()),
        ),
        ("FN_APP_ID".into(), "01APP".into()),
        ("FN_FN_ID".into(), "01FN".into()),
        ("FN_MEMORY".into(), "128".into()),
        ("FN_TYPE".into(), "sync".into()),
    ]
}

fn spawn(dir: &Dir, extra: &[(&str, &str)]) -> Child {
    let env = server_env(dir);
    let mut all: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    all.extend_from_slice(extra);
    hello(&all).spawn().unwrap()
}

/// Waits for `lsnr.sock` to appear and lead to a socket, as the server's
/// inotify watch and check do; a bounded poll that fails loudly. (A stale
/// `lsnr.sock` placed by a test does not count: it leads nowhere.)
fn wait_ready(path: &Path, child: &mut Child) {
    let start = Instant::now();
    while !fs::metadata(path).is_ok_and(|m| m.file_type().is_socket()) {
        if let Some(status) = child.try_wait().unwrap() {
            panic!("exited before the socket appeared: {status}");
        }
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "no lsnr.sock after 5 s"
        );
        std::thread::sleep(Duration::from_millis(1));
    }
}

fn signal(child: &Child, sig: &str) {
    let ok = Command::new("kill")
        .args([sig, &child.id().to_string()])
        .status()
        .unwrap();
    assert!(ok.success());
}

fn stop(mut child: Child) -> Output {
    signal(&child, "-TERM");
    let start = Instant::now();
    while child.try_wait().unwrap().is_none() {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "no exit after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    child.wait_with_output().unwrap()
}

fn proc_status(child: &Child, field: &str) -> u64 {
    let status = fs::read_to_string(format!("/proc/{}/status", child.id())).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

fn open_fds(child: &Child) -> usize {
    fs::read_dir(format!("/proc/{}/fd", child.id()))
        .unwrap()
        .count()
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// HS-ENV-3, HS-SOCK-3, HS-SOCK-5, HS-LIFE-6, HS-LIFE-8: no `FN_FORMAT`,
/// a relative symlink to a 0666 socket, one thread, no fd growth, and a
/// clean exit on SIGTERM.
#[test]
fn serves_calls_on_one_thread_and_cleans_up_on_sigterm() {
    let dir = Dir::new("serve");
    let mut child = spawn(&dir, &[]);
    wait_ready(&dir.socket(), &mut child);

    let link = fs::read_link(dir.socket()).unwrap();
    assert_eq!(
        link,
        PathBuf::from("phonylsnr.sock"),
        "relative, same directory"
    );
    let target = fs::metadata(dir.socket()).unwrap();
    assert!(target.file_type().is_socket());
    assert_eq!(target.permissions().mode() & 0o777, 0o666);

    let rt = runtime();
    rt.block_on(async {
        // Dial at once, as the server does (no readiness probe).
        let mut conn = TestConnection::open(dir.socket()).await.unwrap();
        let res = conn.call(TestCall::invoke().body("Jimmy")).await.unwrap();
        assert_eq!((res.status(), res.text()), (200, "Hello Jimmy".to_owned()));
        let fds = open_fds(&child);
        for _ in 0..500 {
            assert_eq!(conn.call(TestCall::invoke()).await.unwrap().status(), 200);
        }
        assert_eq!(open_fds(&child), fds, "open files grow with calls");
    });
    assert_eq!(proc_status(&child, "Threads:"), 1);

    let out = stop(child);
    assert!(out.status.success(), "exit after SIGTERM: {:?}", out.status);
    assert!(dir.entries().is_empty(), "left behind: {:?}", dir.entries());
}

/// HS-ENV-1, HS-ENV-2, HS-ENV-3: a bad environment is one line on stderr,
/// a non-zero exit, and nothing created.
#[test]
fn a_bad_environment_exits_non_zero_with_one_line() {
    let dir = Dir::new("badenv");
    let long = format!("unix:/{}", "a".repeat(107));
    let sock = format!("unix:{}", dir.socket().display());
    let cases: Vec<(Vec<(&str, &str)>, &str)> = vec![
        (vec![], "FN_LISTENER"),
        (vec![("FN_LISTENER", "")], "FN_LISTENER"),
        (vec![("FN_LISTENER", "tcp://127.0.0.1:8080")], "FN_LISTENER"),
        (vec![("FN_LISTENER", &long)], "FN_LISTENER"),
        (
            vec![("FN_LISTENER", &sock), ("FN_FORMAT", "grpc")],
            "FN_FORMAT",
        ),
        // HS-REQ-9: a body limit the FDK cannot use.
        (
            vec![("FN_LISTENER", &sock), ("FDK_MAX_BODY", "lots")],
            "FDK_MAX_BODY=`lots`",
        ),
    ];
    for (env, needle) in cases {
        let out = hello(&env).output().unwrap();
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert!(!out.status.success(), "{env:?}");
        assert_eq!(stderr.lines().count(), 1, "{env:?}: {stderr}");
        assert!(stderr.contains(needle), "{env:?}: {stderr}");
        assert!(
            dir.entries().is_empty(),
            "{env:?} created {:?}",
            dir.entries()
        );
    }
}

/// HS-SOCK-1: stale files of both names do not stop the start.
#[test]
fn stale_socket_files_are_replaced() {
    let dir = Dir::new("stale");
    fs::write(dir.0.join("phonylsnr.sock"), b"stale").unwrap();
    std::os::unix::fs::symlink("nowhere", dir.socket()).unwrap();
    let mut child = spawn(&dir, &[("FN_FORMAT", "http-stream")]);
    wait_ready(&dir.socket(), &mut child);
    runtime().block_on(async {
        let mut conn = TestConnection::open(dir.socket()).await.unwrap();
        assert_eq!(
            conn.call(TestCall::invoke()).await.unwrap().text(),
            "Hello World"
        );
    });
    assert!(stop(child).status.success());
}

/// HS-LIFE-2: a process frozen between calls (as `docker pause` does)
/// serves the next call on the same connection once thawed.
#[test]
fn a_frozen_process_serves_the_next_call_after_thawing() {
    let dir = Dir::new("freeze");
    let mut child = spawn(&dir, &[]);
    wait_ready(&dir.socket(), &mut child);
    let rt = runtime();
    let mut conn = rt.block_on(TestConnection::open(dir.socket())).unwrap();
    rt.block_on(async { assert_eq!(conn.call(TestCall::invoke()).await.unwrap().status(), 200) });
    signal(&child, "-STOP");
    std::thread::sleep(Duration::from_millis(300));
    signal(&child, "-CONT");
    rt.block_on(async {
        let res = conn.call(TestCall::invoke().body("again")).await.unwrap();
        assert_eq!(res.text(), "Hello again");
    });
    assert!(stop(child).status.success());
}

/// HS-LOG-3, HS-LOG-4: the log frame goes to stdout and stderr before the
/// call, and nothing is written when the header is absent.
#[test]
fn log_frames_are_written_to_both_streams() {
    let dir = Dir::new("logframe");
    let mut child = spawn(
        &dir,
        &[
            ("FN_LOGFRAME_NAME", "opc_request_id"),
            ("FN_LOGFRAME_HDR", "Opc-Request-Id"),
        ],
    );
    wait_ready(&dir.socket(), &mut child);
    runtime().block_on(async {
        let mut conn = TestConnection::open(dir.socket()).await.unwrap();
        let call = TestCall::invoke().header("Opc-Request-Id", "req-1");
        assert_eq!(conn.call(call).await.unwrap().status(), 200);
        assert_eq!(conn.call(TestCall::invoke()).await.unwrap().status(), 200);
    });
    let out = stop(child);
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        "\nopc_request_id=req-1\n"
    );
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(stderr.matches("opc_request_id=").count(), 1, "{stderr}");
    assert!(stderr.contains("\nopc_request_id=req-1\n"), "{stderr}");
}

/// HS-ENV-2: a listener path of exactly 107 bytes works end to end.
#[test]
fn a_107_byte_listener_path_works() {
    let dir = Dir::new("long");
    let base = dir.0.to_str().unwrap().len() + 1;
    let name = format!("{}.sock", "s".repeat(107 - base - 5));
    let path = dir.0.join(name);
    let listener = format!("unix:{}", path.display());
    let mut child = hello(&[("FN_LISTENER", &listener)]).spawn().unwrap();
    wait_ready(&path, &mut child);
    runtime().block_on(async {
        let mut conn = TestConnection::open(&path).await.unwrap();
        assert_eq!(conn.call(TestCall::invoke()).await.unwrap().status(), 200);
    });
    assert!(stop(child).status.success());
    assert!(dir.entries().is_empty());
}

/// HS-LIFE-8: works with 350 open files allowed, as in the sandbox.
#[test]
fn runs_within_the_sandbox_file_limit() {
    if Command::new("prlimit").arg("--version").output().is_err() {
        eprintln!("prlimit is not installed; skipping");
        return;
    }
    let dir = Dir::new("limits");
    let env = server_env(&dir);
    let mut child = Command::new("prlimit")
        .args(["--nofile=350:350", "--nproc=50:50", "--"])
        .arg(env!("CARGO_BIN_EXE_hello"))
        .env_clear()
        .envs(env)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_ready(&dir.socket(), &mut child);
    runtime().block_on(async {
        // More connections in a row than the process has files.
        for i in 0..400 {
            let mut conn = TestConnection::open(dir.socket()).await.unwrap();
            let res = conn
                .call(TestCall::invoke().body(format!("n{i}")))
                .await
                .unwrap();
            assert_eq!(res.text(), format!("Hello n{i}"));
        }
    });
    assert!(stop(child).status.success());
}

/// HS-LIFE-6: on SIGTERM with only an idle connection and one that has sent
/// half a head, no call is in flight: the process exits at once, without
/// claiming abandoned calls.
#[test]
fn sigterm_with_only_idle_or_half_open_connections_reports_no_running_calls() {
    let dir = Dir::new("idle-stop");
    let mut child = spawn(&dir, &[]);
    wait_ready(&dir.socket(), &mut child);
    let rt = runtime();
    let (_idle, _half) = rt.block_on(async {
        let mut idle = TestConnection::open(dir.socket()).await.unwrap();
        assert_eq!(idle.call(TestCall::invoke()).await.unwrap().status(), 200);
        let mut half = TestConnection::open(dir.socket()).await.unwrap();
        half.send_raw(b"POST /call HTTP/1.1\r\nFn-Call-Id: 01HALF\r\n")
            .await
            .unwrap();
        // Let the process read the half head before the signal.
        tokio::time::sleep(Duration::from_millis(100)).await;
        (idle, half)
    });
    let start = Instant::now();
    let out = stop(child);
    assert!(out.status.success(), "exit after SIGTERM: {:?}", out.status);
    assert!(
        start.elapsed() < Duration::from_secs(2),
        "waited {:?} for connections without calls",
        start.elapsed()
    );
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(!stderr.contains("still running"), "{stderr}");
    assert!(dir.entries().is_empty(), "left behind: {:?}", dir.entries());
}

/// HS-LIFE-6: a call in flight at SIGTERM still gets its answer, and one
/// that outlives the grace period is reported as a running call.
#[test]
fn sigterm_waits_for_the_call_in_flight() {
    let dir = Dir::new("busy-stop");
    let mut child = spawn(&dir, &[]);
    wait_ready(&dir.socket(), &mut child);
    let rt = runtime();
    let mut conn = rt.block_on(async {
        let mut conn = TestConnection::open(dir.socket()).await.unwrap();
        // A chunked body whose end has not been sent: the call is running.
        conn.send_raw(b"POST /call HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nJo\r\n")
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(100)).await;
        conn
    });
    signal(&child, "-TERM");
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        child.try_wait().unwrap().is_none(),
        "exited with a call in flight"
    );
    let res = rt.block_on(async {
        conn.send_raw(b"0\r\n\r\n").await.unwrap();
        conn.read_response().await.unwrap()
    });
    assert_eq!((res.status(), res.text()), (200, "Hello Jo".to_owned()));
    let out = stop(child);
    assert!(out.status.success(), "exit after SIGTERM: {:?}", out.status);
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(!stderr.contains("still running"), "{stderr}");
}

/// Out of file descriptors, every accept fails at once: the FDK logs one
/// line (not one per retry), and serves again once descriptors are free.
#[test]
fn accept_failures_are_one_rate_limited_line() {
    if Command::new("prlimit").arg("--version").output().is_err() {
        eprintln!("prlimit is not installed; skipping");
        return;
    }
    let dir = Dir::new("emfile");
    let env = server_env(&dir);
    let mut child = Command::new("prlimit")
        .args(["--nofile=24:24", "--"])
        .arg(env!("CARGO_BIN_EXE_hello"))
        .env_clear()
        .envs(env)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_ready(&dir.socket(), &mut child);
    runtime().block_on(async {
        // More idle connections than the process has descriptors left.
        let mut held = Vec::new();
        for _ in 0..40 {
            held.push(TestConnection::open(dir.socket()).await.unwrap());
        }
        tokio::time::sleep(Duration::from_millis(1500)).await;
        drop(held);
        tokio::time::sleep(Duration::from_millis(200)).await;
        let mut conn = TestConnection::open(dir.socket()).await.unwrap();
        let res = conn.call(TestCall::invoke().body("again")).await.unwrap();
        assert_eq!(res.text(), "Hello again");
    });
    let out = stop(child);
    assert!(out.status.success(), "exit after SIGTERM: {:?}", out.status);
    let stderr = String::from_utf8(out.stderr).unwrap();
    let lines = stderr.matches("failed to accept a connection").count();
    assert_eq!(lines, 1, "{stderr}");
}
