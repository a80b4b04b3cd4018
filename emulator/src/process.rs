//! Starting a function the way the agent starts a hot container: a fresh 0777
//! iofs directory, the `FN_*` environment pointing `FN_LISTENER` into it, no
//! stdin, stdout and stderr to one log, in a [`Jail`] of its own (cgroups
//! with the server's limits when the run has them, a process group always);
//! then waiting for `lsnr.sock`. Stopping is the agent's forced removal:
//! SIGKILL to every process in the jail, no signal first.

use std::ffi::OsString;
use std::fs::{self, File};
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::docker::container::FunctionContainer;
use crate::iofs::MAX_SOCKET_PATH;
use crate::ready::{ReadyWait, StartError, wait_for_socket};
use crate::sandbox::{DEFAULT_MEMORY_MB, Jail, Sandbox, Target};
use crate::wire;

/// The socket name the agent waits for (`udsFilename`).
pub const SOCKET_NAME: &str = wire::SOCKET_NAME;
/// `FN_APP_ID` given to every function (an ID shaped like the server's).
pub const APP_ID: &str = "01KCONF0RMANCE00000000APP0";
/// `FN_FN_ID` given to every function.
pub const FN_ID: &str = "01KCONF0RMANCE000000000FN0";

/// A function to run: a name for reports, then a program and its arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionCommand {
    /// The name used in reports.
    pub name: String,
    /// The program to execute (looked up in `PATH` if it has no slash).
    pub program: OsString,
    /// Its arguments.
    pub args: Vec<OsString>,
}

impl FunctionCommand {
    /// The command as lossy UTF-8 words, for reports.
    pub fn words(&self) -> Vec<String> {
        std::iter::once(&self.program)
            .chain(&self.args)
            .map(|w| w.to_string_lossy().into_owned())
            .collect()
    }
}

/// The environment the server sets for a function (contract §2.1), with
/// `FN_LISTENER` pointing at `socket`.
pub fn server_env(socket: &Path) -> Vec<(OsString, OsString)> {
    let mut listener = OsString::from("unix:");
    listener.push(socket);
    [
        (wire::ENV_APP_ID, OsString::from(APP_ID)),
        (wire::ENV_FN_ID, OsString::from(FN_ID)),
        (wire::ENV_MEMORY, OsString::from("128")),
        (wire::ENV_TYPE, OsString::from("sync")),
        (wire::ENV_LISTENER, listener),
        (wire::ENV_FORMAT, OsString::from(wire::FORMAT_HTTP_STREAM)),
    ]
    .into_iter()
    .map(|(k, v)| (OsString::from(k), v))
    .collect()
}

/// Checks, as `uid` (gid the same, no other groups), that `command`'s
/// program can be executed and that `work` (where the socket directories
/// are) can be entered, so that `--uid` fails with a reason rather than with
/// a start that mysteriously never happens. The error says what to fix.
pub fn check_access(uid: u32, command: &FunctionCommand, work: &Path) -> Result<(), String> {
    let as_uid = |script: &str, arg: &std::ffi::OsStr| {
        Command::new("/bin/sh")
            .arg("-c")
            .arg(script)
            .arg("sh")
            .arg(arg)
            .uid(uid)
            .gid(uid)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .map(|status| status.success())
            .map_err(|e| format!("could not run /bin/sh as uid {uid} to check access: {e}"))
    };
    let program = &command.program;
    let shown = Path::new(program).display();
    if program.as_bytes().contains(&b'/') {
        if !as_uid(r#"test -f "$1" && test -x "$1""#, program)? {
            return Err(format!(
                "{shown} is not executable by uid {uid}: it, or a directory on its path, is \
                 closed to other users (a checkout under a 0700 home, say); copy it into a \
                 0755 directory and run that copy"
            ));
        }
    } else if !as_uid(r#"command -v -- "$1" >/dev/null"#, program)? {
        return Err(format!(
            "uid {uid} finds no executable {shown} in PATH; give its full path, in a directory \
             every user can enter"
        ));
    }
    if !as_uid(r#"test -x "$1""#, work.as_os_str())? {
        return Err(format!(
            "uid {uid} cannot enter the work directory {}; set TMPDIR to a directory every user \
             can enter (/tmp, say)",
            work.display()
        ));
    }
    Ok(())
}

