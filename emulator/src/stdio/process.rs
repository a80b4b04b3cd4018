//! Running a function as the 0.3.602 server ran one in the stdin/stdout
//! formats: the environment of `buildConfig` (SIO-ENV-3; no
//! `FN_LISTENER`), stdin and stdout as pipes, stderr into the log.
//!
//! A hot process ([`HotProcess`]) lives across calls: a thread writes
//! what the harness queues to its stdin (so a function that stops reading
//! cannot block the harness past a deadline), another gathers its stdout
//! (so bytes written while no call is in flight are kept, in order, for
//! the next call, as the server's blocked pipes delivered them). It is
//! frozen between calls unless `--no-freeze`: by the cgroup freezer when
//! the run's sandbox has cgroups, else with SIGSTOP to its process group.
//!
//! A cold run ([`run_cold`]) is one `default` call: a new process with the
//! per-call environment, the body on stdin then EOF, stdout to its end,
//! and the exit status, killed at the deadline.
//!
//! Every process runs in a [`Jail`] of its own (see
//! [`crate::sandbox`]): killing it, as the server removed a
//! container, kills everything it started; so does the end of a cold run.

use std::ffi::OsString;
use std::fs::File;
use std::io::{self, Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::process::{Child, ChildStdin, ChildStdout, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Sender};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread;
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;

use super::StdioFormat;
use crate::FunctionCommand;
use crate::process::FN_ID;
use crate::sandbox::{DEFAULT_MEMORY_MB, Jail, Sandbox, Target};
use crate::wire;

/// `FN_APP_NAME` given to every function.
pub const APP_NAME: &str = "fdk-conformance";
/// A configuration variable with a comma and equals signs in its value
/// (the server passes app and function config through unchanged).
pub const CONFIG: (&str, &str) = ("CONFORMANCE_CONFIG", "hello, world=1=2");

/// The environment `buildConfig` gave a function at 0.3.602 (SIO-ENV-3),
/// plus one configuration variable. `FN_LISTENER` is only for http-stream.
pub fn server_env(format: StdioFormat) -> Vec<(String, String)> {
    [
        (wire::ENV_FORMAT, format.name()),
        (wire::ENV_APP_NAME, APP_NAME),
        (wire::ENV_PATH, "/invoke"),
        (wire::ENV_MEMORY, "128"),
        (wire::ENV_TYPE, "sync"),
        (wire::ENV_FN_ID, FN_ID),
        CONFIG,
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}

/// How to start one process.
#[derive(Debug, Clone)]
pub struct Launch<'a> {
    /// The function.
    pub command: &'a FunctionCommand,
    /// The whole `FN_*` environment (inherited `FN_*` variables are removed
    /// first); other inherited variables stay.
    pub env: Vec<(String, String)>,
    /// Where stderr goes (appended).
    pub log: &'a Path,
    /// The container; `None`: a process group, frozen with signals.
    pub sandbox: Option<&'a Sandbox>,
}

impl Launch<'_> {
    /// The jail and the command that starts the function in it.
    fn command(&self) -> io::Result<(Jail, Command)> {
        let memory = self
            .env
            .iter()
            .rev()
            .find(|(k, _)| k == wire::ENV_MEMORY)
            .and_then(|(_, v)| v.parse().ok())
            .unwrap_or(DEFAULT_MEMORY_MB);
        let jail = match self.sandbox {
            Some(sandbox) => sandbox.jail(memory)?,
            None => Sandbox::process_groups().jail(memory)?,
        };
        let stderr = File::options().create(true).append(true).open(self.log)?;
        let mut cmd = jail.command(&Target {
            program: &self.command.program,
            args: &self.command.args,
            uid: None,
            cwd: None,
        });
        cmd.stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(stderr);
        for (key, _) in std::env::vars_os() {
            if key.as_bytes().starts_with(wire::ENV_PREFIX.as_bytes()) {
                cmd.env_remove(key);
            }
        }
        cmd.envs(
            self.env
                .iter()
                .map(|(k, v)| (OsString::from(k), OsString::from(v))),
        );
        Ok((jail, cmd))
    }
}

/// stdout as gathered by the reader thread.
#[derive(Debug, Default)]
struct Gathered {
    bytes: Vec<u8>,
    eof: bool,
    error: Option<String>,
}

#[derive(Debug, Default)]
struct Pipe {
    state: Mutex<Gathered>,
    ready: Condvar,
}

