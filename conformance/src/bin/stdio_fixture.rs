//! `stdio_fixture [mode]`: a tiny hand-written function for the four
//! stdin/stdout formats (`FN_FORMAT=json|http|default|cloudevent`), with
//! one deliberate defect per mode, to prove that the stdio cases catch what
//! they claim to catch (`tests/stdio_selftest.rs`).
//!
//! It speaks the probe protocol (`protocol-spec/probe.md`: `echo`,
//! `report`, `respond`, `sleep`, `error`, `panic`, `nothing`, `emit`,
//! `log`, `exit`; `stream` is answered as unsupported) and does what a
//! correct FDK does (`protocol-spec/stdio.md`):
//!
//! * requests are read one line at a time (`json`, `cloudevent`) or as
//!   HTTP/1.1 requests (`Content-Length` or chunked); a line that is not a
//!   request gets a 400 and the next line is read; a head that is not
//!   HTTP gets a 400 and exit 1; EOF between requests is exit 0, inside
//!   one exit 1;
//! * every response is buffered and written whole to stdout; `log`'s
//!   stdout line goes to stderr, as an FDK that moved fd 1 to stderr would
//!   have it (std cannot `dup2` without `unsafe`); errors are `{"message": …}` with 500 (handler error or panic),
//!   504 (deadline), 400 (malformed), and a line on stderr;
//! * a deadline already passed gives the 504 without running the op, and
//!   `sleep` stops at the deadline with a 504;
//! * `default`: the body is stdin to EOF, the metadata `FN_*`, the answer
//!   the body on stdout and exit 0, a failure nothing on stdout and exit 1;
//! * SIGTERM or SIGINT: exit 0 at once, or after the call in flight;
//! * an unknown `FN_FORMAT`: a line on stderr naming it, exit 2.
//!
//! | mode | defect | caught by |
//! |---|---|---|
//! | `good` | none | nothing: every case it can express passes |
//! | `status-200` | `json`/`cloudevent`: the status is always 200 | `json.user-status` |
//! | `excess` | writes `EXTRA` after every response | `json.call` |
//! | `stray-stdout` | a handler's print to stdout lands in the response stream | `json.stray-output` |
//! | `exit-after-first` | exits 0 after its first response | `json.sequential` |
//! | `http-no-length` | `http`: responses without `Content-Length` | `http.framing` |
//! | `ignore-deadline` | never looks at the deadline | `json.deadline-past` |
//! | `malformed-silent` | a line that is not a request gets no answer | `json.malformed` |
//! | `default-exit-0` | `default`: a failure writes its message to stdout and exits 0 | `default.exit-status` |
//! | `http-204-body` | `http`: writes the body of a 204 or a HEAD response anyway | `http.no-body` |
//! | `no-sigterm` | leaves SIGTERM to its default action (killed by it) | `json.sigterm` |

use std::io::{self, BufRead, BufReader, Read, Stdout, Write};
use std::process::ExitCode;
use std::sync::Mutex;
use std::thread;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use nix::sys::signal::{SigSet, Signal};
use nix::sys::signalfd::SignalFd;
use serde_json::{Map, Value, json};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Good,
    Status200,
    Excess,
    StrayStdout,
    ExitAfterFirst,
    HttpNoLength,
    IgnoreDeadline,
    MalformedSilent,
    DefaultExit0,
    Http204Body,
    NoSigterm,
}

impl Mode {
    fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "good" => Self::Good,
            "status-200" => Self::Status200,
            "excess" => Self::Excess,
            "stray-stdout" => Self::StrayStdout,
            "exit-after-first" => Self::ExitAfterFirst,
            "http-no-length" => Self::HttpNoLength,
            "ignore-deadline" => Self::IgnoreDeadline,
            "malformed-silent" => Self::MalformedSilent,
            "default-exit-0" => Self::DefaultExit0,
            "http-204-body" => Self::Http204Body,
            "no-sigterm" => Self::NoSigterm,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Json,
    Http,
    Default,
    Cloudevent,
}

