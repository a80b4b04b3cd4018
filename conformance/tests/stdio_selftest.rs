//! Trusting the stdio suites: each broken mode of `stdio_fixture` must be
//! caught by the case meant for it, and the correct mode (`good`) must pass
//! that case and every case of all four formats. The Rust probe must pass
//! every case too, when it has been built.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn suite_of(program: &Path, args: &[&str], format: &str, only: &[&str], extra: &[&str]) -> Output {
    common::run(
        program,
        args,
        only,
        &[&["--format", format], extra].concat(),
    )
}

/// One test per entry: `mode` of `stdio_fixture`, run in `format`, fails
/// `case` at `level` with `evidence` in the report (the run's exit code as
/// that level asks), and `good` passes it.
macro_rules! caught {
    ($($name:ident: $level:ident $format:literal $mode:literal $case:literal $evidence:literal;)+) => {
        $(
            #[test]
            fn $name() {
                let level = stringify!($level);
                let options = ["--format", $format];
                common::caught_at("stdio_fixture", &options, $mode, $case, Some($evidence), level);
            }
        )+
    };
}

caught! {
    a_status_that_is_always_200_is_caught: MUST "json" "status-200" "json.user-status"
        "expected client status 404, got 200";
    the_same_defect_is_caught_in_cloudevent: MUST "cloudevent" "status-200" "cloudevent.user-status"
        "expected client status 404, got 200";
    excess_bytes_after_a_response_are_caught: MUST "json" "excess" "json.call"
        "excess data";
    excess_bytes_after_an_http_response_are_caught: MUST "http" "excess" "http.call"
        "excess data";
    a_stray_line_on_stdout_is_caught: MUST "json" "stray-stdout" "json.stray-output"
        "invalid json response from function err: invalid character 'c'";
    a_stray_line_in_the_http_stream_is_caught: MUST "http" "stray-stdout" "http.stray-output"
        "invalid http response from function err: malformed HTTP status code \"stray\"";
    // After call 1 the process is found gone, or call 2 finds it exiting.
    exiting_after_the_first_call_is_caught: MUST "json" "exit-after-first" "json.sequential"
        "exit status: 0";
    an_http_response_without_a_length_is_caught: MUST "http" "http-no-length" "http.framing"
        "neither Content-Length nor Transfer-Encoding";
    ignoring_the_deadline_is_caught: SHOULD "json" "ignore-deadline" "json.deadline-past"
        "expected client status 504, got 200";
    ignoring_the_deadline_is_caught_in_default: SHOULD "default" "ignore-deadline" "default.deadline-past"
        "expected exit status 1";
    no_answer_for_a_malformed_line_is_caught: SHOULD "json" "malformed-silent" "json.malformed"
        "no complete response within";
    no_answer_for_a_malformed_http_head_is_caught: SHOULD "http" "malformed-silent" "http.malformed"
        "expected a complete response";
    exit_0_on_failure_in_default_is_caught: MUST "default" "default-exit-0" "default.exit-status"
        "expected exit status 1 with nothing on stdout";
    a_body_after_a_204_or_head_response_is_caught: MUST "http" "http-204-body" "http.no-body"
        "excess data";
    // The 0.3.602 server only ever sent SIGKILL: a SHOULD.
    dying_of_sigterm_is_caught: SHOULD "json" "no-sigterm" "json.sigterm"
        "got signal: 15";
}

