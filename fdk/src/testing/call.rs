//! [`TestCall`] and [`TestResponse`].

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http::header::{HeaderMap, HeaderName, HeaderValue};
use http::{Method, Request, StatusCode};

use crate::body::Body;
use crate::config::Env;
use crate::context::Context;
use crate::dispatch::call;
use crate::function::Function;
use crate::handler::Handler;
use crate::protocol::DEADLINE_LEAD;

/// One call, built the way the Fn server would send it.
#[derive(Debug, Clone)]
pub struct TestCall {
    gateway: Option<(String, String)>,
    call_id: String,
    deadline: Option<SystemTime>,
    headers: Vec<(String, String)>,
    raw_headers: Vec<(String, String)>,
    body: Bytes,
    config: Vec<(String, String)>,
}

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

impl TestCall {
    /// A call through `/invoke/<fn id>`. The deadline defaults to 30 s from
    /// now, in whole seconds, as the server sends it.
    pub fn invoke() -> Self {
        let n = NEXT_ID.fetch_add(1, Ordering::Relaxed);
        Self {
            gateway: None,
            call_id: format!("01TESTCALL{n:016}"),
            deadline: Some(server_deadline(Duration::from_secs(30))),
            headers: Vec::new(),
            raw_headers: Vec::new(),
            body: Bytes::new(),
            config: Vec::new(),
        }
    }

    /// A call through an HTTP trigger: the client's `method` and full `url`.
    pub fn gateway(method: &str, url: &str) -> Self {
        Self {
            gateway: Some((method.to_owned(), url.to_owned())),
            ..Self::invoke()
        }
    }

    /// Sets the call id (`Fn-Call-Id`).
    pub fn call_id(mut self, id: &str) -> Self {
        self.call_id = id.to_owned();
        self
    }

    /// Sets the deadline, truncated to whole seconds as the server does.
    pub fn deadline(mut self, at: SystemTime) -> Self {
        self.deadline = Some(whole_seconds(at));
        self
    }

    /// Sets the deadline of a call whose timeout is `after`, written as
    /// the server writes it (whole seconds, truncated). The server starts
    /// its clock just before it sends a call; the kit plays a server that
    /// started it `50 ms` ago, the most the FDK allows for, so that
    /// [`Context::remaining`] is never more than `after` when `after` is a
    /// whole number of seconds, as the server's timeouts are.
    pub fn deadline_in(mut self, after: Duration) -> Self {
        self.deadline = Some(server_deadline(after));
        self
    }

    /// Sends no `Fn-Deadline` header.
    pub fn no_deadline(mut self) -> Self {
        self.deadline = None;
        self
    }

    /// Adds a client header. For gateway calls it is sent as
    /// `Fn-Http-H-<Name>` (except `Content-Type`), as the server does.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    /// Adds a header to the socket request exactly as given, with no
    /// prefixing: for garbled or unusual headers (`Fn-Deadline: junk`).
    pub fn socket_header(mut self, name: &str, value: &str) -> Self {
        self.raw_headers.push((name.to_owned(), value.to_owned()));
        self
    }

    /// Sets the request body.
    pub fn body(mut self, body: impl Into<Bytes>) -> Self {
        self.body = body.into();
        self
    }

    /// Sets a config variable (the server passes config as environment
    /// variables). In-process calls only; a [`TestServer`](super::TestServer)
    /// takes its config when it starts.
    pub fn config(mut self, key: &str, value: &str) -> Self {
        self.config.push((key.to_owned(), value.to_owned()));
        self
    }

    /// The [`Context`] a handler would see for this call.
    pub fn context(&self) -> Context {
        let (ctx, client) = Context::from_socket(
            self.socket_headers(),
            Arc::new(self.env()),
            &crate::deadline::FnTimeout::default(),
        );
        ctx.attach_headers(|| client);
        ctx
    }

    /// Calls `handler` in-process, through the same code path as a socket
    /// call (extractors, panic boundary, deadline, encoding).
    pub async fn send<H, T>(self, handler: H) -> TestResponse
    where
        H: Handler<T, ()>,
    {
        self.send_to(Function::new(handler)).await
    }

    /// Calls a [`Function`] (with its state) in-process.
    pub async fn send_to(self, function: Function) -> TestResponse {
        let (app, _) = function.into_app(Arc::new(self.env()));
        let (parts, body) = self.socket_request().into_parts();
        // The body limit applies as on the socket (HS-REQ-9).
        let body = Body::from(body).limited(app.max_body);
        let res = call(&app, parts, body, None).await;
        let (parts, body) = res.into_parts();
        // Read out whole, as hyper streams it on the socket.
        let body = body.unlimited().collect().await.unwrap_or_default();
        TestResponse {
            status: parts.status,
            headers: parts.headers,
            body,
        }
    }

