//! The connection's and the process's life: keep-alive, new and concurrent
//! connections, the server's idle close, freezing, abandoned calls, an
//! unprivileged start, signals, limits, logs (HS-LIFE, HS-LOG, HS-ENV-6).

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::time::Duration;

use nix::sys::signal::Signal;

use super::{expect_200, needs_probe};
use crate::case::{Case, CaseResult};
use crate::harness::{Call, Ended, Harness, SERVER_IDLE_CLOSE, Via};
use crate::level::Level;
use crate::verdict::{Failure, Verdict};
use fn_emulator::StartOptions;
use fn_emulator::outcome::{Fate, ServerView};

pub(super) const CASES: [Case<Harness>; 13] = cases![
    // Level: the server reuses a connection for a call within 1 s; a call that
    // fails on a connection the function kept open is a failed call. A function
    // that closes it (Connection: close, or a body ended by the close) is only
    // SHOULD: the server then dials anew (measured: served without a failure).
    "life.keep-alive": Must, Nothing, keep_alive, ["HS-LIFE-1"]
        "20 calls in a row on one connection are all answered";
    // Level: the server dials a new connection after 1 s idle and after every
    // 502/504; a call refused there is a failed call.
    "life.new-connection": Must, Nothing, new_connection, ["HS-LIFE-3"]
        "a new connection per call works, including connections closed unused";
    // Level: the server never holds two connections (MaxIdleConns 1, one call
    // at a time; an idle one is closed before a new one is dialed).
    "life.second-connection": Should, Nothing, second_connection, ["HS-LIFE-4"]
        "a second connection is served while the first one is open";
    // Level: the server closes a connection idle for 1 s and dials anew; a
    // function that dies of that close fails the next call.
    "life.idle-close": Must, Nothing, idle_close, ["HS-LIFE-3", "HS-LIFE-9"]
        "after the harness closes a connection idle for over 1 s, as the server does, a new one is served";
    // Level: the server never reuses a connection idle for more than 1 s, and
    // with its freezer a function that times idle connections out (even after
    // 150 ms) is served without a failure.
    "life.idle-reuse": Should, Nothing, idle_reuse, ["HS-LIFE-2"]
        "a connection held open idle for 2 s (past the server's 1 s close) is still served";
    // Level: the server freezes after every call, as the harness does between
    // all calls by default, so a function that cannot resume fails MUST cases;
    // this case's reuse of a connection held 1.5 s is one the server never makes.
    "life.freeze": Should, Nothing, freeze, ["HS-LIFE-2"]
        "after a 1.5 s freeze (docker pause) the next call on the connection works";
    // Level: the server abandons a call when its client goes away; a body that
    // leaks into a later call is a call served wrong. A failure because the
    // function closed the connection after an answer is only SHOULD (see
    // life.keep-alive).
    "life.no-leaks": Must, Probe, no_leaks, ["HS-LIFE-5", "HS-REQ-2"]
        "an abandoned call's body never shows up in a later call";
    // Level: the server runs every container as 1000:1000 on a read-only root.
    "life.unprivileged": Must, Nothing, unprivileged, ["HS-ENV-6"]
        "as the server's 1000:1000 (the --uid user, or an image's container), in a read-only working directory, it starts and answers";
    // Level: the server allows 350 files and 50 tasks; measured, a function past
    // them fails its calls (502) and is killed.
    "life.limits": Must, Nothing, limits, ["HS-LIFE-8"]
        "400 calls under 350 open files, with at most 50 threads";
    // Level: FN_LOGFRAME_* are only set by the managed cloud service, never by
    // fnserver.
    "log.frame": Should, Nothing, log_frame, ["HS-LOG-3", "HS-LOG-4"]
        "FN_LOGFRAME_NAME/HDR frames are written before the call, only when the header is there";
    // Level: the server only logs stdout and stderr (measured: heavy output served).
    "log.no-response-bytes": Should, Probe, no_response_bytes, ["HS-LOG-1"]
        "request and response bytes never go to stdout or stderr";
    // Level: the server discards a 502's body and is indifferent to the log.
    "log.errors": Should, Probe, log_errors, ["HS-LOG-2"]
        "a failed call's message and call id reach stderr (the server discards 502 bodies)";
    // Level: the server only ever removes containers with SIGKILL (measured).
    "life.sigterm": Should, Nothing, sigterm, ["HS-LIFE-6"]
        "SIGTERM: exit 0 within 6 s with both socket files removed";
];

