//! Calls that succeed: framing, keep-alive, connections, gateway and invoke
//! encoding, big and streamed bodies.

use bytes::Bytes;
use fdk::testing::{TestCall, TestServer};
use fdk::{Body, Context, Function, http};
use http::StatusCode;

async fn echo(body: Bytes) -> Bytes {
    body
}

/// Deterministic pseudo-random bytes (every byte value occurs).
fn noise(len: usize) -> Vec<u8> {
    let mut x: u32 = 0x9E37_79B9;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            (x >> 24) as u8
        })
        .collect()
}

/// HS-LIFE-1, HS-REQ-1, HS-REQ-2.
#[tokio::test]
async fn keep_alive_serves_twenty_calls_with_growing_chunked_bodies() {
    let server = TestServer::start(Function::new(echo)).await.unwrap();
    let mut conn = server.connect().await.unwrap();
    for i in 0..20 {
        let body = noise(i * 1000);
        let res = conn
            .call(TestCall::invoke().body(body.clone()))
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        assert_eq!(res.body().as_ref(), &body[..], "call {i}");
        assert_eq!(res.header("fn-fdk-version"), Some(fdk::FDK_VERSION));
        assert!(res.header("fn-fdk-runtime").unwrap().starts_with("rust/"));
    }
    server.stop().await;
}

/// HS-REQ-1: several chunks, and a `Content-Length` body.
#[tokio::test]
async fn bodies_framed_in_many_chunks_or_by_length_arrive_whole() {
    let server = TestServer::start(Function::new(echo)).await.unwrap();
    let mut conn = server.connect().await.unwrap();
    let head = "POST /call HTTP/1.1\r\nHost: localhost\r\nUser-Agent: Go-http-client/1.1\r\n";
    conn.send_raw(
        format!("{head}Transfer-Encoding: chunked\r\nFn-Call-Id: c1\r\n\r\n3\r\nabc\r\n1\r\nd\r\na;ext=1\r\n0123456789\r\n0\r\n\r\n")
            .as_bytes(),
    )
    .await
    .unwrap();
    assert_eq!(conn.read_response().await.unwrap().text(), "abcd0123456789");
    conn.send_raw(format!("{head}Content-Length: 5\r\nFn-Call-Id: c2\r\n\r\nhello").as_bytes())
        .await
        .unwrap();
    assert_eq!(conn.read_response().await.unwrap().text(), "hello");
    server.stop().await;
}

/// HS-REQ-2, HS-RESP-10: 6 MiB of binary data both ways.
#[tokio::test]
async fn six_mib_binary_body_round_trips_unchanged() {
    let server = TestServer::start(Function::new(echo)).await.unwrap();
    let body = noise(6 << 20);
    let res = server
        .call(TestCall::invoke().body(body.clone()))
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.body().len(), body.len());
    assert!(res.body().as_ref() == &body[..]);
    server.stop().await;
}

/// HS-LIFE-3: a new connection per call, and connections closed unused.
#[tokio::test]
async fn a_new_connection_per_call_works() {
    let server = TestServer::start(Function::new(echo)).await.unwrap();
    for i in 0..5 {
        drop(server.connect().await.unwrap());
        let res = server
            .call(TestCall::invoke().body(format!("call {i}")))
            .await
            .unwrap();
        assert_eq!(res.text(), format!("call {i}"));
    }
    server.stop().await;
}

/// HS-LIFE-4: a second connection is served while the first is mid-call.
#[tokio::test]
async fn a_second_connection_is_served_while_the_first_is_mid_call() {
    let server = TestServer::start(Function::new(echo)).await.unwrap();
    let mut first = server.connect().await.unwrap();
    first
        .send_raw(b"POST /call HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\nFn-Call-Id: a\r\n\r\n5\r\nfirst\r\n")
        .await
        .unwrap();
    let res = server
        .call(TestCall::invoke().body("second"))
        .await
        .unwrap();
    assert_eq!(res.text(), "second");
    first.send_raw(b"0\r\n\r\n").await.unwrap();
    assert_eq!(first.read_response().await.unwrap().text(), "first");
    server.stop().await;
}

