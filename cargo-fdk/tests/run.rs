//! `cargo fdk run` and `cargo fdk invoke` end to end: the probe function
//! served on loopback, called through both entry points, and a container
//! the server would kill replaced for the next call.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::{BufRead, BufReader};
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
    addr: String,
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
    std::fs::write(dir.path().join("func.yaml"), FUNC_YAML).unwrap();
    let addr = format!("127.0.0.1:{}", free_port());
    let mut child = Command::new(env!("CARGO_BIN_EXE_cargo-fdk"))
        .args(["fdk", "run", "--binary"])
        .arg(probe_binary())
        .args(["--addr", &addr])
        .current_dir(dir.path())
        .stdout(Stdio::piped())
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
    let served = Served { child, lines, addr };
    served.wait_for("Serving probe on");
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
        use std::io::{Read, Write};
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

    // Unknown entry points are the server's 404s, not calls.
    let missing = send(
        "GET",
        &format!("http://{addr}/t/app/nope"),
        "text/plain",
        b"",
        timeout,
    )
    .unwrap();
    assert_eq!(missing.status, 404);
    // `/t/<app>` is a path segment: `/t/appx/probe` is not app `app`.
    let other_app = send(
        "GET",
        &format!("http://{addr}/t/appx/probe"),
        "text/plain",
        b"",
        timeout,
    )
    .unwrap();
    assert_eq!(other_app.status, 404);
    assert!(String::from_utf8_lossy(&other_app.body).contains("not an Fn endpoint"));

    // The function exits mid-call: the client gets the server's 502, the
    // container is replaced, and the next call is answered.
    let exit = {
        use std::io::{Read, Write};
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
