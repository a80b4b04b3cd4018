//! The container the server runs a function in, as far as a harness on the
//! same machine can build it (contract §2.2): every process start gets its
//! own cgroup, with the server's limits and its freezer, and its own process
//! group; removing the "container" kills every process in it.
//!
//! * **cgroups** (root, and the v1 `freezer`, `pids` and `memory`
//!   controllers writable, or v2 with `memory` and `pids`): one cgroup per
//!   start, `<hierarchy>/<the harness's own cgroup>/fdk-conformance-<pid>-<id>/<n>`
//!   (v2: under the hierarchy's root, where controllers can be delegated),
//!   with `pids.max` 50, the memory limit `FN_MEMORY` MB and no swap. Freezing
//!   is `docker pause`'s: `freezer.state` = `FROZEN` (v2 `cgroup.freeze`),
//!   waited for until the kernel reports it done.
//! * **otherwise** the freezer is emulated with SIGSTOP/SIGCONT to the
//!   process group. That differs (see `SIGNAL_FREEZER_CAVEAT`): a blocking
//!   `recv` with `SO_RCVTIMEO` interrupted by a stop signal returns `EINTR`
//!   after SIGCONT (signal(7)), while a task frozen by the cgroup freezer
//!   just resumes.
//!
//! Processes are started through a trampoline when one is known (the
//! `fdk-conformance` binary itself, `fdk-conformance __sandbox-exec`): it
//! joins the cgroups *before* `exec`, so that nothing the function forks can
//! start outside them; sets the server's ulimits (nofile 350, memlock
//! 64 KiB, sigpending 5000, msgqueue 819200); drops to `--uid`; asks for
//! SIGKILL if the harness thread that started it dies (`PR_SET_PDEATHSIG`);
//! and execs the function under the same PID. All of that with safe calls:
//! the workspace denies `unsafe_code`, which rules out `pre_exec`. Without a
//! trampoline (the library used on its own) a process joins its cgroups
//! right after `spawn`, and the ulimits are not set.
//!
//! Killing (`Jail::kill`) is the server's forced removal: cgroups: freeze,
//! SIGKILL every PID in `cgroup.procs`, thaw, wait until empty, `rmdir`;
//! otherwise SIGKILL to the process group. Either way the function's
//! descendants go too (in the fallback, unless one left the group).
//!
//! Every live cgroup, process group and work directory is also recorded in
//! one process-wide registry, so that a SIGINT or SIGTERM to the harness
//! ([`emergency_stop`]) can thaw and kill them all and remove the
//! directories from another thread before the harness exits.

mod cgroup;
mod jail;
pub(crate) mod registry;
mod trampoline;

use std::fs;
use std::io;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use cgroup::{CgroupDirs, create_jail, create_parents};
pub(crate) use jail::Freezable;
pub use jail::{Jail, Target};
pub use registry::emergency_stop;
pub(crate) use registry::{forget_dir, register_dir, unless_stopping};
use registry::{live, next_id};
pub use trampoline::trampoline;

// The container's limits are the server's numbers (crate::wire), re-exported
// here where the sandbox's users look for them.
pub use crate::wire::{DEFAULT_MEMORY_MB, NOFILE, PIDS_MAX};
pub(crate) use crate::wire::{MEMLOCK, MSGQUEUE, SIGPENDING};
/// The hidden first argument that makes `fdk-conformance` a trampoline.
pub const TRAMPOLINE_ARG: &str = "__sandbox-exec";
/// How long to wait for the freezer to report a state.
const FREEZE_WAIT: Duration = Duration::from_secs(2);
/// How long to wait for a killed cgroup to empty.
const EMPTY_WAIT: Duration = Duration::from_secs(5);

/// What the run's output says once when the freezer is emulated.
pub(crate) const SIGNAL_FREEZER_CAVEAT: &str = "the freezer is emulated with SIGSTOP/SIGCONT to the \
     function's process group, not the server's cgroup freezer (docker pause); unlike a frozen \
     task, a stopped one sees a blocking recv with SO_RCVTIMEO fail with EINTR after SIGCONT \
     (signal(7)), so a function that treats that as an error fails here but not on the server; \
     nor are pids.max 50 and the memory limit enforced";

/// `--sandbox`: how the run builds the function's container.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// cgroups if they can be used, else process groups and signals.
    #[default]
    Auto,
    /// cgroups, or the run cannot start.
    Cgroup,
    /// Process groups and signals, even where cgroups could be used.
    Signals,
}

impl Mode {
    /// Parses `auto`, `cgroup` or `signals`.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "auto" => Some(Self::Auto),
            "cgroup" => Some(Self::Cgroup),
            "signals" => Some(Self::Signals),
            _ => None,
        }
    }
}

/// Polls `done` every millisecond until it holds or [`FREEZE_WAIT`] passes.
fn wait_for(mut done: impl FnMut() -> io::Result<bool>) -> io::Result<()> {
    let until = Instant::now() + FREEZE_WAIT;
    loop {
        if done()? {
            return Ok(());
        }
        if Instant::now() >= until {
            return Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "the freezer did not reach the state within 2 s",
            ));
        }
        thread::sleep(Duration::from_millis(1));
    }
}

/// Polls `done` every 2 ms for at most `limit`; whether it came true.
fn wait_until(limit: Duration, mut done: impl FnMut() -> bool) -> bool {
    let until = Instant::now() + limit;
    loop {
        if done() {
            return true;
        }
        if Instant::now() >= until {
            return false;
        }
        thread::sleep(Duration::from_millis(2));
    }
}

// ------------------------------------------------------------- sandbox