// ------------------------------------------------------------ lifecycle

/// A call is in flight; a SIGTERM arrived.
#[derive(Debug, Default)]
struct Life {
    busy: bool,
    term: bool,
}

static LIFE: Mutex<Life> = Mutex::new(Life {
    busy: false,
    term: false,
});

fn life() -> std::sync::MutexGuard<'static, Life> {
    LIFE.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// SIGTERM and SIGINT through a signalfd: exit 0 now, or after the call.
fn handle_signals() -> io::Result<()> {
    let mut set = SigSet::empty();
    set.add(Signal::SIGTERM);
    set.add(Signal::SIGINT);
    set.thread_block().map_err(io::Error::from)?;
    let fd = SignalFd::new(&set).map_err(io::Error::from)?;
    thread::Builder::new().spawn(move || {
        if let Ok(Some(_)) = fd.read_signal() {
            let mut life = life();
            life.term = true;
            if !life.busy {
                std::process::exit(0);
            }
        }
    })?;
    Ok(())
}

fn begin_call() {
    let mut life = life();
    if life.term {
        std::process::exit(0);
    }
    life.busy = true;
}

fn end_call() {
    let mut life = life();
    life.busy = false;
    if life.term {
        std::process::exit(0);
    }
}

// ------------------------------------------------------------ calls

#[derive(Debug, Default)]
struct Request {
    call_id: String,
    deadline: Option<SystemTime>,
    method: String,
    url: String,
    headers: Vec<(String, String)>,
    content_type: Option<String>,
    body: Vec<u8>,
}

impl Request {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Adds a header a handler may see (framing headers are not).
    fn add_header(&mut self, name: &str, value: &str) {
        let lower = name.to_ascii_lowercase();
        if matches!(
            lower.as_str(),
            "host" | "content-length" | "transfer-encoding"
        ) {
            return;
        }
        if lower == "content-type" {
            self.content_type = Some(value.to_owned());
        }
        self.headers.push((name.to_owned(), value.to_owned()));
    }
}

#[derive(Debug)]
struct Response {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Response {
    fn new(status: u16, content_type: &str, body: impl Into<Vec<u8>>) -> Self {
        Self {
            status,
            headers: vec![("Content-Type".into(), content_type.into())],
            body: body.into(),
        }
    }

    fn error(status: u16, message: &str) -> Self {
        Self::new(
            status,
            "application/json",
            json!({ "message": message }).to_string(),
        )
    }

    fn content_type(&self) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("content-type"))
            .map(|(_, v)| v.as_str())
    }

    /// The headers that go out: no hop-by-hop headers, no length of the
    /// handler's, plus the fixture's identification.
    fn out_headers(&self) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = self
            .headers
            .iter()
            .filter(|(k, _)| {
                !matches!(
                    k.to_ascii_lowercase().as_str(),
                    "connection"
                        | "keep-alive"
                        | "proxy-authenticate"
                        | "proxy-authorization"
                        | "te"
                        | "trailer"
                        | "trailers"
                        | "transfer-encoding"
                        | "upgrade"
                        | "content-length"
                )
            })
            .cloned()
            .collect();
        out.push(("Fn-Fdk-Version".into(), "fixture/0".into()));
        out.push(("Fn-Fdk-Runtime".into(), "rust/std".into()));
        out
    }
}

/// How a call ended.
#[derive(Debug)]
enum Outcome {
    /// The handler returned a response.
    Ok(Response),
    /// It failed: an error response with this status and message.
    Failed(u16, String),
}

fn deadline_passed(req: &Request, mode: Mode) -> bool {
    mode != Mode::IgnoreDeadline && req.deadline.is_some_and(|d| SystemTime::now() >= d)
}

