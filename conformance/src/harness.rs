//! What a conformance case works with: the function under test, started the
//! way the server starts it, and calls sent and judged the way the server
//! sends and judges them.
//!
//! A function started by one case is reused by the next unless a case
//! changed it (signals, a crash, special start options): starting an FDK can
//! take a second, and the suite must stay under a minute.
//!
//! Calls go over one pooled keep-alive connection, as the server's transport
//! sends them (HS-LIFE-9): reused while the last exchange on it ended at most
//! 1 s ago, closed by the harness after that (`IdleConnTimeout`), never
//! reused after an answer that was not a plain 200 or that the function
//! closed. A case that needs another connection opens its own.
//!
//! Nothing waits without a limit, as the server never does: a call waits
//! until its own deadline, or the server's default timeout (30 s,
//! `--call-timeout`) when its `Fn-Deadline` is garbled or absent; no call
//! outlasts the case's limit (`--case-timeout`), and once that has passed
//! nothing more is sent or started. Functions run in the run's
//! [`Sandbox`]: every start in a jail of its own, frozen between calls as
//! the server pauses containers, and killed with everything it started.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use crate::agent::iofs::LogFile;
use crate::agent::outcome::{CallKind, ServerView, classify};
use crate::agent::request::GO_USER_AGENT;
use crate::agent::sandbox::{Freezable, Sandbox};
use crate::agent::{
    CallIds, Connection, FunctionCommand, ReadyWait, RequestTemplate, Response, ResponseError,
    RunningFunction, StartError, StartOptions, WorkDir, rfc3339,
};
use crate::verdict::{Failure, Verdict, show_bytes};

/// The `User-Agent` of invoke calls (the server passes the client's).
pub const CLIENT_USER_AGENT: &str = concat!("fdk-conformance/", env!("CARGO_PKG_VERSION"));
/// How much of a body a report shows.
const SHOW_BODY: usize = 512;
/// How much of the function's output since a case began a case may read.
const CASE_OUTPUT_MAX: usize = 4 << 20;
/// How much of the function's log a report shows.
const SHOW_LOG: usize = 2048;
/// The server's transport closes a connection idle for longer than this
/// (`newHotContainer`: `IdleConnTimeout: 1 * time.Second`).
pub const SERVER_IDLE_CLOSE: Duration = Duration::from_secs(1);
/// The server's default fn timeout: every call has at least this limit.
pub const DEFAULT_CALL_TIMEOUT: Duration = Duration::from_secs(30);

/// The function under test and the run's state.
#[derive(Debug)]
pub struct Harness {
    command: FunctionCommand,
    work: WorkDir,
    probe: bool,
    current: Option<RunningFunction>,
    ids: CallIds,
    log: LogFile,
    log_mark: u64,
    /// The container every start runs in.
    sandbox: Arc<Sandbox>,
    /// A call without a usable deadline of its own waits this long.
    call_timeout: Duration,
    /// No call outlasts this (the case's limit), and past it nothing more
    /// is sent or started.
    case_deadline: Option<Instant>,
    /// Why `case_deadline` is what it is (for reports).
    case_limit: String,
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
    /// [`Harness::set_start_options`]).
    start_options: StartOptions,
}

/// The harness's idle connection (the server keeps at most one).
#[derive(Debug)]
struct Pooled {
    conn: Connection,
    /// When the last exchange on it ended.
    last: Instant,
    /// How many calls it has carried.
    calls: u32,
}

/// Which connection carried a call: evidence for reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Via {
    /// The pooled connection, reused: it had carried `calls` calls and been
    /// idle for `idle`.
    Reused {
        /// Calls it carried before this one.
        calls: u32,
        /// Time since the last exchange on it ended.
        idle: Duration,
    },
    /// A new pooled connection; the previous one ended as told.
    New(Ended),
    /// A connection the case opened itself, outside the pool.
    Own,
}