impl Pipe {
    fn lock(&self) -> MutexGuard<'_, Gathered> {
        // A reader thread that panicked leaves the bytes it had; use them.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Reads `stdout` to its end into `pipe`.
fn gather(mut stdout: ChildStdout, pipe: Arc<Pipe>) {
    let mut buf = vec![0u8; 64 << 10];
    loop {
        let read = stdout.read(&mut buf);
        let mut state = pipe.lock();
        match read {
            Ok(0) => state.eof = true,
            Ok(n) => state.bytes.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => {
                state.error = Some(e.to_string());
                state.eof = true;
            }
        }
        let done = state.eof;
        drop(state);
        pipe.ready.notify_all();
        if done {
            return;
        }
    }
}

/// Writes what arrives on the channel to `stdin`; closes it when the
/// channel closes. A failed write is recorded and ends the thread.
fn feed(mut stdin: ChildStdin, rx: mpsc::Receiver<Vec<u8>>, error: Arc<Mutex<Option<String>>>) {
    for chunk in rx {
        if let Err(e) = stdin.write_all(&chunk).and_then(|()| stdin.flush()) {
            if let Ok(mut slot) = error.lock() {
                *slot = Some(e.to_string());
            }
            return;
        }
    }
}

/// Starts `launch` with a thread gathering its stdout into the returned
/// pipe and another running `stdin` (threads named after `name`), so that
/// neither pipe can block the harness.
fn start(
    launch: &Launch<'_>,
    name: &str,
    stdin: impl FnOnce(ChildStdin) + Send + 'static,
) -> io::Result<(Jail, Child, Arc<Pipe>)> {
    let (mut jail, mut cmd) = launch.command()?;
    let mut child = jail.spawn(&mut cmd)?;
    drop(cmd);
    let pipe = Arc::new(Pipe::default());
    let reader_pipe = Arc::clone(&pipe);
    let threads = match (child.stdin.take(), child.stdout.take()) {
        (Some(input), Some(stdout)) => thread::Builder::new()
            .name(format!("{name}-stdout"))
            .spawn(move || gather(stdout, reader_pipe))
            .and_then(|_| {
                thread::Builder::new()
                    .name(format!("{name}-stdin"))
                    .spawn(move || stdin(input))
            }),
        _ => Err(io::Error::other("the child has no stdin or stdout pipe")),
    };
    if let Err(e) = threads {
        jail.kill();
        let _ = child.wait();
        return Err(e);
    }
    Ok((jail, child, pipe))
}

/// What [`HotProcess::pull`] saw.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pulled {
    /// New bytes are in the pending buffer.
    Bytes,
    /// stdout has ended (and every byte was taken).
    Eof,
    /// The limit passed first.
    Timeout,
}

/// A long-lived function process of a hot format.
#[derive(Debug)]
pub struct HotProcess {
    child: Child,
    jail: Jail,
    input: Option<Sender<Vec<u8>>>,
    write_error: Arc<Mutex<Option<String>>>,
    pipe: Arc<Pipe>,
    /// stdout bytes taken from the pipe and not yet consumed by a call.
    pending: Vec<u8>,
    frozen: bool,
    /// Calls written to it so far.
    pub calls: u32,
}

