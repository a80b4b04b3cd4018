//! The run's limits around its cases ([`Guard`]): each case's deadline, the
//! run's, and the watchdog that ends a run whose case outlasts its limit.

use std::ffi::OsString;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use super::args::Limits;
use super::results::write_outputs;
use crate::case::Meta;
use crate::level::Level;
use crate::report::{ExitRule, Format, Outcome, Summary};
use crate::verdict::Verdict;
use fn_emulator::FunctionCommand;
use fn_emulator::sandbox;

/// How long past a case's limit the watchdog waits for the harness to end
/// the case itself before it gives up on the run.
const WATCHDOG_GRACE: Duration = Duration::from_secs(30);

/// How a case's limit is named in reports.
pub(super) fn case_limit_text(limit: Duration) -> String {
    format!("the case's limit of {limit:?} (--case-timeout)")
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
