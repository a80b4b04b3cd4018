//! The errors a user will hit, each one clear line and a non-zero exit, and
//! `cargo fdk image` on a prebuilt binary (no build: fast).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::Path;

use common::{TempDir, assert_ok, cargo_fdk, fake_static_elf, stderr, stdout};

const FUNC_YAML: &str = "schema_version: 20180708\nname: errfn\nversion: 0.0.1\nruntime: docker\n";

/// A crate in `dir` that cargo metadata can read without downloading anything.
fn write_crate(dir: &Path, bin: bool) {
    let mut toml =
        "[package]\nname = \"errfn\"\nversion = \"0.1.0\"\nedition = \"2024\"\n".to_owned();
    if !bin {
        toml += "\n[lib]\npath = \"src/lib.rs\"\n";
    }
    toml += "\n[workspace]\n";
    std::fs::create_dir_all(dir.join("src")).unwrap();
    std::fs::write(dir.join("Cargo.toml"), toml).unwrap();
    let file = if bin { "src/main.rs" } else { "src/lib.rs" };
    std::fs::write(dir.join(file), "fn main() {}\n").unwrap();
}

/// Runs cargo-fdk, expects exit `code` and a single `error: ` line on stderr
/// (plus the pointer to --help for usage errors) that contains `want`.
fn expect_error(dir: &Path, args: &[&str], code: i32, want: &str) -> String {
    let output = cargo_fdk(dir).args(args).output().unwrap();
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(code), "{args:?}: {err}");
    let lines: Vec<&str> = err.lines().collect();
    let expected_lines = if code == 2 { 2 } else { 1 };
    assert_eq!(lines.len(), expected_lines, "{args:?}: {err}");
    assert!(lines[0].starts_with("error: "), "{args:?}: {err}");
    assert!(lines[0].contains(want), "{args:?}: want {want:?} in {err}");
    lines[0].to_owned()
}

#[test]
fn no_func_yaml() {
    let tmp = TempDir::new("nofunc");
    write_crate(tmp.path(), true);
    let line = expect_error(
        tmp.path(),
        &["build"],
        1,
        "no func.yaml in the current directory",
    );
    assert!(line.contains("cargo fdk new NAME"), "{line}");
    expect_error(
        tmp.path(),
        &["image"],
        1,
        "no func.yaml in the current directory",
    );
}

#[test]
fn no_binary_target() {
    let tmp = TempDir::new("nobin");
    write_crate(tmp.path(), false);
    std::fs::write(tmp.path().join("func.yaml"), FUNC_YAML).unwrap();
    expect_error(
        tmp.path(),
        &["build"],
        1,
        "the package `errfn` has no binary target: a function is an executable",
    );
}

#[test]
fn no_cargo_toml() {
    let tmp = TempDir::new("nocargo");
    std::fs::write(tmp.path().join("func.yaml"), FUNC_YAML).unwrap();
    expect_error(tmp.path(), &["build"], 1, "no Cargo.toml at");
}

#[test]
fn a_missing_target() {
    let tmp = TempDir::new("notarget");
    write_crate(tmp.path(), true);
    std::fs::write(tmp.path().join("func.yaml"), FUNC_YAML).unwrap();
    // A real target whose standard library is not installed here.
    expect_error(
        tmp.path(),
        &["build", "--target", "riscv64gc-unknown-linux-musl"],
        1,
        "the Rust standard library for riscv64gc-unknown-linux-musl is not installed (`rustup target add riscv64gc-unknown-linux-musl`)",
    );
    expect_error(
        tmp.path(),
        &["build", "--target", "nonsense"],
        1,
        "`nonsense` is not a target rustc knows",
    );
}

#[test]
fn a_dynamic_binary() {
    let tmp = TempDir::new("dynamic");
    std::fs::write(tmp.path().join("func.yaml"), FUNC_YAML).unwrap();
    // This test's own executable is dynamic on gnu targets.
    let me = std::env::current_exe().unwrap();
    if cfg!(target_env = "gnu") {
        let line = expect_error(
            tmp.path(),
            &["image", "--binary", me.to_str().unwrap()],
            1,
            "is dynamically linked (it needs the loader ",
        );
        assert!(line.contains("libc.so.6"), "{line}");
    }
    std::fs::write(tmp.path().join("script"), "#!/bin/sh\n").unwrap();
    expect_error(
        tmp.path(),
        &["image", "--binary", "script"],
        1,
        "script: not an ELF executable",
    );
}

#[test]
fn a_tag_that_is_not_a_reference() {
    let tmp = TempDir::new("badtag");
    std::fs::write(tmp.path().join("func.yaml"), FUNC_YAML).unwrap();
    std::fs::write(tmp.path().join("func"), fake_static_elf()).unwrap();
    expect_error(
        tmp.path(),
        &["image", "--binary", "func", "--tag", "Errfn:1"],
        1,
        "`Errfn:1` is not a valid image reference: `Errfn` has capital letters",
    );
    expect_error(
        tmp.path(),
        &["image", "--binary", "func", "--tag", "errfn"],
        1,
        "no tag",
    );
    // From func.yaml: semver build metadata cannot be a tag.
    std::fs::write(
        tmp.path().join("func.yaml"),
        FUNC_YAML.replace("0.0.1", "0.0.1+build.5"),
    )
    .unwrap();
    expect_error(
        tmp.path(),
        &["image", "--binary", "func"],
        1,
        "`errfn:0.0.1+build.5` is not a valid image reference: the tag `0.0.1+build.5` has `+`",
    );
    // No image was written.
    assert!(!tmp.path().join("target").exists());
}

