//! What `cargo fdk run` serves, and where it listens unless told.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Instant;

use crate::funcfile::FuncFile;

/// What `cargo fdk run` serves.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// The function binary (built by `cargo fdk build`, or given).
    pub binary: PathBuf,
    /// The function's func.yaml (name, timeout, memory, config, triggers).
    pub func: FuncFile,
    /// The app name in trigger URLs (`/t/<app>/…`).
    pub app: String,
    /// Where to listen.
    pub addr: SocketAddr,
    /// Freeze the function between calls, as the server's freezer does.
    pub freeze: bool,
    /// When `cargo fdk run` started (before building), for the timings it
    /// prints.
    pub started: Instant,
    /// `--watch`: rebuild (or re-read `--binary`) on a change and swap the
    /// function, keeping the endpoint up.
    pub watch: Option<crate::watch::Source>,
    /// Start the function in the server's container where this machine
    /// can build it (not `--no-sandbox`); see [`crate::sandbox`].
    pub sandbox: bool,
}

/// Where `cargo fdk run` listens by default: the Fn server's port, on loopback.
pub fn default_addr() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 8080))
}
