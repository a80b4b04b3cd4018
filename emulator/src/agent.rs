//! A function run hot as the server's agent runs it.
//!
//! A process is started on demand and reused by the next call unless it
//! exited or the server would have killed it. Calls go over one pooled
//! keep-alive connection, as the server's transport sends them
//! (HS-LIFE-9): reused while the last exchange on it ended at most 1 s ago,
//! closed after that (`IdleConnTimeout`), never reused after an answer that
//! was not a plain 200 or that the function closed.
//!
//! Nothing waits without a limit, as the server never does: a call waits
//! until its own deadline, or the server's default timeout (30 s) when its
//! `Fn-Deadline` is garbled or absent; no call outlasts the agent's time
//! limit, and once that has passed nothing more is sent or started.
//! Functions run in the agent's [`Sandbox`]: every start in a jail of its
//! own, frozen between calls as the server pauses containers, and killed
//! with everything it started.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::call::Call;
use crate::exchange::{Ended, Exchange, Served, Via};
use crate::freezer::{Freezer, SERVER_UNFREEZE_LEAD};
use crate::iofs::LogFile;
use crate::outcome::{AgentError, CallKind, Fate, ServerView, classify, start_failure};
use crate::sandbox::Sandbox;
use crate::show::display_chain;
use crate::{
    CallIds, Connection, FunctionCommand, ReadyWait, ResponseError, RunningFunction, StartError,
    StartOptions, WorkDir,
};

/// The server's transport closes a connection idle for longer than this
/// (`newHotContainer`: `IdleConnTimeout: 1 * time.Second`).
pub const SERVER_IDLE_CLOSE: Duration = Duration::from_secs(1);
/// How long a container's log must stay the same size to count as all
/// there.
const LOG_SETTLE: Duration = Duration::from_millis(50);
/// The server's default fn timeout: every call has at least this limit.
pub(crate) const DEFAULT_CALL_TIMEOUT: Duration = Duration::from_secs(30);

/// A function run hot as the server's agent runs it: started on demand,
/// called over one pooled connection, frozen between calls, replaced when
/// the server would replace it.
#[derive(Debug)]
pub struct Agent {
    command: FunctionCommand,
    work: WorkDir,
    current: Option<RunningFunction>,
    ids: CallIds,
    log: LogFile,
    log_mark: u64,
    /// The container every start runs in.
    sandbox: Arc<Sandbox>,
    /// A call without a usable deadline of its own waits this long.
    call_timeout: Duration,
    /// No call outlasts this (a conformance case's limit, say), and past it
    /// nothing more is sent or started.
    time_limit: Option<Instant>,
    /// Why `time_limit` is what it is (for reports).
    limit_label: String,
    /// Freeze the process between calls, as the server's freezer does.
    freeze: bool,
    freezer: Freezer,
    /// The idle keep-alive connection the next call goes over.
    pool: Option<Pooled>,
    /// Why the last pooled connection went away, told with the next one.
    pool_ended: Ended,
    /// Start the function as this uid (and gid), as the server runs it as 1000.
    uid: Option<u32>,
    /// How a process is started when a call needs one (see
    /// [`Agent::set_start_options`]).
    start_options: StartOptions,
    /// The fn's config: variables every start gets before its own
    /// (`set_config`).
    config: Vec<(String, String)>,
}

/// The agent's idle connection (the server keeps at most one).
#[derive(Debug)]
struct Pooled {
    conn: Connection,
    /// When the last exchange on it ended.
    last: Instant,
    /// How many calls it has carried.
    calls: u32,
}

impl Agent {
    /// An agent for `command`, with a work directory of its own (the
    /// function's log and a fresh iofs directory per start).
    pub fn new(command: FunctionCommand) -> std::io::Result<Self> {
        let work = WorkDir::create()?;
        let log = LogFile::create(work.path().join("function.log"))?;
        Ok(Self {
            command,
            work,
            current: None,
            ids: CallIds::new(),
            log,
            log_mark: 0,
            sandbox: Arc::new(Sandbox::process_groups()),
            call_timeout: DEFAULT_CALL_TIMEOUT,
            time_limit: None,
            limit_label: String::new(),
            freeze: false,
            freezer: Freezer::default(),
            pool: None,
            pool_ended: Ended::Never,
            uid: None,
            start_options: StartOptions::default(),
            config: Vec::new(),
        })
    }

