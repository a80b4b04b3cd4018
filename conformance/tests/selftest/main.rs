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

use common::line_of;

fn suite(mode: &str, only: &[&str]) -> Output {
    suite_with(&common::fixture_bin("fixture"), mode, only, &[])
}

/// The suite against `fixture` (a copy, maybe) in `mode`, with `extra`
/// options.
fn suite_with(fixture: &Path, mode: &str, only: &[&str], extra: &[&str]) -> Output {
    common::run(fixture, &[mode], only, extra)
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

/// `mode` fails `case` with a failure at `level`; `good` passes it.
fn caught_at(mode: &str, case: &str, level: &str) {
    common::caught_at("fixture", &[], mode, case, None, level);
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
