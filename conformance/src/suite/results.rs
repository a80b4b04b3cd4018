//! What a run leaves besides its lines on the terminal: the summary, the
//! `--output` files, `--write-expect`, and the exit code (`--expect`,
//! `--fail-on`).

use std::ffi::OsString;
use std::time::Duration;

use crate::Error;
use crate::case::Meta;
use crate::level::Level;
use crate::report::{self, ExitRule, Format, ImageInfo, Outcome, Summary};
use crate::verdict::{Failure, Verdict};
use fn_emulator::FunctionCommand;

/// Where a run's results go besides the terminal: `--output` files,
/// `--write-expect`, and what decides the exit: the `--expect` comparison
/// and `--fail-on`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Ends<'a> {
    pub(crate) outputs: &'a [(Format, OsString)],
    pub(crate) write_expect: Option<&'a OsString>,
    pub(crate) expect: Option<&'a OsString>,
    pub(crate) fail_on: Option<Level>,
}

impl Ends<'_> {
    /// What decides the exit code: `--expect` (with `--fail-on` if given),
    /// else `--fail-on`, MUST by default.
    pub(crate) fn rule(&self) -> ExitRule {
        match self.expect {
            Some(file) => ExitRule::Expect {
                file: file.to_string_lossy().into_owned(),
                fail_on: self.fail_on,
            },
            None => ExitRule::FailOn(self.fail_on.unwrap_or(Level::Must)),
        }
    }
}

/// Prints the summary, writes the output files and expectations, and
/// gives the exit code: 1 on a failure at the `--fail-on` level or a
/// stricter one (MUST by default), or with `--expect` when a verdict
/// differs from the file (and, only if `--fail-on` was given too, on such
/// a failure); otherwise 0. Shared by every format.
pub(crate) fn finish(
    command: &FunctionCommand,
    outcomes: &[Outcome],
    summary: &Summary,
    ends: &Ends<'_>,
) -> Result<u8, Error> {
    print!("{}", report::human::summary(outcomes, summary));
    write_outputs(command, outcomes, summary, ends.outputs)?;
    if let Some(file) = ends.write_expect {
        std::fs::write(file, report::expect::write(command, outcomes))
            .map_err(|e| Error::io(format!("could not write {file:?}"), e))?;
    }
    if let Some(file) = ends.expect {
        let text = std::fs::read_to_string(file)
            .map_err(|e| Error::io(format!("could not read {file:?}"), e))?;
        let expected = report::expect::parse(&text).map_err(Error::Usage)?;
        let changes = report::expect::compare(&expected, outcomes);
        if changes.is_empty() {
            println!("every verdict matches {}", file.to_string_lossy());
        } else {
            println!(
                "{} verdict(s) differ from {}:",
                changes.len(),
                file.to_string_lossy()
            );
            for change in &changes {
                println!("  {change}");
            }
            return Ok(1);
        }
    }
    let failing = summary.failing();
    if failing > 0
        && let Some(level) = summary.rule.fail_on()
    {
        println!(
            "{failing} failure(s) at {level} or stricter (--fail-on {})",
            level.word()
        );
        return Ok(1);
    }
    Ok(0)
}

/// Writes the `--output` files.
pub(super) fn write_outputs(
    command: &FunctionCommand,
    outcomes: &[Outcome],
    summary: &Summary,
    outputs: &[(Format, OsString)],
) -> Result<(), Error> {
    for (format, file) in outputs {
        let text = report::render(*format, command, outcomes, summary);
        std::fs::write(file, text)
            .map_err(|e| Error::io(format!("could not write {file:?}"), e))?;
    }
    Ok(())
}

/// When the function cannot be run at all: every selected case fails with
/// `failure`, in the `--output` files only (the exit code says the rest).
pub(crate) fn not_run(
    command: &FunctionCommand,
    cases: &[Meta],
    failure: &Failure,
    outputs: &[(Format, OsString)],
    image: Option<&ImageInfo>,
) -> Result<(), Error> {
    if outputs.is_empty() {
        return Ok(());
    }
    let outcomes: Vec<Outcome> = cases
        .iter()
        .map(|case| Outcome {
            case: *case,
            verdict: Verdict::Fail(Box::new(failure.clone())),
            took: Duration::ZERO,
        })
        .collect();
    let mut summary = Summary::of(&outcomes, Duration::ZERO, ExitRule::FailOn(Level::Must));
    summary.image = image.cloned();
    write_outputs(command, &outcomes, &summary, outputs)
}