/// Does what the call's `X-Probe` asks.
fn handle(req: &Request, mode: Mode) -> Outcome {
    if deadline_passed(req, mode) {
        return Outcome::Failed(504, "the deadline had passed when the call arrived".into());
    }
    let op: Value = match req.header("x-probe") {
        None => json!({"op": "echo"}),
        Some(text) => match serde_json::from_str(text) {
            Ok(v) => v,
            Err(e) => return Outcome::Failed(500, format!("X-Probe {text:?}: {e}")),
        },
    };
    let str_field = |k: &str| op.get(k).and_then(Value::as_str).unwrap_or("").to_owned();
    match op.get("op").and_then(Value::as_str).unwrap_or("") {
        "echo" => Outcome::Ok(Response::new(
            200,
            "application/octet-stream",
            req.body.clone(),
        )),
        "report" => Outcome::Ok(Response::new(200, "application/json", report(req, &op))),
        "respond" => {
            let status = op
                .get("status")
                .and_then(Value::as_u64)
                .and_then(|s| u16::try_from(s).ok())
                .unwrap_or(200);
            let mut headers: Vec<(String, String)> = op
                .get("headers")
                .and_then(Value::as_array)
                .map(|pairs| {
                    pairs
                        .iter()
                        .filter_map(|p| {
                            Some((p[0].as_str()?.to_owned(), p[1].as_str()?.to_owned()))
                        })
                        .collect()
                })
                .unwrap_or_default();
            if let Some(ct) = op.get("content_type").and_then(Value::as_str) {
                headers.retain(|(k, _)| !k.eq_ignore_ascii_case("content-type"));
                headers.push(("Content-Type".into(), ct.to_owned()));
            }
            Outcome::Ok(Response {
                status,
                headers,
                body: str_field("body").into_bytes(),
            })
        }
        "sleep" => {
            let ms = op.get("ms").and_then(Value::as_u64).unwrap_or(0);
            let wake = SystemTime::now() + Duration::from_millis(ms);
            match req
                .deadline
                .filter(|d| mode != Mode::IgnoreDeadline && *d < wake)
            {
                Some(deadline) => {
                    let left = deadline
                        .duration_since(SystemTime::now())
                        .unwrap_or(Duration::ZERO);
                    thread::sleep(left);
                    Outcome::Failed(504, "the deadline passed while the handler ran".into())
                }
                None => {
                    thread::sleep(Duration::from_millis(ms));
                    Outcome::Ok(Response::new(200, "text/plain", "slept"))
                }
            }
        }
        "error" => Outcome::Failed(500, str_field("message")),
        "panic" => Outcome::Failed(500, format!("handler panicked: {}", str_field("message"))),
        "nothing" => Outcome::Ok(Response {
            status: 200,
            headers: Vec::new(),
            body: Vec::new(),
        }),
        "emit" => {
            let n = op.get("bytes").and_then(Value::as_u64).unwrap_or(0);
            let body: Vec<u8> = (0..n).map(|i| (i % 251) as u8).collect();
            Outcome::Ok(Response::new(200, "application/octet-stream", body))
        }
        "log" => {
            if let Some(line) = op.get("stdout").and_then(Value::as_str) {
                // What an FDK that owns stdout makes of a handler's print:
                // a log line. `stray-stdout` lets it into the stream.
                if mode == Mode::StrayStdout {
                    let mut out = io::stdout();
                    let _ = writeln!(out, "{line}").and_then(|()| out.flush());
                } else {
                    eprintln!("{line}");
                }
            }
            if let Some(line) = op.get("stderr").and_then(Value::as_str) {
                eprintln!("{line}");
            }
            Outcome::Ok(Response::new(200, "text/plain", "logged"))
        }
        "exit" => {
            let code = op.get("code").and_then(Value::as_i64).unwrap_or(0);
            std::process::exit(i32::try_from(code).unwrap_or(1));
        }
        other => Outcome::Ok(Response::new(
            200,
            "application/json",
            json!({ "probe_unsupported": other }).to_string(),
        )),
    }
}