impl HotProcess {
    /// Starts `launch`.
    pub fn spawn(launch: &Launch<'_>) -> io::Result<Self> {
        let (tx, rx) = mpsc::channel::<Vec<u8>>();
        let write_error = Arc::new(Mutex::new(None));
        let writer_error = Arc::clone(&write_error);
        let (jail, child, pipe) =
            start(launch, "stdio", move |stdin| feed(stdin, rx, writer_error))?;
        Ok(Self {
            child,
            jail,
            input: Some(tx),
            write_error,
            pipe,
            pending: Vec::new(),
            frozen: false,
            calls: 0,
        })
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Queues `bytes` for stdin (thawing the process first). `Err` says
    /// why they cannot be written: stdin closed, or an earlier write failed.
    pub fn write(&mut self, bytes: Vec<u8>) -> Result<(), String> {
        self.thaw();
        if let Some(e) = self.write_error() {
            return Err(format!("writing to its stdin failed: {e}"));
        }
        match &self.input {
            Some(tx) => tx
                .send(bytes)
                .map_err(|_| "its stdin is closed (the writer stopped)".to_owned()),
            None => Err("the harness had closed its stdin".into()),
        }
    }

    /// Why writing to stdin failed, if it did.
    pub(crate) fn write_error(&self) -> Option<String> {
        self.write_error.lock().ok().and_then(|e| e.clone())
    }

    /// Closes stdin once everything queued is written (EOF for the
    /// function).
    pub fn close_stdin(&mut self) {
        self.thaw();
        self.input = None;
    }

    /// Waits until `until` for stdout bytes beyond those pending.
    pub fn pull(&mut self, until: Instant) -> Pulled {
        let mut state = self.pipe.lock();
        loop {
            if !state.bytes.is_empty() {
                self.pending.append(&mut state.bytes);
                return Pulled::Bytes;
            }
            if state.eof {
                return Pulled::Eof;
            }
            let now = Instant::now();
            if now >= until {
                return Pulled::Timeout;
            }
            state = match self.pipe.ready.wait_timeout(state, until - now) {
                Ok((state, _)) => state,
                Err(poisoned) => poisoned.into_inner().0,
            };
        }
    }

    /// Everything stdout gave that no call consumed yet.
    pub fn pending(&self) -> &[u8] {
        &self.pending
    }

    /// Drops the first `n` pending bytes (a call consumed them).
    pub fn consume(&mut self, n: usize) -> Vec<u8> {
        let n = n.min(self.pending.len());
        self.pending.drain(..n).collect()
    }

    /// Whether stdout has ended.
    pub fn stdout_ended(&self) -> bool {
        self.pipe.lock().eof
    }

    /// Why reading stdout failed, if it did.
    pub fn read_error(&self) -> Option<String> {
        self.pipe.lock().error.clone()
    }

    /// Sends `signal`.
    pub fn signal(&self, signal: Signal) -> io::Result<()> {
        let pid = i32::try_from(self.child.id()).map_err(io::Error::other)?;
        nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), signal).map_err(io::Error::from)
    }

    /// Freezes the process and everything it started, as the server's
    /// freezer did between calls (the cgroup freezer, or SIGSTOP to the
    /// process group).
    pub fn freeze(&mut self) {
        if !self.frozen && matches!(self.child.try_wait(), Ok(None)) {
            self.frozen = self.jail.freeze().is_ok();
        }
    }

    /// Continues a frozen process.
    pub fn thaw(&mut self) {
        if self.frozen {
            let _ = self.jail.thaw();
            self.frozen = false;
        }
    }

    /// Whether it is frozen.
    #[cfg(test)]
    pub(crate) fn is_frozen(&self) -> bool {
        self.frozen
    }

    /// The exit status, if it has exited.
    pub fn exit_status(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    /// Waits up to `limit` for the process to exit (thawing it first).
    pub fn wait_exit(&mut self, limit: Duration) -> Option<ExitStatus> {
        self.thaw();
        let until = Instant::now() + limit;
        loop {
            if let Some(status) = self.exit_status() {
                return Some(status);
            }
            if Instant::now() >= until {
                return None;
            }
            thread::sleep(Duration::from_millis(2));
        }
    }

    /// Kills the process and everything it started (SIGKILL, thawed
    /// first, as the server removed containers) and reaps it.
    pub fn kill(&mut self) {
        self.jail.kill();
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.frozen = false;
    }
}

impl Drop for HotProcess {
    fn drop(&mut self) {
        self.input = None;
        self.kill();
    }
}

/// How a cold run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColdEnd {
    /// The process exited.
    Exited(ExitStatus),
    /// Still running at the deadline: killed.
    TimedOut,
}

/// One `default` call's process, start to end.
#[derive(Debug, Clone)]
pub struct ColdRun {
    /// How it ended.
    pub end: ColdEnd,
    /// All of stdout.
    pub stdout: Vec<u8>,
    /// Its process id.
    pub pid: u32,
}

/// Writes `body` to `stdin` in `pieces` with `pause` between them, then
/// closes it (the EOF). A function that exits without reading gets EPIPE
/// here: the server ignored that too.
fn write_pieces(mut stdin: ChildStdin, body: &[u8], pieces: usize, pause: Duration) {
    let size = body.len().div_ceil(pieces).max(1);
    for (i, piece) in body.chunks(size).enumerate() {
        if i > 0 {
            thread::sleep(pause);
        }
        if stdin.write_all(piece).is_err() {
            return;
        }
    }
}

