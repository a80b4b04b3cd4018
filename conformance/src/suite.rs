//! `fdk-conformance run`: the case catalog against one function.
//!
//! ```text
//! fdk-conformance run [--format FORMAT] [--probe] [--only ID|PREFIX]... [--level must|should|may]
//!                     [--fail-on must|should|may] [--output json|tap|junit=FILE]... [--uid N]
//!                     [--list] -- <command> [args...]
//! ```
//!
//! The exit code answers one question: would the real Fn server serve this
//! function's calls correctly? Only MUST failures say it would not, so only
//! they fail the run, unless `--fail-on should` (or `may`) asks for more
//! ([`crate::cases::Level`]).
//!
//! `--format json|http|default|cloudevent` hands the run to the stdio suite
//! ([`crate::stdio::suite`]).

use std::ffi::OsString;
use std::time::Instant;

use crate::Error;
use crate::agent::FunctionCommand;
use crate::cases::{Case, Level, Needs, catalog};
use crate::harness::Harness;
use crate::report::{self, ExitRule, Format, Outcome, Summary};
use crate::verdict::Verdict;

/// Help for `fdk-conformance run`.
pub const USAGE: &str = "\
Usage: fdk-conformance run [options] -- <command> [args...]

Plays the Fn server against <command> (a function built with any FDK) and
reports one verdict per conformance case (protocol-spec/http-stream.md).

Options:
  --format FORMAT      the contract to play: http-stream (the default), or one of the
                       stdin/stdout formats of Fn 0.3.602, json, http, default or
                       cloudevent (protocol-spec/stdio.md; cases json.*, http.*, ...)
  --probe              the function speaks the probe protocol (protocol-spec/probe.md);
                       without it, behaviour cases are reported not applicable
  --only ID|PREFIX     run only matching cases (e.g. sock.mode, resp.); repeatable
  --level LEVEL        run only cases of LEVEL or stricter: must, should, may (default may)
  --fail-on LEVEL      fail the run on a failure at LEVEL or stricter: must (the default:
                       only what the real server would fail), should (also what only a
                       good FDK does) or may (any failure). With --expect, a failure at
                       LEVEL fails the run even if the file expects it
  --output FMT=FILE    also write results as json (JSON Lines), tap or junit to FILE; repeatable
  --expect FILE        compare every verdict with FILE (lines `<case id> <pass|fail|n/a|skip>`,
                       `#` comments); any difference, either way, fails the run
  --write-expect FILE  write this run's verdicts in that format
  --no-freeze          do not stop the function (SIGSTOP) between calls; by default it
                       is stopped after every call and continued (SIGCONT) before the
                       next, as the server's freezer does
  --uid N              start the function as uid N, gid N, no supplementary groups (the
                       server runs it as 1000:1000); needs root. The command must be
                       executable by that uid (copy it out of a 0700 home first).
                       life.unprivileged, which also gives it a read-only working
                       directory, is skipped without this option
  --list               list the cases and exit

Levels: MUST: the real Fn server would fail a call or kill the container; SHOULD: what
only a good FDK does (the server never exercises it or does not care); MAY: informational.
A failure shows its level; the summary counts the failures of each level.

Exit codes: 0 no failure at the --fail-on level or stricter (MUST by default; with
              --expect: every verdict as expected),
            1 a failure at that level (with --expect: a verdict changed),
            2 could not run (usage, or the function never became ready).
";

/// What `run` was asked to do.
#[derive(Debug)]
pub struct Args {
    command: Option<FunctionCommand>,
    probe: bool,
    only: Vec<String>,
    level: Level,
    fail_on: Option<Level>,
    outputs: Vec<(Format, OsString)>,
    expect: Option<OsString>,
    write_expect: Option<OsString>,
    freeze: bool,
    uid: Option<u32>,
    list: bool,
    /// `--format`: a stdin/stdout format, or `None` for http-stream.
    format: Option<crate::stdio::StdioFormat>,
}

