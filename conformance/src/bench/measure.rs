//! The call loop for one function: one keep-alive connection, a call at a
//! time, each response checked, each successful call's latency kept.

use std::fmt::Write as _;
use std::time::{Duration, Instant, SystemTime};

use serde::Serialize;

use super::cpu;
use crate::error::display_chain;
use fn_emulator::rfc3339::format_utc;
use fn_emulator::{CallIds, Connection, RequestTemplate, Response, RunningFunction, procfs};

/// How far ahead `Fn-Deadline` is set: the fn `timeout`, 30 s by default.
const DEADLINE_AHEAD: Duration = Duration::from_secs(30);

/// What every call shares: the request template, the call IDs and a buffer.
#[derive(Debug)]
pub(crate) struct CallMaker {
    template: RequestTemplate,
    ids: CallIds,
    buf: Vec<u8>,
}

impl CallMaker {
    /// Calls built from `template`.
    pub(crate) fn new(template: RequestTemplate) -> Self {
        Self {
            template,
            ids: CallIds::new(),
            buf: Vec::with_capacity(1024),
        }
    }

    /// Renders the next call, with a fresh `Fn-Call-Id` and a deadline 30 s ahead.
    fn next(&mut self) -> &[u8] {
        let id = self.ids.next_id();
        let deadline = format_utc(SystemTime::now() + DEADLINE_AHEAD);
        self.template.render(&id, &deadline, &mut self.buf);
        &self.buf
    }
}

/// Calls that did not end in the expected answer, by kind.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub(crate) struct Failures {
    /// All failed calls.
    pub total: u64,
    /// Answered with a status other than 200.
    pub status: u64,
    /// Answered 200 with a body other than the expected one.
    pub body: u64,
    /// No valid HTTP response: I/O error, malformed bytes, connection closed.
    pub protocol: u64,
    /// A description of the first failure.
    pub first: Option<String>,
}

/// Memory, threads and open descriptors of the function at one point of the
/// run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct Checkpoint {
    /// `warm` (after warmup), `1k`, `10k`, `100k`, `1M` or `end`.
    pub label: &'static str,
    /// Measured calls made when the sample was taken.
    pub after_calls: u64,
    /// `VmRSS` in KiB (`None` if the process could not be read).
    pub rss_kib: Option<u64>,
    /// `Threads` (`None` if the process could not be read).
    pub threads: Option<u64>,
    /// Entries of `/proc/<pid>/fd` (`None` if the process could not be read).
    pub fds: Option<u64>,
}

enum Failure {
    Status(u16),
    Body(usize),
    Protocol(String),
}

/// One function under measurement.
#[derive(Debug)]
pub(crate) struct Subject {
    /// The function's name.
    pub name: String,
    /// The running process.
    pub running: RunningFunction,
    /// The body every answer must have, if known.
    expected_body: Option<&'static [u8]>,
    conn: Option<Connection>,
    connects: u64,
    calls_made: u64,
    /// Latencies of the successful measured calls, in nanoseconds.
    pub latencies_ns: Vec<u64>,
    /// Failed calls, warmup included.
    pub failures: Failures,
    /// Measured calls made (successful or not).
    pub measured: u64,
    /// Wall time spent in measured blocks.
    pub busy: Duration,
    /// The driver's CPU time spent in measured blocks (`None` if unreadable).
    pub client_cpu: Option<Duration>,
    /// The function's CPU time after warmup (`None` if unreadable).
    pub function_cpu_start: Option<Duration>,
    /// Memory samples.
    pub checkpoints: Vec<Checkpoint>,
    /// Why calls stopped early, if they did.
    pub stopped: Option<String>,
}

impl Subject {
    /// A subject for `running`; `expected_body` is checked on every answer.
    pub(crate) fn new(
        name: String,
        running: RunningFunction,
        expected_body: Option<&'static [u8]>,
        expected_calls: u64,
    ) -> Self {
        Self {
            name,
            running,
            expected_body,
            conn: None,
            connects: 0,
            calls_made: 0,
            latencies_ns: Vec::with_capacity(usize::try_from(expected_calls).unwrap_or(0)),
            failures: Failures::default(),
            measured: 0,
            busy: Duration::ZERO,
            client_cpu: Some(Duration::ZERO),
            function_cpu_start: None,
            checkpoints: Vec::new(),
            stopped: None,
        }
    }

