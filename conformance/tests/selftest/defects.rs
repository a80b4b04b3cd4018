//! Each broken mode caught by the case meant for it, one defect at a
//! time; the good fixture passes every applicable case.

use super::*;

/// One test per entry: `fixture <mode>` fails `case` at `level` (the run's
/// exit code as that level asks), and `fixture good` passes it.
macro_rules! caught {
    ($($name:ident: $level:ident $mode:literal $case:literal;)+) => {
        $(
            #[test]
            fn $name() {
                caught_at($mode, $case, stringify!($level));
            }
        )+
    };
}

caught! {
    a_0600_socket_is_caught: SHOULD "mode-0600" "sock.mode";
    answering_500_is_caught: MUST "status-500" "req.empty-body";
    answering_204_is_caught: MUST "status-204" "req.empty-body";
    closing_without_an_answer_is_caught: MUST "close-connection" "req.empty-body";
    a_length_that_is_right_only_once_is_caught_black_box: MUST "reuse-length" "req.sizes-vary";
    a_body_leaking_into_the_next_call_is_caught: MUST "leak-body" "life.no-leaks";
    ignoring_the_deadline_is_caught: SHOULD "ignore-deadline" "dl.timeout-504";
    a_panic_that_drops_the_connection_is_caught: MUST "panic-drop" "resp.panic-502";
    a_500_for_a_handler_error_is_caught: MUST "wrong-status-for-error" "resp.error-502";
    a_missing_version_header_is_caught: SHOULD "no-version-header" "resp.fdk-version";
    an_idle_timeout_is_caught: SHOULD "idle-timeout" "life.idle-reuse";
    refusing_a_stale_private_socket_is_caught: SHOULD "stale-socket-fails" "sock.stale-files";
    a_big_response_head_is_caught: SHOULD "big-head" "resp.head-size";
    a_closed_listener_is_caught: MUST "close-listener" "life.new-connection";
    response_bytes_on_stdout_are_caught: SHOULD "echo-stdout" "log.no-response-bytes";
    a_missing_runtime_header_is_caught: SHOULD "no-runtime-header" "resp.fdk-runtime";
    exiting_0_on_an_empty_listener_is_caught: SHOULD "empty-listener-exit-0" "env.listener-empty";
    a_deadline_offset_read_as_utc_is_caught: SHOULD "ignore-deadline-offset" "req.deadline-offset";
    refusing_a_call_without_a_deadline_is_caught: SHOULD "require-deadline" "req.no-deadline";
    a_content_type_the_handler_never_sees_is_caught: MUST "drop-content-type" "req.invoke-headers";
}

#[test]
fn binding_lsnr_sock_directly_is_caught() {
    // The server's failure is the refused first dial; the missing symlink
    // itself is a SHOULD (the server accepts a socket at lsnr.sock).
    caught("direct-bind", "sock.dial-at-once");
    caught_should("direct-bind", "sock.symlink");
}

#[test]
fn an_absolute_symlink_is_refused_as_the_server_refuses_it() {
    never_ready("absolute-symlink", "not a name in the same directory");
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
fn a_404_for_a_path_the_server_never_sends_is_an_informational_may_failure() {
    caught_at("wrong-path-404", "req.wrong-path", "MAY");
    let out = suite("wrong-path-404", &["req.wrong-path"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("FAIL MAY"), "{stdout}");
    assert!(stdout.contains("informational"), "{stdout}");
    assert!(
        stdout.contains("GET /other HTTP/1.1 was answered 404"),
        "{stdout}"
    );
    assert!(
        stdout.contains("failures by level: 0 MUST, 0 SHOULD, 1 MAY"),
        "{stdout}"
    );
    // --fail-on should does not count a MAY failure.
    let out = suite_with(
        &common::fixture_bin("fixture"),
        "wrong-path-404",
        &["req.wrong-path"],
        &["--fail-on", "should"],
    );
    assert_eq!(out.status.code(), Some(0));
}

/// log.frame judges the frame alone: 3 KiB of log lines with every call
/// (more than a report shows) do not hide it.
#[test]
fn a_function_that_logs_a_lot_passes_log_frame() {
    common::judged(&suite("chatty", &["log.frame"]), 0, "log.frame", "PASS");
}

#[test]
fn exiting_when_the_server_closes_an_idle_connection_is_caught() {
    caught("exit-on-close", "life.idle-close");
    let out = suite("exit-on-close", &["life.idle-close"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("exited when the harness closed"),
        "{stdout}"
    );
    // The evidence names the idle close.
    assert!(
        stdout.contains("ms idle, as the server's transport does"),
        "{stdout}"
    );
}

#[test]
fn the_good_fixture_passes_every_applicable_case() {
    let out = suite("good", &[]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains(" 0 failed"), "{stdout}");
}

/// The platform variables are MUST; the FDK's plumbing alone (FN_LISTENER,
/// FN_FORMAT), as fdk-java hides FN_FORMAT, only SHOULD.
#[test]
fn server_variables_the_handler_cannot_read_are_caught() {
    caught("hide-fn-vars", "env.server-vars");
    caught_should("hide-fn-plumbing", "env.server-vars");
}