fn report(req: &Request, op: &Value) -> String {
    let mut config = Map::new();
    if let Some(keys) = op.get("config").and_then(Value::as_array) {
        for key in keys.iter().filter_map(Value::as_str) {
            config.insert(
                key.to_owned(),
                std::env::var(key).map_or(Value::Null, Value::from),
            );
        }
    }
    let headers: Vec<Value> = req
        .headers
        .iter()
        .map(|(k, v)| json!([k.to_ascii_lowercase(), v]))
        .collect();
    json!({
        "call_id": Some(&req.call_id).filter(|id| !id.is_empty()),
        "deadline": req.deadline.map(whole_seconds),
        "gateway": true,
        "method": req.method,
        "url": req.url,
        "content_type": req.content_type,
        "headers": headers,
        "config": config,
        "body_len": req.body.len(),
        "body_sha256": "",
    })
    .to_string()
}

/// Runs a call, turning a failure into its error response (and a log
/// line).
fn serve(req: &Request, mode: Mode) -> Response {
    match handle(req, mode) {
        Outcome::Ok(res) => res,
        Outcome::Failed(status, message) => {
            eprintln!("stdio_fixture: call {:?}: {status} {message}", req.call_id);
            Response::error(status, &message)
        }
    }
}

// ------------------------------------------------------------ time

fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// `YYYY-MM-DDTHH:MM:SS[.frac](Z|±hh:mm)`; anything else is no deadline.
fn parse_deadline(text: &str) -> Option<SystemTime> {
    let b = text.as_bytes();
    let num = |from: usize, len: usize| -> Option<i64> {
        std::str::from_utf8(b.get(from..from + len)?)
            .ok()?
            .parse()
            .ok()
    };
    let (y, mo, d, h, mi, s) = (
        num(0, 4)?,
        num(5, 2)?,
        num(8, 2)?,
        num(11, 2)?,
        num(14, 2)?,
        num(17, 2)?,
    );
    let mut at = 19;
    let mut nanos = 0u32;
    if b.get(at) == Some(&b'.') {
        at += 1;
        let start = at;
        while b.get(at).is_some_and(u8::is_ascii_digit) {
            at += 1;
        }
        let frac = format!("{:0<9}", std::str::from_utf8(&b[start..at]).ok()?);
        nanos = frac.get(..9)?.parse().ok()?;
    }
    let offset = match b.get(at)? {
        b'Z' | b'z' => 0,
        sign @ (b'+' | b'-') => {
            let minutes = num(at + 1, 2)? * 60 + num(at + 4, 2)?;
            if *sign == b'+' {
                minutes * 60
            } else {
                -minutes * 60
            }
        }
        _ => return None,
    };
    let secs = days_from_civil(y, mo, d) * 86_400 + h * 3600 + mi * 60 + s - offset;
    let secs = u64::try_from(secs).ok()?;
    Some(UNIX_EPOCH + Duration::new(secs, nanos))
}

