//! Trusting the harness: each deliberately broken fixture (`fixture <mode>`,
//! one defect each) must be caught by the case meant for it, and the
//! correct fixture (`good`) must pass those same cases. A harness that
//! passes everything proves nothing.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn suite(mode: &str, only: &[&str]) -> Output {
    suite_with(Path::new(env!("CARGO_BIN_EXE_fixture")), mode, only, &[])
}

/// The suite against `fixture` (a copy, maybe) in `mode`, with `extra`
/// options.
fn suite_with(fixture: &Path, mode: &str, only: &[&str], extra: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_fdk-conformance"));
    // A copy runs with the harness (and so the function, except in
    // life.unprivileged) in its 0777 `cwd/`, which every uid may write to.
    if let Some(dir) = fixture.parent().filter(|d| d.ends_with("bin")) {
        cmd.current_dir(dir.with_file_name("cwd"));
    }
    cmd.arg("run").arg("--probe").args(extra);
    for id in only {
        cmd.args(["--only", id]);
    }
    cmd.arg("--").arg(fixture).arg(mode);
    cmd.output().unwrap()
}

fn verdict<'a>(stdout: &'a str, id: &str) -> Option<&'a str> {
    line_of(stdout, id).map(|(tag, _)| tag)
}

/// The verdict and the level shown on `id`'s line (a failure's own level).
fn line_of<'a>(stdout: &'a str, id: &str) -> Option<(&'a str, &'a str)> {
    stdout.lines().find_map(|line| {
        let mut words = line.split_whitespace();
        let tag = words.next()?;
        let level = words.next()?;
        (words.next()? == id).then_some((tag, level))
    })
}

/// `mode` fails the MUST `case` (exit 1), and `good` passes it.
fn caught(mode: &str, case: &str) {
    caught_at(mode, case, "MUST");
}

/// `mode` fails the SHOULD `case`, which does not fail the run by default
/// (exit 0) but does with `--fail-on should` (exit 1); `good` passes it.
fn caught_should(mode: &str, case: &str) {
    caught_at(mode, case, "SHOULD");
}

