//! Calls that fail, and hostile input: each must leave the process serving
//! and the next call correct.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use fdk::testing::{TestCall, TestConnection, TestServer};
use fdk::{Context, Function, FunctionError, Json, http};
use serde::Deserialize;
use serde_json::Value;

async fn echo(body: Bytes) -> Bytes {
    body
}

async fn assert_next_call_works(conn: &mut TestConnection) {
    let res = conn.call(TestCall::invoke().body("next")).await.unwrap();
    assert_eq!((res.status(), res.text()), (200, "next".to_owned()));
}

fn message(res: &fdk::testing::TestResponse) -> String {
    assert_eq!(res.header("content-type"), Some("application/json"));
    let json: Value = res.json().unwrap();
    json["message"].as_str().unwrap().to_owned()
}

/// HS-RESP-5: a panic (here after an await) is a 502 and the same
/// connection serves the next call.
#[tokio::test]
async fn panicking_handler_answers_502_and_keeps_serving() {
    async fn moody(body: Bytes) -> Bytes {
        if body.as_ref() == b"panic" {
            tokio::task::yield_now().await;
            panic!("the handler gave up");
        }
        body
    }
    let server = TestServer::start(Function::new(moody)).await.unwrap();
    let mut conn = server.connect().await.unwrap();
    let res = conn.call(TestCall::invoke().body("panic")).await.unwrap();
    assert_eq!(res.status(), 502);
    assert!(message(&res).contains("the handler gave up"));
    assert_eq!(res.header("fn-fdk-version"), Some(fdk::FDK_VERSION));
    assert_next_call_works(&mut conn).await;
    server.stop().await;
}

/// HS-RESP-5: a panic while the handler makes its future (a `Handler`
/// written by hand, here) is the call's 502 too, not the connection's end.
#[tokio::test]
async fn a_panic_before_the_handlers_future_exists_answers_502() {
    #[derive(Clone)]
    struct ByHand;
    enum Marker {}
    impl fdk::Handler<Marker, ()> for ByHand {
        fn call(
            self,
            req: fdk::http::Request<fdk::Body>,
            _state: (),
        ) -> impl Future<Output = fdk::http::Response<fdk::Body>> + Send + 'static {
            if req.headers().contains_key("x-panic") {
                panic!("gave up before any future");
            }
            async { fdk::http::Response::new(fdk::Body::from("next")) }
        }
    }
    let server = TestServer::start(Function::new(ByHand)).await.unwrap();
    let mut conn = server.connect().await.unwrap();
    let res = conn
        .call(TestCall::invoke().header("X-Panic", "1"))
        .await
        .unwrap();
    assert_eq!(res.status(), 502);
    assert!(message(&res).contains("gave up before any future"));
    assert_next_call_works(&mut conn).await;
    server.stop().await;
}

/// HS-RESP-4: a handler error is a 502 with a JSON message.
#[tokio::test]
async fn handler_error_answers_502_with_a_json_message() {
    async fn fails(ctx: Context) -> Result<String, FunctionError> {
        let n: u32 = ctx.header("x-n").unwrap_or("").parse()?;
        Ok(n.to_string())
    }
    let server = TestServer::start(Function::new(fails)).await.unwrap();
    let mut conn = server.connect().await.unwrap();
    let res = conn
        .call(TestCall::invoke().header("X-N", "x"))
        .await
        .unwrap();
    assert_eq!(res.status(), 502);
    assert_eq!(message(&res), "invalid digit found in string");
    let res = conn
        .call(TestCall::invoke().header("X-N", "7"))
        .await
        .unwrap();
    assert_eq!(res.text(), "7");
    server.stop().await;
}

