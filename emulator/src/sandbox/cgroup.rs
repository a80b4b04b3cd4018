//! The cgroups of a sandbox: finding the hierarchies, the run's parents and
//! one cgroup per start with the server's limits, freezing and emptying.

use super::*;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use nix::sys::signal::{self, Signal};
use nix::unistd::Pid;

/// A cgroup controller the sandbox uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Controller {
    Freezer,
    Pids,
    Memory,
}

impl Controller {
    pub(super) fn name(self) -> &'static str {
        match self {
            Self::Freezer => "freezer",
            Self::Pids => "pids",
            Self::Memory => "memory",
        }
    }
}

/// The cgroups of one process start.
#[derive(Debug, Clone)]
pub(super) enum CgroupDirs {
    /// One directory per v1 hierarchy.
    V1 {
        freezer: PathBuf,
        pids: PathBuf,
        memory: PathBuf,
    },
    /// One v2 directory.
    V2(PathBuf),
}

impl CgroupDirs {
    pub(super) fn all(&self) -> Vec<&Path> {
        match self {
            Self::V1 {
                freezer,
                pids,
                memory,
            } => vec![freezer, pids, memory],
            Self::V2(dir) => vec![dir],
        }
    }

    /// Every PID in the cgroups (a process may be caught between two
    /// hierarchies while it joins them).
    pub(super) fn pids(&self) -> Vec<i32> {
        let mut pids: Vec<i32> = Vec::new();
        for dir in self.all() {
            if let Ok(text) = fs::read_to_string(dir.join("cgroup.procs")) {
                for pid in text.lines().filter_map(|l| l.trim().parse().ok()) {
                    if !pids.contains(&pid) {
                        pids.push(pid);
                    }
                }
            }
        }
        pids
    }

    /// Freezes, waiting until the kernel says every task is frozen.
    pub(super) fn freeze(&self) -> io::Result<()> {
        self.set_frozen(true)
    }

    /// Thaws, waiting until the kernel says it is done.
    pub(super) fn thaw(&self) -> io::Result<()> {
        self.set_frozen(false)
    }

    /// Freezes or thaws, and waits until the kernel says it is done.
    fn set_frozen(&self, frozen: bool) -> io::Result<()> {
        match self {
            Self::V1 { freezer, .. } => {
                let state = if frozen { "FROZEN" } else { "THAWED" };
                fs::write(freezer.join("freezer.state"), state)?;
                wait_for(|| {
                    fs::read_to_string(freezer.join("freezer.state")).map(|s| s.trim() == state)
                })
            }
            Self::V2(dir) => {
                let value = if frozen { "1" } else { "0" };
                fs::write(dir.join("cgroup.freeze"), value)?;
                let event = format!("frozen {value}");
                wait_for(|| {
                    fs::read_to_string(dir.join("cgroup.events"))
                        .map(|s| s.lines().any(|l| l.trim() == event))
                })
            }
        }
    }

    /// The forced removal: freeze (so that nothing forks meanwhile),
    /// SIGKILL every task, thaw (a v1-frozen task does not die until
    /// thawed), wait until empty.
    pub(super) fn kill(&self) {
        let _ = self.freeze();
        for _ in 0..3 {
            for pid in self.pids() {
                let _ = signal::kill(Pid::from_raw(pid), Signal::SIGKILL);
            }
            let _ = self.thaw();
            if wait_until(EMPTY_WAIT / 3, || self.pids().is_empty()) {
                return;
            }
        }
    }

    /// Removes the (empty) directories; a directory still busy is retried
    /// for a moment, then left.
    pub(super) fn remove(&self) {
        for dir in self.all() {
            let _ = wait_until(Duration::from_secs(1), || match fs::remove_dir(dir) {
                Ok(()) => true,
                Err(e) => e.kind() == io::ErrorKind::NotFound,
            });
        }
    }

    /// How many times the kernel's OOM killer struck in the cgroup.
    pub(super) fn oom_kills(&self) -> Option<u64> {
        let (file, dir) = match self {
            Self::V1 { memory, .. } => ("memory.oom_control", memory),
            Self::V2(dir) => ("memory.events", dir),
        };
        let text = fs::read_to_string(dir.join(file)).ok()?;
        text.lines()
            .find_map(|l| l.strip_prefix("oom_kill "))
            .and_then(|n| n.trim().parse().ok())
    }
}

