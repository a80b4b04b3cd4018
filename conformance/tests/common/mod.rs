//! What the conformance tests share: the broken fixture functions, which
//! live in a package of their own (`fdk-conformance-fixtures`) so that they
//! are never installed with the harness.

#![allow(clippy::expect_used)]

use std::path::PathBuf;
use std::process::Command;
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