/// Why there was no pooled connection to reuse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// None was ever opened to this process.
    Never,
    /// The harness closed it after this long idle, as the server's transport
    /// does after 1 s.
    IdleClose(Duration),
    /// The function had closed it (or sent bytes no call asked for).
    ByFunction,
    /// The last answer on it left it unusable: not a 200, `Connection:
    /// close`, a close-delimited body, or no answer (the server drops it too).
    AfterAnswer,
    /// The case opened its own connection; the server never holds two.
    ForCase,
}

impl std::fmt::Display for Via {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Reused { calls, idle } => write!(
                f,
                "the pooled keep-alive connection, reused (call {} on it, after {} ms idle)",
                calls + 1,
                idle.as_millis()
            ),
            Self::New(ended) => {
                f.write_str("a new connection")?;
                match ended {
                    Ended::Never => Ok(()),
                    Ended::IdleClose(idle) => write!(
                        f,
                        ": the harness closed the pooled one after {} ms idle, as the server's \
                         transport does after 1 s (IdleConnTimeout)",
                        idle.as_millis()
                    ),
                    Ended::ByFunction => f.write_str(": the function had closed the pooled one"),
                    Ended::AfterAnswer => f.write_str(
                        ": the previous answer left the pooled one unusable (not a 200, or closed), \
                         and the server drops such a connection",
                    ),
                    Ended::ForCase => {
                        f.write_str(": the case had opened a connection of its own")
                    }
                }
            }
            Self::Own => f.write_str("a connection the case opened itself"),
        }
    }
}

/// One call to send.
#[derive(Debug, Clone)]
pub struct Call {
    kind: CallKind,
    method: String,
    url: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    deadline: DeadlineSpec,
}

/// The fn timeout of every call that does not set its own.
const USUAL_TIMEOUT: Duration = Duration::from_secs(30);

/// How far into a second a call with another timeout is sent.
///
/// The server keys containers by the fn's timeout, so a process only ever
/// sees one; the harness sends a few calls with a shorter one to a process
/// that has served 30 s calls. An FDK that recovers the deadline's lost
/// fraction from the arrival's phase (HS-DL-3) cannot tell, in the first
/// 50 ms of a second, whether the server's clock started in this second
/// or the last, and settles it with the timeout it has seen: mixing them
/// would make its verdict depend on the phase. Sending such calls at least
/// this far into a second takes the doubt away, as one timeout would.
const OTHER_TIMEOUT_PHASE: Duration = Duration::from_millis(100);

/// Waits, if needed, until `OTHER_TIMEOUT_PHASE` into the current second.
fn leave_first_part_of_second() {
    let phase = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(Duration::ZERO, |d| {
            Duration::from_nanos(u64::from(d.subsec_nanos()))
        });
    if phase < OTHER_TIMEOUT_PHASE {
        std::thread::sleep(OTHER_TIMEOUT_PHASE - phase);
    }
}

/// What `Fn-Deadline` the call carries.
#[derive(Debug, Clone)]
enum DeadlineSpec {
    /// The server's: now plus this, whole seconds, enforced.
    In(Duration),
    /// This exact header value; no enforcement.
    Raw(String),
    /// This exact header value, or none at all; the harness gives up this
    /// long from now, as the server does at its own deadline (which it
    /// always has, and always sends).
    Sent(Option<String>, Duration),
}

impl Call {
    /// An `/invoke` call with a 30 s deadline.
    pub fn invoke() -> Self {
        Self {
            kind: CallKind::Invoke,
            method: String::new(),
            url: String::new(),
            headers: Vec::new(),
            body: Vec::new(),
            deadline: DeadlineSpec::In(USUAL_TIMEOUT),
        }
    }

    /// An HTTP-trigger call from a client that used `method` on `url`.
    pub fn gateway(method: &str, url: &str) -> Self {
        Self {
            kind: CallKind::Gateway,
            method: method.to_owned(),
            url: url.to_owned(),
            ..Self::invoke()
        }
    }