fn whole_seconds(t: SystemTime) -> String {
    let secs = t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let days = i64::try_from(secs / 86_400).unwrap_or(0);
    let rem = secs % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

// ------------------------------------------------------------ JSON lines

/// Go's header name form (`x-custom` → `X-Custom`).
fn canonical(name: &str) -> String {
    let mut upper = true;
    name.chars()
        .map(|c| {
            let out = if upper {
                c.to_ascii_uppercase()
            } else {
                c.to_ascii_lowercase()
            };
            upper = c == '-';
            out
        })
        .collect()
}

/// `{"Name":["v1","v2"],…}` without `Content-Type`, names as Go prints them.
fn headers_json(headers: &[(String, String)]) -> Value {
    let mut map = Map::new();
    for (k, v) in headers {
        if k.eq_ignore_ascii_case("content-type") {
            continue;
        }
        let entry = map
            .entry(canonical(k))
            .or_insert_with(|| Value::Array(Vec::new()));
        if let Value::Array(values) = entry {
            values.push(Value::from(v.as_str()));
        }
    }
    Value::Object(map)
}

fn status_out(res: &Response, mode: Mode) -> u16 {
    if mode == Mode::Status200 {
        200
    } else {
        res.status
    }
}

fn json_line(res: &Response, mode: Mode) -> Vec<u8> {
    let protocol = format!(
        "{{\"status_code\":{},\"headers\":{}}}",
        status_out(res, mode),
        headers_json(&res.out_headers())
    );
    format!(
        "{{\"body\":{},\"content_type\":{},\"protocol\":{protocol}}}\n",
        Value::from(String::from_utf8_lossy(&res.body).into_owned()),
        Value::from(res.content_type().unwrap_or("")),
    )
    .into_bytes()
}

/// The first seven members of a request event, copied into its response.
const COPIED: [&str; 7] = [
    "cloudEventsVersion",
    "eventID",
    "source",
    "eventType",
    "eventTypeVersion",
    "eventTime",
    "schemaURL",
];

fn event_line(event: &Map<String, Value>, res: &Response, mode: Mode) -> Vec<u8> {
    let mut out = String::from("{");
    for member in COPIED {
        let zero = if member == "eventTime" {
            "0001-01-01T00:00:00Z"
        } else {
            ""
        };
        let value = event.get(member).and_then(Value::as_str).unwrap_or(zero);
        out.push_str(&format!("{}:{},", Value::from(member), Value::from(value)));
    }
    let json_type = res.content_type().is_some_and(|ct| {
        let media = ct
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        media == "application/json" || media.ends_with("+json")
    });
    let data = json_type
        .then(|| serde_json::from_slice::<Value>(&res.body).ok())
        .flatten();
    let (content_type, data) = match data {
        Some(v) => ("application/json", v),
        None => (
            "text/plain",
            Value::from(String::from_utf8_lossy(&res.body).into_owned()),
        ),
    };
    out.push_str(&format!(
        "\"contentType\":\"{content_type}\",\"extensions\":{{\"protocol\":{{\"status_code\":{},\"headers\":{}}}}},\"data\":{data}}}\n",
        status_out(res, mode),
        headers_json(&res.out_headers())
    ));
    out.into_bytes()
}

fn json_request(v: &Value) -> Option<Request> {
    let obj = v.as_object()?;
    let s = |k: &str| obj.get(k).and_then(Value::as_str).unwrap_or("").to_owned();
    let mut req = Request {
        call_id: s("call_id"),
        deadline: parse_deadline(&s("deadline")),
        body: s("body").into_bytes(),
        ..Request::default()
    };
    protocol_into(obj.get("protocol"), &mut req);
    if req.content_type.is_none() && !s("content_type").is_empty() {
        req.content_type = Some(s("content_type"));
    }
    Some(req)
}

/// `protocol`: method, URL and headers.
fn protocol_into(protocol: Option<&Value>, req: &mut Request) {
    let get = |k: &str| {
        protocol
            .and_then(|p| p.get(k))
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned()
    };
    req.method = Some(get("method"))
        .filter(|m| !m.is_empty())
        .unwrap_or_else(|| "POST".into());
    req.url = Some(get("request_url"))
        .filter(|u| !u.is_empty())
        .unwrap_or_else(|| "/".into());
    if let Some(headers) = protocol
        .and_then(|p| p.get("headers"))
        .and_then(Value::as_object)
    {
        for (name, values) in headers {
            for value in values
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
            {
                req.add_header(name, value);
            }
        }
    }
}

fn event_request(event: &Map<String, Value>) -> Request {
    let ext = event.get("extensions");
    let mut req = Request {
        call_id: event
            .get("eventID")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned(),
        deadline: ext
            .and_then(|e| e.get("deadline"))
            .and_then(Value::as_str)
            .and_then(parse_deadline),
        ..Request::default()
    };
    protocol_into(ext.and_then(|e| e.get("protocol")), &mut req);
    let content_type = event
        .get("contentType")
        .and_then(Value::as_str)
        .unwrap_or("");
    if !content_type.is_empty() {
        req.headers
            .retain(|(k, _)| !k.eq_ignore_ascii_case("content-type"));
        req.add_header("Content-Type", content_type);
    }
    let json_type = {
        let media = content_type
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        media == "application/json" || media.ends_with("+json")
    };
    req.body = match event.get("data") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::String(s)) if !json_type => s.clone().into_bytes(),
        Some(other) => other.to_string().into_bytes(),
    };
    req
}

