//! Start-up: the environment, the socket and readiness (HS-ENV, HS-SOCK).

use std::fs;
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::{Component, Path};
use std::time::Duration;

use super::expect_200;
use crate::case::{Case, CaseResult};
use crate::harness::{Call, Harness};
use crate::verdict::Verdict;
use fn_emulator::{StartError, StartOptions};

pub(super) const CASES: [Case<Harness>; 10] = cases![
    // Level: not ready within 5 s is the server's 504 "Container initialization
    // timed out", container killed (measured: ready at 4.3 s served, ~5.3 s not).
    "sock.ready": Must, Nothing, ready, ["HS-SOCK-3", "HS-SOCK-4"]
        "lsnr.sock appears (inotify create) within 5 s of the start";
    // Level: what the server refuses (an absolute, `../` or dangling link, no
    // socket) already fails readiness (HS-SOCK-6, exit 2). Beyond that the server
    // accepts a socket bound or renamed at lsnr.sock and a `./name` link; the race
    // of binding lsnr.sock before listen() is judged by sock.dial-at-once (MUST).
    "sock.symlink": Should, Nothing, symlink, ["HS-SOCK-3"]
        "lsnr.sock is a relative symlink to a socket in the same directory";
    // Level: the server (fnserver runs as root, as measured) connects whatever
    // the socket's mode; only an agent run as another non-root uid needs the
    // 0666 the docs ask for.
    "sock.mode": Should, Nothing, mode, ["HS-SOCK-2"]
        "the socket is readable and writable by all (0666)";
    // Level: the server dials at once; a socket that appears before it listens
    // gets 502 "error receiving function response", container killed (measured).
    "sock.dial-at-once": Must, Nothing, dial_at_once, ["HS-SOCK-5"]
        "a call dialed the moment lsnr.sock appears is answered";
    // Level: the server gives every container a fresh, empty iofs directory
    // (ioutil.TempDir), so no stale file is ever there.
    "sock.stale-files": Should, Nothing, stale_files, ["HS-SOCK-1"]
        "stale lsnr.sock and private socket files do not stop the start";
    // Level: the server always sets FN_LISTENER=unix:/tmp/iofs/lsnr.sock.
    "env.listener-missing": Should, Nothing, listener_missing, ["HS-ENV-1"]
        "without FN_LISTENER the process exits non-zero";
    // Level: the server always sets FN_LISTENER=unix:/tmp/iofs/lsnr.sock.
    "env.listener-not-unix": Should, Nothing, listener_not_unix, ["HS-ENV-1"]
        "FN_LISTENER=tcp://... makes the process exit non-zero";
    // Level: the server always sets FN_LISTENER=unix:/tmp/iofs/lsnr.sock, never
    // an empty value.
    "env.listener-empty": Should, Nothing, listener_empty, ["HS-ENV-1"]
        "FN_LISTENER set but empty makes the process exit non-zero";
    // Level: the server always sets FN_FORMAT=http-stream.
    "env.format-unset": Should, Nothing, format_unset, ["HS-ENV-3"]
        "without FN_FORMAT the function still starts and answers";
    // Level: the server's listener is always /tmp/iofs/lsnr.sock (27 bytes).
    "env.long-path": Should, Nothing, long_path, ["HS-ENV-2", "HS-SOCK-2"]
        "a socket path of exactly 107 bytes works";
];

fn ready(h: &mut Harness) -> CaseResult {
    let f = h.start(StartOptions::default())?;
    let after = f.ready_after();
    if after > Duration::from_secs(5) {
        return Err(h.failed_plain(format!("ready after {after:.1?}, the server allows 5 s")));
    }
    Ok(())
}

fn symlink(h: &mut Harness) -> CaseResult {
    let socket = h.running()?.socket().to_owned();
    let meta = fs::symlink_metadata(&socket).map_err(|e| Verdict::fail(e.to_string()))?;
    if !meta.file_type().is_symlink() {
        return Err(h.failed_plain(
            "lsnr.sock is not a symlink: binding that name directly makes it appear \
             before the socket listens (the server dials at once and may be refused)",
        ));
    }
    let target = fs::read_link(&socket).map_err(|e| Verdict::fail(e.to_string()))?;
    let mut parts = target.components();
    if !matches!(
        (parts.next(), parts.next()),
        (Some(Component::Normal(_)), None)
    ) {
        return Err(h.failed_plain(format!(
            "lsnr.sock links to {target:?}; the server requires a bare name in the same directory"
        )));
    }
    match fs::metadata(&socket) {
        Ok(m) if m.file_type().is_socket() => Ok(()),
        _ => Err(h.failed_plain("lsnr.sock does not lead to a socket")),
    }
}

fn mode(h: &mut Harness) -> CaseResult {
    let socket = h.running()?.socket().to_owned();
    let meta = fs::metadata(&socket).map_err(|e| Verdict::fail(e.to_string()))?;
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o666 != 0o666 {
        return Err(h.failed_plain(format!(
            "the socket's mode is {mode:o}; the server may run as another user and needs 0666"
        )));
    }
    Ok(())
}

fn dial_at_once(h: &mut Harness) -> CaseResult {
    h.start(StartOptions::default())?;
    let ex = h.call(&Call::invoke())?;
    expect_200(h, &ex)
}

