//! `fixture <mode>`: deliberately broken http-stream functions, to prove that
//! the conformance cases catch what they claim to catch, and (as images on a
//! real Fn server, `scripts/oracle.sh`) that the harness judges them as the
//! server does. Without an argument the mode comes from `FIXTURE_MODE`.
//!
//! Every mode is a minimal function (std, plus `nix` for signals and
//! `serde_json` for the probe's `report`) that reads
//! `FN_LISTENER=unix:<dir>/<name>` (exit 2 if it is missing or not `unix:`),
//! removes stale files at `<name>` and `phony<name>`, binds `phony<name>`,
//! listens, makes it `0666` and then creates `<name>` as a relative symlink to
//! `phony<name>` (the readiness signal). It serves each connection on its own
//! thread, one call after another with keep-alive, through a hand-written
//! HTTP/1.1 parser (`Content-Length` or chunked bodies, chunk extensions and
//! trailers ignored). A call is answered as a correct FDK would:
//!
//! * `POST /call` → `200`, the request body echoed,
//!   `Content-Type: application/octet-stream`;
//! * body exactly `error` (a handler error) or `panic` (a handler panic) →
//!   `502` with a JSON `{"message": ...}` body;
//! * `Fn-Deadline` already passed when the call arrives → `504` with a JSON
//!   body (a missing or invalid deadline means no deadline);
//! * any other method or path → `502` with a JSON body;
//! * of the probe protocol's `X-Probe` ops (`protocol-spec/probe.md`),
//!   `echo`, `error`, `panic`, `nothing`, `sleep` and `report` (the body
//!   hashed as `""`); any other op is answered as unsupported;
//!
//! always with `Content-Length`, `Fn-Fdk-Version: fixture/0` and
//! `Fn-Fdk-Runtime: rust/std`. Every 502 and 504 is logged on stderr.
//!
//! Each mode but `good` and `chatty` adds exactly one defect:
//!
//! | mode | defect | breaks |
//! |---|---|---|
//! | `good` | none | nothing: every case must pass |
//! | `chatty` | none, but 3 KiB of log lines on stderr with every call, after the log frame | nothing: a case that reads the log (log.frame) must look past them |
//! | `direct-bind` | binds `<name>` itself (no private name, no symlink); the first dial, made when the name appears, is refused for 300 ms | HS-SOCK-5 connectable at the moment it appears (HS-SOCK-3) |
//! | `absolute-symlink` | `<name>` links to the absolute path of the private socket | HS-SOCK-3/HS-SOCK-6 relative symlink (server: init failure, 502) |
//! | `mode-0600` | the private socket is `0600` | HS-SOCK-2 mode `0666` |
//! | `status-500` | every call is answered `500` (body echoed) | HS-RESP-1 status is 200, 502 or 504 |
//! | `status-204` | every call is answered `204` with no body | HS-RESP-1, HS-RESP-2 |
//! | `close-connection` | reads each request, then closes without answering | HS-RESP-2 (server: "error receiving function response") |
//! | `no-socket` | never creates a socket; sleeps forever | HS-SOCK-4 ready within 5 s (server: 504 init timeout) |
//! | `exit-early` | exits 0 before creating any socket | HS-SOCK-4/HS-SOCK-6 (server: 502 init failure) |
//! | `leak-body` | answers each echo with the previous call's body (first: empty) | HS-REQ-2, HS-LIFE-5 no bytes of one call in another |
//! | `ignore-deadline` | sleeps 3 s before every answer and never answers 504 | HS-DL-4 a passed deadline is a 504 |
//! | `panic-drop` | body `panic`: closes the connection without answering (like fdk-go) | HS-RESP-5 a panic is a 502 |
//! | `wrong-status-for-error` | body `error`: answers `500` instead of `502` | HS-RESP-4 a handler error is a 502 |
//! | `no-version-header` | omits `Fn-Fdk-Version` | HS-RESP-3 every response identifies the FDK |
//! | `idle-timeout` | closes a connection idle for more than 500 ms | HS-LIFE-2 no connection timeouts |
//! | `stale-socket-fails` | exits 1 if `phony<name>` already exists (like fdk-python) | HS-SOCK-1 stale files are removed |
//! | `close-listener` | stops listening after its first connection, and stays up | HS-LIFE-3, HS-LIFE-7 a new connection per call works |
//! | `big-head` | adds a 1.1 KiB `X-Padding` header to every answer | HS-RESP-11 the response head stays small |
//! | `echo-stdout` | also writes each answer's body to stdout | HS-LOG-1 stdout and stderr are for logs only |
//! | `wrong-path-404` | answers `404` to any method or path but `POST /call` | HS-REQ-7 unexpected requests get 502 (a MAY case: the server never sends them) |
//! | `exit-on-close` | exits 0 when a connection that carried a call is closed by the peer (a function that lives as long as the server's connection) | HS-LIFE-3, HS-LIFE-7 a new connection after the server's 1 s idle close works |
//! | `needs-writable-cwd` | at start, writes (then removes) a file in its working directory; exits 1 if it cannot | HS-ENV-6 a read-only working directory, as uid 1000 |
//! | `close-mid-body` | declares 10 body bytes more than it sends, then closes the connection | HS-RESP-2 (server: 500 with an empty body, container kept) |
//! | `reuse-length` | every answer declares the first answer's `Content-Length` | HS-RESP-2 on a later call of another size |
//! | `huge-head` | adds a 20 KiB header to every answer | nothing the server fails (it reads heads up to 10 MiB) |
//! | `http10` | answers `HTTP/1.0` without keep-alive and closes | nothing the server fails |
//! | `connection-close` | answers with `Connection: close` and closes | nothing the server fails |
//! | `no-runtime-header` | omits `Fn-Fdk-Runtime` | HS-RESP-3 every response identifies the FDK |
//! | `empty-listener-exit-0` | exits 0 (nothing to listen on) when `FN_LISTENER` is set but empty | HS-ENV-1 an empty `FN_LISTENER` is an error |
//! | `ignore-deadline-offset` | reads `Fn-Deadline`'s clock time as UTC, ignoring a `±hh:mm` offset | HS-DL-1, HS-DL-3 the handler sees the header's instant |
//! | `require-deadline` | answers `500` to a call without `Fn-Deadline` | HS-DL-2 a missing deadline means no deadline |
//! | `drop-content-type` | the handler never sees the request's `Content-Type` (not in its headers, no field) | HS-REQ-4 invoke calls expose every header but framing |
//! | `hide-fn-vars` | its config hides every `FN_*` variable | HS-ENV-4, HS-ENV-5 the server's variables reach the handler |
//! | `hide-fn-plumbing` | its config hides `FN_LISTENER` and `FN_FORMAT` only | HS-ENV-4 (the plumbing only: a SHOULD failure) |
//! | `grandchild` | at start, leaves a child of its own behind (`fixture sleeper`, with the same further arguments), never reaped | nothing the server sees; the harness must kill it with the function |
//! | `length-too-long` | declares a `Content-Length` 2 bytes longer than the body it sends | the call runs into its deadline (server: 504, killed); the harness must give up at the call's limit even when `Fn-Deadline` is garbled |
//! | `no-final-crlf` | answers chunked, and ends the body with `0\r\n`, without the final CRLF | as `length-too-long` |
//! | `log-flood` | writes 50 MiB to stderr at every call before answering | nothing the server sees; the harness's memory must not grow with the log |
//! | `sleeper` | sleeps for ever; needs no `FN_LISTENER` (the child `grandchild` leaves behind) | never ready |
//! | `eintr-fatal` | waits for each request with a 60 s `SO_RCVTIMEO` and exits if that wait is interrupted (`EINTR`) | nothing under the server's cgroup freezer; under SIGSTOP/SIGCONT the wait is interrupted (signal(7)) |
//! | `memory-hog` | touches 256 MiB on every call before answering | `FN_MEMORY` (128 MB, no swap): the kernel's OOM killer ends the process mid-call |
//! | `thread-hog` | on its first call starts 60 threads; if one cannot start, ends them all and answers 502 | the 50-task limit: the server's pids cgroup refuses the threads (a 502 the function chose, not a crash) |
//!
//! `std` cannot bind a socket without listening on it, so `direct-bind`
//! creates `<name>` with a socket that it closes at once: a socket file with
//! nothing behind it refuses connections (`ECONNREFUSED`) exactly as one that
//! is bound but not yet listening. After 300 ms it binds `<name>` again, for
//! real. Nor can `std` catch SIGTERM without `unsafe`, so no mode (not even
//! `good`) cleans up on SIGTERM (HS-LIFE-6).