/// How to start a function beyond the server's defaults: the knobs the
/// conformance cases turn (environment, stale files, resource limits,
/// readiness by inotify as the agent sees it).
#[derive(Debug, Clone, Default)]
pub struct StartOptions {
    /// Variables of [`server_env`] to leave out (e.g. `FN_FORMAT`).
    pub env_remove: Vec<String>,
    /// Variables to set or override (config, `FN_LISTENER` variants).
    pub env_set: Vec<(String, String)>,
    /// A command that runs the function (`prlimit --nofile=350 --`).
    pub wrapper: Vec<OsString>,
    /// Wait for the inotify create/moved-to event of `lsnr.sock` (the
    /// agent's readiness signal) instead of polling for the name.
    pub inotify: bool,
    /// Files to create in the iofs directory before the start, with their
    /// contents (`None`: a dangling symlink to `nowhere`).
    pub stale: Vec<(String, Option<Vec<u8>>)>,
    /// The working directory (the server's is the image's, read-only).
    pub cwd: Option<PathBuf>,
    /// Run as this uid, with the same gid and no supplementary groups (the
    /// server's `1000:1000`). Setting it needs root.
    pub uid: Option<u32>,
    /// The container to start it in; `None`: a process group of its own,
    /// frozen with signals, no cgroups ([`Sandbox::process_groups`]).
    pub sandbox: Option<Arc<Sandbox>>,
}

/// `FN_MEMORY` as `env_set` leaves it, in MB: the memory limit of the jail.
fn memory_mb(options: &StartOptions) -> u64 {
    options
        .env_set
        .iter()
        .rev()
        .find(|(k, _)| k == wire::ENV_MEMORY)
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(DEFAULT_MEMORY_MB)
}

/// What runs: a process started here, or a container on a Docker daemon
/// (a [`Sandbox::docker`] run).
#[derive(Debug)]
enum Process {
    Child(Child),
    Container(FunctionContainer),
}

impl Process {
    /// The exit status, if it has exited.
    fn try_wait(&mut self) -> io::Result<Option<ExitStatus>> {
        match self {
            Self::Child(child) => child.try_wait(),
            Self::Container(container) => container.exit_status(),
        }
    }

    /// The function's PID as the host sees it (in a container, the image's
    /// command under docker-init).
    fn id(&self) -> u32 {
        match self {
            Self::Child(child) => child.id(),
            Self::Container(container) => container.function_pid(),
        }
    }
}

/// The environment of a function in a container: the server's, with the
/// socket where the container sees it, less `env_remove`, plus `env_set`.
fn container_env(options: &StartOptions) -> Vec<(String, String)> {
    let socket = Path::new(crate::docker::spec::IOFS_DEST).join(SOCKET_NAME);
    let mut env: Vec<(String, String)> = server_env(&socket)
        .into_iter()
        .map(|(k, v)| {
            (
                k.to_string_lossy().into_owned(),
                v.to_string_lossy().into_owned(),
            )
        })
        .filter(|(k, _)| !options.env_remove.contains(k))
        .collect();
    for (key, value) in &options.env_set {
        env.retain(|(k, _)| k != key);
        env.push((key.clone(), value.clone()));
    }
    env
}

/// A function process that became ready. Dropping it kills the process and
/// everything it started (its jail), and removes its iofs directory.
#[derive(Debug)]
pub struct RunningFunction {
    process: Process,
    jail: Jail,
    iofs: PathBuf,
    socket: PathBuf,
    log: PathBuf,
    ready_after: Duration,
}

impl RunningFunction {
    /// Spawns `command` with its socket in `iofs` (a fresh, empty 0777
    /// directory, see [`WorkDir::fresh_iofs`]) and its stdout and stderr
    /// appended to `log`, then waits until it is ready. On failure the
    /// process is killed and `iofs` removed; `log` stays for the caller.
    ///
    /// [`WorkDir::fresh_iofs`]: crate::WorkDir::fresh_iofs
    pub fn start(
        command: &FunctionCommand,
        iofs: PathBuf,
        log: &Path,
        wait: ReadyWait,
    ) -> Result<Self, StartError> {
        Self::start_with(command, iofs, log, wait, &StartOptions::default())
    }

