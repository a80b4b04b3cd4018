//! The stdio catalogs: one per legacy format (`json.*`, `http.*`,
//! `default.*`, `cloudevent.*`), each case with a stable id, a level, the
//! `protocol-spec/stdio.md` requirements it checks and a one-line title.
//!
//! The case bodies are shared (`checks.rs`): the harness writes and reads
//! each format's framing, so "a handler error is a 500 and the next call is
//! served" is one check whatever the format. What only one format has
//! (chunked requests, `HEAD`, CloudEvent `data`, exit codes) has its own.

mod checks;
mod cloudevent;
mod default;
mod http;
mod json;

use crate::case::{Case, CaseResult, Meta, Needs};
use crate::level::Level;
use crate::stdio::StdioFormat;
use crate::stdio::harness::StdioHarness;

/// One stdio case.
pub type StdioCase = Case<StdioHarness>;

/// A catalog entry.
const fn case(
    id: &'static str,
    level: Level,
    requirements: &'static [&'static str],
    title: &'static str,
    needs: Needs,
    run: fn(&mut StdioHarness) -> CaseResult,
) -> StdioCase {
    Case {
        meta: Meta {
            id,
            level,
            requirements,
            title,
            needs,
        },
        run,
    }
}

/// The cases of `format`, in run order.
pub fn catalog(format: StdioFormat) -> Vec<StdioCase> {
    match format {
        StdioFormat::Json => json::CASES.to_vec(),
        StdioFormat::Http => http::CASES.to_vec(),
        StdioFormat::Default => default::CASES.to_vec(),
        StdioFormat::Cloudevent => cloudevent::CASES.to_vec(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn ids_are_unique_prefixed_and_cite_stdio_requirements() {
        let spec = include_str!("../../../../protocol-spec/stdio.md");
        let mut all = HashSet::new();
        for format in StdioFormat::ALL {
            let cases = catalog(format);
            assert!(cases.len() >= 10, "{format}");
            for case in &cases {
                let m = &case.meta;
                assert!(all.insert(m.id), "duplicate {}", m.id);
                assert!(m.id.starts_with(&format!("{format}.")), "{}", m.id);
                assert!(!m.requirements.is_empty(), "{}", m.id);
                assert!(!m.title.is_empty(), "{}", m.id);
                for req in m.requirements {
                    assert!(
                        spec.contains(&format!("### {req} ")),
                        "{}: {req} not in stdio.md",
                        m.id
                    );
                }
            }
        }
    }

    #[test]
    fn every_format_has_the_shared_cases() {
        for format in StdioFormat::ALL {
            let ids: Vec<&str> = catalog(format).iter().map(|c| c.meta.id).collect();
            let error = if format == StdioFormat::Default {
                "exit-status"
            } else {
                "error"
            };
            for name in [
                "call",
                "echo",
                "metadata",
                error,
                "panic",
                "deadline-past",
                "deadline-running",
                "big-body",
                "stray-output",
                "listener-ignored",
                "unknown-format",
            ] {
                let id = format!("{format}.{name}");
                assert!(ids.contains(&id.as_str()), "{id} missing");
            }
        }
    }
}