/// The mount point and root of each cgroup hierarchy, from
/// `/proc/self/mountinfo`: (fstype, super options, mount root, mount point).
pub(super) fn cgroup_mounts() -> io::Result<Vec<(String, String, PathBuf, PathBuf)>> {
    let text = fs::read_to_string("/proc/self/mountinfo")?;
    let mut mounts = Vec::new();
    for line in text.lines() {
        let Some((left, right)) = line.split_once(" - ") else {
            continue;
        };
        let left: Vec<&str> = left.split(' ').collect();
        let right: Vec<&str> = right.split(' ').collect();
        let (Some(root), Some(point), Some(fstype), Some(opts)) =
            (left.get(3), left.get(4), right.first(), right.get(2))
        else {
            continue;
        };
        if *fstype == "cgroup" || *fstype == "cgroup2" {
            mounts.push((
                (*fstype).to_owned(),
                (*opts).to_owned(),
                PathBuf::from(unescape_mount(root)),
                PathBuf::from(unescape_mount(point)),
            ));
        }
    }
    Ok(mounts)
}

/// mountinfo escapes space, tab, newline and backslash as `\ooo`.
pub(super) fn unescape_mount(field: &str) -> String {
    field
        .replace("\\040", " ")
        .replace("\\011", "\t")
        .replace("\\012", "\n")
        .replace("\\134", "\\")
}

/// The harness's own cgroup in each hierarchy, from `/proc/self/cgroup`:
/// (controllers, path); v2's line has no controllers.
pub(super) fn own_cgroups() -> io::Result<Vec<(String, String)>> {
    let text = fs::read_to_string("/proc/self/cgroup")?;
    Ok(text
        .lines()
        .filter_map(|line| {
            let mut parts = line.splitn(3, ':');
            let _id = parts.next()?;
            let controllers = parts.next()?.to_owned();
            let path = parts.next()?.to_owned();
            Some((controllers, path))
        })
        .collect())
}

/// `<mount point>/<own path relative to the mount's root>`.
pub(super) fn own_dir(point: &Path, root: &Path, own: &str) -> PathBuf {
    let own = Path::new(own);
    let relative = own.strip_prefix(root).unwrap_or(own);
    let relative = relative.strip_prefix("/").unwrap_or(relative);
    point.join(relative)
}

/// A name no other run (in this or another PID namespace) has.
pub(super) fn run_name() -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!("fdk-conformance-{}-{nanos:08x}", std::process::id())
}

