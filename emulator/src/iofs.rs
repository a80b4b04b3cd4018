//! Directories for the function's socket, like the agent's iofs directories:
//! each start gets a fresh, empty directory with mode 0777, inside one private
//! work directory that is removed when the run ends (or when SIGINT or
//! SIGTERM stops the harness: see [`crate::sandbox::emergency_stop`]).
//!
//! The function's output goes to a [`LogFile`] in it, whose size on disk
//! stays bounded however much the function writes, and which is only ever
//! read by its end.

use std::fs;
use std::io::{self, Read, Seek, SeekFrom};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The longest socket path a `sockaddr_un` holds (the docs' limit after `unix:`).
pub(crate) const MAX_SOCKET_PATH: usize = 107;

/// A private directory under the system temp directory, removed on drop.
#[derive(Debug)]
pub struct WorkDir {
    path: PathBuf,
    next: u32,
    /// Its key in the emergency-stop registry.
    registered: u64,
}

impl WorkDir {
    /// Creates `fdk-conformance-<pid>-<nanos>` under [`std::env::temp_dir`].
    pub fn create() -> io::Result<Self> {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let path = std::env::temp_dir().join(format!(
            "fdk-conformance-{}-{nanos:08x}",
            std::process::id()
        ));
        fs::create_dir(&path)?;
        let registered = crate::sandbox::register_dir(&path);
        Ok(Self {
            path,
            next: 0,
            registered,
        })
    }

    /// The directory's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Creates a fresh, empty directory with mode 0777 (whatever the umask),
    /// as the agent does for each container.
    pub fn fresh_iofs(&mut self) -> io::Result<PathBuf> {
        self.next += 1;
        let dir = self.path.join(format!("iofs{}", self.next));
        // Not while SIGINT or SIGTERM removes the work directory.
        crate::sandbox::unless_stopping(|| {
            fs::create_dir(&dir)?;
            fs::set_permissions(&dir, fs::Permissions::from_mode(0o777))
        })?;
        Ok(dir)
    }
}

impl Drop for WorkDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.path);
        crate::sandbox::forget_dir(self.registered);
    }
}

/// Once the log holds this much beyond what was already dropped, its start
/// is dropped (a hole punched) down to [`LOG_KEEP`].
const LOG_CAP: u64 = 32 << 20;
/// The most recent bytes a punch leaves in place.
pub(crate) const LOG_KEEP: u64 = 8 << 20;
/// How often the log's size is looked at.
const LOG_WATCH: Duration = Duration::from_millis(20);

/// The file the function's stdout and stderr are appended to.
///
/// A function may write hundreds of megabytes; the harness must neither
/// hold them (it only ever reads the end: `read_tail`) nor let them fill
/// the disk: a thread watches the size and punches a hole over everything
/// but the last `LOG_KEEP` bytes (`FALLOC_FL_PUNCH_HOLE`). Offsets stay
/// valid, the function's `O_APPEND` writes go on at the end, and the bytes
/// in the hole read as zeros, which readers skip
/// ([`dropped`](Self::dropped)). On a file system that cannot punch holes the
/// file just grows.
#[derive(Debug)]
pub struct LogFile {
    path: PathBuf,
    dropped: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
}

