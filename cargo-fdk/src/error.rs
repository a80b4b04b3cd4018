//! One error type: a single line for the user, and whether it was a usage
//! mistake (exit 2) or a failure (exit 1).

use std::fmt;
use std::path::Path;

/// What went wrong, as one line a user can act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    message: String,
    usage: bool,
}

impl Error {
    /// A failure: the command could not do its job (exit code 1).
    pub fn new(message: impl Into<String>) -> Self {
        Error {
            message: message.into(),
            usage: false,
        }
    }

    /// A mistake in the command line (exit code 2).
    pub fn usage(message: impl Into<String>) -> Self {
        Error {
            message: message.into(),
            usage: true,
        }
    }

    /// An I/O error on `path`, with what was being done (`"read"`, `"write"`, …).
    pub fn io(action: &str, path: &Path, err: &std::io::Error) -> Self {
        Error::new(format!("cannot {action} {}: {err}", path.display()))
    }

    /// The message, without the `error: ` prefix.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// True for command-line mistakes.
    pub fn is_usage(&self) -> bool {
        self.usage
    }

    /// The process exit code for this error: 2 for usage, 1 otherwise.
    pub fn exit_code(&self) -> u8 {
        if self.usage { 2 } else { 1 }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