#[test]
fn func_yaml_it_does_not_understand() {
    let tmp = TempDir::new("badyaml");
    // Flow collections are YAML as `fn` reads it: this one gets as far as
    // the missing Cargo.toml.
    std::fs::write(
        tmp.path().join("func.yaml"),
        "schema_version: 20180708\nname: x\nconfig: {a: b}\n",
    )
    .unwrap();
    expect_error(tmp.path(), &["build"], 1, "no Cargo.toml at Cargo.toml");
    // Broken YAML: its line and column.
    std::fs::write(
        tmp.path().join("func.yaml"),
        "schema_version: 20180708\nname: x\nconfig: {a: b\n",
    )
    .unwrap();
    expect_error(
        tmp.path(),
        &["build"],
        1,
        "func.yaml: line 4, column 1: while parsing a flow mapping, did not find expected ',' or '}'",
    );
    // Valid YAML of the wrong shape: the key and what it must be.
    std::fs::write(
        tmp.path().join("func.yaml"),
        "schema_version: 20180708\nname: x\ntimeout: \"30\"\n",
    )
    .unwrap();
    expect_error(
        tmp.path(),
        &["build"],
        1,
        "func.yaml: `timeout` must be whole seconds, found the quoted text `30`",
    );
}

#[test]
fn usage_mistakes_exit_2() {
    let tmp = TempDir::new("usage");
    expect_error(tmp.path(), &["frobnicate"], 2, "no command `frobnicate`");
    expect_error(
        tmp.path(),
        &["build", "--frob"],
        2,
        "cargo fdk build: unknown option --frob",
    );
    expect_error(
        tmp.path(),
        &["image", "--tag"],
        2,
        "cargo fdk image: --tag needs a value",
    );
    expect_error(tmp.path(), &["new"], 2, "give the new function's directory");
    expect_error(tmp.path(), &["new", "a", "b"], 2, "unexpected argument `b`");
    expect_error(tmp.path(), &["new", "Bad"], 1, "`Bad` has capital letters");
    // `cargo fdk …` passes `fdk` first; both forms work.
    let output = cargo_fdk(tmp.path())
        .args(["fdk", "--version"])
        .output()
        .unwrap();
    assert_ok(&output);
    assert_eq!(
        stdout(&output),
        format!("cargo-fdk {}\n", env!("CARGO_PKG_VERSION"))
    );
    let output = cargo_fdk(tmp.path())
        .args(["image", "--help"])
        .output()
        .unwrap();
    assert_ok(&output);
    assert!(stdout(&output).starts_with("Usage: cargo fdk image [options]"));
    // `run` outside a function's directory: one line saying what is missing.
    let output = cargo_fdk(tmp.path()).args(["run"]).output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).starts_with("error: no func.yaml in the current directory"),
        "{}",
        stderr(&output)
    );
    assert_eq!(stderr(&output).lines().count(), 1);
}

#[test]
fn bad_source_date_epoch() {
    let tmp = TempDir::new("sde");
    std::fs::write(tmp.path().join("func.yaml"), FUNC_YAML).unwrap();
    std::fs::write(tmp.path().join("func"), fake_static_elf()).unwrap();
    let output = cargo_fdk(tmp.path())
        .args(["image", "--binary", "func"])
        .env("SOURCE_DATE_EPOCH", "yesterday")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        stderr(&output),
        "error: SOURCE_DATE_EPOCH must be whole seconds since 1970, found `yesterday`\n"
    );
}

#[test]
fn image_from_a_prebuilt_binary_is_reproducible() {
    let tmp = TempDir::new("prebuilt");
    std::fs::write(tmp.path().join("func.yaml"), FUNC_YAML).unwrap();
    std::fs::write(tmp.path().join("func"), fake_static_elf()).unwrap();
    let run = |out: &str, epoch: Option<&str>| {
        let mut command = cargo_fdk(tmp.path());
        command.args(["image", "--binary", "func", "--out", out]);
        if let Some(epoch) = epoch {
            command.env("SOURCE_DATE_EPOCH", epoch);
        }
        let output = command.output().unwrap();
        assert_ok(&output);
        let text = stdout(&output);
        let digest = text
            .lines()
            .find_map(|l| l.strip_prefix("digest   "))
            .unwrap()
            .split(' ')
            .next()
            .unwrap()
            .to_owned();
        (
            text,
            digest,
            std::fs::read(tmp.path().join(out).join("image.tar")).unwrap(),
        )
    };
    let (text, first, tar_a) = run("a", None);
    assert!(text.starts_with("Image    errfn:0.0.1\n"), "{text}");
    assert!(
        text.contains("static (amd64, no interpreter, no shared libraries)"),
        "{text}"
    );
    assert!(text.contains("took     "), "{text}");
    let (_, second, tar_b) = run("b", None);
    assert_eq!(first, second);
    assert_eq!(tar_a, tar_b, "image.tar differs between two runs");
    let (_, dated, _) = run("c", Some("1700000000"));
    assert_ne!(first, dated);
    // The layout's index points at the printed manifest digest.
    let index = std::fs::read_to_string(tmp.path().join("a/layout/index.json")).unwrap();
    assert!(index.contains(&first), "{index}");
    // FN_REGISTRY goes in front of the name.
    let output = cargo_fdk(tmp.path())
        .args(["image", "--binary", "func", "--out", "d"])
        .env("FN_REGISTRY", "localhost:5000/team")
        .output()
        .unwrap();
    assert_ok(&output);
    assert!(stdout(&output).starts_with("Image    localhost:5000/team/errfn:0.0.1\n"));
}