    /// Starts every function as `uid` (gid the same, no supplementary
    /// groups), as the server runs containers as `1000:1000`. Needs root.
    /// The work directory is made enterable (0711) by that user, whatever
    /// the umask: the socket directories are inside it.
    pub fn set_uid(&mut self, uid: Option<u32>) -> std::io::Result<()> {
        use std::os::unix::fs::PermissionsExt;
        if uid.is_some() {
            std::fs::set_permissions(self.work.path(), std::fs::Permissions::from_mode(0o711))?;
        }
        self.uid = uid;
        Ok(())
    }

    /// The uid functions run as, if `--uid` was given.
    pub fn uid(&self) -> Option<u32> {
        self.uid
    }

    /// The private work directory (enterable by the `--uid` user).
    pub fn work_path(&self) -> &std::path::Path {
        self.work.path()
    }

    /// Freeze the function 50 ms after every call and thaw it before the
    /// next, as the server's `docker pause` does: with the cgroup freezer
    /// if the sandbox has cgroups, else SIGSTOP/SIGCONT to its process
    /// group.
    pub fn set_freeze(&mut self, freeze: bool) {
        self.freeze = freeze;
    }

    /// Starts every function in `sandbox` from now on (the default: a
    /// process group of its own, frozen with signals).
    pub fn set_sandbox(&mut self, sandbox: Arc<Sandbox>) {
        self.sandbox = sandbox;
    }

    /// The container functions run in.
    pub fn sandbox(&self) -> &Sandbox {
        &self.sandbox
    }

    /// How long a call without a usable deadline of its own (a garbled or
    /// absent `Fn-Deadline`, or bytes a case sent itself) waits: the
    /// server's fn timeout, 30 s by default.
    pub fn set_call_timeout(&mut self, timeout: Duration) {
        self.call_timeout = timeout;
    }

    /// No call outlasts `deadline`, and past it no call is sent and no
    /// process started; `label` names it in reports (`the case's limit of
    /// 120 s (--case-timeout)`, say). `None` lifts it.
    pub fn set_time_limit(&mut self, deadline: Option<Instant>, label: &str) {
        self.time_limit = deadline;
        self.limit_label = label.to_owned();
    }

    /// Whether the time limit has passed.
    pub(crate) fn past_time_limit(&self) -> bool {
        self.time_limit.is_some_and(|d| Instant::now() >= d)
    }

    /// An error if the time limit has passed.
    fn check_time_limit(&self) -> Result<(), AgentError> {
        if self.past_time_limit() {
            return Err(AgentError::new(format!(
                "{} passed; the harness sends and starts nothing more in this case",
                self.limit_label
            )));
        }
        Ok(())
    }

    /// The instant a wait of `wanted` from now must end: `wanted`, or the
    /// case's deadline if that comes first (then also what cut it short).
    fn wait_until(&self, wanted: Duration) -> (Instant, Option<String>) {
        let at = Instant::now() + wanted;
        match self.time_limit {
            Some(deadline) if deadline < at => (deadline, Some(self.limit_label.clone())),
            _ => (at, None),
        }
    }

    /// Continues a frozen function without sending anything, and cancels
    /// a freeze not yet done. A process that was frozen runs for
    /// `SERVER_UNFREEZE_LEAD` before this returns, as a container does
    /// between `docker unpause` and the server's request.
    pub fn thaw(&mut self) {
        if self.freezer.thaw() {
            std::thread::sleep(SERVER_UNFREEZE_LEAD);
        }
    }

    /// Freezes the function now, as the server does after a call (whether
    /// or not freezing between calls is on); the next call thaws it.
    pub fn freeze_now(&mut self) {
        if let Some(f) = &self.current {
            self.freezer.freeze_now(f.jail().freezer());
        }
    }

    /// The function's command.
    pub fn command(&self) -> &FunctionCommand {
        &self.command
    }

