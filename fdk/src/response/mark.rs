//! The mark on a user-level response that says it is not a success: a
//! rejected input or a failed function. [`IntoResponse`](super::IntoResponse)
//! impls set it; [`Outcome::of`](crate::outcome::Outcome::of) alone reads it
//! (and takes it off), once per call.

use bytes::Bytes;
use http::StatusCode;
use http::header::{CONTENT_TYPE, HeaderValue};

use super::Response;

/// Why a response is not the handler's own answer; the message is logged.
#[derive(Debug, Clone)]
pub(crate) enum Mark {
    /// The request did not parse as the handler's argument type.
    Rejected(String),
    /// The handler failed; the message is also the JSON body's.
    Failed(String),
}

/// A `400` response for a rejected input, with a JSON body.
pub(crate) fn rejected(message: String) -> Response {
    let mut res = json_error(StatusCode::BAD_REQUEST, &message);
    res.extensions_mut().insert(Mark::Rejected(message));
    res
}

/// A `413` response for a body past the function's limit: a rejected
/// input like any other, with the status that says why (HS-REQ-9).
pub(crate) fn too_large(message: String) -> Response {
    let mut res = json_error(StatusCode::PAYLOAD_TOO_LARGE, &message);
    res.extensions_mut().insert(Mark::Rejected(message));
    res
}

/// A failed call (socket status 502), with a JSON body.
pub(crate) fn failed(message: String) -> Response {
    let mut res = json_error(StatusCode::BAD_GATEWAY, &message);
    res.extensions_mut().insert(Mark::Failed(message));
    res
}

/// `{"message": "..."}` with `Content-Type: application/json`.
pub(crate) fn json_error(status: StatusCode, message: &str) -> Response {
    let mut res = Response::new(json_message(message).into());
    *res.status_mut() = status;
    res.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    res
}

/// Encodes `{"message": <message>}` as JSON; written by hand so that error
/// bodies are JSON even without the `json` feature.
pub(crate) fn json_message(message: &str) -> Bytes {
    let mut out = String::with_capacity(message.len() + 16);
    out.push_str("{\"message\":\"");
    for c in message.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if u32::from(c) < 0x20 => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push_str("\"}");
    Bytes::from(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_message_escapes_everything_json_requires() {
        let text = "quote \" slash \\ nl \n tab \t bell \u{7} é";
        let body = json_message(text);
        let parsed: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(parsed["message"], text);
    }
}
