//! The bodies of the stdio cases, shared by the four catalogs: the harness
//! speaks the format, so most checks are the same for all of them. The
//! helpers they share are here; the checks are grouped by what they look at.

mod calls;
mod failures;
mod framing;
mod lifecycle;
mod one_format;

use std::fmt::Write as _;
use std::time::Duration;

use fn_emulator::outcome::Fate;
use fn_emulator::stdio::read::ClientResponse;
use fn_emulator::stdio::served::{End, Served};
use serde_json::Value;

use crate::case::{CaseResult, probe_needed, probe_supports};
use crate::level::Level;
use crate::stdio::call::StdioCall;
use crate::stdio::harness::StdioHarness;
use crate::verdict::{Verdict, show_bytes};

pub(super) use calls::{
    call, dropped_headers, echo_body, escapes, fdk_version, metadata, sequential, user_status,
    waits,
};
pub(super) use failures::{
    big_body, deadline_past, deadline_running, error, malformed, panic, stray_output, timeout,
};
pub(super) use framing::{cloudevent_framing, http_framing, json_framing};
pub(super) use lifecycle::{
    eof, eof_inside, listener_ignored, sigterm, sigterm_in_flight, unknown_format,
};
pub(super) use one_format::{chunked, empty_stdin, json_data, no_body, text_data};

/// A deadline long past (SIO-DL-2's already-passed case).
const PAST: &str = "2000-01-01T00:00:00.000Z";
/// How long a process gets to exit after EOF or SIGTERM.
const EXIT_LIMIT: Duration = Duration::from_secs(3);

fn needs_probe(h: &StdioHarness) -> CaseResult {
    probe_needed(h.has_probe())
}

/// Not applicable if the probe said it cannot do what was asked.
fn supported(s: &Served) -> CaseResult {
    probe_supports(s.unsupported())
}

/// The client's response, if the call ended in one the server kept using
/// the container after: complete, decodable, before the deadline, nothing
/// but white space after it.
fn answered<'a>(h: &StdioHarness, s: &'a Served) -> Result<&'a ClientResponse, Verdict> {
    match &s.end {
        End::Answered {
            response,
            excess: None,
        } if !(100..=599).contains(&response.status) => Err(h.failed(
            format!(
                "the client status {} is not an HTTP status (100-599): a handler's status \
                 passes through unchanged, so it must be a real one (SIO-ERR-1)",
                response.status
            ),
            s,
        )),
        End::Answered {
            response,
            excess: None,
        } => Ok(response),
        End::Answered {
            excess: Some(excess),
            ..
        } => Err(h.failed(
            format!(
                "bytes followed the response within 100 ms ({}): excess data, for which the \
                 server kills the container (SIO-IO-8); only the response may be written",
                one_line(excess, 64)
            ),
            s,
        )),
        _ => Err(h.failed(
            "expected a complete response the server can use; the call ended as shown below",
            s,
        )),
    }
}

/// Bytes shown on one line (line ends escaped).
fn one_line(bytes: &[u8], max: usize) -> String {
    show_bytes(bytes, max).replace('\n', "")
}

/// [`answered`], probe support, and the client status `status`.
fn with_status<'a>(
    h: &StdioHarness,
    s: &'a Served,
    status: i64,
) -> Result<&'a ClientResponse, Verdict> {
    let res = answered(h, s)?;
    supported(s)?;
    if res.status != status {
        return Err(h.failed(
            format!("expected client status {status}, got {}", res.status),
            s,
        ));
    }
    Ok(res)
}

/// A 200 whose body is `want`.
fn body_is(h: &StdioHarness, s: &Served, want: &[u8]) -> CaseResult {
    let res = with_status(h, s, 200)?;
    if res.body != want {
        let at = res
            .body
            .iter()
            .zip(want)
            .position(|(a, b)| a != b)
            .unwrap_or(res.body.len().min(want.len()));
        return Err(h.failed(
            format!(
                "the body differs from what the handler was sent: sent {} bytes, got {} back, \
                 first difference at byte {at}",
                want.len(),
                res.body.len()
            ),
            s,
        ));
    }
    Ok(())
}

/// SIO-ERR-6: status `status`, `Content-Type: application/json`, a JSON
/// object body whose `message` is a string containing `contains`.
fn error_response(h: &StdioHarness, s: &Served, status: i64, contains: &str) -> CaseResult {
    with_status(h, s, status)?;
    error_body(h, s, contains)
}

/// SIO-ERR-6's body of an answered call: `Content-Type: application/json`
/// and a JSON object whose `message` is a string containing `contains`. A
/// failure is SHOULD: the client's status says what happened, the body only
/// explains it.
fn error_body(h: &StdioHarness, s: &Served, contains: &str) -> CaseResult {
    error_body_problem(h, s, contains).map_err(|v| v.at(Level::Should))
}

