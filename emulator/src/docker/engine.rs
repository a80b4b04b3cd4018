//! The Engine API calls, one request each, on a daemon's socket: what a
//! deploy needs (ping, image inspect, load) and what the server's docker
//! driver does to a hot function's container (create, start, inspect,
//! pause, unpause, kill, wait, remove, attach).
//!
//! Paths are unversioned, as fnserver's client sends them: the daemon
//! answers with its own API version.

use std::io::{self, Read};
use std::path::Path;
use std::time::Duration;

use bytes::Bytes;
use hyper::{Method, StatusCode};
use serde_json::Value;

use super::client::{self, Answer, Endpoint, percent_escape};
use super::{DEFAULT_SOCKET, DockerError, Result, message_of};

/// How long a load may take: the archive is one static binary, but a busy
/// daemon on a small machine takes its time.
const LOAD_LIMIT: Duration = Duration::from_secs(300);
/// How long any other call may take.
const CALL_LIMIT: Duration = Duration::from_secs(30);

/// A Docker daemon.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Engine {
    endpoint: Endpoint,
}

/// What an inspect says of a container's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct State {
    /// `State.Pid`: the container's first process, as the host sees it (0
    /// once it stopped).
    pub pid: u32,
    /// `State.Running` (a paused container is running too).
    pub running: bool,
    /// `State.Paused`.
    pub paused: bool,
    /// `State.ExitCode`.
    pub exit_code: i32,
    /// `State.OOMKilled`: the kernel's OOM killer struck in the container.
    pub oom_killed: bool,
}