fn keep_alive(h: &mut Harness) -> CaseResult {
    let mut conn = h.connect()?;
    for i in 0..20 {
        let ex = h.exchange(&mut conn, &Call::invoke());
        h.require_200(
            &ex,
            format!("call {} of 20 on one connection failed", i + 1),
        )?;
        if ex.response().is_some_and(|r| r.close) {
            // SHOULD: the server dials anew for a connection the function closed.
            return Err(h
                .failed(
                    "the function closed a keep-alive connection (the server then dials a new \
                     one for the next call)",
                    &ex,
                )
                .at(Level::Should));
        }
    }
    Ok(())
}

fn new_connection(h: &mut Harness) -> CaseResult {
    for i in 0..10 {
        drop(h.connect()?);
        let ex = h.call_on_new(&Call::invoke())?;
        h.require_200(&ex, format!("call {} on a new connection failed", i + 1))?;
    }
    Ok(())
}

fn second_connection(h: &mut Harness) -> CaseResult {
    let mut first = h.connect()?;
    // A short deadline: an FDK that serves one connection at a time would
    // otherwise hold the suite for the default 30 s.
    let ex = h.call(&Call::invoke().deadline_in(Duration::from_secs(5)))?;
    expect_200(h, &ex)?;
    let ex = h.exchange(&mut first, &Call::invoke());
    expect_200(h, &ex)
}

/// The server's transport closes a connection idle for more than 1 s while
/// the container is paused, and dials a new one for the next call.
fn idle_close(h: &mut Harness) -> CaseResult {
    let ex = h.call(&Call::invoke())?;
    expect_200(h, &ex)?;
    if !h.has_pooled() {
        return Err(Verdict::NotApplicable(
            "the function closed the connection after its answer (see life.keep-alive), so \
             there was no idle connection for the harness to close"
                .into(),
        ));
    }
    // Idle past the transport's timeout; frozen, as the server pauses the
    // container 50 ms after a call (unless --no-freeze).
    std::thread::sleep(SERVER_IDLE_CLOSE + Duration::from_millis(200));
    let Some(idle) = h.close_idle() else {
        return Err(Verdict::fail(
            "harness error: the pooled connection was not closed after 1.2 s idle",
        ));
    };
    // The server's next call comes whenever a client sends one: give the
    // function time to see the close before it.
    h.thaw();
    std::thread::sleep(Duration::from_millis(200));
    if !h.alive() {
        let mut failure = Failure::new(
            "the function exited when the harness closed its idle connection, as the server's \
             transport does after 1 s; it must keep serving new connections",
        );
        failure.connection = Some(Via::New(Ended::IdleClose(idle)).to_string());
        failure.server = Some(ServerView {
            client_status: 502,
            message: Some("error receiving function response"),
            container: Fate::Killed,
        });
        failure.log = h.case_log();
        h.discard();
        return Err(Verdict::Fail(Box::new(failure)));
    }
    let ex = h.call(&Call::invoke())?;
    if !matches!(ex.via, Via::New(Ended::IdleClose(_))) {
        return Err(h.failed(
            "harness error: the call after the idle close did not go over a new connection",
            &ex,
        ));
    }
    h.require_200(
        &ex,
        "the call on a new connection, after the harness closed the idle one as the server \
         does, failed",
    )
}

/// fn-contract §12 case 34: unlike the server, which closes an idle
/// connection after 1 s, this case deliberately holds one of its own (outside
/// the harness's pool) open for 2 s, to see that the FDK does not close it.
fn idle_reuse(h: &mut Harness) -> CaseResult {
    let mut conn = h.connect()?;
    let ex = h.exchange(&mut conn, &Call::invoke());
    expect_200(h, &ex)?;
    // Idle while running (thawed), so that a timer of the function's own
    // would fire: the server's freezer only starts 50 ms after a call.
    h.running()?;
    std::thread::sleep(Duration::from_secs(2));
    let ex = h.exchange(&mut conn, &Call::invoke());
    h.require_200(
        &ex,
        "a connection held open idle for 2 s (the harness keeps it past the server's 1 s \
         idle close on purpose) was not served: the function must not time it out",
    )
}

/// Holds a connection of its own across the freeze (longer than the
/// server's 1 s idle close, on purpose: the process must resume intact).
fn freeze(h: &mut Harness) -> CaseResult {
    let mut conn = h.connect()?;
    let ex = h.exchange(&mut conn, &Call::invoke());
    expect_200(h, &ex)?;
    // Frozen as the server freezes it (the jail's cgroup freezer, or
    // SIGSTOP/SIGCONT to its group without one), not by a signal to one
    // pid: a stop signal wakes a timed wait that the freezer does not.
    h.freeze_now();
    std::thread::sleep(Duration::from_millis(1500));
    h.thaw();
    let ex = h.exchange(&mut conn, &Call::invoke());
    h.require_200(&ex, "the call after a freeze failed")
}