/// `json` and `cloudevent`: one request per line.
fn serve_lines(out: &mut Stdout, mode: Mode, cloudevent: bool) -> ExitCode {
    let mut input = BufReader::new(io::stdin().lock());
    let mut line = Vec::new();
    loop {
        line.clear();
        match input.read_until(b'\n', &mut line) {
            Ok(0) => return ExitCode::SUCCESS,
            Ok(_) => {}
            Err(e) => {
                eprintln!("stdio_fixture: reading stdin: {e}");
                return ExitCode::FAILURE;
            }
        }
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        if !line.ends_with(b"\n") {
            eprintln!("stdio_fixture: stdin ended inside a request");
            return ExitCode::FAILURE;
        }
        begin_call();
        let parsed: Option<Value> = serde_json::from_slice(&line).ok().filter(Value::is_object);
        let answer = match parsed {
            None if mode == Mode::MalformedSilent => None,
            None => {
                eprintln!("stdio_fixture: a line that is not a request");
                let res = Response::error(400, "the line is not a JSON object");
                Some(if cloudevent {
                    event_line(&Map::new(), &res, mode)
                } else {
                    json_line(&res, mode)
                })
            }
            Some(v) if cloudevent => {
                let event = v.as_object().cloned().unwrap_or_default();
                let res = serve(&event_request(&event), mode);
                Some(event_line(&event, &res, mode))
            }
            Some(v) => {
                let req = json_request(&v).unwrap_or_default();
                Some(json_line(&serve(&req, mode), mode))
            }
        };
        if let Some(bytes) = answer
            && let Err(e) = write_response(out, &bytes, mode, b"EXTRA\n")
        {
            eprintln!("stdio_fixture: writing stdout: {e}");
            return ExitCode::FAILURE;
        }
        end_call();
    }
}

fn write_response(out: &mut Stdout, bytes: &[u8], mode: Mode, excess: &[u8]) -> io::Result<()> {
    out.write_all(bytes)?;
    if mode == Mode::Excess {
        out.write_all(excess)?;
    }
    out.flush()?;
    if mode == Mode::ExitAfterFirst {
        std::process::exit(0);
    }
    Ok(())
}

// ------------------------------------------------------------ http

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        204 => "No Content",
        400 => "Bad Request",
        404 => "Not Found",
        500 => "Internal Server Error",
        504 => "Gateway Timeout",
        _ => "Status",
    }
}

fn http_response(res: &Response, head_request: bool, mode: Mode, close: bool) -> Vec<u8> {
    let no_body = head_request || res.status == 204 || res.status == 304 || res.status < 200;
    let mut out = format!("HTTP/1.1 {} {}\r\n", res.status, reason(res.status));
    for (k, v) in res.out_headers() {
        out.push_str(&format!("{k}: {v}\r\n"));
    }
    let lengthless = res.status == 204 || res.status < 200;
    if mode != Mode::HttpNoLength && !lengthless {
        out.push_str(&format!("Content-Length: {}\r\n", res.body.len()));
    }
    if close {
        out.push_str("Connection: close\r\n");
    }
    out.push_str("\r\n");
    let mut bytes = out.into_bytes();
    if !no_body || mode == Mode::Http204Body {
        bytes.extend_from_slice(&res.body);
    }
    bytes
}

/// What reading one HTTP request gave.
enum Read1 {
    Request(Request, bool),
    Eof,
    Cut,
    Malformed(String),
}

/// One line of a request head.
enum Line {
    /// A whole line, without its line end.
    Full(String),
    /// Input ended part-way through the line.
    Cut,
    /// Input ended before the line.
    Eof,
}

