//! Calls served as asked: waiting for a request, a call, the FDK headers,
//! bodies, a run of calls, the metadata, the status and the headers.

use std::time::Duration;

use fn_emulator::process::FN_ID;
use fn_emulator::stdio::process::{APP_NAME, CONFIG};
use serde_json::Value;

use super::{
    answered, body_is, echo, fail_problems, fail_problems_minor, kept, needs_probe, probe_call,
    report, supported, with_status,
};
use crate::case::CaseResult;
use crate::level::Level;
use crate::stdio::StdioFormat;
use crate::stdio::call::{StdioCall, USER_AGENT};
use crate::stdio::harness::StdioHarness;
use crate::verdict::show_bytes;

/// The process waits for a request: alive 500 ms after start with stdin
/// open, nothing on stdout.
pub(crate) fn waits(h: &mut StdioHarness) -> CaseResult {
    h.restart(&[], &[])?;
    std::thread::sleep(Duration::from_millis(500));
    if let Some(status) = h.exit_status() {
        return Err(h.failed_plain(format!(
            "the process exited ({status}) within 500 ms, stdin open and no request written: \
             it must wait for requests on stdin (SIO-ENV-1, SIO-IO-1)"
        )));
    }
    let out = h.unread_output(Duration::ZERO);
    if !out.is_empty() {
        return Err(h.failed_plain(format!(
            "the process wrote to stdout before any request: {} (SIO-IO-3: only responses)",
            show_bytes(&out, 256)
        )));
    }
    Ok(())
}

/// Any function: a text call gets one usable 2xx response.
pub(crate) fn call(h: &mut StdioHarness) -> CaseResult {
    let s = h.call(&StdioCall::new().text(h.format(), "hello"))?;
    let res = answered(h, &s)?;
    if !(200..300).contains(&res.status) {
        return Err(h.failed(
            format!(
                "expected a 2xx answer to a plain text call, got {}",
                res.status
            ),
            &s,
        ));
    }
    if h.format().is_hot() {
        kept(h, &s)?;
    }
    Ok(())
}

/// Every response carries `Fn-Fdk-Version` and `Fn-Fdk-Runtime`.
pub(crate) fn fdk_version(h: &mut StdioHarness) -> CaseResult {
    let s = h.call(&StdioCall::new().text(h.format(), "hello"))?;
    let res = answered(h, &s)?;
    for name in ["Fn-Fdk-Version", "Fn-Fdk-Runtime"] {
        if res.header(name).is_none_or(str::is_empty) {
            return Err(h.failed(format!("the response has no {name} header (SIO-IO-5)"), &s));
        }
    }
    Ok(())
}

