//! Reporting verdicts: one line per case as it finishes and a summary for
//! people (`human`), and files for CI systems (`json`, `tap`, `junit`).

pub(crate) mod expect;
pub(crate) mod human;
mod machine;

use std::time::Duration;

use crate::case::Meta;
use crate::level::Level;
use crate::verdict::Verdict;
use fn_emulator::FunctionCommand;

pub(crate) use machine::render;

/// A case and how it ended.
#[derive(Debug)]
pub(crate) struct Outcome {
    /// The case.
    pub case: Meta,
    /// Its verdict.
    pub verdict: Verdict,
    /// How long it took.
    pub took: Duration,
}

impl Outcome {
    /// The level of a failure: the failed check's own
    /// ([`Verdict::at`](crate::verdict::Verdict::at)), else the case's.
    /// `None` unless the case failed.
    pub(crate) fn failure_level(&self) -> Option<Level> {
        match &self.verdict {
            Verdict::Fail(f) => Some(f.level.unwrap_or(self.case.level)),
            _ => None,
        }
    }
}

/// What decides a run's exit code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ExitRule {
    /// Exit 1 on a failure at this level or a stricter one (`--fail-on`,
    /// `must` by default).
    FailOn(Level),
    /// Exit 1 when a verdict differs from the expectations file `file`
    /// (`--expect`), and, if `--fail-on` was given too, on a failure at
    /// that level or a stricter one, expected or not.
    Expect {
        /// The expectations file, as given.
        file: String,
        /// `--fail-on`, if given.
        fail_on: Option<Level>,
    },
}

impl ExitRule {
    /// The level whose failures (and stricter ones) fail the run by
    /// themselves, if any.
    pub(crate) fn fail_on(&self) -> Option<Level> {
        match self {
            Self::FailOn(level) => Some(*level),
            Self::Expect { fail_on, .. } => *fail_on,
        }
    }

    /// The level at or above which a failure counts as a real one in the
    /// machine-readable files (TAP marks the others `TODO`): the `--fail-on`
    /// level, `MUST` when none was given.
    pub(crate) fn gate(&self) -> Level {
        self.fail_on().unwrap_or(Level::Must)
    }

    /// One sentence for reports: what decides the exit code.
    pub(crate) fn describe(&self) -> String {
        let levels = |level: Level| match level {
            Level::Must => format!("MUST failures (--fail-on {})", level.word()),
            Level::Should => format!("MUST and SHOULD failures (--fail-on {})", level.word()),
            Level::May => format!("failures of any level (--fail-on {})", level.word()),
        };
        match self {
            Self::FailOn(level) => format!("the exit code counts {}", levels(*level)),
            Self::Expect {
                file,
                fail_on: None,
            } => format!("the exit code compares every verdict with {file} (--expect)"),
            Self::Expect {
                file,
                fail_on: Some(level),
            } => format!(
                "the exit code compares every verdict with {file} (--expect) and counts {}",
                levels(*level)
            ),
        }
    }
}

/// Counts over a run.
#[derive(Debug, Clone)]
pub(crate) struct Summary {
    /// Cases that passed.
    pub passed: usize,
    /// Cases that failed (any level).
    pub failed: usize,
    /// Failures at level MUST (by [`Outcome::failure_level`]).
    pub must_failed: usize,
    /// Failures at level SHOULD.
    pub should_failed: usize,
    /// Failures at level MAY.
    pub may_failed: usize,
    /// Cases that did not apply or were not checked in this run.
    pub skipped: usize,
    /// The run's duration.
    pub took: Duration,
    /// What decides the exit code.
    pub rule: ExitRule,
    /// The image the function came from (`run --image`), if it did.
    pub image: Option<ImageInfo>,
}

/// What the outputs say of an image run (`run --image`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ImageInfo {
    /// The reference given (`PATH[:TAG]`).
    pub reference: String,
    /// `sha256:…` of its manifest (of its config for a docker-archive).
    pub digest: String,
    /// The container it ran in, in one line.
    pub container: String,
}

impl Summary {
    /// Counts `outcomes` of a run whose exit code `rule` decides.
    pub(crate) fn of(outcomes: &[Outcome], took: Duration, rule: ExitRule) -> Self {
        let mut s = Self {
            passed: 0,
            failed: 0,
            must_failed: 0,
            should_failed: 0,
            may_failed: 0,
            skipped: 0,
            took,
            rule,
            image: None,
        };
        for o in outcomes {
            match &o.verdict {
                Verdict::Pass => s.passed += 1,
                Verdict::Fail(_) => {
                    s.failed += 1;
                    match o.failure_level() {
                        Some(Level::Must) => s.must_failed += 1,
                        Some(Level::Should) => s.should_failed += 1,
                        Some(Level::May) | None => s.may_failed += 1,
                    }
                }
                Verdict::NotApplicable(_) | Verdict::Skipped(_) => s.skipped += 1,
            }
        }
        s
    }

    /// Failures at `level` or a stricter one.
    pub(crate) fn failed_at(&self, level: Level) -> usize {
        match level {
            Level::Must => self.must_failed,
            Level::Should => self.must_failed + self.should_failed,
            Level::May => self.failed,
        }
    }

    /// Failures that fail the run by themselves (under `--fail-on`); with
    /// `--expect` alone, none do.
    pub(crate) fn failing(&self) -> usize {
        self.rule.fail_on().map_or(0, |level| self.failed_at(level))
    }
}

/// Machine-readable formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    /// JSON Lines: one object per case, then a summary; `schema_version` 1.
    Json,
    /// Test Anything Protocol, version 13.
    Tap,
    /// JUnit XML.
    Junit,
}

impl Format {
    /// Parses `json`, `tap` or `junit`.
    pub(crate) fn parse(text: &str) -> Option<Self> {
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
