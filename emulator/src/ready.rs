//! Readiness: the function is ready when `lsnr.sock` appears in its iofs
//! directory, and that name passes the agent's one-time check (contract §3):
//! if it is a symlink, its target is a bare name in the same directory; and
//! following it must reach a socket.
//!
//! The agent learns of the name through inotify; here it is polled with
//! `symlink_metadata` every few microseconds, sleeping in between so that a
//! driver pinned to the function's CPU leaves that CPU to the function.

use std::fmt;
use std::fs;
use std::io;
use std::os::unix::fs::FileTypeExt;
use std::path::{Path, PathBuf};
use std::process::ExitStatus;
use std::thread;
use std::time::{Duration, Instant};

use crate::iofs::MAX_SOCKET_PATH;
use crate::wire::SOCKET_NAME;

/// Why a function did not become ready.
#[derive(Debug)]
#[non_exhaustive]
pub enum StartError {
    /// Preparing the directory or log, or looking at the socket, failed.
    Setup(io::Error),
    /// The program could not be executed.
    Spawn(io::Error),
    /// The socket path would not fit in a `sockaddr_un`.
    PathTooLong(PathBuf),
    /// The process exited before `lsnr.sock` appeared.
    Exited(ExitStatus),
    /// `lsnr.sock` did not appear within the limit.
    TimedOut(Duration),
    /// `lsnr.sock` appeared but fails the agent's check.
    BadSocket(String),
}

impl fmt::Display for StartError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Setup(_) => f.write_str("could not prepare the function's directory"),
            Self::Spawn(_) => f.write_str("could not execute the function"),
            Self::PathTooLong(path) => write!(
                f,
                "socket path {path:?} is longer than {MAX_SOCKET_PATH} bytes; set TMPDIR shorter"
            ),
            Self::Exited(status) => write!(
                f,
                "function exited ({status}) before {SOCKET_NAME} appeared"
            ),
            Self::TimedOut(waited) => write!(f, "{SOCKET_NAME} did not appear within {waited:.1?}"),
            Self::BadSocket(why) => write!(f, "{why}"),
        }
    }
}

impl std::error::Error for StartError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Setup(e) | Self::Spawn(e) => Some(e),
            _ => None,
        }
    }
}

/// How long to wait for the socket, and how often to look.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadyWait {
    /// The agent's `FN_HOT_START_TIMEOUT_MSECS` (default 5 s).
    pub limit: Duration,
    /// The pause between two looks.
    pub poll: Duration,
}

impl Default for ReadyWait {
    fn default() -> Self {
        Self {
            limit: Duration::from_secs(5),
            poll: Duration::from_micros(20),
        }
    }
}

