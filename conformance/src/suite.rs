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
//! `--format json|http|default|cloudevent` hands the run to the stdio suite
//! ([`crate::stdio::suite`]).
//!
//! A run never hangs: every call has a limit (its deadline, else
//! `--call-timeout`), every case one (`--case-timeout`, enforced by the
//! harness on every call and start, and past a grace period by a watchdog
//! that reports the case failed, writes the `--output` files, kills the
//! function and exits), and the run one (`--run-timeout`: the cases left
//! are reported not run, as failures). SIGINT and SIGTERM kill the function
//! and everything it started and remove the work directory before the
//! harness exits 130 or 143 ([`stop_on_signals`]).

use std::ffi::OsString;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::Error;
use crate::case::{Case, Meta, Needs};
use crate::cases::catalog;
use crate::harness::{DEFAULT_CALL_TIMEOUT, Harness};
use crate::level::Level;
use crate::report::{self, ExitRule, Format, Outcome, Summary};
use crate::verdict::{Failure, Verdict};
use fn_emulator::FunctionCommand;
use fn_emulator::sandbox::{self, Sandbox};

/// What the help of `fdk-conformance run` says after the options.
const RUN_AFTER_HELP: &str = "\
Levels: MUST: the real Fn server would fail a call or kill the container; SHOULD: what
only a good FDK does (the server never exercises it or does not care); MAY: informational.
A failure shows its level; the summary counts the failures of each level.

Exit codes: 0 no failure at the --fail-on level or stricter (MUST by default; with
              --expect: every verdict as expected),
            1 a failure at that level (with --expect: a verdict changed),
            2 could not run (usage, or the function never became ready),
            130, 143 stopped by SIGINT, SIGTERM (the function killed, the work directory
            removed).";

/// The default `--case-timeout`.
pub const DEFAULT_CASE_TIMEOUT: Duration = Duration::from_secs(120);
/// The default `--run-timeout`.
pub const DEFAULT_RUN_TIMEOUT: Duration = Duration::from_secs(30 * 60);
/// How long past a case's limit the watchdog waits for the harness to end
/// the case itself before it gives up on the run.
const WATCHDOG_GRACE: Duration = Duration::from_secs(30);

/// The run's limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// A call without a usable deadline of its own.
    pub call: Duration,
    /// One case.
    pub case: Duration,
    /// The whole run.
    pub run: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            call: DEFAULT_CALL_TIMEOUT,
            case: DEFAULT_CASE_TIMEOUT,
            run: DEFAULT_RUN_TIMEOUT,
        }
    }
}

/// Parses `500ms`, `30s`, `2m`, `1h` or a bare number of seconds.
pub fn parse_duration(text: &str) -> Option<Duration> {
    let text = text.trim();
    let (number, unit) = match text.find(|c: char| !c.is_ascii_digit()) {
        Some(at) => text.split_at(at),
        None => (text, "s"),
    };
    let n: u64 = number.parse().ok()?;
    let d = match unit {
        "ms" => Duration::from_millis(n),
        "s" => Duration::from_secs(n),
        "m" => Duration::from_secs(n.checked_mul(60)?),
        "h" => Duration::from_secs(n.checked_mul(3600)?),
        _ => return None,
    };
    (!d.is_zero()).then_some(d)
}

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
    /// `--sandbox`.
    sandbox: sandbox::Mode,
    /// `--call-timeout`, `--case-timeout`, `--run-timeout`.
    limits: Limits,
}