use nix::sys::signal::{SigSet, Signal};
use nix::sys::signalfd::SignalFd;
use std::ffi::OsString;
use std::fs;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::os::fd::AsRawFd;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{PermissionsExt, symlink};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value, json};

/// The longest request head (request line and headers) accepted, in bytes.
const HEAD_MAX: usize = 2 << 20;
/// The longest chunk-size or trailer line accepted, in bytes.
const LINE_MAX: usize = 64 << 10;
/// `idle-timeout`: how long a connection may wait for its next request.
const IDLE_LIMIT: Duration = Duration::from_millis(500);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Good,
    Chatty,
    DirectBind,
    AbsoluteSymlink,
    Mode0600,
    Status500,
    Status204,
    CloseConnection,
    NoSocket,
    ExitEarly,
    LeakBody,
    IgnoreDeadline,
    PanicDrop,
    WrongStatusForError,
    NoVersionHeader,
    IdleTimeout,
    StaleSocketFails,
    EchoStdout,
    CloseListener,
    BigHead,
    WrongPath404,
    ExitOnClose,
    NeedsWritableCwd,
    CloseMidBody,
    ReuseLength,
    HugeHead,
    Http10,
    ConnectionClose,
    NoRuntimeHeader,
    EmptyListenerExit0,
    IgnoreDeadlineOffset,
    RequireDeadline,
    DropContentType,
    HideFnVars,
    HideFnPlumbing,
    Grandchild,
    LengthTooLong,
    NoFinalCrlf,
    LogFlood,
    Sleeper,
    EintrFatal,
    MemoryHog,
    ThreadHog,
}

const MODES: [(&str, Mode); 43] = [
    ("good", Mode::Good),
    ("chatty", Mode::Chatty),
    ("direct-bind", Mode::DirectBind),
    ("absolute-symlink", Mode::AbsoluteSymlink),
    ("mode-0600", Mode::Mode0600),
    ("status-500", Mode::Status500),
    ("status-204", Mode::Status204),
    ("close-connection", Mode::CloseConnection),
    ("no-socket", Mode::NoSocket),
    ("exit-early", Mode::ExitEarly),
    ("leak-body", Mode::LeakBody),
    ("ignore-deadline", Mode::IgnoreDeadline),
    ("panic-drop", Mode::PanicDrop),
    ("wrong-status-for-error", Mode::WrongStatusForError),
    ("no-version-header", Mode::NoVersionHeader),
    ("idle-timeout", Mode::IdleTimeout),
    ("stale-socket-fails", Mode::StaleSocketFails),
    ("echo-stdout", Mode::EchoStdout),
    ("close-listener", Mode::CloseListener),
    ("big-head", Mode::BigHead),
    ("wrong-path-404", Mode::WrongPath404),
    ("exit-on-close", Mode::ExitOnClose),
    ("needs-writable-cwd", Mode::NeedsWritableCwd),
    ("close-mid-body", Mode::CloseMidBody),
    ("reuse-length", Mode::ReuseLength),
    ("huge-head", Mode::HugeHead),
    ("http10", Mode::Http10),
    ("connection-close", Mode::ConnectionClose),
    ("no-runtime-header", Mode::NoRuntimeHeader),
    ("empty-listener-exit-0", Mode::EmptyListenerExit0),
    ("ignore-deadline-offset", Mode::IgnoreDeadlineOffset),
    ("require-deadline", Mode::RequireDeadline),
    ("drop-content-type", Mode::DropContentType),
    ("hide-fn-vars", Mode::HideFnVars),
    ("hide-fn-plumbing", Mode::HideFnPlumbing),
    ("grandchild", Mode::Grandchild),
    ("length-too-long", Mode::LengthTooLong),
    ("no-final-crlf", Mode::NoFinalCrlf),
    ("log-flood", Mode::LogFlood),
    ("sleeper", Mode::Sleeper),
    ("eintr-fatal", Mode::EintrFatal),
    ("memory-hog", Mode::MemoryHog),
    ("thread-hog", Mode::ThreadHog),
];

