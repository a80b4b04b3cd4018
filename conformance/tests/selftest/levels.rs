//! Failure levels: SHOULD faults, and what `--fail-on` and the output
//! files make of them.

use super::*;

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
