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
//!   process group. That differs (see [`SIGNAL_FREEZER_CAVEAT`]): a blocking
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
//! Killing ([`Jail::kill`]) is the server's forced removal: cgroups: freeze,
//! SIGKILL every PID in `cgroup.procs`, thaw, wait until empty, `rmdir`;
//! otherwise SIGKILL to the process group. Either way the function's
//! descendants go too (in the fallback, unless one left the group).
//!
//! Every live cgroup, process group and work directory is also recorded in
//! one process-wide registry, so that a SIGINT or SIGTERM to the harness
//! ([`emergency_stop`]) can thaw and kill them all and remove the
//! directories from another thread before the harness exits.

use std::collections::BTreeMap;
use std::ffi::{OsStr, OsString};
use std::fmt;
use std::fs;
use std::io;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use nix::sys::signal::{self, Signal};
use nix::unistd::Pid;

/// The server's `FN_MAX_PIDS` default: tasks, threads included.
pub const PIDS_MAX: u64 = 50;
/// The server's `nofile` ulimit.
pub const NOFILE: u64 = 350;
/// The server's `memlock` ulimit, in bytes.
pub const MEMLOCK: u64 = 64 * 1024;
/// The server's `sigpending` ulimit.
pub const SIGPENDING: u64 = 5000;
/// The server's `msgqueue` ulimit, in bytes.
pub const MSGQUEUE: u64 = 819_200;
/// The fn's default memory, MB (`FN_MEMORY`).
pub const DEFAULT_MEMORY_MB: u64 = 128;
/// The hidden first argument that makes `fdk-conformance` a trampoline.
pub const TRAMPOLINE_ARG: &str = "__sandbox-exec";
/// How long to wait for the freezer to report a state.
const FREEZE_WAIT: Duration = Duration::from_secs(2);
/// How long to wait for a killed cgroup to empty.
const EMPTY_WAIT: Duration = Duration::from_secs(5);

/// What the run's output says once when the freezer is emulated.
pub const SIGNAL_FREEZER_CAVEAT: &str = "the freezer is emulated with SIGSTOP/SIGCONT to the \
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

/// A cgroup controller the sandbox uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Controller {
    Freezer,
    Pids,
    Memory,
}

impl Controller {
    fn name(self) -> &'static str {
        match self {
            Self::Freezer => "freezer",
            Self::Pids => "pids",
            Self::Memory => "memory",
        }
    }
}