/// `log-flood`: what it writes to stderr at every call.
const FLOOD: usize = 50 << 20;

fn main() -> ExitCode {
    // Block SIGTERM/SIGINT in every thread; one thread takes them from a
    // signalfd and cleans up (safe, unlike a signal handler).
    let mut stop_signals = SigSet::empty();
    stop_signals.add(Signal::SIGTERM);
    stop_signals.add(Signal::SIGINT);
    if let Err(e) = stop_signals.thread_block() {
        eprintln!("fixture: cannot block signals: {e}");
        return ExitCode::from(2);
    }
    // The mode is the first argument or, in an image whose entrypoint takes
    // none, the function's config `FIXTURE_MODE` (the server passes config
    // as environment variables).
    let arg = std::env::args_os()
        .nth(1)
        .or_else(|| std::env::var_os("FIXTURE_MODE"))
        .unwrap_or_default();
    let Some(&(name, mode)) = MODES.iter().find(|(name, _)| arg == *name) else {
        let names: Vec<&str> = MODES.iter().map(|(name, _)| *name).collect();
        eprintln!(
            "usage: fixture <mode> (or FIXTURE_MODE=<mode> fixture)\nmodes: {}",
            names.join(", ")
        );
        return ExitCode::from(2);
    };
    if mode == Mode::Sleeper {
        loop {
            thread::sleep(Duration::from_secs(3600));
        }
    }
    let public = match listener_path() {
        Ok(path) => path,
        Err(message) => {
            eprintln!("fixture {name}: {message}");
            if mode == Mode::EmptyListenerExit0
                && std::env::var_os("FN_LISTENER").is_some_and(|v| v.is_empty())
            {
                eprintln!("fixture {name}: nothing to listen on, exiting 0");
                return ExitCode::SUCCESS;
            }
            return ExitCode::from(2);
        }
    };
    match run(mode, &public) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("fixture {name}: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The socket path from `FN_LISTENER`.
fn listener_path() -> Result<PathBuf, String> {
    let value = std::env::var_os("FN_LISTENER")
        .ok_or_else(|| "FN_LISTENER is not set; it must be unix:<path>".to_owned())?;
    match value.as_bytes().strip_prefix(b"unix:") {
        Some(path) if !path.is_empty() => {
            Ok(PathBuf::from(std::ffi::OsStr::from_bytes(path).to_owned()))
        }
        _ => Err(format!("FN_LISTENER must be unix:<path>, not {value:?}")),
    }
}

fn run(mode: Mode, public: &Path) -> io::Result<()> {
    let listener = match mode {
        Mode::ExitEarly => {
            eprintln!("fixture exit-early: exiting before creating a socket");
            return Ok(());
        }
        Mode::NoSocket => loop {
            thread::sleep(Duration::from_secs(3600));
        },
        Mode::NeedsWritableCwd => {
            // A scratch file in the working directory, as some runtimes
            // write caches there; removed at once.
            let scratch = format!("fixture-scratch-{}", std::process::id());
            if let Err(e) = fs::write(&scratch, b"scratch").and_then(|()| fs::remove_file(&scratch))
            {
                eprintln!(
                    "fixture needs-writable-cwd: cannot write {scratch} in the working directory: {e}"
                );
                return Err(e);
            }
            bind_private(mode, public)?
        }
        Mode::DirectBind => bind_directly(public)?,
        Mode::Grandchild => {
            // A child that outlives every call, never waited for: the
            // harness must take it down with the function.
            let mut args = std::env::args_os().skip(2);
            let _child = std::process::Command::new(std::env::current_exe()?)
                .arg("sleeper")
                .args(&mut args)
                .stdin(std::process::Stdio::null())
                .spawn()?;
            bind_private(mode, public)?
        }
        _ => bind_private(mode, public)?,
    };
    clean_up_on_signal(public)?;
    serve(mode, &listener);
    if mode == Mode::CloseListener {
        drop(listener);
        loop {
            thread::sleep(Duration::from_secs(3600));
        }
    }
    Ok(())
}

/// On SIGTERM or SIGINT: remove the socket files and exit 0 (HS-LIFE-6).
fn clean_up_on_signal(public: &Path) -> io::Result<()> {
    let mut set = SigSet::empty();
    set.add(Signal::SIGTERM);
    set.add(Signal::SIGINT);
    let fd = SignalFd::new(&set).map_err(io::Error::from)?;
    let public = public.to_owned();
    let private = private_path(&public);
    thread::Builder::new().spawn(move || {
        if let Ok(Some(_)) = fd.read_signal() {
            let _ = std::fs::remove_file(&public);
            if let Some(private) = &private {
                let _ = std::fs::remove_file(private);
            }
            std::process::exit(0);
        }
    })?;
    Ok(())
}

/// `phony<name>` beside the public socket.
fn private_path(public: &Path) -> Option<PathBuf> {
    let name = public.file_name()?;
    let mut private = std::ffi::OsString::from("phony");
    private.push(name);
    Some(public.with_file_name(private))
}

// ---------------------------------------------------------------- sockets

fn invalid(message: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message.into())
}

fn closed(during: &str) -> io::Error {
    let message = format!("connection closed {during}");
    io::Error::new(io::ErrorKind::UnexpectedEof, message)
}

/// Removes `path` (any kind of file, a dangling symlink too) if it exists.
fn remove_stale(path: &Path) -> io::Result<()> {
    match fs::remove_file(path) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

/// Binds a listening socket at `path`, through `/proc/self/fd/<dir>/` when
/// the path is too long for `sockaddr_un` (108 bytes with the NUL).
fn bind_at(path: &Path) -> io::Result<UnixListener> {
    if path.as_os_str().len() < 108 {
        return UnixListener::bind(path);
    }
    let name = path
        .file_name()
        .ok_or_else(|| invalid("socket path has no file name"))?;
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let dir = fs::File::open(dir)?;
    let mut short = OsString::from(format!("/proc/self/fd/{}/", dir.as_raw_fd()));
    short.push(name);
    UnixListener::bind(short)
}

/// The contract's start-up: stale files out, bind `phony<name>`, listen,
/// chmod, then the relative symlink, last. Three modes bend one step.
fn bind_private(mode: Mode, public: &Path) -> io::Result<UnixListener> {
    let name = public
        .file_name()
        .ok_or_else(|| invalid("FN_LISTENER has no file name"))?;
    let mut private_name = OsString::from("phony");
    private_name.push(name);
    let private = public.with_file_name(&private_name);
    if mode == Mode::StaleSocketFails && fs::symlink_metadata(&private).is_ok() {
        return Err(io::Error::new(
            io::ErrorKind::AlreadyExists,
            format!("{} already exists, refusing to start", private.display()),
        ));
    }
    remove_stale(&private)?;
    remove_stale(public)?;
    let listener = bind_at(&private)?;
    let bits = if mode == Mode::Mode0600 { 0o600 } else { 0o666 };
    fs::set_permissions(&private, fs::Permissions::from_mode(bits))?;
    if mode == Mode::AbsoluteSymlink {
        symlink(std::path::absolute(&private)?, public)?;
    } else {
        symlink(&private_name, public)?;
    }
    Ok(listener)
}

/// `direct-bind`: `<name>` itself is the socket, and it refuses connections
/// for its first 300 ms (see the module doc for why it is closed, not merely
/// not listening).
fn bind_directly(public: &Path) -> io::Result<UnixListener> {
    remove_stale(public)?;
    drop(bind_at(public)?);
    fs::set_permissions(public, fs::Permissions::from_mode(0o666))?;
    thread::sleep(Duration::from_millis(300));
    fs::remove_file(public)?;
    let listener = bind_at(public)?;
    fs::set_permissions(public, fs::Permissions::from_mode(0o666))?;
    Ok(listener)
}

/// Accepts forever; each connection gets its own thread.
fn serve(mode: Mode, listener: &UnixListener) {
    let last_body = Arc::new(Mutex::new(Vec::new()));
    for stream in listener.incoming() {
        let stream = match stream {
            Ok(stream) => stream,
            Err(e) => {
                eprintln!("fixture: accept: {e}");
                thread::sleep(Duration::from_millis(10));
                continue;
            }
        };
        let last_body = Arc::clone(&last_body);
        let spawned = thread::Builder::new().spawn(move || {
            if let Err(e) = serve_connection(mode, stream, &last_body) {
                eprintln!("fixture: connection: {e}");
            }
        });
        if let Err(e) = spawned {
            eprintln!("fixture: cannot start a connection thread: {e}");
        }
        if mode == Mode::CloseListener {
            // Like fn-test-utils' isShutdown: stop listening, stay alive.
            eprintln!("fixture close-listener: no more connections");
            return;
        }
    }
}

// ------------------------------------------------------------- connection

/// One connection: requests one after another until the peer closes it, asks
/// to close it, or the mode drops it.
fn serve_connection(mode: Mode, stream: UnixStream, last_body: &Mutex<Vec<u8>>) -> io::Result<()> {
    let mut writer = stream.try_clone()?;
    let mut reader = BufReader::new(stream);
    let idle = (mode == Mode::IdleTimeout).then_some(IDLE_LIMIT);
    let mut calls = 0u32;
    loop {
        if mode == Mode::EintrFatal {
            wait_uninterrupted(&mut reader)?;
        }
        let head = match read_head(&mut reader, idle) {
            Ok(Some(head)) => head,
            Ok(None) if mode == Mode::ExitOnClose && calls > 0 => {
                eprintln!("fixture exit-on-close: the connection was closed, exiting");
                std::process::exit(0);
            }
            Ok(None) => return Ok(()),
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                eprintln!("fixture idle-timeout: idle for {IDLE_LIMIT:?}, closing the connection");
                return Ok(());
            }
            Err(e) => return Err(e),
        };
        log_frame(&head);
        if mode == Mode::Chatty {
            chatter();
        }
        let late = mode != Mode::IgnoreDeadline && deadline_passed(mode, &head);
        let body = read_body(&mut reader, head.framing)?;
        let Some(reply) = decide(mode, &head, body, late, last_body) else {
            return Ok(()); // close without answering
        };
        write_reply(&mut writer, mode, &reply)?;
        calls += 1;
        if head.close
            || matches!(
                mode,
                Mode::CloseMidBody | Mode::Http10 | Mode::ConnectionClose
            )
        {
            return Ok(());
        }
    }
}

/// `eintr-fatal`: waits for the next request with a 60 s `SO_RCVTIMEO`, as
/// a function with an idle timer of its own might; an interrupted wait
/// (`EINTR`, which a stop signal causes and the cgroup freezer does not)
/// ends the process.
fn wait_uninterrupted(reader: &mut BufReader<UnixStream>) -> io::Result<()> {
    if !reader.buffer().is_empty() {
        return Ok(());
    }
    reader
        .get_ref()
        .set_read_timeout(Some(Duration::from_secs(60)))?;
    let waited = reader.fill_buf().map(|_| ());
    reader.get_ref().set_read_timeout(None)?;
    match waited {
        Err(e) if e.kind() == io::ErrorKind::Interrupted => {
            eprintln!(
                "fixture eintr-fatal: the wait for a request was interrupted (EINTR), exiting"
            );
            std::process::exit(3);
        }
        other => other,
    }
}

/// `\n<FN_LOGFRAME_NAME>=<value>\n` on stdout and stderr when the call
/// carries the `FN_LOGFRAME_HDR` header (every mode does this right).
fn log_frame(head: &Head) {
    let (Ok(name), Ok(header)) = (
        std::env::var("FN_LOGFRAME_NAME"),
        std::env::var("FN_LOGFRAME_HDR"),
    ) else {
        return;
    };
    if let Some(value) = head
        .get(&header.to_ascii_lowercase())
        .filter(|v| !v.is_empty())
    {
        let frame = format!("\n{name}={value}\n");
        let mut out = io::stdout().lock();
        let _ = out.write_all(frame.as_bytes()).and_then(|()| out.flush());
        let _ = io::stderr().lock().write_all(frame.as_bytes());
    }
}

/// `chatty`: 3 KiB of log lines on stderr, as a talkative handler writes.
fn chatter() {
    let line = format!("fixture chatty: {}\n", "log ".repeat(12));
    let mut err = io::stderr().lock();
    for _ in 0..(3 << 10) / line.len() + 1 {
        let _ = err.write_all(line.as_bytes());
    }
}

/// An answer: status, `Content-Type` and body.
struct Reply(u16, Option<&'static str>, Vec<u8>);

impl Reply {
    fn echo(status: u16, body: Vec<u8>) -> Self {
        Self(status, Some("application/octet-stream"), body)
    }

    /// An error answer with a JSON body, logged on stderr.
    fn failure(status: u16, message: &str) -> Self {
        eprintln!("fixture: answering {status}: {message}");
        let body = format!("{{\"message\":\"{message}\"}}");
        Self(status, Some("application/json"), body.into_bytes())
    }
}

/// What the mode makes of one fully read call; `None` closes the connection.
fn decide(
    mode: Mode,
    head: &Head,
    body: Vec<u8>,
    late: bool,
    last_body: &Mutex<Vec<u8>>,
) -> Option<Reply> {
    if mode == Mode::LogFlood {
        let line = [b'f'; 1023]
            .iter()
            .chain(b"\n")
            .copied()
            .collect::<Vec<u8>>();
        let mut err = io::stderr().lock();
        for _ in 0..FLOOD / line.len() {
            if err.write_all(&line).is_err() {
                break;
            }
        }
    }
    match mode {
        Mode::CloseConnection => return None,
        Mode::Status204 => {
            return Some(Reply(204, None, Vec::new()));
        }
        Mode::Status500 => return Some(Reply::echo(500, body)),
        Mode::MemoryHog => {
            // Every page written, so the memory is really used.
            let mut hog = vec![0u8; 256 << 20];
            for page in hog.chunks_mut(4096) {
                page[0] = 1;
            }
            std::hint::black_box(&hog);
        }
        Mode::ThreadHog => {
            if let Err(e) = start_idle_threads() {
                return Some(Reply::failure(502, &format!("cannot start a thread: {e}")));
            }
        }
        Mode::IgnoreDeadline => thread::sleep(Duration::from_secs(3)),
        _ => {}
    }
    if mode == Mode::WrongPath404 && (head.method != "POST" || head.target != "/call") {
        return Some(Reply::failure(404, "not found: only POST /call is served"));
    }
    if head.method != "POST" || head.target != "/call" {
        return Some(Reply::failure(
            502,
            "unexpected request: only POST /call is served",
        ));
    }
    if mode == Mode::RequireDeadline && head.get("fn-deadline").is_none() {
        return Some(Reply::failure(500, "the call has no Fn-Deadline"));
    }
    if late {
        return Some(Reply::failure(
            504,
            "the deadline had passed when the call arrived",
        ));
    }
    // The probe protocol's `X-Probe` ops the fixture knows map onto the
    // body keywords; any other op is declared unsupported.
    let op = probe_header(head).map(probe_op);
    let body = match op.as_deref() {
        None | Some("echo") => body,
        Some("error") => {
            // Every failed call reaches stderr with its id (HS-LOG-2).
            let message = probe_header(head)
                .and_then(|v| v.split_once("\"message\""))
                .and_then(|(_, rest)| rest.split('"').nth(1))
                .unwrap_or("");
            let id = head.get("fn-call-id").unwrap_or("");
            eprintln!("fixture: call {id} failed: {message}");
            b"error".to_vec()
        }
        Some("panic") => b"panic".to_vec(),
        Some("nothing") => return Some(Reply(200, None, Vec::new())),
        Some("sleep") => return Some(sleep_op(mode, head)),
        Some("report") => {
            let report = report(mode, head, &body);
            return Some(Reply(200, Some("application/json"), report.into_bytes()));
        }
        Some(other) => {
            let body = format!("{{\"probe_unsupported\":\"{other}\"}}");
            return Some(Reply(200, Some("application/json"), body.into_bytes()));
        }
    };
    match (body.as_slice(), mode) {
        (b"panic", Mode::PanicDrop) => {
            eprintln!("fixture panic-drop: handler panicked, dropping the connection");
            None
        }
        (b"panic", _) => Some(Reply::failure(502, "handler panicked")),
        (b"error", Mode::WrongStatusForError) => Some(Reply::failure(500, "handler error")),
        (b"error", _) => Some(Reply::failure(502, "handler error")),
        (_, Mode::LeakBody) => {
            let mut last = last_body
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            Some(Reply::echo(200, std::mem::replace(&mut *last, body)))
        }
        (_, Mode::EchoStdout) => {
            // The legacy-format habit: the answer also goes to stdout.
            let mut out = io::stdout().lock();
            let _ = out.write_all(&body).and_then(|()| out.flush());
            Some(Reply::echo(200, body))
        }
        _ => Some(Reply::echo(200, body)),
    }
}

/// `thread-hog`: 60 threads that stay, started once per process; if one
/// cannot start, the others are ended (and joined) before the error comes
/// back, so that later calls have their tasks again.
fn start_idle_threads() -> io::Result<()> {
    use std::sync::atomic::{AtomicBool, Ordering};
    static STARTED: AtomicBool = AtomicBool::new(false);
    static GIVE_UP: AtomicBool = AtomicBool::new(false);
    if STARTED.swap(true, Ordering::SeqCst) {
        return Ok(());
    }
    let mut started = Vec::new();
    for _ in 0..60 {
        let spawned = thread::Builder::new().stack_size(64 * 1024).spawn(|| {
            while !GIVE_UP.load(Ordering::SeqCst) {
                thread::sleep(Duration::from_millis(5));
            }
        });
        match spawned {
            Ok(handle) => started.push(handle),
            Err(e) => {
                GIVE_UP.store(true, Ordering::SeqCst);
                for handle in started {
                    let _ = handle.join();
                }
                return Err(e);
            }
        }
    }
    Ok(())
}

/// The `X-Probe` header: unprefixed on invoke calls, `Fn-Http-H-X-Probe`
/// on gateway calls.
fn probe_header(head: &Head) -> Option<&str> {
    head.get("x-probe")
        .or_else(|| head.get("fn-http-h-x-probe"))
}

/// The `op` of an `X-Probe` JSON value (`{"op":"sleep","ms":5000}`), read
/// without a JSON parser: the fixture is std-only.
fn probe_op(value: &str) -> String {
    value
        .split_once("\"op\"")
        .and_then(|(_, rest)| rest.split('"').nth(1))
        .unwrap_or("echo")
        .to_owned()
}

/// `{"op":"sleep","ms":N}`: sleeps N ms, or answers 504 when `Fn-Deadline`
/// comes first.
fn sleep_op(mode: Mode, head: &Head) -> Reply {
    let ms: u64 = probe_header(head)
        .and_then(|v| v.split_once("\"ms\""))
        .and_then(|(_, rest)| {
            let digits: String = rest
                .chars()
                .skip_while(|c| !c.is_ascii_digit())
                .take_while(char::is_ascii_digit)
                .collect();
            digits.parse().ok()
        })
        .unwrap_or(0);
    let wake = SystemTime::now() + Duration::from_millis(ms);
    let deadline = head
        .get("fn-deadline")
        .and_then(|value| deadline_of(mode, value))
        .and_then(|(secs, nanos)| {
            let secs = u64::try_from(secs).ok()?;
            Some(UNIX_EPOCH + Duration::new(secs, nanos))
        });
    match deadline {
        Some(deadline) if deadline < wake => {
            if let Ok(left) = deadline.duration_since(SystemTime::now()) {
                thread::sleep(left);
            }
            Reply::failure(504, "the deadline passed during the call")
        }
        _ => {
            thread::sleep(Duration::from_millis(ms));
            Reply(200, Some("text/plain"), b"slept".to_vec())
        }
    }
}

/// `{"op":"report","config":[...]}`: what the handler would see of the call,
/// as `protocol-spec/probe.md` words it (the body is not hashed: `""`).
fn report(mode: Mode, head: &Head, body: &[u8]) -> String {
    let op: Value = probe_header(head)
        .and_then(|v| serde_json::from_str(v).ok())
        .unwrap_or(Value::Null);
    let gateway = head.get("fn-intent") == Some("httprequest");
    let hidden = |name: &str| mode == Mode::DropContentType && name == "content-type";
    // Invoke calls: every header but the framing. Gateway calls: the
    // client's, `Fn-Http-H-*` unprefixed, and `Content-Type`.
    let headers: Vec<Value> = head
        .headers
        .iter()
        .filter_map(|(name, value)| {
            let name = name.to_ascii_lowercase();
            let shown = if gateway {
                match name.strip_prefix("fn-http-h-") {
                    Some(bare) => Some(bare.to_owned()).filter(|b| !b.is_empty()),
                    None => (name == "content-type").then_some(name),
                }
            } else {
                (!matches!(
                    name.as_str(),
                    "host" | "transfer-encoding" | "content-length"
                ))
                .then_some(name)
            };
            shown.filter(|n| !hidden(n)).map(|n| json!([n, value]))
        })
        .collect();
    let mut config = Map::new();
    let keys = op["config"].as_array().into_iter().flatten();
    for key in keys.filter_map(Value::as_str) {
        let value = config_value(mode, key).map_or(Value::Null, Value::from);
        config.insert(key.to_owned(), value);
    }
    let deadline = head
        .get("fn-deadline")
        .and_then(|value| deadline_of(mode, value))
        .map(|(secs, _)| format_utc(secs));
    json!({
        "call_id": head.get("fn-call-id").filter(|id| !id.is_empty()),
        "deadline": deadline,
        "gateway": gateway,
        "method": head.get("fn-http-method").filter(|_| gateway),
        "url": head.get("fn-http-request-url").filter(|_| gateway),
        "content_type": head.get("content-type").filter(|_| !hidden("content-type")),
        "headers": headers,
        "config": config,
        "body_len": body.len(),
        "body_sha256": "",
    })
    .to_string()
}

/// A config value (an environment variable), as the mode shows it.
fn config_value(mode: Mode, key: &str) -> Option<String> {
    let hidden = match mode {
        Mode::HideFnVars => key.starts_with("FN_"),
        Mode::HideFnPlumbing => key == "FN_LISTENER" || key == "FN_FORMAT",
        _ => false,
    };
    if hidden {
        return None;
    }
    std::env::var_os(key).map(|v| v.to_string_lossy().into_owned())
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        204 => "No Content",
        404 => "Not Found",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        504 => "Gateway Timeout",
        _ => "Unknown",
    }
}

/// `reuse-length`: the first answer's body length, declared on every answer.
static FIRST_LENGTH: std::sync::OnceLock<usize> = std::sync::OnceLock::new();

/// Writes the whole response in one `write`.
fn write_reply(writer: &mut UnixStream, mode: Mode, reply: &Reply) -> io::Result<()> {
    let Reply(status, content_type, body) = reply;
    let mut out = Vec::with_capacity(192 + body.len());
    let version = if mode == Mode::Http10 { "1.0" } else { "1.1" };
    write!(out, "HTTP/{version} {status} {}\r\n", reason(*status))?;
    let with_body = *status != 204;
    if with_body {
        if let Some(content_type) = content_type {
            write!(out, "Content-Type: {content_type}\r\n")?;
        }
        let declared = match mode {
            Mode::CloseMidBody => body.len() + 10,
            Mode::ReuseLength => *FIRST_LENGTH.get_or_init(|| body.len()),
            // Promises two bytes it never sends.
            Mode::LengthTooLong => body.len() + 2,
            _ => body.len(),
        };
        if mode == Mode::NoFinalCrlf {
            out.extend_from_slice(b"Transfer-Encoding: chunked\r\n");
        } else {
            write!(out, "Content-Length: {declared}\r\n")?;
        }
    }
    let padding = match mode {
        Mode::BigHead => 1100,
        Mode::HugeHead => 20 * 1024,
        _ => 0,
    };
    if padding > 0 {
        out.extend_from_slice(b"X-Padding: ");
        out.extend(std::iter::repeat_n(b'x', padding));
        out.extend_from_slice(b"\r\n");
    }
    if mode == Mode::ConnectionClose {
        out.extend_from_slice(b"Connection: close\r\n");
    }
    if mode != Mode::NoVersionHeader {
        out.extend_from_slice(b"Fn-Fdk-Version: fixture/0\r\n");
    }
    if mode != Mode::NoRuntimeHeader {
        out.extend_from_slice(b"Fn-Fdk-Runtime: rust/std\r\n");
    }
    out.extend_from_slice(b"\r\n");
    if with_body && mode == Mode::NoFinalCrlf {
        if !body.is_empty() {
            write!(out, "{:x}\r\n", body.len())?;
            out.extend_from_slice(body);
            out.extend_from_slice(b"\r\n");
        }
        // The last chunk, without the CRLF that ends the (empty) trailer.
        out.extend_from_slice(b"0\r\n");
    } else if with_body {
        out.extend_from_slice(body);
    }
    writer.write_all(&out)
}

// ---------------------------------------------------------------- request

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Framing {
    Length(u64),
    Chunked,
}

struct Head {
    method: String,
    target: String,
    headers: Vec<(String, String)>,
    framing: Framing,
    close: bool,
}

impl Head {
    /// Every value of the header `name`, split on commas, trimmed.
    fn list<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.headers
            .iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .flat_map(|(_, v)| v.split(','))
            .map(|item| item.trim_matches([' ', '\t']))
            .filter(|item| !item.is_empty())
    }

    fn get(&self, name: &str) -> Option<&str> {
        let mut values = self
            .headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name));
        values.next().map(|(_, v)| v.as_str())
    }
}

