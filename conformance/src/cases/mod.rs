//! The case catalog: every check the harness runs, with a stable id, a
//! level, the `protocol-spec` requirements it checks and a one-line title.
//!
//! Black-box cases need only a function that starts; probe cases need the
//! function to speak the probe protocol (`protocol-spec/probe.md`) and are
//! *not applicable* otherwise.

/// A group's cases, one entry each, in run order:
///
/// ```text
/// // Level: why a failure matters this much to the real server.
/// "<id>": <Level>, <Needs>, <check>, [<requirement>, ...]
///     "<title>";
/// ```
macro_rules! cases {
    ($($id:literal: $level:ident, $needs:ident, $run:ident, [$($req:literal),+] $title:literal;)+) => {
        [$(
            $crate::case::Case {
                meta: $crate::case::Meta {
                    id: $id,
                    level: $crate::level::Level::$level,
                    requirements: &[$($req),+],
                    title: $title,
                    needs: $crate::case::Needs::$needs,
                },
                run: $run,
            },
        )+]
    };
}

mod deadlines;
mod lifecycle;
mod metadata;
mod requests;
mod responses;
mod startup;
pub(crate) mod stdio;

use crate::case::{Case, CaseResult, probe_needed, probe_supports};
use crate::harness::{Call, Exchange, Harness, unsupported};
use crate::verdict::Verdict;

/// Every case, in run order: black-box start-up first, then requests,
/// responses and the connection's life.
pub(crate) fn catalog() -> Vec<Case<Harness>> {
    let mut all = Vec::new();
    all.extend(startup::CASES);
    all.extend(requests::CASES);
    all.extend(deadlines::CASES);
    all.extend(metadata::CASES);
    all.extend(responses::CASES);
    all.extend(lifecycle::CASES);
    all
}

/// Not applicable unless the function speaks the probe protocol.
fn needs_probe(h: &Harness) -> CaseResult {
    probe_needed(h.has_probe())
}

/// Not applicable if the probe said it cannot do what was asked.
fn supported(ex: &Exchange) -> CaseResult {
    probe_supports(unsupported(ex))
}

/// The call must have been answered with socket status 200.
fn expect_200(h: &Harness, ex: &Exchange) -> CaseResult {
    supported(ex)?;
    match ex.status() {
        Some(200) => Ok(()),
        _ => Err(h.failed("expected socket status 200", ex)),
    }
}

/// A probe `report` call with the config names the cases look at, and its
/// answer, parsed.
fn report_call(h: &mut Harness, call: Call) -> Result<(serde_json::Value, Exchange), Verdict> {
    needs_probe(h)?;
    let ex = h.call(
        &call.probe(r#"{"op":"report","config":["GREETING","FN_APP_ID","FN_MEMORY","MISSING"]}"#),
    )?;
    let json = report(h, &ex)?;
    Ok((json, ex))
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
        let ids: HashSet<_> = cases.iter().map(|c| c.meta.id).collect();
        assert_eq!(ids.len(), cases.len());
        let spec = include_str!("../../../protocol-spec/http-stream.md");
        for case in cases.iter().map(|c| c.meta) {
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
