//! `FN_FORMAT=json`: one JSON object per call each way (JSON-REQ-*,
//! JSON-RESP-*).
//!
//! ```text
//! stdin  {"call_id":"01C…","deadline":"2018-10-25T19:30:01.123Z","body":"{\"name\":\"Jo\"}","content_type":"application/json","protocol":{"type":"http","method":"POST","request_url":"http://localhost:8080/invoke/01C…","headers":{"Content-Type":["application/json"]}}}
//! stdout {"body":"Hello Jo","content_type":"text/plain","protocol":{"status_code":200,"headers":{"Fn-Fdk-Version":["fdk-rust/0.1.0"]}}}
//! ```

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::future::Future;
use std::ops::Range;

use bytes::Bytes;
use http::header::{CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::objects;
use super::{
    Input, Output, Reply, answer, check_header_count, collect, input_limit, malformed_response,
};
use crate::context::StdioCall;
use crate::dispatch::App;
use crate::error::Error;
use crate::logs;

/// The request object, as the server's `json.Encoder` wrote it. `null`
/// reads as the field's default, as Go's `json.Unmarshal` leaves a string
/// untouched for `null` (JSON-REQ-2).
#[derive(Debug, Default)]
struct JsonIn {
    call_id: String,
    deadline: Option<String>,
    /// Where the body's string literal is in the request: it is decoded
    /// in place, last, so that it is never copied (SIO-ERR-8).
    body: Option<Range<usize>>,
    content_type: String,
    protocol: Option<ProtocolIn>,
}

/// Member `name` of a request, `null` as the default (JSON-REQ-2).
pub(super) fn member<T: DeserializeOwned + Default>(name: &str, raw: &[u8]) -> Result<T, String> {
    serde_json::from_slice::<Option<T>>(raw)
        .map(Option::unwrap_or_default)
        .map_err(|e| format!("member `{name}`: {e}"))
}

/// Where the string in member `name` is, `None` for `null`.
fn string_span(
    name: &str,
    value: &[u8],
    span: Range<usize>,
) -> Result<Option<Range<usize>>, String> {
    match value[span.clone()].first() {
        Some(b'"') => Ok(Some(span)),
        _ if &value[span.clone()] == b"null" => Ok(None),
        _ => Err(format!("member `{name}` is not a string")),
    }
}

/// The text of the string literal at `span` of `value`, decoded in place,
/// as the body: the request's own buffer, trimmed to the text.
pub(super) fn body_in_place(mut value: Vec<u8>, span: Range<usize>) -> Result<Bytes, String> {
    let text = objects::unescape_in_place(&mut value, span)?;
    value.truncate(text.end);
    value.drain(..text.start);
    Ok(Bytes::from(value))
}

/// `protocol` of a request (JSON-REQ-3).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct ProtocolIn {
    pub(super) method: Option<String>,
    pub(super) request_url: Option<String>,
    pub(super) headers: Option<BTreeMap<String, Vec<String>>>,
}

/// The response object; field order is the server's (JSON-RESP-1).
#[derive(Debug, Serialize)]
struct JsonOut<'a> {
    body: Cow<'a, str>,
    content_type: &'a str,
    protocol: ProtocolOut,
}

/// `protocol` of a response: the client's status and headers.
#[derive(Debug, Serialize)]
pub(super) struct ProtocolOut {
    pub(super) status_code: u16,
    pub(super) headers: BTreeMap<String, Vec<String>>,
}

pub(super) async fn serve(
    app: &App,
    input: Input,
    out: Output,
    shutdown: impl Future<Output = ()>,
) -> Result<(), Error> {
    objects::serve(input, input_limit(app), out, shutdown, async |next| {
        let reply = match next {
            Ok(value) => match JsonIn::decode(&value).and_then(|req| req.into_call(value)) {
                Ok((call, body)) => answer(app, call, body).await,
                Err(e) => malformed(&format!("the request is not a json-format object: {e}")).await,
            },
            Err(e) => malformed(&e).await,
        };
        encode(&reply)
    })
    .await
}

impl JsonIn {
    /// The members of the request `value`; the last of a repeated one
    /// wins, as in Go.
    fn decode(value: &[u8]) -> Result<Self, String> {
        let mut req = Self::default();
        for (name, span) in objects::members(value)? {
            let raw = &value[span.clone()];
            match name.as_str() {
                "call_id" => req.call_id = member(&name, raw)?,
                "deadline" => req.deadline = member(&name, raw)?,
                "content_type" => req.content_type = member(&name, raw)?,
                "protocol" => req.protocol = member(&name, raw)?,
                "body" => req.body = string_span(&name, value, span)?,
                _ => {}
            }
        }
        Ok(req)
    }

