//! The harness's error type: what stops a run before it can report.

use std::fmt;
use std::io;

use fn_emulator::StartError;

/// An error that stops a run. Every kind maps to exit code 2 ("the harness
/// could not run"); failed calls are not errors but part of the report.
#[derive(Debug)]
#[non_exhaustive]
pub(crate) enum Error {
    /// The command line is wrong; the text says how.
    Usage(String),
    /// A function could not be started or never became ready.
    Start {
        /// The function's name.
        name: String,
        /// What went wrong.
        source: StartError,
        /// The end of what the function wrote to stdout and stderr.
        output: String,
    },
    /// Pinning the driver to a CPU failed.
    Pin {
        /// The CPU asked for.
        cpu: usize,
        /// The system's answer.
        source: nix::Error,
    },
    /// `bench --limits` cannot apply limits that the run requires (under CI).
    Limits(String),
    /// A local operation (work directory, socket connect, …) failed.
    Io {
        /// What was being done.
        context: String,
        /// The system's answer.
        source: io::Error,
    },
}

impl Error {
    /// Builds an [`Error::Io`] with the given context.
    pub(crate) fn io(context: impl Into<String>, source: io::Error) -> Self {
        Self::Io {
            context: context.into(),
            source,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Usage(text) | Self::Limits(text) => write!(f, "{text}"),
            Self::Start { name, .. } => write!(f, "function {name:?} did not become ready"),
            Self::Pin { cpu, .. } => {
                write!(
                    f,
                    "could not pin to CPU {cpu} (pick another with --cpu, or --no-pin)"
                )
            }
            Self::Io { context, .. } => write!(f, "{context}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Usage(_) | Self::Limits(_) => None,
            Self::Start { source, .. } => Some(source),
            Self::Pin { source, .. } => Some(source),
            Self::Io { source, .. } => Some(source),
        }
    }
}

pub(crate) use fn_emulator::show::display_chain;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chain_joins_levels() {
        let e = Error::io(
            "could not create the work directory",
            io::Error::other("disk full"),
        );
        assert_eq!(
            display_chain(&e),
            "could not create the work directory: disk full"
        );
    }
}
