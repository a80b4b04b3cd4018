//! The bodies of the stdio cases, shared by the four catalogs: the harness
//! speaks the format, so most checks are the same for all of them.

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;
use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

use crate::case::CaseResult;
use crate::level::Level;
use crate::stdio::StdioFormat;
use crate::stdio::harness::{StdioCall, StdioHarness, USER_AGENT};
use crate::verdict::{Verdict, show_bytes};
use fn_emulator::golang::canonical_key;
use fn_emulator::outcome::Fate;
use fn_emulator::process::FN_ID;
use fn_emulator::stdio::process::{APP_NAME, CONFIG};
use fn_emulator::stdio::read::ClientResponse;
use fn_emulator::stdio::served::{End, Served};

/// A deadline long past (SIO-DL-2's already-passed case).
const PAST: &str = "2000-01-01T00:00:00.000Z";
/// How long a process gets to exit after EOF or SIGTERM.
const EXIT_LIMIT: Duration = Duration::from_secs(3);

// ------------------------------------------------------------ helpers

fn needs_probe(h: &StdioHarness) -> CaseResult {
    if h.has_probe() {
        Ok(())
    } else {
        Err(Verdict::NotApplicable(
            "needs a probe function (protocol-spec/probe.md); run with --probe".into(),
        ))
    }
}

