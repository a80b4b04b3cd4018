//! One process start's container: its cgroups or process group, the
//! process spawned into it, freezing, killing.

use super::*;
use std::ffi::{OsStr, OsString};
use std::fmt;
use std::fs;
use std::io;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::sync::Arc;

use nix::sys::signal::{self, Signal};
use nix::unistd::Pid;

use crate::docker::engine::ContainerRef;

/// What to run in a [`Jail`].
#[derive(Debug, Clone, Copy)]
pub struct Target<'a> {
    /// The program (looked up in `PATH` if it has no slash).
    pub program: &'a OsStr,
    /// Its arguments.
    pub args: &'a [OsString],
    /// Run as this uid, gid the same, no supplementary groups.
    pub uid: Option<u32>,
    /// The working directory.
    pub cwd: Option<&'a Path>,
}

/// The container of one process start: its cgroups (if the sandbox has
/// them) and its process group. Dropping it kills everything in it and
/// removes the cgroups.
pub struct Jail {
    pub(super) id: u64,
    pub(super) cgroups: Option<CgroupDirs>,
    /// Keeps the run's parents until the last jail is gone.
    pub(super) _parents: Option<Arc<Parents>>,
    pub(super) pgid: Option<i32>,
    pub(super) trampoline: Option<PathBuf>,
    pub(super) memory_mb: u64,
    /// The docker container, when the sandbox is a daemon's.
    pub(super) container: Option<Arc<ContainerRef>>,
}

impl fmt::Debug for Jail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Jail")
            .field("cgroups", &self.cgroups)
            .field("pgid", &self.pgid)
            .finish_non_exhaustive()
    }
}

impl Jail {
    /// The command that runs `target` in this jail: through the trampoline
    /// if there is one. The caller adds the environment and stdio, then
    /// calls [`spawn`](Self::spawn).
    pub(crate) fn command(&self, target: &Target<'_>) -> Command {
        let Some(trampoline) = &self.trampoline else {
            let mut cmd = Command::new(target.program);
            cmd.args(target.args);
            if let Some(cwd) = target.cwd {
                cmd.current_dir(cwd);
            }
            if let Some(uid) = target.uid {
                // std drops the supplementary groups when it changes the
                // uid as root (`setgroups(0)` before `setuid`).
                cmd.uid(uid).gid(uid);
            }
            return cmd;
        };
        let mut cmd = Command::new(trampoline);
        cmd.arg(TRAMPOLINE_ARG);
        if let Some(dirs) = &self.cgroups {
            for dir in dirs.all() {
                cmd.arg("--join").arg(dir.join("cgroup.procs"));
            }
        }
        cmd.arg("--parent").arg(std::process::id().to_string());
        if let Some(uid) = target.uid {
            cmd.arg("--uid").arg(uid.to_string());
        }
        if let Some(cwd) = target.cwd {
            cmd.arg("--cwd").arg(cwd);
        }
        cmd.arg("--").arg(target.program).args(target.args);
        cmd
    }

    /// Spawns `cmd` (from [`command`](Self::command)) in its own process
    /// group, and, without a trampoline, moves it into the cgroups at once.
    /// Refused once an emergency stop has begun, so that no process can
    /// start behind its back.
    pub(crate) fn spawn(&mut self, cmd: &mut Command) -> io::Result<Child> {
        // Through the trampoline, a program that cannot be executed would
        // only show as the trampoline's exit 127: say it now, as a failed
        // spawn, as std would.
        if self.trampoline.is_some() {
            let mut args = cmd.get_args().skip_while(|a| *a != "--").skip(1);
            if let Some(program) = args.next() {
                let path_var = cmd
                    .get_envs()
                    .find(|(k, _)| *k == "PATH")
                    .and_then(|(_, v)| v.map(OsStr::to_owned))
                    .or_else(|| std::env::var_os("PATH"));
                check_executable(program, path_var.as_deref())?;
            }
        }
        cmd.process_group(0);
        let mut live = live();
        if live.stopping {
            return Err(io::Error::new(
                io::ErrorKind::Interrupted,
                "the harness is stopping",
            ));
        }
        let child = cmd.spawn()?;
        let pid = i32::try_from(child.id()).map_err(io::Error::other)?;
        self.pgid = Some(pid);
        live.jails
            .insert(self.id, (self.cgroups.clone(), Some(pid)));
        drop(live);
        if self.trampoline.is_none()
            && let Some(dirs) = &self.cgroups
        {
            for dir in dirs.all() {
                fs::write(dir.join("cgroup.procs"), pid.to_string())?;
            }
        }
        Ok(child)
    }

    /// Makes this jail the docker container `container`: freezing is
    /// pause and unpause, killing its forced removal.
    pub(crate) fn set_container(&mut self, container: Arc<ContainerRef>) {
        self.container = Some(container);
    }

    /// The memory limit, MB.
    pub(crate) fn memory_mb(&self) -> u64 {
        self.memory_mb
    }

    /// `docker pause`: the cgroup freezer (returns once every task is
    /// frozen), or SIGSTOP to the process group.
    pub(crate) fn freeze(&mut self) -> io::Result<()> {
        self.freezer().freeze()
    }

    /// `docker unpause`.
    pub(crate) fn thaw(&mut self) -> io::Result<()> {
        self.freezer().thaw()
    }

    /// A handle that freezes and thaws this jail from another thread: the
    /// server's freezer pauses a container 50 ms after a call, on a timer.
    pub(crate) fn freezer(&self) -> Freezable {
        Freezable {
            cgroups: self.cgroups.clone(),
            pgid: self.pgid,
            container: self.container.clone(),
        }
    }

