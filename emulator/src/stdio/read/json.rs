//! `json` and `cloudevent`: one value unmarshalled into the server's
//! structs with Go's rules, then mapped to the client's status, headers
//! and body (JSON-RESP-4, CE-RESP-4).

use super::*;
use serde_json::Value;

use crate::golang::{canonical_key, go_header, go_int, go_string, go_time, member, push_value};

/// `jsonOut` to the client's response (JSON-RESP-4).
pub(crate) fn json_response(v: &Value) -> Decoded {
    match json_out(v) {
        Ok(res) => Decoded::Response(res),
        Err(e) => Decoded::Undecodable(e),
    }
}

fn json_out(v: &Value) -> Result<ClientResponse, String> {
    let mut res = ClientResponse {
        status: 200,
        headers: Vec::new(),
        body: Vec::new(),
    };
    let obj = match v {
        // `Decode` of `null` into a struct sets nothing.
        Value::Null => return Ok(res),
        Value::Object(obj) => obj,
        other => {
            return Err(format!(
                "json: cannot unmarshal {} into Go value of type protocol.jsonOut",
                crate::golang::kind(other)
            ));
        }
    };
    let body = go_string(member(obj, "body"), "jsonOut.body")?;
    let content_type = go_string(member(obj, "content_type"), "jsonOut.content_type")?;
    let mut status = 0;
    match member(obj, "protocol") {
        None | Some(Value::Null) => {}
        Some(Value::Object(p)) => {
            status = go_int(member(p, "status_code"), "jsonOut.protocol.status_code")?;
            for (name, value) in go_header(member(p, "headers"), "jsonOut.protocol.headers")? {
                res.headers.push((canonical_key(&name), value));
            }
        }
        Some(other) => {
            return Err(format!(
                "json: cannot unmarshal {} into Go struct field jsonOut.protocol of type \
                 protocol.CallResponseHTTP",
                crate::golang::kind(other)
            ));
        }
    }
    if !content_type.is_empty() {
        res.set("Content-Type", &content_type);
    }
    if status != 0 {
        res.status = status;
    }
    res.body = body.into_bytes();
    Ok(res)
}

/// A CloudEvent to the client's response (CE-RESP-4).
pub(crate) fn cloudevent_response(v: &Value) -> Decoded {
    let obj = match v {
        Value::Object(obj) => Some(obj),
        Value::Null => None,
        other => {
            return Decoded::Undecodable(format!(
                "json: cannot unmarshal {} into Go value of type cloudevent.CloudEvent",
                crate::golang::kind(other)
            ));
        }
    };
    let empty = serde_json::Map::new();
    let obj = obj.unwrap_or(&empty);
    // Unmarshalling into the server's struct.
    let mut content_type = String::new();
    for field in [
        "cloudEventsVersion",
        "eventID",
        "source",
        "eventType",
        "eventTypeVersion",
        "schemaURL",
        "contentType",
    ] {
        match go_string(member(obj, field), &format!("CloudEvent.{field}")) {
            Ok(s) if field == "contentType" => content_type = s,
            Ok(_) => {}
            Err(e) => return Decoded::Undecodable(e),
        }
    }
    if let Err(e) = go_time(member(obj, "eventTime"), "CloudEvent.eventTime") {
        return Decoded::Undecodable(e);
    }
    let extensions = match member(obj, "extensions") {
        None | Some(Value::Null) => None,
        Some(Value::Object(ext)) => Some(ext),
        Some(other) => {
            return Decoded::Undecodable(format!(
                "json: cannot unmarshal {} into Go struct field CloudEvent.extensions of type \
                 map[string]interface {{}}",
                crate::golang::kind(other)
            ));
        }
    };
    let data = member(obj, "data");

    // Mapping to the client's response.
    let mut res = ClientResponse {
        status: 200,
        headers: Vec::new(),
        body: Vec::new(),
    };
    match extensions.and_then(|ext| ext.get("protocol")) {
        None => {}
        Some(Value::Object(p)) => {
            match p.get("status_code") {
                None => {}
                Some(Value::Number(n)) => {
                    // A JSON number is a float64 to the server, then an int.
                    res.status = n.as_f64().map_or(0, |f| f.trunc() as i64);
                }
                Some(other) => {
                    return Decoded::Unmappable(format!(
                        "extensions.protocol.status_code is {} {other}, not a number",
                        crate::golang::kind(other)
                    ));
                }
            }
            match p.get("headers") {
                None => {}
                Some(Value::Object(h)) => {
                    for (name, values) in h {
                        let Value::Array(values) = values else {
                            return Decoded::Unmappable(format!(
                                "extensions.protocol.headers[{name:?}] is not an array of strings"
                            ));
                        };
                        for value in values {
                            let Value::String(value) = value else {
                                return Decoded::Unmappable(format!(
                                    "extensions.protocol.headers[{name:?}] holds a {}, not a string",
                                    crate::golang::kind(value)
                                ));
                            };
                            res.headers.push((canonical_key(name), value.clone()));
                        }
                    }
                }
                Some(other) => {
                    return Decoded::Unmappable(format!(
                        "extensions.protocol.headers is {}, not an object of string arrays",
                        crate::golang::kind(other)
                    ));
                }
            }
        }
        Some(other) => {
            return Decoded::Crash(format!(
                "extensions.protocol is {}, not an object",
                crate::golang::kind(other)
            ));
        }
    }
    match content_type.as_str() {
        "application/json" => {
            let mut text = String::new();
            push_value(&mut text, data.unwrap_or(&Value::Null));
            res.body = text.into_bytes();
        }
        "text/plain" => match data {
            Some(Value::String(s)) => res.body = s.clone().into_bytes(),
            Some(other) => {
                return Decoded::Crash(format!(
                    "contentType is text/plain but data is {}, not a string",
                    crate::golang::kind(other)
                ));
            }
            None => {
                return Decoded::Crash("contentType is text/plain but data is missing".into());
            }
        },
        other => {
            return Decoded::Unmappable(format!(
                "contentType {other:?} is neither \"application/json\" nor \"text/plain\""
            ));
        }
    }
    res.set("Content-Type", &content_type);
    Decoded::Response(res)
}
