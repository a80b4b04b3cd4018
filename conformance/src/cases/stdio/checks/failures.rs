//! What goes wrong in a call: handler errors and panics, deadlines,
//! bodies that are large, stray output, malformed requests.

use std::time::{Duration, Instant};

use super::{
    EXIT_LIMIT, PAST, answered, binary, body_is, cold_failure, echo, error_body, error_response,
    kept, needs_probe, next_call_served, probe_call, supported, text, with_status,
};
use crate::case::CaseResult;
use crate::level::Level;
use crate::stdio::StdioFormat;
use crate::stdio::call::StdioCall;
use crate::stdio::harness::StdioHarness;
use crate::verdict::Verdict;

fn failing_op(h: &mut StdioHarness, op: &str, message: &str, what: &str) -> CaseResult {
    needs_probe(h)?;
    let s = h.call(&probe_call(op))?;
    if h.format() == StdioFormat::Default {
        return cold_failure(h, &s, Some(message));
    }
    with_status(h, &s, 500).map_err(|v| v.prefixed(&format!("{what}: ")))?;
    let pid = kept(h, &s)?;
    next_call_served(h, pid, what)?;
    error_body(h, &s, message).map_err(|v| v.prefixed(&format!("{what}: ")))
}

/// A handler error is a 500 with a JSON message, and the process goes on
/// (`default`: nothing on stdout, exit 1).
pub(crate) fn error(h: &mut StdioHarness) -> CaseResult {
    failing_op(
        h,
        r#"{"op":"error","message":"conformance-error-8d1f"}"#,
        "conformance-error-8d1f",
        "a handler error",
    )
}

/// A panic is a 500 with a JSON message, and the process goes on
/// (`default`: nothing on stdout, exit 1).
pub(crate) fn panic(h: &mut StdioHarness) -> CaseResult {
    failing_op(
        h,
        r#"{"op":"panic","message":"conformance-panic-5e2a"}"#,
        "conformance-panic-5e2a",
        "a panic",
    )
}

