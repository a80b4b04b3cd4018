//! What a conformance case is: what reports show of it ([`Meta`]), apart
//! from the check that runs it against one kind of harness ([`Case`]), so
//! that one runner and one report serve the http-stream cases and the
//! stdin/stdout ones alike.

use std::fmt;

use crate::level::Level;
use crate::verdict::Verdict;

/// What a case needs of the function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Needs {
    /// Nothing: any function that starts.
    Nothing,
    /// The probe protocol.
    Probe,
}

/// A case's body: `Ok` passes, `Err` carries the failure (or why the case
/// does not apply).
pub(crate) type CaseResult = Result<(), Verdict>;

/// Not applicable unless the function speaks the probe protocol.
pub(crate) fn probe_needed(has_probe: bool) -> CaseResult {
    if has_probe {
        Ok(())
    } else {
        Err(Verdict::NotApplicable(
            "needs a probe function (protocol-spec/probe.md); run with --probe".into(),
        ))
    }
}

/// Not applicable if the probe said it cannot do what was asked (`op`).
pub(crate) fn probe_supports(unsupported: Option<String>) -> CaseResult {
    match unsupported {
        Some(op) => Err(Verdict::NotApplicable(format!(
            "the probe's FDK cannot express `{op}`"
        ))),
        None => Ok(()),
    }
}

/// A case as reports, selection and expectations files know it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Meta {
    /// Stable id, `<group>.<name>` (the group of a stdio case is its
    /// format).
    pub id: &'static str,
    /// How much a failure matters (the level of its main check; a failure
    /// of one of its other checks may carry a level of its own, see
    /// [`Verdict::at`]).
    pub level: Level,
    /// The requirement ids of `protocol-spec` it checks.
    pub requirements: &'static [&'static str],
    /// One line: what a passing function does.
    pub title: &'static str,
    /// What it needs of the function.
    pub needs: Needs,
}

/// One conformance case: its [`Meta`] and the check, which works with a
/// harness `H` (the http-stream harness or the stdio one).
pub(crate) struct Case<H> {
    /// What reports show.
    pub meta: Meta,
    /// The check.
    pub run: fn(&mut H) -> CaseResult,
}

// By hand: derived, they would ask `H` to be `Clone` and `Copy` too.
impl<H> Clone for Case<H> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<H> Copy for Case<H> {}

impl<H> fmt::Debug for Case<H> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Case")
            .field("id", &self.meta.id)
            .finish_non_exhaustive()
    }
}
