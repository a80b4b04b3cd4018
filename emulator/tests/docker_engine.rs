//! The Engine API client and the docker container lifecycle against a fake
//! daemon: a tiny HTTP/1.1 server on a unix socket that records every
//! request and answers as dockerd does (create, attach, start, inspect,
//! pause, unpause, kill, remove, image inspect).

// A test: a failed step is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use fn_emulator::docker::container::{DockerRuntime, OWNER_LABEL};
use fn_emulator::docker::logs::{Demux, Output};
use fn_emulator::docker::{Endpoint, Engine};
use serde_json::Value;

/// One request the fake daemon got.
#[derive(Debug, Clone)]
struct Seen {
    method: String,
    path: String,
    body: Vec<u8>,
}

/// The fake daemon: answers on `socket` until the test ends.
struct FakeDaemon {
    socket: PathBuf,
    seen: Arc<Mutex<Vec<Seen>>>,
    _dir: PathBuf,
}

/// An attach stream's frame.
fn frame(kind: u8, payload: &[u8]) -> Vec<u8> {
    let mut f = vec![kind, 0, 0, 0];
    f.extend_from_slice(&u32::try_from(payload.len()).unwrap().to_be_bytes());
    f.extend_from_slice(payload);
    f
}

impl FakeDaemon {
    fn start(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("fake-dockerd-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let socket = dir.join("docker.sock");
        let listener = UnixListener::bind(&socket).unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let record = Arc::clone(&seen);
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { return };
                let record = Arc::clone(&record);
                std::thread::spawn(move || serve(stream, &record));
            }
        });
        Self {
            socket,
            seen,
            _dir: dir,
        }
    }

    fn engine(&self) -> Engine {
        Engine::at(Endpoint::Unix(self.socket.clone()))
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    fn requests(&self) -> Vec<String> {
        self.seen()
            .iter()
            .map(|s| format!("{} {}", s.method, s.path))
            .collect()
    }
}

