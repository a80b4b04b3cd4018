//! HS-REQ-11, SIO-IO-4: a handler's extractors see the client's request
//! (method, URL, headers) on every transport: the same custom
//! `FromRequestParts` extractor reads the same thing over the socket and
//! the `json`, `http` and `cloudevent` formats.

use std::convert::Infallible;

use fdk::extract::FromRequestParts;
use fdk::testing::{StdioRun, TestCall, TestServer};
use fdk::{Context, Function, http};

/// What a user's own extractor reads from the request head.
struct ClientView(String);

impl<S> FromRequestParts<S> for ClientView {
    type Rejection = Infallible;

    fn from_request_parts(parts: &mut http::request::Parts, _: &S) -> Result<Self, Infallible> {
        Ok(Self(describe(&parts.method, &parts.uri, &parts.headers)))
    }
}

fn describe(method: &http::Method, uri: &http::Uri, headers: &http::HeaderMap) -> String {
    let mut out = format!("{method} {uri}\n");
    for (name, value) in headers {
        out.push_str(&format!(
            "{name}: {}\n",
            value.to_str().unwrap_or("<binary>")
        ));
    }
    out
}

/// Answers what the extractor saw, and checks that the context shows the
/// same headers and the same method and URL (for gateway calls).
async fn seen(ClientView(view): ClientView, ctx: Context) -> String {
    let (method, uri) = match ctx.gateway() {
        Some(gw) => (gw.method().clone(), gw.url().clone()),
        None => (http::Method::POST, http::Uri::from_static("/")),
    };
    assert_eq!(view, describe(&method, &uri, ctx.headers()));
    view
}

const URL: &str = "http://example.com/t/app/seen?x=1&y=two%20words";

/// What every transport must show for the trigger call below.
const GATEWAY_VIEW: &str = "GET http://example.com/t/app/seen?x=1&y=two%20words\n\
                            content-type: text/plain\n\
                            x-thing: v1\n\
                            x-thing: v2\n";

#[tokio::test]
async fn the_socket_hands_a_gateway_call_the_clients_request() {
    let server = TestServer::start(Function::new(seen)).await.unwrap();
    let call = TestCall::gateway("GET", URL)
        .header("Content-Type", "text/plain")
        .header("X-Thing", "v1")
        .header("X-Thing", "v2");
    let res = server.call(call).await.unwrap();
    assert_eq!((res.status(), res.user_status()), (200, 200));
    assert_eq!(res.text(), GATEWAY_VIEW);
    server.stop().await;
}

#[tokio::test]
async fn the_socket_hands_an_invoke_call_post_slash_without_framing() {
    let server = TestServer::start(Function::new(seen)).await.unwrap();
    let call = TestCall::invoke()
        .call_id("01SEEN")
        .no_deadline()
        .header("Content-Type", "text/plain")
        .header("X-Thing", "v1")
        .header("X-Thing", "v2")
        .body("x");
    let res = server.call(call).await.unwrap();
    assert_eq!(res.status(), 200);
    let view = res.text();
    assert!(view.starts_with("POST /\n"), "{view}");
    for kept in [
        "fn-call-id: 01SEEN",
        "x-thing: v1\nx-thing: v2",
        "content-type: text/plain",
    ] {
        assert!(view.contains(kept), "{kept} missing from {view}");
    }
    for framing in ["host:", "transfer-encoding:", "content-length:"] {
        assert!(!view.contains(framing), "{framing} in {view}");
    }
    server.stop().await;
}

/// The response body of a `json` or `cloudevent` answer line.
fn body_of(stdout: &[u8], member: &str) -> String {
    let line = std::str::from_utf8(stdout).unwrap().lines().next().unwrap();
    let v: serde_json::Value = serde_json::from_str(line).unwrap();
    v[member].as_str().unwrap().to_owned()
}

const PROTOCOL: &str = r#"{"type":"http","method":"GET","request_url":"http://example.com/t/app/seen?x=1&y=two%20words","headers":{"Content-Type":["text/plain"],"X-Thing":["v1","v2"]}}"#;

#[tokio::test]
async fn the_json_format_hands_the_same_request() {
    let stdin = format!(
        r#"{{"call_id":"01SEEN","content_type":"text/plain","body":"","protocol":{PROTOCOL}}}"#
    ) + "\n";
    let out = StdioRun::new("json").run(Function::new(seen), stdin).await;
    out.result.as_ref().unwrap();
    assert_eq!(body_of(&out.stdout, "body"), GATEWAY_VIEW);
}

#[tokio::test]
async fn the_cloudevent_format_hands_the_same_request() {
    let stdin = format!(
        r#"{{"cloudEventsVersion":"0.1","eventID":"01SEEN","source":"{URL}","eventType":"io.fnproject.call","contentType":"text/plain","data":"","extensions":{{"protocol":{PROTOCOL}}}}}"#
    ) + "\n";
    let out = StdioRun::new("cloudevent")
        .run(Function::new(seen), stdin)
        .await;
    out.result.as_ref().unwrap();
    assert_eq!(body_of(&out.stdout, "data"), GATEWAY_VIEW);
}

#[tokio::test]
async fn the_http_format_hands_the_same_request() {
    let stdin = format!(
        "GET /t/app/seen?x=1&y=two%20words HTTP/1.1\r\nHost: example.com\r\nContent-Length: 0\r\n\
         Content-Type: text/plain\r\nFn_call_id: 01SEEN\r\nFn_method: GET\r\n\
         Fn_request_url: {URL}\r\nX-Thing: v1\r\nX-Thing: v2\r\n\r\n"
    );
    let out = StdioRun::new("http").run(Function::new(seen), stdin).await;
    out.result.as_ref().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert_eq!(body, GATEWAY_VIEW);
}