/// Parses `run`'s arguments; `Ok(None)` asks for help.
pub fn parse<I: IntoIterator<Item = OsString>>(args: I) -> Result<Option<Args>, Error> {
    let mut parsed = Args {
        command: None,
        probe: false,
        only: Vec::new(),
        level: Level::May,
        fail_on: None,
        outputs: Vec::new(),
        expect: None,
        write_expect: None,
        freeze: true,
        uid: None,
        list: false,
        format: None,
    };
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let text = arg.to_string_lossy().into_owned();
        let mut value = |name: &str| {
            args.next()
                .map(|v| v.to_string_lossy().into_owned())
                .ok_or_else(|| Error::Usage(format!("{name} needs a value")))
        };
        match text.as_str() {
            "-h" | "--help" => return Ok(None),
            "--probe" => parsed.probe = true,
            "--list" => parsed.list = true,
            "--format" => {
                let v = value("--format")?;
                parsed.format = match v.as_str() {
                    "http-stream" => None,
                    name => Some(crate::stdio::StdioFormat::parse(name).ok_or_else(|| {
                        Error::Usage(format!(
                            "--format takes http-stream, json, http, default or cloudevent, \
                             not {v:?}"
                        ))
                    })?),
                };
            }
            "--no-freeze" => parsed.freeze = false,
            "--expect" => parsed.expect = Some(value("--expect")?.into()),
            "--write-expect" => parsed.write_expect = Some(value("--write-expect")?.into()),
            "--only" => parsed.only.push(value("--only")?),
            "--uid" => {
                let v = value("--uid")?;
                parsed.uid = Some(v.parse().map_err(|_| {
                    Error::Usage(format!("--uid takes a numeric user id, not {v:?}"))
                })?);
            }
            "--level" => {
                let v = value("--level")?;
                parsed.level = Level::parse(&v).ok_or_else(|| {
                    Error::Usage(format!("--level takes must, should or may, not {v:?}"))
                })?;
            }
            "--fail-on" => {
                let v = value("--fail-on")?;
                parsed.fail_on = Some(Level::parse(&v).ok_or_else(|| {
                    Error::Usage(format!("--fail-on takes must, should or may, not {v:?}"))
                })?);
            }
            "--output" => {
                let v = value("--output")?;
                let (format, file) = v
                    .split_once('=')
                    .ok_or_else(|| Error::Usage(format!("--output takes FMT=FILE, not {v:?}")))?;
                let format = Format::parse(format).ok_or_else(|| {
                    Error::Usage(format!(
                        "unknown output format {format:?}: json, tap or junit"
                    ))
                })?;
                parsed.outputs.push((format, OsString::from(file)));
            }
            "--" => {
                let rest = args.by_ref();
                let program = rest
                    .next()
                    .ok_or_else(|| Error::Usage("no function command after --".into()))?;
                let args: Vec<OsString> = rest.collect();
                // Absolute, so that cases may start it in another directory.
                let program = if std::path::Path::new(&program).components().count() > 1 {
                    std::path::absolute(&program).map_or(program, OsString::from)
                } else {
                    program
                };
                let name = std::path::Path::new(&program).file_name().map_or_else(
                    || "function".to_owned(),
                    |n| n.to_string_lossy().into_owned(),
                );
                parsed.command = Some(FunctionCommand {
                    name,
                    program,
                    args,
                });
                break;
            }
            other => return Err(Error::Usage(format!("unknown option {other:?}"))),
        }
    }
    if parsed.command.is_none() && !parsed.list {
        return Err(Error::Usage("give the function's command after --".into()));
    }
    Ok(Some(parsed))
}

fn selected(args: &Args, case: &Case) -> bool {
    let level_ok = case.level <= args.level;
    let only_ok = args.only.is_empty()
        || args
            .only
            .iter()
            .any(|f| case.id == f || case.id.starts_with(f.as_str()));
    level_ok && only_ok
}

