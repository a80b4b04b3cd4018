//! The function's container: the sandbox it starts in, through which
//! trampoline, and what SIGINT and SIGTERM do to it.

use std::sync::Mutex;

use crate::Error;
use fn_emulator::sandbox::{self, Sandbox};

/// The sandbox `mode` asks for, started through this very binary as the
/// trampoline when it is `fdk-conformance` (see [`fn_emulator::sandbox`]).
pub(crate) fn open_sandbox(mode: sandbox::Mode) -> Result<Sandbox, Error> {
    let trampoline = TRAMPOLINE
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .clone();
    Sandbox::new(mode, trampoline)
        .map_err(|why| Error::Usage(format!("--sandbox cgroup: cgroups cannot be used: {why}")))
}

/// The program that runs [`sandbox::trampoline`] for this process, if any.
static TRAMPOLINE: Mutex<Option<std::path::PathBuf>> = Mutex::new(None);

/// Starts functions through `program` (which must run
/// [`sandbox::trampoline`] when its first argument is
/// [`sandbox::TRAMPOLINE_ARG`]); the `fdk-conformance` binary names itself.
pub fn set_trampoline(program: Option<std::path::PathBuf>) {
    *TRAMPOLINE
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner) = program;
}

/// On SIGINT or SIGTERM: thaw and kill every function process and its
/// descendants, remove the work directories and cgroups, and exit 130 or
/// 143. The handlers are installed before this returns; a thread waits for
/// the signals. Through tokio's safe handlers (the workspace denies
/// `unsafe_code`): unlike blocking the signals for a signalfd, that leaves
/// the signal mask alone, which every child would inherit (std's `Command`
/// does not reset it), and exec resets handled signals to their default.
pub(crate) fn stop_on_signals() -> std::io::Result<()> {
    use std::task::Poll;
    use tokio::signal::unix::{SignalKind, signal};
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()?;
    let (mut interrupt, mut terminate) = {
        let _context = rt.enter();
        (
            signal(SignalKind::interrupt())?,
            signal(SignalKind::terminate())?,
        )
    };
    std::thread::Builder::new()
        .name("signals".into())
        .spawn(move || {
            let (name, code) = rt.block_on(std::future::poll_fn(|cx| {
                if interrupt.poll_recv(cx).is_ready() {
                    return Poll::Ready(("SIGINT", 130));
                }
                if terminate.poll_recv(cx).is_ready() {
                    return Poll::Ready(("SIGTERM", 143));
                }
                Poll::Pending
            }));
            sandbox::emergency_stop();
            eprintln!(
                "fdk-conformance: stopped by {name}: the function and everything it started \
                 were killed, the work directory removed"
            );
            std::process::exit(code);
        })?;
    Ok(())
}
