//! `cargo fdk new` makes a crate whose own test passes, and `cargo fdk build`
//! and `image` work on it: the path a new user takes.
//!
//! Builds share this workspace's target directory so that dependencies
//! compiled once are reused, and the new crate starts from this workspace's
//! `Cargo.lock` so that it resolves the same versions without an index
//! update.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::process::Command;

use cargo_fdk::elf::ElfInfo;
use common::{TempDir, assert_ok, cargo_fdk, repo, stdout, target_dir};

/// Unique in the shared target directory: no other package builds a binary
/// of this name there.
const NAME: &str = "fdk-new-smoke";

fn line<'a>(text: &'a str, prefix: &str) -> &'a str {
    text.lines()
        .find_map(|l| l.strip_prefix(prefix))
        .unwrap_or_else(|| panic!("no `{prefix}` line in:\n{text}"))
}

#[test]
fn new_then_test_build_and_image() {
    let tmp = TempDir::new("new");
    let output = cargo_fdk(tmp.path())
        .args(["new", NAME, "--fdk-path"])
        .arg(repo().join("fdk"))
        .output()
        .unwrap();
    assert_ok(&output);
    assert!(stdout(&output).starts_with(&format!("Created function `{NAME}` in {NAME}")));
    let dir = tmp.path().join(NAME);
    std::fs::copy(repo().join("Cargo.lock"), dir.join("Cargo.lock")).unwrap();

    // Its own test passes out of the box.
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let output = Command::new(&cargo)
        .args(["test", "--quiet"])
        .current_dir(&dir)
        .env("CARGO_TARGET_DIR", target_dir())
        .env_remove("RUSTFLAGS")
        .output()
        .unwrap();
    assert_ok(&output);
    assert!(
        stdout(&output).contains("test result: ok. 2 passed"),
        "{}",
        stdout(&output)
    );

    // A static binary, copied where the Dockerfile expects it.
    let output = cargo_fdk(&dir)
        .args(["build", "--out", ".fn/func"])
        .output()
        .unwrap();
    assert_ok(&output);
    let text = stdout(&output);
    assert!(
        text.starts_with(&format!("Built {NAME} ({NAME}): ")),
        "{text}"
    );
    assert!(
        text.contains("no interpreter, no shared libraries"),
        "{text}"
    );
    let func = std::fs::read(dir.join(".fn/func")).unwrap();
    assert!(ElfInfo::parse(&func).unwrap().is_static());

    // The image, twice: the same digests.
    let image = || {
        let output = cargo_fdk(&dir).arg("image").output().unwrap();
        assert_ok(&output);
        stdout(&output)
    };
    let first = image();
    assert_eq!(line(&first, "Image    "), format!("{NAME}:0.0.1"));
    let second = image();
    assert_eq!(line(&first, "digest   "), line(&second, "digest   "));
    assert_eq!(line(&first, "id       "), line(&second, "id       "));
    let out = target_dir().join("fdk-image").join(format!("{NAME}-0.0.1"));
    assert!(out.join("layout/oci-layout").is_file());
    assert!(out.join("image.tar").is_file());
    let index = std::fs::read_to_string(out.join("layout/index.json")).unwrap();
    let digest = line(&first, "digest   ").split(' ').next().unwrap();
    assert!(index.contains(digest), "{index}");
    // The config carries the FDK version the crate resolved.
    let config_digest = line(&first, "id       ").split(' ').next().unwrap();
    let config = std::fs::read_to_string(
        out.join("layout/blobs/sha256")
            .join(config_digest.trim_start_matches("sha256:")),
    )
    .unwrap();
    assert!(
        config.contains("\"io.fnproject.fdk.version\":\"fdk-rust/"),
        "{config}"
    );
    eprintln!("{first}");
}