/// `fdk-conformance run`'s command line.
///
/// Plays the Fn server against <COMMAND> (a function built with any FDK)
/// and reports one verdict per conformance case
/// (protocol-spec/http-stream.md).
#[derive(Debug, clap::Args)]
#[command(after_help = RUN_AFTER_HELP, args_override_self = true)]
pub struct RunCli {
    /// The contract to play: http-stream, or one of the stdin/stdout formats
    /// of Fn 0.3.602, json, http, default or cloudevent (protocol-spec/stdio.md;
    /// cases json.*, http.*, ...).
    #[arg(long, value_name = "FORMAT", default_value = "http-stream", value_parser = format_arg)]
    format: FormatArg,
    /// The function speaks the probe protocol (protocol-spec/probe.md); without
    /// it, behaviour cases are reported not applicable.
    #[arg(long)]
    probe: bool,
    /// Run only matching cases (e.g. sock.mode, resp.); repeatable.
    #[arg(long, value_name = "ID|PREFIX")]
    only: Vec<String>,
    /// Run only cases of LEVEL or stricter: must, should, may.
    #[arg(long, value_name = "LEVEL", default_value = "may", value_parser = level_arg)]
    level: Level,
    /// Fail the run on a failure at LEVEL or stricter: must (the default: only
    /// what the real server would fail), should (also what only a good FDK
    /// does) or may (any failure). With --expect, a failure at LEVEL fails the
    /// run even if the file expects it.
    #[arg(long, value_name = "LEVEL", value_parser = level_arg)]
    fail_on: Option<Level>,
    /// Also write results as json (JSON Lines), tap or junit to FILE; repeatable.
    #[arg(long, value_name = "FMT=FILE", value_parser = output_arg)]
    output: Vec<(Format, PathBuf)>,
    /// Compare every verdict with FILE (lines `<case id> <pass|fail|n/a|skip>`,
    /// `#` comments); any difference, either way, fails the run.
    #[arg(long, value_name = "FILE")]
    expect: Option<PathBuf>,
    /// Write this run's verdicts in that format.
    #[arg(long, value_name = "FILE")]
    write_expect: Option<PathBuf>,
    /// Do not stop the function (SIGSTOP) between calls; by default it is
    /// stopped after every call and continued (SIGCONT) before the next, as
    /// the server's freezer does.
    #[arg(long)]
    no_freeze: bool,
    /// Start the function as uid N, gid N, no supplementary groups (the server
    /// runs it as 1000:1000); needs root. The command must be executable by
    /// that uid (copy it out of a 0700 home first). life.unprivileged, which
    /// also gives it a read-only working directory, is skipped without this
    /// option.
    #[arg(long, value_name = "N")]
    uid: Option<u32>,
    /// The function's container: auto (cgroups when root and they are
    /// writable, else a process group and signals), cgroup (exit 2 without),
    /// or signals (SIGSTOP/SIGCONT to the process group as the freezer, no
    /// pids or memory limit).
    #[arg(long, value_name = "MODE", default_value = "auto", value_parser = sandbox_arg)]
    sandbox: sandbox::Mode,
    /// A call whose Fn-Deadline is garbled or absent waits this long, as the
    /// server's fn timeout (D is 500ms, 30s, 2m, ...).
    #[arg(long, value_name = "D", default_value = "30s", value_parser = duration_arg)]
    call_timeout: Duration,
    /// A case's limit: past it nothing more is sent, and the case fails.
    #[arg(long, value_name = "D", default_value = "120s", value_parser = duration_arg)]
    case_timeout: Duration,
    /// The run's limit: the cases left fail as not run.
    #[arg(long, value_name = "D", default_value = "30m", value_parser = duration_arg)]
    run_timeout: Duration,
    /// List the cases and exit.
    #[arg(long)]
    list: bool,
    /// The function's command and its arguments, after `--`.
    #[arg(last = true, value_name = "COMMAND")]
    command: Vec<OsString>,
}

/// `--format`: http-stream, or a stdin/stdout format.
#[derive(Debug, Clone, Copy)]
struct FormatArg(Option<crate::stdio::StdioFormat>);

fn format_arg(v: &str) -> Result<FormatArg, String> {
    match v {
        "http-stream" => Ok(FormatArg(None)),
        name => crate::stdio::StdioFormat::parse(name)
            .map(|f| FormatArg(Some(f)))
            .ok_or_else(|| "takes http-stream, json, http, default or cloudevent".to_owned()),
    }
}

