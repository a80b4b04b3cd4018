//! A static release binary: `--target` musl when its standard library is
//! installed, else the gnu target with `-C target-feature=+crt-static`
//! (always with an explicit `--target`, so build scripts and proc macros stay
//! dynamic and work). The result is checked by reading its ELF headers.

use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::Value;

use crate::elf::ElfInfo;
use crate::error::{Error, Result};
use crate::project::{Project, cargo};

/// The flag that makes glibc binaries static.
pub const CRT_STATIC: &str = "target-feature=+crt-static";

/// Which target to build for, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetChoice {
    /// The target triple passed as `--target`.
    pub triple: String,
    /// True when `+crt-static` is added (gnu targets).
    pub crt_static: bool,
    /// Why this target, for the report.
    pub reason: String,
}

/// A built and checked binary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Built {
    /// Where cargo put it.
    pub path: PathBuf,
    /// How it was built.
    pub target: TargetChoice,
    /// What its ELF headers say.
    pub elf: ElfInfo,
    /// Its size in bytes.
    pub size: u64,
}

/// `rustc` as cargo would run it (`$RUSTC`, else `rustc`), in `dir` so
/// that a toolchain file there applies.
fn rustc(dir: &Path) -> Command {
    let mut command = Command::new(std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into()));
    command.current_dir(dir);
    command
}

