//! Trusting the harness: each deliberately broken fixture (`fixture <mode>`,
//! one defect each) must be caught by the case meant for it, and the
//! correct fixture (`good`) must pass those same cases. A harness that
//! passes everything proves nothing.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn suite(mode: &str, only: &[&str]) -> Output {
    suite_with(&common::fixture_bin("fixture"), mode, only, &[])
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
        let out = suite_with(&common::fixture_bin("fixture"), mode, &[case], extra);
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

    let out = suite_with(&common::fixture_bin("fixture"), "good", &[case], &fail_on);
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
        &common::fixture_bin("fixture"),
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
        &common::fixture_bin("fixture"),
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
        &common::fixture_bin("fixture"),
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
    use fdk_conformance::harness::{Call, Ended, Harness, Via};
    use fn_emulator::FunctionCommand;
    use std::time::Duration;

    let harness = |mode: &str| {
        let command = FunctionCommand {
            name: mode.to_owned(),
            program: common::fixture_bin("fixture").into(),
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
        fs::copy(common::fixture_bin("fixture"), &program).unwrap();
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

// ------------------------------------------------------------ the sandbox
//
// The harness never hangs and never leaks: every process of the function
// (a grandchild too) is gone after a run, after a case kills it, and after
// SIGINT or SIGTERM to the harness; every call has a limit even with a
// garbled deadline; the harness's memory does not follow the function's
// log; and the freezer is the server's cgroup freezer when the machine has
// one. In CI (CI=true) a test that lacks root or cgroups fails; elsewhere it
// says why and skips.

use std::time::{Duration, Instant};

/// Whether this runs in CI, where nothing may be skipped.
fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

/// `true` if `met`; else fails in CI, or prints why and returns `false`.
fn require(met: bool, what: &str) -> bool {
    if !met {
        assert!(!in_ci(), "CI must be able to run this test: {what}");
        eprintln!("skipped: {what}");
    }
    met
}

/// Whether the harness can put functions in cgroups here.
fn cgroups_usable() -> bool {
    is_root()
        && fn_emulator::sandbox::Sandbox::new(fn_emulator::sandbox::Mode::Cgroup, None).is_ok()
}

/// A tag no other test uses, passed to the fixture as an extra argument so
/// that its processes (and its grandchild's) can be found in `/proc`.
fn unique_tag(name: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!("selftest-{name}-{}-{nanos}", std::process::id())
}

/// The live processes whose command line has `tag` as an argument.
fn tagged(tag: &str) -> Vec<u32> {
    let mut pids = Vec::new();
    for entry in fs::read_dir("/proc").unwrap().flatten() {
        let Some(pid) = entry.file_name().to_str().and_then(|n| n.parse().ok()) else {
            continue;
        };
        let Ok(cmdline) = fs::read(format!("/proc/{pid}/cmdline")) else {
            continue;
        };
        let zombie = fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| {
            s.rsplit(')')
                .next()
                .is_some_and(|r| r.trim_start().starts_with('Z'))
        });
        if !zombie && cmdline.split(|&b| b == 0).any(|arg| arg == tag.as_bytes()) {
            pids.push(pid);
        }
    }
    pids
}

/// Waits up to `limit` for `done`.
fn eventually(limit: Duration, mut done: impl FnMut() -> bool) -> bool {
    let until = Instant::now() + limit;
    while Instant::now() < until {
        if done() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    done()
}

/// The harness command for `fixture <mode> <tag>` with `extra` options.
fn harness_cmd(mode: &str, tag: &str, extra: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_fdk-conformance"));
    cmd.arg("run").arg("--probe").args(extra);
    cmd.arg("--")
        .arg(common::fixture_bin("fixture"))
        .arg(mode)
        .arg(tag);
    cmd
}

#[test]
fn no_process_of_the_function_remains_after_a_run() {
    let mut sandboxes = vec!["signals"];
    if require(
        cgroups_usable(),
        "cgroups need root and writable v1/v2 controllers",
    ) {
        sandboxes.push("cgroup");
    }
    for sandbox in sandboxes {
        let tag = unique_tag(&format!("run-{sandbox}"));
        let out = harness_cmd(
            "grandchild",
            &tag,
            &[
                "--sandbox",
                sandbox,
                "--only",
                "req.empty-body",
                "--only",
                "resp.status-500",
            ],
        )
        .output()
        .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(0), "{sandbox}: {stdout}");
        assert!(
            eventually(Duration::from_secs(2), || tagged(&tag).is_empty()),
            "{sandbox}: left behind: {:?}",
            tagged(&tag)
        );
    }
}

#[test]
fn a_killed_function_takes_its_grandchild_along() {
    use fdk_conformance::harness::{Call, Harness};
    use fn_emulator::FunctionCommand;
    use fn_emulator::sandbox::{Mode, Sandbox};
    use std::sync::Arc;

    let mut modes = vec![Mode::Signals];
    if require(
        cgroups_usable(),
        "cgroups need root and writable v1/v2 controllers",
    ) {
        modes.push(Mode::Cgroup);
    }
    for mode in modes {
        let tag = unique_tag(&format!("kill-{mode:?}"));
        let command = FunctionCommand {
            name: "grandchild".into(),
            program: common::fixture_bin("fixture").into(),
            args: vec!["grandchild".into(), tag.clone().into()],
        };
        let sandbox =
            Sandbox::new(mode, Some(env!("CARGO_BIN_EXE_fdk-conformance").into())).unwrap();
        let cgroups = sandbox.uses_cgroups();
        let mut h = Harness::new(command, false).unwrap();
        h.set_sandbox(Arc::new(sandbox));
        h.set_freeze(true);
        assert_eq!(h.call(&Call::invoke()).unwrap().status(), Some(200));
        assert!(eventually(Duration::from_secs(2), || tagged(&tag).len() == 2));
        let pid = h.pid().unwrap();
        if cgroups {
            // In its own cgroups, with the server's limits.
            let groups = fs::read_to_string(format!("/proc/{pid}/cgroup")).unwrap();
            for controller in ["freezer", "pids", "memory"] {
                let line = groups
                    .lines()
                    .find(|l| {
                        l.split(':')
                            .nth(1)
                            .is_some_and(|c| c.split(',').any(|x| x == controller))
                    })
                    .unwrap_or_default();
                assert!(line.contains("/fdk-conformance-"), "{groups}");
            }
            // v1: pids.max 50 and 128 MB (FN_MEMORY) without swap.
            let dir = |controller: &str| {
                let line = groups
                    .lines()
                    .find(|l| {
                        l.split(':')
                            .nth(1)
                            .is_some_and(|c| c.split(',').any(|x| x == controller))
                    })
                    .unwrap_or_default();
                let path = line.splitn(3, ':').nth(2).unwrap_or_default();
                Path::new("/sys/fs/cgroup")
                    .join(controller)
                    .join(path.trim_start_matches('/'))
            };
            let read = |controller: &str, file: &str| {
                fs::read_to_string(dir(controller).join(file)).map(|v| v.trim().to_owned())
            };
            if let Ok(pids_max) = read("pids", "pids.max") {
                assert_eq!(pids_max, "50");
                assert_eq!(
                    read("memory", "memory.limit_in_bytes").unwrap(),
                    (128u64 << 20).to_string()
                );
                if let Ok(memsw) = read("memory", "memory.memsw.limit_in_bytes") {
                    assert_eq!(memsw, (128u64 << 20).to_string());
                }
                // Frozen 50 ms after the call, as docker pause leaves it.
                assert!(
                    eventually(Duration::from_secs(2), || {
                        read("freezer", "freezer.state").is_ok_and(|s| s == "FROZEN")
                    }),
                    "{:?}",
                    read("freezer", "freezer.state")
                );
            }
            let limits = fs::read_to_string(format!("/proc/{pid}/limits")).unwrap();
            let nofile = limits
                .lines()
                .find(|l| l.starts_with("Max open files"))
                .unwrap();
            assert!(nofile.split_whitespace().any(|w| w == "350"), "{nofile}");
        }
        // The server kills the container: the grandchild goes too.
        h.discard();
        assert!(
            eventually(Duration::from_secs(2), || tagged(&tag).is_empty()),
            "{mode:?}: left behind: {:?}",
            tagged(&tag)
        );
        // A fresh start, then the end of the run.
        assert_eq!(h.call(&Call::invoke()).unwrap().status(), Some(200));
        assert!(eventually(Duration::from_secs(2), || tagged(&tag).len() == 2));
        drop(h);
        assert!(
            eventually(Duration::from_secs(2), || tagged(&tag).is_empty()),
            "{mode:?}: left behind: {:?}",
            tagged(&tag)
        );
    }
}

#[test]
fn a_garbled_deadline_still_ends_the_call_at_the_call_timeout() {
    for mode in ["length-too-long", "no-final-crlf"] {
        let tag = unique_tag(mode);
        let started = Instant::now();
        let out = harness_cmd(
            mode,
            &tag,
            // The case is a SHOULD: asked for, its failure fails the run.
            &[
                "--only",
                "req.garbled-deadline",
                "--call-timeout",
                "2s",
                "--fail-on",
                "should",
            ],
        )
        .output()
        .unwrap();
        let took = started.elapsed();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(1), "{mode}: {stdout}");
        assert_eq!(
            verdict(&stdout, "req.garbled-deadline"),
            Some("FAIL"),
            "{mode}: {stdout}"
        );
        assert!(stdout.contains("no complete response"), "{mode}: {stdout}");
        assert!(took < Duration::from_secs(20), "{mode}: took {took:?}");
        assert!(eventually(Duration::from_secs(2), || tagged(&tag).is_empty()));
    }
}

