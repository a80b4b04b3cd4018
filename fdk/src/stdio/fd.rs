//! The protocol's own descriptor: in the stdin/stdout formats, stdout
//! carries responses, so user output must go elsewhere (SIO-IO-2).

use std::fs::File;
use std::io;
use std::os::fd::AsFd;

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
    // `dup2(2, 1)`: std has no safe call for it; rustix's is safe because
    // fd 1 stays open (it only changes which file it refers to).
    rustix::stdio::dup2_stdout(stderr.as_fd())?;
    Ok(File::from(protocol))
}
