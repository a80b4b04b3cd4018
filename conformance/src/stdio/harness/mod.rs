//! What a stdio case works with: the function run as the 0.3.602 server
//! ran it in one format (SIO-LIFE-4), calls written and read as that server
//! wrote and read them (SIO-IO-7, SIO-IO-8, SIO-DL-3, SIO-ERR-7), and the
//! evidence a failure shows.
//!
//! Hot formats: one process serves the calls of every case until a call
//! gets it killed (excess data, a response that does not decode, a
//! timeout) or it exits; the next call then starts a new one. After each
//! call the harness watches stdout for 100 ms more (excess data), then
//! freezes the process until the next call (the run's sandbox: the cgroup
//! freezer, or SIGSTOP/SIGCONT), unless `--no-freeze`. `default`: every
//! call is a new process.
//!
//! The harness's state, its processes and its evidence are here; the calls
//! themselves in `calls.rs`, what a call is in [`crate::stdio::call`].

mod calls;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use fn_emulator::iofs::LogFile;
use fn_emulator::sandbox::Sandbox;
use fn_emulator::stdio::process::{HotProcess, Launch, Pulled, server_env};
use fn_emulator::stdio::served::Served;
use fn_emulator::{FunctionCommand, WorkDir};
use nix::sys::signal::Signal;

use super::StdioFormat;
use crate::verdict::{Failure, Verdict, show_bytes};

/// How long stdout is watched after a response for excess data (SIO-IO-8).
pub(crate) const EXCESS_WINDOW: Duration = Duration::from_millis(100);
/// How much of the sent bytes a report shows.
const SHOW_SENT: usize = 1536;
/// The most of the function's log a case reads (what it searches in): a
/// function may log gigabytes.
const READ_LOG: usize = 4 << 20;
/// How much of the function's log a report shows.
const SHOW_LOG: usize = 2048;

/// The function under test in one stdio format, and the run's state.
#[derive(Debug)]
pub(crate) struct StdioHarness {
    format: StdioFormat,
    command: FunctionCommand,
    probe: bool,
    freeze: bool,
    work: WorkDir,
    log: LogFile,
    log_mark: u64,
    /// The container every process runs in.
    sandbox: Arc<Sandbox>,
    current: Option<HotProcess>,
    /// Why there is no current process, told with the next one.
    gone: Option<String>,
    next_id: u64,
    /// `FN_MAX_RESPONSE_SIZE` (unset by default: no limit).
    max_response: Option<usize>,
    /// Variables a case adds to the server's environment for the
    /// processes it starts (cleared, and such a process discarded, when
    /// the next case begins).
    extra_env: Vec<(String, String)>,
}

impl StdioHarness {
    /// A harness for `command` in `format`; `probe` says it speaks the probe
    /// protocol.
    pub(crate) fn new(
        format: StdioFormat,
        command: FunctionCommand,
        probe: bool,
    ) -> std::io::Result<Self> {
        let work = WorkDir::create()?;
        let log = LogFile::create(work.path().join("function.log"))?;
        Ok(Self {
            format,
            command,
            probe,
            freeze: true,
            work,
            log,
            log_mark: 0,
            sandbox: Arc::new(Sandbox::process_groups()),
            current: None,
            gone: None,
            next_id: 0,
            max_response: None,
            extra_env: Vec::new(),
        })
    }

    /// Plays a server with `FN_MAX_RESPONSE_SIZE` set: a call whose stdout
    /// goes over `max` bytes is a 502 "function response too large" and the
    /// container is killed. Unset (the default), as the server's default.
    // Only the unit tests play a server with a limit: the catalog's cases
    // run with the server's default.
    #[cfg(test)]
    pub(crate) fn set_max_response(&mut self, max: Option<usize>) {
        self.max_response = max;
    }

    /// Ends the run as the server ends a container it no longer needs:
    /// thaw, close stdin, give the process a second to exit, then kill it.
    pub(crate) fn shut_down(&mut self) {
        if let Some(p) = self.current.as_mut() {
            p.close_stdin();
            let _ = p.wait_exit(Duration::from_secs(1));
        }
        self.current = None;
    }

