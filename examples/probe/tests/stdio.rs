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
