//! The process-wide registry of live jails and work directories, for an
//! emergency stop (SIGINT, SIGTERM) from another thread.

use super::*;
use std::collections::BTreeMap;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use crate::docker::engine::ContainerRef;
use std::thread;
use std::time::Duration;

use nix::sys::signal::{self, Signal};
use nix::unistd::Pid;

/// What an emergency stop must kill or remove.
#[derive(Debug, Default)]
pub(super) struct Live {
    /// Set by [`emergency_stop`]: no new process may start.
    pub(super) stopping: bool,
    pub(super) jails: BTreeMap<u64, (Option<CgroupDirs>, Option<i32>)>,
    pub(super) dirs: BTreeMap<u64, PathBuf>,
    pub(super) parents: BTreeMap<u64, Vec<PathBuf>>,
    /// Docker containers (`fdk-conformance run --docker`).
    pub(super) containers: BTreeMap<u64, Arc<ContainerRef>>,
}

static LIVE: Mutex<Live> = Mutex::new(Live {
    stopping: false,
    jails: BTreeMap::new(),
    dirs: BTreeMap::new(),
    parents: BTreeMap::new(),
    containers: BTreeMap::new(),
});
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

pub(super) fn live() -> MutexGuard<'static, Live> {
    // A panic elsewhere must not stop the clean-up.
    LIVE.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

pub(super) fn next_id() -> u64 {
    NEXT_ID.fetch_add(1, Ordering::Relaxed)
}

/// Records a directory to remove on an emergency stop; returns its key for
/// [`forget_dir`].
pub(crate) fn register_dir(path: &Path) -> u64 {
    let id = next_id();
    live().dirs.insert(id, path.to_owned());
    id
}

/// Runs `make` (which creates something in a recorded directory) unless an
/// emergency stop has begun, and never at the same time as one: what it
/// creates cannot appear after the stop removed the directory.
pub(crate) fn unless_stopping<T>(make: impl FnOnce() -> io::Result<T>) -> io::Result<T> {
    let live = live();
    if live.stopping {
        return Err(io::Error::new(
            io::ErrorKind::Interrupted,
            "the harness is stopping",
        ));
    }
    let made = make();
    drop(live);
    made
}

/// Creates a docker container with `create` and records it to remove on an
/// emergency stop, both under the registry's lock: a stop either comes
/// first (then nothing is created: `stopping` gives the error) or finds the
/// container recorded. Returns its key for [`forget_container`].
pub(crate) fn create_container<E>(
    stopping: impl FnOnce() -> E,
    create: impl FnOnce() -> Result<Arc<ContainerRef>, E>,
) -> Result<(u64, Arc<ContainerRef>), E> {
    let mut live = live();
    if live.stopping {
        return Err(stopping());
    }
    let container = create()?;
    let id = next_id();
    live.containers.insert(id, Arc::clone(&container));
    Ok((id, container))
}

/// Forgets a container recorded by [`create_container`].
pub(crate) fn forget_container(id: u64) {
    live().containers.remove(&id);
}

/// Forgets a directory recorded by [`register_dir`] (it was removed).
pub(crate) fn forget_dir(id: u64) {
    live().dirs.remove(&id);
}

/// Thaws and kills every function process (and its descendants) this
/// harness started, removes their cgroups and the work directories, and
/// stops any further start. For SIGINT and SIGTERM: called from the thread
/// that waits for them, while other threads may be in the middle of a call.
pub fn emergency_stop() {
    let mut live = live();
    live.stopping = true;
    for (cgroups, pgid) in live.jails.values() {
        if let Some(pgid) = pgid {
            let _ = signal::killpg(Pid::from_raw(*pgid), Signal::SIGKILL);
        }
        if let Some(dirs) = cgroups {
            dirs.kill();
            dirs.remove();
        }
    }
    live.jails.clear();
    for container in live.containers.values() {
        container.remove();
    }
    live.containers.clear();
    for dir in live.dirs.values() {
        // Another thread may still be writing into it (a log line, a
        // failure's evidence): try again while it reappears.
        for _ in 0..5 {
            let _ = fs::remove_dir_all(dir);
            if !dir.exists() {
                break;
            }
            thread::sleep(Duration::from_millis(20));
        }
    }
    live.dirs.clear();
    for parents in live.parents.values() {
        for parent in parents {
            let _ = fs::remove_dir(parent);
        }
    }
    live.parents.clear();
}