impl Engine {
    /// The daemon at `DOCKER_HOST`, or at [`DEFAULT_SOCKET`].
    pub fn from_env() -> Result<Engine> {
        let host = std::env::var("DOCKER_HOST")
            .ok()
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| DEFAULT_SOCKET.to_owned());
        Engine::from_host(&host)
    }

    /// The daemon at a `DOCKER_HOST`-style address.
    pub fn from_host(host: &str) -> Result<Engine> {
        Ok(Engine {
            endpoint: Endpoint::from_docker_host(host)?,
        })
    }

    /// The daemon at `endpoint`.
    pub fn at(endpoint: Endpoint) -> Engine {
        Engine { endpoint }
    }

    /// Where it is.
    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    fn call(&self, method: Method, path: &str, body: Option<&Value>) -> Result<Answer> {
        let body = body.map(|v| (Bytes::from(v.to_string()), "application/json"));
        client::send(&self.endpoint, method, path, body, CALL_LIMIT)
    }

    /// `Ok` for one of `ok`, else the daemon's message.
    fn expect(answer: &Answer, ok: &[StatusCode], what: &str) -> Result<()> {
        if ok.contains(&answer.status) {
            return Ok(());
        }
        Err(DockerError::new(format!(
            "the daemon answered {what} with {}: {}",
            answer.status.as_u16(),
            message_of(&answer.body)
        )))
    }

    /// Fails, saying where it looked, unless a daemon answers `/_ping`.
    pub fn ping(&self) -> Result<()> {
        let answer = self
            .call(Method::GET, "/_ping", None)
            .map_err(|e| DockerError::new(format!("no Docker daemon: {e}")))?;
        if answer.status != StatusCode::OK {
            return Err(DockerError::new(format!(
                "{} is not a Docker daemon: /_ping answered {} {}",
                self.endpoint,
                answer.status.as_u16(),
                answer.text()
            )));
        }
        Ok(())
    }

    /// The image inspect of `reference` (its `Id`, `Config`, …), or `None`
    /// if the daemon has no such image.
    pub fn inspect_image(&self, reference: &str) -> Result<Option<Value>> {
        // The Engine API takes a whole reference, `/` and `:` included, as the
        // rest of the path.
        let path = format!("/images/{}/json", percent_escape(reference, b"/:"));
        let answer = self.call(Method::GET, &path, None)?;
        if answer.status == StatusCode::NOT_FOUND {
            return Ok(None);
        }
        Self::expect(&answer, &[StatusCode::OK], &format!("GET {path}"))?;
        serde_json::from_slice(&answer.body)
            .map(Some)
            .map_err(|e| DockerError::new(format!("the daemon's image inspect is not JSON: {e}")))
    }

    /// The image ID (`sha256:…`) that `reference` names in the daemon, if
    /// any.
    pub fn image_id(&self, reference: &str) -> Result<Option<String>> {
        match self.inspect_image(reference)? {
            None => Ok(None),
            Some(inspect) => match inspect.get("Id").and_then(Value::as_str) {
                Some(id) => Ok(Some(id.to_owned())),
                None => Err(DockerError::new("the daemon's image inspect has no Id")),
            },
        }
    }

    /// `docker load` of `archive` (a docker-archive tarball).
    pub fn load(&self, archive: &Path) -> Result<()> {
        let tar = std::fs::read(archive)
            .map_err(|e| DockerError::new(format!("cannot read {}: {e}", archive.display())))?;
        let answer = client::send(
            &self.endpoint,
            Method::POST,
            "/images/load?quiet=1",
            Some((Bytes::from(tar), "application/x-tar")),
            LOAD_LIMIT,
        )?;
        if answer.status != StatusCode::OK {
            return Err(DockerError::new(format!(
                "the daemon refused the image ({}): {}",
                answer.status.as_u16(),
                message_of(&answer.body)
            )));
        }
        // A 200 streams JSON messages; a failure mid-way is one with `error`.
        for line in answer.body.split(|b| *b == b'\n') {
            let Ok(message) = serde_json::from_slice::<Value>(line) else {
                continue;
            };
            if let Some(error) = message.get("error").and_then(Value::as_str) {
                return Err(DockerError::new(format!(
                    "the daemon could not load the image: {error}"
                )));
            }
        }
        Ok(())
    }

    /// Creates a container named `name` from `config` (the create body, see
    /// [`spec`](super::spec)); returns its ID.
    pub fn create(&self, name: &str, config: &Value) -> Result<String> {
        let path = format!("/containers/create?name={}", percent_escape(name, b""));
        let answer = self.call(Method::POST, &path, Some(config))?;
        Self::expect(&answer, &[StatusCode::CREATED], "a container create")?;
        let body: Value = serde_json::from_slice(&answer.body).map_err(|e| {
            DockerError::new(format!("the daemon's create answer is not JSON: {e}"))
        })?;
        body.get("Id")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| DockerError::new("the daemon's create answer has no Id"))
    }

    /// A `POST /containers/{id}/{action}` with no body, `ok` on 204 (and on
    /// 304 "already done" where that is what was wanted).
    fn action(&self, id: &str, action: &str, done: bool) -> Result<()> {
        let path = format!("/containers/{}/{action}", percent_escape(id, b""));
        let answer = self.call(Method::POST, &path, None)?;
        let ok: &[StatusCode] = if done {
            &[StatusCode::NO_CONTENT, StatusCode::NOT_MODIFIED]
        } else {
            &[StatusCode::NO_CONTENT]
        };
        Self::expect(&answer, ok, &format!("{action} of {id}"))
    }

    /// Starts a created container.
    pub fn start(&self, id: &str) -> Result<()> {
        self.action(id, "start", true)
    }

    /// `docker pause`: the cgroup freezer, returns once frozen.
    pub fn pause(&self, id: &str) -> Result<()> {
        self.action(id, "pause", false)
    }

    /// `docker unpause`.
    pub fn unpause(&self, id: &str) -> Result<()> {
        self.action(id, "unpause", false)
    }

    /// Sends `signal` (`SIGTERM`, `SIGKILL`, …) to the container's first
    /// process.
    pub fn kill(&self, id: &str, signal: &str) -> Result<()> {
        let path = format!(
            "/containers/{}/kill?signal={}",
            percent_escape(id, b""),
            percent_escape(signal, b"")
        );
        let answer = self.call(Method::POST, &path, None)?;
        Self::expect(&answer, &[StatusCode::NO_CONTENT], &format!("kill of {id}"))
    }

    /// The container's state.
    pub fn inspect(&self, id: &str) -> Result<State> {
        let path = format!("/containers/{}/json", percent_escape(id, b""));
        let answer = self.call(Method::GET, &path, None)?;
        Self::expect(&answer, &[StatusCode::OK], &format!("inspect of {id}"))?;
        let body: Value = serde_json::from_slice(&answer.body)
            .map_err(|e| DockerError::new(format!("the daemon's inspect is not JSON: {e}")))?;
        Ok(state_of(&body))
    }

    /// Waits (up to `limit`) for the container to stop; its exit code.
    pub fn wait(&self, id: &str, limit: Duration) -> Result<i64> {
        let path = format!("/containers/{}/wait", percent_escape(id, b""));
        let answer = client::send(&self.endpoint, Method::POST, &path, None, limit)?;
        Self::expect(&answer, &[StatusCode::OK], &format!("wait of {id}"))?;
        let body: Value = serde_json::from_slice(&answer.body)
            .map_err(|e| DockerError::new(format!("the daemon's wait answer is not JSON: {e}")))?;
        body.get("StatusCode")
            .and_then(Value::as_i64)
            .ok_or_else(|| DockerError::new("the daemon's wait answer has no StatusCode"))
    }

    /// The server's removal: forced (a running or paused container is
    /// killed), with its anonymous volumes. A container already gone is
    /// not an error.
    pub fn remove(&self, id: &str) -> Result<()> {
        let path = format!("/containers/{}?force=1&v=1", percent_escape(id, b""));
        let answer = self.call(Method::DELETE, &path, None)?;
        Self::expect(
            &answer,
            &[StatusCode::NO_CONTENT, StatusCode::NOT_FOUND],
            &format!("remove of {id}"),
        )
    }

    /// Attaches to the container's stdout and stderr, as the server does
    /// before it starts one: the raw multiplexed stream
    /// ([`logs::Demux`](super::logs::Demux) takes it apart).
    pub fn attach(&self, id: &str) -> Result<Box<dyn Read + Send>> {
        let path = format!(
            "/containers/{}/attach?stream=1&stdout=1&stderr=1",
            percent_escape(id, b"")
        );
        client::open_stream(&self.endpoint, &Method::POST, &path, CALL_LIMIT)
    }
}

