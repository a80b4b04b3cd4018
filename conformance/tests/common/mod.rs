//! What the conformance tests share: the broken fixture functions, which
//! live in a package of their own (`fdk-conformance-fixtures`) so that they
//! are never installed with the harness.

#![allow(clippy::expect_used)]
// Each test binary includes this file and uses a part of it.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

/// The fixture binary `name` (`fixture` or `stdio_fixture`), built once per
/// test binary with the profile and target directory the harness was built
/// with.
pub(crate) fn fixture_bin(name: &str) -> PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT
        .get_or_init(|| {
            // The harness is target/<profile>/fdk-conformance.
            let harness = PathBuf::from(env!("CARGO_BIN_EXE_fdk-conformance"));
            let profile_dir = harness
                .parent()
                .expect("the harness binary has a directory")
                .to_path_buf();
            let target_dir = profile_dir
                .parent()
                .expect("the profile directory has a parent")
                .to_path_buf();
            let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
            let mut build = Command::new(cargo);
            build
                .args(["build", "-q", "-p", "fdk-conformance-fixtures", "--bins"])
                .env("CARGO_TARGET_DIR", &target_dir);
            if profile_dir.ends_with("release") {
                build.arg("--release");
            }
            let status = build.status().expect("cargo runs");
            assert!(status.success(), "building the fixtures failed: {status}");
            profile_dir
        })
        .join(name)
}

/// `fdk-conformance run --probe <options> [--only ID]... -- <program> <args>`.
pub(crate) fn run(program: &Path, args: &[&str], only: &[&str], options: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_fdk-conformance"));
    // A copy runs with the harness (and so the function, except in
    // life.unprivileged) in its 0777 `cwd/`, which every uid may write to.
    if let Some(dir) = program.parent().filter(|d| d.ends_with("bin")) {
        cmd.current_dir(dir.with_file_name("cwd"));
    }
    cmd.arg("run").arg("--probe").args(options);
    for id in only {
        cmd.args(["--only", id]);
    }
    cmd.arg("--").arg(program).args(args);
    cmd.output().expect("the harness runs")
}

/// The verdict on `id`'s line.
pub(crate) fn verdict<'a>(stdout: &'a str, id: &str) -> Option<&'a str> {
    line_of(stdout, id).map(|(tag, _)| tag)
}

/// The verdict and the level shown on `id`'s line (a failure's own level).
pub(crate) fn line_of<'a>(stdout: &'a str, id: &str) -> Option<(&'a str, &'a str)> {
    stdout.lines().find_map(|line| {
        let mut words = line.split_whitespace();
        let tag = words.next()?;
        let level = words.next()?;
        (words.next()? == id).then_some((tag, level))
    })
}

/// The stdout of a run that exited with `code` and gave `case` the
/// verdict `want` (`PASS`, `FAIL`, `SKIP`).
pub(crate) fn judged(out: &Output, code: i32, case: &str, want: &str) -> String {
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(out.status.code(), Some(code), "{stdout}");
    assert_eq!(verdict(&stdout, case), Some(want), "{case}:\n{stdout}");
    stdout
}

/// `fixture mode` (run with `options`) fails `case` at `level`, with
/// `evidence` in the report if given: the run fails (exit 1) by default
/// only for MUST, and always with `--fail-on <level>`. `fixture good`
/// passes the case either way.
pub(crate) fn caught_at(
    fixture: &str,
    options: &[&str],
    mode: &str,
    case: &str,
    evidence: Option<&str>,
    level: &str,
) {
    let program = fixture_bin(fixture);
    let lowercase = level.to_ascii_lowercase();
    let fail_on = [options, &["--fail-on", &lowercase]].concat();
    for extra in [options, &fail_on[..]] {
        let out = run(&program, &[mode], &[case], extra);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(
            line_of(&stdout, case),
            Some(("FAIL", level)),
            "{mode} must fail {case} at {level}:\n{stdout}"
        );
        if let Some(evidence) = evidence {
            assert!(
                stdout.contains(evidence),
                "{mode}: no {evidence:?} in\n{stdout}"
            );
        }
        let exit = i32::from(level == "MUST" || extra.len() > options.len());
        assert_eq!(out.status.code(), Some(exit), "{mode} {extra:?}: {stdout}");
    }

    judged(
        &run(&program, &["good"], &[case], &fail_on),
        0,
        case,
        "PASS",
    );
}