/// Not applicable if the probe said it cannot do what was asked.
fn supported(s: &Served) -> CaseResult {
    match s.unsupported() {
        Some(op) => Err(Verdict::NotApplicable(format!(
            "the probe's FDK cannot express `{op}`"
        ))),
        None => Ok(()),
    }
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
    body_is(h, &s, text.as_bytes()).map_err(|v| prefix(v, &format!("after {after}: ")))?;
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

/// Prefixes a failure's description.
fn prefix(v: Verdict, text: &str) -> Verdict {
    match v {
        Verdict::Fail(mut f) => {
            f.what = format!("{text}{}", f.what);
            Verdict::Fail(f)
        }
        other => other,
    }
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
    if let Some(op) = s.unsupported() {
        return Err(Verdict::NotApplicable(format!(
            "the probe's FDK cannot express `{op}`"
        )));
    }
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

// ------------------------------------------------------------ JSON in order

/// A JSON value whose objects keep their members' order.
#[derive(Debug, Clone)]
enum Ordered {
    Object(Vec<(String, Ordered)>),
    Array(Vec<Ordered>),
    Leaf(Value),
}

impl Ordered {
    fn keys(&self) -> Vec<&str> {
        match self {
            Self::Object(members) => members.iter().map(|(k, _)| k.as_str()).collect(),
            _ => Vec::new(),
        }
    }

    fn get(&self, key: &str) -> Option<&Ordered> {
        match self {
            Self::Object(members) => members.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    fn leaf(&self) -> Option<&Value> {
        match self {
            Self::Leaf(v) => Some(v),
            _ => None,
        }
    }
}

impl<'de> Deserialize<'de> for Ordered {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(OrderedVisitor)
    }
}

struct OrderedVisitor;

impl<'de> Visitor<'de> for OrderedVisitor {
    type Value = Ordered;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Ordered, E> {
        Ok(Ordered::Leaf(Value::Bool(v)))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Ordered, E> {
        Ok(Ordered::Leaf(Value::from(v)))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Ordered, E> {
        Ok(Ordered::Leaf(Value::from(v)))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Ordered, E> {
        Ok(Ordered::Leaf(Value::from(v)))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Ordered, E> {
        Ok(Ordered::Leaf(Value::String(v.to_owned())))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Ordered, E> {
        Ok(Ordered::Leaf(Value::Null))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Ordered, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Ordered::Array(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Ordered, A::Error> {
        let mut members = Vec::new();
        while let Some((k, v)) = map.next_entry::<String, Ordered>()? {
            members.push((k, v));
        }
        Ok(Ordered::Object(members))
    }
}

/// Problems with a `protocol` object of a response (JSON-RESP-1,
/// JSON-RESP-3, CE-RESP-3): `status_code` then `headers`, an integer and
/// an object of string arrays, Go-style names, no `Content-Type`.
fn protocol_problems(protocol: Option<&Ordered>, at: &str, problems: &mut Vec<String>) {
    let Some(protocol) = protocol else {
        problems.push(format!("{at} is missing"));
        return;
    };
    if protocol.keys() != ["status_code", "headers"] {
        problems.push(format!(
            "{at} has the members {:?}, not [\"status_code\", \"headers\"] in that order",
            protocol.keys()
        ));
    }
    match protocol.get("status_code").and_then(Ordered::leaf) {
        Some(v) if v.as_i64().is_some() => {}
        other => problems.push(format!("{at}.status_code is {other:?}, not a JSON integer")),
    }
    match protocol.get("headers") {
        Some(Ordered::Object(headers)) => {
            for (name, values) in headers {
                if name.eq_ignore_ascii_case("content-type") {
                    problems.push(format!(
                        "{at}.headers holds {name} (it goes in the content type member)"
                    ));
                }
                if canonical_key(name) != *name {
                    problems.push(format!(
                        "{at}.headers name {name:?} is not written as Go prints it ({:?})",
                        canonical_key(name)
                    ));
                }
                let strings = match values {
                    Ordered::Array(items) => items
                        .iter()
                        .all(|i| matches!(i, Ordered::Leaf(Value::String(_)))),
                    _ => false,
                };
                if !strings {
                    problems.push(format!("{at}.headers[{name:?}] is not an array of strings"));
                }
            }
        }
        other => problems.push(format!("{at}.headers is {other:?}, not an object")),
    }
}

/// Problems with a JSON-line response's bytes: one compact line, `\n`
/// right after it, nothing before it.
fn line_problems(s: &Served, problems: &mut Vec<String>) {
    if s.stdout.first() != Some(&b'{') {
        problems
            .push("the response does not start at the first byte (something precedes it)".into());
    }
    if s.stdout.contains(&b'\n') {
        problems.push("the response spans several lines (it must be one line)".into());
    }
    if s.trailing != b"\n" {
        problems.push(format!(
            "the response must be followed by exactly one \\n, got {}",
            one_line(&s.trailing, 32)
        ));
    }
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

// ------------------------------------------------------------ cases

/// The process waits for a request: alive 500 ms after start with stdin
/// open, nothing on stdout.
pub(super) fn waits(h: &mut StdioHarness) -> CaseResult {
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
pub(super) fn call(h: &mut StdioHarness) -> CaseResult {
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
pub(super) fn fdk_version(h: &mut StdioHarness) -> CaseResult {
    let s = h.call(&StdioCall::new().text(h.format(), "hello"))?;
    let res = answered(h, &s)?;
    for name in ["Fn-Fdk-Version", "Fn-Fdk-Runtime"] {
        if res.header(name).is_none_or(str::is_empty) {
            return Err(h.failed(format!("the response has no {name} header (SIO-IO-5)"), &s));
        }
    }
    Ok(())
}

/// `json`: JSON-RESP-1 and JSON-RESP-3 on the bytes of a response.
pub(super) fn json_framing(h: &mut StdioHarness) -> CaseResult {
    let s = h.call(&StdioCall::new().text(h.format(), "hello"))?;
    answered(h, &s)?;
    let mut problems = Vec::new();
    line_problems(&s, &mut problems);
    let start = s.stdout.iter().position(|b| *b == b'{').unwrap_or(0);
    match serde_json::from_slice::<Ordered>(&s.stdout[start..]) {
        Ok(v) => {
            if v.keys() != ["body", "content_type", "protocol"] {
                problems.push(format!(
                    "the members are {:?}, not [\"body\", \"content_type\", \"protocol\"] in that order",
                    v.keys()
                ));
            }
            for member in ["body", "content_type"] {
                if !matches!(v.get(member), Some(Ordered::Leaf(Value::String(_)))) {
                    problems.push(format!("{member} is not a string"));
                }
            }
            protocol_problems(v.get("protocol"), "protocol", &mut problems);
        }
        Err(e) => problems.push(format!("the response is not one JSON object: {e}")),
    }
    fail_problems(
        h,
        &s,
        "the response is not framed as JSON-RESP-1 and JSON-RESP-3 ask:",
        &problems,
    )
}

/// `cloudevent`: CE-RESP-1..3 on the bytes of a response.
pub(super) fn cloudevent_framing(h: &mut StdioHarness) -> CaseResult {
    let call = StdioCall::new().text(h.format(), "hello");
    let url = call.request().url.clone();
    let s = h.call(&call)?;
    answered(h, &s)?;
    let mut problems = Vec::new();
    line_problems(&s, &mut problems);
    let start = s.stdout.iter().position(|b| *b == b'{').unwrap_or(0);
    match serde_json::from_slice::<Ordered>(&s.stdout[start..]) {
        Ok(v) => {
            const ORDER: [&str; 10] = [
                "cloudEventsVersion",
                "eventID",
                "source",
                "eventType",
                "eventTypeVersion",
                "eventTime",
                "schemaURL",
                "contentType",
                "extensions",
                "data",
            ];
            if v.keys() != ORDER {
                problems.push(format!(
                    "the members are {:?}, not {ORDER:?} in that order",
                    v.keys()
                ));
            }
            let copied = [
                ("cloudEventsVersion", "0.1"),
                ("eventID", s.call_id.as_str()),
                ("source", url.as_str()),
                ("eventType", "http"),
                ("eventTypeVersion", ""),
                ("eventTime", "0001-01-01T00:00:00Z"),
                ("schemaURL", ""),
            ];
            for (member, want) in copied {
                let got = v.get(member).and_then(Ordered::leaf);
                if got.and_then(Value::as_str) != Some(want) {
                    problems.push(format!(
                        "{member} is {got:?}, not the request's {want:?} (CE-RESP-1: copied verbatim)"
                    ));
                }
            }
            let content_type = v.get("contentType").and_then(Ordered::leaf);
            let content_type = content_type
                .and_then(Value::as_str)
                .unwrap_or("(not a string)");
            if !matches!(content_type, "application/json" | "text/plain") {
                problems.push(format!(
                    "contentType is {content_type:?}, not exactly application/json or text/plain (CE-RESP-2)"
                ));
            }
            match v.get("extensions") {
                Some(ext) if ext.keys() == ["protocol"] => {
                    protocol_problems(ext.get("protocol"), "extensions.protocol", &mut problems);
                }
                other => problems.push(format!(
                    "extensions must hold exactly `protocol` (CE-RESP-3), got {:?}",
                    other.map(Ordered::keys)
                )),
            }
        }
        Err(e) => problems.push(format!("the response is not one JSON object: {e}")),
    }
    fail_problems(
        h,
        &s,
        "the response is not framed as CE-RESP-1..3 ask:",
        &problems,
    )
}

/// `http`: HTTP-RESP-1 on the bytes of a response. A short timeout: a
/// response without a length is read until the deadline.
pub(super) fn http_framing(h: &mut StdioHarness) -> CaseResult {
    let s = h.call(
        &StdioCall::new()
            .text(h.format(), "hello")
            .timeout(Duration::from_secs(2)),
    )?;
    let end = s
        .stdout
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or(s.stdout.len());
    let head = String::from_utf8_lossy(&s.stdout[..end]).into_owned();
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or("");
    let names: Vec<String> = lines
        .filter_map(|l| {
            l.split_once(':')
                .map(|(k, _)| k.trim().to_ascii_lowercase())
        })
        .collect();
    let has = |n: &str| names.iter().any(|k| k == n);
    let mut problems = Vec::new();
    // What the server's reader does not mind: SHOULD.
    let mut minor = Vec::new();
    if !(has("content-length") || has("transfer-encoding")) {
        problems.push(
            "neither Content-Length nor Transfer-Encoding: chunked: the server reads such a \
             body until the end of stdout, which never comes, so the call times out (504) and \
             the container is killed"
                .to_owned(),
        );
    }
    if has("connection") {
        minor.push(
            "a Connection header (only the last response before an exit may have one)".into(),
        );
    }
    if !status_line.starts_with("HTTP/1.1 ") {
        minor.push(format!("the status line {status_line:?} is not HTTP/1.1"));
    }
    if let Some(res) = s.response() {
        let reason = match res.status {
            200 => Some("OK"),
            201 => Some("Created"),
            204 => Some("No Content"),
            400 => Some("Bad Request"),
            404 => Some("Not Found"),
            500 => Some("Internal Server Error"),
            504 => Some("Gateway Timeout"),
            _ => None,
        };
        if let Some(reason) = reason {
            let want = format!("HTTP/1.1 {} {reason}", res.status);
            if status_line != want {
                minor.push(format!(
                    "the status line is {status_line:?}, not {want:?} (the standard reason phrase)"
                ));
            }
        }
    }
    if problems.is_empty() {
        // What the server's reader needs, before the cosmetics.
        answered(h, &s)?;
    }
    fail_problems_minor(
        h,
        &s,
        "the response is not an HTTP/1.1 response framed by length (HTTP-RESP-1):",
        &problems,
        &minor,
    )
}

/// The body reaches the handler unchanged and comes back as the body.
pub(super) fn echo_body(h: &mut StdioHarness) -> CaseResult {
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
pub(super) fn escapes(h: &mut StdioHarness) -> CaseResult {
    needs_probe(h)?;
    let text = "<b>h\u{e9}llo</b> & \"q\" \\ tab\tline\nsep\u{2028}end \u{1F600}\u{1}";
    let s = h.call(&echo(h, text))?;
    body_is(h, &s, text.as_bytes())
}

/// Ten calls in one process, each answered with its own body, in order.
pub(super) fn sequential(h: &mut StdioHarness) -> CaseResult {
    needs_probe(h)?;
    h.running()?;
    let pid = h.pid();
    for i in 1..=10 {
        let text = format!("call {i} of 10");
        let s = h.call(&echo(h, &text))?;
        body_is(h, &s, text.as_bytes()).map_err(|v| prefix(v, &format!("call {i}: ")))?;
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
pub(super) fn metadata(h: &mut StdioHarness) -> CaseResult {
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
pub(super) fn user_status(h: &mut StdioHarness) -> CaseResult {
    needs_probe(h)?;
    let op = r#"{"op":"respond","status":404,"headers":[["X-Custom","a"],["X-Custom","b"]],"body":"no such thing","content_type":"text/plain"}"#;
    let s = h.call(&probe_call(op))?;
    if h.format() == StdioFormat::Default {
        supported(&s)?;
        body_is(h, &s, b"no such thing").map_err(|v| {
            prefix(
                v,
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
pub(super) fn dropped_headers(h: &mut StdioHarness) -> CaseResult {
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

fn failing_op(h: &mut StdioHarness, op: &str, message: &str, what: &str) -> CaseResult {
    needs_probe(h)?;
    let s = h.call(&probe_call(op))?;
    if h.format() == StdioFormat::Default {
        return cold_failure(h, &s, Some(message));
    }
    with_status(h, &s, 500).map_err(|v| prefix(v, &format!("{what}: ")))?;
    let pid = kept(h, &s)?;
    next_call_served(h, pid, what)?;
    error_body(h, &s, message).map_err(|v| prefix(v, &format!("{what}: ")))
}

/// A handler error is a 500 with a JSON message, and the process goes on
/// (`default`: nothing on stdout, exit 1).
pub(super) fn error(h: &mut StdioHarness) -> CaseResult {
    failing_op(
        h,
        r#"{"op":"error","message":"conformance-error-8d1f"}"#,
        "conformance-error-8d1f",
        "a handler error",
    )
}

/// A panic is a 500 with a JSON message, and the process goes on
/// (`default`: nothing on stdout, exit 1).
pub(super) fn panic(h: &mut StdioHarness) -> CaseResult {
    failing_op(
        h,
        r#"{"op":"panic","message":"conformance-panic-5e2a"}"#,
        "conformance-panic-5e2a",
        "a panic",
    )
}

/// A deadline that passed long ago: 504 without running the handler.
pub(super) fn deadline_past(h: &mut StdioHarness) -> CaseResult {
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
            .map_err(|v| prefix(v, &format!("FN_DEADLINE={PAST} (long past): ")))?;
    } else {
        error_response(h, &s, 504, "")
            .map_err(|v| prefix(v, &format!("deadline {PAST} (long past) must give a 504: ")))?;
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
pub(super) fn deadline_running(h: &mut StdioHarness) -> CaseResult {
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
        cold_failure(h, &s, Some("deadline")).map_err(|v| prefix(v, patient))?;
    } else {
        error_response(h, &s, 504, "").map_err(|v| prefix(v, patient))?;
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
pub(super) fn timeout(h: &mut StdioHarness) -> CaseResult {
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
    body_is(h, &next, text.as_bytes()).map_err(|v| prefix(v, "after a timeout: "))
}

/// 6 MiB round-trip: binary for `http` and `default`, text for `json` and
/// `cloudevent`.
pub(super) fn big_body(h: &mut StdioHarness) -> CaseResult {
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
pub(super) fn stray_output(h: &mut StdioHarness) -> CaseResult {
    needs_probe(h)?;
    let line = "conformance stray line 9c4e";
    let op = format!(r#"{{"op":"log","stdout":"{line}","stderr":"conformance stderr line"}}"#);
    let s = h.call(&probe_call(&op))?;
    body_is(h, &s, b"logged").map_err(|v| {
        prefix(
            v,
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
pub(super) fn malformed(h: &mut StdioHarness) -> CaseResult {
    let garbage: &[u8] = match h.format() {
        StdioFormat::Json => b"this is not json\n",
        StdioFormat::Cloudevent => b"not an event\n",
        StdioFormat::Http => b"this is not http\r\n\r\n",
        StdioFormat::Default => return Err(Verdict::fail("harness error: no stream in default")),
    };
    h.running()?;
    let s = h.send_raw(garbage, "POST", Duration::from_secs(3))?;
    error_response(h, &s, 400, "").map_err(|v| {
        prefix(
            v,
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
    answered(h, &next).map_err(|v| prefix(v, "after a malformed line: "))?;
    if h.pid() != Some(pid) {
        return Err(h.failed(
            "the request after a malformed line was served by a new process",
            &next,
        ));
    }
    Ok(())
}

/// EOF at a request boundary ends the process with status 0, promptly.
pub(super) fn eof(h: &mut StdioHarness) -> CaseResult {
    let s = h.call(&StdioCall::new().text(h.format(), "hello"))?;
    answered(h, &s)?;
    h.close_stdin()
        .map_err(|v| prefix(v, "after answering a call, before stdin was closed: "))?;
    let rest = h.unread_output(EXIT_LIMIT);
    match h.wait_exit(Duration::from_millis(200)) {
        Some(status) if status.success() && rest.is_empty() => Ok(()),
        Some(status) if status.success() => Err(h.failed_plain(format!(
            "after stdin closed the process wrote {} to stdout",
            show_bytes(&rest, 128)
        ))),
        other => Err(h.failed_plain(format!(
            "stdin closed between requests: the process must exit with status 0 within 3 s \
             (SIO-LIFE-1), got {}",
            other.map_or("no exit".to_owned(), |s| s.to_string())
        ))),
    }
}

/// EOF inside a request: no response, exit 1.
pub(super) fn eof_inside(h: &mut StdioHarness) -> CaseResult {
    h.restart(&[], &[])?;
    let partial = match h.format() {
        StdioFormat::Http => {
            let (bytes, _) = h.request_bytes(&StdioCall::new().text(h.format(), "0123456789"))?;
            bytes[..bytes.len() - 7].to_vec()
        }
        _ => {
            let (bytes, _) = h.request_bytes(&StdioCall::new().text(h.format(), "hello"))?;
            bytes[..bytes.len() / 2].to_vec()
        }
    };
    h.write_raw(&partial)?;
    h.close_stdin()?;
    let out = h.unread_output(EXIT_LIMIT);
    let status = h.wait_exit(Duration::from_millis(200));
    let shown = format!(
        "wrote {} of a request, then closed stdin: ",
        show_bytes(&partial, 200)
    );
    if !out.is_empty() {
        return Err(h.failed_plain(format!(
            "{shown}the process wrote {} to stdout; no response is owed for a cut request \
             (SIO-LIFE-2)",
            show_bytes(&out, 200)
        )));
    }
    match status {
        Some(s) if s.code() == Some(1) => Ok(()),
        other => Err(h.failed_plain(format!(
            "{shown}the process must exit with status 1 (SIO-LIFE-2), got {}",
            other.map_or("no exit within 3 s".to_owned(), |s| s.to_string())
        ))),
    }
}

/// SIGTERM between calls: exit 0.
pub(super) fn sigterm(h: &mut StdioHarness) -> CaseResult {
    let s = h.call(&StdioCall::new().text(h.format(), "hello"))?;
    answered(h, &s)?;
    h.signal(Signal::SIGTERM)
        .map_err(|v| prefix(v, "after answering a call, before SIGTERM: "))?;
    match h.wait_exit(EXIT_LIMIT) {
        Some(status) if status.success() => Ok(()),
        other => Err(h.failed_plain(format!(
            "SIGTERM with no call in flight: the process must exit with status 0 at once \
             (SIO-LIFE-3), got {}",
            other.map_or("no exit within 3 s".to_owned(), |s| s.to_string())
        ))),
    }
}

/// SIGTERM during a call: the response is delivered, then exit 0.
pub(super) fn sigterm_in_flight(h: &mut StdioHarness) -> CaseResult {
    needs_probe(h)?;
    h.running()?;
    let flight = h.start_call(&probe_call(r#"{"op":"sleep","ms":600}"#))?;
    std::thread::sleep(Duration::from_millis(200));
    let signalled = h.signal(Signal::SIGTERM);
    let s = h.finish_call(flight);
    signalled?;
    body_is(h, &s, b"slept").map_err(|v| {
        prefix(
            v,
            "SIGTERM 200 ms into a 600 ms call: the call in flight must still be answered \
             (SIO-LIFE-3): ",
        )
    })?;
    match h.wait_exit(EXIT_LIMIT) {
        Some(status) if status.success() => Ok(()),
        other => Err(h.failed(
            format!(
                "after answering the call in flight the process must exit with status 0 \
                 (SIO-LIFE-3), got {}",
                other.map_or("no exit within 3 s".to_owned(), |s| s.to_string())
            ),
            &s,
        )),
    }
}

/// `FN_LISTENER` set to a valid socket path changes nothing: the call is
/// served on stdin/stdout and no socket appears.
pub(super) fn listener_ignored(h: &mut StdioHarness) -> CaseResult {
    let dir = h.fresh_dir()?;
    let listener = format!("unix:{}", dir.join("lsnr.sock").display());
    h.set_env("FN_LISTENER", &listener);
    if h.format().is_hot() {
        h.restart(&[], &[])?;
    }
    let s = h.call(&StdioCall::new().text(h.format(), "hello"))?;
    answered(h, &s).map_err(|v| prefix(v, &format!("with FN_LISTENER={listener}: ")))?;
    let made: Vec<String> = std::fs::read_dir(&dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    if !made.is_empty() {
        return Err(h.failed(
            format!(
                "with FN_LISTENER={listener} the function created {made:?} in that directory: \
                 the stdin/stdout formats ignore FN_LISTENER (SIO-ENV-2)"
            ),
            &s,
        ));
    }
    Ok(())
}

/// An `FN_FORMAT` that is none of the known values (this format's name in
/// upper case) is refused: a line on stderr naming it, a non-zero exit.
pub(super) fn unknown_format(h: &mut StdioHarness) -> CaseResult {
    let value = h.format().name().to_ascii_uppercase();
    let mut p = h.spawn_plain(&[("FN_FORMAT", &value)])?;
    let status = p.wait_exit(EXIT_LIMIT);
    let until = Instant::now() + Duration::from_millis(200);
    while p.pull(until) == fn_emulator::stdio::process::Pulled::Bytes {}
    let out = p.consume(p.pending().len());
    drop(p);
    let named = h.case_output().contains(&value);
    match status {
        Some(s) if !s.success() && named && out.is_empty() => Ok(()),
        Some(s) if !s.success() && out.is_empty() => Err(h.failed_plain(format!(
            "FN_FORMAT={value}: exited ({s}) but no stderr line names the value (SIO-ENV-1)"
        ))),
        Some(s) if !s.success() => Err(h.failed_plain(format!(
            "FN_FORMAT={value}: wrote {} to stdout",
            show_bytes(&out, 128)
        ))),
        other => Err(h.failed_plain(format!(
            "FN_FORMAT={value} is not a format (they are exact, lower-case names): the \
             function must exit non-zero, got {} (SIO-ENV-1)",
            other.map_or("still running after 3 s".to_owned(), |s| s.to_string())
        ))),
    }
}

/// `http`: a chunked request body (several chunks) arrives whole.
pub(super) fn chunked(h: &mut StdioHarness) -> CaseResult {
    needs_probe(h)?;
    let data = binary(80 << 10);
    let s = h.call(
        &StdioCall::new()
            .probe(r#"{"op":"echo"}"#)
            .header("Content-Type", "application/octet-stream")
            .body(data.clone())
            .chunked(),
    )?;
    body_is(h, &s, &data)
}

/// `http`: no body bytes after a response to HEAD or a 204, and the
/// stream stays in step.
pub(super) fn no_body(h: &mut StdioHarness) -> CaseResult {
    needs_probe(h)?;
    let url = format!("http://localhost:8080/t/{APP_NAME}/probe");
    let op = r#"{"op":"respond","status":200,"body":"a body HEAD must not carry","content_type":"text/plain"}"#;
    let s = h.call(&StdioCall::new().at("HEAD", &url).probe(op))?;
    with_status(h, &s, 200).map_err(|v| prefix(v, "HEAD: "))?;
    let op = r#"{"op":"respond","status":204,"headers":[["X-Kept","yes"]],"body":"ignored"}"#;
    let s = h.call(&probe_call(op))?;
    let res = with_status(h, &s, 204).map_err(|v| prefix(v, "204: "))?;
    let length = ["Content-Length", "Transfer-Encoding"]
        .into_iter()
        .find(|name| res.header(name).is_some());
    let pid = kept(h, &s)?;
    next_call_served(h, pid, "a 204 and a HEAD")?;
    if let Some(name) = length {
        // SHOULD: Go reads no body after a 204 whatever its headers say.
        return Err(h
            .failed(format!("a 204 response carries {name} (HTTP-RESP-3)"), &s)
            .at(Level::Should));
    }
    Ok(())
}

/// `cloudevent`: a text/plain string `data` reaches the handler unquoted
/// (with every escape decoded), and a text answer goes back as text/plain.
pub(super) fn text_data(h: &mut StdioHarness) -> CaseResult {
    needs_probe(h)?;
    let text = "<b>h\u{e9}llo</b> & \"q\" \\ tab\tline\nsep\u{2028}end \u{1F600}";
    let s = h.call(&echo(h, text))?;
    body_is(h, &s, text.as_bytes())?;
    let content_type = s.response().and_then(|r| r.header("content-type"));
    if content_type != Some("text/plain") {
        return Err(h.failed(
            format!(
                "an application/octet-stream answer must go out as contentType text/plain \
                 (CE-RESP-2), not {content_type:?}"
            ),
            &s,
        ));
    }
    Ok(())
}

/// `cloudevent`: an object `data` reaches the handler as compact JSON, and
/// a JSON answer goes back as `application/json` with `data` the value.
pub(super) fn json_data(h: &mut StdioHarness) -> CaseResult {
    needs_probe(h)?;
    let s = h.call(
        &StdioCall::new()
            .probe(r#"{"op":"echo"}"#)
            .header("Content-Type", "application/json")
            .body(r#"{"name":"Jimmy","list":[1,2]}"#),
    )?;
    // The server re-encoded data as Go does: keys sorted.
    body_is(h, &s, br#"{"list":[1,2],"name":"Jimmy"}"#)
        .map_err(|v| prefix(v, "the handler must see data as compact JSON (CE-REQ-2): "))?;
    let op = r#"{"op":"respond","status":201,"body":"{\"b\":[1,2],\"a\":\"x\"}","content_type":"application/json; charset=utf-8"}"#;
    let s = h.call(&probe_call(op))?;
    let res = with_status(h, &s, 201)?;
    let value: Option<Value> = serde_json::from_slice(&res.body).ok();
    let want: Value = serde_json::json!({"a": "x", "b": [1, 2]});
    let content_type = res.header("content-type");
    if value.as_ref() != Some(&want) || content_type != Some("application/json") {
        return Err(h.failed(
            format!(
                "a JSON answer must go out as contentType application/json with data the JSON \
                 value (CE-RESP-2); the client got Content-Type {content_type:?} and the body \
                 {}",
                show_bytes(&res.body, 128)
            ),
            &s,
        ));
    }
    Ok(())
}

/// `default`: an empty stdin is an empty body; exit 0.
pub(super) fn empty_stdin(h: &mut StdioHarness) -> CaseResult {
    needs_probe(h)?;
    let s = h.call(&StdioCall::new().probe(r#"{"op":"echo"}"#))?;
    body_is(h, &s, b"")
}