    /// Adds a client header (canonical case, as Go writes it).
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    /// Sets the body.
    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = body.into();
        self
    }

    /// Asks the probe for `op` (a JSON object), through `X-Probe`.
    pub fn probe(self, op: &str) -> Self {
        self.header("X-Probe", op)
    }

    /// The deadline `after` from now.
    pub fn deadline_in(mut self, after: Duration) -> Self {
        self.deadline = DeadlineSpec::In(after);
        self
    }

    /// Sends this `Fn-Deadline` value as is.
    pub fn raw_deadline(mut self, value: &str) -> Self {
        self.deadline = DeadlineSpec::Raw(value.to_owned());
        self
    }

    /// Sends this `Fn-Deadline` value as is (an offset the server never
    /// writes, say), and gives up on the answer `after` from now, as the
    /// server does at its own deadline.
    pub fn deadline_header(mut self, value: &str, after: Duration) -> Self {
        self.deadline = DeadlineSpec::Sent(Some(value.to_owned()), after);
        self
    }

    /// Sends no `Fn-Deadline` at all (the server always sends one), and
    /// gives up on the answer 30 s from now, as the server would.
    pub fn no_deadline(mut self) -> Self {
        self.deadline = DeadlineSpec::Sent(None, Duration::from_secs(30));
        self
    }

    /// The call's kind.
    pub fn kind(&self) -> CallKind {
        self.kind
    }

    /// The request bytes with a fixed call id, for cases that send them in
    /// pieces.
    pub fn render_for_test(&self) -> (Vec<u8>, Option<Instant>) {
        self.render("01KCONF0RMANCE0PIECEWISE01")
    }

    /// The request bytes, and the instant the server would give up.
    fn render(&self, call_id: &str) -> (Vec<u8>, Option<Instant>) {
        let mut headers: Vec<(String, String)> = Vec::new();
        let user_agent = match self.kind {
            CallKind::Invoke => {
                headers.extend(self.headers.iter().cloned());
                CLIENT_USER_AGENT
            }
            CallKind::Gateway => {
                for (name, value) in &self.headers {
                    if name.eq_ignore_ascii_case("Content-Type") {
                        headers.push((name.clone(), value.clone()));
                    } else {
                        headers.push((format!("Fn-Http-H-{name}"), value.clone()));
                    }
                }
                headers.push(("Fn-Http-Method".into(), self.method.clone()));
                headers.push(("Fn-Http-Request-Url".into(), self.url.clone()));
                headers.push(("Fn-Intent".into(), "httprequest".into()));
                GO_USER_AGENT
            }
        };
        let borrowed: Vec<(&str, &str)> = headers
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let template = RequestTemplate::new(user_agent, &borrowed, &self.body);
        let (deadline, enforce) = match &self.deadline {
            DeadlineSpec::In(after) => {
                if *after != USUAL_TIMEOUT {
                    leave_first_part_of_second();
                }
                let at = SystemTime::now() + *after;
                (Some(rfc3339::format_utc(at)), Some(Instant::now() + *after))
            }
            DeadlineSpec::Raw(value) => (Some(value.clone()), None),
            DeadlineSpec::Sent(value, after) => (value.clone(), Some(Instant::now() + *after)),
        };
        let mut out = Vec::new();
        match deadline {
            Some(deadline) => template.render(call_id, &deadline, &mut out),
            None => template.render_without_deadline(call_id, &mut out),
        }
        (out, enforce)
    }
}

/// What the server's client got from one call ([`Harness::serve`]).
#[derive(Debug, Clone)]
pub struct Served {
    /// Status, message and the container's fate.
    pub view: ServerView,
    /// The body of a successful answer (empty for the server's errors).
    pub body: Vec<u8>,
    /// The process had exited on its own before this call was sent (so the
    /// call found a dead container).
    pub died_before: bool,
    /// The function's `Content-Length` that the server's error answer
    /// carries (a 200 head whose body failed): a client reading by length
    /// sees the error body cut or waits for more than comes.
    pub leaked_length: Option<u64>,
}