/// Runs the suite; returns the exit code (0, 1 or 2).
pub fn run(args: &Args) -> Result<u8, Error> {
    if let Some(format) = args.format {
        return run_stdio(format, args);
    }
    let cases: Vec<Case> = catalog()
        .into_iter()
        .filter(|c| selected(args, c))
        .collect();
    if args.list {
        print!("{}", report::human::list(&cases));
        return Ok(0);
    }
    let Some(command) = args.command.clone() else {
        return Err(Error::Usage("give the function's command after --".into()));
    };
    if let Some(uid) = args.uid
        && !nix::unistd::geteuid().is_root()
    {
        eprintln!(
            "fdk-conformance: --uid {uid} needs root: only root may start the function as \
             another user (run as root, or leave --uid out; life.unprivileged is then skipped)"
        );
        return Ok(2);
    }
    let mut harness = Harness::new(command.clone(), args.probe)
        .map_err(|e| Error::io("could not create a work directory", e))?;

    harness.set_freeze(args.freeze);
    if let Some(uid) = args.uid {
        harness
            .set_uid(Some(uid))
            .map_err(|e| Error::io("could not open the work directory to other users", e))?;
        if let Err(why) = crate::agent::process::check_access(uid, &command, harness.work_path()) {
            eprintln!("fdk-conformance: --uid {uid}: {why}");
            return Ok(2);
        }
    }
    // Preflight: a function that never starts cannot be judged case by case.
    harness.begin_case();
    if let Err(Verdict::Fail(failure)) = harness.running() {
        eprintln!(
            "fdk-conformance: {} never became ready:\n{failure}",
            command.name
        );
        return Ok(2);
    }

    let started = Instant::now();
    let mut outcomes = Vec::with_capacity(cases.len());
    eprintln!(
        "running {} cases against {}{}",
        cases.len(),
        command.words().join(" "),
        if args.probe { " (probe)" } else { "" }
    );
    for case in &cases {
        harness.begin_case();
        let t = Instant::now();
        let verdict = if case.needs == Needs::Probe && !args.probe {
            Verdict::NotApplicable(
                "needs a probe function (protocol-spec/probe.md); run with --probe".into(),
            )
        } else {
            match (case.run)(&mut harness) {
                Ok(()) => Verdict::Pass,
                Err(verdict) => verdict,
            }
        };
        let outcome = Outcome {
            case: *case,
            verdict,
            took: t.elapsed(),
        };
        print!("{}", report::human::line(&outcome));
        outcomes.push(outcome);
    }
    drop(harness);

    let ends = Ends {
        outputs: &args.outputs,
        write_expect: args.write_expect.as_ref(),
        expect: args.expect.as_ref(),
        fail_on: args.fail_on,
    };
    let summary = Summary::of(&outcomes, started.elapsed(), ends.rule());
    finish(&command, &outcomes, &summary, &ends)
}

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
    for (format, file) in ends.outputs {
        let text = report::render(*format, command, outcomes, summary);
        std::fs::write(file, text)
            .map_err(|e| Error::io(format!("could not write {file:?}"), e))?;
    }
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

/// `run --format <json|http|default|cloudevent>`: the stdio suite
/// ([`crate::stdio::suite`]) with the same options.
fn run_stdio(format: crate::stdio::StdioFormat, args: &Args) -> Result<u8, Error> {
    if args.uid.is_some() {
        return Err(Error::Usage(format!(
            "--uid applies to the http-stream suite only, not to --format {format}"
        )));
    }
    crate::stdio::suite::run(&crate::stdio::suite::Options {
        format,
        command: args.command.clone(),
        probe: args.probe,
        only: args.only.clone(),
        level: args.level,
        fail_on: args.fail_on,
        outputs: args.outputs.clone(),
        expect: args.expect.clone(),
        write_expect: args.write_expect.clone(),
        freeze: args.freeze,
        list: args.list,
    })
}