/// Creates the run's parent cgroups, or says why it cannot.
pub(super) fn create_parents() -> Result<Parents, String> {
    if !nix::unistd::geteuid().is_root() {
        return Err("not root".into());
    }
    let mounts = cgroup_mounts().map_err(|e| format!("cannot read mountinfo: {e}"))?;
    let own = own_cgroups().map_err(|e| format!("cannot read /proc/self/cgroup: {e}"))?;
    let name = run_name();
    let v1 = |controller: Controller| -> Option<PathBuf> {
        let ctrl = controller.name();
        let (_, _, root, point) = mounts
            .iter()
            .find(|(t, opts, _, _)| t == "cgroup" && opts.split(',').any(|o| o == ctrl))?;
        let (_, path) = own
            .iter()
            .find(|(list, _)| list.split(',').any(|c| c == ctrl))?;
        Some(own_dir(point, root, path).join(&name))
    };
    if let (Some(freezer), Some(pids), Some(memory)) = (
        v1(Controller::Freezer),
        v1(Controller::Pids),
        v1(Controller::Memory),
    ) {
        let id = next_id();
        let dirs = vec![freezer, pids, memory];
        live().parents.insert(id, dirs.clone());
        let mut parents = Parents {
            id,
            version: Version::V1,
            dirs: Vec::new(),
        };
        for dir in &dirs {
            // Two controllers mounted together share a directory.
            if parents.dirs.contains(dir) {
                continue;
            }
            if let Err(e) = fs::create_dir(dir) {
                return Err(format!("cannot create {}: {e}", dir.display()));
            }
            parents.dirs.push(dir.clone());
        }
        return Ok(parents);
    }
    // v2: the controllers can only be delegated below a cgroup without
    // processes, so the run's parent goes under the hierarchy's root.
    let Some((_, _, _, point)) = mounts.iter().find(|(t, _, _, _)| t == "cgroup2") else {
        return Err("no cgroup v1 freezer, pids and memory hierarchies, nor cgroup v2".into());
    };
    let controllers = fs::read_to_string(point.join("cgroup.controllers")).unwrap_or_default();
    let has = |c: &str| controllers.split_whitespace().any(|x| x == c);
    if !has("memory") || !has("pids") {
        return Err(format!(
            "cgroup v2 at {} lacks the memory or pids controller",
            point.display()
        ));
    }
    let dir = point.join(&name);
    let id = next_id();
    live().parents.insert(id, vec![dir.clone()]);
    fs::create_dir(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let parents = Parents {
        id,
        version: Version::V2,
        dirs: vec![dir.clone()],
    };
    fs::write(dir.join("cgroup.subtree_control"), "+memory +pids")
        .map_err(|e| format!("cannot enable memory and pids in {}: {e}", dir.display()))?;
    Ok(parents)
}

/// Creates `<parent>/<n>` in every hierarchy with the server's limits.
pub(super) fn create_jail(parents: &Parents, n: u64, memory_mb: u64) -> io::Result<CgroupDirs> {
    let bytes = (memory_mb.max(4) * 1024 * 1024).to_string();
    let context = |dir: &Path, what: &'static str| {
        let dir = dir.to_owned();
        move |e: io::Error| io::Error::new(e.kind(), format!("{what} {}: {e}", dir.display()))
    };
    match parents.version {
        Version::V1 => {
            let [freezer, pids, memory] = [0, 1, 2].map(|i| {
                parents
                    .dirs
                    .get(i)
                    .map(|p| p.join(n.to_string()))
                    .unwrap_or_default()
            });
            let dirs = CgroupDirs::V1 {
                freezer: freezer.clone(),
                pids: pids.clone(),
                memory: memory.clone(),
            };
            for (i, dir) in [&freezer, &pids, &memory].into_iter().enumerate() {
                // Two controllers mounted together share a directory.
                if [&freezer, &pids][..i.min(2)].contains(&dir) {
                    continue;
                }
                if let Err(e) = fs::create_dir(dir) {
                    dirs.remove();
                    return Err(context(dir, "cannot create")(e));
                }
            }
            let set = |dir: &Path, file: &str, value: &str| {
                fs::write(dir.join(file), value).map_err(context(&dir.join(file), "cannot set"))
            };
            let made = set(&pids, "pids.max", &PIDS_MAX.to_string())
                .and_then(|()| set(&memory, "memory.limit_in_bytes", &bytes))
                .and_then(|()| {
                    // memory+swap = memory: no swap. Absent when the kernel
                    // accounts no swap (then there is none to forbid).
                    if memory.join("memory.memsw.limit_in_bytes").exists() {
                        set(&memory, "memory.memsw.limit_in_bytes", &bytes)
                    } else {
                        Ok(())
                    }
                });
            // docker sets swappiness 0; not every kernel lets a child set it.
            let _ = fs::write(memory.join("memory.swappiness"), "0");
            if let Err(e) = made {
                dirs.remove();
                return Err(e);
            }
            Ok(dirs)
        }
        Version::V2 => {
            let parent = parents.dirs.first().cloned().unwrap_or_default();
            let dir = parent.join(n.to_string());
            fs::create_dir(&dir).map_err(context(&dir, "cannot create"))?;
            let dirs = CgroupDirs::V2(dir.clone());
            let set = |file: &str, value: &str| {
                fs::write(dir.join(file), value).map_err(context(&dir.join(file), "cannot set"))
            };
            let made = set("pids.max", &PIDS_MAX.to_string())
                .and_then(|()| set("memory.max", &bytes))
                .and_then(|()| {
                    if dir.join("memory.swap.max").exists() {
                        set("memory.swap.max", "0")
                    } else {
                        Ok(())
                    }
                });
            if let Err(e) = made {
                dirs.remove();
                return Err(e);
            }
            Ok(dirs)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_dir_is_relative_to_the_mount_root() {
        assert_eq!(
            own_dir(Path::new("/sys/fs/cgroup/memory"), Path::new("/"), "/a/b"),
            Path::new("/sys/fs/cgroup/memory/a/b")
        );
        assert_eq!(
            own_dir(Path::new("/sys/fs/cgroup/memory"), Path::new("/a"), "/a/b"),
            Path::new("/sys/fs/cgroup/memory/b")
        );
        assert_eq!(
            own_dir(Path::new("/sys/fs/cgroup/freezer"), Path::new("/"), "/"),
            Path::new("/sys/fs/cgroup/freezer")
        );
    }
}