    /// Marks the log: [`output_since_mark`](Self::output_since_mark) reads
    /// what the function wrote after this.
    pub fn mark_log(&mut self) {
        self.log_mark = self.log.len();
    }

    /// What the function wrote (stdout and stderr) since the mark, up to
    /// its last `max` bytes (a function may log gigabytes; only that much
    /// is read).
    pub fn output_since_mark(&self, max: usize) -> String {
        if self.sandbox.docker_runtime().is_some() {
            // A container's output reaches the log through the daemon's
            // attach stream, a little after the function wrote it (as it
            // reaches the server's).
            self.log.wait_quiet(LOG_SETTLE, Duration::from_secs(1));
        }
        self.log.tail_since(self.log_mark, max)
    }

    /// Starts a fresh process with `options` (readiness by inotify), after
    /// killing the current one.
    pub fn start(&mut self, options: StartOptions) -> Result<&mut RunningFunction, AgentError> {
        let iofs = self.fresh_dir()?;
        self.start_in(iofs, options)
    }

    /// A fresh, empty 0777 directory for a function's socket.
    pub fn fresh_dir(&mut self) -> Result<PathBuf, AgentError> {
        self.work
            .fresh_iofs()
            .map_err(|e| AgentError::new(format!("could not prepare a directory: {e}")))
    }

    /// [`start`](Self::start) with the socket in `iofs`.
    pub fn start_in(
        &mut self,
        iofs: PathBuf,
        options: StartOptions,
    ) -> Result<&mut RunningFunction, AgentError> {
        match self.launch(iofs, options) {
            Ok(()) => self
                .current
                .as_mut()
                .ok_or_else(|| AgentError::new("no running function")),
            Err(e) => Err(AgentError {
                what: format!("the function did not become ready: {}", display_chain(&e)),
                server: Some(start_failure(&e)),
            }),
        }
    }

