//! The trampoline every function start goes through: join the cgroups,
//! set the ulimits, drop to the uid, then exec.

use super::*;
use std::ffi::OsString;
use std::fs;
use std::os::unix::process::CommandExt;
use std::process::{Command, ExitCode};

use nix::sys::signal::Signal;

/// `fdk-conformance __sandbox-exec [--join FILE]... [--parent PID]
/// [--uid N] [--cwd DIR] -- PROGRAM ARGS...`: joins the cgroups (writing its
/// PID to each `cgroup.procs` FILE), sets the server's ulimits, drops to the
/// uid, asks for SIGKILL when the harness thread that started it dies, then
/// execs PROGRAM under the same PID with the environment it was given.
/// Returns only on failure (exit 127, the reason on stderr, which is the
/// function's log).
pub fn trampoline<I: IntoIterator<Item = OsString>>(args: I) -> ExitCode {
    match prepare_and_exec(args) {
        Ok(never) => match never {},
        Err(why) => {
            eprintln!("fdk-conformance sandbox: {why}");
            ExitCode::from(127)
        }
    }
}

/// Never returns `Ok`: exec replaces the process.
enum Never {}

fn prepare_and_exec<I: IntoIterator<Item = OsString>>(args: I) -> Result<Never, String> {
    use nix::sys::resource::{Resource, getrlimit, setrlimit};
    let mut args = args.into_iter();
    let mut joins = Vec::new();
    let mut parent = None;
    let mut uid = None;
    let mut cwd = None;
    let number = |v: Option<OsString>, what: &str| -> Result<u32, String> {
        v.and_then(|v| v.to_str()?.parse().ok())
            .ok_or_else(|| format!("{what} needs a number"))
    };
    loop {
        let Some(arg) = args.next() else {
            return Err("no program after --".into());
        };
        match arg.to_str() {
            Some("--join") => joins.push(args.next().ok_or("--join needs a file")?),
            Some("--parent") => parent = Some(number(args.next(), "--parent")?),
            Some("--uid") => uid = Some(number(args.next(), "--uid")?),
            Some("--cwd") => cwd = Some(args.next().ok_or("--cwd needs a directory")?),
            Some("--") => break,
            _ => return Err(format!("unknown argument {arg:?}")),
        }
    }
    let program = args.next().ok_or("no program after --")?;
    let me = std::process::id().to_string();
    for file in &joins {
        fs::write(file, &me).map_err(|e| format!("cannot join {file:?}: {e}"))?;
    }
    // The server's ulimits (soft and hard), never above what we have.
    for (resource, value) in [
        (Resource::RLIMIT_NOFILE, NOFILE),
        (Resource::RLIMIT_MEMLOCK, MEMLOCK),
        (Resource::RLIMIT_SIGPENDING, SIGPENDING),
        (Resource::RLIMIT_MSGQUEUE, MSGQUEUE),
    ] {
        let (_, hard) = getrlimit(resource).map_err(|e| format!("getrlimit: {e}"))?;
        let value = value.min(hard);
        setrlimit(resource, value, value)
            .map_err(|e| format!("cannot set the {resource:?} limit: {e}"))?;
    }
    if let Some(uid) = uid {
        use nix::unistd::{Gid, Uid, setgid, setgroups, setuid};
        setgroups(&[]).map_err(|e| format!("setgroups: {e}"))?;
        setgid(Gid::from_raw(uid)).map_err(|e| format!("setgid {uid}: {e}"))?;
        setuid(Uid::from_raw(uid)).map_err(|e| format!("setuid {uid}: {e}"))?;
    }
    // After the uid change, which clears it. The harness thread that
    // started us may already be gone: then so must we.
    nix::sys::prctl::set_pdeathsig(Signal::SIGKILL).map_err(|e| format!("prctl: {e}"))?;
    if let Some(parent) = parent
        && u32::try_from(nix::unistd::getppid().as_raw()).ok() != Some(parent)
    {
        return Err("the harness is gone".into());
    }
    let mut cmd = Command::new(&program);
    cmd.args(args);
    if let Some(cwd) = cwd {
        cmd.current_dir(cwd);
    }
    let e = cmd.exec();
    Err(format!("could not execute {program:?}: {e}"))
}
