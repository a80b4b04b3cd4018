//! The bytes the 0.3.602 server wrote to a function for one call, per
//! format, made from the client's request as Go's server received it
//! (`protocol-spec/vectors/stdio.json` holds examples from Go's own
//! encoders; the tests below compare with them byte for byte):
//!
//! * `json`: `json.NewEncoder(stdin).Encode(jsonIn)`: one compact object and
//!   `\n`, members in the struct's order, `protocol.headers` the client's
//!   `http.Header` (names sorted), the body as a Go string;
//! * `http`: `req.Write(stdin)` of the client's request with the four
//!   `Fn_` headers set: request line, `Host`, `User-Agent`, the framing,
//!   the other headers sorted, the body (chunked if the client's was);
//! * `cloudevent`: the CloudEvents 0.1 object of §10.7 and `\n`, `data`
//!   being the client's body parsed as JSON (omitted when empty);
//! * `default`: the per-call environment (`FN_CALL_ID`, `FN_DEADLINE`,
//!   `FN_METHOD`, `FN_REQUEST_URL`, `FN_HEADER_<Name>`), the body on stdin.
//!
//! Deadlines are RFC 3339 in UTC with milliseconds (SIO-DL-1, SIO-DL-3).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::golang::{canonical_key, push_bytes, push_header, push_str, push_value};
use crate::rfc3339::format_unix_seconds;
use crate::wire as names;

/// Go's default `User-Agent`, written when a request has none.
const GO_DEFAULT_USER_AGENT: &str = "Go-http-client/1.1";
/// The chunk size of a chunked body (`io.Copy`'s buffer).
const CHUNK: usize = 32 << 10;

/// A client's request, as the server's Go `http.Server` received it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientRequest {
    /// The client's method.
    pub method: String,
    /// The full URL the client used (`http://localhost:8080/invoke/<fn>`).
    pub url: String,
    /// The client's headers (canonical names), without `Host`,
    /// `Content-Length` and `Transfer-Encoding`, which follow from the
    /// body and `chunked`.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
    /// The client sent the body chunked (no `Content-Length`).
    pub chunked: bool,
}

/// The call's metadata the server adds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallMeta {
    /// The call id.
    pub call_id: String,
    /// The deadline as written (normally [`deadline_string`]).
    pub deadline: String,
}

impl ClientRequest {
    /// `req.Header` on the server: the client's headers plus the
    /// `Content-Length` it sent (a Go client sends one for a non-empty
    /// body, and `0` for an empty POST, PUT or PATCH).
    pub(crate) fn server_headers(&self) -> Vec<(String, String)> {
        let mut headers: Vec<(String, String)> = self
            .headers
            .iter()
            .map(|(k, v)| (canonical_key(k), v.clone()))
            .collect();
        if let Some(n) = self.content_length() {
            headers.push(("Content-Length".to_owned(), n.to_string()));
        }
        headers
    }

    /// The `Content-Length` on the wire, if any (Go's
    /// `shouldSendContentLength` for a request).
    fn content_length(&self) -> Option<usize> {
        if self.chunked {
            return None;
        }
        if !self.body.is_empty() {
            return Some(self.body.len());
        }
        match self.method.as_str() {
            "GET" | "HEAD" => None,
            _ => Some(0),
        }
    }

    /// `req.Header.Get("Content-Type")`: the first value, or `""`.
    pub fn content_type(&self) -> &str {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("Content-Type"))
            .map_or("", |(_, v)| v.as_str())
    }

    /// The URL's host and request-target (path and query), `/` if it has
    /// no path.
    pub(crate) fn host_and_target(&self) -> (&str, String) {
        let rest = self
            .url
            .split_once("://")
            .map_or(self.url.as_str(), |(_, rest)| rest);
        let split = rest.find(['/', '?']).unwrap_or(rest.len());
        let (host, target) = rest.split_at(split);
        let target = match target.strip_prefix('?') {
            Some(query) => format!("/?{query}"),
            None if target.is_empty() => "/".to_owned(),
            None => target.to_owned(),
        };
        (host, target)
    }
}

