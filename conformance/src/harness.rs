//! What a conformance case works with: the emulator's [`Agent`] (the
//! function under test, started, called, frozen and replaced as the server
//! does it), with the case's limit, the case's share of the function's log,
//! and failures turned into verdicts with their evidence.
//!
//! A function started by one case is reused by the next unless a case
//! changed it (signals, a crash, special start options): starting an FDK can
//! take a second, and the suite must stay under a minute. No call outlasts
//! the case's limit (`--case-timeout`), and once that has passed nothing
//! more is sent or started.

use std::ops::{Deref, DerefMut};
use std::path::PathBuf;
use std::time::Instant;

use crate::case::CaseResult;
use crate::verdict::{Failure, Verdict, show_bytes};
use fn_emulator::exchange::SHOW_BODY;
use fn_emulator::{Agent, AgentError, FunctionCommand, RunningFunction, StartOptions};

pub(crate) use fn_emulator::SERVER_IDLE_CLOSE;
pub use fn_emulator::{Call, Ended, Exchange, Via};

/// How much of the function's output since a case began a case may read.
const CASE_OUTPUT_MAX: usize = 4 << 20;
/// How much of the function's log a report shows.
const SHOW_LOG: usize = 2048;

/// The function under test and the run's state: an [`Agent`] (its methods
/// are the harness's) whose failures are verdicts.
#[derive(Debug)]
pub struct Harness {
    agent: Agent,
    probe: bool,
    /// The function runs in an image's container, where its socket is
    /// always `/tmp/iofs/lsnr.sock` whatever the harness's directory.
    in_container: bool,
}

impl Deref for Harness {
    type Target = Agent;

    fn deref(&self) -> &Agent {
        &self.agent
    }
}

impl DerefMut for Harness {
    fn deref_mut(&mut self) -> &mut Agent {
        &mut self.agent
    }
}

impl Harness {
    /// A harness for `command`; `probe` says it speaks the probe protocol.
    pub fn new(command: FunctionCommand, probe: bool) -> std::io::Result<Self> {
        Ok(Self {
            agent: Agent::new(command)?,
            probe,
            in_container: false,
        })
    }

    /// Says that the function runs in an image's container (`--image`,
    /// `--docker`): the socket directory is bound at `/tmp/iofs`, so the
    /// path the function sees does not depend on the harness's.
    pub(crate) fn set_in_container(&mut self, in_container: bool) {
        self.in_container = in_container;
    }

    /// Does the function run in an image's container?
    pub(crate) fn in_container(&self) -> bool {
        self.in_container
    }

    /// Does the function speak the probe protocol?
    pub(crate) fn has_probe(&self) -> bool {
        self.probe
    }

    /// No call outlasts `deadline`, and past it no call is sent and no
    /// process started; `limit` names it in reports (`the case's limit of
    /// 120 s (--case-timeout)`, say). `None` lifts it.
    pub(crate) fn set_case_deadline(&mut self, deadline: Option<Instant>, limit: &str) {
        self.agent.set_time_limit(deadline, limit);
    }

    /// Marks the start of a case: reports show the log written after it.
    pub(crate) fn begin_case(&mut self) {
        self.agent.mark_log();
    }

    /// What the function wrote (stdout and stderr) since the case began,
    /// up to its last 4 MiB (a function may log gigabytes).
    pub(crate) fn case_output(&self) -> String {
        self.agent.output_since_mark(CASE_OUTPUT_MAX)
    }

    /// The end of the function's output since the case began (only that
    /// much is read: a function may log gigabytes).
    pub(crate) fn case_log(&self) -> String {
        self.agent.output_since_mark(SHOW_LOG)
    }

    /// [`Agent::start`], failing as a verdict.
    pub(crate) fn start(&mut self, options: StartOptions) -> Result<&mut RunningFunction, Verdict> {
        let started = self.agent.start(options).map(|_| ());
        self.current(started)
    }

    /// [`Agent::fresh_dir`], failing as a verdict.
    pub(crate) fn fresh_dir(&mut self) -> Result<PathBuf, Verdict> {
        self.agent.fresh_dir().map_err(|e| self.verdict(e))
    }

