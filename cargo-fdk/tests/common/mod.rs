//! Helpers shared by the integration tests.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};

/// A fresh directory, removed on drop.
pub(crate) struct TempDir(PathBuf);

impl TempDir {
    pub(crate) fn new(label: &str) -> TempDir {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let path =
            std::env::temp_dir().join(format!("cargo-fdk-it-{label}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).unwrap();
        TempDir(path)
    }

    pub(crate) fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The repository root.
pub(crate) fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// The target directory this test was built in (`…/target/debug/deps/<test>`
/// → `…/target`), so that builds made by tests reuse its artifacts.
pub(crate) fn target_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    exe.ancestors().nth(3).unwrap().to_path_buf()
}

/// The `cargo-fdk` binary, with a clean environment for the knobs it reads.
pub(crate) fn cargo_fdk(dir: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_cargo-fdk"));
    command
        .current_dir(dir)
        .env_remove("SOURCE_DATE_EPOCH")
        .env_remove("FN_REGISTRY")
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env("CARGO_TARGET_DIR", target_dir());
    command
}

pub(crate) fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub(crate) fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Fails with both streams unless the command succeeded.
pub(crate) fn assert_ok(output: &Output) {
    assert!(
        output.status.success(),
        "status {:?}\nstdout:\n{}\nstderr:\n{}",
        output.status,
        stdout(output),
        stderr(output)
    );
}

/// A tiny static ELF executable header (x86-64, no program headers): enough
/// for cargo fdk's checks, never run.
pub(crate) fn fake_static_elf() -> Vec<u8> {
    let mut elf = vec![0u8; 64];
    elf[..4].copy_from_slice(b"\x7fELF");
    elf[4] = 2; // 64-bit
    elf[5] = 1; // little-endian
    elf[6] = 1;
    elf[16..18].copy_from_slice(&2u16.to_le_bytes()); // ET_EXEC
    elf[18..20].copy_from_slice(&62u16.to_le_bytes()); // x86-64
    elf[54..56].copy_from_slice(&56u16.to_le_bytes());
    elf.extend_from_slice(b"not really code");
    elf
}

/// The tool's path, or `None` (saying that and why the test is skipped)
/// when it is not on `PATH`. `package` is the Debian package that has it.
///
/// Under CI (`CI` set to anything but the empty string) a missing tool
/// fails the test instead: `.ci/run` installs every tool, so a skip there
/// would be a green run that checked nothing.
pub(crate) fn tool(name: &str, package: &str, why: &str) -> Option<PathBuf> {
    let ci = std::env::var_os("CI").is_some_and(|v| !v.is_empty());
    tool_on(std::env::var_os("PATH").as_deref(), ci, name, package, why)
}

/// [`tool`] with its environment given: `path` as `PATH`, `ci` whether
/// `CI` is set (so that both cases are testable).
pub(crate) fn tool_on(
    path: Option<&std::ffi::OsStr>,
    ci: bool,
    name: &str,
    package: &str,
    why: &str,
) -> Option<PathBuf> {
    let found = path.and_then(|paths| {
        std::env::split_paths(paths)
            .map(|dir| dir.join(name))
            .find(|p| p.is_file())
    });
    if found.is_none() {
        assert!(
            !ci,
            "{why}: `{name}` is not installed (apt-get install {package}); \
             CI is set, so this fails rather than skips"
        );
        // Straight to stderr, past the test harness's capture, so that the
        // skip shows in a normal `cargo test` run.
        let line = format!(
            "skipped: {why}: `{name}` is not installed (apt-get install {package}; \
             with CI set this fails instead)\n"
        );
        let _ = std::io::stderr().write_all(line.as_bytes());
    }
    found
}
