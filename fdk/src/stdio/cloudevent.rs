//! `FN_FORMAT=cloudevent`: one CloudEvents 0.1 object per call each way
//! (CE-REQ-*, CE-RESP-*).
//!
//! ```text
//! stdin  {"cloudEventsVersion":"0.1","eventID":"01C…","source":"http://localhost:8080/invoke/01C…","eventType":"http","eventTypeVersion":"","eventTime":"0001-01-01T00:00:00Z","schemaURL":"","contentType":"application/json","extensions":{"deadline":"2018-10-25T19:30:01.123Z","protocol":{"type":"http","method":"POST","request_url":"…","headers":{…}}},"data":{"name":"Jo"}}
//! stdout {"cloudEventsVersion":"0.1","eventID":"01C…",…,"contentType":"text/plain","extensions":{"protocol":{"status_code":200,"headers":{…}}},"data":"Hello Jo"}
//! ```

use std::future::Future;
use std::ops::Range;

use bytes::Bytes;
use http::header::{CONTENT_TYPE, HeaderValue};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::json::{
    ProtocolIn, ProtocolOut, body_in_place, body_text, header_map, json_headers, malformed, member,
};
use super::objects;
use super::{Input, Output, Reply, answer, input_limit};
use crate::context::StdioCall;
use crate::dispatch::App;
use crate::error::Error;
use crate::logs;

use crate::protocol::cloudevent::{JSON, TEXT, ZERO_TIME};

/// The fields of an event that the response echoes; `null` reads as
/// empty (CE-REQ-1).
#[derive(Debug, Default, Serialize)]
struct Envelope {
    #[serde(rename = "cloudEventsVersion")]
    cloud_events_version: String,
    #[serde(rename = "eventID")]
    event_id: String,
    source: String,
    #[serde(rename = "eventType")]
    event_type: String,
    #[serde(rename = "eventTypeVersion")]
    event_type_version: String,
    #[serde(rename = "eventTime")]
    event_time: String,
    #[serde(rename = "schemaURL")]
    schema_url: String,
}

/// A request event.
#[derive(Debug, Default)]
struct EventIn {
    envelope: Envelope,
    content_type: String,
    extensions: Option<ExtensionsIn>,
    /// Where `data` is in the request; read last, in place if it is the
    /// body's text (SIO-ERR-8).
    data: Option<Range<usize>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ExtensionsIn {
    deadline: Option<String>,
    protocol: Option<ProtocolIn>,
}

/// A response event; field order is the server's.
#[derive(Debug, Serialize)]
struct EventOut {
    #[serde(flatten)]
    envelope: Envelope,
    #[serde(rename = "contentType")]
    content_type: &'static str,
    extensions: ExtensionsOut,
    data: Value,
}

#[derive(Debug, Serialize)]
struct ExtensionsOut {
    protocol: ProtocolOut,
}

pub(super) async fn serve(
    app: &App,
    input: Input,
    out: Output,
    shutdown: impl Future<Output = ()>,
) -> Result<(), Error> {
    objects::serve(input, input_limit(app), out, shutdown, async |next| {
        let (envelope, reply) = match next {
            Ok(value) => match EventIn::decode(&value) {
                Ok(event) => match event.into_call(value) {
                    (envelope, Ok((call, body))) => (envelope, answer(app, call, body).await),
                    (envelope, Err(e)) => (envelope, malformed(&e).await),
                },
                Err(e) => (
                    Envelope::default(),
                    malformed(&format!("the request is not a CloudEvent: {e}")).await,
                ),
            },
            Err(e) => (Envelope::default(), malformed(&e).await),
        };
        encode(envelope, &reply)
    })
    .await
}

impl EventIn {
    /// The members of the event `value`; the last of a repeated one wins.
    fn decode(value: &[u8]) -> Result<Self, String> {
        let mut event = Self::default();
        let e = &mut event.envelope;
        for (name, span) in objects::members(value)? {
            let raw = &value[span.clone()];
            match name.as_str() {
                "cloudEventsVersion" => e.cloud_events_version = member(&name, raw)?,
                "eventID" => e.event_id = member(&name, raw)?,
                "source" => e.source = member(&name, raw)?,
                "eventType" => e.event_type = member(&name, raw)?,
                "eventTypeVersion" => e.event_type_version = member(&name, raw)?,
                "eventTime" => e.event_time = member(&name, raw)?,
                "schemaURL" => e.schema_url = member(&name, raw)?,
                "contentType" => event.content_type = member(&name, raw)?,
                "extensions" => event.extensions = member(&name, raw)?,
                "data" => event.data = (raw != b"null").then_some(span),
                _ => {}
            }
        }
        Ok(event)
    }