/// Reads one line ending in LF (CRLF or bare LF), without the line end.
/// `None` at a clean end of stream; an error past `limit` bytes.
fn read_line(reader: &mut impl BufRead, limit: usize) -> io::Result<Option<Vec<u8>>> {
    let mut line = Vec::new();
    reader.take(limit as u64 + 1).read_until(b'\n', &mut line)?;
    if line.is_empty() {
        return Ok(None);
    }
    if line.pop() != Some(b'\n') {
        return Err(if line.len() >= limit {
            invalid("line too long")
        } else {
            closed("mid-line")
        });
    }
    if line.last() == Some(&b'\r') {
        line.pop();
    }
    Ok(Some(line))
}

/// Reads a request line and headers. `None` if the peer closed the connection
/// between requests. With `idle`, waiting for the request line times out.
fn read_head(
    reader: &mut BufReader<UnixStream>,
    idle: Option<Duration>,
) -> io::Result<Option<Head>> {
    if idle.is_some() {
        reader.get_ref().set_read_timeout(idle)?;
    }
    let mut budget = HEAD_MAX;
    let mut next_line = |reader: &mut BufReader<UnixStream>| -> io::Result<Option<Vec<u8>>> {
        let line = read_line(reader, budget)?;
        let used = line.as_ref().map_or(0, |l| l.len() + 2);
        budget = budget
            .checked_sub(used)
            .ok_or_else(|| invalid("request head too large"))?;
        Ok(line)
    };
    let request_line = loop {
        match next_line(reader)? {
            None => return Ok(None),
            Some(line) if line.is_empty() => continue, // stray CRLF between requests
            Some(line) => break line,
        }
    };
    if idle.is_some() {
        reader.get_ref().set_read_timeout(None)?;
    }
    let request_line =
        String::from_utf8(request_line).map_err(|_| invalid("request line is not UTF-8"))?;
    let parts: Vec<&str> = request_line.split(' ').collect();
    let [method, target, version] = parts[..] else {
        return Err(invalid(format!("bad request line {request_line:?}")));
    };
    if version != "HTTP/1.1" && version != "HTTP/1.0" {
        return Err(invalid(format!("unsupported version {version:?}")));
    }
    let mut headers = Vec::new();
    loop {
        let line = next_line(reader)?.ok_or_else(|| closed("in the head"))?;
        if line.is_empty() {
            break;
        }
        let colon = line.iter().position(|&b| b == b':');
        let (name, value) = match colon {
            Some(at) if at > 0 && !line[..at].iter().any(|b| b.is_ascii_whitespace()) => {
                (&line[..at], &line[at + 1..])
            }
            _ => return Err(invalid("malformed header line")),
        };
        let value = String::from_utf8_lossy(value)
            .trim_matches([' ', '\t'])
            .to_owned();
        headers.push((String::from_utf8_lossy(name).into_owned(), value));
    }
    let mut head = Head {
        method: method.to_owned(),
        target: target.to_owned(),
        headers,
        framing: Framing::Length(0),
        close: false,
    };
    head.framing = framing(&head)?;
    let has = |token: &str| {
        head.list("connection")
            .any(|t| t.eq_ignore_ascii_case(token))
    };
    head.close = has("close") || (version == "HTTP/1.0" && !has("keep-alive"));
    Ok(Some(head))
}