/// The body reaches the handler unchanged and comes back as the body.
pub(crate) fn echo_body(h: &mut StdioHarness) -> CaseResult {
    needs_probe(h)?;
    let call = match h.format() {
        StdioFormat::Json | StdioFormat::Cloudevent => echo(h, "hello, stdio \u{e9}\u{1F600}"),
        StdioFormat::Http => StdioCall::new()
            .probe(r#"{"op":"echo"}"#)
            .header("Content-Type", "application/octet-stream")
            .body(b"\x00\x01\r\n\xffbinary\r\n\r\n".to_vec()),
        // DEF-REQ-1: the body is stdin until EOF, however it arrives.
        StdioFormat::Default => StdioCall::new()
            .probe(r#"{"op":"echo"}"#)
            .header("Content-Type", "application/octet-stream")
            .body(b"\x00\x01\r\n\xffbinary, in two writes".to_vec())
            .in_pieces(2, Duration::from_millis(200)),
    };
    let body = call.request().body.clone();
    let want = if h.format() == StdioFormat::Cloudevent {
        serde_json::from_slice::<String>(&body)
            .unwrap_or_default()
            .into_bytes()
    } else {
        body
    };
    let s = h.call(&call)?;
    body_is(h, &s, &want)
}

/// `json`: a body with every escape Go writes arrives decoded.
pub(crate) fn escapes(h: &mut StdioHarness) -> CaseResult {
    needs_probe(h)?;
    let text = "<b>h\u{e9}llo</b> & \"q\" \\ tab\tline\nsep\u{2028}end \u{1F600}\u{1}";
    let s = h.call(&echo(h, text))?;
    body_is(h, &s, text.as_bytes())
}

/// Ten calls in one process, each answered with its own body, in order.
pub(crate) fn sequential(h: &mut StdioHarness) -> CaseResult {
    needs_probe(h)?;
    h.running()?;
    let pid = h.pid();
    for i in 1..=10 {
        let text = format!("call {i} of 10");
        let s = h.call(&echo(h, &text))?;
        body_is(h, &s, text.as_bytes()).map_err(|v| v.prefixed(&format!("call {i}: ")))?;
        if h.pid() != pid || !h.alive() {
            let how = match h.exit_status() {
                Some(status) => format!("it exited ({status})"),
                None => "the server killed it".to_owned(),
            };
            return Err(h.failed(
                format!(
                    "after call {i} the process was gone ({how}): one process must serve every \
                     call (SIO-IO-1)"
                ),
                &s,
            ));
        }
    }
    Ok(())
}

/// What the handler sees: call id, deadline, method, URL, headers, the
/// configuration (SIO-IO-4, SIO-ENV-3 and each format's REQ rules).
pub(crate) fn metadata(h: &mut StdioHarness) -> CaseResult {
    needs_probe(h)?;
    let format = h.format();
    let url = format!("http://localhost:8080/t/{APP_NAME}/probe?x=1&y=two%20words");
    let op = r#"{"op":"report","config":["FN_FORMAT","FN_APP_NAME","FN_PATH","FN_MEMORY","FN_TYPE","FN_FN_ID","CONFORMANCE_CONFIG","FN_LISTENER"]}"#;
    let call = StdioCall::new()
        .at("PUT", &url)
        .probe(op)
        .header("X-Multi", "1")
        .header("X-Multi", "2")
        .text(format, "hello");
    let s = h.call(&call)?;
    let r = report(h, &s)?;
    let mut problems = Vec::new();
    let mut expect = |what: &str, got: &Value, want: Value| {
        if *got != want {
            problems.push(format!("{what} is {got}, not {want}"));
        }
    };
    expect("call_id", &r["call_id"], Value::from(s.call_id.as_str()));
    let whole_seconds = s.deadline.get(..19).map(|d| format!("{d}Z"));
    expect(
        "deadline (whole seconds)",
        &r["deadline"],
        whole_seconds.map_or(Value::Null, Value::from),
    );
    expect("method", &r["method"], Value::from("PUT"));
    expect("url", &r["url"], Value::from(url.as_str()));
    expect(
        "content_type",
        &r["content_type"],
        Value::from("text/plain"),
    );
    expect("body_len", &r["body_len"], Value::from(5));
    let config = [
        ("FN_FORMAT", Value::from(format.name())),
        ("FN_APP_NAME", Value::from(APP_NAME)),
        ("FN_PATH", Value::from("/invoke")),
        ("FN_MEMORY", Value::from("128")),
        ("FN_TYPE", Value::from("sync")),
        ("FN_FN_ID", Value::from(FN_ID)),
        (CONFIG.0, Value::from(CONFIG.1)),
        ("FN_LISTENER", Value::Null),
    ];
    for (key, want) in config {
        expect(&format!("config {key}"), &r["config"][key], want);
    }
    let headers: Vec<(String, String)> = r["headers"]
        .as_array()
        .map(|pairs| {
            pairs
                .iter()
                .filter_map(|p| Some((p[0].as_str()?.to_owned(), p[1].as_str()?.to_owned())))
                .collect()
        })
        .unwrap_or_default();
    let values = |name: &str| -> Vec<&str> {
        headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect()
    };
    // `default` gets each header as one variable, values joined by ", ".
    let multi: &[&str] = if format == StdioFormat::Default {
        &["1, 2"]
    } else {
        &["1", "2"]
    };
    for (name, want) in [
        ("x-multi", multi),
        ("x-probe", &[op][..]),
        ("user-agent", &[USER_AGENT][..]),
        ("content-type", &["text/plain"][..]),
    ] {
        if values(name) != want {
            problems.push(format!(
                "header {name} has the values {:?}, not {want:?}",
                values(name)
            ));
        }
    }
    // Framing headers shown to user code: SHOULD (the server sent them).
    let mut minor = Vec::new();
    let mut absent = vec!["content-length", "host", "transfer-encoding"];
    if format == StdioFormat::Http {
        absent.extend(["fn_call_id", "fn_deadline", "fn_method", "fn_request_url"]);
    }
    for name in absent {
        if !values(name).is_empty() {
            minor.push(format!(
                "header {name} is shown to user code: framing{} headers are not",
                if name.starts_with("fn_") {
                    " and Fn_ metadata"
                } else {
                    ""
                }
            ));
        }
    }
    fail_problems_minor(
        h,
        &s,
        "the handler's view of the call differs from what the server sent:",
        &problems,
        &minor,
    )
}

/// A returned status, headers and body pass through (`default`: the body
/// on stdout, exit 0, a warning naming the status).
pub(crate) fn user_status(h: &mut StdioHarness) -> CaseResult {
    needs_probe(h)?;
    let op = r#"{"op":"respond","status":404,"headers":[["X-Custom","a"],["X-Custom","b"]],"body":"no such thing","content_type":"text/plain"}"#;
    let s = h.call(&probe_call(op))?;
    if h.format() == StdioFormat::Default {
        supported(&s)?;
        body_is(h, &s, b"no such thing").map_err(|v| {
            v.prefixed(
                "DEF-RESP-1: a returned response is its body on stdout and exit 0, whatever \
                 its status: ",
            )
        })?;
        if !h.case_output().contains("404") {
            // SHOULD: the server only logs stderr.
            return Err(h
                .failed(
                    "the status 404 was lost without a warning naming it on stderr (DEF-RESP-1)",
                    &s,
                )
                .at(Level::Should));
        }
        return Ok(());
    }
    let res = with_status(h, &s, 404)?;
    let mut problems = Vec::new();
    if res.header_values("X-Custom") != ["a", "b"] {
        problems.push(format!(
            "X-Custom has the values {:?}, not [\"a\", \"b\"]",
            res.header_values("X-Custom")
        ));
    }
    if res.header_values("Content-Type") != ["text/plain"] {
        problems.push(format!(
            "Content-Type is {:?}, not [\"text/plain\"]",
            res.header_values("Content-Type")
        ));
    }
    if res.body != b"no such thing" {
        problems.push(format!("the body is {}", show_bytes(&res.body, 64)));
    }
    fail_problems(
        h,
        &s,
        "the handler's response did not reach the client as returned (SIO-ERR-1):",
        &problems,
    )
}

/// Hop-by-hop headers and a `Content-Length` set by the handler are not
/// sent (SIO-IO-6).
pub(crate) fn dropped_headers(h: &mut StdioHarness) -> CaseResult {
    needs_probe(h)?;
    let op = r#"{"op":"respond","status":200,"headers":[["Connection","close"],["Keep-Alive","timeout=5"],["Upgrade","h2c"],["Content-Length","999"],["X-Kept","yes"]],"body":"ok","content_type":"text/plain"}"#;
    let s = h.call(&probe_call(op))?;
    let res = with_status(h, &s, 200)?;
    let mut problems = Vec::new();
    // What the server's client does not mind: SHOULD.
    let mut minor = Vec::new();
    for name in ["Connection", "Keep-Alive", "Upgrade"] {
        if res.header(name).is_some() {
            minor.push(format!("{name} was sent"));
        }
    }
    let lengths = res.header_values("Content-Length");
    let fine = match h.format() {
        StdioFormat::Http => lengths.iter().all(|l| l.trim() == "2"),
        _ => lengths.is_empty(),
    };
    if !fine {
        problems.push(format!(
            "the handler's Content-Length reached the client: {lengths:?}"
        ));
    }
    if res.header("X-Kept") != Some("yes") {
        problems.push("X-Kept: yes, an ordinary header, was lost".into());
    }
    if res.body != b"ok" {
        problems.push(format!("the body is {}", show_bytes(&res.body, 64)));
    }
    fail_problems_minor(
        h,
        &s,
        "headers the FDK must drop (SIO-IO-6) were sent:",
        &problems,
        &minor,
    )
}
