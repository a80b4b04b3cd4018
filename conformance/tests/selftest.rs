//! Trusting the harness: each deliberately broken fixture (`fixture <mode>`,
//! one defect each) must be caught by the case meant for it, and the
//! correct fixture (`good`) must pass those same cases. A harness that
//! passes everything proves nothing.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::{Command, Output};

fn suite(mode: &str, only: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_fdk-conformance"));
    cmd.arg("run").arg("--probe");
    for id in only {
        cmd.args(["--only", id]);
    }
    cmd.arg("--").arg(env!("CARGO_BIN_EXE_fixture")).arg(mode);
    cmd.output().unwrap()
}

fn verdict<'a>(stdout: &'a str, id: &str) -> Option<&'a str> {
    stdout.lines().find_map(|line| {
        let mut words = line.split_whitespace();
        let tag = words.next()?;
        let _level = words.next()?;
        (words.next()? == id).then_some(tag)
    })
}

/// `mode` fails the MUST `case` (exit 1), and `good` passes it.
fn caught(mode: &str, case: &str) {
    caught_with_exit(mode, case, 1);
}

/// `mode` fails the SHOULD `case`, which does not fail the run (exit 0),
/// and `good` passes it.
fn caught_should(mode: &str, case: &str) {
    caught_with_exit(mode, case, 0);
}

fn caught_with_exit(mode: &str, case: &str, exit: i32) {
    let out = suite(mode, &[case]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        verdict(&stdout, case),
        Some("FAIL"),
        "{mode} must fail {case}:\n{stdout}"
    );
    assert_eq!(out.status.code(), Some(exit), "{mode}: {stdout}");

    let out = suite("good", &[case]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        verdict(&stdout, case),
        Some("PASS"),
        "good must pass {case}:\n{stdout}"
    );
    assert_eq!(out.status.code(), Some(0), "good: {stdout}");
}

/// `mode` never becomes ready: exit 2 and a reason on stderr.
fn never_ready(mode: &str, reason: &str) {
    let out = suite(mode, &["sock.ready"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{mode}: {stderr}");
    assert!(stderr.contains(reason), "{mode}: {stderr}");
}

#[test]
fn binding_lsnr_sock_directly_is_caught() {
    caught("direct-bind", "sock.symlink");
}

#[test]
fn an_absolute_symlink_is_refused_as_the_server_refuses_it() {
    never_ready("absolute-symlink", "not a name in the same directory");
}

#[test]
fn a_0600_socket_is_caught() {
    caught("mode-0600", "sock.mode");
}

#[test]
fn answering_500_is_caught() {
    caught("status-500", "req.empty-body");
}

#[test]
fn answering_204_is_caught() {
    caught("status-204", "req.empty-body");
}

#[test]
fn closing_without_an_answer_is_caught() {
    caught("close-connection", "req.empty-body");
}

#[test]
fn never_creating_the_socket_is_an_init_timeout() {
    never_ready("no-socket", "did not appear within");
}

#[test]
fn exiting_before_the_socket_is_an_init_failure() {
    never_ready("exit-early", "exited");
}

#[test]
fn a_body_leaking_into_the_next_call_is_caught() {
    caught("leak-body", "life.no-leaks");
}

#[test]
fn ignoring_the_deadline_is_caught() {
    caught("ignore-deadline", "dl.timeout-504");
}

#[test]
fn a_panic_that_drops_the_connection_is_caught() {
    caught("panic-drop", "resp.panic-502");
}

#[test]
fn a_500_for_a_handler_error_is_caught() {
    caught("wrong-status-for-error", "resp.error-502");
}

#[test]
fn a_missing_version_header_is_caught() {
    caught("no-version-header", "resp.fdk-version");
}

#[test]
fn an_idle_timeout_is_caught() {
    caught("idle-timeout", "life.idle-reuse");
}

#[test]
fn refusing_a_stale_private_socket_is_caught() {
    caught("stale-socket-fails", "sock.stale-files");
}

#[test]
fn a_big_response_head_is_caught() {
    caught_should("big-head", "resp.head-size");
}

#[test]
fn a_closed_listener_is_caught() {
    caught("close-listener", "life.new-connection");
}

#[test]
fn response_bytes_on_stdout_are_caught() {
    caught("echo-stdout", "log.no-response-bytes");
}

#[test]
fn the_good_fixture_passes_every_applicable_case() {
    let out = suite("good", &[]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains(" 0 failed"), "{stdout}");
}