    /// Whether calls stopped for good (the function died or cannot be reached).
    pub(crate) fn is_stopped(&self) -> bool {
        self.stopped.is_some()
    }

    /// Connections opened after the first one (the function closed the
    /// previous one, or a call failed).
    pub(crate) fn reconnects(&self) -> u64 {
        self.connects.saturating_sub(1)
    }

    /// Makes `n` unmeasured calls.
    pub(crate) fn warm_up(&mut self, n: u64, maker: &mut CallMaker) {
        for _ in 0..n {
            if self.is_stopped() {
                return;
            }
            self.call(maker);
        }
    }

    /// Makes up to `n` measured calls back to back.
    pub(crate) fn run_block(&mut self, n: u64, maker: &mut CallMaker) {
        let cpu_before = cpu::own_cpu_time();
        let started = Instant::now();
        for _ in 0..n {
            if self.is_stopped() {
                break;
            }
            if let Some(latency) = self.call(maker) {
                self.latencies_ns
                    .push(u64::try_from(latency.as_nanos()).unwrap_or(u64::MAX));
            }
            self.measured += 1;
        }
        self.busy += started.elapsed();
        self.client_cpu = match (self.client_cpu, cpu_before, cpu::own_cpu_time()) {
            (Some(sum), Some(before), Some(after)) => Some(sum + after.saturating_sub(before)),
            _ => None,
        };
    }

    /// Samples memory, threads and descriptors under `label`.
    pub(crate) fn checkpoint(&mut self, label: &'static str) {
        let pid = self.running.pid();
        let status = procfs::status(pid).ok();
        self.checkpoints.push(Checkpoint {
            label,
            after_calls: self.measured,
            rss_kib: status.as_ref().map(|s| s.rss_kib),
            threads: status.as_ref().map(|s| s.threads),
            fds: procfs::open_fds(pid).ok(),
        });
    }

    /// One call; its latency if the answer was as expected.
    fn call(&mut self, maker: &mut CallMaker) -> Option<Duration> {
        self.calls_made += 1;
        if self.conn.is_none() {
            match Connection::connect(self.running.socket()) {
                Ok(conn) => {
                    self.connects += 1;
                    self.conn = Some(conn);
                }
                Err(e) => {
                    let why = format!("cannot connect to {}: {e}", self.running.socket().display());
                    self.fail(Failure::Protocol(why.clone()));
                    self.stop(why);
                    return None;
                }
            }
        }
        let conn = self.conn.as_mut()?;
        let request = maker.next();
        let started = Instant::now();
        let result = conn.call(request);
        let latency = started.elapsed();
        match result {
            Ok(response) => {
                if response.close {
                    self.conn = None;
                }
                match self.check(&response) {
                    Ok(()) => Some(latency),
                    Err(failure) => {
                        self.fail(failure);
                        None
                    }
                }
            }
            Err(e) => {
                self.conn = None;
                self.fail(Failure::Protocol(display_chain(&e)));
                if let Ok(Some(status)) = self.running.exit_status() {
                    self.stop(format!("function exited ({status})"));
                }
                None
            }
        }
    }

    fn check(&self, response: &Response) -> Result<(), Failure> {
        if response.status != 200 {
            return Err(Failure::Status(response.status));
        }
        match self.expected_body {
            Some(body) if response.body != body => Err(Failure::Body(response.body.len())),
            _ => Ok(()),
        }
    }

    fn fail(&mut self, failure: Failure) {
        let f = &mut self.failures;
        f.total += 1;
        let mut text = format!("call {}: ", self.calls_made);
        match failure {
            Failure::Status(code) => {
                f.status += 1;
                let _ = write!(text, "status {code}, expected 200");
            }
            Failure::Body(len) => {
                f.body += 1;
                let _ = write!(text, "unexpected body of {len} bytes");
            }
            Failure::Protocol(why) => {
                f.protocol += 1;
                text.push_str(&why);
            }
        }
        if f.first.is_none() {
            f.first = Some(text);
        }
    }

    fn stop(&mut self, why: String) {
        if self.stopped.is_none() {
            self.stopped = Some(why);
        }
    }
}