fn run_text(mut command: Command, what: &str) -> Result<String> {
    let output = command
        .output()
        .map_err(|err| Error::new(format!("cannot run {what}: {err}")))?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        return Err(Error::new(format!(
            "{what} failed: {}",
            stderr.lines().next().unwrap_or("no message").trim()
        )));
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// The host triple, from `rustc -vV`.
pub fn host_triple(dir: &Path) -> Result<String> {
    let mut command = rustc(dir);
    command.arg("-vV");
    let text = run_text(command, "rustc -vV")?;
    text.lines()
        .find_map(|l| l.strip_prefix("host: "))
        .map(|h| h.trim().to_owned())
        .ok_or_else(|| Error::new("rustc -vV did not say which host it is"))
}

/// True when the standard library for `triple` is installed for the
/// toolchain that builds in `dir` (its `target-libdir` has `libstd`).
/// Does not use rustup, so it also works for toolchains installed otherwise.
pub fn target_installed(dir: &Path, triple: &str) -> Result<bool> {
    let mut command = rustc(dir);
    command.args(["--print", "target-libdir", "--target", triple]);
    let output = command
        .output()
        .map_err(|err| Error::new(format!("cannot run rustc: {err}")))?;
    if !output.status.success() {
        return Err(Error::new(format!(
            "`{triple}` is not a target rustc knows"
        )));
    }
    let libdir = PathBuf::from(String::from_utf8_lossy(&output.stdout).trim());
    Ok(std::fs::read_dir(&libdir).is_ok_and(|entries| {
        entries
            .filter_map(|e| e.ok())
            .any(|e| e.file_name().to_string_lossy().starts_with("libstd-"))
    }))
}

/// The musl twin of a Linux gnu triple (`x86_64-unknown-linux-gnu` →
/// `x86_64-unknown-linux-musl`).
pub fn musl_of(triple: &str) -> Option<String> {
    let (arch_vendor, env) = triple.rsplit_once("-linux-")?;
    env.starts_with("gnu")
        .then(|| format!("{arch_vendor}-linux-musl{}", &env[3..]))
}

/// Picks the target: `requested` if given (it must be installed), else musl
/// if installed, else the host's gnu target with `+crt-static`.
pub fn choose_target(dir: &Path, requested: Option<&str>) -> Result<TargetChoice> {
    if let Some(triple) = requested {
        if !target_installed(dir, triple)? {
            return Err(missing_target(triple));
        }
        let crt_static = triple.contains("-linux-gnu");
        return Ok(TargetChoice {
            triple: triple.to_owned(),
            crt_static,
            reason: "--target".to_owned(),
        });
    }
    let host = host_triple(dir)?;
    if host.contains("-linux-musl") {
        return Ok(TargetChoice {
            triple: host,
            crt_static: false,
            reason: "the host is musl".into(),
        });
    }
    let Some(musl) = musl_of(&host) else {
        return Err(Error::new(format!(
            "the host is {host}: Fn runs Linux images; pass --target with a Linux target \
             (e.g. x86_64-unknown-linux-musl) and a linker for it"
        )));
    };
    if target_installed(dir, &musl)? {
        return Ok(TargetChoice {
            triple: musl,
            crt_static: false,
            reason: "musl is installed".into(),
        });
    }
    Ok(TargetChoice {
        triple: host,
        crt_static: true,
        reason: format!("{musl} is not installed"),
    })
}

fn missing_target(triple: &str) -> Error {
    Error::new(format!(
        "the Rust standard library for {triple} is not installed (`rustup target add {triple}`); \
         without --target, cargo fdk uses the host's gnu target with +crt-static"
    ))
}

/// Runs `cargo build --release --target …` for the project's binary and
/// checks that the result is static.
pub fn build(project: &Project, target: &TargetChoice) -> Result<Built> {
    let mut command = cargo();
    command
        .args([
            "build",
            "--release",
            "--message-format",
            "json-render-diagnostics",
        ])
        .arg("--manifest-path")
        .arg(&project.manifest_path)
        .args(["--bin", &project.bin, "--target", &target.triple])
        .current_dir(&project.dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    if target.crt_static {
        add_crt_static(&mut command, &target.triple);
    }
    let mut child = command
        .spawn()
        .map_err(|err| Error::new(format!("cannot run cargo: {err}")))?;
    let mut executable = None;
    if let Some(stdout) = child.stdout.take() {
        for line in BufReader::new(stdout).lines() {
            let line =
                line.map_err(|err| Error::new(format!("cannot read cargo's output: {err}")))?;
            let Ok(message) = serde_json::from_str::<Value>(&line) else {
                continue;
            };
            let is_ours = message["reason"] == "compiler-artifact"
                && message["target"]["name"] == project.bin.as_str()
                && message["target"]["kind"]
                    .as_array()
                    .is_some_and(|k| k.iter().any(|k| k == "bin"));
            if is_ours && let Some(path) = message["executable"].as_str() {
                executable = Some(PathBuf::from(path));
            }
        }
    }
    let status = child
        .wait()
        .map_err(|err| Error::new(format!("cannot wait for cargo: {err}")))?;
    if !status.success() {
        return Err(Error::new("cargo build failed (its errors are above)"));
    }
    let path =
        executable.ok_or_else(|| Error::new(format!("cargo built no binary `{}`", project.bin)))?;
    let elf = check_static(&path)?;
    let size = std::fs::metadata(&path)
        .map_err(|err| Error::io("read", &path, &err))?
        .len();
    Ok(Built {
        path,
        target: target.clone(),
        elf,
        size,
    })
}

/// Adds `+crt-static` where cargo will see it: appended to `RUSTFLAGS` or
/// `CARGO_ENCODED_RUSTFLAGS` when set (they override the config), else as
/// `target.<triple>.rustflags` (which adds to the user's own config).
fn add_crt_static(command: &mut Command, triple: &str) {
    if let Ok(encoded) = std::env::var("CARGO_ENCODED_RUSTFLAGS") {
        let sep = if encoded.is_empty() { "" } else { "\u{1f}" };
        command.env(
            "CARGO_ENCODED_RUSTFLAGS",
            format!("{encoded}{sep}-C\u{1f}{CRT_STATIC}"),
        );
    } else if let Ok(flags) = std::env::var("RUSTFLAGS") {
        command.env("RUSTFLAGS", format!("{flags} -C {CRT_STATIC}"));
    } else {
        command.arg("--config").arg(format!(
            "target.{triple}.rustflags=[\"-C\", \"{CRT_STATIC}\"]"
        ));
    }
}

/// Reads `path` and fails, naming what it needs, unless it is static.
pub fn check_static(path: &Path) -> Result<ElfInfo> {
    let bytes = std::fs::read(path).map_err(|err| Error::io("read", path, &err))?;
    let elf =
        ElfInfo::parse(&bytes).map_err(|err| Error::new(format!("{}: {err}", path.display())))?;
    if !elf.is_static() {
        return Err(Error::new(format!(
            "{} is dynamically linked (it needs {}); an image with no base image has no libraries: \
             build it static (cargo fdk build does; check RUSTFLAGS and crates that link C libraries)",
            path.display(),
            elf.dynamic_needs()
        )));
    }
    Ok(elf)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::elf::tests::fake_elf;
    use crate::testutil::TempDir;

    #[test]
    fn musl_twins() {
        assert_eq!(
            musl_of("x86_64-unknown-linux-gnu").as_deref(),
            Some("x86_64-unknown-linux-musl")
        );
        assert_eq!(
            musl_of("aarch64-unknown-linux-gnu").as_deref(),
            Some("aarch64-unknown-linux-musl")
        );
        assert_eq!(
            musl_of("armv7-unknown-linux-gnueabihf").as_deref(),
            Some("armv7-unknown-linux-musleabihf")
        );
        assert_eq!(musl_of("aarch64-apple-darwin"), None);
    }

    #[test]
    fn the_host_target_is_installed_and_a_missing_one_is_named() {
        let here = Path::new(".");
        let host = host_triple(here).unwrap();
        assert!(target_installed(here, &host).unwrap());
        assert!(target_installed(here, "not-a-real-target").is_err());
        let choice = choose_target(here, None).unwrap();
        // musl when installed, else gnu with crt-static; always a Linux triple.
        assert!(choice.triple.contains("-linux-"), "{choice:?}");
        assert_eq!(
            choice.crt_static,
            choice.triple.contains("-linux-gnu"),
            "{choice:?}"
        );
        // A real target whose standard library is (almost surely) not installed.
        let exotic = "riscv64gc-unknown-linux-musl";
        if !target_installed(here, exotic).unwrap() {
            let err = choose_target(here, Some(exotic)).unwrap_err().to_string();
            assert!(
                err.starts_with(
                    "the Rust standard library for riscv64gc-unknown-linux-musl is not installed"
                ),
                "{err}"
            );
        }
    }

    #[test]
    fn a_dynamic_binary_is_refused_with_what_it_needs() {
        let tmp = TempDir::new("elf");
        let path = tmp.path().join("func");
        std::fs::write(
            &path,
            fake_elf(3, Some("/lib64/ld-linux-x86-64.so.2"), &["libc.so.6"]),
        )
        .unwrap();
        let err = check_static(&path).unwrap_err().to_string();
        assert!(err.contains("is dynamically linked (it needs the loader /lib64/ld-linux-x86-64.so.2 and libc.so.6)"), "{err}");
        std::fs::write(&path, fake_elf(3, None, &[])).unwrap();
        assert_eq!(check_static(&path).unwrap().linkage(), "static-pie");
        std::fs::write(&path, b"#!/bin/sh\n").unwrap();
        assert!(
            check_static(&path)
                .unwrap_err()
                .to_string()
                .ends_with("not an ELF executable")
        );
    }
}
