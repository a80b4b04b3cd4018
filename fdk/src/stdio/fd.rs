//! The protocol's own descriptor: in the stdin/stdout formats, stdout
//! carries responses, so user output must go elsewhere (SIO-IO-2).

use std::fs::File;
use std::io;
use std::os::fd::{AsFd, AsRawFd};

/// Takes fd 1 for the protocol and points fd 1 at stderr.
///
/// Returns a private duplicate of the original stdout (close-on-exec, so
/// child processes do not inherit it). From then on, anything the process
/// writes to fd 1 (`println!`, a C library, a child process) lands in the
/// function's log instead of in the middle of a response, as the Java FDK
/// does with `System.out`.
pub(crate) fn claim_stdout() -> io::Result<File> {
    let protocol = io::stdout().as_fd().try_clone_to_owned()?;
    let stderr = io::stderr();
    let stdout = io::stdout();
    // Hold std's stdout lock so no `print!` is half-way through a write.
    let _lock = stdout.lock();
    redirect(stderr.as_fd().as_raw_fd(), stdout.as_fd().as_raw_fd())?;
    Ok(File::from(protocol))
}

/// `dup2(from, onto)`: std has no safe equivalent.
#[allow(unsafe_code)]
fn redirect(from: i32, onto: i32) -> io::Result<()> {
    // SAFETY: both descriptors are open for the whole call (they are the
    // process's stdout and stderr, borrowed above), and `dup2` only changes
    // which file `onto` refers to; no Rust object owns fd 1 exclusively.
    let rc = unsafe { libc::dup2(from, onto) };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}
