//! A Docker daemon, through its Engine API (no docker CLI): the client, the
//! calls, and the server's own function container built with them.
//!
//! * [`client`]: one HTTP/1.1 request per connection over the daemon's
//!   unix socket or tcp (`DOCKER_HOST`), and the raw stream an attach takes
//!   over;
//! * [`engine`]: the calls (ping, image inspect and load, container create,
//!   start, inspect, pause, unpause, kill, wait, remove);
//! * [`spec`]: the container fnserver 0.3.753's docker driver creates for a
//!   hot function, field by field, with where each comes from;
//! * [`logs`]: the attach stream's frames taken apart (stdout, stderr);
//! * [`container`]: a function run in such a container, as the harness
//!   runs a process: started, frozen with pause and unpause, signalled with
//!   kill, waited for, its log collected, removed.
//!
//! `cargo fdk deploy` loads images with it; `fdk-conformance run --docker`
//! and `oracle emulate --docker` run functions with it.

pub mod client;
pub mod container;
pub mod engine;
pub mod logs;
pub mod spec;

use std::fmt;

pub use client::Endpoint;
pub use engine::Engine;

/// The daemon's socket when `DOCKER_HOST` is not set.
pub const DEFAULT_SOCKET: &str = "unix:///var/run/docker.sock";

/// What went wrong talking to a daemon (or a service reached the same way),
/// as one line; `usage` when the address itself was wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DockerError {
    message: String,
    usage: bool,
}

impl DockerError {
    /// A failure.
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            usage: false,
        }
    }

    /// A mistake in what was asked for (a bad URL, say).
    pub fn usage(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            usage: true,
        }
    }

    /// The message.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// Whether it was a mistake in what was asked for.
    pub fn is_usage(&self) -> bool {
        self.usage
    }
}

impl fmt::Display for DockerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for DockerError {}

/// `Result` with [`DockerError`].
pub type Result<T, E = DockerError> = std::result::Result<T, E>;

/// The `message` of a Docker or Fn API error body, else the body.
pub fn message_of(body: &[u8]) -> String {
    serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v.get("message").and_then(|m| m.as_str()).map(str::to_owned))
        .unwrap_or_else(|| String::from_utf8_lossy(body).trim().to_owned())
}
