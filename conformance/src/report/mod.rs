//! Reporting verdicts: one line per case as it finishes and a summary for
//! people (`human`), and files for CI systems (`json`, `tap`, `junit`).

pub mod expect;
pub mod human;
mod machine;

use std::time::Duration;

use crate::agent::FunctionCommand;
use crate::cases::{Case, Level};
use crate::verdict::Verdict;

pub use machine::render;

/// A case and how it ended.
#[derive(Debug)]
pub struct Outcome {
    /// The case.
    pub case: Case,
    /// Its verdict.
    pub verdict: Verdict,
    /// How long it took.
    pub took: Duration,
}

/// Counts over a run.
#[derive(Debug, Clone, Default)]
pub struct Summary {
    /// Cases that passed.
    pub passed: usize,
    /// Cases that failed (any level).
    pub failed: usize,
    /// MUST cases that failed: the run fails.
    pub must_failed: usize,
    /// Cases that did not apply or were not checked in this run.
    pub skipped: usize,
    /// The run's duration.
    pub took: Duration,
}

impl Summary {
    /// Counts `outcomes`.
    pub fn of(outcomes: &[Outcome], took: Duration) -> Self {
        let mut s = Self {
            took,
            ..Self::default()
        };
        for o in outcomes {
            match &o.verdict {
                Verdict::Pass => s.passed += 1,
                Verdict::Fail(_) => {
                    s.failed += 1;
                    if o.case.level == Level::Must {
                        s.must_failed += 1;
                    }
                }
                Verdict::NotApplicable(_) | Verdict::Skipped(_) => s.skipped += 1,
            }
        }
        s
    }
}

/// Machine-readable formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// JSON Lines: one object per case, then a summary; `schema_version` 1.
    Json,
    /// Test Anything Protocol, version 13.
    Tap,
    /// JUnit XML.
    Junit,
}

impl Format {
    /// Parses `json`, `tap` or `junit`.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "json" => Some(Self::Json),
            "tap" => Some(Self::Tap),
            "junit" => Some(Self::Junit),
            _ => None,
        }
    }
}

/// The function's name and command, for report headers.
pub(crate) fn describe(command: &FunctionCommand) -> String {
    command.words().join(" ")
}