/// `mode` fails `case` with a failure at `level`: the run fails (exit 1)
/// by default only for MUST, and always with `--fail-on <level>`. `good`
/// passes the case either way.
fn caught_at(mode: &str, case: &str, level: &str) {
    let fail_on = ["--fail-on", &level.to_ascii_lowercase()];
    for extra in [&[][..], &fail_on[..]] {
        let out = suite_with(
            Path::new(env!("CARGO_BIN_EXE_fixture")),
            mode,
            &[case],
            extra,
        );
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(
            line_of(&stdout, case),
            Some(("FAIL", level)),
            "{mode} must fail {case} at {level}:\n{stdout}"
        );
        let exit = if level == "MUST" || !extra.is_empty() {
            1
        } else {
            0
        };
        assert_eq!(out.status.code(), Some(exit), "{mode} {extra:?}: {stdout}");
    }

    let out = suite_with(
        Path::new(env!("CARGO_BIN_EXE_fixture")),
        "good",
        &[case],
        &fail_on,
    );
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
fn a_0600_socket_is_caught() {
    caught_should("mode-0600", "sock.mode");
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
fn a_length_that_is_right_only_once_is_caught_black_box() {
    caught("reuse-length", "req.sizes-vary");
}

#[test]
fn a_body_leaking_into_the_next_call_is_caught() {
    caught("leak-body", "life.no-leaks");
}

#[test]
fn ignoring_the_deadline_is_caught() {
    caught_should("ignore-deadline", "dl.timeout-504");
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
    caught_should("no-version-header", "resp.fdk-version");
}

#[test]
fn an_idle_timeout_is_caught() {
    caught_should("idle-timeout", "life.idle-reuse");
}

#[test]
fn refusing_a_stale_private_socket_is_caught() {
    caught_should("stale-socket-fails", "sock.stale-files");
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
    caught_should("echo-stdout", "log.no-response-bytes");
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
        Path::new(env!("CARGO_BIN_EXE_fixture")),
        "wrong-path-404",
        &["req.wrong-path"],
        &["--fail-on", "should"],
    );
    assert_eq!(out.status.code(), Some(0));
}

/// The exit code answers "would the real server serve this function?": a
/// function whose only fault is a SHOULD (no Fn-Fdk-Version, which the
/// server only uses as a metrics tag) exits 0 by default, and 1 only when
/// `--fail-on should` asks for a good FDK.
#[test]
fn a_function_with_only_should_faults_passes_unless_fail_on_should() {
    let out = suite("no-version-header", &[]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert_eq!(
        line_of(&stdout, "resp.fdk-version"),
        Some(("FAIL", "SHOULD")),
        "{stdout}"
    );
    assert!(
        stdout.contains("failures by level: 0 MUST, 1 SHOULD, 0 MAY"),
        "{stdout}"
    );
    assert!(stdout.contains(" 1 failed, "), "{stdout}");
    assert!(
        stdout.contains("the exit code counts MUST failures (--fail-on must)"),
        "{stdout}"
    );

    let out = suite_with(
        Path::new(env!("CARGO_BIN_EXE_fixture")),
        "no-version-header",
        &[],
        &["--fail-on", "should"],
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("1 failure(s) at SHOULD or stricter (--fail-on should)"),
        "{stdout}"
    );
}

/// A failure's level reaches every output: JSON Lines, TAP (a failure
/// below the --fail-on level is a TODO) and JUnit.
#[test]
fn the_outputs_show_each_failure_level() {
    let dir = std::env::temp_dir().join(format!("selftest-levels-{}", std::process::id()));
    fs::create_dir_all(&dir).unwrap();
    let (json, tap, junit) = (dir.join("r.jsonl"), dir.join("r.tap"), dir.join("r.xml"));
    let arg = |kind: &str, p: &Path| format!("{kind}={}", p.display());
    let out = suite_with(
        Path::new(env!("CARGO_BIN_EXE_fixture")),
        "no-version-header",
        &["resp.fdk-version", "req.empty-body"],
        &[
            "--output",
            &arg("json", &json),
            "--output",
            &arg("tap", &tap),
            "--output",
            &arg("junit", &junit),
        ],
    );
    assert_eq!(out.status.code(), Some(0));
    let json = fs::read_to_string(&json).unwrap();
    assert!(json.contains(r#""failure_level":"SHOULD""#), "{json}");
    assert!(json.contains(r#""should_failed":1"#), "{json}");
    assert!(json.contains(r#""must_failed":0"#), "{json}");
    assert!(json.contains(r#""fail_on":"MUST""#), "{json}");
    let tap = fs::read_to_string(&tap).unwrap();
    assert!(
        tap.contains("not ok 2 - resp.fdk-version (SHOULD) # TODO"),
        "{tap}"
    );
    assert!(tap.contains("(0 MUST, 1 SHOULD, 0 MAY)"), "{tap}");
    let junit = fs::read_to_string(&junit).unwrap();
    assert!(junit.contains(r#"<failure type="SHOULD""#), "{junit}");
    let _ = fs::remove_dir_all(&dir);
}

/// log.frame judges the frame alone: 3 KiB of log lines with every call
/// (more than a report shows) do not hide it.
#[test]
fn a_function_that_logs_a_lot_passes_log_frame() {
    let out = suite("chatty", &["log.frame"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(verdict(&stdout, "log.frame"), Some("PASS"), "{stdout}");
    assert_eq!(out.status.code(), Some(0), "{stdout}");
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

/// The harness's own connection pool, driven directly: reused within 1 s,
/// closed by the harness after 1 s idle, never reused once the function
/// closed it or after a 502.
#[test]
fn the_pool_reuses_and_closes_connections_as_the_server_does() {
    use fdk_conformance::agent::FunctionCommand;
    use fdk_conformance::harness::{Call, Ended, Harness, Via};
    use std::time::Duration;

    let harness = |mode: &str| {
        let command = FunctionCommand {
            name: mode.to_owned(),
            program: env!("CARGO_BIN_EXE_fixture").into(),
            args: vec![mode.into()],
        };
        let mut h = Harness::new(command, false).unwrap();
        h.set_freeze(true);
        h
    };
    let mut h = harness("good");
    let first = h.call(&Call::invoke()).unwrap();
    assert_eq!(first.status(), Some(200));
    assert_eq!(first.via, Via::New(Ended::Never));
    let second = h.call(&Call::invoke()).unwrap();
    assert!(
        matches!(second.via, Via::Reused { calls: 1, .. }),
        "{:?}",
        second.via
    );
    std::thread::sleep(Duration::from_millis(1100));
    let third = h.call(&Call::invoke()).unwrap();
    assert_eq!(third.status(), Some(200));
    assert!(
        matches!(third.via, Via::New(Ended::IdleClose(idle)) if idle > Duration::from_secs(1)),
        "{:?}",
        third.via
    );
    assert!(
        third
            .via
            .to_string()
            .contains("as the server's transport does")
    );
    // A 502 is not reused.
    let failed = h.call(&Call::invoke().body("error")).unwrap();
    assert_eq!(failed.status(), Some(502));
    let after = h.call(&Call::invoke()).unwrap();
    assert_eq!(after.via, Via::New(Ended::AfterAnswer));
    // A case's own connection closes the pooled one.
    drop(h.connect().unwrap());
    assert!(!h.has_pooled());
    assert_eq!(
        h.call(&Call::invoke()).unwrap().via,
        Via::New(Ended::ForCase)
    );

    // idle-timeout closes a connection idle for 500 ms; running (not
    // frozen), it does so before the harness's 1 s: the harness notices.
    let mut h = harness("idle-timeout");
    h.set_freeze(false);
    assert_eq!(h.call(&Call::invoke()).unwrap().status(), Some(200));
    std::thread::sleep(Duration::from_millis(800));
    let ex = h.call(&Call::invoke()).unwrap();
    assert_eq!(ex.status(), Some(200));
    assert_eq!(ex.via, Via::New(Ended::ByFunction));
}

/// A fresh directory with a copy of the fixture in `bin/` (mode
/// `bin_mode`: 0755 lets another uid run it wherever the checkout is) and a
/// 0777 `cwd/` for the harness to run in; removed on drop.
struct FixtureCopy(PathBuf, PathBuf);

impl FixtureCopy {
    fn new(tag: &str, bin_mode: u32) -> Self {
        let dir = std::env::temp_dir().join(format!("fdk-selftest-{}-{tag}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        let bin = dir.join("bin");
        let cwd = dir.join("cwd");
        fs::create_dir_all(&bin).unwrap();
        fs::create_dir(&cwd).unwrap();
        let program = bin.join("fixture");
        fs::copy(env!("CARGO_BIN_EXE_fixture"), &program).unwrap();
        fs::set_permissions(&program, fs::Permissions::from_mode(0o755)).unwrap();
        fs::set_permissions(&bin, fs::Permissions::from_mode(bin_mode)).unwrap();
        fs::set_permissions(&cwd, fs::Permissions::from_mode(0o777)).unwrap();
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o755)).unwrap();
        Self(dir, program)
    }
}

impl Drop for FixtureCopy {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

fn is_root() -> bool {
    nix::unistd::geteuid().is_root()
}

#[test]
fn without_uid_the_unprivileged_case_is_skipped_with_how_to_run_it() {
    let out = suite("needs-writable-cwd", &["life.unprivileged"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert_eq!(
        verdict(&stdout, "life.unprivileged"),
        Some("SKIP"),
        "{stdout}"
    );
    assert!(
        stdout.contains("run with --uid 1000 (as root) to check"),
        "{stdout}"
    );
    assert!(stdout.contains("0 passed, 0 failed, 1 skipped"), "{stdout}");
}

#[test]
fn a_function_that_needs_a_writable_cwd_is_caught_as_uid_1000() {
    let copy = FixtureCopy::new("uid", 0o755);
    let uid = ["--uid", "1000"];
    if !is_root() {
        // Only root may start a process as another user.
        let out = suite_with(&copy.1, "good", &["life.unprivileged"], &uid);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains("--uid 1000 needs root"), "{stderr}");
        return;
    }
    let out = suite_with(&copy.1, "needs-writable-cwd", &["life.unprivileged"], &uid);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert_eq!(
        verdict(&stdout, "life.unprivileged"),
        Some("FAIL"),
        "{stdout}"
    );
    assert!(stdout.contains("as uid 1000"), "{stdout}");
    assert!(stdout.contains("cannot write"), "{stdout}");

    let out = suite_with(&copy.1, "good", &["life.unprivileged"], &uid);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert_eq!(
        verdict(&stdout, "life.unprivileged"),
        Some("PASS"),
        "{stdout}"
    );
}

#[test]
fn the_good_fixture_passes_every_applicable_case_as_uid_1000() {
    if !is_root() {
        return; // covered by the test above: exit 2 without root
    }
    let copy = FixtureCopy::new("uid-all", 0o755);
    let out = suite_with(&copy.1, "good", &[], &["--uid", "1000"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains(" 0 failed"), "{stdout}");
    assert_eq!(
        verdict(&stdout, "life.unprivileged"),
        Some("PASS"),
        "{stdout}"
    );
}

#[test]
fn a_program_the_uid_cannot_execute_is_refused_before_any_start() {
    if !is_root() {
        return;
    }
    // A 0700 directory, like a home: uid 1000 cannot reach the program.
    let copy = FixtureCopy::new("uid-closed", 0o700);
    let out = suite_with(&copy.1, "good", &[], &["--uid", "1000"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("is not executable by uid 1000"), "{stderr}");
    assert!(stderr.contains("0755 directory"), "{stderr}");
}

#[test]
fn the_good_fixture_passes_every_applicable_case() {
    let out = suite("good", &[]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains(" 0 failed"), "{stdout}");
}

#[test]
fn a_missing_runtime_header_is_caught() {
    caught_should("no-runtime-header", "resp.fdk-runtime");
}

#[test]
fn exiting_0_on_an_empty_listener_is_caught() {
    caught_should("empty-listener-exit-0", "env.listener-empty");
}

#[test]
fn a_deadline_offset_read_as_utc_is_caught() {
    caught_should("ignore-deadline-offset", "req.deadline-offset");
}

#[test]
fn refusing_a_call_without_a_deadline_is_caught() {
    caught_should("require-deadline", "req.no-deadline");
}

#[test]
fn a_content_type_the_handler_never_sees_is_caught() {
    caught("drop-content-type", "req.invoke-headers");
}

/// The platform variables are MUST; the FDK's plumbing alone (FN_LISTENER,
/// FN_FORMAT), as fdk-java hides FN_FORMAT, only SHOULD.
#[test]
fn server_variables_the_handler_cannot_read_are_caught() {
    caught("hide-fn-vars", "env.server-vars");
    caught_should("hide-fn-plumbing", "env.server-vars");
}