/// A deadline that passed long ago: 504 without running the handler.
pub(crate) fn deadline_past(h: &mut StdioHarness) -> CaseResult {
    needs_probe(h)?;
    let marker = "conformance-handler-ran-3b7c";
    let op = format!(r#"{{"op":"log","stderr":"{marker}"}}"#);
    let s = h.call(
        &probe_call(&op)
            .raw_deadline(PAST)
            .timeout(Duration::from_secs(10)),
    )?;
    let ran = h.case_output().contains(marker);
    if h.format() == StdioFormat::Default {
        cold_failure(h, &s, Some("deadline"))
            .map_err(|v| v.prefixed(&format!("FN_DEADLINE={PAST} (long past): ")))?;
    } else {
        error_response(h, &s, 504, "")
            .map_err(|v| v.prefixed(&format!("deadline {PAST} (long past) must give a 504: ")))?;
    }
    if ran {
        return Err(h.failed(
            "the handler ran although the deadline had passed (SIO-DL-2: the 504 comes without \
             running it)",
            &s,
        ));
    }
    if h.format().is_hot() {
        let pid = kept(h, &s)?;
        next_call_served(h, pid, "a call whose deadline had passed")?;
    }
    Ok(())
}

/// A handler still running at its deadline is dropped and answered 504
/// (`default`: exit 1). The harness waits longer than the server would,
/// to see the FDK's own answer.
pub(crate) fn deadline_running(h: &mut StdioHarness) -> CaseResult {
    needs_probe(h)?;
    let timeout = Duration::from_secs(1);
    let started = Instant::now();
    let s = h.call(
        &probe_call(r#"{"op":"sleep","ms":4000}"#)
            .timeout(timeout)
            .patience(Duration::from_millis(2500)),
    )?;
    let took = started.elapsed();
    let patient = "the harness waited 2.5 s past the 1 s deadline, longer than the server \
                   (which answers 504 and kills the container at the deadline), to see the \
                   FDK's own answer: ";
    if h.format() == StdioFormat::Default {
        cold_failure(h, &s, Some("deadline")).map_err(|v| v.prefixed(patient))?;
    } else {
        error_response(h, &s, 504, "").map_err(|v| v.prefixed(patient))?;
    }
    if took + Duration::from_millis(100) < timeout {
        return Err(h.failed(
            format!(
                "the FDK gave up after {} ms, before the deadline ({} ms)",
                took.as_millis(),
                timeout.as_millis()
            ),
            &s,
        ));
    }
    if h.format().is_hot() {
        let pid = kept(h, &s)?;
        // After the FDK's own 504 the server keeps the process: MUST.
        next_call_served(h, pid, "a 504 for a running handler").map_err(|v| v.at(Level::Must))?;
    }
    Ok(())
}

/// The server's own view of a handler that outlives its deadline: the
/// client gets 504 (the server's, which kills the container, or the FDK's
/// just before), and the next call is served, by a new process if need be.
pub(crate) fn timeout(h: &mut StdioHarness) -> CaseResult {
    needs_probe(h)?;
    let s = h.call(&probe_call(r#"{"op":"sleep","ms":3000}"#).timeout(Duration::from_secs(1)))?;
    supported(&s)?;
    if s.view.status != 504 {
        return Err(h.failed(
            format!(
                "a handler sleeping 3 s with a 1 s deadline: the client must get 504, got {}",
                s.view.status
            ),
            &s,
        ));
    }
    let text = "the call after a timeout";
    let next = h.call(&echo(h, text))?;
    body_is(h, &next, text.as_bytes()).map_err(|v| v.prefixed("after a timeout: "))
}

/// 6 MiB round-trip: binary for `http` and `default`, text for `json` and
/// `cloudevent`.
pub(crate) fn big_body(h: &mut StdioHarness) -> CaseResult {
    needs_probe(h)?;
    const SIZE: usize = 6 << 20;
    let (call, want) = match h.format() {
        StdioFormat::Json | StdioFormat::Cloudevent => {
            let text = text(SIZE);
            (echo(h, &text), text.into_bytes())
        }
        StdioFormat::Http | StdioFormat::Default => {
            let data = binary(SIZE);
            let call = StdioCall::new()
                .probe(r#"{"op":"echo"}"#)
                .header("Content-Type", "application/octet-stream")
                .body(data.clone());
            (call, data)
        }
    };
    let s = h.call(&call)?;
    body_is(h, &s, &want)
}

/// Printing to stdout in a handler does not reach the response stream
/// (SIO-IO-2): it ends up in the logs, and the stream stays in step.
pub(crate) fn stray_output(h: &mut StdioHarness) -> CaseResult {
    needs_probe(h)?;
    let line = "conformance stray line 9c4e";
    let op = format!(r#"{{"op":"log","stdout":"{line}","stderr":"conformance stderr line"}}"#);
    let s = h.call(&probe_call(&op))?;
    body_is(h, &s, b"logged").map_err(|v| {
        v.prefixed(
            "a handler printing a line to stdout must not corrupt the response stream \
             (SIO-IO-2): ",
        )
    })?;
    let logged = h.case_output().contains(line);
    if h.format().is_hot() {
        let pid = kept(h, &s)?;
        next_call_served(h, pid, "a handler printed to stdout")?;
    }
    if !logged {
        // SHOULD: the server is served either way; the line is only lost.
        return Err(h
            .failed(
                format!("the line printed to stdout ({line:?}) is not in the logs (stderr)"),
                &s,
            )
            .at(Level::Should));
    }
    Ok(())
}

/// `json`, `cloudevent`: a line that is not a request gets a 400, and the
/// next request is served. `http`: a 400, then exit 1.
pub(crate) fn malformed(h: &mut StdioHarness) -> CaseResult {
    let garbage: &[u8] = match h.format() {
        StdioFormat::Json => b"this is not json\n",
        StdioFormat::Cloudevent => b"not an event\n",
        StdioFormat::Http => b"this is not http\r\n\r\n",
        StdioFormat::Default => return Err(Verdict::fail("harness error: no stream in default")),
    };
    h.running()?;
    let s = h.send_raw(garbage, "POST", Duration::from_secs(3))?;
    error_response(h, &s, 400, "").map_err(|v| {
        v.prefixed(
            "a request that does not decode must be answered 400 with a JSON message \
             (SIO-ERR-5), within 3 s: ",
        )
    })?;
    if h.format() == StdioFormat::Http {
        return match h.wait_exit(EXIT_LIMIT) {
            Some(status) if status.code() == Some(1) => Ok(()),
            other => Err(h.failed(
                format!(
                    "after answering a malformed head the process must exit with status 1 \
                     (HTTP-REQ-4), got {}",
                    other.map_or("no exit within 3 s".to_owned(), |s| s.to_string())
                ),
                &s,
            )),
        };
    }
    let pid = kept(h, &s)?;
    let text = "the request after a malformed line";
    let next = h.call(&StdioCall::new().text(h.format(), text))?;
    answered(h, &next).map_err(|v| v.prefixed("after a malformed line: "))?;
    if h.pid() != Some(pid) {
        return Err(h.failed(
            "the request after a malformed line was served by a new process",
            &next,
        ));
    }
    Ok(())
}