    fn env(&self) -> Env {
        Env::from_vars(self.config.iter().cloned())
    }

    /// The headers of the socket request, in the server's order.
    pub(crate) fn socket_header_list(&self) -> Vec<(String, String)> {
        let mut sorted: Vec<(String, String)> = Vec::new();
        let mut user_agent = None;
        let mut accept_encoding = false;
        match &self.gateway {
            None => {
                for (name, value) in &self.headers {
                    let name = canonical(name);
                    if name == "User-Agent" {
                        user_agent = Some(value.clone());
                    } else {
                        accept_encoding |= name == "Accept-Encoding";
                        sorted.push((name, value.clone()));
                    }
                }
            }
            Some((method, url)) => {
                user_agent = Some("Go-http-client/1.1".to_owned());
                for (name, value) in &self.headers {
                    let name = canonical(name);
                    if name == "Content-Type" {
                        sorted.push((name, value.clone()));
                    } else {
                        sorted.push((format!("Fn-Http-H-{name}"), value.clone()));
                    }
                }
                sorted.push(("Fn-Http-Method".into(), method.clone()));
                sorted.push(("Fn-Http-Request-Url".into(), url.clone()));
                sorted.push(("Fn-Intent".into(), "httprequest".into()));
            }
        }
        sorted.push(("Fn-Call-Id".into(), self.call_id.clone()));
        if let Some(deadline) = self.deadline {
            sorted.push(("Fn-Deadline".into(), format_rfc3339(deadline)));
        }
        sorted.extend(self.raw_headers.iter().cloned());
        // Go writes the header map sorted by name; repeated names keep order.
        sorted.sort_by(|a, b| a.0.cmp(&b.0));

        let mut list = vec![("Host".to_owned(), "localhost".to_owned())];
        if let Some(ua) = user_agent {
            list.push(("User-Agent".into(), ua));
        }
        if self.body.is_empty() {
            list.push(("Content-Length".into(), "0".into()));
        } else {
            list.push(("Transfer-Encoding".into(), "chunked".into()));
        }
        list.extend(sorted);
        if !accept_encoding {
            list.push(("Accept-Encoding".into(), "gzip".into()));
        }
        list
    }

    fn socket_headers(&self) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in self.socket_header_list() {
            if let (Ok(name), Ok(value)) = (
                HeaderName::from_bytes(name.as_bytes()),
                HeaderValue::from_str(&value),
            ) {
                map.append(name, value);
            }
        }
        map
    }

    /// The request the server would send, as an `http::Request`.
    pub fn socket_request(&self) -> Request<Bytes> {
        let mut req = Request::new(self.body.clone());
        *req.method_mut() = Method::POST;
        *req.uri_mut() = http::Uri::from_static("/call");
        *req.headers_mut() = self.socket_headers();
        req
    }

    /// The exact bytes the server would write on the socket: `POST /call`,
    /// `Host: localhost`, the body chunked (or `Content-Length: 0`).
    pub fn to_wire(&self) -> Vec<u8> {
        let mut out = b"POST /call HTTP/1.1\r\n".to_vec();
        for (name, value) in self.socket_header_list() {
            out.extend_from_slice(name.as_bytes());
            out.extend_from_slice(b": ");
            out.extend_from_slice(value.as_bytes());
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(b"\r\n");
        if !self.body.is_empty() {
            out.extend_from_slice(format!("{:x}\r\n", self.body.len()).as_bytes());
            out.extend_from_slice(&self.body);
            out.extend_from_slice(b"\r\n0\r\n\r\n");
        }
        out
    }
}

/// What the server would receive for a call.
#[derive(Debug, Clone)]
pub struct TestResponse {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Bytes,
}

impl TestResponse {
    /// The socket status: 200, 502 or 504.
    pub fn status(&self) -> u16 {
        self.status.as_u16()
    }

    /// The status the caller would see: `Fn-Http-Status` for a processed
    /// call (200 when absent), the socket status otherwise.
    pub fn user_status(&self) -> u16 {
        if self.status != StatusCode::OK {
            return self.status.as_u16();
        }
        self.header("fn-http-status")
            .and_then(|s| s.parse().ok())
            .unwrap_or(200)
    }