/// `t` as the server wrote deadlines: `2006-01-02T15:04:05.000Z`, UTC,
/// milliseconds truncated. Times before 1970 are written as the epoch.
pub fn deadline_string(t: SystemTime) -> String {
    let since = t.duration_since(UNIX_EPOCH).unwrap_or(Duration::ZERO);
    let whole = format_unix_seconds(since.as_secs());
    let date_time = whole.strip_suffix('Z').unwrap_or(&whole);
    format!("{date_time}.{:03}Z", since.subsec_millis())
}

/// The `json` format's request: one line.
pub fn json_request(req: &ClientRequest, meta: &CallMeta) -> Vec<u8> {
    let mut out = String::with_capacity(req.body.len() + 512);
    out.push_str("{\"call_id\":");
    push_str(&mut out, &meta.call_id);
    out.push_str(",\"deadline\":");
    push_str(&mut out, &meta.deadline);
    out.push_str(",\"body\":");
    push_bytes(&mut out, &req.body);
    out.push_str(",\"content_type\":");
    push_str(&mut out, req.content_type());
    out.push_str(",\"protocol\":");
    push_protocol(&mut out, req);
    out.push_str("}\n");
    out.into_bytes()
}

/// `CallRequestHTTP`: type, method, URL and the client's headers.
fn push_protocol(out: &mut String, req: &ClientRequest) {
    out.push_str("{\"type\":\"http\",\"method\":");
    push_str(out, &req.method);
    out.push_str(",\"request_url\":");
    push_str(out, &req.url);
    out.push_str(",\"headers\":");
    push_header(out, &req.server_headers());
    out.push('}');
}

/// The `cloudevent` format's request: one line. The server parsed the
/// client's body as JSON to make `data` (and answered 500 itself when it
/// was not JSON), so a body that is not JSON is an error here.
pub fn cloudevent_request(req: &ClientRequest, meta: &CallMeta) -> Result<Vec<u8>, String> {
    let data: Option<serde_json::Value> = if req.body.is_empty() {
        None
    } else {
        Some(serde_json::from_slice(&req.body).map_err(|e| {
            format!(
                "a cloudevent client's body must be JSON (the 0.3.602 server answers 500 \
                 itself otherwise): {e}"
            )
        })?)
    };
    let mut out = String::with_capacity(req.body.len() + 512);
    out.push_str("{\"cloudEventsVersion\":\"0.1\",\"eventID\":");
    push_str(&mut out, &meta.call_id);
    out.push_str(",\"source\":");
    push_str(&mut out, &req.url);
    out.push_str(
        ",\"eventType\":\"http\",\"eventTypeVersion\":\"\",\
         \"eventTime\":\"0001-01-01T00:00:00Z\",\"schemaURL\":\"\",\"contentType\":",
    );
    push_str(&mut out, req.content_type());
    out.push_str(",\"extensions\":{\"deadline\":");
    push_str(&mut out, &meta.deadline);
    out.push_str(",\"protocol\":");
    push_protocol(&mut out, req);
    out.push('}');
    if let Some(data) = data {
        out.push_str(",\"data\":");
        push_value(&mut out, &data);
    }
    out.push_str("}\n");
    Ok(out.into_bytes())
}

