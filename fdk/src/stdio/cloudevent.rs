//! `FN_FORMAT=cloudevent`: one CloudEvents 0.1 object per call each way
//! (CE-REQ-*, CE-RESP-*).
//!
//! ```text
//! stdin  {"cloudEventsVersion":"0.1","eventID":"01C…","source":"http://localhost:8080/invoke/01C…","eventType":"http","eventTypeVersion":"","eventTime":"0001-01-01T00:00:00Z","schemaURL":"","contentType":"application/json","extensions":{"deadline":"2018-10-25T19:30:01.123Z","protocol":{"type":"http","method":"POST","request_url":"…","headers":{…}}},"data":{"name":"Jo"}}
//! stdout {"cloudEventsVersion":"0.1","eventID":"01C…",…,"contentType":"text/plain","extensions":{"protocol":{"status_code":200,"headers":{…}}},"data":"Hello Jo"}
//! ```

use std::future::Future;

use bytes::Bytes;
use http::header::{CONTENT_TYPE, HeaderValue};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::json::{
    ProtocolIn, ProtocolOut, body_text, header_map, json_headers, malformed, nullable,
};
use super::objects;
use super::{Input, Output, Reply, answer};
use crate::context::StdioCall;
use crate::dispatch::App;
use crate::error::Error;
use crate::logs;

use crate::protocol::cloudevent::{JSON, TEXT, ZERO_TIME};

/// The fields of an event that the response echoes, and the call's data.
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(default)]
struct Envelope {
    #[serde(rename = "cloudEventsVersion")]
    #[serde(deserialize_with = "nullable")]
    cloud_events_version: String,
    #[serde(rename = "eventID")]
    #[serde(deserialize_with = "nullable")]
    event_id: String,
    #[serde(deserialize_with = "nullable")]
    source: String,
    #[serde(rename = "eventType")]
    #[serde(deserialize_with = "nullable")]
    event_type: String,
    #[serde(rename = "eventTypeVersion")]
    #[serde(deserialize_with = "nullable")]
    event_type_version: String,
    #[serde(rename = "eventTime")]
    #[serde(deserialize_with = "nullable")]
    event_time: String,
    #[serde(rename = "schemaURL")]
    #[serde(deserialize_with = "nullable")]
    schema_url: String,
}

/// A request event.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct EventIn {
    #[serde(flatten)]
    envelope: Envelope,
    #[serde(rename = "contentType", deserialize_with = "nullable")]
    content_type: String,
    extensions: Option<ExtensionsIn>,
    data: Option<Value>,
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
    objects::serve(input, out, shutdown, async |next| {
        let (envelope, reply) = match next {
            Ok(value) => match serde_json::from_value::<EventIn>(value) {
                Ok(event) => match event.into_call() {
                    (envelope, Ok((call, body))) => (envelope, answer(app, call, body).await),
                    (envelope, Err(e)) => (envelope, malformed(&e).await),
                },
                Err(e) => (
                    Envelope::default(),
                    malformed(&format!("the request is not a CloudEvent: {e}")).await,
                ),
            },
            Err(e) => (
                Envelope::default(),
                malformed(&format!("the request is not JSON: {e}")).await,
            ),
        };
        encode(envelope, &reply)
    })
    .await
}

impl EventIn {
    /// The envelope to answer in, and the call or why it cannot be made
    /// (SIO-ERR-8).
    fn into_call(self) -> (Envelope, Result<(StdioCall, Bytes), String>) {
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
        let body = match self.data {
            None | Some(Value::Null) => Bytes::new(),
            Some(Value::String(text)) if !is_json(&self.content_type) => Bytes::from(text),
            Some(data) => Bytes::from(serde_json::to_vec(&data).unwrap_or_default()),
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
    use super::is_json;

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