    /// Starts every process in `sandbox` from now on (the default: a
    /// process group of its own, frozen with signals).
    pub(crate) fn set_sandbox(&mut self, sandbox: Arc<Sandbox>) {
        self.sandbox = sandbox;
    }

    /// Freeze the process between calls (the default) or not.
    pub(crate) fn set_freeze(&mut self, freeze: bool) {
        self.freeze = freeze;
    }

    /// The format.
    pub(crate) fn format(&self) -> StdioFormat {
        self.format
    }

    /// Does the function speak the probe protocol?
    pub(crate) fn has_probe(&self) -> bool {
        self.probe
    }

    /// A fresh, empty 0777 directory (for `FN_LISTENER` cases).
    pub(crate) fn fresh_dir(&mut self) -> Result<PathBuf, Verdict> {
        self.work
            .fresh_iofs()
            .map_err(|e| Verdict::fail(format!("could not prepare a directory: {e}")))
    }

    /// Marks the start of a case: reports show the log written after it.
    /// A process started with a case's own environment is not reused.
    pub(crate) fn begin_case(&mut self) {
        if !self.extra_env.is_empty() {
            self.extra_env.clear();
            self.discard("the previous case had started it with its own environment");
        }
        self.log_mark = self.log.len();
    }

    /// Sets `name` in the environment of every process this case starts
    /// (after the server's variables, so it may override one).
    pub(crate) fn set_env(&mut self, name: &str, value: &str) {
        self.extra_env.retain(|(k, _)| k != name);
        self.extra_env.push((name.to_owned(), value.to_owned()));
    }

    /// The server's environment for a new process, with the case's own.
    fn env(&self) -> Vec<(String, String)> {
        let mut env = server_env(self.format);
        for (k, v) in &self.extra_env {
            env.retain(|(key, _)| key != k);
            env.push((k.clone(), v.clone()));
        }
        env
    }

    /// What the function wrote to stderr since the case began (its last
    /// 4 MiB, if it wrote more).
    pub(crate) fn case_output(&self) -> String {
        self.log.tail_since(self.log_mark, READ_LOG)
    }

    /// The end of [`case_output`](Self::case_output), for reports.
    pub(crate) fn case_log(&self) -> String {
        self.log.tail_since(self.log_mark, SHOW_LOG)
    }

    fn next_call_id(&mut self) -> String {
        self.next_id += 1;
        format!("01KCONF0RMANCESTDI{:08}", self.next_id)
    }

    // ------------------------------------------------------------ processes

    /// Starts a new hot process with the server's environment changed by
    /// `set` and `remove`, replacing the current one.
    pub(crate) fn restart(
        &mut self,
        set: &[(&str, &str)],
        remove: &[&str],
    ) -> Result<u32, Verdict> {
        self.discard("the case started a new process");
        let process = self.spawn(set, remove)?;
        let pid = process.pid();
        self.current = Some(process);
        Ok(pid)
    }

    /// The running hot process, started if there is none or it exited
    /// (the server replaced a container that exited while idle).
    pub(crate) fn running(&mut self) -> Result<&mut HotProcess, Verdict> {
        if let Some(p) = self.current.as_mut()
            && let Some(status) = p.exit_status()
        {
            self.gone = Some(format!("the previous process had exited ({status})"));
            self.current = None;
        }
        if self.current.is_none() {
            let gone = self.gone.take();
            self.restart(&[], &[])?;
            self.gone = gone;
        }
        self.current
            .as_mut()
            .ok_or_else(|| Verdict::fail("no running process"))
    }

    /// Stops using the current process (killing it); `why` is told with
    /// the next one.
    pub(crate) fn discard(&mut self, why: &str) {
        if self.current.take().is_some() {
            self.gone = Some(why.to_owned());
        }
    }

    /// The current process's id, without starting one.
    pub(crate) fn pid(&self) -> Option<u32> {
        self.current.as_ref().map(HotProcess::pid)
    }

