//! `cargo fdk deploy`'s failures before anything is built or changed: no
//! daemon, no Fn server, no app. Each is one clear line and exit 1, and
//! func.yaml is left as it was. (The whole path against a real fnserver
//! and dockerd is `scripts/deploy-e2e.sh`, run in CI.)

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::os::unix::net::UnixListener;
use std::path::Path;
use std::thread;

use common::{TempDir, cargo_fdk, stderr};

const FUNC_YAML: &str = "schema_version: 20180708\nname: hello\nversion: 0.0.1\n";

/// Reads one request (head and `Content-Length` body); gives its target.
fn read_request(stream: &mut impl Read) -> Option<String> {
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let target = line.split(' ').nth(1)?.to_owned();
    let mut length = 0;
    loop {
        let mut header = String::new();
        reader.read_line(&mut header).ok()?;
        if header == "\r\n" || header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse().ok()?;
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    Some(target)
}

fn answer(stream: &mut impl Write, status: &str, body: &str) {
    let _ = write!(
        stream,
        "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
}

/// A stand-in daemon on a unix socket: `/_ping` answers OK; records nothing.
fn fake_daemon(dir: &Path) -> String {
    let path = dir.join("docker.sock");
    let listener = UnixListener::bind(&path).unwrap();
    thread::spawn(move || {
        for mut stream in listener.incoming().flatten() {
            match read_request(&mut stream).as_deref() {
                Some("/_ping") => answer(&mut stream, "200 OK", "OK"),
                _ => answer(&mut stream, "404 Not Found", r#"{"message":"not faked"}"#),
            }
        }
    });
    format!("unix://{}", path.display())
}

/// A stand-in Fn API that has no apps.
fn fake_api_without_apps() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    thread::spawn(move || {
        for mut stream in listener.incoming().flatten() {
            match read_request(&mut stream) {
                Some(target) if target.starts_with("/v2/apps?name=") => {
                    answer(&mut stream, "200 OK", r#"{"items":[]}"#);
                }
                _ => answer(
                    &mut stream,
                    "404 Not Found",
                    r#"{"message":"Path not found"}"#,
                ),
            }
        }
    });
    url
}

fn function_dir(label: &str) -> TempDir {
    let dir = TempDir::new(label);
    std::fs::write(dir.path().join("func.yaml"), FUNC_YAML).unwrap();
    dir
}

fn deploy(dir: &Path, docker_host: &str, api: &str, extra: &[&str]) -> (i32, String) {
    let output = cargo_fdk(dir)
        .args(["fdk", "deploy", "--app", "demo"])
        .args(extra)
        .env("DOCKER_HOST", docker_host)
        .env("FN_API_URL", api)
        .output()
        .unwrap();
    (output.status.code().unwrap_or(-1), stderr(&output))
}

#[test]
fn no_daemon_is_one_clear_line() {
    let dir = function_dir("deploy-no-daemon");
    let socket = dir.path().join("absent.sock");
    let (code, err) = deploy(
        dir.path(),
        &format!("unix://{}", socket.display()),
        "http://127.0.0.1:9",
        &[],
    );
    assert_eq!(code, 1, "{err}");
    assert!(
        err.starts_with("error: no Docker daemon: nothing answers at unix://")
            && err.contains("set DOCKER_HOST"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");
    let yaml = std::fs::read_to_string(dir.path().join("func.yaml")).unwrap();
    assert_eq!(yaml, FUNC_YAML);
}

#[test]
fn no_fn_server_is_one_clear_line() {
    let dir = function_dir("deploy-no-api");
    let daemon = fake_daemon(dir.path());
    // A port nothing listens on: bind one, learn it, close it.
    let closed = TcpListener::bind("127.0.0.1:0").unwrap();
    let api = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let (code, err) = deploy(dir.path(), &daemon, &api, &[]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.starts_with("error: no Fn server: nothing answers at http://127.0.0.1:")
            && err.contains("FN_API_URL"),
        "{err}"
    );
}

#[test]
fn a_missing_app_needs_create_app() {
    let dir = function_dir("deploy-no-app");
    let daemon = fake_daemon(dir.path());
    let api = fake_api_without_apps();
    let (code, err) = deploy(dir.path(), &daemon, &api, &[]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("has no app `demo` (add --create-app to create it)"),
        "{err}"
    );
    // Creating it is asked for, and the fake refuses: the server's message.
    let (code, err) = deploy(dir.path(), &daemon, &api, &["--create-app"]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("the Fn API refused POST /v2/apps: 404 Path not found"),
        "{err}"
    );
    let yaml = std::fs::read_to_string(dir.path().join("func.yaml")).unwrap();
    assert_eq!(yaml, FUNC_YAML, "nothing bumped");
}

#[test]
fn usage_mistakes_are_exit_2() {
    let dir = function_dir("deploy-usage");
    let output = cargo_fdk(dir.path())
        .args(["fdk", "deploy"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(stderr(&output).contains("--app"), "{}", stderr(&output));
    let (code, err) = deploy(dir.path(), "ssh://me@host", "http://127.0.0.1:9", &[]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("DOCKER_HOST `ssh://me@host`"), "{err}");
    let (code, err) = deploy(dir.path(), "unix:///x", "https://fn.example", &[]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("plain http only"), "{err}");
}
