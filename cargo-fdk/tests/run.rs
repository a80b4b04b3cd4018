//! `cargo fdk run` and `cargo fdk invoke` end to end: the probe function
//! served on loopback, called through both entry points, and a container
//! the server would kill replaced for the next call; then deliberately
//! broken functions (the conformance crate's `fixture`, and
//! `functions/cut_short.rs`), answered with the server's exact bytes for
//! each row of its classification.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use cargo_fdk::invoke::send;
use common::{TempDir, repo, target_dir};

const FUNC_YAML: &str = "schema_version: 20180708
name: probe
version: 0.0.1
runtime: docker
timeout: 5
config:
  GREETING: hi there
triggers:
- name: probe
  type: http
  source: /probe
";

/// The debug `probe` binary of this workspace, built if needed.
fn probe_binary() -> std::path::PathBuf {
    let status = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
        .args(["build", "-q", "-p", "probe"])
        .current_dir(repo())
        .env("CARGO_TARGET_DIR", target_dir())
        .status()
        .unwrap();
    assert!(status.success());
    target_dir().join("debug").join("probe")
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

struct Served {
    child: Child,
    lines: mpsc::Receiver<String>,
    /// What `cargo fdk run` writes to stderr, line by line (also copied to
    /// this test's stderr).
    errors: mpsc::Receiver<String>,
    addr: String,
    /// What `cargo fdk run` printed up to `Serving … on`.
    startup: Vec<String>,
}

impl Served {
    /// Waits for a stdout line containing `needle`; returns every line read.
    fn wait_for(&self, needle: &str) -> Vec<String> {
        let mut seen = Vec::new();
        loop {
            let line = self
                .lines
                .recv_timeout(Duration::from_secs(30))
                .unwrap_or_else(|_| panic!("no `{needle}` in {seen:#?}"));
            let found = line.contains(needle);
            seen.push(line);
            if found {
                return seen;
            }
        }
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
    }
}

fn serve(dir: &TempDir) -> Served {
    serve_binary(dir, FUNC_YAML, &probe_binary())
}

/// `cargo fdk run --binary <binary>` with `func_yaml`, on a free port.
fn serve_binary(dir: &TempDir, func_yaml: &str, binary: &Path) -> Served {
    serve_wrapped(dir, func_yaml, binary, &[])
}

/// [`serve_binary`], run by `wrapper` (a program and its arguments, such
/// as `prlimit --nofile=…`, that then execs `cargo-fdk`) when not empty.
fn serve_wrapped(dir: &TempDir, func_yaml: &str, binary: &Path, wrapper: &[&str]) -> Served {
    std::fs::write(dir.path().join("func.yaml"), func_yaml).unwrap();
    let name = func_yaml
        .lines()
        .find_map(|l| l.strip_prefix("name: "))
        .unwrap()
        .to_owned();
    let addr = format!("127.0.0.1:{}", free_port());
    let cargo_fdk = env!("CARGO_BIN_EXE_cargo-fdk");
    let mut command = match wrapper.split_first() {
        Some((program, args)) => {
            let mut c = Command::new(program);
            c.args(args).arg(cargo_fdk);
            c
        }
        None => Command::new(cargo_fdk),
    };
    let mut child = command
        .args(["fdk", "run", "--binary"])
        .arg(binary)
        .args(["--addr", &addr])
        .current_dir(dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { return };
            if tx.send(line).is_err() {
                return;
            }
        }
    });
    let stderr = child.stderr.take().unwrap();
    let (tx, errors) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { return };
            eprintln!("{line}");
            let _ = tx.send(line);
        }
    });
    let mut served = Served {
        child,
        lines,
        errors,
        addr,
        startup: Vec::new(),
    };
    served.startup = served.wait_for(&format!("Serving {name} on"));
    served
}