    /// The process that served the last call, still running; never a new
    /// one (a case that acts on "the process" must not act on a stand-in).
    fn current(&mut self) -> Result<&mut HotProcess, Verdict> {
        let status = match self.current.as_mut() {
            None => None,
            Some(p) => match p.exit_status() {
                None => {
                    return self
                        .current
                        .as_mut()
                        .ok_or_else(|| Verdict::fail("no process"));
                }
                Some(status) => Some(status),
            },
        };
        Err(self.failed_plain(match status {
            Some(status) => format!("the process had already exited ({status})"),
            None => "the server had already killed the process".to_owned(),
        }))
    }

    /// Sends `signal` to the current process (thawed first).
    pub(crate) fn signal(&mut self, signal: Signal) -> Result<(), Verdict> {
        let p = self.current()?;
        p.thaw();
        p.signal(signal)
            .map_err(|e| Verdict::fail(format!("could not send {signal}: {e}")))
    }

    /// Writes raw bytes to the current process's stdin.
    pub(crate) fn write_raw(&mut self, bytes: &[u8]) -> Result<(), Verdict> {
        let p = self.current()?;
        p.write(bytes.to_vec())
            .map_err(|e| Verdict::fail(format!("could not write to the function: {e}")))
    }

    /// Closes the current process's stdin (EOF at the next read).
    pub(crate) fn close_stdin(&mut self) -> Result<(), Verdict> {
        self.current()?.close_stdin();
        Ok(())
    }

    /// Waits up to `limit` for the current process to exit; `None` if it
    /// did not (it is then killed). The process is gone either way.
    pub(crate) fn wait_exit(&mut self, limit: Duration) -> Option<std::process::ExitStatus> {
        let status = self.current.as_mut().and_then(|p| p.wait_exit(limit));
        let why = match status {
            Some(s) => format!("the previous process exited ({s})"),
            None => "the previous process did not exit when expected and was killed".into(),
        };
        self.discard(&why);
        status
    }

    /// Every stdout byte of the current process that no call consumed
    /// (waiting up to `limit` for stdout to end).
    pub(crate) fn unread_output(&mut self, limit: Duration) -> Vec<u8> {
        let until = Instant::now() + limit;
        let Some(p) = self.current.as_mut() else {
            return Vec::new();
        };
        while p.pull(until) == Pulled::Bytes {}
        let n = p.pending().len();
        p.consume(n)
    }

    /// The current process's exit status, if it has exited (without
    /// starting one).
    pub(crate) fn exit_status(&mut self) -> Option<std::process::ExitStatus> {
        self.current.as_mut().and_then(HotProcess::exit_status)
    }

    /// Whether the current process is still running (without starting one).
    pub(crate) fn alive(&mut self) -> bool {
        self.current
            .as_mut()
            .is_some_and(|p| p.exit_status().is_none())
    }

    /// Starts a process that must not be given a call (SIO-ENV-1 checks):
    /// with the server's environment changed, stdin left open.
    pub(crate) fn spawn_plain(&mut self, set: &[(&str, &str)]) -> Result<HotProcess, Verdict> {
        self.spawn(set, &[])
    }

    /// Starts a process with the server's environment changed by `set` and
    /// `remove`, not made current.
    fn spawn(&mut self, set: &[(&str, &str)], remove: &[&str]) -> Result<HotProcess, Verdict> {
        let mut env = self.env();
        env.retain(|(k, _)| !remove.contains(&k.as_str()));
        for (k, v) in set {
            env.retain(|(key, _)| key != k);
            env.push(((*k).to_owned(), (*v).to_owned()));
        }
        HotProcess::spawn(&self.launch(env)).map_err(|e| self.not_executed(&e))
    }

