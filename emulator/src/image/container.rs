//! The server's container around an unpacked image, without a daemon:
//! `scripts/fn-sandbox.sh` (compiled in), which puts the root file system
//! read-only in private mount, network, IPC and UTS namespaces, a tmpfs
//! `/tmp` with the socket directory at `/tmp/iofs`, uid and gid 1000 with no
//! capabilities and no new privileges, 50 processes and 350 files, and
//! execs the image's command in its working directory. Every step execs
//! the next, so the function keeps the PID the harness started: signals,
//! the freezer and `/proc` reach it. Needs root and util-linux 2.38.
//!
//! Both `fdk-conformance run --image` and `cargo fdk run` start functions
//! through it.

use std::ffi::OsString;
use std::os::unix::fs::{MetadataExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};

use super::{ImageConfig, ImageError};
use crate::process::FunctionCommand;

/// The script (`scripts/fn-sandbox.sh`).
pub const FN_SANDBOX: &str = include_str!("../../../scripts/fn-sandbox.sh");

/// Why the container cannot be built on this machine, if it cannot.
pub fn missing_requirement() -> Option<String> {
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
    match Command::new("unshare").arg("--help").output() {
        Ok(out) if String::from_utf8_lossy(&out.stdout).contains("--wd=") => None,
        _ => Some("this unshare has no --root/--wd (util-linux 2.38 has them)".into()),
    }
}

/// A private directory holding the script, removed on drop.
#[derive(Debug)]
pub struct Container {
    dir: PathBuf,
}

impl Container {
    /// Writes the script into a fresh directory.
    pub fn prepare() -> std::io::Result<Self> {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let dir = std::env::temp_dir().join(format!(
            "fn-container-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir(&dir)?;
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755))?;
        let script = dir.join("fn-sandbox.sh");
        std::fs::write(&script, FN_SANDBOX)?;
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755))?;
        Ok(Self { dir })
    }

    /// A directory for root file systems, beside the script.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The command that runs `config`'s command from `rootfs` in the
    /// container. The image's `Env` comes first, so the server's variables
    /// (`FN_*`, given by whoever starts the command) win where both set one,
    /// as Docker lets a container's environment override its image's.
    pub fn command(
        &self,
        name: &str,
        rootfs: &Path,
        config: &ImageConfig,
    ) -> Result<FunctionCommand, ImageError> {
        let command = config.command();
        let Some((program, args)) = command.split_first() else {
            return Err(ImageError::new("the image has neither Entrypoint nor Cmd"));
        };
        let program = resolve(rootfs, program, config)?;
        let mut words: Vec<OsString> = config
            .env
            .iter()
            .filter(|kv| !kv.starts_with("FN_") && kv.contains('='))
            .map(OsString::from)
            .collect();
        words.push("bash".into());
        words.push(self.dir.join("fn-sandbox.sh").into_os_string());
        words.push(rootfs.as_os_str().to_owned());
        words.extend(["--exec".into(), program.into()]);
        words.extend(["--wd".into(), OsString::from(config.working_dir())]);
        words.push("--".into());
        words.extend(args.iter().map(OsString::from));
        Ok(FunctionCommand {
            name: name.to_owned(),
            // `env` execs too: the PID stays the function's.
            program: "env".into(),
            args: words,
        })
    }
}

impl Drop for Container {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The program's absolute path inside the image: as given when absolute,
/// else looked up in the image's `PATH` (Docker's rule), else relative to
/// the working directory.
fn resolve(rootfs: &Path, program: &str, config: &ImageConfig) -> Result<String, ImageError> {
    if program.starts_with('/') {
        return Ok(program.to_owned());
    }
    if program.contains('/') {
        let wd = config.working_dir().trim_end_matches('/');
        return Ok(format!("{wd}/{program}"));
    }
    let path = config
        .env
        .iter()
        .find_map(|kv| kv.strip_prefix("PATH="))
        .unwrap_or("/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
    for dir in path.split(':').filter(|d| d.starts_with('/')) {
        let candidate = format!("{}/{program}", dir.trim_end_matches('/'));
        let inside = rootfs.join(candidate.trim_start_matches('/'));
        if std::fs::symlink_metadata(&inside).is_ok() {
            return Ok(candidate);
        }
    }
    Err(ImageError::new(format!(
        "the image's command `{program}` is in none of its PATH directories ({path})"
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_resolve_inside_the_image() {
        let root = std::env::temp_dir().join(format!("fn-container-{}", std::process::id()));
        std::fs::create_dir_all(root.join("usr/bin")).unwrap();
        std::fs::write(root.join("usr/bin/node"), "").unwrap();
        let config = ImageConfig {
            entrypoint: vec!["node".into()],
            cmd: vec!["func.js".into()],
            env: vec![
                "PATH=/usr/local/bin:/usr/bin".into(),
                "FN_FORMAT=x".into(),
                "A=1".into(),
            ],
            working_dir: "/function".into(),
            ..ImageConfig::default()
        };
        let container = Container::prepare().unwrap();
        let command = container.command("f", &root, &config).unwrap();
        let args: Vec<String> = command
            .args
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        let script = container.dir().join("fn-sandbox.sh");
        assert_eq!(command.program, OsString::from("env"));
        assert_eq!(
            args,
            [
                "PATH=/usr/local/bin:/usr/bin",
                "A=1",
                "bash",
                &script.to_string_lossy(),
                &root.to_string_lossy(),
                "--exec",
                "/usr/bin/node",
                "--wd",
                "/function",
                "--",
                "func.js"
            ]
        );
        assert!(
            std::fs::read_to_string(&script)
                .unwrap()
                .contains("unshare")
        );
        let missing = ImageConfig {
            entrypoint: vec!["python3".into()],
            ..config
        };
        let err = container.command("f", &root, &missing).unwrap_err();
        assert!(err.0.contains("`python3` is in none of its PATH"), "{err}");
        let dir = container.dir().to_path_buf();
        drop(container);
        assert!(!dir.exists());
        let _ = std::fs::remove_dir_all(&root);
    }
}