/// Every case of `format` passes against `program args`.
fn passes_everything(program: &Path, args: &[&str], format: &str) {
    let out = suite_of(program, args, format, &[], &[]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{format}:\n{stdout}");
    assert!(
        stdout.contains(" 0 failed, 0 skipped"),
        "{format}: every case must pass:\n{stdout}"
    );
}

/// Every case of every format passes against `program args`, the four
/// suites at once.
fn passes_every_format(program: &Path, args: &'static [&'static str]) {
    let threads: Vec<_> = ["json", "http", "default", "cloudevent"]
        .into_iter()
        .map(|format| {
            let program = program.to_owned();
            std::thread::spawn(move || passes_everything(&program, args, format))
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
}

#[test]
fn the_good_fixture_passes_every_case_of_every_format() {
    passes_every_format(&common::fixture_bin("stdio_fixture"), &["good"]);
}

/// The Rust probe beside the harness (`cargo build -p probe` builds it
/// there; `cargo test --workspace` does too).
fn rust_probe() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_BIN_EXE_fdk-conformance")).parent()?;
    let probe = dir.join("probe");
    probe.is_file().then_some(probe)
}

#[test]
fn the_rust_probe_passes_every_case_of_every_format() {
    let Some(probe) = rust_probe() else {
        eprintln!(
            "SKIPPED: no probe beside fdk-conformance; build it (cargo build -p probe) to run \
             this test (scripts/main-job.sh runs the four suites against the release probe)"
        );
        return;
    };
    passes_every_format(&probe, &[]);
}

#[test]
fn a_program_that_cannot_run_is_exit_2() {
    let out = suite_of(
        Path::new("/nonexistent/stdio-function"),
        &[],
        "json",
        &[],
        &[],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("could not be started"), "{stderr}");
}

#[test]
fn format_selects_the_catalog() {
    let list = |format: &str| {
        let out = Command::new(env!("CARGO_BIN_EXE_fdk-conformance"))
            .args(["run", "--list", "--format", format])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0));
        String::from_utf8(out.stdout).unwrap()
    };
    for format in ["json", "http", "default", "cloudevent"] {
        let text = list(format);
        assert!(!text.is_empty());
        for line in text.lines() {
            assert!(line.starts_with(&format!("{format}.")), "{line}");
        }
    }
    assert!(list("http-stream").contains("sock.ready"));
    let out = Command::new(env!("CARGO_BIN_EXE_fdk-conformance"))
        .args(["run", "--list", "--format", "JSON"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr
            .contains("'--format <FORMAT>': takes http-stream, json, http, default or cloudevent"),
        "{stderr}"
    );
}

#[test]
fn outputs_and_expectations_work_for_stdio_suites() {
    let dir = std::env::temp_dir().join(format!("stdio-selftest-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (junit, jsonl, expect) = (dir.join("r.xml"), dir.join("r.jsonl"), dir.join("e.txt"));
    let fixture = &common::fixture_bin("stdio_fixture");
    let arg = |p: &Path| p.to_str().unwrap().to_owned();
    let out = suite_of(
        fixture,
        &["status-200"],
        "json",
        &["json.call", "json.user-status"],
        &[
            "--output",
            &format!("junit={}", arg(&junit)),
            "--output",
            &format!("json={}", arg(&jsonl)),
            "--write-expect",
            &arg(&expect),
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    let expected = std::fs::read_to_string(&expect).unwrap();
    assert!(expected.contains("json.call pass"), "{expected}");
    assert!(expected.contains("json.user-status fail"), "{expected}");
    let lines = std::fs::read_to_string(&jsonl).unwrap();
    assert!(lines.contains("\"id\":\"json.user-status\""), "{lines}");
    assert!(
        lines.contains("\"real_server\":\"client gets 200, container kept\""),
        "{lines}"
    );
    assert!(
        std::fs::read_to_string(&junit)
            .unwrap()
            .contains("json.user-status")
    );

    // The same verdicts match; the good mode's differ (a fixed bug counts).
    let check = |mode: &str| {
        suite_of(
            fixture,
            &[mode],
            "json",
            &["json.call", "json.user-status"],
            &["--expect", &arg(&expect)],
        )
        .status
        .code()
    };
    assert_eq!(check("status-200"), Some(0));
    assert_eq!(check("good"), Some(1));
    // --fail-on with --expect: an expected MUST failure still fails the run.
    let out = suite_of(
        fixture,
        &["status-200"],
        "json",
        &["json.call", "json.user-status"],
        &["--expect", &arg(&expect), "--fail-on", "must"],
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("every verdict matches"), "{stdout}");
    assert!(
        stdout.contains("1 failure(s) at MUST or stricter (--fail-on must)"),
        "{stdout}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