    /// Every response header.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The first value of header `name`.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Every value of header `name`, in order.
    pub fn header_all(&self, name: &str) -> Vec<&str> {
        self.headers
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect()
    }

    /// The body.
    pub fn body(&self) -> &Bytes {
        &self.body
    }

    /// The body as text (invalid UTF-8 replaced).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The body parsed as JSON.
    #[cfg(feature = "json")]
    pub fn json<T: serde::de::DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        serde_json::from_slice(&self.body)
    }
}

/// Go's canonical header case: `x-foo-bar` -> `X-Foo-Bar`.
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

/// The `Fn-Deadline` a server writes for a call with timeout `after` whose
/// clock started `DEADLINE_LEAD` ago (HS-DL-3).
fn server_deadline(after: Duration) -> SystemTime {
    server_deadline_at(SystemTime::now(), after)
}

fn server_deadline_at(now: SystemTime, after: Duration) -> SystemTime {
    let started = now.checked_sub(DEADLINE_LEAD).unwrap_or(UNIX_EPOCH);
    whole_seconds(started + after)
}

fn whole_seconds(t: SystemTime) -> SystemTime {
    let secs = t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    UNIX_EPOCH + Duration::from_secs(secs)
}

/// `2026-11-26T21:03:13Z`, whole seconds, as Go's `time.RFC3339` in UTC.
pub(crate) fn format_rfc3339(t: SystemTime) -> String {
    let secs = t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let days = i64::try_from(secs / 86_400).unwrap_or(0);
    let rem = secs % 86_400;
    // Howard Hinnant's civil_from_days.
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::deadline::{Deadline, FnTimeout, Stated};
    use std::time::Instant;

    /// At every phase of the second, including its first 50 ms (where a
    /// header truncated from `now + after` reads as a second later), the
    /// kit's deadline leaves a handler at most `after`.
    #[test]
    fn deadline_in_never_gives_more_than_asked() {
        let after = Duration::from_secs(30);
        for ms in 0..1000 {
            let now = UNIX_EPOCH + Duration::from_millis(1_795_726_993_000 + ms);
            let stated = Stated {
                at: server_deadline_at(now, after),
                whole_seconds: true,
            };
            let start = Instant::now();
            let d = Deadline::estimate(stated, now, start, &FnTimeout::default());
            let left = d.instant.saturating_duration_since(start);
            assert!(left <= after, "phase {ms} ms: {left:?} left");
            assert!(
                left >= after - Duration::from_millis(100),
                "phase {ms} ms: {left:?} left"
            );
        }
    }

    #[test]
    fn formats_deadlines_like_go() {
        let t = UNIX_EPOCH + Duration::from_secs(1_795_726_993);
        assert_eq!(format_rfc3339(t), "2026-11-26T21:03:13Z");
        let leap = UNIX_EPOCH + Duration::from_secs(1_709_164_800);
        assert_eq!(format_rfc3339(leap), "2024-02-29T00:00:00Z");
    }

    #[test]
    fn gateway_calls_are_framed_like_capture_f() {
        let call = TestCall::gateway("POST", "http://127.0.0.1:18080/t/cap/cap")
            .call_id("01M8CTPAF9FW0000A6M000000B")
            .deadline(UNIX_EPOCH + Duration::from_secs(1_795_727_007))
            .header("User-Agent", "curl/7.88.1")
            .header("Accept", "*/*")
            .header("Content-Length", "5")
            .header("Content-Type", "text/plain")
            .body("hello");
        let expected = "POST /call HTTP/1.1\r\nHost: localhost\r\nUser-Agent: Go-http-client/1.1\r\n\
            Transfer-Encoding: chunked\r\nContent-Type: text/plain\r\n\
            Fn-Call-Id: 01M8CTPAF9FW0000A6M000000B\r\nFn-Deadline: 2026-11-26T21:03:27Z\r\n\
            Fn-Http-H-Accept: */*\r\nFn-Http-H-Content-Length: 5\r\n\
            Fn-Http-H-User-Agent: curl/7.88.1\r\nFn-Http-Method: POST\r\n\
            Fn-Http-Request-Url: http://127.0.0.1:18080/t/cap/cap\r\nFn-Intent: httprequest\r\n\
            Accept-Encoding: gzip\r\n\r\n5\r\nhello\r\n0\r\n\r\n";
        assert_eq!(String::from_utf8(call.to_wire()).unwrap(), expected);
    }
}