#[test]
fn a_case_ends_at_its_limit_as_a_failure() {
    let tag = unique_tag("case-limit");
    let started = Instant::now();
    let out = harness_cmd(
        "length-too-long",
        &tag,
        &[
            "--only",
            "req.garbled-deadline",
            "--case-timeout",
            "3s",
            "--fail-on",
            "should",
        ],
    )
    .output()
    .unwrap();
    let took = started.elapsed();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert_eq!(
        verdict(&stdout, "req.garbled-deadline"),
        Some("FAIL"),
        "{stdout}"
    );
    assert!(stdout.contains("--case-timeout"), "{stdout}");
    assert!(took < Duration::from_secs(20), "took {took:?}");
}

#[test]
fn sigint_or_sigterm_leaves_no_process_and_no_work_directory() {
    use nix::sys::signal::{Signal, kill};
    use nix::unistd::Pid;

    for (signal, code) in [(Signal::SIGINT, 130), (Signal::SIGTERM, 143)] {
        let tag = unique_tag(&format!("{signal}"));
        let tmp = std::env::temp_dir().join(&tag);
        fs::create_dir(&tmp).unwrap();
        let mut child = harness_cmd("grandchild", &tag, &[])
            .env("TMPDIR", &tmp)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        // The function and its grandchild are up: a case is running.
        assert!(
            eventually(Duration::from_secs(10), || tagged(&tag).len() >= 2),
            "the function did not start"
        );
        std::thread::sleep(Duration::from_millis(300));
        let harness = Pid::from_raw(i32::try_from(child.id()).unwrap());
        kill(harness, signal).unwrap();
        let until = Instant::now() + Duration::from_secs(15);
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status;
            }
            assert!(Instant::now() < until, "{signal}: the harness did not exit");
            std::thread::sleep(Duration::from_millis(20));
        };
        let mut stderr = String::new();
        std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
        assert_eq!(status.code(), Some(code), "{signal}: {stderr}");
        assert!(stderr.contains(&format!("stopped by {signal}")), "{stderr}");
        assert!(
            eventually(Duration::from_secs(2), || tagged(&tag).is_empty()),
            "{signal}: left behind: {:?}",
            tagged(&tag)
        );
        let left: Vec<_> = fs::read_dir(&tmp)
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .collect();
        assert!(left.is_empty(), "{signal}: left {left:?}");
        // Nor a cgroup named after the harness.
        let name = format!("fdk-conformance-{}-", child.id());
        for controller in ["freezer", "pids", "memory"] {
            let root = Path::new("/sys/fs/cgroup").join(controller);
            let mut stack = vec![root];
            while let Some(dir) = stack.pop() {
                for entry in fs::read_dir(&dir).into_iter().flatten().flatten() {
                    let path = entry.path();
                    if path.is_dir() {
                        let file = entry.file_name();
                        assert!(
                            !file.to_string_lossy().starts_with(&name),
                            "{signal}: left {}",
                            path.display()
                        );
                        stack.push(path);
                    }
                }
            }
        }
        fs::remove_dir(&tmp).unwrap();
    }
}

