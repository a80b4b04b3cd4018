//! `fdk-conformance run --format json|http|default|cloudevent`: the stdio
//! catalog of one format against one function. Selection, the report,
//! output files, expectations and exit codes are those of the http-stream
//! suite ([`crate::suite`]).

use std::ffi::OsString;
use std::sync::Arc;
use std::time::Instant;

use super::StdioFormat;
use super::harness::StdioHarness;
use crate::Error;
use crate::case::Needs;
use crate::cases::stdio::{StdioCase, catalog};
use crate::level::Level;
use crate::report::{self, Format, Outcome, Summary};
use crate::suite::{Guard, Limits};
use crate::verdict::{Failure, Verdict};
use fn_emulator::FunctionCommand;
use fn_emulator::sandbox;

/// What `run --format <stdio format>` was asked to do.
#[derive(Debug, Clone)]
pub struct Options {
    /// The format.
    pub format: StdioFormat,
    /// The function (absent with `--list`).
    pub command: Option<FunctionCommand>,
    /// It speaks the probe protocol.
    pub probe: bool,
    /// `--only` filters.
    pub only: Vec<String>,
    /// `--level`.
    pub level: Level,
    /// `--fail-on`, if given.
    pub fail_on: Option<Level>,
    /// `--output` files.
    pub outputs: Vec<(Format, OsString)>,
    /// `--expect`.
    pub expect: Option<OsString>,
    /// `--write-expect`.
    pub write_expect: Option<OsString>,
    /// Freeze between calls (not `--no-freeze`).
    pub freeze: bool,
    /// `--list`.
    pub list: bool,
    /// `--sandbox`.
    pub sandbox: sandbox::Mode,
    /// `--case-timeout` and `--run-timeout` (every stdio call has its own
    /// deadline already).
    pub limits: Limits,
}

fn selected(opts: &Options, case: &StdioCase) -> bool {
    let meta = &case.meta;
    meta.level <= opts.level
        && (opts.only.is_empty()
            || opts
                .only
                .iter()
                .any(|f| meta.id == f || meta.id.starts_with(f.as_str())))
}

/// Runs the suite; returns the exit code (0, 1 or 2).
pub fn run(opts: &Options) -> Result<u8, Error> {
    let cases: Vec<StdioCase> = catalog(opts.format)
        .into_iter()
        .filter(|c| selected(opts, c))
        .collect();
    if opts.list {
        let metas: Vec<_> = cases.iter().map(|c| c.meta).collect();
        print!("{}", report::human::list(&metas));
        return Ok(0);
    }
    let Some(command) = opts.command.clone() else {
        return Err(Error::Usage("give the function's command after --".into()));
    };
    let sandbox = Arc::new(crate::suite::open_sandbox(opts.sandbox)?);
    let mut harness = StdioHarness::new(opts.format, command.clone(), opts.probe)
        .map_err(|e| Error::io("could not create a work directory", e))?;
    harness.set_sandbox(Arc::clone(&sandbox));
    harness.set_freeze(opts.freeze);
    eprintln!("{}", sandbox.describe());

    // Preflight: a program that cannot be executed cannot be judged.
    harness.begin_case();
    if let Err(Verdict::Fail(failure)) = harness.spawn_plain(&[]) {
        eprintln!(
            "fdk-conformance: {} could not be started:\n{failure}",
            command.name
        );
        drop(harness);
        let mut failure: Failure = *failure;
        failure.what = format!("the function could not be started: {}", failure.what);
        let metas: Vec<_> = cases.iter().map(|c| c.meta).collect();
        crate::suite::not_run(&command, &metas, &failure, &opts.outputs)?;
        return Ok(2);
    }

    let metas: Vec<_> = cases.iter().map(|c| c.meta).collect();
    let guard = Guard::start(&command, &metas, &opts.outputs, opts.limits);
    let mut outcomes = Vec::with_capacity(cases.len());
    eprintln!(
        "running {} {} cases against {}{}",
        cases.len(),
        opts.format,
        command.words().join(" "),
        if opts.probe { " (probe)" } else { "" }
    );
    for case in &cases {
        harness.begin_case();
        let t = Instant::now();
        let verdict = if case.meta.needs == Needs::Probe && !opts.probe {
            Verdict::NotApplicable(
                "needs a probe function (protocol-spec/probe.md); run with --probe".into(),
            )
        } else {
            match guard.begin(&case.meta) {
                Err(not_run) => not_run,
                Ok(deadline) => {
                    let verdict = match (case.run)(&mut harness) {
                        Ok(()) => Verdict::Pass,
                        Err(verdict) => verdict,
                    };
                    guard.judge(verdict, t.elapsed(), deadline)
                }
            }
        };
        let outcome = Outcome {
            case: case.meta,
            verdict,
            took: t.elapsed(),
        };
        print!("{}", report::human::line(&outcome));
        guard.end(&outcome);
        outcomes.push(outcome);
    }
    harness.shut_down();
    drop(harness);
    let started = guard.finish();
    // The summary, output files, expectations and exit code, as the
    // http-stream suite does them.
    let ends = crate::suite::Ends {
        outputs: &opts.outputs,
        write_expect: opts.write_expect.as_ref(),
        expect: opts.expect.as_ref(),
        fail_on: opts.fail_on,
    };
    let summary = Summary::of(&outcomes, started.elapsed(), ends.rule());
    crate::suite::finish(&command, &outcomes, &summary, &ends)
}
