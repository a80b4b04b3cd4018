//! Running the function as another uid (`--uid`), as the server's
//! containers do.

use super::*;

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

#[test]
fn without_uid_the_unprivileged_case_is_skipped_with_how_to_run_it() {
    let out = suite("needs-writable-cwd", &["life.unprivileged"]);
    let stdout = common::judged(&out, 0, "life.unprivileged", "SKIP");
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
    let stdout = common::judged(&out, 1, "life.unprivileged", "FAIL");
    assert!(stdout.contains("as uid 1000"), "{stdout}");
    assert!(stdout.contains("cannot write"), "{stdout}");

    let out = suite_with(&copy.1, "good", &["life.unprivileged"], &uid);
    common::judged(&out, 0, "life.unprivileged", "PASS");
}

#[test]
fn the_good_fixture_passes_every_applicable_case_as_uid_1000() {
    if !is_root() {
        return; // covered by the test above: exit 2 without root
    }
    let copy = FixtureCopy::new("uid-all", 0o755);
    let out = suite_with(&copy.1, "good", &[], &["--uid", "1000"]);
    let stdout = common::judged(&out, 0, "life.unprivileged", "PASS");
    assert!(stdout.contains(" 0 failed"), "{stdout}");
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
