//! `cargo fdk run` in the server's container: a function that writes to
//! its working directory fails here as it fails on the server (HS-ENV-6:
//! read-only root, uid 1000), and serves with `--no-sandbox`. The function
//! is the conformance fixture in mode `needs-writable-cwd`, built static (a
//! FROM-scratch root file system has no libraries).
//!
//! Needs root and util-linux (`prlimit`, `unshare`, `setpriv`): on a
//! developer's machine without them the test says so and skips; with `CI`
//! set it fails instead.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
#[path = "../../conformance/fixtures/static_fixture.rs"]
mod static_fixture;

use std::process::{Command, Stdio};
use std::time::Duration;

use common::{TempDir, target_dir};

/// `cargo fdk run` of the fixture in `mode`, stopped after `wait`; its
/// exit status and output.
fn run(mode: &str, extra: &[&str], wait: Duration) -> (Option<i32>, String) {
    let dir = TempDir::new("sandbox-run");
    std::fs::write(
        dir.path().join("func.yaml"),
        format!("schema_version: 20180708\nname: fixture\nversion: 0.0.1\nconfig:\n  FIXTURE_MODE: {mode}\n"),
    )
    .unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(env!("CARGO_BIN_EXE_cargo-fdk"))
        .args(["fdk", "run", "--binary"])
        .arg(static_fixture::static_fixture(&target_dir()))
        .args(["--addr", &format!("127.0.0.1:{port}")])
        .args(extra)
        .current_dir(dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let stopper = std::thread::spawn(move || {
        std::thread::sleep(wait);
        let _ = Command::new("kill")
            .args(["-INT", &pid.to_string()])
            .status();
    });
    let out = child.wait_with_output().unwrap();
    let _ = stopper.join();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code(), text)
}

#[test]
fn writing_the_working_directory_fails_as_on_the_server() {
    if let Some(why) = fn_emulator::image::container::missing_requirement() {
        assert!(
            std::env::var_os("CI").is_none_or(|v| v.is_empty()),
            "CI must run the sandbox test, but: {why}"
        );
        eprintln!("skipped: the server's container cannot be built here: {why}");
        return;
    }
    let (code, out) = run("needs-writable-cwd", &[], Duration::from_secs(20));
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("sandbox: the server's container"), "{out}");
    assert!(out.contains("Read-only file system"), "{out}");
    assert!(
        out.contains("error: the function did not start: the function did not become ready"),
        "{out}"
    );

    // On the host it starts and serves until stopped.
    let (code, out) = run(
        "needs-writable-cwd",
        &["--no-sandbox"],
        Duration::from_secs(3),
    );
    assert!(
        out.contains("sandbox: none, the function runs on the host"),
        "{out}"
    );
    assert!(out.contains("Serving fixture on"), "{out}");
    assert_eq!(code, Some(0), "{out}");

    // A function that needs nothing writable serves in the container.
    let (code, out) = run("good", &[], Duration::from_secs(3));
    assert!(out.contains("Serving fixture on"), "{out}");
    assert_eq!(code, Some(0), "{out}");
}
