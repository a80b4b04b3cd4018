//! How much a case's failure matters: its own file, so that verdicts
//! ([`crate::verdict`]) and cases (`case`) can both name it without
//! depending on each other.

use std::fmt;

/// How much a case's failure matters, judged by one question: would the
/// real Fn server (fnserver 0.3.753; for the stdio cases, 0.3.602) serve
/// this function's calls correctly? (`protocol-spec/http-stream.md`,
/// "Levels".) Ordered from strictest to most lenient.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    /// Breaking it makes the real server fail a call (the client gets an
    /// error status the function did not mean, or not the request or
    /// response the function saw or produced) or kill the container, in a
    /// call sequence the server really sends. Fails the run by default.
    Must,
    /// What only a good FDK does: the real server never exercises it, or is
    /// indifferent. Reported with its evidence; fails the run only with
    /// `--fail-on should` (or `may`).
    Should,
    /// Informational: requests the server never sends. Fails the run only
    /// with `--fail-on may`.
    May,
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Must => "MUST",
            Self::Should => "SHOULD",
            Self::May => "MAY",
        })
    }
}

impl Level {
    /// The lower-case word (`must`, `should`, `may`), as options take it.
    pub(crate) fn word(self) -> &'static str {
        match self {
            Self::Must => "must",
            Self::Should => "should",
            Self::May => "may",
        }
    }

    /// Parses `must`, `should` or `may` (any case).
    pub(crate) fn parse(text: &str) -> Option<Self> {
        match text.to_ascii_lowercase().as_str() {
            "must" => Some(Self::Must),
            "should" => Some(Self::Should),
            "may" => Some(Self::May),
            _ => None,
        }
    }
}