/// The state fields of a container inspect.
pub fn state_of(inspect: &Value) -> State {
    let state = inspect.get("State").cloned().unwrap_or(Value::Null);
    let flag = |key: &str| state.get(key).and_then(Value::as_bool).unwrap_or(false);
    State {
        pid: state
            .get("Pid")
            .and_then(Value::as_u64)
            .and_then(|p| u32::try_from(p).ok())
            .unwrap_or(0),
        running: flag("Running"),
        paused: flag("Paused"),
        exit_code: state
            .get("ExitCode")
            .and_then(Value::as_i64)
            .and_then(|c| i32::try_from(c).ok())
            .unwrap_or(0),
        oom_killed: flag("OOMKilled"),
    }
}

/// One container on one daemon: what a freeze, a signal or a removal needs.
#[derive(Debug)]
pub struct ContainerRef {
    pub(super) engine: Engine,
    pub(super) id: String,
}

impl ContainerRef {
    /// The container `id` on the daemon `engine` speaks to.
    pub(crate) fn new(engine: Engine, id: String) -> Self {
        Self { engine, id }
    }

    /// The container's ID.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// `docker pause`.
    pub fn pause(&self) -> io::Result<()> {
        self.engine.pause(&self.id).map_err(io::Error::other)
    }

    /// `docker unpause`.
    pub fn unpause(&self) -> io::Result<()> {
        self.engine.unpause(&self.id).map_err(io::Error::other)
    }

    /// The server's forced removal; whether the daemon did it.
    pub fn remove(&self) -> bool {
        self.engine.remove(&self.id).is_ok()
    }

    /// Whether the kernel's OOM killer struck in it.
    pub fn oom_killed(&self) -> bool {
        self.engine
            .inspect(&self.id)
            .is_ok_and(|state| state.oom_killed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_read_from_an_inspect() {
        let inspect: Value = serde_json::from_str(
            r#"{"Id":"c1","State":{"Status":"exited","Running":false,"Paused":false,
                "OOMKilled":true,"Pid":0,"ExitCode":137}}"#,
        )
        .unwrap();
        assert_eq!(
            state_of(&inspect),
            State {
                pid: 0,
                running: false,
                paused: false,
                exit_code: 137,
                oom_killed: true
            }
        );
        let running: Value =
            serde_json::from_str(r#"{"State":{"Running":true,"Paused":true,"Pid":4242}}"#).unwrap();
        let state = state_of(&running);
        assert_eq!((state.pid, state.running, state.paused), (4242, true, true));
        assert_eq!(state_of(&Value::Null), State::default());
    }

    #[test]
    fn escapes_and_messages() {
        assert_eq!(
            percent_escape("reg:5000/a/b:0.0.1", b"/:"),
            "reg:5000/a/b:0.0.1"
        );
        assert_eq!(percent_escape("a b?c", b"/:"), "a%20b%3Fc");
        assert_eq!(
            message_of(br#"{"message":"No such image"}"#),
            "No such image"
        );
        assert_eq!(message_of(b"plain\n"), "plain");
    }
}
