//! The outcome of one conformance case, with the evidence a failure needs:
//! what was sent, what came back, what the real server would have done, and
//! the function's log lines.

use std::fmt;

use crate::level::Level;
use fn_emulator::outcome::ServerView;

/// How a case ended.
#[derive(Debug, Clone)]
pub enum Verdict {
    /// The function did what the requirement asks.
    Pass,
    /// It did not.
    Fail(Box<Failure>),
    /// The case does not apply to this function (it needs the probe
    /// protocol, or the probe's FDK cannot express the knob). Never a pass.
    NotApplicable(String),
    /// The case applies, but this run was not set up to check it (it needs
    /// an option such as `--uid`); the text says how to run it. Never a pass.
    Skipped(String),
}

impl Verdict {
    /// A failure with only a description.
    pub(crate) fn fail(what: impl Into<String>) -> Self {
        Self::Fail(Box::new(Failure::new(what)))
    }

    /// `failure`, with the function's `log` around the case.
    pub(crate) fn with_log(mut failure: Failure, log: String) -> Self {
        failure.log = log;
        Self::Fail(Box::new(failure))
    }

    /// The same verdict, a failure's description now beginning with `text`.
    #[must_use]
    pub(crate) fn prefixed(self, text: &str) -> Self {
        match self {
            Self::Fail(mut failure) => {
                failure.what.insert_str(0, text);
                Self::Fail(failure)
            }
            other => other,
        }
    }

    /// The same verdict, a failure now at `level` rather than at its case's
    /// level: for a case whose checks do not all matter equally to the real
    /// server (a `MUST` case's JSON error body is only `SHOULD`). Other
    /// verdicts are returned unchanged.
    #[must_use]
    pub(crate) fn at(self, level: Level) -> Self {
        match self {
            Self::Fail(mut failure) => {
                failure.level = Some(level);
                Self::Fail(failure)
            }
            other => other,
        }
    }
}

/// Why a case failed.
#[derive(Debug, Clone, Default)]
pub struct Failure {
    /// What was expected and what happened, in a sentence or two.
    pub(crate) what: String,
    /// The request that exposed it (head, and the first bytes of the body).
    pub(crate) sent: Option<String>,
    /// What came back: status line, headers, the first bytes of the body.
    pub(crate) got: Option<String>,
    /// What the real Fn server would have done to its client and container.
    pub(crate) server: Option<ServerView>,
    /// Which connection carried the request: reused from the harness's
    /// pool, or new (and why the pooled one was closed).
    pub(crate) connection: Option<String>,
    /// The function's output around the case.
    pub(crate) log: String,
    /// The level of the check that failed, when it is not the case's own
    /// ([`Verdict::at`]); `None` means the case's level.
    pub(crate) level: Option<Level>,
}

impl Failure {
    /// A failure described by `what`.
    pub(crate) fn new(what: impl Into<String>) -> Self {
        Self {
            what: what.into(),
            ..Self::default()
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{}", self.what)?;
        if let Some(server) = &self.server {
            writeln!(f, "real server: {server}")?;
        }
        if let Some(connection) = &self.connection {
            writeln!(f, "connection: {connection}")?;
        }
        if let Some(sent) = &self.sent {
            writeln!(f, "sent:\n{}", indent(sent))?;
        }
        if let Some(got) = &self.got {
            writeln!(f, "got:\n{}", indent(got))?;
        }
        if !self.log.trim().is_empty() {
            writeln!(f, "function log:\n{}", indent(self.log.trim_end()))?;
        }
        Ok(())
    }
}

fn indent(text: &str) -> String {
    text.lines()
        .map(|l| format!("    {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

pub(crate) use fn_emulator::show::show_bytes;