fn read_line(input: &mut impl BufRead) -> io::Result<Line> {
    let mut line = Vec::new();
    input.read_until(b'\n', &mut line)?;
    if line.is_empty() {
        return Ok(Line::Eof);
    }
    if !line.ends_with(b"\n") {
        return Ok(Line::Cut);
    }
    let text = String::from_utf8_lossy(&line);
    Ok(Line::Full(text.trim_end_matches(['\r', '\n']).to_owned()))
}

/// A whole line, or the reason there is none inside a request.
fn need_line(input: &mut impl BufRead) -> io::Result<Option<String>> {
    Ok(match read_line(input)? {
        Line::Full(line) => Some(line),
        Line::Cut | Line::Eof => None,
    })
}

fn read_http(input: &mut impl BufRead) -> io::Result<Read1> {
    let first = match read_line(input)? {
        Line::Eof => return Ok(Read1::Eof),
        Line::Cut => return Ok(Read1::Cut),
        Line::Full(line) => line,
    };
    let parts: Vec<&str> = first.split(' ').collect();
    let [method, target, version] = parts[..] else {
        return Ok(Read1::Malformed(format!("bad request line {first:?}")));
    };
    if !version.starts_with("HTTP/1.") || method.is_empty() || target.is_empty() {
        return Ok(Read1::Malformed(format!("bad request line {first:?}")));
    }
    let mut req = Request {
        method: method.to_owned(),
        url: target.to_owned(),
        ..Request::default()
    };
    let (mut length, mut chunked) = (0usize, false);
    loop {
        let Some(line) = need_line(input)? else {
            return Ok(Read1::Cut);
        };
        if line.is_empty() {
            break;
        }
        let Some((name, value)) = line.split_once(':') else {
            return Ok(Read1::Malformed(format!("bad header line {line:?}")));
        };
        let value = value.trim();
        match name.to_ascii_lowercase().as_str() {
            "content-length" => match value.parse() {
                Ok(n) => length = n,
                Err(_) => return Ok(Read1::Malformed(format!("bad Content-Length {value:?}"))),
            },
            "transfer-encoding" => chunked = value.eq_ignore_ascii_case("chunked"),
            "fn_call_id" => req.call_id = value.to_owned(),
            "fn_deadline" => req.deadline = parse_deadline(value),
            "fn_method" => req.method = value.to_owned(),
            "fn_request_url" => req.url = value.to_owned(),
            _ => req.add_header(name, value),
        }
    }
    if chunked {
        loop {
            let Some(size) = need_line(input)? else {
                return Ok(Read1::Cut);
            };
            let size = size.split(';').next().unwrap_or("").trim();
            let Ok(n) = usize::from_str_radix(size, 16) else {
                return Ok(Read1::Malformed(format!("bad chunk size {size:?}")));
            };
            if n == 0 {
                // The trailer, to its blank line.
                loop {
                    match need_line(input)? {
                        Some(l) if l.is_empty() => break,
                        Some(_) => {}
                        None => return Ok(Read1::Cut),
                    }
                }
                break;
            }
            let mut chunk = vec![0; n + 2];
            if input.read_exact(&mut chunk).is_err() {
                return Ok(Read1::Cut);
            }
            req.body.extend_from_slice(&chunk[..n]);
        }
    } else {
        req.body = vec![0; length];
        if input.read_exact(&mut req.body).is_err() {
            return Ok(Read1::Cut);
        }
    }
    let head = method == "HEAD";
    Ok(Read1::Request(req, head))
}

