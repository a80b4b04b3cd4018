//! The probe in the stdin/stdout formats, as a process: stdout belongs to
//! the protocol, so what a handler prints must land in the logs
//! (SIO-IO-2), and the process must survive every kind of failure
//! (SIO-ERR-*).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;
use std::process::{Command, Output, Stdio};

fn run(format: &str, env: &[(&str, &str)], stdin: &[u8]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_probe"))
        .env_clear()
        .env("FN_FORMAT", format)
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    input.write_all(stdin).unwrap();
    drop(input);
    child.wait_with_output().unwrap()
}

/// A json-format request whose `X-Probe` header is `probe`.
fn json_call(id: &str, probe: &str) -> String {
    let req = serde_json::json!({
        "call_id": id,
        "deadline": "2100-01-01T00:00:00.000Z",
        "body": "",
        "content_type": "",
        "protocol": {
            "type": "http",
            "method": "POST",
            "request_url": "http://localhost:8080/invoke/probe",
            "headers": {"X-Probe": [probe]}
        }
    });
    format!("{req}\n")
}

fn lines(out: &Output) -> Vec<serde_json::Value> {
    String::from_utf8(out.stdout.clone())
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l:?}")))
        .collect()
}

#[test]
fn println_in_a_handler_goes_to_stderr_not_into_the_stream() {
    let input = json_call(
        "c1",
        r#"{"op":"log","stdout":"printed to stdout","stderr":"to err"}"#,
    ) + &json_call("c2", r#"{"op":"echo"}"#);
    let out = run("json", &[], input.as_bytes());
    assert!(out.status.success());
    let answers = lines(&out);
    assert_eq!(answers.len(), 2, "{answers:?}");
    assert_eq!(answers[0]["body"], "logged");
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains("printed to stdout"), "{stderr}");
    assert!(stderr.contains("to err"), "{stderr}");
}

#[test]
fn default_format_keeps_printed_lines_out_of_the_answer() {
    let out = run(
        "default",
        &[(
            "FN_HEADER_X-Probe",
            r#"{"op":"log","stdout":"printed to stdout","stderr":"x"}"#,
        )],
        b"",
    );
    assert!(out.status.success());
    assert_eq!(out.stdout, b"logged");
    assert!(
        String::from_utf8(out.stderr)
            .unwrap()
            .contains("printed to stdout")
    );
}