    /// The envelope to answer in, and the call or why it cannot be made
    /// (SIO-ERR-9), its body in `value`'s own buffer.
    fn into_call(self, value: Vec<u8>) -> (Envelope, Result<(StdioCall, Bytes), String>) {
        let extensions = self.extensions.unwrap_or_default();
        let protocol = extensions.protocol.unwrap_or_default();
        let mut headers = match header_map(protocol.headers.unwrap_or_default()) {
            Ok(headers) => headers,
            Err(e) => return (self.envelope, Err(e)),
        };
        if !self.content_type.is_empty()
            && let Ok(value) = HeaderValue::from_str(&self.content_type)
        {
            // At most MAX_HEADERS names are in the map: one more fits.
            let _ = headers.try_insert(CONTENT_TYPE, value);
        }
        // A string is the payload itself unless the event says it is JSON.
        let body = match data_body(self.data, &self.content_type, value) {
            Ok(body) => body,
            Err(e) => return (self.envelope, Err(e)),
        };
        let call = StdioCall {
            call_id: self.envelope.event_id.clone(),
            deadline: extensions.deadline.filter(|d| !d.is_empty()),
            method: protocol.method,
            request_url: protocol.request_url.or(Some(self.envelope.source.clone())),
            headers,
        };
        (self.envelope, Ok((call, body)))
    }
}

/// The handler's body for the event's `data` (the span of its value in
/// `value`, none when absent or null).
fn data_body(
    data: Option<std::ops::Range<usize>>,
    content_type: &str,
    value: Vec<u8>,
) -> Result<Bytes, String> {
    Ok(match data {
        None => Bytes::new(),
        Some(span) if value[span.start] == b'"' && !is_json(content_type) => {
            body_in_place(value, span)?
        }
        // Any other value is passed on as compact JSON, compacted in
        // the request's buffer rather than rebuilt (SIO-ERR-8).
        Some(span) => {
            let mut value = value;
            let compact = objects::compact_in_place(&mut value, span);
            // Validation skipped over the text of strings: check it
            // here, as building a `Value` did.
            std::str::from_utf8(&value[compact.clone()])
                .map_err(|e| format!("member `data` is not UTF-8: {e}"))?;
            value.truncate(compact.end);
            value.drain(..compact.start);
            Bytes::from(value)
        }
    })
}

/// Is `content_type` a JSON media type (`application/json`, `…+json`)?
fn is_json(content_type: &str) -> bool {
    let media = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    media == JSON || media.ends_with("+json")
}

fn encode(mut envelope: Envelope, reply: &Reply) -> Vec<u8> {
    if envelope.event_time.is_empty() {
        envelope.event_time = ZERO_TIME.to_owned();
    }
    let declared = reply
        .headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let json = if is_json(declared) && !reply.body.is_empty() {
        serde_json::from_slice::<Value>(&reply.body).ok()
    } else {
        None
    };
    let (content_type, data) = match json {
        Some(value) => (JSON, value),
        None => {
            if !declared.is_empty() && !declared.starts_with("text/") && !is_json(declared) {
                logs::warn(format_args!(
                    "cloudevent responses carry JSON or text only; \
                     sending the {declared} body as text/plain"
                ));
            }
            (TEXT, Value::String(body_text(&reply.body).into_owned()))
        }
    };
    let out = EventOut {
        envelope,
        content_type,
        extensions: ExtensionsOut {
            protocol: ProtocolOut {
                status_code: reply.status.as_u16(),
                headers: json_headers(&reply.headers),
            },
        },
        data,
    };
    let mut line = serde_json::to_vec(&out).unwrap_or_default();
    line.push(b'\n');
    line
}

#[cfg(test)]
mod tests {
    use super::{EventIn, is_json};

    fn body(event: &[u8]) -> Result<Vec<u8>, String> {
        let event_in = EventIn::decode(event)?;
        let (_, call) = event_in.into_call(event.to_vec());
        let (_, body) = call?;
        Ok(body.to_vec())
    }

    #[test]
    fn data_becomes_the_body_in_place() {
        let text = br#"{"contentType":"text/plain","data":"a\"b\u00e9"}"#;
        assert_eq!(body(text).unwrap(), "a\"b\u{e9}".as_bytes());
        let json = br#"{"contentType":"application/json","data": { "k" : [1, "a b"] } }"#;
        assert_eq!(body(json).unwrap(), br#"{"k":[1,"a b"]}"#);
        let quoted = br#"{"contentType":"application/json","data":"x"}"#;
        assert_eq!(body(quoted).unwrap(), br#""x""#);
        assert!(body(br#"{"data":null}"#).unwrap().is_empty());
        // Validation skipped the text of strings; the body is checked.
        let mut bad = br#"{"contentType":"application/json","data":{"k":"?"}}"#.to_vec();
        let at = bad.iter().position(|b| *b == b'?').unwrap();
        bad[at] = 0xff;
        assert!(body(&bad).unwrap_err().contains("UTF-8"));
    }

    #[test]
    fn json_media_types() {
        for yes in [
            "application/json",
            "application/json; charset=utf-8",
            "application/cloudevents+json",
            "Application/JSON",
        ] {
            assert!(is_json(yes), "{yes}");
        }
        for no in ["", "text/plain", "application/jsonl", "text/json-ish"] {
            assert!(!is_json(no), "{no}");
        }
    }
}