/// HS-GW-2..5: gateway calls see the client's view and answer in
/// `Fn-Http-Status` / `Fn-Http-H-*`, every value kept.
#[tokio::test]
async fn gateway_calls_see_the_client_and_answer_through_fn_http_headers() {
    async fn route(ctx: Context) -> http::Response<Body> {
        let gw = ctx.gateway().unwrap();
        let text = format!(
            "{} {} q={} multi={:?} ua={}",
            gw.method(),
            gw.path(),
            gw.query("y").unwrap_or("-"),
            ctx.headers().get_all("x-multi").iter().collect::<Vec<_>>(),
            ctx.header("user-agent").unwrap_or("-"),
        );
        http::Response::builder()
            .status(StatusCode::NOT_FOUND)
            .header("X-Thing", "v1")
            .header("X-Thing", "v2")
            .header("Content-Type", "text/plain")
            .body(text.into())
            .unwrap()
    }
    let server = TestServer::start(Function::new(route)).await.unwrap();
    let call = TestCall::gateway("GET", "http://127.0.0.1:18080/t/cap/cap?x=1&y=two%20words")
        .header("User-Agent", "curl/7.88.1")
        .header("X-Multi", "1")
        .header("X-Multi", "2");
    let res = server.call(call).await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.header("fn-http-status"), Some("404"));
    assert_eq!(res.header_all("fn-http-h-x-thing"), ["v1", "v2"]);
    assert_eq!(res.header("content-type"), Some("text/plain"));
    assert!(res.header("x-thing").is_none());
    assert_eq!(
        res.text(),
        r#"GET /t/cap/cap q=two words multi=["1", "2"] ua=curl/7.88.1"#
    );
    server.stop().await;
}

/// HS-RESP-7, HS-RESP-8: invoke calls keep user headers unprefixed and
/// carry a non-200 user status in `Fn-Http-Status`.
#[tokio::test]
async fn invoke_calls_send_user_headers_as_they_are() {
    async fn custom() -> http::Response<Body> {
        http::Response::builder()
            .status(StatusCode::ACCEPTED)
            .header("X-Custom", "a")
            .header("X-Custom", "b")
            .body(Body::empty())
            .unwrap()
    }
    let server = TestServer::start(Function::new(custom)).await.unwrap();
    let res = server.call(TestCall::invoke()).await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.header_all("x-custom"), ["a", "b"]);
    assert_eq!(res.header("fn-http-status"), Some("202"));
    assert_eq!(res.user_status(), 202);
    server.stop().await;
}

/// A streamed response body reaches the server whole (chunked framing).
#[tokio::test]
async fn streamed_response_bodies_arrive_whole() {
    async fn stream() -> Body {
        let (mut tx, body) = Body::channel();
        tokio::spawn(async move {
            for i in 0..100 {
                if tx.send(format!("part{i};")).await.is_err() {
                    return;
                }
            }
        });
        body
    }
    let server = TestServer::start(Function::new(stream)).await.unwrap();
    let mut conn = server.connect().await.unwrap();
    let res = conn.call(TestCall::invoke()).await.unwrap();
    assert_eq!(res.header("transfer-encoding"), Some("chunked"));
    let expected: String = (0..100).map(|i| format!("part{i};")).collect();
    assert_eq!(res.text(), expected);
    // The connection is still good for the next call.
    assert_eq!(conn.call(TestCall::invoke()).await.unwrap().status(), 200);
    server.stop().await;
}

/// HS-ENV-4: config values reach the handler.
#[tokio::test]
async fn config_values_are_visible_to_the_handler() {
    async fn greet(ctx: Context) -> String {
        format!(
            "{} x{}",
            ctx.config("GREETING").unwrap_or("?"),
            ctx.config_parse::<u32>("TIMES").unwrap()
        )
    }
    let server = TestServer::start_with_config(
        Function::new(greet),
        [("GREETING", "hi, there = yes"), ("TIMES", "3")],
    )
    .await
    .unwrap();
    assert_eq!(
        server.call(TestCall::invoke()).await.unwrap().text(),
        "hi, there = yes x3"
    );
    server.stop().await;
}