fn level_arg(v: &str) -> Result<Level, String> {
    Level::parse(v).ok_or_else(|| "takes must, should or may".to_owned())
}

fn sandbox_arg(v: &str) -> Result<sandbox::Mode, String> {
    sandbox::Mode::parse(v).ok_or_else(|| "takes auto, cgroup or signals".to_owned())
}

fn duration_arg(v: &str) -> Result<Duration, String> {
    parse_duration(v).ok_or_else(|| "takes a duration such as 500ms, 30s or 2m".to_owned())
}

fn output_arg(v: &str) -> Result<(Format, PathBuf), String> {
    let (format, file) = v
        .split_once('=')
        .ok_or_else(|| "takes FMT=FILE".to_owned())?;
    let format = Format::parse(format)
        .ok_or_else(|| format!("unknown output format {format:?}: json, tap or junit"))?;
    Ok((format, PathBuf::from(file)))
}

impl TryFrom<RunCli> for Args {
    type Error = Error;

    fn try_from(cli: RunCli) -> Result<Self, Error> {
        let mut words = cli.command.into_iter();
        let command = words.next().map(|program| {
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
            FunctionCommand {
                name,
                program,
                args: words.collect(),
            }
        });
        if command.is_none() && !cli.list {
            return Err(Error::Usage("give the function's command after --".into()));
        }
        Ok(Self {
            command,
            probe: cli.probe,
            only: cli.only,
            level: cli.level,
            fail_on: cli.fail_on,
            outputs: cli
                .output
                .into_iter()
                .map(|(format, file)| (format, file.into_os_string()))
                .collect(),
            expect: cli.expect.map(PathBuf::into_os_string),
            write_expect: cli.write_expect.map(PathBuf::into_os_string),
            freeze: !cli.no_freeze,
            uid: cli.uid,
            list: cli.list,
            format: cli.format.0,
            sandbox: cli.sandbox,
            limits: Limits {
                call: cli.call_timeout,
                case: cli.case_timeout,
                run: cli.run_timeout,
            },
        })
    }
}