/// The body's framing: chunked if `Transfer-Encoding` ends in `chunked`, else
/// `Content-Length` (every value must agree), else empty.
fn framing(head: &Head) -> io::Result<Framing> {
    if let Some(last) = head.list("transfer-encoding").last() {
        return if last.eq_ignore_ascii_case("chunked") {
            Ok(Framing::Chunked)
        } else {
            Err(invalid(format!("unsupported transfer coding {last:?}")))
        };
    }
    let mut length = None;
    for value in head.list("content-length") {
        let parsed = value
            .bytes()
            .all(|b| b.is_ascii_digit())
            .then(|| value.parse::<u64>().ok())
            .flatten()
            .ok_or_else(|| invalid(format!("bad Content-Length {value:?}")))?;
        if length.is_some_and(|seen| seen != parsed) {
            return Err(invalid("conflicting Content-Length values"));
        }
        length = Some(parsed);
    }
    Ok(Framing::Length(length.unwrap_or(0)))
}

/// Appends exactly `n` bytes from `reader` to `body`.
fn read_exact_into(reader: &mut impl Read, n: u64, body: &mut Vec<u8>) -> io::Result<()> {
    let got = reader.take(n).read_to_end(body)?;
    if (got as u64) < n {
        return Err(closed("in the body"));
    }
    Ok(())
}