/// HS-DL-4: the deadline passes, the FDK answers 504 and goes on.
#[tokio::test]
async fn deadline_passed_answers_504_and_the_next_call_works() {
    async fn slow(body: Bytes) -> Bytes {
        if body.as_ref() == b"hang" {
            tokio::time::sleep(Duration::from_secs(3600)).await;
        }
        body
    }
    let server = TestServer::start(Function::new(slow)).await.unwrap();
    let mut conn = server.connect().await.unwrap();
    // Whole seconds, truncated: this deadline is 0-1 s away.
    let call = TestCall::invoke()
        .deadline_in(Duration::from_secs(1))
        .body("hang");
    let res = conn.call(call).await.unwrap();
    assert_eq!(res.status(), 504);
    assert!(message(&res).contains("deadline"));
    assert_next_call_works(&mut conn).await;
    server.stop().await;
}

/// HS-DL-4: a deadline already past on arrival is a 504 without running
/// the handler.
#[tokio::test]
async fn a_deadline_already_past_is_504_without_running_the_handler() {
    let ran = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&ran);
    let handler = move || {
        let flag = Arc::clone(&flag);
        async move { flag.store(true, Ordering::SeqCst) }
    };
    let server = TestServer::start(Function::new(handler)).await.unwrap();
    let past = SystemTime::now() - Duration::from_secs(5);
    let res = server
        .call(TestCall::invoke().deadline(past))
        .await
        .unwrap();
    assert_eq!(res.status(), 504);
    assert!(!ran.load(Ordering::SeqCst));
    server.stop().await;
}

/// HS-DL-2, HS-REQ-3: garbled deadline and missing call id are tolerated.
#[tokio::test]
async fn garbled_deadline_and_missing_call_id_are_tolerated() {
    async fn seen(ctx: Context) -> String {
        format!("{:?} [{}]", ctx.deadline(), ctx.call_id())
    }
    let server = TestServer::start(Function::new(seen)).await.unwrap();
    let mut conn = server.connect().await.unwrap();
    conn.send_raw(b"POST /call HTTP/1.1\r\nHost: localhost\r\nContent-Length: 0\r\nFn-Deadline: next tuesday\r\n\r\n")
        .await
        .unwrap();
    let res = conn.read_response().await.unwrap();
    assert_eq!((res.status(), res.text()), (200, "None []".to_owned()));
    server.stop().await;
}

