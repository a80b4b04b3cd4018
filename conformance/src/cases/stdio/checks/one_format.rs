//! What only one format has: chunked requests and bodiless responses
//! (`http`), CloudEvent `data` (`cloudevent`), an empty stdin (`default`).

use fn_emulator::stdio::process::APP_NAME;
use serde_json::Value;

use super::{binary, body_is, echo, kept, needs_probe, next_call_served, probe_call, with_status};
use crate::case::CaseResult;
use crate::level::Level;
use crate::stdio::call::StdioCall;
use crate::stdio::harness::StdioHarness;
use crate::verdict::show_bytes;

/// `http`: a chunked request body (several chunks) arrives whole.
pub(crate) fn chunked(h: &mut StdioHarness) -> CaseResult {
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
pub(crate) fn no_body(h: &mut StdioHarness) -> CaseResult {
    needs_probe(h)?;
    let url = format!("http://localhost:8080/t/{APP_NAME}/probe");
    let op = r#"{"op":"respond","status":200,"body":"a body HEAD must not carry","content_type":"text/plain"}"#;
    let s = h.call(&StdioCall::new().at("HEAD", &url).probe(op))?;
    with_status(h, &s, 200).map_err(|v| v.prefixed("HEAD: "))?;
    let op = r#"{"op":"respond","status":204,"headers":[["X-Kept","yes"]],"body":"ignored"}"#;
    let s = h.call(&probe_call(op))?;
    let res = with_status(h, &s, 204).map_err(|v| v.prefixed("204: "))?;
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
pub(crate) fn text_data(h: &mut StdioHarness) -> CaseResult {
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
pub(crate) fn json_data(h: &mut StdioHarness) -> CaseResult {
    needs_probe(h)?;
    let s = h.call(
        &StdioCall::new()
            .probe(r#"{"op":"echo"}"#)
            .header("Content-Type", "application/json")
            .body(r#"{"name":"Jimmy","list":[1,2]}"#),
    )?;
    // The server re-encoded data as Go does: keys sorted.
    body_is(h, &s, br#"{"list":[1,2],"name":"Jimmy"}"#)
        .map_err(|v| v.prefixed("the handler must see data as compact JSON (CE-REQ-2): "))?;
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
pub(crate) fn empty_stdin(h: &mut StdioHarness) -> CaseResult {
    needs_probe(h)?;
    let s = h.call(&StdioCall::new().probe(r#"{"op":"echo"}"#))?;
    body_is(h, &s, b"")
}