fn read_body(reader: &mut impl BufRead, framing: Framing) -> io::Result<Vec<u8>> {
    let mut body = Vec::new();
    if let Framing::Length(n) = framing {
        read_exact_into(reader, n, &mut body)?;
        return Ok(body);
    }
    let eof = || closed("in a chunked body");
    loop {
        let line = read_line(reader, LINE_MAX)?.ok_or_else(eof)?;
        // `size [; extension...]`; extensions are ignored.
        let size = line.split(|&b| b == b';').next().unwrap_or_default();
        let size = std::str::from_utf8(size)
            .unwrap_or_default()
            .trim_matches([' ', '\t']);
        let size = (!size.is_empty() && size.bytes().all(|b| b.is_ascii_hexdigit()))
            .then(|| u64::from_str_radix(size, 16).ok())
            .flatten()
            .ok_or_else(|| invalid("bad chunk size"))?;
        if size == 0 {
            break;
        }
        read_exact_into(reader, size, &mut body)?;
        if read_line(reader, LINE_MAX)?.ok_or_else(eof)?.is_empty() {
            continue;
        }
        return Err(invalid("chunk data not followed by CRLF"));
    }
    // Trailers, up to the empty line; ignored.
    while !read_line(reader, LINE_MAX)?.ok_or_else(eof)?.is_empty() {}
    Ok(body)
}