    /// Starts a process with its socket in `iofs`, reporting why it did not
    /// become ready as the start error itself.
    pub fn launch(&mut self, iofs: PathBuf, options: StartOptions) -> Result<(), StartError> {
        self.discard();
        if self.past_time_limit() {
            let _ = std::fs::remove_dir_all(&iofs);
            return Err(StartError::Setup(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                format!("{} passed; no more starts in this case", self.limit_label),
            )));
        }
        let mut env_set = self.config.clone();
        env_set.extend(options.env_set);
        let options = StartOptions {
            env_set,
            inotify: true,
            uid: options.uid.or(self.uid),
            sandbox: options.sandbox.or_else(|| Some(Arc::clone(&self.sandbox))),
            ..options
        };
        let running = RunningFunction::start_with(
            &self.command,
            iofs,
            self.log.path(),
            ReadyWait::default(),
            &options,
        )?;
        self.current = Some(running);
        Ok(())
    }

    /// The running function, started with the server's defaults if there
    /// is none or it has exited.
    pub fn running(&mut self) -> Result<&mut RunningFunction, AgentError> {
        self.thaw();
        let alive = match self.current.as_mut() {
            Some(f) => matches!(f.exit_status(), Ok(None)),
            None => false,
        };
        if !alive {
            return self.start(self.start_options.clone());
        }
        self.current
            .as_mut()
            .ok_or_else(|| AgentError::new("no running function"))
    }

    /// The fn's config, which the server passes to every container as
    /// environment variables: set for every start, before (so under) the
    /// start's own `env_set`.
    pub fn set_config(&mut self, config: Vec<(String, String)>) {
        self.config = config;
    }

    /// How a process is started when a call finds none running (the
    /// server's defaults unless set; a function's config, say).
    pub fn set_start_options(&mut self, options: StartOptions) {
        self.start_options = options;
    }

    /// Stops using the current process (the next case starts a fresh one).
    pub fn discard(&mut self) {
        self.pool = None;
        self.pool_ended = Ended::Never;
        // No freeze may land on the process being killed.
        let _ = self.freezer.thaw();
        self.current = None;
    }

    /// The current process, without starting or thawing anything.
    pub fn current_mut(&mut self) -> Option<&mut RunningFunction> {
        self.current.as_mut()
    }

    /// The function's log: its stdout and stderr, every start's.
    pub fn log_path(&self) -> &std::path::Path {
        self.log.path()
    }

    /// The running process's id, without starting or thawing anything.
    pub fn pid(&self) -> Option<u32> {
        self.current.as_ref().map(RunningFunction::pid)
    }

    /// The next call id of the harness's sequence, for a call that fails
    /// before anything is sent (the server gives every call an id, and its
    /// error answers carry it).
    pub fn next_call_id(&mut self) -> String {
        self.ids.next_id()
    }

    /// Whether the current process is running (without starting one).
    pub fn alive(&mut self) -> bool {
        self.current
            .as_mut()
            .is_some_and(|f| matches!(f.exit_status(), Ok(None)))
    }

    /// Whether a pooled connection waits for the next call.
    pub fn has_pooled(&self) -> bool {
        self.pool.is_some()
    }

    /// What the server's transport does on its idle timer: closes the
    /// pooled connection if the last exchange on it ended more than 1 s ago.
    /// Returns how long it had been idle, if it was closed. The process is
    /// not thawed: the server closes while the container is paused.
    pub fn close_idle(&mut self) -> Option<Duration> {
        let idle = self.pool.as_ref()?.last.elapsed();
        if idle <= SERVER_IDLE_CLOSE {
            return None;
        }
        self.pool = None;
        self.pool_ended = Ended::IdleClose(idle);
        Some(idle)
    }

    /// Opens a connection to the running function, outside the pool (whose
    /// connection is closed first: the server never holds two).
    pub fn connect(&mut self) -> Result<Connection, AgentError> {
        if self.pool.take().is_some() {
            self.pool_ended = Ended::ForCase;
        }
        self.dial()
    }

    /// Dials the running function's socket.
    fn dial(&mut self) -> Result<Connection, AgentError> {
        self.check_time_limit()?;
        let socket = self.running()?.socket().to_owned();
        let (until, _) = self.wait_until(self.call_timeout);
        let limit = until.saturating_duration_since(Instant::now());
        Connection::connect_within(&socket, limit).map_err(|e| AgentError {
            what: format!("could not connect to lsnr.sock: {e}"),
            server: Some(ServerView::receive_error()),
        })
    }

    /// Sends `call` on `conn` and reads the answer, giving up at the call's
    /// deadline as the server does: its `Fn-Deadline`, or the call timeout
    /// when that is garbled (the server always has one), and never after
    /// the case's limit.
    pub fn exchange(&mut self, conn: &mut Connection, call: &Call) -> Exchange {
        self.thaw();
        let call_id = self.ids.next_id();
        let (sent, enforce) = call.render(&call_id);
        let wanted = enforce.map_or(self.call_timeout, |at| {
            at.saturating_duration_since(Instant::now())
        });
        let (until, cut_short) = self.wait_until(wanted);
        let result = match conn.set_read_timeout(None) {
            Ok(()) => {
                conn.set_deadline(Some(until));
                conn.call(&sent)
            }
            Err(e) => Err(ResponseError::Io(e)),
        };
        let view = classify(&result, call.kind());
        if self.freeze
            && let Some(f) = &self.current
        {
            self.freezer.freeze_later(f.jail().freezer());
        }
        Exchange {
            sent,
            call_id,
            cut_short: cut_short.filter(|_| result.is_err()),
            result,
            view,
            via: Via::Own,
        }
    }

    /// Reads the answer to bytes already sent on `conn`: within the
    /// connection's own read timeout, and never longer than the call
    /// timeout or past the case's limit.
    pub fn read_answer(
        &mut self,
        conn: &mut Connection,
        sent: Vec<u8>,
        kind: CallKind,
    ) -> Exchange {
        let (until, cut_short) = self.wait_until(self.call_timeout);
        conn.set_deadline(Some(until));
        let result = conn.read();
        let view = classify(&result, kind);
        Exchange {
            sent,
            call_id: "01KCONF0RMANCE0PIECEWISE01".to_owned(),
            cut_short: cut_short.filter(|_| result.is_err()),
            result,
            view,
            via: Via::Own,
        }
    }

    /// Sends one call as the server does: over the pooled connection if it
    /// is still usable, else over a new one, which is then pooled if the
    /// answer leaves it reusable (HS-LIFE-9).
    pub fn call(&mut self, call: &Call) -> Result<Exchange, AgentError> {
        self.check_time_limit()?;
        // The transport's idle timer fires while the container is paused.
        self.close_idle();
        // Thaws the process (or starts a fresh one, which empties the pool).
        self.running()?;
        // A connection the function closed is not reused (Go's transport
        // notices the end of stream on an idle connection and drops it).
        if let Some(pooled) = self.pool.as_mut()
            && pooled.conn.peer_closed()
        {
            self.pool = None;
            self.pool_ended = Ended::ByFunction;
        }
        let (mut conn, via, calls) = match self.pool.take() {
            Some(pooled) => {
                let via = Via::Reused {
                    calls: pooled.calls,
                    idle: pooled.last.elapsed(),
                };
                (pooled.conn, via, pooled.calls)
            }
            None => {
                let ended = self.pool_ended;
                (self.dial()?, Via::New(ended), 0)
            }
        };
        let mut ex = self.exchange(&mut conn, call);
        ex.via = via;
        let reusable = ex.response().is_some_and(|r| r.status == 200 && !r.close);
        if reusable {
            self.pool = Some(Pooled {
                conn,
                last: Instant::now(),
                calls: calls + 1,
            });
        } else {
            self.pool_ended = Ended::AfterAnswer;
        }
        Ok(ex)
    }

    /// Serves one call end to end as the server does, and says what its
    /// client got: the function is started (with the options of
    /// [`set_start_options`](Self::set_start_options)) if no process is
    /// running, a start that fails is the server's init failure, and a
    /// process the server would kill is killed, so the next call starts a
    /// fresh one. This is the emulation `scripts/oracle.sh` compares with
    /// the real server.
    pub fn serve(&mut self, call: &Call) -> Served {
        self.close_idle();
        // A process that exited on its own since the last call (it is never
        // frozen then: a stopped process cannot exit). The server does not
        // notice at once (measured: 0.3 s after such an exit the next call
        // still goes to the dead container): the call's dial fails, and only
        // then is the container replaced.
        if self.current.is_some() && !self.alive() {
            self.discard();
            return Served::failed(ServerView::receive_error(), true);
        }
        // Thawed, a process may exit on what happened while it was frozen
        // (the server's idle close of its connection, say) before the call
        // reaches it; the call then fails as one to a dead container.
        self.thaw();
        if self.current.is_some() && !self.alive() {
            self.discard();
            return Served::failed(ServerView::receive_error(), false);
        }
        if self.current.is_none() {
            let launched = match self.work.fresh_iofs() {
                Ok(iofs) => self.launch(iofs, self.start_options.clone()),
                Err(e) => Err(StartError::Setup(e)),
            };
            if let Err(e) = launched {
                self.discard();
                return Served::failed(start_failure(&e), false);
            }
        }
        let Ok(ex) = self.call(call) else {
            // The socket refused the dial: the agent's request fails before
            // any head, and the container goes.
            self.discard();
            return Served::failed(ServerView::receive_error(), false);
        };
        if ex.view.container == Fate::Killed {
            self.discard();
        }
        Served::of(ex)
    }

    /// Sends one call on a connection of its own, closed after the answer
    /// (the pooled one is closed first).
    pub fn call_on_new(&mut self, call: &Call) -> Result<Exchange, AgentError> {
        let mut conn = self.connect()?;
        Ok(self.exchange(&mut conn, call))
    }

    /// How many processes the kernel's OOM killer killed in the current
    /// jail, as it does in a container over its memory limit, with that
    /// limit in MB; `None` if it killed none (or cannot tell).
    pub fn oom_kills(&self) -> Option<(u64, u64)> {
        let jail = self.current.as_ref()?.jail();
        let kills = jail.oom_kills().filter(|&n| n > 0)?;
        Some((kills, jail.memory_mb()))
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        // The function (and everything it started) goes before the work
        // directory that holds its socket and log; no freeze may land after.
        self.discard();
    }
}
