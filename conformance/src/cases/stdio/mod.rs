//! The stdio catalogs: one per legacy format (`json.*`, `http.*`,
//! `default.*`, `cloudevent.*`; fn-contract §12 cases 46 to 49), each case
//! with a stable id, a level, the `protocol-spec/stdio.md` requirements it
//! checks and a one-line title.
//!
//! The case bodies are shared (`checks.rs`): the harness writes and reads
//! each format's framing, so "a handler error is a 500 and the next call is
//! served" is one check whatever the format. What only one format has
//! (chunked requests, `HEAD`, CloudEvent `data`, exit codes) has its own.
//! So is the catalog (`catalog.rs`): one table, each case written once with
//! the formats it runs in; a format's catalog is the table's cases that name
//! it, in table order, with the format as the id's group.

mod catalog;
mod checks;

pub(crate) use catalog::catalog;

/// Defines `catalog(format)` from a table of cases, in run order:
///
/// ```text
/// "<name>": <Level>, <Needs>, <check in checks.rs> {
///     <format>... : [<requirement>, ...] "<title>";
///     ...
/// }
/// ```
///
/// Each `<format>` line makes the case `<format>.<name>` of that format's
/// catalog, with the requirements and the title the line gives (what the
/// case checks is worded, and specified, in that format's terms). A macro
/// rather than a table read at run time: the ids stay `&'static str`, built
/// by `concat!`.
macro_rules! stdio_cases {
    (@format json) => { StdioFormat::Json };
    (@format http) => { StdioFormat::Http };
    (@format default) => { StdioFormat::Default };
    (@format cloudevent) => { StdioFormat::Cloudevent };
    ($($name:literal: $level:ident, $needs:ident, $run:ident {
        $($($format:ident)+: $requirements:tt $title:literal;)+
    })*) => {
        /// The cases of `format`, in run order.
        pub(crate) fn catalog(format: StdioFormat) -> Vec<Case<StdioHarness>> {
            let mut cases = Vec::new();
            $($($(
                if format == stdio_cases!(@format $format) {
                    cases.push(Case {
                        meta: Meta {
                            id: concat!(stringify!($format), ".", $name),
                            level: Level::$level,
                            requirements: &$requirements,
                            title: $title,
                            needs: Needs::$needs,
                        },
                        run: checks::$run,
                    });
                }
            )+)+)*
            cases
        }
    };
}
use stdio_cases;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stdio::StdioFormat;
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