/// HS-REQ-7: a request the server never sends gets a 502, and the
/// connection goes on.
#[tokio::test]
async fn unexpected_method_or_path_answers_502_json() {
    let server = TestServer::start(Function::new(echo)).await.unwrap();
    let mut conn = server.connect().await.unwrap();
    conn.send_raw(b"GET /other HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await
        .unwrap();
    let res = conn.read_response().await.unwrap();
    assert_eq!(res.status(), 502);
    assert!(message(&res).contains("GET /other"));
    assert_eq!(res.header("fn-fdk-version"), Some(fdk::FDK_VERSION));
    assert_next_call_works(&mut conn).await;
    server.stop().await;
}

/// HS-LIFE-5: a caller that hangs up mid-body leaves no trace.
#[tokio::test]
async fn a_hang_up_mid_body_leaves_the_next_call_intact() {
    let server = TestServer::start(Function::new(echo)).await.unwrap();
    let mut quitter = server.connect().await.unwrap();
    quitter
        .send_raw(b"POST /call HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n10\r\nhalf a bo")
        .await
        .unwrap();
    drop(quitter);
    let mut conn = server.connect().await.unwrap();
    assert_next_call_works(&mut conn).await;
    server.stop().await;
}

/// HS-REQ-5: a body the handler never reads is read to its end before the
/// response head, and does not leak into the next call on the connection.
#[tokio::test]
async fn an_unread_body_is_drained_before_the_answer() {
    async fn ignores_body(ctx: Context) -> String {
        ctx.call_id().to_owned()
    }
    let server = TestServer::start(Function::new(ignores_body))
        .await
        .unwrap();
    let mut conn = server.connect().await.unwrap();
    let wire = TestCall::invoke()
        .call_id("big")
        .body(vec![b'x'; 1 << 20])
        .to_wire();
    let (first, rest) = wire.split_at(wire.len() / 2);
    conn.send_raw(first).await.unwrap();
    // No answer while half the body is still to come.
    let early = tokio::time::timeout(Duration::from_millis(100), conn.read_response()).await;
    assert!(early.is_err(), "answered before the request body was read");
    conn.send_raw(rest).await.unwrap();
    assert_eq!(conn.read_response().await.unwrap().text(), "big");
    let res = conn
        .call(TestCall::invoke().call_id("after"))
        .await
        .unwrap();
    assert_eq!(res.text(), "after");
    server.stop().await;
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct Order {
    qty: u32,
}

/// HS-RESP-6: input that does not parse is a 502 for invoke calls and a
/// 400 (in `Fn-Http-Status`) for gateway calls, naming the type.
#[tokio::test]
async fn unparseable_input_is_rejected_per_call_kind() {
    async fn order(Json(order): Json<Order>) -> String {
        order.qty.to_string()
    }
    let server = TestServer::start(Function::new(order)).await.unwrap();
    let res = server
        .call(TestCall::invoke().body("{\"qty\": \"lots\"}"))
        .await
        .unwrap();
    assert_eq!(res.status(), 502);
    let text = message(&res);
    assert!(
        text.contains("Order") && text.contains("line 1 column"),
        "{text}"
    );

    let gw = TestCall::gateway("POST", "http://h/t/a/f").body("not json");
    let res = server.call(gw).await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.header("fn-http-status"), Some("400"));
    assert!(message(&res).contains("not valid JSON"));
    server.stop().await;
}

/// `String` refuses invalid UTF-8 instead of replacing it.
#[tokio::test]
async fn invalid_utf8_for_a_string_is_an_error_not_a_loss() {
    async fn text(s: String) -> String {
        s
    }
    let res = TestCall::invoke()
        .body(vec![b'o', b'k', 0xff])
        .send(text)
        .await;
    assert_eq!(res.status(), 502);
    assert!(message(&res).contains("not valid UTF-8"));
}

/// HS-RESP-1, HS-RESP-9: user statuses never reach the socket status, and
/// user hop-by-hop headers never reach the socket.
#[tokio::test]
async fn user_statuses_and_hop_by_hop_headers_stay_off_the_socket() {
    async fn odd(body: Bytes) -> http::Response<fdk::Body> {
        let status: u16 = std::str::from_utf8(&body).unwrap().parse().unwrap();
        http::Response::builder()
            .status(status)
            .header("Connection", "close")
            .header("Keep-Alive", "timeout=1")
            .header("Content-Length", "999")
            .body("body".into())
            .unwrap()
    }
    let server = TestServer::start(Function::new(odd)).await.unwrap();
    let mut conn = server.connect().await.unwrap();
    for status in ["204", "400", "500", "201"] {
        let res = conn.call(TestCall::invoke().body(status)).await.unwrap();
        assert_eq!(res.status(), 200);
        assert_eq!(res.header("fn-http-status"), Some(status));
        assert!(res.header("connection").is_none() && res.header("keep-alive").is_none());
        assert_eq!(res.header("content-length"), Some("4"));
    }
    server.stop().await;
}

/// HS-REQ-8: a gateway call with hundreds of client headers is served.
#[tokio::test]
async fn hundreds_of_headers_are_accepted() {
    async fn count(ctx: Context) -> String {
        ctx.headers().len().to_string()
    }
    let server = TestServer::start(Function::new(count)).await.unwrap();
    let mut call = TestCall::gateway("GET", "http://h/t/a/f");
    for i in 0..600 {
        call = call.header(&format!("X-H{i}"), "v");
    }
    let res = server.call(call).await.unwrap();
    assert_eq!((res.status(), res.text()), (200, "600".to_owned()));
    server.stop().await;
}

/// `?` works on `anyhow::Error` in a handler returning `FunctionError`.
#[tokio::test]
async fn anyhow_errors_convert_with_the_question_mark() {
    fn load(input: &str) -> anyhow::Result<u32> {
        let n: u32 = input.parse()?;
        anyhow::ensure!(n > 0, "n must be positive");
        Ok(n)
    }
    async fn handler(body: String) -> Result<String, FunctionError> {
        Ok(load(&body)?.to_string())
    }
    let res = TestCall::invoke().body("0").send(handler).await;
    assert_eq!(res.status(), 502);
    assert_eq!(message(&res), "n must be positive");
    let res = TestCall::invoke().body("7").send(handler).await;
    assert_eq!(res.text(), "7");
}

/// HS-REQ-9: a body past `FDK_MAX_BODY` is refused by every buffered
/// extractor, chunked or sized, without running the handler (413 through
/// `Fn-Http-Status` for gateway calls, 502 for invoke calls); the rest is
/// drained and the same connection serves the next call. A streaming
/// `Body` is not limited.
#[tokio::test]
async fn a_body_past_the_limit_is_413_and_the_next_call_is_served() {
    static RAN: AtomicBool = AtomicBool::new(false);
    async fn text(s: String) -> String {
        RAN.store(true, Ordering::SeqCst);
        s
    }
    let limit = 64 << 10;
    let server =
        TestServer::start_with_config(Function::new(text), [("FDK_MAX_BODY", limit.to_string())])
            .await
            .unwrap();
    let mut conn = server.connect().await.unwrap();
    let big = vec![b'x'; 4 * limit + 1];

    // Chunked (as the server sends a body), gateway call.
    let gw = TestCall::gateway("POST", "http://h/t/a/f").body(big.clone());
    let res = conn.call(gw).await.unwrap();
    assert_eq!(
        (res.status(), res.header("fn-http-status")),
        (200, Some("413"))
    );
    assert!(message(&res).contains(&limit.to_string()), "{}", res.text());
    assert!(
        !RAN.load(Ordering::SeqCst),
        "the handler ran on a refused body"
    );

    // Sized, invoke call: refused from its Content-Length, then drained.
    let mut sized = b"POST /call HTTP/1.1\r\nFn-Call-Id: sized\r\n".to_vec();
    sized.extend_from_slice(format!("Content-Length: {}\r\n\r\n", big.len()).as_bytes());
    sized.extend_from_slice(&big);
    conn.send_raw(&sized).await.unwrap();
    let res = conn.read_response().await.unwrap();
    assert_eq!(res.status(), 502);
    assert!(message(&res).contains("FDK_MAX_BODY"), "{}", res.text());

    // Exactly the limit is still served, on the same connection.
    let res = conn
        .call(TestCall::invoke().body(vec![b'y'; limit]))
        .await
        .unwrap();
    assert_eq!((res.status(), res.body().len()), (200, limit));
    assert_next_call_works(&mut conn).await;
    server.stop().await;

    // A streaming body reads past the limit.
    async fn count(mut body: fdk::Body) -> String {
        let mut n = 0;
        while let Some(Ok(chunk)) = body.chunk().await {
            n += chunk.len();
        }
        n.to_string()
    }
    let server = TestServer::start_with_config(Function::new(count), [("FDK_MAX_BODY", "10")])
        .await
        .unwrap();
    let res = server.call(TestCall::invoke().body(big)).await.unwrap();
    assert_eq!(res.text(), (4 * limit + 1).to_string());
    server.stop().await;
}

/// HS-REQ-9: in-process calls (`TestCall::send`) apply `FDK_MAX_BODY` as
/// the socket does, so a function's own tests see the 413.
#[tokio::test]
async fn in_process_calls_apply_the_body_limit() {
    let gw = || TestCall::gateway("POST", "http://h/t/a/f").config("FDK_MAX_BODY", "3");
    let res = gw().body("abcd").send(echo).await;
    assert_eq!(
        (res.status(), res.header("fn-http-status")),
        (200, Some("413"))
    );
    let res = gw().body("abc").send(echo).await;
    assert_eq!((res.status(), res.text()), (200, "abc".to_owned()));
}