fn selected(args: &Args, case: &Meta) -> bool {
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
    let catalog: Vec<Case<Harness>> = catalog()
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
    if let Some(uid) = args.uid
        && !nix::unistd::geteuid().is_root()
    {
        eprintln!(
            "fdk-conformance: --uid {uid} needs root: only root may start the function as \
             another user (run as root, or leave --uid out; life.unprivileged is then skipped)"
        );
        return Ok(2);
    }
    let sandbox = Arc::new(open_sandbox(args.sandbox)?);
    let mut harness = Harness::new(command.clone(), args.probe)
        .map_err(|e| Error::io("could not create a work directory", e))?;
    harness.set_sandbox(Arc::clone(&sandbox));
    harness.set_call_timeout(args.limits.call);
    harness.set_freeze(args.freeze);
    if let Some(uid) = args.uid {
        harness
            .set_uid(Some(uid))
            .map_err(|e| Error::io("could not open the work directory to other users", e))?;
        if let Err(why) = fn_emulator::process::check_access(uid, &command, harness.work_path()) {
            eprintln!("fdk-conformance: --uid {uid}: {why}");
            not_run(
                &command,
                &cases,
                &Failure::new(format!("--uid {uid}: {why}")),
                &args.outputs,
            )?;
            return Ok(2);
        }
    }
    eprintln!("{}", sandbox.describe());
    // Preflight: a function that never starts cannot be judged case by case.
    harness.begin_case();
    harness.set_case_deadline(
        Some(Instant::now() + args.limits.case),
        &case_limit_text(args.limits.case),
    );
    if let Err(Verdict::Fail(failure)) = harness.running() {
        eprintln!(
            "fdk-conformance: {} never became ready:\n{failure}",
            command.name
        );
        drop(harness);
        let mut failure = *failure;
        failure.what = format!("the function never became ready: {}", failure.what);
        not_run(&command, &cases, &failure, &args.outputs)?;
        return Ok(2);
    }

    let guard = Guard::start(&command, &cases, &args.outputs, args.limits);
    let mut outcomes = Vec::with_capacity(cases.len());
    eprintln!(
        "running {} cases against {}{}",
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
    drop(harness);
    let started = guard.finish();

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
fn write_outputs(
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
    let summary = Summary::of(&outcomes, Duration::ZERO, ExitRule::FailOn(Level::Must));
    write_outputs(command, &outcomes, &summary, outputs)
}

/// The sandbox `mode` asks for, started through this very binary as the
/// trampoline when it is `fdk-conformance` (see [`fn_emulator::sandbox`]).
pub(crate) fn open_sandbox(mode: sandbox::Mode) -> Result<Sandbox, Error> {
    let trampoline = TRAMPOLINE
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .clone();
    Sandbox::new(mode, trampoline)
        .map_err(|why| Error::Usage(format!("--sandbox cgroup: cgroups cannot be used: {why}")))
}

/// The program that runs [`sandbox::trampoline`] for this process, if any.
static TRAMPOLINE: Mutex<Option<std::path::PathBuf>> = Mutex::new(None);

/// Starts functions through `program` (which must run
/// [`sandbox::trampoline`] when its first argument is
/// [`sandbox::TRAMPOLINE_ARG`]); the `fdk-conformance` binary names itself.
pub fn set_trampoline(program: Option<std::path::PathBuf>) {
    *TRAMPOLINE
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner) = program;
}

/// How a case's limit is named in reports.
fn case_limit_text(limit: Duration) -> String {
    format!("the case's limit of {limit:?} (--case-timeout)")
}

/// On SIGINT or SIGTERM: thaw and kill every function process and its
/// descendants, remove the work directories and cgroups, and exit 130 or
/// 143. The handlers are installed before this returns; a thread waits for
/// the signals. Through tokio's safe handlers (the workspace denies
/// `unsafe_code`): unlike blocking the signals for a signalfd, that leaves
/// the signal mask alone, which every child would inherit (std's `Command`
/// does not reset it), and exec resets handled signals to their default.
pub fn stop_on_signals() -> std::io::Result<()> {
    use std::task::Poll;
    use tokio::signal::unix::{SignalKind, signal};
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()?;
    let (mut interrupt, mut terminate) = {
        let _context = rt.enter();
        (
            signal(SignalKind::interrupt())?,
            signal(SignalKind::terminate())?,
        )
    };
    std::thread::Builder::new()
        .name("signals".into())
        .spawn(move || {
            let (name, code) = rt.block_on(std::future::poll_fn(|cx| {
                if interrupt.poll_recv(cx).is_ready() {
                    return Poll::Ready(("SIGINT", 130));
                }
                if terminate.poll_recv(cx).is_ready() {
                    return Poll::Ready(("SIGTERM", 143));
                }
                Poll::Pending
            }));
            sandbox::emergency_stop();
            eprintln!(
                "fdk-conformance: stopped by {name}: the function and everything it started \
                 were killed, the work directory removed"
            );
            std::process::exit(code);
        })?;
    Ok(())
}

/// What the watchdog knows of the run.
#[derive(Debug)]
struct Watched {
    command: FunctionCommand,
    cases: Vec<Meta>,
    outputs: Vec<(Format, OsString)>,
    outcomes: Vec<Outcome>,
    /// The case running, and when its limit passes.
    current: Option<(Meta, Instant)>,
    run_deadline: Instant,
    done: bool,
}

/// The run's limits around its cases: each case's deadline, the run's, and
/// a watchdog thread for a case that outlasts its limit anyway (a wait the
/// harness does not control): the run then ends as a failure, with its
/// output files, instead of hanging.
#[derive(Debug)]
pub(crate) struct Guard {
    state: Arc<Mutex<Watched>>,
    limits: Limits,
    started: Instant,
}

impl Guard {
    /// Starts the watchdog for a run of `cases`.
    pub(crate) fn start(
        command: &FunctionCommand,
        cases: &[Meta],
        outputs: &[(Format, OsString)],
        limits: Limits,
    ) -> Self {
        let started = Instant::now();
        let state = Arc::new(Mutex::new(Watched {
            command: command.clone(),
            cases: cases.to_vec(),
            outputs: outputs.to_vec(),
            outcomes: Vec::new(),
            current: None,
            run_deadline: started + limits.run,
            done: false,
        }));
        let watched = Arc::clone(&state);
        let spawned = std::thread::Builder::new()
            .name("watchdog".into())
            .spawn(move || watchdog(&watched, limits));
        if let Err(e) = spawned {
            eprintln!("fdk-conformance: no watchdog ({e}); the limits are the harness's alone");
        }
        Self {
            state,
            limits,
            started,
        }
    }

    fn lock(&self) -> MutexGuard<'_, Watched> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// A case begins: its deadline, or the verdict of a case the run's
    /// limit leaves no time for.
    pub(crate) fn begin(&self, case: &Meta) -> Result<Instant, Verdict> {
        let mut state = self.lock();
        let now = Instant::now();
        if now >= state.run_deadline {
            return Err(Verdict::fail(format!(
                "not run: the run's limit of {:?} (--run-timeout) had passed",
                self.limits.run
            )));
        }
        let deadline = (now + self.limits.case).min(state.run_deadline);
        state.current = Some((*case, deadline));
        Ok(deadline)
    }

    /// How the limit ending at `deadline` is named in reports.
    pub(crate) fn limit_text(&self, deadline: Instant) -> String {
        if deadline >= self.started + self.limits.run {
            format!("the run's limit of {:?} (--run-timeout)", self.limits.run)
        } else {
            case_limit_text(self.limits.case)
        }
    }

    /// The verdict of a case that took `took` against its `deadline`: a
    /// case that outlasted it fails, whatever it found.
    pub(crate) fn judge(&self, verdict: Verdict, took: Duration, deadline: Instant) -> Verdict {
        if Instant::now() < deadline {
            return verdict;
        }
        let note = format!(
            "the case did not end within {} (it took {:.1} s)",
            self.limit_text(deadline),
            took.as_secs_f64()
        );
        match verdict {
            Verdict::Fail(mut failure) => {
                failure.what = format!("{}; {note}", failure.what);
                Verdict::Fail(failure)
            }
            _ => Verdict::fail(note),
        }
    }

    /// A case ended.
    pub(crate) fn end(&self, outcome: &Outcome) {
        let mut state = self.lock();
        state.current = None;
        state.outcomes.push(Outcome {
            case: outcome.case,
            verdict: outcome.verdict.clone(),
            took: outcome.took,
        });
    }

    /// The run is over: the watchdog stands down. Returns when it began.
    pub(crate) fn finish(self) -> Instant {
        self.lock().done = true;
        self.started
    }
}

/// Watches a run: when a case outlasts its limit by [`WATCHDOG_GRACE`],
/// reports it failed (and the cases after it not run) in the output files,
/// kills the function and everything it started, removes the work
/// directory and exits 1.
fn watchdog(state: &Mutex<Watched>, limits: Limits) {
    loop {
        std::thread::sleep(Duration::from_millis(250));
        let state = state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if state.done {
            return;
        }
        let Some((case, deadline)) = state.current else {
            continue;
        };
        if Instant::now() < deadline + WATCHDOG_GRACE {
            continue;
        }
        let what = format!(
            "the case was still running {:?} after its limit ({:?} per case, --case-timeout; \
             {:?} per run, --run-timeout): the harness gave up on the run",
            WATCHDOG_GRACE, limits.case, limits.run
        );
        eprintln!("fdk-conformance: {}: {what}", case.id);
        let mut outcomes: Vec<Outcome> = state
            .outcomes
            .iter()
            .map(|o| Outcome {
                case: o.case,
                verdict: o.verdict.clone(),
                took: o.took,
            })
            .collect();
        outcomes.push(Outcome {
            case,
            verdict: Verdict::fail(what),
            took: limits.case + WATCHDOG_GRACE,
        });
        for rest in state.cases.iter().skip(outcomes.len()) {
            outcomes.push(Outcome {
                case: *rest,
                verdict: Verdict::fail(format!("not run: {} never ended", case.id)),
                took: Duration::ZERO,
            });
        }
        let summary = Summary::of(&outcomes, Duration::ZERO, ExitRule::FailOn(Level::Must));
        if let Err(e) = write_outputs(&state.command, &outcomes, &summary, &state.outputs) {
            eprintln!("fdk-conformance: {}", crate::error::display_chain(&e));
        }
        sandbox::emergency_stop();
        std::process::exit(1);
    }
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
        sandbox: args.sandbox,
        limits: args.limits,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(clap::Parser)]
    struct Cli {
        #[command(flatten)]
        run: RunCli,
    }

    /// `run`'s arguments as the command line parses them.
    fn parse<I: IntoIterator<Item = OsString>>(args: I) -> Result<Args, Error> {
        use clap::Parser as _;
        let argv = std::iter::once(OsString::from("run")).chain(args);
        let cli = Cli::try_parse_from(argv).map_err(|e| Error::Usage(e.to_string()))?;
        Args::try_from(cli.run)
    }

    /// Both `--flag value` and `--flag=value`; the command after `--`.
    #[test]
    fn options_take_both_spellings() {
        let args = parse(
            [
                "--only=sock.",
                "--only",
                "resp.",
                "--fail-on=should",
                "--probe",
                "--",
                "./f",
                "x",
            ]
            .map(OsString::from),
        )
        .unwrap();
        assert_eq!(args.only, ["sock.", "resp."]);
        assert_eq!((args.fail_on, args.probe), (Some(Level::Should), true));
        let command = args.command.unwrap();
        assert_eq!((command.name.as_str(), command.args.len()), ("f", 1));
        assert!(std::path::Path::new(&command.program).is_absolute());
        // No command: a usage error, unless the cases are only listed.
        assert!(matches!(parse([]), Err(Error::Usage(_))));
        assert!(parse(["--list".into()]).unwrap().command.is_none());
        assert!(parse(["--bogus", "--", "f"].map(OsString::from)).is_err());
        assert!(parse(["--level", "often", "--", "f"].map(OsString::from)).is_err());
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("500ms"), Some(Duration::from_millis(500)));
        assert_eq!(parse_duration("30s"), Some(Duration::from_secs(30)));
        assert_eq!(parse_duration("30"), Some(Duration::from_secs(30)));
        assert_eq!(parse_duration("2m"), Some(Duration::from_secs(120)));
        assert_eq!(parse_duration("1h"), Some(Duration::from_secs(3600)));
        assert_eq!(parse_duration("0s"), None);
        assert_eq!(parse_duration("2 weeks"), None);
        assert_eq!(parse_duration("s"), None);
    }

    #[test]
    fn limits_parse() {
        let args = parse(
            [
                "--call-timeout",
                "2s",
                "--case-timeout",
                "1m",
                "--run-timeout",
                "10m",
                "--sandbox",
                "signals",
                "--",
                "f",
            ]
            .map(OsString::from),
        )
        .unwrap();
        assert_eq!(
            args.limits,
            Limits {
                call: Duration::from_secs(2),
                case: Duration::from_secs(60),
                run: Duration::from_secs(600),
            }
        );
        assert_eq!(args.sandbox, sandbox::Mode::Signals);
        assert!(parse(["--sandbox", "docker", "--", "f"].map(OsString::from)).is_err());
        assert!(parse(["--case-timeout", "soon", "--", "f"].map(OsString::from)).is_err());
    }
}
