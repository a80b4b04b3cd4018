//! Trusting the harness: each deliberately broken fixture (`fixture <mode>`,
//! one defect each) must be caught by the case meant for it, and the
//! correct fixture (`good`) must pass those same cases. A harness that
//! passes everything proves nothing.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../common/mod.rs"]
mod common;
mod defects;
mod levels;
mod pool;
mod sandbox;
mod uid;

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

/// Whether the tests run as root (`--uid` and cgroups need it).
fn is_root() -> bool {
    nix::unistd::geteuid().is_root()
}