impl Served {
    /// A call the server failed before the function answered.
    fn failed(view: ServerView, died_before: bool) -> Self {
        Self {
            view,
            body: Vec::new(),
            died_before,
            leaked_length: None,
        }
    }

    /// What the client got from an exchange with the function.
    fn of(ex: Exchange) -> Self {
        // A 200 head whose body then failed: the server's error answer goes
        // out with the function's headers already in it (fn-contract §5.3,
        // observed), its `Content-Length` among them.
        let leaked_length = match &ex.result {
            Err(ResponseError::Body {
                status: 200,
                headers,
                ..
            }) => headers
                .iter()
                .find(|(name, _)| name.eq_ignore_ascii_case("content-length"))
                .and_then(|(_, value)| value.trim().parse().ok()),
            _ => None,
        };
        let body = match (ex.result, ex.view.message) {
            (Ok(res), None) => res.body,
            _ => Vec::new(),
        };
        Self {
            view: ex.view,
            body,
            died_before: false,
            leaked_length,
        }
    }
}

/// One call and what came of it.
#[derive(Debug)]
pub struct Exchange {
    /// The bytes sent.
    pub sent: Vec<u8>,
    /// The call id sent.
    pub call_id: String,
    /// What came back.
    pub result: Result<Response, ResponseError>,
    /// What the real server would make of it.
    pub view: ServerView,
    /// The connection it went over.
    pub via: Via,
    /// The harness stopped waiting at the case's limit, not the call's own
    /// deadline: what that limit was.
    pub cut_short: Option<String>,
}

impl Exchange {
    /// The response, if one came.
    pub fn response(&self) -> Option<&Response> {
        self.result.as_ref().ok()
    }

    /// The socket status, if a response came.
    pub fn status(&self) -> Option<u16> {
        self.response().map(|r| r.status)
    }

    /// The body as text (lossy), empty without a response.
    pub fn text(&self) -> String {
        self.response()
            .map(|r| String::from_utf8_lossy(&r.body).into_owned())
            .unwrap_or_default()
    }

    /// The op the probe said it cannot do, if it said so.
    pub fn unsupported(&self) -> Option<String> {
        let res = self.response()?;
        let json: serde_json::Value = serde_json::from_slice(&res.body).ok()?;
        json.get("probe_unsupported")?.as_str().map(str::to_owned)
    }

    /// The response as a report shows it.
    pub fn shown(&self) -> String {
        match &self.result {
            Ok(res) => {
                let mut text = format!("HTTP/1.1 {}\n", res.status);
                for (k, v) in &res.headers {
                    text.push_str(&format!("{k}: {v}\n"));
                }
                text.push('\n');
                text.push_str(&show_bytes(&res.body, SHOW_BODY));
                text
            }
            Err(ResponseError::Body {
                status,
                headers,
                error,
            }) => {
                let mut text = format!("HTTP/1.1 {status}\n");
                for (k, v) in headers {
                    text.push_str(&format!("{k}: {v}\n"));
                }
                text.push('\n');
                if error.timed_out() {
                    match &self.cut_short {
                        Some(limit) => text.push_str(&format!(
                            "(no complete response: the body had not ended when the harness \
                             stopped waiting at {limit})"
                        )),
                        None => text.push_str(
                            "(no complete response: the body did not end before the call's \
                             deadline)",
                        ),
                    }
                } else {
                    text.push_str(&format!(
                        "(the body could not be read: {})",
                        crate::error::display_chain(error.as_ref())
                    ));
                }
                text
            }
            Err(ResponseError::Io(e))
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                match &self.cut_short {
                    Some(limit) => {
                        format!("no complete response when the harness stopped waiting at {limit}")
                    }
                    None => "no complete response before the call's deadline (the server gives \
                             up here and kills the container)"
                        .to_owned(),
                }
            }
            Err(e) if e.timed_out() => "no response before the call's deadline (the server \
                                        gives up here and kills the container)"
                .to_owned(),
            Err(e) => format!("no response: {}", crate::error::display_chain(e)),
        }
    }
}

