//! A function run in the server's container on a Docker daemon, as the
//! harness runs a process: created with the server's configuration
//! ([`spec`](super::spec)), attached (its stdout and stderr appended to the
//! function's log as they come), started, then frozen with pause and
//! unpause, signalled with kill, watched for its exit, and removed by force.
//!
//! The daemon must share the harness's PID namespace (it does when both run
//! on one machine): the container's first process, `State.Pid`, is then a
//! host PID, whose disappearance from `/proc` tells of an exit without an
//! API round trip, and whose child (the function under docker-init) the
//! `/proc` checks read.

use std::io::{self, Read, Write};
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::ExitStatus;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread::JoinHandle;

use super::engine::ContainerRef;
use super::logs::Demux;
use super::spec::FunctionSpec;
use super::{DockerError, Engine, Result};

/// The label every container the harness creates carries, with the
/// harness's PID: a container left behind can be found and removed.
pub const OWNER_LABEL: &str = "io.fnproject.fdk-conformance";

/// How functions are started on a daemon: which daemon, which image.
#[derive(Debug)]
pub struct DockerRuntime {
    engine: Engine,
    image: String,
    next: AtomicU64,
}

impl DockerRuntime {
    /// Functions from `image` (already in the daemon) on `engine`.
    pub fn new(engine: Engine, image: impl Into<String>) -> Self {
        Self {
            engine,
            image: image.into(),
            next: AtomicU64::new(0),
        }
    }

    /// The daemon.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// The image.
    pub fn image(&self) -> &str {
        &self.image
    }

    /// Creates the server's container for one start (socket directory
    /// `iofs`, environment `env`, `memory_mb` of memory), attaches its
    /// output to `log`, and starts it.
    pub fn start(
        &self,
        env: Vec<(String, String)>,
        iofs: &Path,
        memory_mb: u64,
        log: &Path,
    ) -> Result<FunctionContainer> {
        let owner = std::process::id().to_string();
        let spec = FunctionSpec {
            image: self.image.clone(),
            env,
            iofs: iofs.to_owned(),
            memory_mb,
            labels: vec![(OWNER_LABEL.to_owned(), owner.clone())],
        };
        let name = format!(
            "fdk-conformance-{owner}-{}",
            self.next.fetch_add(1, Ordering::Relaxed)
        );
        // Created and registered as one step, so that an emergency stop
        // (SIGINT, SIGTERM) either prevents it or removes it.
        let (key, handle) = crate::sandbox::registry::create_container(
            || DockerError::new("the harness is stopping: no container is created"),
            || {
                let id = self.engine.create(&name, &spec.create_body())?;
                Ok(Arc::new(ContainerRef::new(self.engine.clone(), id)))
            },
        )?;
        let mut container = FunctionContainer {
            handle,
            key,
            pid: 0,
            pump: None,
            exit: None,
        };
        let stream = container.handle.engine.attach(&container.handle.id)?;
        let log_file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .map_err(|e| DockerError::new(format!("cannot open {}: {e}", log.display())))?;
        container.pump = std::thread::Builder::new()
            .name("container-log".into())
            .spawn(move || pump(stream, log_file))
            .ok();
        container.handle.engine.start(&container.handle.id)?;
        let state = container.handle.engine.inspect(&container.handle.id)?;
        container.pid = state.pid;
        if !state.running {
            container.exit = Some(state.exit_code);
        }
        Ok(container)
    }
}

/// Copies the attach stream's payloads into the log until it ends (the
/// container stopped or was removed).
fn pump(mut stream: Box<dyn Read + Send>, mut log: std::fs::File) {
    let mut demux = Demux::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => demux.feed(&buf[..n], |_, bytes| {
                // The server sends both outputs to one log, as here.
                let _ = log.write_all(bytes);
            }),
        }
    }
}

/// A started function container. Dropping it removes the container (by
/// force, as the server does) and waits for its log to be copied.
#[derive(Debug)]
pub struct FunctionContainer {
    handle: Arc<ContainerRef>,
    key: u64,
    pid: u32,
    pump: Option<JoinHandle<()>>,
    exit: Option<i32>,
}

impl FunctionContainer {
    /// The container, for freezing from another thread.
    pub fn handle(&self) -> Arc<ContainerRef> {
        Arc::clone(&self.handle)
    }

    /// The container's first process (docker-init), as the host sees it.
    pub fn init_pid(&self) -> u32 {
        self.pid
    }

    /// The function: docker-init's child (the image's command), or the
    /// first process if it has none (yet).
    pub fn function_pid(&self) -> u32 {
        let children = format!("/proc/{0}/task/{0}/children", self.pid);
        std::fs::read_to_string(children)
            .ok()
            .and_then(|text| text.split_whitespace().next()?.parse().ok())
            .unwrap_or(self.pid)
    }

    /// The exit status once the container stopped: its exit code (128 + n
    /// after signal n, as docker-init reports it).
    pub fn exit_status(&mut self) -> io::Result<Option<ExitStatus>> {
        if let Some(code) = self.exit {
            return Ok(Some(exit_status(code)));
        }
        // Cheap while it runs: its first process is still there.
        if self.pid != 0 && Path::new(&format!("/proc/{}", self.pid)).exists() {
            return Ok(None);
        }
        let state = self
            .handle
            .engine
            .inspect(&self.handle.id)
            .map_err(io::Error::other)?;
        if state.running {
            return Ok(None);
        }
        self.exit = Some(state.exit_code);
        Ok(Some(exit_status(state.exit_code)))
    }

    /// Sends `signal` through the kill API (docker-init passes it on to the
    /// function).
    pub fn signal(&self, signal: nix::sys::signal::Signal) -> io::Result<()> {
        self.handle
            .engine
            .kill(&self.handle.id, signal.as_str())
            .map_err(io::Error::other)
    }
}

/// A wait status for exit code `code`.
fn exit_status(code: i32) -> ExitStatus {
    ExitStatus::from_raw((code & 0xff) << 8)
}

impl Drop for FunctionContainer {
    fn drop(&mut self) {
        let removed = self.handle.remove();
        crate::sandbox::registry::forget_container(self.key);
        // The attach stream ends with the container; if the daemon did not
        // remove it, the copy is left to end on its own rather than waited for.
        if let Some(pump) = self.pump.take()
            && removed
        {
            let _ = pump.join();
        }
    }
}

impl From<DockerError> for io::Error {
    fn from(e: DockerError) -> Self {
        io::Error::other(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_become_statuses() {
        assert_eq!(exit_status(0).code(), Some(0));
        assert_eq!(exit_status(3).code(), Some(3));
        assert_eq!(exit_status(137).code(), Some(137));
        assert!(exit_status(0).success());
    }
}