// --------------------------------------------------------------- deadline

/// Whether the call's `Fn-Deadline` has passed. Missing or invalid: no
/// deadline (with a warning on stderr).
fn deadline_passed(mode: Mode, head: &Head) -> bool {
    let Some(value) = head.get("fn-deadline") else {
        eprintln!("fixture: no Fn-Deadline, running the call without a deadline");
        return false;
    };
    let Some(deadline) = deadline_of(mode, value) else {
        eprintln!("fixture: invalid Fn-Deadline {value:?}, running the call without a deadline");
        return false;
    };
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    deadline <= (now.as_secs() as i64, now.subsec_nanos())
}

/// `Fn-Deadline` as the mode reads it: strict RFC 3339, except that
/// `ignore-deadline-offset` takes a `±hh:mm` offset for `Z`.
fn deadline_of(mode: Mode, value: &str) -> Option<(i64, u32)> {
    if mode == Mode::IgnoreDeadlineOffset
        && let Some(at) = value.len().checked_sub(6)
        && matches!(value.as_bytes().get(at), Some(b'+' | b'-'))
        && let Some(clock) = value.get(..at)
    {
        return parse_rfc3339(&format!("{clock}Z"));
    }
    parse_rfc3339(value)
}

/// Seconds since the Unix epoch as RFC 3339 in UTC, `2026-11-26T21:03:13Z`
/// (the date from Howard Hinnant's `civil_from_days`).
fn format_utc(secs: i64) -> String {
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let mp = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Parses strict RFC 3339 (`T`/`t`, optional fraction, `Z`/`z`/`±hh:mm`, no
/// leap second) into (seconds, nanoseconds) since the Unix epoch.
fn parse_rfc3339(value: &str) -> Option<(i64, u32)> {
    let b = value.as_bytes();
    let num = |from: usize, to: usize| -> Option<i64> {
        let digits = b.get(from..to)?;
        digits.iter().try_fold(0i64, |n, &d| {
            d.is_ascii_digit().then(|| n * 10 + i64::from(d - b'0'))
        })
    };
    let punct = [(4, b'-'), (7, b'-'), (13, b':'), (16, b':')];
    if !punct.iter().all(|&(at, c)| b.get(at) == Some(&c))
        || !matches!(b.get(10), Some(b'T' | b't'))
    {
        return None;
    }
    let (year, month, day) = (num(0, 4)?, num(5, 7)?, num(8, 10)?);
    let (hour, minute, second) = (num(11, 13)?, num(14, 16)?, num(17, 19)?);
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let days_in_month = match month {
        2 => 28 + i64::from(leap),
        4 | 6 | 9 | 11 => 30,
        1..=12 => 31,
        _ => return None,
    };
    if !(1..=days_in_month).contains(&day) || hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    let mut at = 19;
    let mut nanos = 0u32;
    if b.get(at) == Some(&b'.') {
        let digits = b[at + 1..]
            .iter()
            .take_while(|d| d.is_ascii_digit())
            .count();
        if digits == 0 {
            return None;
        }
        let padded = b[at + 1..at + 1 + digits].iter().chain([b'0'; 9].iter());
        nanos = padded.take(9).fold(0, |n, &d| n * 10 + u32::from(d - b'0'));
        at += 1 + digits;
    }
    let offset = match b.get(at..)? {
        b"Z" | b"z" => 0,
        [sign @ (b'+' | b'-'), _, _, b':', _, _] => {
            let (h, m) = (num(at + 1, at + 3)?, num(at + 4, at + 6)?);
            if h > 23 || m > 59 {
                return None;
            }
            (h * 3600 + m * 60) * if *sign == b'+' { 1 } else { -1 }
        }
        _ => return None,
    };
    // Days from the civil date (Howard Hinnant's algorithm).
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let year_of_era = y - era * 400;
    let day_of_year = (153 * ((month + 9) % 12) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    let days = era * 146_097 + day_of_era - 719_468;
    Some((
        days * 86_400 + hour * 3600 + minute * 60 + second - offset,
        nanos,
    ))
}