/// Waits until `socket` exists, then validates it. Returns the time from
/// `started` to the first look that saw the name.
pub(crate) fn wait_for_socket(
    exited: &mut dyn FnMut() -> io::Result<Option<ExitStatus>>,
    socket: &Path,
    started: Instant,
    wait: ReadyWait,
) -> Result<Duration, StartError> {
    loop {
        match fs::symlink_metadata(socket) {
            Ok(_) => {
                let ready_after = started.elapsed();
                validate_socket(socket)?;
                return Ok(ready_after);
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(StartError::Setup(e)),
        }
        pause_or_give_up(exited, started, wait)?;
    }
}

/// Between two looks: gives up past the limit or when the process has
/// exited, else sleeps one poll interval.
fn pause_or_give_up(
    exited: &mut dyn FnMut() -> io::Result<Option<ExitStatus>>,
    started: Instant,
    wait: ReadyWait,
) -> Result<(), StartError> {
    let waited = started.elapsed();
    if waited > wait.limit {
        return Err(StartError::TimedOut(waited));
    }
    if let Some(status) = exited().map_err(StartError::Setup)? {
        return Err(StartError::Exited(status));
    }
    thread::sleep(wait.poll);
    Ok(())
}

/// An inotify watch on the iofs directory, set up before the function
/// starts: readiness is a create or moved-to event for exactly `lsnr.sock`
/// (fsnotify maps both to `Create`), as the agent's `inotifyAwait` sees it.
/// A stale `lsnr.sock` that was there before the start does not count.
#[derive(Debug)]
pub(crate) struct SocketWatch {
    inotify: nix::sys::inotify::Inotify,
}

impl SocketWatch {
    /// Watches `dir` for new names.
    pub(crate) fn new(dir: &Path) -> io::Result<Self> {
        use nix::sys::inotify::{AddWatchFlags, InitFlags, Inotify};
        let inotify = Inotify::init(InitFlags::IN_NONBLOCK | InitFlags::IN_CLOEXEC)?;
        inotify.add_watch(dir, AddWatchFlags::IN_CREATE | AddWatchFlags::IN_MOVED_TO)?;
        Ok(Self { inotify })
    }

    /// Waits for the event, then runs the agent's check on `socket`.
    pub(crate) fn wait(
        &self,
        exited: &mut dyn FnMut() -> io::Result<Option<ExitStatus>>,
        socket: &Path,
        started: Instant,
        wait: ReadyWait,
    ) -> Result<Duration, StartError> {
        let name = socket.file_name().unwrap_or_default();
        loop {
            match self.inotify.read_events() {
                Ok(events) => {
                    if events.iter().any(|e| e.name.as_deref() == Some(name)) {
                        let ready_after = started.elapsed();
                        validate_socket(socket)?;
                        return Ok(ready_after);
                    }
                    continue;
                }
                Err(nix::errno::Errno::EAGAIN) => {}
                Err(e) => return Err(StartError::Setup(e.into())),
            }
            pause_or_give_up(exited, started, wait)?;
        }
    }
}

/// Go's `filepath.Dir(target) == "."`, the agent's test of a link target:
/// the part before the last `/`, cleaned, must be `.` (so `x`, `./x` and
/// `a/../x` pass; `/abs/x`, `../x` and `a/x` do not).
fn dir_is_dot(target: &str) -> bool {
    let Some(slash) = target.rfind('/') else {
        return true;
    };
    let dir = &target[..=slash];
    if dir.starts_with('/') {
        return false;
    }
    // Clean: drop `.` and empty parts, let `..` cancel a preceding name.
    let mut parts: Vec<&str> = Vec::new();
    for part in dir.split('/') {
        match part {
            "" | "." => {}
            ".." if parts.last().is_some_and(|p| *p != "..") => {
                parts.pop();
            }
            other => parts.push(other),
        }
    }
    parts.is_empty()
}

/// The agent's check of a new `lsnr.sock` (`checkSocketDestination`).
pub(crate) fn validate_socket(socket: &Path) -> Result<(), StartError> {
    let bad = |why: String| Err(StartError::BadSocket(why));
    let meta = fs::symlink_metadata(socket).map_err(StartError::Setup)?;
    if meta.file_type().is_symlink() {
        let target = fs::read_link(socket).map_err(StartError::Setup)?;
        if !dir_is_dot(&target.to_string_lossy()) {
            return bad(format!(
                "lsnr.sock links to {target:?}, which is not a name in the same directory"
            ));
        }
    }
    match fs::metadata(socket) {
        Ok(meta) if meta.file_type().is_socket() => Ok(()),
        Ok(_) => bad("lsnr.sock is not a socket".to_owned()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            bad("lsnr.sock is a dangling symlink".to_owned())
        }
        Err(e) => Err(StartError::Setup(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::WorkDir;
    use std::os::unix::fs::symlink;
    use std::os::unix::net::UnixListener;

    fn is_bad(result: Result<(), StartError>) -> bool {
        matches!(result, Err(StartError::BadSocket(_)))
    }

    #[test]
    fn link_targets_are_judged_like_go_filepath_dir() {
        for ok in ["x", "./x", "a/../x", ".//x"] {
            assert!(dir_is_dot(ok), "{ok}");
        }
        for bad in ["/tmp/x", "../x", "a/x", "a/b/../x", "/x"] {
            assert!(!dir_is_dot(bad), "{bad}");
        }
    }

    #[test]
    fn socket_checks() {
        let mut work = WorkDir::create().unwrap();
        let dir = work.fresh_iofs().unwrap();
        let lsnr = dir.join("lsnr.sock");
        let _listener = UnixListener::bind(dir.join("phonylsnr.sock")).unwrap();

        // The documented pattern: a relative symlink to a socket.
        symlink("phonylsnr.sock", &lsnr).unwrap();
        assert!(validate_socket(&lsnr).is_ok());

        // An absolute target, even to the right socket.
        fs::remove_file(&lsnr).unwrap();
        symlink(dir.join("phonylsnr.sock"), &lsnr).unwrap();
        assert!(is_bad(validate_socket(&lsnr)));

        // `./name` is still the same directory for the agent (Go's
        // `filepath.Dir` is "."); `sub/name` and `../name` are not.
        fs::remove_file(&lsnr).unwrap();
        symlink("./phonylsnr.sock", &lsnr).unwrap();
        assert!(validate_socket(&lsnr).is_ok());
        fs::remove_file(&lsnr).unwrap();
        symlink("../phonylsnr.sock", &lsnr).unwrap();
        assert!(is_bad(validate_socket(&lsnr)));

        // Dangling.
        fs::remove_file(&lsnr).unwrap();
        symlink("missing.sock", &lsnr).unwrap();
        assert!(is_bad(validate_socket(&lsnr)));

        // A regular file, directly or through a link.
        fs::remove_file(&lsnr).unwrap();
        fs::write(dir.join("plain"), b"").unwrap();
        symlink("plain", &lsnr).unwrap();
        assert!(is_bad(validate_socket(&lsnr)));
        fs::remove_file(&lsnr).unwrap();
        fs::write(&lsnr, b"").unwrap();
        assert!(is_bad(validate_socket(&lsnr)));

        // A socket bound directly under the name is accepted.
        fs::remove_file(&lsnr).unwrap();
        let _direct = UnixListener::bind(&lsnr).unwrap();
        assert!(validate_socket(&lsnr).is_ok());
    }
}