/// The cgroups of one process start.
#[derive(Debug, Clone)]
enum CgroupDirs {
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
    fn all(&self) -> Vec<&Path> {
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
    fn pids(&self) -> Vec<i32> {
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
    fn freeze(&self) -> io::Result<()> {
        match self {
            Self::V1 { freezer, .. } => {
                fs::write(freezer.join("freezer.state"), "FROZEN")?;
                wait_for(|| {
                    fs::read_to_string(freezer.join("freezer.state")).map(|s| s.trim() == "FROZEN")
                })
            }
            Self::V2(dir) => {
                fs::write(dir.join("cgroup.freeze"), "1")?;
                wait_for(|| {
                    fs::read_to_string(dir.join("cgroup.events"))
                        .map(|s| s.lines().any(|l| l.trim() == "frozen 1"))
                })
            }
        }
    }

    /// Thaws, waiting until the kernel says it is done.
    fn thaw(&self) -> io::Result<()> {
        match self {
            Self::V1 { freezer, .. } => {
                fs::write(freezer.join("freezer.state"), "THAWED")?;
                wait_for(|| {
                    fs::read_to_string(freezer.join("freezer.state")).map(|s| s.trim() == "THAWED")
                })
            }
            Self::V2(dir) => {
                fs::write(dir.join("cgroup.freeze"), "0")?;
                wait_for(|| {
                    fs::read_to_string(dir.join("cgroup.events"))
                        .map(|s| s.lines().any(|l| l.trim() == "frozen 0"))
                })
            }
        }
    }

    /// The forced removal: freeze (so that nothing forks meanwhile),
    /// SIGKILL every task, thaw (a v1-frozen task does not die until
    /// thawed), wait until empty.
    fn kill(&self) {
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
    fn remove(&self) {
        for dir in self.all() {
            let _ = wait_until(Duration::from_secs(1), || match fs::remove_dir(dir) {
                Ok(()) => true,
                Err(e) => e.kind() == io::ErrorKind::NotFound,
            });
        }
    }

    /// How many times the kernel's OOM killer struck in the cgroup.
    fn oom_kills(&self) -> Option<u64> {
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

// ------------------------------------------------------------- registry

/// What an emergency stop must kill or remove.
#[derive(Debug, Default)]
struct Live {
    /// Set by [`emergency_stop`]: no new process may start.
    stopping: bool,
    jails: BTreeMap<u64, (Option<CgroupDirs>, Option<i32>)>,
    dirs: BTreeMap<u64, PathBuf>,
    parents: BTreeMap<u64, Vec<PathBuf>>,
}

static LIVE: Mutex<Live> = Mutex::new(Live {
    stopping: false,
    jails: BTreeMap::new(),
    dirs: BTreeMap::new(),
    parents: BTreeMap::new(),
});
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

fn live() -> MutexGuard<'static, Live> {
    // A panic elsewhere must not stop the clean-up.
    LIVE.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn next_id() -> u64 {
    NEXT_ID.fetch_add(1, Ordering::Relaxed)
}

/// Records a directory to remove on an emergency stop; returns its key for
/// [`forget_dir`].
pub fn register_dir(path: &Path) -> u64 {
    let id = next_id();
    live().dirs.insert(id, path.to_owned());
    id
}

/// Runs `make` (which creates something in a recorded directory) unless an
/// emergency stop has begun, and never at the same time as one: what it
/// creates cannot appear after the stop removed the directory.
pub fn unless_stopping<T>(make: impl FnOnce() -> io::Result<T>) -> io::Result<T> {
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

/// Forgets a directory recorded by [`register_dir`] (it was removed).
pub fn forget_dir(id: u64) {
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

    /// Whether functions get cgroups (and the real freezer).
    pub fn uses_cgroups(&self) -> bool {
        self.parents.is_some()
    }

    /// Why functions get no cgroups (`None` when they do).
    pub fn fallback_reason(&self) -> Option<&str> {
        self.fallback.as_deref()
    }

    /// Whether processes start through the trampoline, which sets the
    /// server's ulimits ([`NOFILE`] and the others) before `exec`.
    pub fn sets_ulimits(&self) -> bool {
        self.trampoline.is_some()
    }

    /// One paragraph for the run's output: what the container is, and, for
    /// the fallback, how it differs from the server's.
    pub fn describe(&self) -> String {
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
    pub fn jail(&self, memory_mb: u64) -> io::Result<Jail> {
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
        })
    }
}

/// The mount point and root of each cgroup hierarchy, from
/// `/proc/self/mountinfo`: (fstype, super options, mount root, mount point).
fn cgroup_mounts() -> io::Result<Vec<(String, String, PathBuf, PathBuf)>> {
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
fn unescape_mount(field: &str) -> String {
    field
        .replace("\\040", " ")
        .replace("\\011", "\t")
        .replace("\\012", "\n")
        .replace("\\134", "\\")
}

/// The harness's own cgroup in each hierarchy, from `/proc/self/cgroup`:
/// (controllers, path); v2's line has no controllers.
fn own_cgroups() -> io::Result<Vec<(String, String)>> {
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
fn own_dir(point: &Path, root: &Path, own: &str) -> PathBuf {
    let own = Path::new(own);
    let relative = own.strip_prefix(root).unwrap_or(own);
    let relative = relative.strip_prefix("/").unwrap_or(relative);
    point.join(relative)
}

/// A name no other run (in this or another PID namespace) has.
fn run_name() -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!("fdk-conformance-{}-{nanos:08x}", std::process::id())
}

/// Creates the run's parent cgroups, or says why it cannot.
fn create_parents() -> Result<Parents, String> {
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
fn create_jail(parents: &Parents, n: u64, memory_mb: u64) -> io::Result<CgroupDirs> {
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

// ------------------------------------------------------------- jail

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
    id: u64,
    cgroups: Option<CgroupDirs>,
    /// Keeps the run's parents until the last jail is gone.
    _parents: Option<Arc<Parents>>,
    pgid: Option<i32>,
    trampoline: Option<PathBuf>,
    memory_mb: u64,
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
    pub fn command(&self, target: &Target<'_>) -> Command {
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
    pub fn spawn(&mut self, cmd: &mut Command) -> io::Result<Child> {
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

    /// Whether the jail has cgroups (and the real freezer).
    pub fn has_cgroups(&self) -> bool {
        self.cgroups.is_some()
    }

    /// The memory limit, MB.
    pub fn memory_mb(&self) -> u64 {
        self.memory_mb
    }

    /// `docker pause`: the cgroup freezer (returns once every task is
    /// frozen), or SIGSTOP to the process group.
    pub fn freeze(&mut self) -> io::Result<()> {
        self.freezer().freeze()
    }

    /// `docker unpause`.
    pub fn thaw(&mut self) -> io::Result<()> {
        self.freezer().thaw()
    }

    /// A handle that freezes and thaws this jail from another thread: the
    /// server's freezer pauses a container 50 ms after a call, on a timer.
    pub fn freezer(&self) -> Freezable {
        Freezable {
            cgroups: self.cgroups.clone(),
            pgid: self.pgid,
        }
    }

    /// Sends `signal` to the whole process group.
    pub fn signal_group(&self, signal: Signal) -> io::Result<()> {
        let pgid = self
            .pgid
            .ok_or_else(|| io::Error::other("the jail has no process"))?;
        signal::killpg(Pid::from_raw(pgid), signal).map_err(io::Error::from)
    }

    /// The PIDs in the jail: its cgroups' members, or the live members of
    /// its process group.
    pub fn pids(&self) -> Vec<i32> {
        match &self.cgroups {
            Some(dirs) => dirs.pids(),
            None => self.pgid.map(group_members).unwrap_or_default(),
        }
    }

    /// How many times the kernel's OOM killer struck in the jail (cgroups
    /// only).
    pub fn oom_kills(&self) -> Option<u64> {
        self.cgroups.as_ref().and_then(CgroupDirs::oom_kills)
    }

    /// The server's forced removal: every process in the jail is killed
    /// (thawed as needed) and gone when this returns, as far as the kernel
    /// lets it be waited for (zombies of the direct child aside, which its
    /// parent reaps).
    pub fn kill(&mut self) {
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
pub struct Freezable {
    cgroups: Option<CgroupDirs>,
    pgid: Option<i32>,
}

impl Freezable {
    /// `docker pause` (see [`Jail::freeze`]).
    pub fn freeze(&self) -> io::Result<()> {
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
    pub fn thaw(&self) -> io::Result<()> {
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

// ------------------------------------------------------------- trampoline

/// `fdk-conformance __sandbox-exec [--join FILE]... [--parent PID]
/// [--uid N] [--cwd DIR] -- PROGRAM ARGS...`: joins the cgroups (writing its
/// PID to each `cgroup.procs` FILE), sets the server's ulimits, drops to the
/// uid, asks for SIGKILL when the harness thread that started it dies, then
/// execs PROGRAM under the same PID with the environment it was given.
/// Returns only on failure (exit 127, the reason on stderr, which is the
/// function's log).
pub fn trampoline<I: IntoIterator<Item = OsString>>(args: I) -> ExitCode {
    match prepare_and_exec(args) {
        Ok(never) => match never {},
        Err(why) => {
            eprintln!("fdk-conformance sandbox: {why}");
            ExitCode::from(127)
        }
    }
}

/// Never returns `Ok`: exec replaces the process.
enum Never {}

fn prepare_and_exec<I: IntoIterator<Item = OsString>>(args: I) -> Result<Never, String> {
    use nix::sys::resource::{Resource, getrlimit, setrlimit};
    let mut args = args.into_iter();
    let mut joins = Vec::new();
    let mut parent = None;
    let mut uid = None;
    let mut cwd = None;
    let number = |v: Option<OsString>, what: &str| -> Result<u32, String> {
        v.and_then(|v| v.to_str()?.parse().ok())
            .ok_or_else(|| format!("{what} needs a number"))
    };
    loop {
        let Some(arg) = args.next() else {
            return Err("no program after --".into());
        };
        match arg.to_str() {
            Some("--join") => joins.push(args.next().ok_or("--join needs a file")?),
            Some("--parent") => parent = Some(number(args.next(), "--parent")?),
            Some("--uid") => uid = Some(number(args.next(), "--uid")?),
            Some("--cwd") => cwd = Some(args.next().ok_or("--cwd needs a directory")?),
            Some("--") => break,
            _ => return Err(format!("unknown argument {arg:?}")),
        }
    }
    let program = args.next().ok_or("no program after --")?;
    let me = std::process::id().to_string();
    for file in &joins {
        fs::write(file, &me).map_err(|e| format!("cannot join {file:?}: {e}"))?;
    }
    // The server's ulimits (soft and hard), never above what we have.
    for (resource, value) in [
        (Resource::RLIMIT_NOFILE, NOFILE),
        (Resource::RLIMIT_MEMLOCK, MEMLOCK),
        (Resource::RLIMIT_SIGPENDING, SIGPENDING),
        (Resource::RLIMIT_MSGQUEUE, MSGQUEUE),
    ] {
        let (_, hard) = getrlimit(resource).map_err(|e| format!("getrlimit: {e}"))?;
        let value = value.min(hard);
        setrlimit(resource, value, value)
            .map_err(|e| format!("cannot set the {resource:?} limit: {e}"))?;
    }
    if let Some(uid) = uid {
        use nix::unistd::{Gid, Uid, setgid, setgroups, setuid};
        setgroups(&[]).map_err(|e| format!("setgroups: {e}"))?;
        setgid(Gid::from_raw(uid)).map_err(|e| format!("setgid {uid}: {e}"))?;
        setuid(Uid::from_raw(uid)).map_err(|e| format!("setuid {uid}: {e}"))?;
    }
    // After the uid change, which clears it. The harness thread that
    // started us may already be gone: then so must we.
    nix::sys::prctl::set_pdeathsig(Signal::SIGKILL).map_err(|e| format!("prctl: {e}"))?;
    if let Some(parent) = parent
        && u32::try_from(nix::unistd::getppid().as_raw()).ok() != Some(parent)
    {
        return Err("the harness is gone".into());
    }
    let mut cmd = Command::new(&program);
    cmd.args(args);
    if let Some(cwd) = cwd {
        cmd.current_dir(cwd);
    }
    let e = cmd.exec();
    Err(format!("could not execute {program:?}: {e}"))
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

    #[test]
    fn modes_parse() {
        assert_eq!(Mode::parse("auto"), Some(Mode::Auto));
        assert_eq!(Mode::parse("cgroup"), Some(Mode::Cgroup));
        assert_eq!(Mode::parse("signals"), Some(Mode::Signals));
        assert_eq!(Mode::parse("docker"), None);
    }

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