#[test]
fn the_harness_memory_does_not_follow_a_flooding_log() {
    let tag = unique_tag("flood");
    let mut child = harness_cmd(
        "log-flood",
        &tag,
        &[
            "--only",
            "log.no-response-bytes",
            "--only",
            "req.empty-body",
            "--only",
            "req.text-body",
            "--only",
            "resp.error-502",
        ],
    )
    .stdout(std::process::Stdio::piped())
    .stderr(std::process::Stdio::null())
    .spawn()
    .unwrap();
    let pid = child.id();
    let mut stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = std::io::Read::read_to_string(&mut stdout, &mut text);
        text
    });
    // VmHWM is the peak resident set so far: the last reading before the
    // process exits is (almost) its peak over the run.
    let mut peak_kib = 0u64;
    let until = Instant::now() + Duration::from_secs(120);
    while child.try_wait().unwrap().is_none() && Instant::now() < until {
        if let Ok(status) = fs::read_to_string(format!("/proc/{pid}/status"))
            && let Some(kib) = status
                .lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        {
            peak_kib = peak_kib.max(kib);
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let status = child.wait().unwrap();
    let stdout = reader.join().unwrap();
    assert_eq!(status.code(), Some(0), "{stdout}");
    assert!(peak_kib > 0, "VmHWM was never read");
    assert!(
        peak_kib < 100 * 1024,
        "the harness peaked at {} MiB while the function logged 50 MiB per call",
        peak_kib / 1024
    );
}

#[test]
fn output_files_are_written_when_the_function_never_becomes_ready() {
    let dir = std::env::temp_dir().join(unique_tag("outputs"));
    fs::create_dir(&dir).unwrap();
    let (json, junit, tap) = (dir.join("r.json"), dir.join("r.xml"), dir.join("r.tap"));
    let out = Command::new(env!("CARGO_BIN_EXE_fdk-conformance"))
        .arg("run")
        .arg("--output")
        .arg(format!("json={}", json.display()))
        .arg("--output")
        .arg(format!("junit={}", junit.display()))
        .arg("--output")
        .arg(format!("tap={}", tap.display()))
        .args(["--only", "sock.", "--"])
        .arg(common::fixture_bin("fixture"))
        .arg("exit-early")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    for file in [&json, &junit, &tap] {
        let text = fs::read_to_string(file).unwrap_or_default();
        assert!(text.contains("sock.ready"), "{}: {text}", file.display());
        assert!(
            text.contains("never became ready"),
            "{}: {text}",
            file.display()
        );
    }
    fs::remove_dir_all(&dir).unwrap();
}

/// The server pauses containers with the cgroup freezer, under which a
/// wait with `SO_RCVTIMEO` just resumes; SIGSTOP/SIGCONT interrupts it
/// (`EINTR`). `eintr-fatal` exits on `EINTR`: it survives the cgroup
/// freezer and dies under the signal emulation.
#[test]
fn the_cgroup_freezer_does_not_interrupt_a_timed_wait() {
    use fdk_conformance::harness::{Call, Harness};
    use fn_emulator::FunctionCommand;
    use fn_emulator::sandbox::{Mode, Sandbox};
    use std::sync::Arc;

    let mut modes = vec![Mode::Signals];
    if require(
        cgroups_usable(),
        "cgroups need root and writable v1/v2 controllers",
    ) {
        modes.push(Mode::Cgroup);
    }
    for mode in modes {
        let command = FunctionCommand {
            name: "eintr-fatal".into(),
            program: common::fixture_bin("fixture").into(),
            args: vec!["eintr-fatal".into()],
        };
        let mut h = Harness::new(command, false).unwrap();
        h.set_sandbox(Arc::new(Sandbox::new(mode, None).unwrap()));
        assert_eq!(h.call(&Call::invoke()).unwrap().status(), Some(200));
        let pid = h.pid();
        // The function is waiting for the next request: freeze it there.
        std::thread::sleep(Duration::from_millis(100));
        h.freeze_now();
        std::thread::sleep(Duration::from_millis(100));
        h.thaw();
        std::thread::sleep(Duration::from_millis(100));
        let survived = h.alive() && h.pid() == pid;
        match mode {
            Mode::Cgroup => {
                assert!(survived, "the cgroup freezer interrupted the wait");
                let ex = h.call(&Call::invoke()).unwrap();
                assert_eq!(ex.status(), Some(200));
                assert_eq!(h.pid(), pid);
            }
            _ => assert!(!survived, "SIGSTOP/SIGCONT did not interrupt the wait"),
        }
    }
}
