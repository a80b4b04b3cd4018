//! The probe in the stdin/stdout formats under a memory budget: what the
//! FDK does with requests past its body limit and within it, and the peak
//! RSS the process reached (`protocol-spec/stdio.md` SIO-ERR-8, DEF-REQ-3;
//! `http-stream.md` HS-REQ-9). The probe's `report` op reads the whole
//! body and answers its length, so the answer stays small. (These ran
//! with `examples/hello` until it left the formats out: README
//! "Performance".)
//!
//! A container gets `FN_MEMORY` MB and no swap: a process that goes past
//! it is killed. No memory cgroup can be made here, so the tests read the
//! child's peak RSS from `wait4` and hold it to the budget instead: a
//! process that stays under it would not have been killed.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::sync::Mutex;

const MIB: usize = 1 << 20;

/// One large run at a time: the machine is small and shared.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

struct Run {
    code: Option<i32>,
    stdout: Vec<u8>,
    stderr: String,
    /// How much of stdin the writer got in before the pipe closed.
    written: usize,
    peak_rss_mib: usize,
}

/// Runs the probe with `env`, writes `parts` (the request, in pieces) to its
/// stdin, and reaps it with `wait4` for its peak RSS.
#[allow(clippy::zombie_processes)] // reaped by `wait4`, which std cannot see
fn run<'a>(env: &[(&str, &str)], parts: impl Iterator<Item = &'a [u8]> + Send) -> Run {
    let mut child = Command::new(env!("CARGO_BIN_EXE_probe"))
        .env_clear()
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let (written, out, err) = std::thread::scope(|s| {
        let writer = s.spawn(move || {
            let mut written = 0;
            for part in parts {
                if stdin.write_all(part).is_err() {
                    break; // the process stopped reading: EPIPE
                }
                written += part.len();
            }
            written
        });
        let out = s.spawn(move || {
            let mut buf = Vec::new();
            stdout.read_to_end(&mut buf).unwrap();
            buf
        });
        let mut err = String::new();
        stderr.read_to_string(&mut err).unwrap();
        (writer.join().unwrap(), out.join().unwrap(), err)
    });
    let (status, usage) = wait4(child.id());
    let code = libc::WIFEXITED(status).then(|| libc::WEXITSTATUS(status));
    Run {
        code,
        stdout: out,
        stderr: err,
        written,
        // ru_maxrss is in KiB on Linux.
        peak_rss_mib: usize::try_from(usage.ru_maxrss).unwrap() / 1024,
    }
}

/// Reaps child `pid`: its wait status and resource usage. std's `wait`
/// does not give the usage, and `wait4` is the only call that gives it
/// for one child.
#[allow(unsafe_code)]
fn wait4(pid: u32) -> (i32, libc::rusage) {
    let pid = libc::pid_t::try_from(pid).unwrap();
    let mut status = 0;
    // SAFETY: `rusage` is plain data, for which all zeroes is a value.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: both out-pointers are valid and exclusive for the call; the
    // pid is our own unreaped child.
    let reaped = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(reaped, pid);
    (status, usage)
}

/// The op every call here asks for (`X-Probe`).
const REPORT: &str = r#"{"op":"report"}"#;

/// The 60 MiB request of each format: a JSON body
/// `{"name":"Jo","pad":"xxx…"}` asking for a report, framed as the format
/// frames it (the `default` format's `X-Probe` is in the environment), as a
/// head, `block` 60 times, and a tail. The test process never holds the
/// whole request: the child's peak RSS counts what its parent held when it
/// was spawned (the RSS high-water mark survives `exec`).
fn request(format: &str) -> (Vec<u8>, usize, &'static [u8]) {
    let blocks = 60;
    let body_len = br#"{"name":"Jo","pad":""}"#.len() + blocks * MIB;
    let (head, tail): (String, &[u8]) = match format {
        "default" => (r#"{"name":"Jo","pad":""#.into(), br#""}"#),
        "json" => (
            r#"{"call_id":"c1","content_type":"application/json","protocol":{"type":"http","headers":{"X-Probe":["{\"op\":\"report\"}"]}},"body":"{\"name\":\"Jo\",\"pad\":\""#
                .into(),
            b"\\\"}\"}\n",
        ),
        "http" => (
            format!(
                "POST /invoke/c1 HTTP/1.1\r\nHost: localhost\r\nFn_call_id: c1\r\nX-Probe: {REPORT}\r\n\
                 Content-Type: application/json\r\nContent-Length: {body_len}\r\n\r\n\
                 {{\"name\":\"Jo\",\"pad\":\""
            ),
            br#""}"#,
        ),
        "cloudevent" => (
            r#"{"eventID":"c1","contentType":"application/json","extensions":{"protocol":{"type":"http","headers":{"X-Probe":["{\"op\":\"report\"}"]}}},"data":{"name":"Jo","pad":""#
                .into(),
            b"\"}}\n",
        ),
        other => panic!("no format {other}"),
    };
    (head.into_bytes(), blocks, tail)
}

/// The pieces of `request(format)`, with `block` as the pad.
fn pieces<'a>(
    (head, blocks, tail): &'a (Vec<u8>, usize, &'static [u8]),
    block: &'a [u8],
) -> impl Iterator<Item = &'a [u8]> + Send {
    std::iter::once(&head[..])
        .chain(std::iter::repeat_n(block, *blocks))
        .chain(std::iter::once(*tail))
}