fn error_body_problem(h: &StdioHarness, s: &Served, contains: &str) -> CaseResult {
    let res = answered(h, s)?;
    let content_type = res.header("content-type").unwrap_or("");
    if !content_type.starts_with("application/json") {
        return Err(h.failed(
            format!(
                "an error response must carry Content-Type: application/json (SIO-ERR-6), not \
                 {content_type:?}"
            ),
            s,
        ));
    }
    let message = serde_json::from_slice::<Value>(&res.body)
        .ok()
        .and_then(|v| v.get("message").and_then(Value::as_str).map(str::to_owned));
    match message {
        Some(m) if m.contains(contains) => Ok(()),
        Some(m) => Err(h.failed(
            format!("the error message {m:?} does not mention {contains:?}"),
            s,
        )),
        None => Err(h.failed(
            "an error body must be a JSON object with a string `message` (SIO-ERR-6)",
            s,
        )),
    }
}

/// The call left the container kept and the process running.
fn kept(h: &mut StdioHarness, s: &Served) -> Result<u32, Verdict> {
    if s.view.fate != Fate::Kept {
        return Err(h.failed(
            "the server would have killed the container after this call",
            s,
        ));
    }
    match h.pid() {
        Some(pid) if h.alive() => Ok(pid),
        _ => Err(h.failed(
            "the process exited after answering; a hot process must go on with the next request",
            s,
        )),
    }
}

/// An echo call of `text` (as text in every format).
fn echo(h: &StdioHarness, text: &str) -> StdioCall {
    StdioCall::new()
        .probe(r#"{"op":"echo"}"#)
        .text(h.format(), text)
}

/// A call asking the probe for `op`, with an empty body.
fn probe_call(op: &str) -> StdioCall {
    StdioCall::new().probe(op)
}

/// The next call, an echo, is served by the same process `pid`.
fn next_call_served(h: &mut StdioHarness, pid: u32, after: &str) -> CaseResult {
    let text = format!("the call after {after}");
    let s = h.call(&echo(h, &text))?;
    body_is(h, &s, text.as_bytes()).map_err(|v| v.prefixed(&format!("after {after}: ")))?;
    if h.pid() != Some(pid) {
        return Err(h.failed(
            format!(
                "after {after} the next call was served by a new process: the first one was \
                 gone, but the process must go on with the next request"
            ),
            &s,
        ));
    }
    Ok(())
}

/// The probe's `report` answer.
fn report(h: &StdioHarness, s: &Served) -> Result<Value, Verdict> {
    let res = with_status(h, s, 200)?;
    serde_json::from_slice(&res.body)
        .map_err(|e| h.failed(format!("the probe's report is not JSON: {e}"), s))
}

/// `default`: the call failed as DEF-RESP-2 asks: nothing on stdout, exit 1,
/// and (if given) `logged` in the log.
fn cold_failure(h: &StdioHarness, s: &Served, logged: Option<&str>) -> CaseResult {
    supported(s)?;
    if s.end != End::ExitCode(1) {
        return Err(h.failed(
            "expected exit status 1 with nothing on stdout (DEF-RESP-2): the server then \
             answers 502 \"container exit code 1\"",
            s,
        ));
    }
    if !s.stdout.is_empty() {
        return Err(h.failed(
            "a failing call must write nothing to stdout (DEF-RESP-2)",
            s,
        ));
    }
    if let Some(text) = logged
        && !h.case_output().contains(text)
    {
        // SHOULD: the server only logs stderr.
        return Err(h
            .failed(
                format!(
                    "the error was not written to stderr: no line mentions {text:?} (SIO-ERR-6)"
                ),
                s,
            )
            .at(Level::Should));
    }
    Ok(())
}

/// `len` bytes of binary data (every byte value, CR, LF and NUL included).
fn binary(len: usize) -> Vec<u8> {
    let mut x: u32 = 0x9E37_79B9;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x.to_le_bytes()[3]
        })
        .collect()
}

/// About `len` bytes of UTF-8 text full of characters JSON escapes.
fn text(len: usize) -> String {
    const LINE: &str = "line of text with \"quotes\", a \\ backslash, <b>tags</b> & \u{e9}t\u{e9} \u{2028} \u{1F600}\t\n";
    let mut out = String::with_capacity(len + LINE.len());
    while out.len() < len {
        out.push_str(LINE);
    }
    out
}

/// Fails with every problem listed: at the case's level if `problems` has
/// one, else at SHOULD if only `minor` ones (what the server does not care
/// about) were found.
fn fail_problems_minor(
    h: &StdioHarness,
    s: &Served,
    what: &str,
    problems: &[String],
    minor: &[String],
) -> CaseResult {
    let all: Vec<String> = problems.iter().chain(minor).cloned().collect();
    let result = fail_problems(h, s, what, &all);
    if problems.is_empty() {
        result.map_err(|v| v.at(Level::Should))
    } else {
        result
    }
}

fn fail_problems(h: &StdioHarness, s: &Served, what: &str, problems: &[String]) -> CaseResult {
    if problems.is_empty() {
        return Ok(());
    }
    let mut text = String::from(what);
    for p in problems {
        let _ = write!(text, "\n  - {p}");
    }
    Err(h.failed(text, s))
}