    /// How to start the function with `env`, in the run's container.
    fn launch(&self, env: Vec<(String, String)>) -> Launch<'_> {
        Launch {
            command: &self.command,
            env,
            log: self.log.path(),
            sandbox: Some(&self.sandbox),
        }
    }

    /// The failure of a process that could not be started.
    fn not_executed(&self, e: &std::io::Error) -> Verdict {
        self.failed_plain(format!(
            "could not execute {}: {e}",
            self.command.words().join(" ")
        ))
    }

    // ------------------------------------------------------------ reports

    /// A failure with the evidence of `served`.
    pub(crate) fn failed(&self, what: impl Into<String>, served: &Served) -> Verdict {
        let mut failure = Failure::new(what);
        failure.sent = Some(show_bytes(&served.sent, SHOW_SENT));
        failure.got = Some(served.shown());
        failure.server = served.server_view();
        Verdict::with_log(failure, self.case_log())
    }

    /// A failure without a call, with the case's log.
    pub(crate) fn failed_plain(&self, what: impl Into<String>) -> Verdict {
        Verdict::with_log(Failure::new(what), self.case_log())
    }
}

impl Drop for StdioHarness {
    fn drop(&mut self) {
        // The process (and everything it started) goes before the work
        // directory that holds its log.
        self.current = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stdio::call::StdioCall;
    use fn_emulator::outcome::Fate;
    use fn_emulator::stdio::served::End;

    fn harness(script: &str) -> StdioHarness {
        let command = FunctionCommand {
            name: "sh".into(),
            program: "sh".into(),
            args: vec!["-c".into(), script.into()],
        };
        StdioHarness::new(StdioFormat::Json, command, false).unwrap()
    }

    fn call() -> StdioCall {
        StdioCall::new()
            .text(StdioFormat::Json, "hi")
            .timeout(Duration::from_secs(5))
    }

    #[test]
    fn bytes_written_between_calls_start_the_next_calls_stream() {
        // Answers a request, then 150 ms later (after the excess window)
        // writes a stray line, then answers the next request.
        let mut h = harness(
            r#"read -r l; echo '{"body":"one"}'; sleep 0.15; echo stray; read -r l; echo '{"body":"two"}'; read -r l"#,
        );
        h.set_freeze(false);
        let first = h.call(&call()).unwrap();
        assert_eq!(first.text(), "one");
        assert_eq!(first.view.fate, Fate::Kept);
        std::thread::sleep(Duration::from_millis(300));
        let second = h.call(&call()).unwrap();
        assert!(matches!(second.end, End::Undecodable(_)), "{second:?}");
        assert_eq!(second.view.status, 502);
        assert_eq!(second.view.fate, Fate::Killed);
        assert!(second.stdout.starts_with(b"stray"));
        assert_eq!(h.pid(), None);
    }

    #[test]
    fn a_process_that_exits_mid_call_is_a_502_and_is_replaced() {
        let mut h = harness(r#"read -r l; exit 3"#);
        let served = h.call(&call()).unwrap();
        assert!(
            matches!(served.end, End::Exited { partial: false, status: Some(s) } if s.code() == Some(3)),
            "{served:?}"
        );
        assert_eq!(
            served.view.message.as_deref(),
            Some("container exit code 3")
        );
        let next = h.call(&call()).unwrap();
        assert!(next.process.contains("a new process"), "{}", next.process);
    }

    #[test]
    fn a_response_over_the_size_limit_is_too_large() {
        let mut h = harness(r#"read -r l; echo '{"body":"a long body indeed"}'; read -r l"#);
        h.set_max_response(Some(10));
        let served = h.call(&call()).unwrap();
        assert!(matches!(served.end, End::TooLarge(_)), "{served:?}");
        assert_eq!(
            served.view.message.as_deref(),
            Some("function response too large")
        );
    }

    #[test]
    fn no_response_by_the_deadline_is_a_504_and_a_kill() {
        let mut h = harness(r#"read -r l; sleep 10"#);
        let served = h.call(&call().timeout(Duration::from_millis(300))).unwrap();
        assert_eq!(served.end, End::TimedOut);
        assert_eq!(served.view.status, 504);
        assert_eq!(h.pid(), None);
    }
}