    /// The call, and its body decoded in `value`'s own buffer.
    fn into_call(self, value: Vec<u8>) -> Result<(StdioCall, Bytes), String> {
        let body = match self.body {
            Some(span) => body_in_place(value, span)?,
            None => Bytes::new(),
        };
        let protocol = self.protocol.unwrap_or_default();
        let mut headers = header_map(protocol.headers.unwrap_or_default())?;
        if !self.content_type.is_empty()
            && !headers.contains_key(CONTENT_TYPE)
            && let Ok(value) = HeaderValue::from_str(&self.content_type)
        {
            // At most MAX_HEADERS names are in the map: one more fits.
            let _ = headers.try_insert(CONTENT_TYPE, value);
        }
        let call = StdioCall {
            call_id: self.call_id,
            deadline: self.deadline.filter(|d| !d.is_empty()),
            method: protocol.method,
            request_url: protocol.request_url,
            headers,
        };
        Ok((call, body))
    }
}

/// A request the format cannot decode gets a 400 response object, and the
/// stream goes on with the next one (SIO-ERR-5).
pub(super) async fn malformed(message: &str) -> Reply {
    logs::warn(format_args!("{message}; answered 400"));
    let res = malformed_response(message);
    collect(res, "").await
}

/// `{"Name": ["v1", "v2"]}` as a header map; names or values that are not
/// valid HTTP are logged and skipped. More than `MAX_HEADERS` values make
/// the request malformed (SIO-ERR-9): they are counted before the map is
/// allocated, since `HeaderMap` panics past 24,576 names.
pub(super) fn header_map(json: BTreeMap<String, Vec<String>>) -> Result<HeaderMap, String> {
    // An empty list adds no header but still a name to size the map by.
    let count = json
        .values()
        .fold(0usize, |n, values| n.saturating_add(values.len().max(1)));
    check_header_count(count)?;
    let mut headers = HeaderMap::try_with_capacity(json.len()).map_err(|e| e.to_string())?;
    for (name, values) in json {
        let Ok(name) = HeaderName::from_bytes(name.as_bytes()) else {
            logs::warn(format_args!("skipping the invalid header name {name:?}"));
            continue;
        };
        for value in values {
            match HeaderValue::from_str(&value) {
                Ok(value) => {
                    headers
                        .try_append(name.clone(), value)
                        .map_err(|e| e.to_string())?;
                }
                Err(_) => logs::warn(format_args!("skipping an invalid value of header {name}")),
            }
        }
    }
    Ok(headers)
}

/// The response headers as JSON, Go-canonical names, without
/// `Content-Type` (it travels in its own field).
pub(super) fn json_headers(headers: &HeaderMap) -> BTreeMap<String, Vec<String>> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (name, value) in headers {
        if name == CONTENT_TYPE {
            continue;
        }
        out.entry(canonical_name(name.as_str()))
            .or_default()
            .push(String::from_utf8_lossy(value.as_bytes()).into_owned());
    }
    out
}

/// The response body as a JSON string: the format cannot carry other
/// bytes (JSON-RESP-2).
pub(super) fn body_text(body: &[u8]) -> Cow<'_, str> {
    let text = String::from_utf8_lossy(body);
    if matches!(text, Cow::Owned(_)) {
        logs::warn(format_args!(
            "the response body is not UTF-8; invalid bytes were replaced with U+FFFD"
        ));
    }
    text
}

fn encode(reply: &Reply) -> Vec<u8> {
    let content_type = reply
        .headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let out = JsonOut {
        body: body_text(&reply.body),
        content_type,
        protocol: ProtocolOut {
            status_code: reply.status.as_u16(),
            headers: json_headers(&reply.headers),
        },
    };
    // Serialising strings, numbers and string maps cannot fail.
    let mut line = serde_json::to_vec(&out).unwrap_or_default();
    line.push(b'\n');
    line
}

/// `content-type` → `Content-Type`: the key Go's `http.Header` prints
/// (`CanonicalMIMEHeaderKey`), for the formats that carry headers as JSON.
fn canonical_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut upper = true;
    for c in name.chars() {
        out.push(if upper {
            c.to_ascii_uppercase()
        } else {
            c.to_ascii_lowercase()
        });
        upper = c == '-';
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_names_match_go() {
        for (name, canonical) in [
            ("content-type", "Content-Type"),
            ("fn-fdk-version", "Fn-Fdk-Version"),
            ("x-b3-traceid", "X-B3-Traceid"),
            ("etag", "Etag"),
            ("www-authenticate", "Www-Authenticate"),
        ] {
            assert_eq!(canonical_name(name), canonical);
        }
    }
}
