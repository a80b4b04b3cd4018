//! The case catalog: every check the harness runs, with a stable id, a
//! level, the `protocol-spec` requirements it checks and a one-line title.
//!
//! Black-box cases need only a function that starts; probe cases need the
//! function to speak the probe protocol (`protocol-spec/probe.md`) and are
//! *not applicable* otherwise.

mod lifecycle;
mod requests;
mod responses;
mod startup;
pub mod stdio;

use std::fmt;

use crate::harness::{Exchange, Harness, unsupported};
use crate::verdict::Verdict;

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
    pub fn word(self) -> &'static str {
        match self {
            Self::Must => "must",
            Self::Should => "should",
            Self::May => "may",
        }
    }

    /// Parses `must`, `should` or `may` (any case).
    pub fn parse(text: &str) -> Option<Self> {
        match text.to_ascii_lowercase().as_str() {
            "must" => Some(Self::Must),
            "should" => Some(Self::Should),
            "may" => Some(Self::May),
            _ => None,
        }
    }
}

/// What a case needs of the function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Needs {
    /// Nothing: any function that starts.
    Nothing,
    /// The probe protocol.
    Probe,
}

/// A case's body: `Ok` passes, `Err` carries the failure (or why the case
/// does not apply).
pub type CaseResult = Result<(), Verdict>;

/// One conformance case.
#[derive(Clone, Copy)]
pub struct Case {
    /// Stable id, `<group>.<name>`.
    pub id: &'static str,
    /// How much a failure matters (the level of its main check; a failure
    /// of one of its other checks may carry a level of its own, see
    /// [`Verdict::at`]).
    pub level: Level,
    /// The requirement ids of `protocol-spec/http-stream.md` it checks.
    pub requirements: &'static [&'static str],
    /// One line: what a passing function does.
    pub title: &'static str,
    /// What it needs of the function.
    pub needs: Needs,
    /// The check.
    pub run: fn(&mut Harness) -> CaseResult,
}

impl fmt::Debug for Case {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Case")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

/// Every case, in run order: black-box start-up first, then requests,
/// responses and the connection's life.
pub fn catalog() -> Vec<Case> {
    let mut all = Vec::new();
    all.extend(startup::CASES);
    all.extend(requests::CASES);
    all.extend(responses::CASES);
    all.extend(lifecycle::CASES);
    all
}

/// Not applicable unless the function speaks the probe protocol.
fn needs_probe(h: &Harness) -> CaseResult {
    if h.has_probe() {
        Ok(())
    } else {
        Err(Verdict::NotApplicable(
            "needs a probe function (protocol-spec/probe.md); run with --probe".into(),
        ))
    }
}

/// Not applicable if the probe said it cannot do what was asked.
fn supported(ex: &Exchange) -> CaseResult {
    match unsupported(ex) {
        Some(op) => Err(Verdict::NotApplicable(format!(
            "the probe's FDK cannot express `{op}`"
        ))),
        None => Ok(()),
    }
}

/// The call must have been answered with socket status 200.
fn expect_200(h: &Harness, ex: &Exchange) -> CaseResult {
    supported(ex)?;
    match ex.status() {
        Some(200) => Ok(()),
        _ => Err(h.failed("expected socket status 200", ex)),
    }
}

/// The probe's `report` answer, parsed.
fn report(h: &Harness, ex: &Exchange) -> Result<serde_json::Value, Verdict> {
    expect_200(h, ex)?;
    let body = ex.response().map(|r| r.body.as_slice()).unwrap_or_default();
    serde_json::from_slice(body)
        .map_err(|e| h.failed(format!("the probe's report is not JSON: {e}"), ex))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn ids_are_unique_and_cite_requirements() {
        let cases = catalog();
        let ids: HashSet<_> = cases.iter().map(|c| c.id).collect();
        assert_eq!(ids.len(), cases.len());
        let spec = include_str!("../../../protocol-spec/http-stream.md");
        for case in &cases {
            assert!(case.id.contains('.'), "{}", case.id);
            assert!(!case.requirements.is_empty(), "{}", case.id);
            for req in case.requirements {
                assert!(
                    spec.contains(&format!("### {req} ")),
                    "{}: {req} not in the spec",
                    case.id
                );
            }
        }
    }
}