/// Runs one `default` call: `body` is written to stdin in `pieces`, with
/// `pause` between them, then stdin is closed; the process is killed if it
/// has not exited by `until`.
pub fn run_cold(
    launch: &Launch<'_>,
    body: &[u8],
    pieces: usize,
    pause: Duration,
    until: Instant,
) -> io::Result<ColdRun> {
    let body = body.to_vec();
    let pieces = pieces.max(1);
    let (mut jail, mut child, pipe) = start(launch, "default", move |stdin| {
        write_pieces(stdin, &body, pieces, pause);
    })?;
    let pid = child.id();
    let end = loop {
        if let Ok(Some(status)) = child.try_wait() {
            break ColdEnd::Exited(status);
        }
        if Instant::now() >= until {
            jail.kill();
            let _ = child.wait();
            break ColdEnd::TimedOut;
        }
        thread::sleep(Duration::from_millis(2));
    };
    // The call's container is gone with its process: so is anything it
    // left behind.
    drop(jail);
    // stdout ends with the process (a child it left behind may have handed
    // it on: what it wrote so far is taken after a short grace).
    let grace = Instant::now() + Duration::from_millis(500);
    let stdout = {
        let mut state = pipe.lock();
        while !state.eof {
            let now = Instant::now();
            if now >= grace {
                break;
            }
            state = match pipe.ready.wait_timeout(state, grace - now) {
                Ok((state, _)) => state,
                Err(poisoned) => poisoned.into_inner().0,
            };
        }
        std::mem::take(&mut state.bytes)
    };
    Ok(ColdRun { end, stdout, pid })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sh(script: &str) -> FunctionCommand {
        FunctionCommand {
            name: "sh".into(),
            program: "sh".into(),
            args: vec!["-c".into(), script.into()],
        }
    }

    fn log() -> std::path::PathBuf {
        std::env::temp_dir().join(format!("stdio-process-test-{}.log", std::process::id()))
    }

    #[test]
    fn the_environment_is_the_0_3_602_servers() {
        let env = server_env(StdioFormat::Json);
        let get = |k: &str| {
            env.iter()
                .find(|(key, _)| key == k)
                .map(|(_, v)| v.as_str())
        };
        assert_eq!(get("FN_FORMAT"), Some("json"));
        assert_eq!(get("FN_PATH"), Some("/invoke"));
        assert_eq!(get("FN_TYPE"), Some("sync"));
        assert_eq!(get("FN_MEMORY"), Some("128"));
        assert_eq!(get("FN_APP_NAME"), Some(APP_NAME));
        assert_eq!(get("FN_FN_ID"), Some(FN_ID));
        assert_eq!(get("FN_LISTENER"), None);
        assert_eq!(get("FN_APP_ID"), None);
    }

    #[test]
    fn a_hot_process_echoes_through_the_pipes() {
        let log = log();
        let command = sh("while read -r line; do echo \"got $line $FN_FORMAT\"; done");
        let launch = Launch {
            command: &command,
            env: server_env(StdioFormat::Json),
            log: &log,
            sandbox: None,
        };
        let mut p = HotProcess::spawn(&launch).unwrap();
        p.write(b"one\n".to_vec()).unwrap();
        let until = Instant::now() + Duration::from_secs(5);
        while !p.pending().ends_with(b"\n") {
            assert_eq!(p.pull(until), Pulled::Bytes);
        }
        assert_eq!(p.consume(100), b"got one json\n");
        p.freeze();
        assert!(p.is_frozen());
        p.write(b"two\n".to_vec()).unwrap();
        assert!(!p.is_frozen());
        while !p.pending().ends_with(b"\n") {
            assert_eq!(p.pull(until), Pulled::Bytes);
        }
        p.close_stdin();
        assert_eq!(p.pull(until), Pulled::Eof);
        let status = p.wait_exit(Duration::from_secs(5)).unwrap();
        assert!(status.success());
        let _ = std::fs::remove_file(&log);
    }

    #[test]
    fn a_cold_run_gets_stdout_and_the_exit_code() {
        let log = log();
        let command = sh("cat; echo \" $FN_CALL_ID\"; exit 3");
        let mut env = server_env(StdioFormat::Default);
        env.push(("FN_CALL_ID".into(), "c1".into()));
        let launch = Launch {
            command: &command,
            env,
            log: &log,
            sandbox: None,
        };
        let run = run_cold(
            &launch,
            b"hello",
            2,
            Duration::from_millis(20),
            Instant::now() + Duration::from_secs(5),
        )
        .unwrap();
        assert_eq!(run.stdout, b"hello c1\n");
        assert!(matches!(run.end, ColdEnd::Exited(s) if s.code() == Some(3)));

        let command = sh("sleep 5");
        let launch = Launch {
            command: &command,
            env: server_env(StdioFormat::Default),
            log: &log,
            sandbox: None,
        };
        let run = run_cold(
            &launch,
            b"",
            1,
            Duration::ZERO,
            Instant::now() + Duration::from_millis(100),
        )
        .unwrap();
        assert_eq!(run.end, ColdEnd::TimedOut);
        let _ = std::fs::remove_file(&log);
    }
}