/// The run's cgroup parents, removed when the last jail under them is gone.
#[derive(Debug)]
struct Parents {
    id: u64,
    version: Version,
    /// v1: freezer, pids, memory; v2: one.
    dirs: Vec<PathBuf>,
}

impl Drop for Parents {
    fn drop(&mut self) {
        for dir in &self.dirs {
            let _ = fs::remove_dir(dir);
        }
        live().parents.remove(&self.id);
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Version {
    V1,
    V2,
}

/// How the run builds the function's container (see the module doc).
#[derive(Debug)]
pub struct Sandbox {
    parents: Option<Arc<Parents>>,
    /// Every start a container on a Docker daemon instead of a process here.
    docker: Option<Arc<crate::docker::container::DockerRuntime>>,
    /// Why there are no cgroups (`None` when there are).
    fallback: Option<String>,
    trampoline: Option<PathBuf>,
    next: AtomicU64,
}

impl Sandbox {
    /// Process groups and signals, no trampoline: the library's default.
    pub fn process_groups() -> Self {
        Self {
            parents: None,
            docker: None,
            fallback: Some("not asked for".into()),
            trampoline: None,
            next: AtomicU64::new(0),
        }
    }

    /// The sandbox `mode` asks for, starting processes through
    /// `trampoline` (a program that runs [`trampoline`] when its first
    /// argument is [`TRAMPOLINE_ARG`]) if given. `Err` only for
    /// [`Mode::Cgroup`] when cgroups cannot be used (the reason).
    pub fn new(mode: Mode, trampoline: Option<PathBuf>) -> Result<Self, String> {
        let mut sandbox = Self::process_groups();
        sandbox.trampoline = trampoline;
        if mode == Mode::Signals {
            sandbox.fallback = Some("--sandbox signals".into());
            return Ok(sandbox);
        }
        match create_parents() {
            Ok(parents) => {
                sandbox.parents = Some(Arc::new(parents));
                sandbox.fallback = None;
                Ok(sandbox)
            }
            Err(why) if mode == Mode::Cgroup => Err(why),
            Err(why) => {
                sandbox.fallback = Some(why);
                Ok(sandbox)
            }
        }
    }

    /// Every start a container from `runtime`'s image on its daemon, with
    /// the server's own container configuration
    /// ([`crate::docker::spec`]): the daemon's cgroups, freezer and limits.
    pub fn docker(runtime: crate::docker::container::DockerRuntime) -> Self {
        Self {
            docker: Some(Arc::new(runtime)),
            fallback: None,
            ..Self::process_groups()
        }
    }

    /// The daemon and image every start runs in, for a docker sandbox.
    pub fn docker_runtime(&self) -> Option<&Arc<crate::docker::container::DockerRuntime>> {
        self.docker.as_ref()
    }

    /// Whether functions get cgroups (and the real freezer).
    pub fn uses_cgroups(&self) -> bool {
        self.parents.is_some() || self.docker.is_some()
    }

    /// Why functions get no cgroups (`None` when they do).
    pub fn fallback_reason(&self) -> Option<&str> {
        self.fallback.as_deref()
    }

    /// Whether processes start through the trampoline, which sets the
    /// server's ulimits ([`NOFILE`] and the others) before `exec`.
    pub fn sets_ulimits(&self) -> bool {
        self.trampoline.is_some() || self.docker.is_some()
    }

    /// One paragraph for the run's output: what the container is, and, for
    /// the fallback, how it differs from the server's.
    pub fn describe(&self) -> String {
        if let Some(docker) = &self.docker {
            return format!(
                "sandbox: a container of {} per start on the Docker daemon at {}, created as \
                 fnserver 0.3.753 creates it (uid and gid 1000, no capabilities, no new \
                 privileges, read-only root, tmpfs /tmp with the socket directory at /tmp/iofs, \
                 docker-init, no network, pids {PIDS_MAX}, nofile {NOFILE}, memory FN_MEMORY MB \
                 without swap), frozen with docker pause",
                docker.image(),
                docker.engine().endpoint()
            );
        }
        match &self.parents {
            Some(parents) => format!(
                "sandbox: a cgroup {} per process start (freezer for docker pause, pids.max \
                 {PIDS_MAX}, memory FN_MEMORY MB without swap){}",
                match parents.version {
                    Version::V1 => "v1",
                    Version::V2 => "v2",
                },
                if self.trampoline.is_some() {
                    format!(
                        ", ulimits nofile {NOFILE}, memlock {MEMLOCK}, sigpending {SIGPENDING}, \
                         msgqueue {MSGQUEUE}"
                    )
                } else {
                    String::new()
                }
            ),
            None => format!(
                "sandbox: no cgroups ({}): {SIGNAL_FREEZER_CAVEAT}",
                self.fallback.as_deref().unwrap_or("unavailable")
            ),
        }
    }

    /// A container for one process start with `memory_mb` of memory.
    pub(crate) fn jail(&self, memory_mb: u64) -> io::Result<Jail> {
        let id = next_id();
        let cgroups = match &self.parents {
            Some(parents) => {
                let n = self.next.fetch_add(1, Ordering::Relaxed) + 1;
                Some(create_jail(parents, n, memory_mb)?)
            }
            None => None,
        };
        live().jails.insert(id, (cgroups.clone(), None));
        Ok(Jail {
            id,
            cgroups,
            _parents: self.parents.clone(),
            pgid: None,
            trampoline: self.trampoline.clone(),
            memory_mb,
            container: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_parse() {
        assert_eq!(Mode::parse("auto"), Some(Mode::Auto));
        assert_eq!(Mode::parse("cgroup"), Some(Mode::Cgroup));
        assert_eq!(Mode::parse("signals"), Some(Mode::Signals));
        assert_eq!(Mode::parse("docker"), None);
    }
}