impl Harness {
    /// A harness for `command`; `probe` says it speaks the probe protocol.
    pub fn new(command: FunctionCommand, probe: bool) -> std::io::Result<Self> {
        let work = WorkDir::create()?;
        let log = LogFile::create(work.path().join("function.log"))?;
        Ok(Self {
            command,
            work,
            probe,
            current: None,
            ids: CallIds::new(),
            log,
            log_mark: 0,
            sandbox: Arc::new(Sandbox::process_groups()),
            call_timeout: DEFAULT_CALL_TIMEOUT,
            case_deadline: None,
            case_limit: String::new(),
            freeze: false,
            freezer: Freezer::default(),
            pool: None,
            pool_ended: Ended::Never,
            uid: None,
            start_options: StartOptions::default(),
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
    /// process started; `limit` names it in reports (`the case's limit of
    /// 120 s (--case-timeout)`, say). `None` lifts it.
    pub fn set_case_deadline(&mut self, deadline: Option<Instant>, limit: &str) {
        self.case_deadline = deadline;
        self.case_limit = limit.to_owned();
    }

    /// Whether the case's limit has passed.
    pub fn past_case_deadline(&self) -> bool {
        self.case_deadline.is_some_and(|d| Instant::now() >= d)
    }

    /// A failure if the case's limit has passed.
    fn check_case_deadline(&self) -> Result<(), Verdict> {
        if self.past_case_deadline() {
            return Err(self.failed_plain(format!(
                "{} passed; the harness sends and starts nothing more in this case",
                self.case_limit
            )));
        }
        Ok(())
    }

    /// The instant a wait of `wanted` from now must end: `wanted`, or the
    /// case's deadline if that comes first (then also what cut it short).
    fn wait_until(&self, wanted: Duration) -> (Instant, Option<String>) {
        let at = Instant::now() + wanted;
        match self.case_deadline {
            Some(deadline) if deadline < at => (deadline, Some(self.case_limit.clone())),
            _ => (at, None),
        }
    }

    /// Continues a frozen function without sending anything, and cancels
    /// a freeze not yet done. A process that was frozen runs for
    /// [`SERVER_UNFREEZE_LEAD`] before this returns, as a container does
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

    /// Does the function speak the probe protocol?
    pub fn has_probe(&self) -> bool {
        self.probe
    }

    /// The function's command.
    pub fn command(&self) -> &FunctionCommand {
        &self.command
    }

    /// Marks the start of a case: reports show the log written after it.
    pub fn begin_case(&mut self) {
        self.log_mark = self.log.len();
    }

    /// What the function wrote (stdout and stderr) since the case began,
    /// up to its last 4 MiB (a function may log gigabytes).
    pub fn case_output(&self) -> String {
        self.log.tail_since(self.log_mark, CASE_OUTPUT_MAX)
    }

    /// The end of the function's output since the case began (only that
    /// much is read: a function may log gigabytes).
    pub fn case_log(&self) -> String {
        self.log.tail_since(self.log_mark, SHOW_LOG)
    }

    /// Starts a fresh process with `options` (readiness by inotify), after
    /// killing the current one.
    pub fn start(&mut self, options: StartOptions) -> Result<&mut RunningFunction, Verdict> {
        let iofs = self.fresh_dir()?;
        self.start_in(iofs, options)
    }

    /// A fresh, empty 0777 directory for a function's socket.
    pub fn fresh_dir(&mut self) -> Result<PathBuf, Verdict> {
        self.work
            .fresh_iofs()
            .map_err(|e| Verdict::fail(format!("could not prepare a directory: {e}")))
    }

    /// [`start`](Self::start) with the socket in `iofs`.
    pub fn start_in(
        &mut self,
        iofs: PathBuf,
        options: StartOptions,
    ) -> Result<&mut RunningFunction, Verdict> {
        match self.launch(iofs, options) {
            Ok(()) => self
                .current
                .as_mut()
                .ok_or_else(|| Verdict::fail("no running function")),
            Err(e) => {
                let mut failure = Failure::new(format!(
                    "the function did not become ready: {}",
                    crate::error::display_chain(&e)
                ));
                failure.server = Some(start_failure_view(&e));
                failure.log = self.case_log();
                Err(Verdict::Fail(Box::new(failure)))
            }
        }
    }

    /// Starts a process with its socket in `iofs`, reporting why it did not
    /// become ready as the start error itself.
    pub fn launch(&mut self, iofs: PathBuf, options: StartOptions) -> Result<(), StartError> {
        self.discard();
        if self.past_case_deadline() {
            let _ = std::fs::remove_dir_all(&iofs);
            return Err(StartError::Setup(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                format!("{} passed; no more starts in this case", self.case_limit),
            )));
        }
        let options = StartOptions {
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
    pub fn running(&mut self) -> Result<&mut RunningFunction, Verdict> {
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
            .ok_or_else(|| Verdict::fail("no running function"))
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
    pub fn connect(&mut self) -> Result<Connection, Verdict> {
        if self.pool.take().is_some() {
            self.pool_ended = Ended::ForCase;
        }
        self.dial()
    }

    /// Dials the running function's socket.
    fn dial(&mut self) -> Result<Connection, Verdict> {
        self.check_case_deadline()?;
        let socket = self.running()?.socket().to_owned();
        let (until, _) = self.wait_until(self.call_timeout);
        let limit = until.saturating_duration_since(Instant::now());
        Connection::connect_within(&socket, limit).map_err(|e| {
            let mut failure = Failure::new(format!("could not connect to lsnr.sock: {e}"));
            failure.server = Some(ServerView::receive_error());
            failure.log = self.case_log();
            Verdict::Fail(Box::new(failure))
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
        let view = classify(&result, call.kind);
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
    pub fn call(&mut self, call: &Call) -> Result<Exchange, Verdict> {
        self.check_case_deadline()?;
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
                return Served::failed(start_failure_view(&e), false);
            }
        }
        let Ok(ex) = self.call(call) else {
            // The socket refused the dial: the agent's request fails before
            // any head, and the container goes.
            self.discard();
            return Served::failed(ServerView::receive_error(), false);
        };
        if ex.view.container == crate::agent::outcome::Fate::Killed {
            self.discard();
        }
        Served::of(ex)
    }

    /// Sends one call on a connection of its own, closed after the answer
    /// (the pooled one is closed first).
    pub fn call_on_new(&mut self, call: &Call) -> Result<Exchange, Verdict> {
        let mut conn = self.connect()?;
        Ok(self.exchange(&mut conn, call))
    }

    /// A failure with the evidence of `exchange`.
    pub fn failed(&self, what: impl Into<String>, exchange: &Exchange) -> Verdict {
        let mut failure = Failure::new(what);
        if let Some(note) = self.oom_note() {
            failure.what.push_str(&note);
        }
        failure.sent = Some(show_bytes(&exchange.sent, SHOW_BODY + 1024));
        failure.got = Some(exchange.shown());
        failure.server = Some(exchange.view.clone());
        failure.connection = Some(exchange.via.to_string());
        failure.log = self.case_log();
        Verdict::Fail(Box::new(failure))
    }

    /// A failure without an exchange, with the case's log.
    pub fn failed_plain(&self, what: impl Into<String>) -> Verdict {
        let mut failure = Failure::new(what);
        failure.log = self.case_log();
        Verdict::Fail(Box::new(failure))
    }

    /// Evidence that the kernel's OOM killer struck in the current jail, as
    /// it does to a container over its memory limit.
    fn oom_note(&self) -> Option<String> {
        let jail = self.current.as_ref()?.jail();
        let kills = jail.oom_kills().filter(|&n| n > 0)?;
        Some(format!(
            " (the kernel's OOM killer killed {kills} process(es) of the function: it went \
             over its memory limit of {} MB, FN_MEMORY; the server answers 502 \
             \"error receiving function response\" and the container is gone)",
            jail.memory_mb()
        ))
    }
}

impl Drop for Harness {
    fn drop(&mut self) {
        // The function (and everything it started) goes before the work
        // directory that holds its socket and log; no freeze may land after.
        self.discard();
    }
}

/// The server pauses an idle container this long after a call ends
/// (`FN_FREEZE_IDLE_MSECS`, default 50): long enough for a function to
/// react to what the call's end did (a closed connection, say).
pub const SERVER_FREEZE_IDLE: Duration = Duration::from_millis(50);

/// A thawed container runs this long before the server's request reaches
/// it: `docker unpause` is an API round trip, and the agent sends only once
/// it returns. A function that has a closed connection to notice (and exits
/// on it, say) does so first, as on the real server (`docs/oracle.md`,
/// mode `exit-on-close`).
pub const SERVER_UNFREEZE_LEAD: Duration = Duration::from_millis(10);

/// The server's freezer: a process is stopped [`SERVER_FREEZE_IDLE`] after a
/// call, unless the next call (or a kill) comes first. A timer thread does
/// the stopping, so the harness's own thread never waits for it.
#[derive(Debug, Default)]
struct Freezer {
    state: Arc<std::sync::Mutex<FreezeState>>,
}

#[derive(Debug, Default)]
struct FreezeState {
    /// Bumped by every freeze scheduled and every thaw: a timer whose
    /// generation is no longer current does nothing.
    generation: u64,
    /// The frozen jail, if one is.
    frozen: Option<Freezable>,
}

impl Freezer {
    fn lock(&self) -> std::sync::MutexGuard<'_, FreezeState> {
        lock_state(&self.state)
    }

    /// Freezes `jail` in [`SERVER_FREEZE_IDLE`], unless thawed before.
    fn freeze_later(&self, jail: Freezable) {
        let generation = {
            let mut state = self.lock();
            state.generation += 1;
            state.generation
        };
        let shared = Arc::clone(&self.state);
        let timer = std::thread::Builder::new()
            .name("freezer".into())
            .spawn(move || {
                std::thread::sleep(SERVER_FREEZE_IDLE);
                let mut state = lock_state(&shared);
                if state.generation == generation && state.frozen.is_none() && jail.freeze().is_ok()
                {
                    state.frozen = Some(jail);
                }
            });
        // Without a thread the process simply stays unfrozen.
        drop(timer);
    }

    /// Freezes `jail` at once (a pending timer is cancelled).
    fn freeze_now(&self, jail: Freezable) {
        let mut state = self.lock();
        state.generation += 1;
        if state.frozen.is_none() && jail.freeze().is_ok() {
            state.frozen = Some(jail);
        }
    }

    /// Cancels a pending freeze and thaws a frozen jail; says whether one
    /// was frozen.
    fn thaw(&self) -> bool {
        let mut state = self.lock();
        state.generation += 1;
        match state.frozen.take() {
            Some(jail) => {
                let _ = jail.thaw();
                true
            }
            None => false,
        }
    }
}

fn lock_state(state: &std::sync::Mutex<FreezeState>) -> std::sync::MutexGuard<'_, FreezeState> {
    state
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// What the server answers when a container does not start (§3).
fn start_failure_view(e: &StartError) -> ServerView {
    let (client_status, message) = match e {
        StartError::TimedOut(_) => (
            504,
            "Container initialization timed out, please ensure you are using the latest fdk and check the logs",
        ),
        _ => (
            502,
            "Container failed to initialize, please ensure you are using the latest fdk and check the logs",
        ),
    };
    ServerView {
        client_status,
        message: Some(message),
        container: crate::agent::outcome::Fate::Killed,
    }
}