    /// The PIDs in the jail: its cgroups' members, or the live members of
    /// its process group. The tests' view of the jail: the kill itself does
    /// not list members.
    #[cfg(test)]
    pub(crate) fn pids(&self) -> Vec<i32> {
        match &self.cgroups {
            Some(dirs) => dirs.pids(),
            None => self.pgid.map(group_members).unwrap_or_default(),
        }
    }

    /// How many times the kernel's OOM killer struck in the jail (cgroups
    /// only).
    pub fn oom_kills(&self) -> Option<u64> {
        if let Some(container) = &self.container {
            return Some(u64::from(container.oom_killed()));
        }
        self.cgroups.as_ref().and_then(CgroupDirs::oom_kills)
    }

    /// The server's forced removal: every process in the jail is killed
    /// (thawed as needed) and gone when this returns, as far as the kernel
    /// lets it be waited for (zombies of the direct child aside, which its
    /// parent reaps).
    pub(crate) fn kill(&mut self) {
        if let Some(container) = &self.container {
            container.remove();
        }
        if let Some(pgid) = self.pgid {
            let _ = signal::killpg(Pid::from_raw(pgid), Signal::SIGKILL);
        }
        if let Some(dirs) = &self.cgroups {
            dirs.kill();
        }
    }
}

/// Freezes and thaws one jail from any thread ([`Jail::freezer`]): the
/// cgroup freezer, or SIGSTOP/SIGCONT to its process group.
#[derive(Debug, Clone)]
pub(crate) struct Freezable {
    cgroups: Option<CgroupDirs>,
    pgid: Option<i32>,
    container: Option<Arc<ContainerRef>>,
}

impl Freezable {
    /// `docker pause` (see [`Jail::freeze`]).
    pub(crate) fn freeze(&self) -> io::Result<()> {
        if let Some(container) = &self.container {
            return container.pause();
        }
        match &self.cgroups {
            Some(dirs) => dirs.freeze().inspect_err(|_| {
                // Stuck half-way (FREEZING): back to running, rather than a
                // state the next call cannot count on.
                let _ = dirs.thaw();
            }),
            None => self.signal(Signal::SIGSTOP),
        }
    }

    /// `docker unpause`.
    pub(crate) fn thaw(&self) -> io::Result<()> {
        if let Some(container) = &self.container {
            return container.unpause();
        }
        match &self.cgroups {
            Some(dirs) => dirs.thaw(),
            None => self.signal(Signal::SIGCONT),
        }
    }

    fn signal(&self, signal: Signal) -> io::Result<()> {
        let pgid = self
            .pgid
            .ok_or_else(|| io::Error::other("the jail has no process"))?;
        signal::killpg(Pid::from_raw(pgid), signal).map_err(io::Error::from)
    }
}

impl Drop for Jail {
    fn drop(&mut self) {
        self.kill();
        if let Some(dirs) = &self.cgroups {
            dirs.remove();
        }
        live().jails.remove(&self.id);
    }
}

/// What `execvp` would say about `program`, as far as the harness's own
/// user can tell: not found, or not executable.
fn check_executable(program: &OsStr, path_var: Option<&OsStr>) -> io::Result<()> {
    use nix::unistd::{AccessFlags, access};
    use std::os::unix::ffi::OsStrExt;
    let executable = |path: &Path| -> io::Result<()> {
        let meta = fs::metadata(path)?;
        if meta.is_dir() {
            return Err(io::Error::new(
                io::ErrorKind::PermissionDenied,
                format!("{} is a directory", path.display()),
            ));
        }
        access(path, AccessFlags::X_OK).map_err(io::Error::from)
    };
    if program.as_bytes().contains(&b'/') {
        return executable(Path::new(program));
    }
    let path_var = path_var.unwrap_or(OsStr::new("/usr/local/bin:/usr/bin:/bin"));
    let found = std::env::split_paths(path_var).any(|dir| executable(&dir.join(program)).is_ok());
    if found {
        Ok(())
    } else {
        Err(io::Error::new(
            io::ErrorKind::NotFound,
            format!("no executable {program:?} in PATH"),
        ))
    }
}

/// The live (not zombie) members of process group `pgid`, from `/proc`.
#[cfg(test)]
fn group_members(pgid: i32) -> Vec<i32> {
    let Ok(entries) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| {
            let Ok(stat) = fs::read_to_string(format!("/proc/{pid}/stat")) else {
                return false;
            };
            // Fields after the last ')': state, ppid, pgrp.
            let Some(rest) = stat.rfind(')').map(|i| &stat[i + 1..]) else {
                return false;
            };
            let mut fields = rest.split_whitespace();
            let state = fields.next();
            let pgrp = fields.nth(1).and_then(|p| p.parse::<i32>().ok());
            pgrp == Some(pgid) && state != Some("Z")
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_process_group_jail_kills_the_whole_group() {
        let sandbox = Sandbox::process_groups();
        let mut jail = sandbox.jail(128).unwrap();
        let args = [OsString::from("-c"), OsString::from("sleep 30 & sleep 30")];
        let target = Target {
            program: OsStr::new("sh"),
            args: &args,
            uid: None,
            cwd: None,
        };
        let mut child = jail.spawn(&mut jail.command(&target)).unwrap();
        assert!(wait_until(Duration::from_secs(5), || jail.pids().len() >= 3));
        jail.freeze().unwrap();
        jail.thaw().unwrap();
        let pids = jail.pids();
        jail.kill();
        let _ = child.wait();
        assert!(
            wait_until(Duration::from_secs(5), || jail.pids().is_empty()),
            "{pids:?}"
        );
    }
}
