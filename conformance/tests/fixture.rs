//! The `fixture` binary: `good` keeps the contract, and every broken mode
//! really has its one defect. Each test starts the fixture in a fresh 0777
//! directory, as the server would, and talks to it through a raw `std`
//! client that writes exactly what the server sends. Every spawned process is
//! killed and reaped when its test ends, pass or fail.

mod common;

use std::fs;
use std::io::{BufRead, BufReader, ErrorKind, Read, Write};
use std::os::unix::fs::{FileTypeExt, PermissionsExt, symlink};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

/// A deadline that never passes, and one that has passed.
const FUTURE: &str = "2999-01-01T00:00:00Z";
const PAST: &str = "2001-01-01T00:00:00Z";
/// The bound on every wait (the agent's start timeout).
const WAIT: Duration = Duration::from_secs(5);

fn ok<T, E: std::fmt::Display>(result: Result<T, E>, what: &str) -> T {
    match result {
        Ok(value) => value,
        Err(e) => panic!("{what}: {e}"),
    }
}

/// A fresh 0777 directory, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> Self {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let name = format!("fdk-fixture-{}-{n}-{tag}", std::process::id());
        let path = std::env::temp_dir().join(name);
        ok(fs::create_dir(&path), "create the directory");
        let mode = fs::Permissions::from_mode(0o777);
        ok(fs::set_permissions(&path, mode), "chmod 0777");
        Self(path)
    }

    fn entries(&self) -> Vec<String> {
        let entries = ok(fs::read_dir(&self.0), "read the directory");
        let names = entries.map(|e| ok(e, "read the directory").file_name());
        names
            .map(|name| name.to_string_lossy().into_owned())
            .collect()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// A fixture process, killed and reaped on drop.
struct Fixture {
    child: Child,
    dir: TempDir,
}

impl Fixture {
    fn spawn(mode: &str) -> Self {
        Self::spawn_in(mode, TempDir::new(mode))
    }

    /// Spawns `fixture <mode>` with `FN_LISTENER=unix:<dir>/lsnr.sock`. Its
    /// stderr is piped: read only by tests that wait for an exit.
    fn spawn_in(mode: &str, dir: TempDir) -> Self {
        Self::spawn_with_cwd(mode, dir, None)
    }

    /// [`spawn_in`](Self::spawn_in) with the working directory `cwd`.
    fn spawn_with_cwd(mode: &str, dir: TempDir, cwd: Option<&Path>) -> Self {
        let listener = format!("unix:{}", dir.0.join("lsnr.sock").display());
        let mut command = Command::new(common::fixture_bin("fixture"));
        command.arg(mode).env("FN_LISTENER", listener);
        if let Some(cwd) = cwd {
            command.current_dir(cwd);
        }
        command.stdin(Stdio::null()).stdout(Stdio::null());
        let child = ok(command.stderr(Stdio::piped()).spawn(), "spawn fixture");
        Self { child, dir }
    }

    /// Spawns and waits for `lsnr.sock`.
    fn start(mode: &str) -> Self {
        let mut fixture = Self::spawn(mode);
        fixture.wait_ready();
        fixture
    }

    fn lsnr(&self) -> PathBuf {
        self.dir.0.join("lsnr.sock")
    }

    fn private(&self) -> PathBuf {
        self.dir.0.join("phonylsnr.sock")
    }

    /// Polls for `lsnr.sock`; fails after 5 s or if the process exits first.
    fn wait_ready(&mut self) {
        let started = Instant::now();
        while fs::symlink_metadata(self.lsnr()).is_err() {
            if let Some(status) = ok(self.child.try_wait(), "try_wait") {
                panic!("fixture exited ({status}) before lsnr.sock appeared");
            }
            assert!(started.elapsed() < WAIT, "no lsnr.sock after {WAIT:?}");
            thread::sleep(Duration::from_micros(100));
        }
    }

    /// Waits (at most 5 s) for the process to exit; returns its status and
    /// stderr.
    fn wait_exit(&mut self) -> (ExitStatus, String) {
        let started = Instant::now();
        let status = loop {
            if let Some(status) = ok(self.child.try_wait(), "try_wait") {
                break status;
            }
            assert!(started.elapsed() < WAIT, "still running after {WAIT:?}");
            thread::sleep(Duration::from_millis(5));
        };
        let mut stderr = String::new();
        if let Some(mut pipe) = self.child.stderr.take() {
            ok(pipe.read_to_string(&mut stderr), "read stderr");
        }
        (status, stderr)
    }

    fn client(&self) -> Client {
        Client::connect(&self.lsnr())
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

struct Response {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Response {
    fn header(&self, name: &str) -> Option<&str> {
        let mut found = self
            .headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name));
        found.next().map(|(_, value)| value.as_str())
    }
}

/// One keep-alive connection, as the server's Go client uses it.
struct Client {
    reader: BufReader<UnixStream>,
    writer: UnixStream,
    calls: usize,
}

impl Client {
    fn connect(path: &Path) -> Self {
        let stream = ok(UnixStream::connect(path), "connect to lsnr.sock");
        ok(
            stream.set_read_timeout(Some(Duration::from_secs(10))),
            "timeout",
        );
        let writer = ok(stream.try_clone(), "clone the stream");
        Self {
            reader: BufReader::new(stream),
            writer,
            calls: 0,
        }
    }

    /// Writes an invoke call as the server does: a chunked body, or
    /// `Content-Length: 0` when it is empty.
    fn send(&mut self, body: &[u8], deadline: &str) {
        self.calls += 1;
        let framing = if body.is_empty() {
            "Content-Length: 0\r\n"
        } else {
            "Transfer-Encoding: chunked\r\nContent-Type: text/plain\r\n"
        };
        let mut bytes = format!(
            "POST /call HTTP/1.1\r\nHost: localhost\r\nUser-Agent: Go-http-client/1.1\r\n\
             {framing}Fn-Call-Id: 01FIXTURETEST{:06}\r\nFn-Deadline: {deadline}\r\n\
             Accept-Encoding: gzip\r\n\r\n",
            self.calls
        )
        .into_bytes();
        if !body.is_empty() {
            bytes.extend_from_slice(format!("{:x}\r\n", body.len()).as_bytes());
            bytes.extend_from_slice(body);
            bytes.extend_from_slice(b"\r\n0\r\n\r\n");
        }
        self.send_raw(&bytes);
    }

    fn send_raw(&mut self, bytes: &[u8]) {
        ok(self.writer.write_all(bytes), "write the call");
    }

    fn line(&mut self) -> String {
        let mut line = String::new();
        ok(self.reader.read_line(&mut line), "read the response");
        assert!(line.ends_with("\r\n"), "response cut short: {line:?}");
        line.truncate(line.len() - 2);
        line
    }

    /// Reads one response (framed by `Content-Length`, or empty for 204).
    fn response(&mut self) -> Response {
        let status_line = self.line();
        let mut parts = status_line.splitn(3, ' ');
        assert_eq!(parts.next(), Some("HTTP/1.1"), "{status_line:?}");
        let status = ok(parts.next().unwrap_or_default().parse(), "status code");
        let mut headers = Vec::new();
        loop {
            let line = self.line();
            if line.is_empty() {
                break;
            }
            let (name, value) = line.split_once(':').unwrap_or((&line, ""));
            headers.push((name.to_owned(), value.trim().to_owned()));
        }
        let mut response = Response {
            status,
            headers,
            body: Vec::new(),
        };
        if status != 204 {
            let length = response.header("content-length").map(str::parse::<usize>);
            let length = ok(length.unwrap_or(Ok(usize::MAX)), "Content-Length");
            assert_ne!(length, usize::MAX, "no Content-Length: {status_line}");
            response.body = vec![0; length];
            ok(self.reader.read_exact(&mut response.body), "read the body");
        }
        response
    }

    fn call(&mut self, body: &[u8]) -> Response {
        self.send(body, FUTURE);
        self.response()
    }

    /// The function closes the connection: end of stream (or a reset), with
    /// no byte of an answer.
    fn expect_closed(&mut self) {
        let mut rest = Vec::new();
        match self.reader.read_to_end(&mut rest) {
            Ok(_) => assert!(
                rest.is_empty(),
                "expected the connection closed, got {:?}",
                String::from_utf8_lossy(&rest)
            ),
            Err(e) if e.kind() == ErrorKind::ConnectionReset => {}
            Err(e) => panic!("expected the connection closed, got {e}"),
        }
    }
}

fn assert_echo(response: &Response, body: &[u8]) {
    assert_eq!(response.status, 200);
    assert_eq!(response.body, body);
    assert_eq!(
        response.header("content-type"),
        Some("application/octet-stream")
    );
    assert_eq!(response.header("fn-fdk-version"), Some("fixture/0"));
}

fn assert_json_error(response: &Response, status: u16) {
    assert_eq!(response.status, status);
    assert_eq!(response.header("content-type"), Some("application/json"));
    let body = String::from_utf8_lossy(&response.body);
    assert!(body.starts_with("{\"message\":\""), "{body}");
    assert_eq!(response.header("fn-fdk-version"), Some("fixture/0"));
}

// ------------------------------------------------------------------- good

#[test]
fn good_serves_chunked_and_empty_calls_on_one_connection() {
    let fixture = Fixture::start("good");
    let mut client = fixture.client();
    assert_echo(&client.call(b"hello"), b"hello");
    assert_echo(&client.call(b"hello"), b"hello");
    assert_echo(&client.call(b""), b"");
    let binary: Vec<u8> = (0..=255).cycle().take(100_000).collect();
    assert_echo(&client.call(&binary), &binary);
}

#[test]
fn good_links_lsnr_sock_relatively_to_a_0666_socket() {
    let fixture = Fixture::start("good");
    let target = ok(fs::read_link(fixture.lsnr()), "read_link lsnr.sock");
    assert_eq!(target, Path::new("phonylsnr.sock"));
    let private = ok(
        fs::symlink_metadata(fixture.private()),
        "stat phonylsnr.sock",
    );
    assert!(private.file_type().is_socket());
    assert_eq!(private.permissions().mode() & 0o777, 0o666);
}

#[test]
fn good_fails_error_and_panic_with_502_and_a_passed_deadline_with_504() {
    let fixture = Fixture::start("good");
    let mut client = fixture.client();
    assert_json_error(&client.call(b"error"), 502);
    assert_json_error(&client.call(b"panic"), 502);
    client.send(b"hello", PAST);
    assert_json_error(&client.response(), 504);
    client.send(b"hello", "2001-01-01T00:00:00.1234567891-07:30");
    assert_json_error(&client.response(), 504);
    // Not RFC 3339 (a space): no deadline at all.
    client.send(b"hello", "2001-01-01 00:00:00Z");
    assert_echo(&client.response(), b"hello");
    client.send_raw(b"GET /other HTTP/1.1\r\nHost: localhost\r\nContent-Length: 0\r\n\r\n");
    assert_json_error(&client.response(), 502);
    assert_echo(&client.call(b"still serving"), b"still serving");
}

#[test]
fn good_ignores_chunk_extensions_and_reads_trailers() {
    let fixture = Fixture::start("good");
    let mut client = fixture.client();
    client.send_raw(
        b"POST /call HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\
          Fn-Deadline: 2999-01-01T00:00:00.5+02:00\r\n\r\n\
          3;name=value\r\nhel\r\nA \r\nlo, world!\r\n0\r\nX-Trailer: yes\r\n\r\n",
    );
    assert_echo(&client.response(), b"hello, world!");
    client.send_raw(b"POST /call HTTP/1.1\r\nHost: localhost\r\nContent-Length: 4\r\n\r\nsize");
    assert_echo(&client.response(), b"size");
}

#[test]
fn good_removes_stale_files_first() {
    let dir = TempDir::new("good-stale");
    ok(
        fs::write(dir.0.join("phonylsnr.sock"), "stale"),
        "stale private",
    );
    ok(
        symlink("gone", dir.0.join("lsnr.sock")),
        "stale dangling link",
    );
    let mut fixture = Fixture::spawn_in("good", dir);
    let started = Instant::now();
    // The stale link exists from the start: wait for the new one.
    while fs::read_link(fixture.lsnr()).ok().as_deref() != Some(Path::new("phonylsnr.sock")) {
        assert!(
            ok(fixture.child.try_wait(), "try_wait").is_none(),
            "fixture exited"
        );
        assert!(started.elapsed() < WAIT, "no new lsnr.sock after {WAIT:?}");
        thread::sleep(Duration::from_micros(100));
    }
    assert_echo(&fixture.client().call(b"fresh"), b"fresh");
}

#[test]
fn good_serves_a_second_connection_while_one_is_open() {
    let fixture = Fixture::start("good");
    let mut first = fixture.client();
    assert_echo(&first.call(b"one"), b"one");
    let mut second = fixture.client();
    assert_echo(&second.call(b"two"), b"two");
    assert_echo(&first.call(b"three"), b"three");
}

#[test]
fn good_binds_a_107_byte_listener_path() {
    let dir = TempDir::new("good-long");
    let pad = 107 - dir.0.join("x/lsnr.sock").as_os_str().len() + 1;
    let long = dir.0.join("d".repeat(pad));
    ok(fs::create_dir(&long), "create the long directory");
    let listener = long.join("lsnr.sock");
    assert_eq!(listener.as_os_str().len(), 107);
    let mut command = Command::new(common::fixture_bin("fixture"));
    command
        .arg("good")
        .env("FN_LISTENER", format!("unix:{}", listener.display()));
    let child = ok(command.stderr(Stdio::null()).spawn(), "spawn fixture");
    let mut fixture = Fixture {
        child,
        dir: TempDir(long),
    };
    fixture.wait_ready();
    assert_echo(&fixture.client().call(b"long"), b"long");
    drop(fixture);
    drop(dir);
}

#[test]
fn bad_usage_exits_2() {
    let run = |mode: &str, listener: Option<&str>| {
        let mut command = Command::new(common::fixture_bin("fixture"));
        command.arg(mode).env_remove("FN_LISTENER");
        if let Some(listener) = listener {
            command.env("FN_LISTENER", listener);
        }
        let output = ok(command.stdin(Stdio::null()).output(), "run fixture");
        assert!(
            !output.stderr.is_empty(),
            "no message for {mode} {listener:?}"
        );
        output.status.code()
    };
    assert_eq!(run("good", None), Some(2));
    assert_eq!(run("good", Some("tcp:127.0.0.1:8080")), Some(2));
    assert_eq!(run("good", Some("unix:")), Some(2));
    assert_eq!(
        run("no-such-mode", Some("unix:/nonexistent/lsnr.sock")),
        Some(2)
    );
}

// ------------------------------------------------------------ broken modes

#[test]
fn direct_bind_refuses_the_dial_made_when_the_name_appears() {
    use std::os::unix::fs::MetadataExt;
    // The fixture binds at once, then listens on a new socket 300 ms
    // later. A dial that a busy machine delays until the second socket
    // proves nothing; such a try is made again, up to five times. The
    // second socket is told apart by its inode (it replaced the one seen
    // before the dial) or by its change time (its chmod, 300 ms after
    // the start).
    let mut tries = 0;
    let fixture = loop {
        tries += 1;
        let spawned = std::time::SystemTime::now();
        let mut fixture = Fixture::spawn("direct-bind");
        fixture.wait_ready();
        let before = ok(fs::symlink_metadata(fixture.lsnr()), "lstat lsnr.sock");
        let first = UnixStream::connect(fixture.lsnr()).map_err(|e| e.kind());
        let after = ok(fs::symlink_metadata(fixture.lsnr()), "lstat lsnr.sock");
        assert!(
            after.file_type().is_socket(),
            "lsnr.sock is the socket itself, no symlink"
        );
        assert!(fs::symlink_metadata(fixture.private()).is_err());
        let changed = std::time::UNIX_EPOCH
            + Duration::new(
                u64::try_from(before.ctime()).unwrap_or(0),
                u32::try_from(before.ctime_nsec()).unwrap_or(0),
            );
        let second_socket = before.ino() != after.ino()
            || changed
                .duration_since(spawned)
                .is_ok_and(|d| d > Duration::from_millis(250));
        if second_socket && tries < 5 {
            continue;
        }
        assert_eq!(first.err(), Some(ErrorKind::ConnectionRefused));
        break fixture;
    };
    // It does come up later.
    let started = Instant::now();
    let stream = loop {
        match UnixStream::connect(fixture.lsnr()) {
            Ok(stream) => break stream,
            Err(e) => assert!(started.elapsed() < WAIT, "never connectable: {e}"),
        }
        thread::sleep(Duration::from_millis(5));
    };
    drop(stream);
    assert_echo(&fixture.client().call(b"late"), b"late");
}

#[test]
fn absolute_symlink_links_to_an_absolute_path() {
    let fixture = Fixture::start("absolute-symlink");
    let target = ok(fs::read_link(fixture.lsnr()), "read_link lsnr.sock");
    assert!(target.is_absolute(), "{}", target.display());
    assert_eq!(target.file_name(), Some("phonylsnr.sock".as_ref()));
    assert_echo(&fixture.client().call(b"hello"), b"hello");
}

#[test]
fn mode_0600_leaves_the_socket_0600() {
    let fixture = Fixture::start("mode-0600");
    let private = ok(
        fs::symlink_metadata(fixture.private()),
        "stat phonylsnr.sock",
    );
    assert_eq!(private.permissions().mode() & 0o777, 0o600);
    assert_eq!(
        ok(fs::read_link(fixture.lsnr()), "read_link"),
        Path::new("phonylsnr.sock")
    );
}

#[test]
fn status_500_answers_500() {
    let fixture = Fixture::start("status-500");
    let mut client = fixture.client();
    let response = client.call(b"hello");
    assert_eq!(response.status, 500);
    assert_eq!(response.body, b"hello");
}

#[test]
fn status_204_answers_204_without_a_body() {
    let fixture = Fixture::start("status-204");
    let mut client = fixture.client();
    let response = client.call(b"hello");
    assert_eq!(response.status, 204);
    assert_eq!(response.header("content-length"), None);
    // Nothing follows the head: the next answer starts right after it.
    assert_eq!(client.call(b"again").status, 204);
}

#[test]
fn close_connection_closes_without_answering() {
    let fixture = Fixture::start("close-connection");
    let mut client = fixture.client();
    client.send(b"hello", FUTURE);
    client.expect_closed();
}

#[test]
fn no_socket_never_creates_a_socket() {
    let mut fixture = Fixture::spawn("no-socket");
    thread::sleep(Duration::from_millis(300));
    assert!(
        ok(fixture.child.try_wait(), "try_wait").is_none(),
        "it exited"
    );
    assert!(
        fixture.dir.entries().is_empty(),
        "{:?}",
        fixture.dir.entries()
    );
}

#[test]
fn exit_early_exits_0_without_a_socket() {
    let mut fixture = Fixture::spawn("exit-early");
    let (status, _) = fixture.wait_exit();
    assert_eq!(status.code(), Some(0));
    assert!(
        fixture.dir.entries().is_empty(),
        "{:?}",
        fixture.dir.entries()
    );
}

#[test]
fn leak_body_answers_with_the_previous_body() {
    let fixture = Fixture::start("leak-body");
    let mut client = fixture.client();
    assert_echo(&client.call(b"one"), b"");
    assert_echo(&client.call(b"two"), b"one");
    assert_echo(&fixture.client().call(b"three"), b"two");
}

#[test]
fn ignore_deadline_answers_200_for_a_passed_deadline() {
    let fixture = Fixture::start("ignore-deadline");
    let mut client = fixture.client();
    let started = Instant::now();
    client.send(b"hello", PAST);
    assert_echo(&client.response(), b"hello");
    assert!(started.elapsed() >= Duration::from_secs(3));
}

#[test]
fn panic_drop_closes_the_connection_on_panic() {
    let fixture = Fixture::start("panic-drop");
    let mut client = fixture.client();
    assert_echo(&client.call(b"before"), b"before");
    client.send(b"panic", FUTURE);
    client.expect_closed();
    assert_echo(&fixture.client().call(b"after"), b"after");
    assert_json_error(&fixture.client().call(b"error"), 502);
}

#[test]
fn wrong_status_for_error_answers_500() {
    let fixture = Fixture::start("wrong-status-for-error");
    let mut client = fixture.client();
    let response = client.call(b"error");
    assert_eq!(response.status, 500);
    assert_eq!(response.header("content-type"), Some("application/json"));
    assert_echo(&client.call(b"fine"), b"fine");
    assert_json_error(&client.call(b"panic"), 502);
}

#[test]
fn no_version_header_omits_fn_fdk_version() {
    let fixture = Fixture::start("no-version-header");
    let response = fixture.client().call(b"hello");
    assert_eq!(response.status, 200);
    assert_eq!(response.body, b"hello");
    assert_eq!(response.header("fn-fdk-version"), None);
}

#[test]
fn idle_timeout_closes_an_idle_connection() {
    let fixture = Fixture::start("idle-timeout");
    let mut client = fixture.client();
    assert_echo(&client.call(b"hello"), b"hello");
    // Waits (up to the client's 10 s read timeout) for the fixture's timer.
    client.expect_closed();
    assert_echo(&fixture.client().call(b"again"), b"again");
}

#[test]
fn stale_socket_fails_refuses_a_stale_private_name() {
    let dir = TempDir::new("stale-fails");
    ok(
        fs::write(dir.0.join("phonylsnr.sock"), "stale"),
        "stale private",
    );
    let mut fixture = Fixture::spawn_in("stale-socket-fails", dir);
    let (status, stderr) = fixture.wait_exit();
    assert_eq!(status.code(), Some(1));
    assert!(stderr.contains("phonylsnr.sock"), "{stderr}");
    assert!(fs::symlink_metadata(fixture.lsnr()).is_err());
    // Without the stale file it starts.
    let fixture = Fixture::start("stale-socket-fails");
    assert_echo(&fixture.client().call(b"hello"), b"hello");
}

#[test]
fn wrong_path_404_answers_404_to_other_paths_only() {
    let fixture = Fixture::start("wrong-path-404");
    let mut client = fixture.client();
    client.send_raw(b"GET /other HTTP/1.1\r\nHost: localhost\r\nContent-Length: 0\r\n\r\n");
    assert_json_error(&client.response(), 404);
    client.send_raw(b"POST /other HTTP/1.1\r\nHost: localhost\r\nContent-Length: 2\r\n\r\nhi");
    assert_json_error(&client.response(), 404);
    assert_echo(&client.call(b"still serving"), b"still serving");
    assert_json_error(&client.call(b"error"), 502);
}

#[test]
fn exit_on_close_exits_when_a_connection_that_carried_a_call_closes() {
    let mut fixture = Fixture::start("exit-on-close");
    // A connection closed unused, or one still open, changes nothing.
    drop(fixture.client());
    let mut client = fixture.client();
    assert_echo(&client.call(b"hello"), b"hello");
    assert_echo(&fixture.client().call(b"second"), b"second");
    // That second connection was closed after its call: the process ends.
    let (status, stderr) = fixture.wait_exit();
    assert_eq!(status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("exit-on-close"), "{stderr}");
    drop(client);
}

#[test]
fn needs_writable_cwd_exits_1_when_its_working_directory_is_read_only() {
    // /proc takes no new files, even from root (a 0555 directory would not
    // stop root, who runs these tests in CI).
    let mut fixture = Fixture::spawn_with_cwd(
        "needs-writable-cwd",
        TempDir::new("ro-cwd"),
        Some(Path::new("/proc")),
    );
    let (status, stderr) = fixture.wait_exit();
    assert_eq!(status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("working directory"), "{stderr}");
    assert!(fs::symlink_metadata(fixture.lsnr()).is_err());
    // In a writable directory it starts, and leaves nothing there.
    let cwd = TempDir::new("rw-cwd");
    let mut fixture =
        Fixture::spawn_with_cwd("needs-writable-cwd", TempDir::new("rw"), Some(&cwd.0));
    fixture.wait_ready();
    assert_echo(&fixture.client().call(b"hello"), b"hello");
    assert!(cwd.entries().is_empty(), "{:?}", cwd.entries());
}

/// A `report` of `FN_APP_ID` and `FN_FORMAT` for an invoke call with a JSON
/// body, this `Fn-Deadline` (none: `None`) and `Content-Type`.
fn report(client: &mut Client, deadline: Option<&str>) -> serde_json::Value {
    let deadline = deadline.map_or(String::new(), |d| format!("Fn-Deadline: {d}\r\n"));
    let request = format!(
        "POST /call HTTP/1.1\r\nHost: localhost\r\nUser-Agent: test\r\nContent-Length: 2\r\n\
         Content-Type: application/json\r\nFn-Call-Id: 01FIXTUREREPORT\r\n{deadline}\
         X-Probe: {{\"op\":\"report\",\"config\":[\"FN_APP_ID\",\"FN_FORMAT\",\"FN_LISTENER\"]}}\r\n\
         \r\n{{}}"
    );
    client.send_raw(request.as_bytes());
    let response = client.response();
    assert_eq!(response.status, 200);
    ok(serde_json::from_slice(&response.body), "the report is JSON")
}

#[test]
fn good_reports_what_the_handler_sees() {
    let fixture = Fixture::start("good");
    let mut client = fixture.client();
    let json = report(&mut client, Some("2999-01-01T02:00:00.5+02:00"));
    assert_eq!(json["call_id"], "01FIXTUREREPORT");
    assert_eq!(json["deadline"], "2999-01-01T00:00:00Z");
    assert_eq!(json["gateway"], false);
    assert_eq!(json["content_type"], "application/json");
    let headers = json["headers"].as_array().cloned().unwrap_or_default();
    assert!(headers.contains(&serde_json::json!(["content-type", "application/json"])));
    assert!(
        !headers
            .iter()
            .any(|h| h[0] == "content-length" || h[0] == "host")
    );
    assert_eq!(json["config"]["FN_APP_ID"], serde_json::Value::Null);
    assert_eq!(json["config"]["FN_FORMAT"], serde_json::Value::Null);
    assert_eq!(json["body_len"], 2);
    let json = report(&mut client, None);
    assert_eq!(json["deadline"], serde_json::Value::Null);
}

#[test]
fn no_runtime_header_omits_fn_fdk_runtime() {
    let fixture = Fixture::start("no-runtime-header");
    let response = fixture.client().call(b"hello");
    assert_echo(&response, b"hello");
    assert_eq!(response.header("fn-fdk-runtime"), None);
    let response = Fixture::start("good").client().call(b"hello");
    assert_eq!(response.header("fn-fdk-runtime"), Some("rust/std"));
}

#[test]
fn empty_listener_exit_0_exits_0_for_an_empty_listener_only() {
    for (mode, code) in [("empty-listener-exit-0", 0), ("good", 2)] {
        let dir = TempDir::new("empty-listener");
        let output = Command::new(common::fixture_bin("fixture"))
            .arg(mode)
            .env("FN_LISTENER", "")
            .current_dir(&dir.0)
            .stdin(Stdio::null())
            .output();
        let output = ok(output, "run the fixture");
        assert_eq!(output.status.code(), Some(code), "{mode}");
        assert!(dir.entries().is_empty(), "{:?}", dir.entries());
    }
    // With a listener it serves.
    let fixture = Fixture::start("empty-listener-exit-0");
    assert_echo(&fixture.client().call(b"hello"), b"hello");
}

#[test]
fn ignore_deadline_offset_reads_the_clock_time_as_utc() {
    let fixture = Fixture::start("ignore-deadline-offset");
    let mut client = fixture.client();
    let json = report(&mut client, Some("2999-01-01T02:00:00+02:00"));
    assert_eq!(json["deadline"], "2999-01-01T02:00:00Z");
    let json = report(&mut client, Some("2999-01-01T00:00:00Z"));
    assert_eq!(json["deadline"], "2999-01-01T00:00:00Z");
}

#[test]
fn require_deadline_answers_500_without_fn_deadline() {
    let fixture = Fixture::start("require-deadline");
    let mut client = fixture.client();
    client.send_raw(b"POST /call HTTP/1.1\r\nHost: localhost\r\nContent-Length: 0\r\n\r\n");
    assert_json_error(&client.response(), 500);
    assert_echo(&fixture.client().call(b"hello"), b"hello");
}

#[test]
fn drop_content_type_hides_the_requests_content_type() {
    let fixture = Fixture::start("drop-content-type");
    let json = report(&mut fixture.client(), Some(FUTURE));
    assert_eq!(json["content_type"], serde_json::Value::Null);
    let headers = json["headers"].as_array().cloned().unwrap_or_default();
    assert!(
        !headers.iter().any(|h| h[0] == "content-type"),
        "{headers:?}"
    );
}

#[test]
fn hide_fn_vars_and_hide_fn_plumbing_hide_their_variables() {
    let listener = |f: &Fixture| format!("unix:{}", f.lsnr().display());
    // FN_APP_ID is not set by Fixture::spawn; FN_LISTENER is.
    let fixture = Fixture::start("good");
    let json = report(&mut fixture.client(), Some(FUTURE));
    assert_eq!(json["config"]["FN_LISTENER"], listener(&fixture));
    for mode in ["hide-fn-vars", "hide-fn-plumbing"] {
        let fixture = Fixture::start(mode);
        let json = report(&mut fixture.client(), Some(FUTURE));
        assert_eq!(
            json["config"]["FN_LISTENER"],
            serde_json::Value::Null,
            "{mode}"
        );
    }
}
