//! The container `cargo fdk run` starts the function in: the server's, where
//! this machine can build it, so that a function that works here works on
//! the server.
//!
//! The server runs `/function/func` of a FROM-scratch image as uid 1000
//! with a read-only root, a tmpfs `/tmp`, its socket directory at
//! `/tmp/iofs`, no network, 50 tasks and 350 files (`shared/reference`,
//! images.md). `cargo fdk run` builds the same from the binary: a root file
//! system holding only `/function/func` (what `cargo fdk image` puts in the
//! image), entered through `scripts/fn-sandbox.sh` (compiled in, written to
//! the run's directory), which needs root and util-linux's `prlimit`,
//! `unshare` (2.38+) and `setpriv`. The function keeps the script's PID,
//! so freezing and signals reach it.
//!
//! Where that cannot be built (not root, a tool missing, a `--binary`
//! that is not static and so could not run in a FROM-scratch image either)
//! or with `--no-sandbox`, the function runs on the host as the current
//! user; the run says which, and why, in one line.

use std::ffi::OsString;
use std::os::unix::fs::{MetadataExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};

use fn_emulator::FunctionCommand;

use crate::build;
use crate::error::{Error, Result};

/// The script that enters the server's container (`scripts/fn-sandbox.sh`).
const FN_SANDBOX: &str = include_str!("../../scripts/fn-sandbox.sh");

/// How `cargo fdk run` starts the function.
#[derive(Debug)]
pub enum Sandbox {
    /// In the server's container, built under `dir` (removed on drop).
    Server {
        /// The run's directory: the script and one root file system a build.
        dir: PathBuf,
    },
    /// On the host, as the current user, and why.
    Host(String),
}

impl Sandbox {
    /// The server's container if this machine can build it (and `wanted`),
    /// else the host with the reason.
    pub fn choose(wanted: bool) -> Sandbox {
        if !wanted {
            return Sandbox::Host("--no-sandbox".into());
        }
        match missing_requirement() {
            Some(why) => Sandbox::Host(why),
            None => match prepare_dir() {
                Ok(dir) => Sandbox::Server { dir },
                Err(e) => Sandbox::Host(format!("cannot prepare the sandbox: {e}")),
            },
        }
    }

    /// The command that starts `binary` as the function `name`. In the
    /// server's container the binary is copied into a fresh root file
    /// system; one that is not static cannot run there, so it runs on the
    /// host and the second value says why.
    pub fn command(&self, name: &str, binary: &Path) -> Result<(FunctionCommand, Option<String>)> {
        let host = |why: Option<String>| {
            (
                FunctionCommand {
                    name: name.to_owned(),
                    program: binary.as_os_str().to_owned(),
                    args: Vec::new(),
                },
                why,
            )
        };
        let Sandbox::Server { dir } = self else {
            return Ok(host(None));
        };
        if let Err(e) = build::check_static(binary) {
            return Ok(host(Some(format!("on the host, unsandboxed: {e}"))));
        }
        let rootfs = new_rootfs(dir, binary)?;
        Ok((
            FunctionCommand {
                name: name.to_owned(),
                program: "bash".into(),
                args: vec![
                    OsString::from(dir.join("fn-sandbox.sh")),
                    rootfs.into_os_string(),
                ],
            },
            None,
        ))
    }

    /// One line for the run's output: where the function runs.
    pub fn describe(&self) -> String {
        match self {
            Sandbox::Server { .. } => "sandbox: the server's container (uid 1000, read-only root, \
                 tmpfs /tmp, no network, 50 tasks, 350 files; --no-sandbox runs on the host)"
                .to_owned(),
            Sandbox::Host(why) => format!(
                "sandbox: none, the function runs on the host as this user ({why}); on the server \
                 it runs as uid 1000 with a read-only root, no network, 50 tasks and 350 files"
            ),
        }
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        if let Sandbox::Server { dir } = self {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

/// Why the server's container cannot be built here, if it cannot.
fn missing_requirement() -> Option<String> {
    // The owner of /proc/self is this process's effective uid.
    match std::fs::metadata("/proc/self") {
        Ok(meta) if meta.uid() == 0 => {}
        Ok(_) => {
            return Some(
                "not root: the server's container needs mount and network namespaces".into(),
            );
        }
        Err(e) => return Some(format!("cannot read /proc/self: {e}")),
    }
    for tool in ["bash", "prlimit", "unshare", "setpriv", "mount"] {
        let found = std::env::var_os("PATH")
            .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join(tool).is_file()));
        if !found {
            return Some(format!("{tool} is not installed (util-linux)"));
        }
    }
    let help = Command::new("unshare").arg("--help").output();
    match help {
        Ok(out) if String::from_utf8_lossy(&out.stdout).contains("--wd=") => None,
        _ => Some("this unshare has no --root/--wd (util-linux 2.38 has them)".into()),
    }
}

/// A private directory holding the script.
fn prepare_dir() -> std::io::Result<PathBuf> {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let dir = std::env::temp_dir().join(format!(
        "cargo-fdk-sandbox-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir(&dir)?;
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755))?;
    let script = dir.join("fn-sandbox.sh");
    std::fs::write(&script, FN_SANDBOX)?;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755))?;
    Ok(dir)
}

/// `dir/rootfs-N` with `/function/func` (a copy of `binary`), `/tmp`,
/// `/proc` and `/dev`, as an image made by `cargo fdk image` unpacks (the
/// mount points `fn-sandbox.sh` fills).
fn new_rootfs(dir: &Path, binary: &Path) -> Result<PathBuf> {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let root = dir.join(format!("rootfs-{}", NEXT.fetch_add(1, Ordering::Relaxed)));
    let io = |what: &str, path: &Path, e: std::io::Error| Error::io(what, path, &e);
    for (sub, mode) in [
        ("", 0o755),
        ("function", 0o755),
        ("tmp", 0o1777),
        ("proc", 0o755),
        ("dev", 0o755),
    ] {
        let path = root.join(sub);
        std::fs::create_dir_all(&path).map_err(|e| io("create", &path, e))?;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode))
            .map_err(|e| io("chmod", &path, e))?;
    }
    let func = root.join("function/func");
    std::fs::copy(binary, &func).map_err(|e| io("copy the binary to", &func, e))?;
    std::fs::set_permissions(&func, std::fs::Permissions::from_mode(0o755))
        .map_err(|e| io("chmod", &func, e))?;
    Ok(root)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_a_sandbox_the_binary_runs_as_given() {
        let sandbox = Sandbox::choose(false);
        assert!(
            sandbox.describe().contains("--no-sandbox"),
            "{}",
            sandbox.describe()
        );
        let (command, why) = sandbox.command("f", Path::new("/bin/true")).unwrap();
        assert_eq!(command.program, OsString::from("/bin/true"));
        assert!(command.args.is_empty() && why.is_none());
    }

    #[test]
    fn the_script_is_the_repository_one() {
        assert!(FN_SANDBOX.starts_with("#!/usr/bin/env bash\n# fn-sandbox.sh <rootfs>"));
    }
}
