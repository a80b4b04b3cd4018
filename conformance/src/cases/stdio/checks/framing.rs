//! How each format frames a response: a JSON line whose members come in
//! order (`json`, `cloudevent`), an HTTP/1.1 response (`http`).

use std::time::Duration;

use fn_emulator::golang::canonical_key;
use fn_emulator::stdio::served::Served;
use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

use super::{answered, fail_problems, fail_problems_minor, one_line};
use crate::case::CaseResult;
use crate::stdio::call::StdioCall;
use crate::stdio::harness::StdioHarness;

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

/// `json`: JSON-RESP-1 and JSON-RESP-3 on the bytes of a response.
pub(crate) fn json_framing(h: &mut StdioHarness) -> CaseResult {
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
pub(crate) fn cloudevent_framing(h: &mut StdioHarness) -> CaseResult {
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
pub(crate) fn http_framing(h: &mut StdioHarness) -> CaseResult {
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