#[test]
fn errors_panics_and_deadlines_answer_and_the_stream_goes_on() {
    let input = [
        json_call("e", r#"{"op":"error","message":"boom"}"#),
        json_call("p", r#"{"op":"panic","message":"kaboom"}"#),
        json_call("s", r#"{"op":"sleep","ms":5000}"#)
            .replace("2100-01-01T00:00:00.000Z", "2000-01-01T00:00:00.000Z"),
        json_call(
            "ok",
            r#"{"op":"respond","status":201,"headers":[["X-Made","yes"]],"body":"made"}"#,
        ),
    ]
    .concat();
    let out = run("json", &[], input.as_bytes());
    assert!(out.status.success());
    let answers = lines(&out);
    let statuses: Vec<_> = answers
        .iter()
        .map(|a| a["protocol"]["status_code"].clone())
        .collect();
    assert_eq!(statuses, [500, 500, 504, 201]);
    assert_eq!(answers[3]["body"], "made");
    assert_eq!(answers[3]["protocol"]["headers"]["X-Made"][0], "yes");
}

// The calls below came from `examples/hello`, which serves the socket only
// (README "Performance"): the formats' framing, with the probe's default
// op, `echo`, answering the body's exact bytes.

/// The issue's own acceptance line, through a shell (DEF-REQ-1, DEF-RESP-1).
#[test]
fn default_format_by_hand_prints_the_answer() {
    let out = Command::new("sh")
        .arg("-c")
        .arg(r#"echo '{"name":"x"}' | FN_FORMAT=default "$PROBE""#)
        .env("PROBE", env!("CARGO_BIN_EXE_probe"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    assert_eq!(out.stdout, b"{\"name\":\"x\"}\n");
}

#[test]
fn default_format_reads_metadata_from_the_environment() {
    let out = run(
        "default",
        &[
            ("FN_CALL_ID", "01CALL"),
            ("FN_DEADLINE", "2100-01-01T00:00:00.000Z"),
            ("FN_METHOD", "PUT"),
            ("FN_REQUEST_URL", "http://localhost:8080/r/app/probe?q=1"),
            ("FN_HEADER_Content-Type", "text/plain"),
            ("FN_HEADER_X-Probe", r#"{"op":"report"}"#),
        ],
        b"Jimmy",
    );
    assert!(out.status.success());
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["call_id"], "01CALL");
    assert_eq!(report["method"], "PUT");
    assert_eq!(report["url"], "http://localhost:8080/r/app/probe?q=1");
    assert_eq!(report["content_type"], "text/plain");
    assert_eq!(report["body_len"], 5);
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_deadline_already_past_fails_a_default_call() {
    let out = run(
        "default",
        &[
            ("FN_CALL_ID", "late"),
            ("FN_DEADLINE", "2000-01-01T00:00:00.000Z"),
        ],
        b"Jo",
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains("late") && stderr.contains("deadline"),
        "{stderr}"
    );
}

/// Sequential calls on one process, a malformed line answered in between
/// (JSON-REQ-1, JSON-RESP-1, SIO-ERR-5).
#[test]
fn json_format_serves_call_after_call() {
    let input = concat!(
        r#"{"call_id":"c1","deadline":"2100-01-01T00:00:00.000Z","body":"{\"name\":\"Jimmy\"}","content_type":"application/json","protocol":{"type":"http","method":"POST","request_url":"http://localhost:8080/invoke/f","headers":{"Content-Type":["application/json"]}}}"#,
        "\n{oops\n",
        r#"{"call_id":"c2","body":"Al"}"#,
        "\n"
    );
    let out = run("json", &[], input.as_bytes());
    assert!(out.status.success());
    let answers = lines(&out);
    assert_eq!(answers.len(), 3);
    assert_eq!(answers[0]["body"], r#"{"name":"Jimmy"}"#);
    assert_eq!(answers[0]["protocol"]["status_code"], 200);
    assert_eq!(answers[1]["protocol"]["status_code"], 400);
    assert_eq!(answers[2]["body"], "Al");
}

/// Two requests back to back, sized and chunked; then a garbled head gets
/// a 400 and the process exits 1 (HTTP-REQ-*, HTTP-RESP-*).
#[test]
fn http_format_answers_each_request_then_refuses_garbage() {
    let input = concat!(
        "POST /invoke/f HTTP/1.1\r\nHost: localhost:8080\r\nUser-Agent: curl/7.61.0\r\n",
        "Content-Length: 5\r\nFn_call_id: c1\r\nFn_deadline: 2100-01-01T00:00:00.000Z\r\n",
        "Fn_method: POST\r\nFn_request_url: http://localhost:8080/invoke/f\r\n\r\nJimmy",
        "POST /invoke/f HTTP/1.1\r\nHost: localhost:8080\r\nTransfer-Encoding: chunked\r\n",
        "Fn_call_id: c2\r\n\r\n2\r\nAl\r\n0\r\n\r\n",
        "NOT HTTP\r\n\r\n"
    );
    let out = run("http", &[], input.as_bytes());
    let stdout = String::from_utf8(out.stdout).unwrap();
    let heads: Vec<&str> = stdout.matches("HTTP/1.1 ").collect();
    assert_eq!(heads.len(), 3, "{stdout}");
    let first = stdout.find("\r\n\r\nJimmy").unwrap();
    let second = stdout.find("\r\n\r\nAl").unwrap();
    let refused = stdout.find("HTTP/1.1 400").unwrap();
    assert!(first < second && second < refused, "{stdout}");
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn cloudevent_format_wraps_the_answer_in_an_event() {
    let input = concat!(
        r#"{"cloudEventsVersion":"0.1","eventID":"e1","source":"http://localhost:8080/invoke/f","eventType":"http","eventTypeVersion":"","eventTime":"0001-01-01T00:00:00Z","schemaURL":"","contentType":"application/json","extensions":{"deadline":"2100-01-01T00:00:00.000Z","protocol":{"type":"http","method":"POST","request_url":"http://localhost:8080/invoke/f","headers":{"Content-Type":["application/json"],"X-Probe":["{\"op\":\"respond\",\"status\":200,\"body\":\"Hello Jimmy\",\"content_type\":\"text/plain\"}"]}}},"data":{"name":"Jimmy"}}"#,
        "\n"
    );
    let out = run("cloudevent", &[], input.as_bytes());
    assert!(out.status.success());
    let event: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(event["eventID"], "e1");
    assert_eq!(event["contentType"], "text/plain");
    assert_eq!(event["data"], "Hello Jimmy");
    assert_eq!(event["extensions"]["protocol"]["status_code"], 200);
}

/// SIGTERM between calls, with stdin still open: exit 0 at once
/// (SIO-LIFE-3).
#[test]
fn sigterm_between_calls_exits_cleanly() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_probe"))
        .env_clear()
        .env("FN_FORMAT", "json")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    input.write_all(b"{\"body\":\"Jo\"}\n").unwrap();
    input.flush().unwrap();
    // The answer arrives, then the process waits for the next request.
    let mut stdout = child.stdout.take().unwrap();
    let mut line = Vec::new();
    let mut byte = [0u8; 1];
    while line.last() != Some(&b'\n') {
        std::io::Read::read_exact(&mut stdout, &mut byte).unwrap();
        line.push(byte[0]);
    }
    let answer: serde_json::Value = serde_json::from_slice(&line).unwrap();
    assert_eq!(answer["body"], "Jo");
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let start = std::time::Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(
            start.elapsed() < std::time::Duration::from_secs(5),
            "still running"
        );
        std::thread::sleep(std::time::Duration::from_millis(10));
    };
    assert!(status.success(), "{status}");
    drop(input);
}