    /// [`Agent::start_in`], failing as a verdict.
    pub(crate) fn start_in(
        &mut self,
        iofs: PathBuf,
        options: StartOptions,
    ) -> Result<&mut RunningFunction, Verdict> {
        let started = self.agent.start_in(iofs, options).map(|_| ());
        self.current(started)
    }

    /// [`Agent::running`], failing as a verdict.
    pub(crate) fn running(&mut self) -> Result<&mut RunningFunction, Verdict> {
        let running = self.agent.running().map(|_| ());
        self.current(running)
    }

    /// The function that `outcome` (a start, or a look for one) left
    /// running. The agent's methods hand out a borrow of themselves, so the
    /// function is fetched again once that borrow has ended.
    fn current(
        &mut self,
        outcome: Result<(), AgentError>,
    ) -> Result<&mut RunningFunction, Verdict> {
        match outcome {
            Ok(()) => self
                .agent
                .current_mut()
                .ok_or_else(|| Verdict::fail("no running function")),
            Err(e) => Err(self.verdict(e)),
        }
    }

    /// [`Agent::connect`], failing as a verdict.
    pub fn connect(&mut self) -> Result<fn_emulator::Connection, Verdict> {
        self.agent.connect().map_err(|e| self.verdict(e))
    }

    /// [`Agent::call`], failing as a verdict.
    pub fn call(&mut self, call: &Call) -> Result<Exchange, Verdict> {
        self.agent.call(call).map_err(|e| self.verdict(e))
    }

    /// [`Agent::call_on_new`], failing as a verdict.
    pub(crate) fn call_on_new(&mut self, call: &Call) -> Result<Exchange, Verdict> {
        self.agent.call_on_new(call).map_err(|e| self.verdict(e))
    }

    /// A failure with the evidence of `exchange`.
    pub(crate) fn failed(&self, what: impl Into<String>, exchange: &Exchange) -> Verdict {
        let mut failure = Failure::new(what);
        if let Some(note) = self.oom_note() {
            failure.what.push_str(&note);
        }
        failure.sent = Some(show_bytes(&exchange.sent, SHOW_BODY + 1024));
        failure.got = Some(exchange.shown());
        failure.server = Some(exchange.view.clone());
        failure.connection = Some(exchange.via.to_string());
        Verdict::with_log(failure, self.case_log())
    }

    /// `Ok` if `exchange` was answered 200, else the failure `what` with
    /// its evidence.
    pub(crate) fn require_200(&self, exchange: &Exchange, what: impl Into<String>) -> CaseResult {
        match exchange.status() {
            Some(200) => Ok(()),
            _ => Err(self.failed(what, exchange)),
        }
    }

    /// A failure without an exchange, with the case's log.
    pub(crate) fn failed_plain(&self, what: impl Into<String>) -> Verdict {
        Verdict::with_log(Failure::new(what), self.case_log())
    }

    /// The agent's error as a failure, with the case's log.
    fn verdict(&self, error: AgentError) -> Verdict {
        let mut failure = Failure::new(error.what);
        failure.server = error.server;
        Verdict::with_log(failure, self.case_log())
    }

    /// Evidence that the kernel's OOM killer struck in the current jail, as
    /// it does to a container over its memory limit.
    fn oom_note(&self) -> Option<String> {
        let (kills, memory_mb) = self.agent.oom_kills()?;
        Some(format!(
            " (the kernel's OOM killer killed {kills} process(es) of the function: it went \
             over its memory limit of {memory_mb} MB, FN_MEMORY; the server answers 502 \
             \"error receiving function response\" and the container is gone)"
        ))
    }
}

/// The op the probe said it cannot do, if it said so.
pub(crate) fn unsupported(exchange: &Exchange) -> Option<String> {
    let res = exchange.response()?;
    let json: serde_json::Value = serde_json::from_slice(&res.body).ok()?;
    json.get("probe_unsupported")?.as_str().map(str::to_owned)
}