fn serve_http(out: &mut Stdout, mode: Mode) -> ExitCode {
    let mut input = BufReader::new(io::stdin().lock());
    loop {
        let read = match read_http(&mut input) {
            Ok(read) => read,
            Err(e) => {
                eprintln!("stdio_fixture: reading stdin: {e}");
                return ExitCode::FAILURE;
            }
        };
        match read {
            Read1::Eof => return ExitCode::SUCCESS,
            Read1::Cut => {
                eprintln!("stdio_fixture: stdin ended inside a request");
                return ExitCode::FAILURE;
            }
            Read1::Malformed(why) => {
                eprintln!("stdio_fixture: malformed request: {why}");
                if mode != Mode::MalformedSilent {
                    let res = Response::error(400, &why);
                    let _ = out.write_all(&http_response(&res, false, mode, true));
                }
                return ExitCode::FAILURE;
            }
            Read1::Request(req, head) => {
                begin_call();
                let res = serve(&req, mode);
                if let Err(e) =
                    write_response(out, &http_response(&res, head, mode, false), mode, b"EXTRA")
                {
                    eprintln!("stdio_fixture: writing stdout: {e}");
                    return ExitCode::FAILURE;
                }
                end_call();
            }
        }
    }
}

// ------------------------------------------------------------ default

fn serve_default(out: &mut Stdout, mode: Mode) -> ExitCode {
    let env = |k: &str| std::env::var(k).unwrap_or_default();
    let mut req = Request {
        call_id: env("FN_CALL_ID"),
        deadline: parse_deadline(&env("FN_DEADLINE")),
        method: Some(env("FN_METHOD"))
            .filter(|m| !m.is_empty())
            .unwrap_or_else(|| "POST".into()),
        url: Some(env("FN_REQUEST_URL"))
            .filter(|u| !u.is_empty())
            .unwrap_or_else(|| "/".into()),
        ..Request::default()
    };
    let mut vars: Vec<(String, String)> = std::env::vars()
        .filter_map(|(k, v)| Some((k.strip_prefix("FN_HEADER_")?.to_owned(), v)))
        .collect();
    vars.sort();
    for (name, value) in vars {
        req.add_header(&name, &value);
    }
    if let Err(e) = io::stdin().lock().read_to_end(&mut req.body) {
        eprintln!("stdio_fixture: reading stdin: {e}");
        return ExitCode::FAILURE;
    }
    match handle(&req, mode) {
        Outcome::Ok(res) => {
            if !(200..300).contains(&res.status) {
                eprintln!(
                    "stdio_fixture: status {} cannot be carried by the default format",
                    res.status
                );
            }
            if out.write_all(&res.body).and_then(|()| out.flush()).is_err() {
                return ExitCode::FAILURE;
            }
            ExitCode::SUCCESS
        }
        Outcome::Failed(status, message) => {
            if mode == Mode::DefaultExit0 {
                let _ = out.write_all(message.as_bytes());
                return ExitCode::SUCCESS;
            }
            eprintln!("stdio_fixture: call {:?}: {status} {message}", req.call_id);
            ExitCode::FAILURE
        }
    }
}

// ------------------------------------------------------------ main

fn main() -> ExitCode {
    let arg = std::env::args().nth(1).unwrap_or_else(|| "good".into());
    let Some(mode) = Mode::parse(&arg) else {
        eprintln!("stdio_fixture: unknown mode {arg:?}");
        return ExitCode::from(2);
    };
    let value = std::env::var("FN_FORMAT").unwrap_or_default();
    let format = match value.as_str() {
        "json" => Format::Json,
        "http" => Format::Http,
        "default" => Format::Default,
        "cloudevent" => Format::Cloudevent,
        _ => {
            eprintln!(
                "stdio_fixture: FN_FORMAT={value:?} is not json, http, default or cloudevent"
            );
            return ExitCode::from(2);
        }
    };
    if mode != Mode::NoSigterm
        && let Err(e) = handle_signals()
    {
        eprintln!("stdio_fixture: cannot handle signals: {e}");
        return ExitCode::from(2);
    }
    let mut out = io::stdout();
    match format {
        Format::Json => serve_lines(&mut out, mode, false),
        Format::Cloudevent => serve_lines(&mut out, mode, true),
        Format::Http => serve_http(&mut out, mode),
        Format::Default => serve_default(&mut out, mode),
    }
}