impl LogFile {
    /// Creates (empty) `path` and starts watching it.
    pub fn create(path: PathBuf) -> io::Result<Self> {
        fs::File::create(&path)?;
        let dropped = Arc::new(AtomicU64::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (watch_path, watch_dropped, watch_stop) =
            (path.clone(), Arc::clone(&dropped), Arc::clone(&stop));
        thread::Builder::new()
            .name("log-cap".into())
            .spawn(move || watch(&watch_path, &watch_dropped, &watch_stop))?;
        Ok(Self {
            path,
            dropped,
            stop,
        })
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Bytes before this offset were dropped.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// The file's length (dropped bytes included).
    pub fn len(&self) -> u64 {
        fs::metadata(&self.path).map_or(0, |m| m.len())
    }

    /// Waits until the file has not grown for `quiet`, for at most
    /// `limit`: for output another process copies in as it arrives.
    pub fn wait_quiet(&self, quiet: std::time::Duration, limit: std::time::Duration) {
        use std::time::{Duration, Instant};
        let until = Instant::now() + limit;
        let mut len = self.len();
        let mut still_since = Instant::now();
        while Instant::now() < until && still_since.elapsed() < quiet {
            std::thread::sleep(Duration::from_millis(5));
            let now = self.len();
            if now != len {
                len = now;
                still_since = Instant::now();
            }
        }
    }

    /// Whether nothing was ever written.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The last `max` bytes written at or after offset `from` (and not
    /// dropped), as lossy UTF-8.
    pub fn tail_since(&self, from: u64, max: usize) -> String {
        let from = from.max(self.dropped());
        String::from_utf8_lossy(&read_tail(&self.path, from, max)).into_owned()
    }
}

impl Drop for LogFile {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// The watcher of a [`LogFile`]: punches the hole whenever the kept part
/// grows past [`LOG_CAP`].
fn watch(path: &Path, dropped: &AtomicU64, stop: &AtomicBool) {
    use nix::fcntl::{FallocateFlags, fallocate};
    let Ok(file) = fs::OpenOptions::new().write(true).open(path) else {
        return;
    };
    while !stop.load(Ordering::Relaxed) {
        thread::sleep(LOG_WATCH);
        let Ok(len) = file.metadata().map(|m| m.len()) else {
            return;
        };
        let from = dropped.load(Ordering::Relaxed);
        if len.saturating_sub(from) <= LOG_CAP {
            continue;
        }
        // Whole pages, so that the file system frees the blocks.
        let to = (len - LOG_KEEP) & !4095;
        let (Ok(offset), Ok(length)) = (i64::try_from(from), i64::try_from(to - from)) else {
            return;
        };
        let flags = FallocateFlags::FALLOC_FL_PUNCH_HOLE | FallocateFlags::FALLOC_FL_KEEP_SIZE;
        if fallocate(&file, flags, offset, length).is_err() {
            // Not supported here: the readers are bounded anyway.
            return;
        }
        dropped.store(to, Ordering::Relaxed);
    }
}

/// The last `max` bytes of the file at `path` from offset `from` on (empty
/// if unreadable), reading only those bytes.
pub(crate) fn read_tail(path: &Path, from: u64, max: usize) -> Vec<u8> {
    let read = || -> io::Result<Vec<u8>> {
        let mut file = fs::File::open(path)?;
        let len = file.metadata()?.len();
        let max = u64::try_from(max).unwrap_or(u64::MAX);
        let start = from.max(len.saturating_sub(max));
        if start >= len {
            return Ok(Vec::new());
        }
        file.seek(SeekFrom::Start(start))?;
        let mut bytes = Vec::new();
        file.take(len - start).read_to_end(&mut bytes)?;
        Ok(bytes)
    };
    read().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fresh_dirs_are_0777_and_removed_with_the_work_dir() {
        let mut work = WorkDir::create().unwrap();
        let a = work.fresh_iofs().unwrap();
        let b = work.fresh_iofs().unwrap();
        assert_ne!(a, b);
        let mode = fs::metadata(&a).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o777);
        let root = work.path().to_owned();
        drop(work);
        assert!(!root.exists());
    }

    #[test]
    fn a_flooded_log_keeps_its_end_and_not_its_size() {
        use std::io::Write;
        let work = WorkDir::create().unwrap();
        let log = LogFile::create(work.path().join("log")).unwrap();
        let mut out = fs::OpenOptions::new()
            .append(true)
            .open(log.path())
            .unwrap();
        let chunk = vec![b'x'; 1 << 20];
        for _ in 0..48 {
            out.write_all(&chunk).unwrap();
        }
        out.write_all(b"the end\n").unwrap();
        let punched = (0..500).any(|_| {
            thread::sleep(Duration::from_millis(10));
            log.dropped() > 0
        });
        // tmpfs, ext4, xfs and btrfs punch holes; others may not.
        if punched {
            // Punched while being written, maybe: what is kept stays under
            // the cap either way.
            assert!(log.len() - log.dropped() <= LOG_CAP + 4096);
            use std::os::unix::fs::MetadataExt;
            let blocks = fs::metadata(log.path()).unwrap().blocks() * 512;
            assert!(blocks < 2 * LOG_CAP, "{blocks} bytes on disk");
        }
        assert_eq!(log.len(), 48 * (1 << 20) + 8);
        assert!(log.tail_since(0, 100).ends_with("xthe end\n"));
        assert_eq!(log.tail_since(log.len() - 4, 100), "end\n");
        assert_eq!(read_tail(log.path(), 0, 4), b"end\n");
    }
}