    /// [`start`](Self::start) with `options`.
    pub fn start_with(
        command: &FunctionCommand,
        iofs: PathBuf,
        log: &Path,
        wait: ReadyWait,
        options: &StartOptions,
    ) -> Result<Self, StartError> {
        let socket = iofs.join(SOCKET_NAME);
        // Beyond this, no function could bind or be dialed.
        if socket.as_os_str().as_bytes().len() > MAX_SOCKET_PATH {
            let _ = fs::remove_dir_all(&iofs);
            return Err(StartError::PathTooLong(socket));
        }
        let open = || {
            let stdout = File::options().create(true).append(true).open(log)?;
            let stderr = stdout.try_clone()?;
            Ok((stdout, stderr))
        };
        let (stdout, stderr) = match open() {
            Ok(files) => files,
            Err(e) => {
                let _ = fs::remove_dir_all(&iofs);
                return Err(StartError::Setup(e));
            }
        };

        let docker = options.sandbox.as_deref().and_then(Sandbox::docker_runtime);
        let jail = match options.sandbox.as_deref() {
            Some(sandbox) => sandbox.jail(memory_mb(options)),
            None => Sandbox::process_groups().jail(memory_mb(options)),
        };
        let mut jail = match jail {
            Ok(jail) => jail,
            Err(e) => {
                let _ = fs::remove_dir_all(&iofs);
                return Err(StartError::Setup(e));
            }
        };
        let (program, args) = match options.wrapper.split_first() {
            Some((program, wrapper_args)) => {
                let mut args = wrapper_args.to_vec();
                args.push(command.program.clone());
                args.extend(command.args.iter().cloned());
                (program.as_os_str(), args)
            }
            None => (command.program.as_os_str(), command.args.clone()),
        };
        let mut cmd = jail.command(&Target {
            program,
            args: &args,
            uid: options.uid,
            cwd: options.cwd.as_deref(),
        });
        cmd.stdin(Stdio::null()).stdout(stdout).stderr(stderr);
        for (key, _) in std::env::vars_os() {
            if key.as_bytes().starts_with(wire::ENV_PREFIX.as_bytes()) {
                cmd.env_remove(key);
            }
        }
        for (key, value) in server_env(&socket) {
            if !options
                .env_remove
                .iter()
                .any(|k| key.as_bytes() == k.as_bytes())
            {
                cmd.env(key, value);
            }
        }
        cmd.envs(options.env_set.iter().map(|(k, v)| (k, v)));

        for (name, contents) in &options.stale {
            let path = iofs.join(name);
            let made = match contents {
                Some(bytes) => fs::write(&path, bytes),
                None => std::os::unix::fs::symlink("nowhere", &path),
            };
            if let Err(e) = made {
                let _ = fs::remove_dir_all(&iofs);
                return Err(StartError::Setup(e));
            }
        }
        // The watch goes on before the process starts, as the agent's does.
        let watch = if options.inotify {
            match crate::ready::SocketWatch::new(&iofs) {
                Ok(watch) => Some(watch),
                Err(e) => {
                    let _ = fs::remove_dir_all(&iofs);
                    return Err(StartError::Setup(e));
                }
            }
        } else {
            None
        };

        let started = Instant::now();
        let process = match docker {
            Some(runtime) => {
                // The container's own view: its environment is only what
                // the server gives it, with the socket at /tmp/iofs.
                let env = container_env(options);
                match runtime.start(env, &iofs, memory_mb(options), log) {
                    Ok(container) => {
                        jail.set_container(container.handle());
                        Process::Container(container)
                    }
                    Err(e) => {
                        let _ = fs::remove_dir_all(&iofs);
                        return Err(StartError::Spawn(io::Error::other(e)));
                    }
                }
            }
            None => match jail.spawn(&mut cmd) {
                Ok(child) => Process::Child(child),
                Err(e) => {
                    let _ = fs::remove_dir_all(&iofs);
                    return Err(StartError::Spawn(e));
                }
            },
        };
        // The agent's 5 s count begins once its start call returned.
        let started = if docker.is_some() {
            Instant::now()
        } else {
            started
        };
        let mut running = Self {
            process,
            jail,
            iofs,
            socket,
            log: log.to_owned(),
            ready_after: Duration::ZERO,
        };
        let process = &mut running.process;
        let mut exited = || process.try_wait();
        running.ready_after = match watch {
            Some(watch) => watch.wait(&mut exited, &running.socket, started, wait)?,
            None => wait_for_socket(&mut exited, &running.socket, started, wait)?,
        };
        Ok(running)
    }

    /// The process ID (in a docker container, the function's under
    /// docker-init, as the host sees it).
    pub fn pid(&self) -> u32 {
        self.process.id()
    }

    /// The path of `lsnr.sock`.
    pub fn socket(&self) -> &Path {
        &self.socket
    }

    /// The time from spawn to `lsnr.sock` appearing.
    pub fn ready_after(&self) -> Duration {
        self.ready_after
    }

    /// The file that holds the function's stdout and stderr.
    pub fn log(&self) -> &Path {
        &self.log
    }