fn no_leaks(h: &mut Harness) -> CaseResult {
    needs_probe(h)?;
    // An abandoned call: the head and half of a chunked body, then a hang-up.
    let mut quitter = h.connect()?;
    let _ = quitter.send_raw(
        b"POST /call HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\
          Fn-Call-Id: abandoned\r\n\r\n20\r\nABANDONED-ABANDONED",
    );
    drop(quitter);
    // Two calls on one connection: each must get its own body back.
    let mut conn = h.connect()?;
    let mut closed = false;
    for body in ["first body", "second body"] {
        let ex = h.exchange(&mut conn, &Call::invoke().body(body));
        let result = expect_200(h, &ex).and_then(|()| {
            if ex.text() == body {
                Ok(())
            } else {
                Err(h.failed(format!("sent {body:?}, the echo was {:?}", ex.text()), &ex))
            }
        });
        if let Err(verdict) = result {
            if !closed {
                return Err(verdict);
            }
            // SHOULD: the server would have dialed a new connection.
            return Err(verdict.at(Level::Should).prefixed(
                "the function closed the connection after the first answer (see \
                 life.keep-alive), so the second call on it failed; the server would have \
                 dialed a new one: ",
            ));
        }
        closed = ex.response().is_some_and(|r| r.close);
    }
    Ok(())
}

fn limits(h: &mut Harness) -> CaseResult {
    let prlimit = std::process::Command::new("prlimit")
        .arg("--version")
        .output();
    if prlimit.is_err() {
        return Err(Verdict::NotApplicable(
            "prlimit (util-linux) is not installed".into(),
        ));
    }
    let f = h.start(StartOptions {
        wrapper: vec!["prlimit".into(), "--nofile=350:350".into(), "--".into()],
        ..StartOptions::default()
    })?;
    let pid = f.pid();
    // A new connection for every call, so that a descriptor kept per
    // connection would run out.
    for i in 0..400 {
        let ex = h.call_on_new(&Call::invoke())?;
        if ex.status() != Some(200) {
            h.discard();
            return Err(h.failed(format!("call {} under 350 files failed", i + 1), &ex));
        }
    }
    let threads = fn_emulator::procfs::status(pid)
        .map(|s| s.threads)
        .unwrap_or(0);
    h.discard();
    if threads > 50 {
        return Err(h.failed_plain(format!("{threads} threads; the sandbox allows 50 tasks")));
    }
    Ok(())
}

/// The skip reason when `--uid` was not given.
const UID_SKIP: &str = "run with --uid 1000 (as root) to check";

/// fn-contract §12 case 43: the server runs the container as 1000:1000 with
/// a read-only root file system.
fn unprivileged(h: &mut Harness) -> CaseResult {
    if h.in_container() {
        // In an image's container (`--image`, `--docker`) the function
        // always runs as the server runs it, as uid and gid 1000 under a
        // read-only root (`--uid` does not apply there): a fresh start is
        // checked as such.
        let uid = fn_emulator::docker::spec::UID;
        let context = format!(
            "in the image's container (uid {uid}, gid {uid}, no other groups, read-only root \
             file system)"
        );
        return start_unprivileged(h, StartOptions::default(), uid, &context);
    }
    let Some(uid) = h.uid() else {
        return Err(Verdict::Skipped(UID_SKIP.into()));
    };
    let cwd = h.work_path().join("read-only-cwd");
    let made = fs::create_dir_all(&cwd)
        .and_then(|()| fs::set_permissions(&cwd, fs::Permissions::from_mode(0o555)));
    if let Err(e) = made {
        return Err(Verdict::fail(format!(
            "harness error: could not make {}: {e}",
            cwd.display()
        )));
    }
    let context = format!(
        "as uid {uid} (gid {uid}, no other groups) with the working directory {} (0555, \
         not writable)",
        cwd.display()
    );
    let options = StartOptions {
        cwd: Some(cwd),
        ..StartOptions::default()
    };
    start_unprivileged(h, options, uid, &context)
}

/// Starts the function afresh with `options`, checks it runs as `uid` and
/// answers (`context` says how it was started), then discards it.
fn start_unprivileged(
    h: &mut Harness,
    options: StartOptions,
    uid: u32,
    context: &str,
) -> CaseResult {
    let pid = match h.start(options) {
        Ok(f) => f.pid(),
        Err(verdict) => {
            if matches!(verdict, Verdict::Fail(_)) {
                h.discard();
            }
            return Err(verdict.prefixed(&format!("{context}: ")));
        }
    };
    let result = check_unprivileged(h, pid, uid, context);
    h.discard();
    result
}