#[test]
fn invoke_triggers_config_and_a_killed_container() {
    let dir = TempDir::new("run");
    let served = serve(&dir);
    let addr = served.addr.clone();
    let timeout = Duration::from_secs(10);

    // An invoke call: the body comes back, the call is logged with its id.
    let echo = send(
        "POST",
        &format!("http://{addr}/invoke/probe"),
        "text/plain",
        b"ping",
        timeout,
    )
    .unwrap();
    assert_eq!(echo.status, 200);
    let lines = served.wait_for("POST /invoke/probe -> ");
    assert!(
        lines.last().unwrap().contains("container kept"),
        "{lines:?}"
    );

    // `cargo fdk invoke` prints the body; the config reached the function.
    let out = Command::new(env!("CARGO_BIN_EXE_cargo-fdk"))
        .args(["fdk", "invoke", "--addr", &addr, "--body", "x"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    served.wait_for("-> 200");

    // A trigger call with the probe's report: method, URL and config as
    // the server would pass them.
    let probe_url = format!("http://{addr}/t/app/probe?x=1");
    let report = {
        let req = format!(
            "GET /t/app/probe?x=1 HTTP/1.1\r\nHost: {addr}\r\nX-Probe: {{\"op\":\"report\",\"config\":[\"GREETING\"]}}\r\nConnection: close\r\n\r\n"
        );
        let mut s = std::net::TcpStream::connect(&addr).unwrap();
        s.write_all(req.as_bytes()).unwrap();
        let mut raw = String::new();
        s.read_to_string(&mut raw).unwrap();
        raw
    };
    assert!(report.starts_with("HTTP/1.1 200"), "{report}");
    assert!(report.contains("GET"), "{report}");
    assert!(report.contains(&probe_url), "{report}");
    assert!(
        report.contains("hi there"),
        "config GREETING missing: {report}"
    );
    served.wait_for("GET /t/app/probe?x=1 -> 200");

    // Unknown entry points are the server's 404s and 405, not calls, with
    // its bodies (`api/server/server.go`, `api/models`).
    let not_found = |method: &str, path: &str| {
        let answer = send(
            method,
            &format!("http://{addr}{path}"),
            "text/plain",
            b"",
            timeout,
        )
        .unwrap();
        (answer.status, String::from_utf8(answer.body).unwrap())
    };
    let message = |text: &str| format!("{{\"message\":\"{text}\"}}\n");
    assert_eq!(
        not_found("GET", "/t/app/nope"),
        (404, message("Trigger not found"))
    );
    // `/t/<app>` is a path segment: `/t/appx/probe` is not app `app`.
    assert_eq!(
        not_found("GET", "/t/appx/probe"),
        (404, message("App not found"))
    );
    assert_eq!(
        not_found("POST", "/invoke/other"),
        (404, message("Fn not found"))
    );
    assert_eq!(
        not_found("GET", "/invoke/probe"),
        (405, message("Method not allowed: GET /invoke/probe"))
    );
    assert_eq!(
        not_found("GET", "/elsewhere"),
        (404, message("Path not found: GET /elsewhere"))
    );

    // The function exits mid-call: the client gets the server's 502, the
    // container is replaced, and the next call is answered.
    let exit = {
        let body = b"";
        let req = format!(
            "POST /invoke/probe HTTP/1.1\r\nHost: {addr}\r\nX-Probe: {{\"op\":\"exit\",\"code\":3}}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        );
        let mut s = std::net::TcpStream::connect(&addr).unwrap();
        s.write_all(req.as_bytes()).unwrap();
        let mut raw = String::new();
        s.read_to_string(&mut raw).unwrap();
        raw
    };
    assert!(exit.starts_with("HTTP/1.1 502"), "{exit}");
    served.wait_for("container killed");
    let again = send(
        "POST",
        &format!("http://{addr}/invoke/probe"),
        "text/plain",
        b"again",
        timeout,
    )
    .unwrap();
    assert_eq!((again.status, again.body.as_slice()), (200, &b"again"[..]));
    served.wait_for("starting a new container");

    // Ctrl-C: `cargo fdk run` exits 0 and takes the function with it (the
    // server's containers do not outlive it either).
    let probe = std::fs::canonicalize(probe_binary()).unwrap();
    let mut served = served;
    let _ = Command::new("kill")
        .args(["-INT", &served.child.id().to_string()])
        .status();
    assert!(served.child.wait().unwrap().success());
    let left: Vec<String> = std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().parse::<u32>().is_ok())
        .filter(|e| std::fs::read_link(e.path().join("exe")).is_ok_and(|exe| exe == probe))
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert!(left.is_empty(), "probe processes left behind: {left:?}");
}

/// A function that exits before its socket appears: one line saying so,
/// exit 1, nothing served.
#[test]
fn a_function_that_never_gets_ready_is_one_clear_error() {
    let dir = TempDir::new("run-bad");
    std::fs::write(dir.path().join("func.yaml"), FUNC_YAML).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_cargo-fdk"))
        .args(["fdk", "run", "--binary", "/bin/false", "--addr"])
        .arg(format!("127.0.0.1:{}", free_port()))
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.starts_with("error: the function did not start:") && stderr.contains("lsnr.sock"),
        "{stderr}"
    );
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
}

/// The conformance fixtures' deliberately broken `fixture` function, built if
/// needed.
fn fixture_binary() -> PathBuf {
    let status = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
        .args([
            "build",
            "-q",
            "-p",
            "fdk-conformance-fixtures",
            "--bin",
            "fixture",
        ])
        .current_dir(repo())
        .env("CARGO_TARGET_DIR", target_dir())
        .status()
        .unwrap();
    assert!(status.success());
    target_dir().join("debug").join("fixture")
}

/// An executable shell script at `dir/name`, for a function that must
/// behave differently from one start to the next.
fn script(dir: &TempDir, name: &str, body: &str) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let path = dir.path().join(name);
    std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

/// A func.yaml for `name` with an HTTP trigger at `/<name>`, `timeout`
/// seconds, and `config` (passed to the function as environment variables,
/// as the server passes it).
fn func_yaml(name: &str, timeout: u32, config: &[(&str, &str)]) -> String {
    let mut yaml = format!(
        "schema_version: 20180708\nname: {name}\nversion: 0.0.1\nruntime: docker\n\
         timeout: {timeout}\ntriggers:\n- name: {name}\n  type: http\n  source: /{name}\n"
    );
    if !config.is_empty() {
        yaml.push_str("config:\n");
        for (k, v) in config {
            yaml.push_str(&format!("  {k}: {v}\n"));
        }
    }
    yaml
}

/// One raw exchange with `cargo fdk run` on a keep-alive connection, as
/// curl makes it: the head as text (`Date` and `Fn-Call-Id` values replaced
/// by `<date>` and `<id>`), and the body: `Content-Length` bytes, or fewer
/// when the server ends the connection first.
fn raw_call(addr: &str, method: &str, path: &str, headers: &str, body: &str) -> (String, Vec<u8>) {
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\n{headers}Content-Length: {}\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).unwrap();
    let mut raw = Vec::new();
    let mut buf = [0u8; 4096];
    let end = loop {
        if let Some(i) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let n = s.read(&mut buf).unwrap();
        assert!(n > 0, "no head in {:?}", String::from_utf8_lossy(&raw));
        raw.extend_from_slice(&buf[..n]);
    };
    let head = String::from_utf8(raw[..end].to_vec()).unwrap();
    let length: usize = head
        .split("\r\n")
        .find_map(|l| l.strip_prefix("Content-Length: "))
        .map_or(0, |v| v.parse().unwrap());
    let mut body = raw[end..].to_vec();
    while body.len() < length {
        let n = s.read(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        body.extend_from_slice(&buf[..n]);
    }
    let head = head
        .split("\r\n")
        .map(|line| match line.split_once(": ") {
            Some(("Date", _)) => "Date: <date>".to_owned(),
            Some(("Fn-Call-Id", _)) => "Fn-Call-Id: <id>".to_owned(),
            _ => line.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("\r\n");
    (head, body)
}

/// The server's own error answer, head and body, as the captures show it.
fn server_error(status_line: &str, message: &str) -> (String, Vec<u8>) {
    let body = format!("{{\"message\":\"{message}\"}}\n");
    (
        format!(
            "HTTP/1.1 {status_line}\r\nContent-Type: application/json; charset=utf-8\r\n\
             Fn-Call-Id: <id>\r\nDate: <date>\r\nContent-Length: {}\r\n\r\n",
            body.len()
        ),
        body.into_bytes(),
    )
}

/// The pids in the `<name> is ready (pid N, …` lines among `lines`.
fn ready_pids(lines: &[String]) -> Vec<u32> {
    lines
        .iter()
        .filter_map(|l| {
            l.split_once("is ready (pid ")?
                .1
                .split([',', ' '])
                .next()?
                .parse()
                .ok()
        })
        .collect()
}

/// A function that stops listening after its first connection: a 502 of
/// its own ("function failed") keeps it, the refused dial that follows is
/// the server's "error receiving function response" and kills it, and the
/// next call is served by a new process.
#[test]
fn a_refused_connection_kills_and_replaces_the_function() {
    let dir = TempDir::new("run-refused");
    // The fixture takes its mode from the function's config, as in the
    // images `scripts/oracle.sh` runs on a real server.
    let served = serve_binary(
        &dir,
        &func_yaml("fx", 10, &[("FIXTURE_MODE", "close-listener")]),
        &fixture_binary(),
    );
    let first = ready_pids(&served.startup);
    let addr = served.addr.clone();

    let (head, body) = raw_call(&addr, "POST", "/invoke/fx", "", "ok");
    assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
    assert_eq!(body, b"ok");
    served.wait_for("-> 200");

    // The fixture's 502 for a handler error: the server's exact answer,
    // container kept (and the connection dropped, so the next call dials).
    assert_eq!(
        raw_call(&addr, "POST", "/invoke/fx", "", "error"),
        server_error("502 Bad Gateway", "function failed")
    );
    let lines = served.wait_for("-> 502");
    assert!(
        lines.last().unwrap().contains("container kept"),
        "{lines:?}"
    );

    // The dial is refused: 502, and the server kills the container.
    assert_eq!(
        raw_call(&addr, "POST", "/invoke/fx", "", "refused"),
        server_error("502 Bad Gateway", "error receiving function response")
    );
    let lines = served.wait_for("-> 502");
    assert!(
        lines.last().unwrap().contains("container killed"),
        "{lines:?}"
    );

    // The next call cold-starts a new process, which answers.
    let (head, body) = raw_call(&addr, "POST", "/invoke/fx", "", "again");
    assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
    assert_eq!(body, b"again");
    let lines = served.wait_for("-> 200");
    assert!(
        lines.iter().any(|l| l == "starting a new container"),
        "{lines:?}"
    );
    let second = ready_pids(&lines);
    assert_eq!((first.len(), second.len()), (1, 1), "{lines:?}");
    assert_ne!(first, second, "the same process served after the kill");
}

/// Start-up and status failures, each as the server answers it: a status
/// other than 200/502/504 (502 "invalid function response", killed), a
/// replacement that exits before its socket (502 "Container failed to
/// initialize…"), one that never makes a socket (504 "Container
/// initialization timed out…" after 5 s), and then a working one.
#[test]
fn invalid_statuses_and_failed_starts_are_the_server_answers() {
    let dir = TempDir::new("run-starts");
    let fixture = fixture_binary();
    let count = dir.path().join("starts");
    let binary = script(
        &dir,
        "starts.sh",
        &format!(
            "n=$(cat '{count}' 2>/dev/null || echo 0); n=$((n + 1)); echo $n > '{count}'\n\
             case $n in\n\
             1) exec '{fixture}' status-500 ;;\n\
             2) echo 'start 2 exits before its socket' >&2; exit 3 ;;\n\
             3) exec sleep 60 ;;\n\
             *) exec '{fixture}' good ;;\n\
             esac",
            count = count.display(),
            fixture = fixture.display()
        ),
    );
    let served = serve_binary(&dir, &func_yaml("st", 10, &[]), &binary);
    let first = ready_pids(&served.startup);
    let addr = served.addr.clone();

    assert_eq!(
        raw_call(&addr, "POST", "/invoke/st", "", "x"),
        server_error("502 Bad Gateway", "invalid function response")
    );
    let lines = served.wait_for("-> 502");
    assert!(
        lines.last().unwrap().contains("container killed"),
        "{lines:?}"
    );

    // The trigger gets the same answers.
    assert_eq!(
        raw_call(&addr, "GET", "/t/app/st", "", ""),
        server_error(
            "502 Bad Gateway",
            "Container failed to initialize, please ensure you are using the latest fdk and \
             check the logs"
        )
    );
    served.wait_for("-> 502");
    assert_eq!(
        raw_call(&addr, "POST", "/invoke/st", "", "x"),
        server_error(
            "504 Gateway Timeout",
            "Container initialization timed out, please ensure you are using the latest fdk \
             and check the logs"
        )
    );
    served.wait_for("-> 504");

    let (head, body) = raw_call(&addr, "POST", "/invoke/st", "", "fine");
    assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
    assert_eq!(body, b"fine");
    let second = ready_pids(&served.wait_for("-> 200"));
    assert_eq!(second.len(), 1);
    assert_ne!(first, second);
}

/// The std-only function of `tests/functions/cut_short.rs`, compiled with
/// `rustc` into `dir`.
fn cut_short_binary(dir: &TempDir) -> PathBuf {
    let out = dir.path().join("cut_short");
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let status = Command::new(rustc)
        .args(["--edition", "2021", "-o"])
        .arg(&out)
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/functions/cut_short.rs"))
        .status()
        .unwrap();
    assert!(status.success());
    out
}

/// Bodies that end early, as fnserver 0.3.753 answers them: after a 200
/// head the server's 500, carrying the function's headers (its
/// `Content-Length` too, so the client gets an empty body and the end of
/// the connection), container kept; a body still short at the deadline is
/// a 504, container killed.
#[test]
fn bodies_cut_short_are_the_server_answers() {
    let dir = TempDir::new("run-cut");
    let binary = cut_short_binary(&dir);
    let served = serve_binary(&dir, &func_yaml("cut", 1, &[]), &binary);
    let first = ready_pids(&served.startup);
    let addr = served.addr.clone();
    let pid_body = format!("pid {}", first[0]).into_bytes();

    for (method, path) in [("POST", "/invoke/cut"), ("GET", "/t/app/cut")] {
        let (head, body) = raw_call(&addr, method, path, "X-Cut: length\r\n", "");
        assert_eq!(
            head,
            "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 10\r\n\
             Content-Type: application/json; charset=utf-8\r\nFn-Call-Id: <id>\r\n\
             Fn-Fdk-Version: cut/0\r\nX-Mine: m\r\nDate: <date>\r\n\r\n"
        );
        assert!(body.is_empty(), "{body:?}");
        let lines = served.wait_for("-> 500");
        assert!(
            lines.last().unwrap().contains("container kept"),
            "{lines:?}"
        );
    }
    assert_eq!(
        raw_call(&addr, "POST", "/invoke/cut", "X-Cut: chunked\r\n", ""),
        server_error("500 Internal Server Error", "internal server error")
    );
    served.wait_for("-> 500");
    // Kept: the same process answers.
    let (_, body) = raw_call(&addr, "POST", "/invoke/cut", "", "");
    assert_eq!(body, pid_body);
    served.wait_for("-> 200");

    // Short at the deadline (1 s): 504, with the function's head.
    let (head, body) = raw_call(&addr, "POST", "/invoke/cut", "X-Cut: stall\r\n", "");
    assert_eq!(
        head,
        "HTTP/1.1 504 Gateway Timeout\r\nContent-Length: 100\r\n\
         Content-Type: application/json; charset=utf-8\r\nFn-Call-Id: <id>\r\n\
         Date: <date>\r\n\r\n"
    );
    assert_eq!(body, b"{\"message\":\"Timed out\"}\n");
    let lines = served.wait_for("-> 504");
    assert!(
        lines.last().unwrap().contains("container killed"),
        "{lines:?}"
    );
    let (_, body) = raw_call(&addr, "POST", "/invoke/cut", "", "");
    let second = ready_pids(&served.wait_for("-> 200"));
    assert_eq!(second.len(), 1);
    assert_ne!(first, second);
    assert_eq!(body, format!("pid {}", second[0]).into_bytes());
}

/// A function that exits on its own between calls (the fixture's
/// `exit-on-close` exits when the connection of its last call is closed,
/// which the server does after a 502): the next call finds a dead container
/// and gets the server's 502 "error receiving function response", and the
/// one after that a new process.
#[test]
fn a_function_that_exited_on_its_own_fails_the_next_call() {
    let dir = TempDir::new("run-exited");
    let served = serve_binary(
        &dir,
        &func_yaml("ex", 10, &[("FIXTURE_MODE", "exit-on-close")]),
        &fixture_binary(),
    );
    let first = ready_pids(&served.startup);
    let addr = served.addr.clone();

    assert_eq!(
        raw_call(&addr, "POST", "/invoke/ex", "", "error"),
        server_error("502 Bad Gateway", "function failed")
    );
    served.wait_for("-> 502");
    // Time for the fixture to see the close and exit.
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(
        raw_call(&addr, "GET", "/t/app/ex", "", ""),
        server_error("502 Bad Gateway", "error receiving function response")
    );
    let lines = served.wait_for("-> 502");
    assert!(
        lines.iter().any(|l| l.contains("exited on its own")),
        "{lines:?}"
    );
    let (head, body) = raw_call(&addr, "POST", "/invoke/ex", "", "back");
    assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
    assert_eq!(body, b"back");
    let second = ready_pids(&served.wait_for("-> 200"));
    assert_eq!(second.len(), 1);
    assert_ne!(first, second);
}

/// `cargo fdk run` of a copy of the probe in `dir`: tests running at the
/// same time as `invoke_triggers_config_and_a_killed_container` must not
/// leave processes of the probe's own path, which that test looks for.
fn serve_probe_copy(dir: &TempDir, wrapper: &[&str]) -> Served {
    let copy = dir.path().join("probe");
    std::fs::copy(probe_binary(), &copy).unwrap();
    serve_wrapped(dir, FUNC_YAML, &copy, wrapper)
}

/// Sends `request` as it is on a new connection and reads until the server
/// closes it (the requests here say `Connection: close`, or break the
/// connection): everything the server wrote.
fn exchange(addr: &str, request: &[u8]) -> Vec<u8> {
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    // The server may answer and close before it has read everything (a
    // body over the limit): the write then fails, and the answer is still
    // there to read.
    let _ = s.write_all(request);
    let mut out = Vec::new();
    // A reset after the answer (the server closing with bytes unread)
    // ends the read too.
    let _ = s.read_to_end(&mut out);
    out
}

/// The attack findings, one by one, against one server: a
/// malformed chunked body is a 400, an absolute-form target gives the
/// function the URL as sent, a header value that is not UTF-8 reaches the
/// function, heads up to Go's 1 MiB with any number of lines are read
/// (over it, 431), and a client that never finishes its head is cut off.
#[test]
fn hostile_requests_get_the_servers_answers() {
    let dir = TempDir::new("run-hostile");
    let served = serve_probe_copy(&dir, &[]);
    let addr = served.addr.clone();

    // Started first, checked last: a head that never ends.
    let slow = std::thread::spawn({
        let addr = addr.clone();
        move || {
            let mut s = std::net::TcpStream::connect(&addr).unwrap();
            s.set_read_timeout(Some(Duration::from_secs(40))).unwrap();
            s.write_all(b"POST /invoke/probe HTTP/1.1\r\nHost: x\r\nX-Slow: ")
                .unwrap();
            let started = std::time::Instant::now();
            let mut out = Vec::new();
            let read = s.read_to_end(&mut out);
            (started.elapsed(), read.is_ok(), out)
        }
    });

    // A malformed chunk: 400 with the server's error body, not 413.
    let answer = exchange(
        &addr,
        b"POST /invoke/probe HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\
          Connection: close\r\n\r\nzz\r\nabc\r\n0\r\n\r\n",
    );
    let text = String::from_utf8_lossy(&answer);
    assert!(text.starts_with("HTTP/1.1 400 Bad Request\r\n"), "{text}");
    assert!(
        text.contains("{\"message\":\"could not read the request body: "),
        "{text}"
    );
    // A chunked body over the 10 MiB limit is still a 413.
    let mut big = b"POST /invoke/probe HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\
                    Connection: close\r\n\r\n"
        .to_vec();
    let chunk = vec![b'a'; 1 << 20];
    for _ in 0..11 {
        big.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
        big.extend_from_slice(&chunk);
        big.extend_from_slice(b"\r\n");
    }
    big.extend_from_slice(b"0\r\n\r\n");
    let answer = exchange(&addr, &big);
    let text = String::from_utf8_lossy(&answer);
    assert!(text.starts_with("HTTP/1.1 413 "), "{text}");

    // Absolute form: the URL as sent, not `http://<host>http://…`; and a
    // header value in Latin-1 reaches the function (the probe reports it
    // decoded lossily, so its `é` shows as U+FFFD).
    let mut request = b"GET http://example.com:81/t/app/probe?x=1 HTTP/1.1\r\nHost: ".to_vec();
    request.extend_from_slice(addr.as_bytes());
    request.extend_from_slice(
        b"\r\nX-Probe: {\"op\":\"report\"}\r\nX-Latin: caf\xe9\r\nConnection: close\r\n\r\n",
    );
    let answer = exchange(&addr, &request);
    let text = String::from_utf8_lossy(&answer);
    assert!(text.starts_with("HTTP/1.1 200 OK\r\n"), "{text}");
    assert!(
        text.contains("\"url\":\"http://example.com:81/t/app/probe?x=1\""),
        "{text}"
    );
    assert!(text.contains("[\"x-latin\",\"caf\u{fffd}\"]"), "{text}");
    served.wait_for("GET http://example.com:81/t/app/probe?x=1 -> 200");

    // Head limits: Go's 1 MiB + 4 KiB, to the byte (request line to blank
    // line), and no limit on the number of lines but that. The router's 404
    // shows that the head was read.
    const MAX_HEAD: usize = (1 << 20) + 4096;
    let head = |lines: usize, size: usize| {
        let mut request = b"GET /elsewhere HTTP/1.1\r\nHost: x\r\nConnection: close\r\n".to_vec();
        for i in 0..lines {
            request.extend_from_slice(format!("X-H-{i}: v\r\n").as_bytes());
        }
        request.extend_from_slice(b"X-Big: ");
        let end = b"\r\n\r\n";
        request.resize(size - end.len(), b'a');
        request.extend_from_slice(end);
        assert_eq!(request.len(), size);
        let answer = exchange(&addr, &request);
        String::from_utf8_lossy(&answer)
            .lines()
            .next()
            .unwrap_or_default()
            .to_owned()
    };
    assert_eq!(head(5_000, 100_000), "HTTP/1.1 404 Not Found");
    assert_eq!(head(0, MAX_HEAD), "HTTP/1.1 404 Not Found");
    assert_eq!(head(16_000, MAX_HEAD), "HTTP/1.1 404 Not Found");
    for (lines, size) in [
        (0, MAX_HEAD + 1),
        (0, MAX_HEAD + 60_000),
        (0, 3 << 20),
        // Past hyper's table (16,384 lines): refused, not a panic.
        (40_000, MAX_HEAD),
    ] {
        assert_eq!(
            head(lines, size),
            "HTTP/1.1 431 Request Header Fields Too Large",
            "{lines} lines, {size} bytes"
        );
    }

    // The head that never ended: closed after the 10 s header timeout.
    let (waited, _, out) = slow.join().unwrap();
    assert!(
        waited >= Duration::from_secs(8) && waited < Duration::from_secs(30),
        "{waited:?}"
    );
    let text = String::from_utf8_lossy(&out);
    assert!(
        text.is_empty() || text.starts_with("HTTP/1.1 408"),
        "{text}"
    );

    // After all that, the server still answers, and nothing panicked.
    let (head, body) = raw_call(&addr, "POST", "/invoke/probe", "", "fine");
    assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
    assert_eq!(body, b"fine");
    let errors: Vec<String> = served.errors.try_iter().collect();
    assert!(
        !errors.iter().any(|l| l.contains("panicked")),
        "{errors:#?}"
    );
}

/// `VmHWM` and `VmRSS` of process `pid`, in KiB.
fn memory_kib(pid: u32) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches(" kB").parse::<u64>().ok())
            .unwrap()
    };
    (field("VmHWM:"), field("VmRSS:"))
}