/// The `http` format's request, as `req.Write` writes it.
pub fn http_request(req: &ClientRequest, meta: &CallMeta) -> Vec<u8> {
    let (host, target) = req.host_and_target();
    let mut head = format!("{} {target} HTTP/1.1\r\nHost: {host}\r\n", req.method);
    let headers = req.server_headers();
    let user_agent = headers
        .iter()
        .find(|(k, _)| k == "User-Agent")
        .map_or(GO_DEFAULT_USER_AGENT, |(_, v)| v.as_str());
    if !user_agent.is_empty() {
        head.push_str(&format!("User-Agent: {user_agent}\r\n"));
    }
    if req.chunked {
        head.push_str("Transfer-Encoding: chunked\r\n");
    } else if let Some(n) = req.content_length() {
        head.push_str(&format!("Content-Length: {n}\r\n"));
    }
    let mut rest: Vec<(String, String)> = headers
        .into_iter()
        .filter(|(k, _)| {
            !matches!(
                k.as_str(),
                "Host" | "User-Agent" | "Content-Length" | "Transfer-Encoding" | "Trailer"
            )
        })
        .collect();
    rest.push(("Fn_call_id".to_owned(), meta.call_id.clone()));
    rest.push(("Fn_deadline".to_owned(), meta.deadline.clone()));
    rest.push(("Fn_method".to_owned(), req.method.clone()));
    rest.push(("Fn_request_url".to_owned(), req.url.clone()));
    // `Header.WriteSubset`: names sorted, a repeated name's values in order.
    rest.sort_by(|a, b| a.0.cmp(&b.0));
    for (name, value) in &rest {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    let mut out = head.into_bytes();
    if req.chunked {
        for chunk in req.body.chunks(CHUNK) {
            out.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
            out.extend_from_slice(chunk);
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(b"0\r\n\r\n");
    } else {
        out.extend_from_slice(&req.body);
    }
    out
}

/// The `default` format's per-call environment (the body goes to stdin).
pub fn default_env(req: &ClientRequest, meta: &CallMeta) -> Vec<(String, String)> {
    let mut env = vec![
        (names::ENV_CALL_ID.to_owned(), meta.call_id.clone()),
        (names::ENV_DEADLINE.to_owned(), meta.deadline.clone()),
        (names::ENV_METHOD.to_owned(), req.method.clone()),
        (names::ENV_REQUEST_URL.to_owned(), req.url.clone()),
    ];
    let headers = req.server_headers();
    let mut names: Vec<&str> = headers.iter().map(|(k, _)| k.as_str()).collect();
    names.sort_unstable();
    names.dedup();
    for name in names {
        let values: Vec<&str> = headers
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect();
        env.push((format!("FN_HEADER_{name}"), values.join(", ")));
    }
    env
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn vectors() -> Vec<Value> {
        serde_json::from_str(include_str!("../../../protocol-spec/vectors/stdio.json")).unwrap()
    }

    fn vector(name: &str) -> Value {
        vectors()
            .into_iter()
            .find(|v| v["name"] == name)
            .unwrap_or_else(|| panic!("no vector {name}"))
    }

    fn curl(body: &[u8], content_type: Option<&str>) -> ClientRequest {
        let mut headers = vec![
            ("User-Agent".to_owned(), "curl/7.61.0".to_owned()),
            ("Accept".to_owned(), "*/*".to_owned()),
        ];
        if let Some(ct) = content_type {
            headers.push(("Content-Type".to_owned(), ct.to_owned()));
        }
        ClientRequest {
            method: "POST".into(),
            url: "http://localhost:8080/invoke/01CQV4M3Q7NG8G00GZJ0000001".into(),
            headers,
            body: body.to_vec(),
            chunked: false,
        }
    }

    fn meta(id: &str) -> CallMeta {
        CallMeta {
            call_id: id.into(),
            deadline: "2100-01-01T00:00:00.000Z".into(),
        }
    }

    #[test]
    fn json_requests_match_go_byte_for_byte() {
        let req = curl(br#"{"name":"Jimmy"}"#, Some("application/json"));
        let got = json_request(&req, &meta("01CQV4NEXPNG8G00GZJ0000001"));
        assert_eq!(
            String::from_utf8(got).unwrap(),
            vector("json-ok-text")["input"].as_str().unwrap()
        );
        let body = "<b>h\u{e9}llo</b> & \"q\" \\ tab\tline\nsep\u{2028}end \u{1F600}";
        let req = curl(body.as_bytes(), Some("text/html; charset=utf-8"));
        let got = json_request(&req, &meta("01CQV4NEXPNG8G00GZJ0000007"));
        assert_eq!(
            String::from_utf8(got).unwrap(),
            vector("json-utf8-body-with-escapes")["input"]
                .as_str()
                .unwrap()
        );
    }

    #[test]
    fn http_requests_match_go_byte_for_byte() {
        let mut req = curl(br#"{"name":"Jimmy"}"#, Some("application/json"));
        let got = http_request(&req, &meta("01CQV4NEXPNG8G00GZJ0000011"));
        assert_eq!(
            String::from_utf8(got).unwrap(),
            vector("http-ok-text")["input"].as_str().unwrap()
        );

        // The first request of http-chunked-then-sized.
        req.headers[2].1 = "text/plain".into();
        req.body = b"chunked body\n".to_vec();
        req.chunked = true;
        let got = http_request(&req, &meta("01CQV4NEXPNG8G00GZJ0000014"));
        let input = vector("http-chunked-then-sized")["input"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(input.starts_with(std::str::from_utf8(&got).unwrap()));

        let req = ClientRequest {
            method: "GET".into(),
            url: "http://localhost:8080/t/myapp/hello?x=1&y=two%20words".into(),
            headers: vec![
                ("User-Agent".to_owned(), "curl/7.61.0".to_owned()),
                ("Accept".to_owned(), "*/*".to_owned()),
            ],
            body: Vec::new(),
            chunked: false,
        };
        let got = http_request(&req, &meta("01CQV4NEXPNG8G00GZJ0000016"));
        assert_eq!(
            String::from_utf8(got).unwrap(),
            vector("http-get-without-body")["input"].as_str().unwrap()
        );
    }

    #[test]
    fn cloudevent_requests_match_go_byte_for_byte() {
        // Re-encoded as Go does: compact, keys sorted.
        let mut req = curl(br#"{"name":"Jimmy"}"#, Some("application/json"));
        let got = cloudevent_request(&req, &meta("01CQV4NEXPNG8G00GZJ0000021")).unwrap();
        assert_eq!(
            String::from_utf8(got).unwrap(),
            vector("cloudevent-json-data")["input"].as_str().unwrap()
        );
        req.headers.truncate(2);
        req.body.clear();
        let got = cloudevent_request(&req, &meta("01CQV4NEXPNG8G00GZJ0000024")).unwrap();
        assert_eq!(
            String::from_utf8(got).unwrap(),
            vector("cloudevent-no-data")["input"].as_str().unwrap()
        );
        req.body = b"not json".to_vec();
        assert!(cloudevent_request(&req, &meta("x")).is_err());
    }

    #[test]
    fn default_env_matches_the_vector() {
        let mut req = curl(br#"{"name":"Jimmy"}"#, Some("application/json"));
        req.headers.push(("X-Multi".into(), "a".into()));
        req.headers.push(("X-Multi".into(), "b".into()));
        let got = default_env(&req, &meta("01CQV4NEXPNG8G00GZJ0000041"));
        let want = vector("default-ok-headers")["env"].clone();
        let want: Vec<(String, String)> = want
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()))
            .collect();
        let mut got_sorted = got.clone();
        got_sorted.sort();
        let mut want_sorted = want;
        want_sorted.sort();
        assert_eq!(got_sorted, want_sorted);
    }

    #[test]
    fn deadlines_have_milliseconds() {
        let t = UNIX_EPOCH + Duration::from_millis(1_540_495_801_123);
        assert_eq!(deadline_string(t), "2018-10-25T19:30:01.123Z");
        let t = UNIX_EPOCH + Duration::from_micros(4_102_444_800_000_999);
        assert_eq!(deadline_string(t), "2100-01-01T00:00:00.000Z");
    }

    #[test]
    fn urls_split_into_host_and_target() {
        let mut req = curl(b"", None);
        assert_eq!(
            req.host_and_target(),
            (
                "localhost:8080",
                "/invoke/01CQV4M3Q7NG8G00GZJ0000001".to_owned()
            )
        );
        req.url = "http://h".into();
        assert_eq!(req.host_and_target(), ("h", "/".to_owned()));
        req.url = "http://h?q=1".into();
        assert_eq!(req.host_and_target(), ("h", "/?q=1".to_owned()));
    }
}
