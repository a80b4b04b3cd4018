//! `cargo fdk run --watch`: a changed build is served within seconds on the
//! same endpoint, and a build that does not start leaves the last good one
//! serving. (With `--binary`, the watched file is the binary: the test
//! swaps it as a build would, with a rename, without a minute of cargo.)

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use cargo_fdk::invoke::send;
use common::{TempDir, repo, target_dir};

const FUNC_YAML: &str = "schema_version: 20180708\nname: watched\nversion: 0.0.1\n";

/// Debug binaries of this workspace's `hello` and `probe`, built if needed.
fn binaries() -> (PathBuf, PathBuf) {
    let status = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
        .args(["build", "-q", "-p", "hello", "-p", "probe"])
        .current_dir(repo())
        .env("CARGO_TARGET_DIR", target_dir())
        .status()
        .unwrap();
    assert!(status.success());
    let debug = target_dir().join("debug");
    (debug.join("hello"), debug.join("probe"))
}

/// Puts `from` at `to` the way a build does: a new file renamed over.
fn replace(from: &Path, to: &Path) {
    let next = to.with_extension("next");
    std::fs::copy(from, &next).unwrap();
    std::fs::rename(&next, to).unwrap();
}

struct Run {
    child: Child,
    lines: mpsc::Receiver<String>,
}

impl Run {
    fn wait_for(&self, needle: &str, limit: Duration) -> Vec<String> {
        let end = Instant::now() + limit;
        let mut seen = Vec::new();
        loop {
            let left = end.saturating_duration_since(Instant::now());
            let line = self
                .lines
                .recv_timeout(left)
                .unwrap_or_else(|_| panic!("no `{needle}` in {seen:#?}"));
            let found = line.contains(needle);
            seen.push(line);
            if found {
                return seen;
            }
        }
    }
}

impl Drop for Run {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
    }
}

fn answer(url: &str) -> (u16, String) {
    let answer = send("POST", url, "text/plain", b"Jo", Duration::from_secs(10)).unwrap();
    (
        answer.status,
        String::from_utf8_lossy(&answer.body).into_owned(),
    )
}

#[test]
fn a_new_binary_is_served_within_seconds_and_a_broken_one_is_not() {
    let (hello, probe) = binaries();
    let dir = TempDir::new("watch");
    std::fs::write(dir.path().join("func.yaml"), FUNC_YAML).unwrap();
    let served = dir.path().join("func");
    replace(&probe, &served);
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let addr = format!("127.0.0.1:{port}");
    let mut child = Command::new(env!("CARGO_BIN_EXE_cargo-fdk"))
        .args(["fdk", "run", "--watch", "--binary"])
        .arg(&served)
        .args(["--addr", &addr])
        .current_dir(dir.path())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                return;
            }
        }
    });
    let run = Run { child, lines };
    run.wait_for("Serving watched on", Duration::from_secs(30));
    let url = format!("http://{addr}/invoke/watched");
    let before = answer(&url);
    assert_eq!(before.0, 200);
    assert_ne!(before.1, "Hello Jo", "the probe echoes, it does not greet");

    // The build changes: the new one answers on the same endpoint.
    let changed = Instant::now();
    replace(&hello, &served);
    run.wait_for("watch: the new build serves now", Duration::from_secs(10));
    let took = changed.elapsed();
    assert_eq!(answer(&url), (200, "Hello Jo".to_owned()));
    println!(
        "swap seen and served {} ms after the change",
        took.as_millis()
    );

    // A build that does not start: said so, the last good one still serves.
    std::fs::write(dir.path().join("broken.sh"), "#!/bin/sh\nexit 3\n").unwrap();
    {
        use std::os::unix::fs::PermissionsExt as _;
        let path = dir.path().join("broken.sh");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        replace(&path, &served);
    }
    let lines = run.wait_for("the last good build keeps serving", Duration::from_secs(30));
    assert!(
        lines.last().unwrap().contains("the function did not start"),
        "{lines:?}"
    );
    assert_eq!(answer(&url), (200, "Hello Jo".to_owned()));
}