/// Many clients sending 9 MiB bodies at once: the server holds a few
/// bodies at a time, not one per connection (600 MB for 200 such calls
/// before), and keeps little afterwards.
#[test]
fn concurrent_large_bodies_use_bounded_memory() {
    const CLIENTS: usize = 32;
    const SIZE: usize = 9 << 20;
    let dir = TempDir::new("run-memory");
    let served = serve_probe_copy(&dir, &[]);
    let addr = served.addr.clone();
    let pid = served.child.id();
    let (peak_before, _) = memory_kib(pid);
    let body: std::sync::Arc<Vec<u8>> =
        std::sync::Arc::new((0..SIZE).map(|i| u8::try_from(i % 251).unwrap()).collect());
    let clients: Vec<_> = (0..CLIENTS)
        .map(|_| {
            let addr = addr.clone();
            let body = std::sync::Arc::clone(&body);
            std::thread::spawn(move || {
                let mut s = std::net::TcpStream::connect(&addr).unwrap();
                s.set_read_timeout(Some(Duration::from_secs(120))).unwrap();
                let head = format!(
                    "POST /invoke/probe HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\
                     Connection: close\r\n\r\n",
                    body.len()
                );
                s.write_all(head.as_bytes()).unwrap();
                s.write_all(&body).unwrap();
                let mut out = Vec::new();
                s.read_to_end(&mut out).unwrap();
                let end = out.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
                assert!(out.starts_with(b"HTTP/1.1 200 OK\r\n"));
                assert!(out[end..] == body[..], "the echo differs");
            })
        })
        .collect();
    for client in clients {
        client.join().unwrap();
    }
    // Idle: the function thread gives freed memory back.
    std::thread::sleep(Duration::from_millis(1500));
    let (peak, now) = memory_kib(pid);
    eprintln!(
        "cargo fdk run: peak RSS {peak_before} KiB before, {peak} KiB after {CLIENTS} calls of \
         {SIZE} bytes at once; {now} KiB now"
    );
    // Two bodies in memory, with the copies one call makes (the request to
    // the function, its answer, the answer to the client): about 60 MiB.
    // One body per connection would be 288 MiB and more.
    assert!(
        peak - peak_before < 150 << 10,
        "peak grew by {} KiB",
        peak - peak_before
    );
    // Nothing of the calls kept (178 MB were before).
    assert!(now < peak_before + (48 << 10), "{now} KiB kept");
}