fn serve(stream: UnixStream, record: &Mutex<Vec<Seen>>) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut line = String::new();
    if reader.read_line(&mut line).unwrap_or(0) == 0 {
        return;
    }
    let mut words = line.split_whitespace();
    let method = words.next().unwrap_or_default().to_owned();
    let path = words.next().unwrap_or_default().to_owned();
    let mut length = 0;
    loop {
        let mut header = String::new();
        reader.read_line(&mut header).unwrap();
        if header.trim().is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse().unwrap();
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).unwrap();
    record.lock().unwrap().push(Seen {
        method: method.clone(),
        path: path.clone(),
        body,
    });
    let mut out = stream;
    let answer = |status: &str, body: &str| {
        format!(
            "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\
             Connection: close\r\n\r\n{body}",
            body.len()
        )
    };
    let text = match (method.as_str(), path.as_str()) {
        ("GET", "/_ping") => answer("200 OK", "OK"),
        ("GET", "/images/fdk-fixture:there/json") => answer(
            "200 OK",
            r#"{"Id":"sha256:feed","Config":{"Entrypoint":["/function/func"]}}"#,
        ),
        ("GET", p) if p.starts_with("/images/") => {
            answer("404 Not Found", r#"{"message":"No such image"}"#)
        }
        ("POST", p) if p.starts_with("/containers/create?name=") => {
            answer("201 Created", r#"{"Id":"c0ffee","Warnings":[]}"#)
        }
        ("POST", p) if p.starts_with("/containers/c0ffee/attach?") => {
            // Taken over: the frames, then the end of the container.
            let mut bytes = b"HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.raw-stream\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n".to_vec();
            bytes.extend(frame(1, b"out line\n"));
            bytes.extend(frame(2, b"err line\n"));
            let _ = out.write_all(&bytes);
            return;
        }
        ("GET", "/containers/c0ffee/json") => answer(
            "200 OK",
            &format!(
                r#"{{"Id":"c0ffee","State":{{"Running":true,"Paused":false,"Pid":{},"ExitCode":0,"OOMKilled":false}}}}"#,
                std::process::id()
            ),
        ),
        ("POST", "/containers/c0ffee/start")
        | ("POST", "/containers/c0ffee/pause")
        | ("POST", "/containers/c0ffee/unpause")
        | ("POST", "/containers/c0ffee/kill?signal=SIGTERM")
        | ("DELETE", "/containers/c0ffee?force=1&v=1") => {
            "HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n".to_owned()
        }
        ("POST", "/containers/gone/pause") => {
            answer("404 Not Found", r#"{"message":"No such container: gone"}"#)
        }
        _ => answer("500 Internal Server Error", r#"{"message":"unexpected"}"#),
    };
    let _ = out.write_all(text.as_bytes());
}

#[test]
fn the_calls_reach_the_daemon_as_the_engine_api_wants_them() {
    let daemon = FakeDaemon::start("calls");
    let engine = daemon.engine();
    engine.ping().unwrap();
    assert_eq!(
        engine.image_id("fdk-fixture:there").unwrap().as_deref(),
        Some("sha256:feed")
    );
    assert_eq!(engine.image_id("fdk-fixture:absent").unwrap(), None);
    let id = engine
        .create("fn one", &serde_json::json!({"Image": "fdk-fixture:there"}))
        .unwrap();
    assert_eq!(id, "c0ffee");
    engine.start(&id).unwrap();
    let state = engine.inspect(&id).unwrap();
    assert!(state.running && !state.paused);
    assert_eq!(state.pid, std::process::id());
    engine.pause(&id).unwrap();
    engine.unpause(&id).unwrap();
    engine.kill(&id, "SIGTERM").unwrap();
    engine.remove(&id).unwrap();
    let err = engine.pause("gone").unwrap_err().to_string();
    assert!(
        err.contains("404") && err.contains("No such container: gone"),
        "{err}"
    );
    assert_eq!(
        daemon.requests(),
        [
            "GET /_ping",
            "GET /images/fdk-fixture:there/json",
            "GET /images/fdk-fixture:absent/json",
            "POST /containers/create?name=fn%20one",
            "POST /containers/c0ffee/start",
            "GET /containers/c0ffee/json",
            "POST /containers/c0ffee/pause",
            "POST /containers/c0ffee/unpause",
            "POST /containers/c0ffee/kill?signal=SIGTERM",
            "DELETE /containers/c0ffee?force=1&v=1",
            "POST /containers/gone/pause",
        ]
    );
    let create = &daemon.seen()[3];
    let body: Value = serde_json::from_slice(&create.body).unwrap();
    assert_eq!(body["Image"], "fdk-fixture:there");
}

#[test]
fn the_attach_stream_comes_apart() {
    let daemon = FakeDaemon::start("attach");
    let mut stream = daemon.engine().attach("c0ffee").unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).unwrap();
    let mut demux = Demux::new();
    let mut got = Vec::new();
    demux.feed(&raw, |output, bytes| got.push((output, bytes.to_vec())));
    assert_eq!(
        got,
        [
            (Output::Stdout, b"out line\n".to_vec()),
            (Output::Stderr, b"err line\n".to_vec())
        ]
    );
    assert!(
        daemon.requests()[0]
            .starts_with("POST /containers/c0ffee/attach?stream=1&stdout=1&stderr=1")
    );
}

#[test]
fn a_function_container_is_created_as_the_server_creates_it_and_removed() {
    let daemon = FakeDaemon::start("runtime");
    let runtime = DockerRuntime::new(daemon.engine(), "fdk-fixture:there");
    let iofs = daemon._dir.join("iofs");
    std::fs::create_dir_all(&iofs).unwrap();
    let log = daemon._dir.join("function.log");
    let env = vec![("FIXTURE_MODE".to_owned(), "good".to_owned())];
    let mut container = runtime.start(env, &iofs, 256, &log).unwrap();
    // The fake's first process is this test: alive, so no exit yet.
    assert_eq!(container.init_pid(), std::process::id());
    assert_eq!(container.exit_status().unwrap(), None);
    let handle = container.handle();
    handle.pause().unwrap();
    handle.unpause().unwrap();
    container.signal(nix::sys::signal::Signal::SIGTERM).unwrap();
    drop(container);
    // Both outputs reached the one log, whole, by the time it was dropped.
    assert_eq!(
        std::fs::read_to_string(&log).unwrap(),
        "out line\nerr line\n"
    );
    let seen = daemon.seen();
    let create = seen
        .iter()
        .find(|s| s.path.starts_with("/containers/create"))
        .unwrap();
    assert!(
        create.path.starts_with(&format!(
            "/containers/create?name=fdk-conformance-{}-",
            std::process::id()
        )),
        "{}",
        create.path
    );
    let body: Value = serde_json::from_slice(&create.body).unwrap();
    assert_eq!(body["User"], "1000:1000");
    assert_eq!(body["Env"], serde_json::json!(["FIXTURE_MODE=good"]));
    assert_eq!(body["HostConfig"]["Memory"], 256u64 << 20);
    assert_eq!(
        body["HostConfig"]["Binds"][0],
        format!("{}:/tmp/iofs", iofs.display())
    );
    assert_eq!(body["Labels"][OWNER_LABEL], std::process::id().to_string());
    let order: Vec<String> = daemon
        .requests()
        .into_iter()
        .map(|r| r.split('?').next().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(
        order,
        [
            "POST /containers/create",
            "POST /containers/c0ffee/attach",
            "POST /containers/c0ffee/start",
            "GET /containers/c0ffee/json",
            "POST /containers/c0ffee/pause",
            "POST /containers/c0ffee/unpause",
            "POST /containers/c0ffee/kill",
            "DELETE /containers/c0ffee",
        ]
    );
}

#[test]
fn a_daemon_that_is_not_there_is_a_clear_error() {
    let engine = Engine::at(Endpoint::Unix(Path::new("/nonexistent/docker.sock").into()));
    let err = engine.ping().unwrap_err().to_string();
    assert!(
        err.starts_with("no Docker daemon: nothing answers at unix:///nonexistent"),
        "{err}"
    );
}
