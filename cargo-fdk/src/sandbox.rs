//! The container `cargo fdk run` starts the function in: the server's, where
//! this machine can build it, so that a function that works here works on
//! the server.
//!
//! The server runs `/function/func` of a FROM-scratch image as uid 1000
//! with a read-only root, a tmpfs `/tmp`, its socket directory at
//! `/tmp/iofs`, no network, 50 tasks and 350 files (`shared/reference`,
//! images.md). `cargo fdk run` builds the same from the binary: a root file
//! system holding only `/function/func` (what `cargo fdk image` puts in the
//! image), entered through the emulator's container
//! ([`fn_emulator::image::container`], `scripts/fn-sandbox.sh`), which needs
//! root and util-linux's `prlimit`, `unshare` (2.38+) and `setpriv`. The
//! function keeps the PID it was started with, so freezing and signals
//! reach it.
//!
//! Where that cannot be built (not root, a tool missing, a `--binary`
//! that is not static and so could not run in a FROM-scratch image either)
//! or with `--no-sandbox`, the function runs on the host as the current
//! user; the run says which, and why, in one line.

use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use fn_emulator::FunctionCommand;
use fn_emulator::image::ImageConfig;
use fn_emulator::image::container::{self, Container};

use crate::build;
use crate::error::{Error, Result};

/// How `cargo fdk run` starts the function.
#[derive(Debug)]
pub enum Sandbox {
    /// In the server's container; one root file system a build, in the
    /// container's directory (removed on drop).
    Server(Container),
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
        match container::missing_requirement() {
            Some(why) => Sandbox::Host(why),
            None => match Container::prepare() {
                Ok(container) => Sandbox::Server(container),
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
        let Sandbox::Server(container) = self else {
            return Ok(host(None));
        };
        if let Err(e) = build::check_static(binary) {
            return Ok(host(Some(format!("on the host, unsandboxed: {e}"))));
        }
        let rootfs = new_rootfs(container.dir(), binary)?;
        // What `cargo fdk image` writes into the image's config.
        let config = ImageConfig {
            entrypoint: vec!["/function/func".into()],
            working_dir: "/function".into(),
            ..ImageConfig::default()
        };
        let command = container
            .command(name, &rootfs, &config)
            .map_err(|e| Error::new(e.to_string()))?;
        Ok((command, None))
    }

    /// One line for the run's output: where the function runs.
    pub fn describe(&self) -> String {
        match self {
            Sandbox::Server(_) => "sandbox: the server's container (uid 1000, read-only root, \
                 tmpfs /tmp, no network, 50 tasks, 350 files; --no-sandbox runs on the host)"
                .to_owned(),
            Sandbox::Host(why) => format!(
                "sandbox: none, the function runs on the host as this user ({why}); on the server \
                 it runs as uid 1000 with a read-only root, no network, 50 tasks and 350 files"
            ),
        }
    }
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
        assert_eq!(command.program, std::ffi::OsString::from("/bin/true"));
        assert!(command.args.is_empty() && why.is_none());
    }
}