/// Out of descriptors, `accept` fails at once, again and again: the server
/// must neither spin nor log each failure (126k lines a second before),
/// and must accept again once descriptors are free.
#[test]
fn out_of_descriptors_the_server_backs_off_quietly_and_recovers() {
    let Some(prlimit) = common::tool("prlimit", "util-linux", "the descriptor limit") else {
        return;
    };
    let dir = TempDir::new("run-emfile");
    let prlimit = prlimit.to_str().unwrap().to_owned();
    let served = serve_probe_copy(&dir, &[&prlimit, "--nofile=64"]);
    let addr = served.addr.clone();
    // Far more connections than descriptors: the server accepts until it
    // has none left, the rest wait in the listen queue.
    let clients: Vec<_> = (0..150)
        .map(|_| std::net::TcpStream::connect(&addr).unwrap())
        .collect();
    std::thread::sleep(Duration::from_secs(3));
    let errors: Vec<String> = served.errors.try_iter().collect();
    let failed: Vec<&String> = errors.iter().filter(|l| l.contains("accept")).collect();
    assert!(
        !failed.is_empty() && failed.len() <= 3,
        "{} lines: {:#?}",
        failed.len(),
        &failed[..failed.len().min(10)]
    );
    assert!(
        failed[0].starts_with("accept failed: Too many open files"),
        "{failed:?}"
    );
    drop(clients);
    // The server closes what it accepted, accepts the rest (already
    // closed), and serves again.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let (head, body) = raw_call(&addr, "POST", "/invoke/probe", "", "back");
        if head.starts_with("HTTP/1.1 200 OK\r\n") {
            assert_eq!(body, b"back");
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{head}");
        std::thread::sleep(Duration::from_millis(200));
    }
    let later: Vec<String> = served.errors.try_iter().collect();
    assert!(later.len() <= 3, "{later:#?}");
}