    /// The exit status, if the process has exited.
    pub fn exit_status(&mut self) -> io::Result<Option<ExitStatus>> {
        self.process.try_wait()
    }

    /// The iofs directory holding the socket.
    pub fn iofs(&self) -> &Path {
        &self.iofs
    }

    /// Freezes the process and everything it started, as `docker pause`
    /// does: the cgroup freezer when the run has cgroups (returns once every
    /// task is frozen), else SIGSTOP to its process group.
    pub fn freeze(&mut self) -> io::Result<()> {
        self.jail.freeze()
    }

    /// Undoes [`freeze`](Self::freeze).
    pub fn thaw(&mut self) -> io::Result<()> {
        self.jail.thaw()
    }

    /// The container the process runs in.
    pub fn jail(&self) -> &Jail {
        &self.jail
    }

    /// Sends `signal` to the process (only, not its process group; in a
    /// container, through the kill API, which docker-init passes on).
    pub fn signal(&self, signal: nix::sys::signal::Signal) -> io::Result<()> {
        if let Process::Container(container) = &self.process {
            return container.signal(signal);
        }
        let pid = i32::try_from(self.process.id()).map_err(io::Error::other)?;
        nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), signal).map_err(io::Error::from)
    }

    /// Waits up to `limit` for the process to exit.
    pub fn wait_exit(&mut self, limit: Duration) -> io::Result<Option<ExitStatus>> {
        let start = Instant::now();
        loop {
            if let Some(status) = self.process.try_wait()? {
                return Ok(Some(status));
            }
            if start.elapsed() > limit {
                return Ok(None);
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// The last `max` bytes of the function's output, as lossy UTF-8.
    pub fn output_tail(&self, max: usize) -> String {
        output_tail(&self.log, max)
    }
}

impl Drop for RunningFunction {
    fn drop(&mut self) {
        // Every process in the jail (thawed first if frozen), then the
        // direct child's zombie; the jail's cgroups go when it drops.
        self.jail.kill();
        if let Process::Child(child) = &mut self.process {
            let _ = child.kill();
            let _ = child.wait();
        }
        let _ = fs::remove_dir_all(&self.iofs);
    }
}

/// The last `max` bytes of the file at `path`, as lossy UTF-8 (empty if
/// unreadable). Only those bytes are read: a function may log gigabytes.
pub fn output_tail(path: &Path, max: usize) -> String {
    String::from_utf8_lossy(&crate::iofs::read_tail(path, 0, max)).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::WorkDir;

    #[test]
    fn env_matches_the_server() {
        let env = server_env(Path::new("/tmp/iofs/lsnr.sock"));
        let get = |k: &str| {
            env.iter()
                .find(|(key, _)| key == k)
                .map(|(_, v)| v.to_string_lossy().into_owned())
        };
        assert_eq!(
            get("FN_LISTENER").as_deref(),
            Some("unix:/tmp/iofs/lsnr.sock")
        );
        assert_eq!(get("FN_FORMAT").as_deref(), Some("http-stream"));
        assert_eq!(get("FN_MEMORY").as_deref(), Some("128"));
        assert_eq!(get("FN_TYPE").as_deref(), Some("sync"));
        assert_eq!(get("FN_APP_ID").map(|v| v.len()), Some(26));
        assert_eq!(get("FN_FN_ID").map(|v| v.len()), Some(26));
    }

    #[test]
    fn a_process_that_exits_is_reported() {
        let mut work = WorkDir::create().unwrap();
        let command = FunctionCommand {
            name: "sh".into(),
            program: "sh".into(),
            args: vec!["-c".into(), "echo $FN_FORMAT; exit 3".into()],
        };
        let iofs = work.fresh_iofs().unwrap();
        let log = iofs.with_extension("log");
        let err =
            RunningFunction::start(&command, iofs.clone(), &log, ReadyWait::default()).unwrap_err();
        assert!(!iofs.exists());
        assert_eq!(output_tail(&log, 100), "http-stream\n");
        assert!(matches!(err, StartError::Exited(_)), "{err:?}");
    }

    #[test]
    fn a_missing_program_is_reported() {
        let mut work = WorkDir::create().unwrap();
        let command = FunctionCommand {
            name: "missing".into(),
            program: "/nonexistent/fdk-conformance-test".into(),
            args: vec![],
        };
        let iofs = work.fresh_iofs().unwrap();
        let log = iofs.with_extension("log");
        let err = RunningFunction::start(&command, iofs, &log, ReadyWait::default()).unwrap_err();
        assert!(matches!(err, StartError::Spawn(_)), "{err:?}");
    }
}
