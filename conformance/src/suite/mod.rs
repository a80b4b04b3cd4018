//! `fdk-conformance run`: the case catalog against one function.
//!
//! ```text
//! fdk-conformance run [--format FORMAT] [--probe] [--only ID|PREFIX]... [--level must|should|may]
//!                     [--fail-on must|should|may] [--output json|tap|junit=FILE]... [--uid N]
//!                     [--list] [--sandbox auto|cgroup|signals] [--call-timeout D]
//!                     [--case-timeout D] [--run-timeout D] -- <command> [args...]
//! ```
//!
//! The exit code answers one question: would the real Fn server serve this
//! function's calls correctly? Only MUST failures say it would not, so only
//! they fail the run, unless `--fail-on should` (or `may`) asks for more
//! ([`crate::level::Level`]).
//!
//! The http-stream catalog (`cases`) and the catalog of each
//! stdin/stdout format (`--format json|http|default|cloudevent`,
//! `cases::stdio`) run through the same loop, selection, report,
//! output files, expectations and exit codes; only the harness differs
//! (`SuiteHarness`).
//!
//! A run never hangs: every call has a limit (its deadline, else
//! `--call-timeout`), every case one (`--case-timeout`, enforced by the
//! harness on every call and start, and past a grace period by a watchdog
//! that reports the case failed, writes the `--output` files, kills the
//! function and exits), and the run one (`--run-timeout`: the cases left
//! are reported not run, as failures). SIGINT and SIGTERM kill the function
//! and everything it started and remove the work directory before the
//! harness exits 130 or 143 (`stop_on_signals`).

mod args;
mod container;
mod docker;
mod guard;
mod harness;
mod image;
mod results;

use std::time::Instant;

use crate::Error;
use crate::case::{Case, Meta, Needs};
use crate::report::{self, Outcome, Summary};
use crate::verdict::Verdict;
use fn_emulator::FunctionCommand;
use guard::{Guard, case_limit_text};
use harness::{SuiteHarness, open_http_stream, open_stdio};
use results::{Ends, finish, not_run};

pub(crate) use args::{Args, RunCli};
pub(crate) use container::open_sandbox;
pub use container::set_trampoline;
pub(crate) use container::stop_on_signals;

/// Runs the suite; returns the exit code (0, 1 or 2).
pub(crate) fn run(args: &Args) -> Result<u8, Error> {
    if let Some(reference) = args.image.as_deref()
        && !args.list
    {
        return image::run(args, reference);
    }
    if let Some(reference) = args.docker.as_deref()
        && args.docker_sandbox.is_none()
        && !args.list
    {
        return docker::run(args, reference);
    }
    match args.format {
        None => run_catalog(args, crate::cases::catalog(), "cases", |command, cases| {
            open_http_stream(args, command, cases)
        }),
        Some(format) => {
            if !args.config.is_empty() {
                return Err(Error::Usage(format!(
                    "--config applies to the http-stream suite only, not to --format {format}"
                )));
            }
            if args.uid.is_some() {
                return Err(Error::Usage(format!(
                    "--uid applies to the http-stream suite only, not to --format {format}"
                )));
            }
            let catalog = crate::cases::stdio::catalog(format);
            run_catalog(args, catalog, &format!("{format} cases"), |command, _| {
                open_stdio(format, args, command).map(Some)
            })
        }
    }
}

/// Does `args`' selection (`--level`, `--only`) take `case`?
fn selected(args: &Args, case: &Meta) -> bool {
    let level_ok = case.level <= args.level;
    let only_ok = args.only.is_empty()
        || args
            .only
            .iter()
            .any(|f| case.id == f || case.id.starts_with(f.as_str()));
    level_ok && only_ok
}

/// Runs the cases of `catalog` that `args` select with the harness `open`
/// gives (`None`: it could not be set up, as it has said; exit 2), and
/// reports them; `what` names the cases in the progress line ("cases",
/// "json cases"). Returns the exit code.
fn run_catalog<H: SuiteHarness>(
    args: &Args,
    catalog: Vec<Case<H>>,
    what: &str,
    open: impl FnOnce(&FunctionCommand, &[Meta]) -> Result<Option<H>, Error>,
) -> Result<u8, Error> {
    let catalog: Vec<Case<H>> = catalog
        .into_iter()
        .filter(|c| selected(args, &c.meta))
        .collect();
    let cases: Vec<Meta> = catalog.iter().map(|c| c.meta).collect();
    if args.list {
        print!("{}", report::human::list(&cases));
        return Ok(0);
    }
    let Some(command) = args.command.clone() else {
        return Err(Error::Usage("give the function's command after --".into()));
    };
    let Some(mut harness) = open(&command, &cases)? else {
        return Ok(2);
    };
    // Preflight: a function that never starts cannot be judged case by case.
    harness.begin_case();
    harness.set_case_deadline(
        Some(Instant::now() + args.limits.case),
        &case_limit_text(args.limits.case),
    );
    if let Err(Verdict::Fail(failure)) = harness.preflight() {
        eprintln!(
            "fdk-conformance: {} {}:\n{failure}",
            command.name,
            H::NOT_READY
        );
        drop(harness);
        let mut failure = *failure;
        failure.what = format!("the function {}: {}", H::NOT_READY, failure.what);
        not_run(
            &command,
            &cases,
            &failure,
            &args.outputs,
            args.image_info.as_ref(),
        )?;
        return Ok(2);
    }

    let guard = Guard::start(&command, &cases, &args.outputs, args.limits);
    let mut outcomes = Vec::with_capacity(cases.len());
    eprintln!(
        "running {} {what} against {}{}",
        cases.len(),
        command.words().join(" "),
        if args.probe { " (probe)" } else { "" }
    );
    for Case { meta: case, run } in &catalog {
        harness.begin_case();
        let t = Instant::now();
        let verdict = if case.needs == Needs::Probe && !args.probe {
            Verdict::NotApplicable(
                "needs a probe function (protocol-spec/probe.md); run with --probe".into(),
            )
        } else {
            match guard.begin(case) {
                Err(not_run) => not_run,
                Ok(deadline) => {
                    harness.set_case_deadline(Some(deadline), &guard.limit_text(deadline));
                    let verdict = match run(&mut harness) {
                        Ok(()) => Verdict::Pass,
                        Err(verdict) => verdict,
                    };
                    harness.set_case_deadline(None, "");
                    guard.judge(verdict, t.elapsed(), deadline)
                }
            }
        };
        let outcome = Outcome {
            case: *case,
            verdict,
            took: t.elapsed(),
        };
        print!("{}", report::human::line(&outcome));
        guard.end(&outcome);
        outcomes.push(outcome);
    }
    harness.shut_down();
    let started = guard.finish();

    let ends = Ends {
        outputs: &args.outputs,
        write_expect: args.write_expect.as_ref(),
        expect: args.expect.as_ref(),
        fail_on: args.fail_on,
    };
    let mut summary = Summary::of(&outcomes, started.elapsed(), ends.rule());
    summary.image.clone_from(&args.image_info);
    finish(&command, &outcomes, &summary, &ends)
}