fn stale_files(h: &mut Harness) -> CaseResult {
    // The private names the official FDKs use, left over by a predecessor:
    // first with a stale `lsnr.sock` beside them, then without one (an FDK
    // may clean up the private name only when it finds the public one).
    let private = [
        "phonylsnr.sock",
        "lsnr.sock.tmp",
        "lsnr.sock.private",
        "phony-lsnr.sock",
    ];
    for with_public in [true, false] {
        let stale = private
            .into_iter()
            .map(|name| (name.to_owned(), Some(b"stale".to_vec())))
            .chain(with_public.then(|| ("lsnr.sock".to_owned(), None)))
            .collect();
        h.start(StartOptions {
            stale,
            ..StartOptions::default()
        })
        .map_err(|v| match v {
            Verdict::Fail(mut f) => {
                f.what = format!(
                    "with stale private socket files{}: {}",
                    if with_public {
                        " and a stale lsnr.sock"
                    } else {
                        " (no lsnr.sock)"
                    },
                    f.what
                );
                Verdict::Fail(f)
            }
            other => other,
        })?;
        let ex = h.call(&Call::invoke())?;
        expect_200(h, &ex)?;
    }
    Ok(())
}

/// Starts with `options` and expects the process to exit non-zero before
/// any socket appears, leaving nothing behind.
fn must_refuse(h: &mut Harness, options: StartOptions, why: &str) -> CaseResult {
    let dir = h.fresh_dir()?;
    let result = h.launch(dir.clone(), options);
    let leftovers = fs::read_dir(&dir).map(|d| d.count()).unwrap_or(0);
    h.discard();
    match result {
        Ok(()) => Err(h.failed_plain(format!("{why}: the function started anyway"))),
        Err(StartError::Exited(status)) if status.success() => {
            Err(h.failed_plain(format!("{why}: the process exited with status 0")))
        }
        Err(StartError::Exited(_)) if leftovers > 0 => Err(h.failed_plain(format!(
            "{why}: the process exited but left {leftovers} files in the socket directory"
        ))),
        Err(StartError::Exited(_)) => Ok(()),
        Err(other) => Err(h.failed_plain(format!(
            "{why}: expected a non-zero exit, got: {}",
            crate::error::display_chain(&other)
        ))),
    }
}

fn listener_missing(h: &mut Harness) -> CaseResult {
    must_refuse(
        h,
        StartOptions {
            env_remove: vec!["FN_LISTENER".into()],
            ..StartOptions::default()
        },
        "FN_LISTENER was not set",
    )
}

fn listener_not_unix(h: &mut Harness) -> CaseResult {
    must_refuse(
        h,
        StartOptions {
            env_set: vec![("FN_LISTENER".into(), "tcp://127.0.0.1:9".into())],
            ..StartOptions::default()
        },
        "FN_LISTENER was tcp://127.0.0.1:9",
    )
}

fn listener_empty(h: &mut Harness) -> CaseResult {
    must_refuse(
        h,
        StartOptions {
            env_set: vec![("FN_LISTENER".into(), String::new())],
            ..StartOptions::default()
        },
        "FN_LISTENER was set but empty",
    )
}

fn format_unset(h: &mut Harness) -> CaseResult {
    h.start(StartOptions {
        env_remove: vec!["FN_FORMAT".into()],
        ..StartOptions::default()
    })?;
    let ex = h.call(&Call::invoke())?;
    let result = expect_200(h, &ex);
    h.discard();
    result
}

fn long_path(h: &mut Harness) -> CaseResult {
    if h.in_container() {
        // The server binds its iofs directory at /tmp/iofs: whatever the
        // host's path, the function sees a 19-byte one.
        return Err(Verdict::NotApplicable(
            "in the server's container FN_LISTENER is always unix:/tmp/iofs/lsnr.sock: \
             a long socket path never reaches the function"
                .into(),
        ));
    }
    let dir = h.fresh_dir()?;
    // Pad with a subdirectory so that `<dir>/lsnr.sock` is 107 bytes.
    let base = dir.as_os_str().len() + 1 + "/lsnr.sock".len();
    let Some(pad) = 107usize.checked_sub(base).filter(|&n| n > 0) else {
        return Err(Verdict::NotApplicable(format!(
            "the temporary directory {dir:?} is too long to build a 107-byte path"
        )));
    };
    let padded = dir.join("p".repeat(pad));
    fs::create_dir(&padded).map_err(|e| Verdict::fail(e.to_string()))?;
    fs::set_permissions(&padded, fs::Permissions::from_mode(0o777))
        .map_err(|e| Verdict::fail(e.to_string()))?;
    debug_assert_eq!(padded.join("lsnr.sock").as_os_str().len(), 107);
    let result = h.start_in(padded.clone(), StartOptions::default());
    if let Err(Verdict::Fail(failure)) = &result {
        h.discard();
        return Err(h.failed_plain(format!(
            "with FN_LISTENER={} ({} bytes): {}",
            socket_url(&padded),
            padded.join("lsnr.sock").as_os_str().len(),
            failure.what
        )));
    }
    result?;
    let ex = h.call(&Call::invoke())?;
    let outcome = expect_200(h, &ex);
    h.discard();
    outcome
}

fn socket_url(dir: &Path) -> String {
    format!("unix:{}", dir.join("lsnr.sock").display())
}