fn check_unprivileged(h: &mut Harness, pid: u32, uid: u32, context: &str) -> CaseResult {
    // The harness's own check: the process really runs as asked.
    let ids = fn_emulator::procfs::ids(pid).map_err(|e| {
        Verdict::fail(format!(
            "harness error: could not read the ids of {pid}: {e}"
        ))
    })?;
    if ids.uids.iter().any(|&u| u != uid)
        || ids.gids.iter().any(|&g| g != uid)
        || ids.groups.iter().any(|&g| g != uid)
    {
        return Err(Verdict::fail(format!(
            "harness error: the function runs with uids {:?}, gids {:?}, groups {:?}, not {uid}",
            ids.uids, ids.gids, ids.groups
        )));
    }
    for n in 1..=2 {
        let ex = h.call(&Call::invoke())?;
        h.require_200(&ex, format!("{context}: call {n} failed"))?;
    }
    Ok(())
}

/// Judges the frame alone: the whole output is searched (not the report's
/// last 2 KiB), so a function that logs a lot around its frame passes.
fn log_frame(h: &mut Harness) -> CaseResult {
    const FRAME: &str = "\nopc_request_id=conformance-frame-1\n";
    h.start(StartOptions {
        env_set: vec![
            ("FN_LOGFRAME_NAME".into(), "opc_request_id".into()),
            ("FN_LOGFRAME_HDR".into(), "Opc-Request-Id".into()),
        ],
        ..StartOptions::default()
    })?;
    let ex = h.call(&Call::invoke().header("Opc-Request-Id", "conformance-frame-1"))?;
    let result = expect_200(h, &ex).and_then(|()| {
        // Both streams go to one log; the frame must be there at least once.
        let before = h.case_output();
        if !before.contains(FRAME) {
            return Err(h.failed(
                "no `\\nopc_request_id=conformance-frame-1\\n` in the function's output",
                &ex,
            ));
        }
        // Without the header: no frame at all (fdk-node prints `NAME=null`).
        let ex = h.call(&Call::invoke())?;
        expect_200(h, &ex)?;
        let frames = |output: &str| output.matches("opc_request_id=").count();
        if frames(&h.case_output()) > frames(&before) {
            return Err(h.failed(
                "a call without Opc-Request-Id still wrote a frame line",
                &ex,
            ));
        }
        Ok(())
    });
    h.discard();
    result
}

fn log_errors(h: &mut Harness) -> CaseResult {
    needs_probe(h)?;
    let message = "conformance-logged-error-7";
    let ex =
        h.call(&Call::invoke().probe(&format!(r#"{{"op":"error","message":"{message}"}}"#)))?;
    super::supported(&ex)?;
    // Give the function a moment to flush its log line.
    let log = (0..20)
        .map(|_| {
            std::thread::sleep(Duration::from_millis(10));
            h.case_log()
        })
        .find(|log| log.contains(message))
        .unwrap_or_else(|| h.case_log());
    let line = log.lines().find(|l| l.contains(message));
    match line {
        None => Err(h.failed(
            format!("the message {message:?} is not in the function's output"),
            &ex,
        )),
        Some(line) if !line.contains(&ex.call_id) => Err(h.failed(
            format!(
                "the line with the message does not name the call id {}: {line:?}",
                ex.call_id
            ),
            &ex,
        )),
        Some(_) => Ok(()),
    }
}

fn sigterm(h: &mut Harness) -> CaseResult {
    let f = h.start(StartOptions::default())?;
    let socket = f.socket().to_owned();
    let dir = f.iofs().to_owned();
    f.signal(Signal::SIGTERM)
        .map_err(|e| Verdict::fail(format!("could not signal the function: {e}")))?;
    let status = f
        .wait_exit(Duration::from_secs(6))
        .map_err(|e| Verdict::fail(e.to_string()))?;
    let left: Vec<String> = std::fs::read_dir(&dir)
        .map(|d| {
            d.filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
                .collect()
        })
        .unwrap_or_default();
    h.discard();
    match status {
        None => Err(h.failed_plain("still running 6 s after SIGTERM")),
        Some(s) if !s.success() => Err(h.failed_plain(format!("exited with {s} after SIGTERM"))),
        Some(_) if !left.is_empty() => Err(h.failed_plain(format!(
            "exited but left {left:?} in the socket directory ({})",
            socket.display()
        ))),
        Some(_) => Ok(()),
    }
}

fn no_response_bytes(h: &mut Harness) -> CaseResult {
    needs_probe(h)?;
    let marker = "conformance-body-marker-5f2a";
    let ex = h.call(&Call::invoke().body(marker))?;
    expect_200(h, &ex)?;
    if ex.text() != marker {
        return Err(h.failed("the echo differs", &ex));
    }
    std::thread::sleep(Duration::from_millis(50));
    if h.case_log().contains(marker) {
        return Err(h.failed(
            "the call's body showed up in the function's stdout/stderr, which the server logs",
            &ex,
        ));
    }
    Ok(())
}