/// SIO-ERR-8, DEF-REQ-3: 200 MiB on a `default` function's stdin is a
/// failed call (exit 1, nothing on stdout) once the bound is reached: the
/// FDK stops reading there, so the writer never gets everything in, and
/// the process never holds more than the bound.
#[test]
fn default_with_200_mib_on_stdin_fails_at_the_bound_without_reading_it_all() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let block = vec![b'x'; MIB];
    let total = 200 * MIB;
    let run = run(
        &[("FN_FORMAT", "default"), ("FN_MEMORY", "128")],
        std::iter::repeat_n(&block[..], total / MIB),
    );
    println!(
        "default, 200 MiB, FN_MEMORY=128: exit {:?}, {} MiB taken, peak RSS {} MiB",
        run.code,
        run.written / MIB,
        run.peak_rss_mib
    );
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    assert!(run.stdout.is_empty());
    assert!(
        run.stderr.contains("limit of 50331648 bytes"),
        "{}",
        run.stderr
    );
    assert!(run.written < total, "the whole of stdin was read");
    // The bound is 48 MiB; a process holding all 200 would be far above.
    assert!(run.peak_rss_mib < 64, "peak RSS {} MiB", run.peak_rss_mib);
}

/// SIO-ERR-8: a 60 MiB request under `FN_MEMORY=128` (bound 48 MiB) is
/// answered as each format answers a request past its bound, within the
/// budget: 400 for `json`, `cloudevent` and `http`, exit 1 for `default`.
#[test]
fn sixty_mib_past_the_bound_is_answered_in_every_format_within_128_mib() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let block = vec![b'x'; MIB];
    for format in ["json", "cloudevent", "http", "default"] {
        let request = request(format);
        let run = run(
            &[
                ("FN_FORMAT", format),
                ("FN_MEMORY", "128"),
                ("FN_HEADER_X-Probe", REPORT),
            ],
            pieces(&request, &block),
        );
        let out = String::from_utf8_lossy(&run.stdout);
        println!(
            "{format}, 60 MiB, FN_MEMORY=128 (bound 48 MiB): exit {:?}, peak RSS {} MiB",
            run.code, run.peak_rss_mib
        );
        match format {
            "default" => assert!(run.code == Some(1) && out.is_empty(), "{out}"),
            "http" => assert!(out.starts_with("HTTP/1.1 400"), "{out}"),
            _ => assert!(
                run.code == Some(0) && out.contains(r#""status_code":400"#),
                "{out} {}",
                run.stderr
            ),
        }
        assert!(
            run.peak_rss_mib < 100,
            "{format}: peak RSS {} MiB",
            run.peak_rss_mib
        );
    }
}

/// SIO-ERR-8: with the limit raised to 64 MiB, the same 60 MiB request is
/// served in every format, and the process stays under 128 MiB because it
/// holds the request once.
#[test]
fn sixty_mib_within_the_bound_is_served_in_every_format_within_128_mib() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let block = vec![b'x'; MIB];
    let limit = (64 * MIB).to_string();
    for format in ["json", "cloudevent", "http", "default"] {
        let request = request(format);
        let run = run(
            &[
                ("FN_FORMAT", format),
                ("FN_MEMORY", "128"),
                ("FDK_MAX_BODY", &limit),
                ("FN_HEADER_X-Probe", REPORT),
            ],
            pieces(&request, &block),
        );
        let out = String::from_utf8_lossy(&run.stdout);
        println!(
            "{format}, 60 MiB, FDK_MAX_BODY=64 MiB: exit {:?}, peak RSS {} MiB",
            run.code, run.peak_rss_mib
        );
        assert_eq!(run.code, Some(0), "{format}: {}", run.stderr);
        // The whole body reached the handler (a cloudevent's `data` is the
        // JSON value, re-encoded without white space: the same bytes here).
        let body_len = br#"{"name":"Jo","pad":""}"#.len() + 60 * MIB;
        assert!(out.contains("body_len"), "{format}: {out}");
        assert!(out.contains(&body_len.to_string()), "{format}: {out}");
        assert!(
            run.peak_rss_mib < 128,
            "{format}: peak RSS {} MiB",
            run.peak_rss_mib
        );
    }
}

/// HS-REQ-9: a value of `FDK_MAX_BODY` the FDK cannot use stops a
/// `default` function at start-up with one line on stderr (hello's
/// `process.rs` checks the same on the socket).
#[test]
fn a_bad_body_limit_stops_the_process_at_start_up() {
    let run = run(
        &[("FN_FORMAT", "default"), ("FDK_MAX_BODY", "lots")],
        std::iter::empty(),
    );
    assert_eq!(run.code, Some(1));
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
    assert!(run.stderr.contains("FDK_MAX_BODY=`lots`"), "{}", run.stderr);
}
