//! Header counts and sizes from outside (HS-REQ-8, HS-REQ-10, HS-RESP-13):
//! whatever arrives, the socket status is 200, 502 or 504 and the same
//! connection serves the next call.

use bytes::Bytes;
use fdk::testing::{TestCall, TestConnection, TestServer};
use fdk::{Context, Function, http};
use serde_json::Value;

/// Answers how many request headers the handler saw, and echoes the body.
async fn count(ctx: Context, body: Bytes) -> String {
    let n = ctx
        .headers()
        .keys()
        .filter(|k| k.as_str().starts_with("x-"))
        .map(|k| ctx.headers().get_all(k).iter().count())
        .sum::<usize>();
    format!("{n} {}", String::from_utf8_lossy(&body))
}

fn with_headers(mut call: TestCall, n: usize) -> TestCall {
    for i in 0..n {
        call = call.header(&format!("x-h-{i}"), "v");
    }
    call
}

async fn assert_next_call_works(conn: &mut TestConnection) {
    let res = conn
        .call(TestCall::invoke().header("x-one", "1").body("next"))
        .await
        .unwrap();
    assert_eq!((res.status(), res.text()), (200, "1 next".to_owned()));
}

fn message(res: &fdk::testing::TestResponse) -> String {
    assert_eq!(res.header("content-type"), Some("application/json"));
    let json: Value = res.json().unwrap();
    json["message"].as_str().unwrap().to_owned()
}

/// HS-REQ-8: 1,001 and 10,000 request headers are served, in both call
/// kinds, and the connection goes on.
#[tokio::test]
async fn thousands_of_request_headers_are_served() {
    let server = TestServer::start(Function::new(count)).await.unwrap();
    let mut conn = server.connect().await.unwrap();
    for n in [90, 120, 1_001, 10_000] {
        let res = conn
            .call(with_headers(TestCall::invoke(), n).body("b"))
            .await
            .unwrap();
        assert_eq!((res.status(), res.text()), (200, format!("{n} b")), "{n}");
        assert_next_call_works(&mut conn).await;

        let gw = with_headers(TestCall::gateway("GET", "http://x/t/a/f"), n).body("g");
        let res = conn.call(gw).await.unwrap();
        assert_eq!(res.status(), 200, "{n}");
        assert_eq!(res.header("fn-http-status"), Some("200"));
        assert_eq!(res.text(), format!("{n} g"));
        assert_next_call_works(&mut conn).await;
    }
    server.stop().await;
}

/// HS-REQ-10: a head over the FDK's limits (header lines or bytes) is a 502
/// with a JSON message, its body is read, and the same connection serves
/// the next call.
#[tokio::test]
async fn a_head_over_the_limits_is_a_502_and_the_connection_goes_on() {
    let server = TestServer::start(Function::new(count)).await.unwrap();
    let mut conn = server.connect().await.unwrap();
    let cases = [
        (with_headers(TestCall::invoke(), 16_385), "header lines"),
        (with_headers(TestCall::invoke(), 100_000), "header lines"),
        (
            TestCall::invoke().header("x-big", &"b".repeat(2 << 20)),
            "header lines",
        ),
        (
            with_headers(TestCall::gateway("POST", "http://x/t/a/f"), 30_000),
            "header lines",
        ),
    ];
    for (call, needle) in cases {
        // A chunked body follows the head: it must be read as this call's.
        let res = conn.call(call.call_id("01BIG").body("body")).await.unwrap();
        assert_eq!(res.status(), 502);
        let message = message(&res);
        assert!(message.contains("request head is too large"), "{message}");
        assert!(message.contains(needle), "{message}");
        assert_eq!(res.header("fn-fdk-version"), Some(fdk::FDK_VERSION));
        assert_next_call_works(&mut conn).await;
    }
    // A sized body instead of a chunked one.
    let mut raw = b"POST /call HTTP/1.1\r\nContent-Length: 5\r\n".to_vec();
    for i in 0..20_000 {
        raw.extend_from_slice(format!("x-h-{i}: v\r\n").as_bytes());
    }
    raw.extend_from_slice(b"\r\nhello");
    conn.send_raw(&raw).await.unwrap();
    let res = conn.read_response().await.unwrap();
    assert_eq!(res.status(), 502);
    assert_next_call_works(&mut conn).await;
    server.stop().await;
}

/// A handler that answers "ok" with as many distinct response header names
/// as its body says, in a map sized for them (a full map at 24,576).
/// `N` answers a response built by hand (the FDK's encoder meets the full
/// map); `N tuple` answers `(HeaderMap, &str)` (`IntoResponse` meets it).
async fn many_headers(body: Bytes) -> fdk::response::Response {
    use fdk::response::IntoResponse;
    let text = std::str::from_utf8(&body).unwrap();
    let (n, tuple) = match text.split_once(' ') {
        Some((n, _)) => (n.parse().unwrap(), true),
        None => (text.parse().unwrap(), false),
    };
    let mut headers = http::HeaderMap::with_capacity(n);
    for i in 0..n {
        let name = http::HeaderName::from_bytes(format!("x-r-{i}").as_bytes()).unwrap();
        headers.append(name, http::HeaderValue::from_static("v"));
    }
    if tuple {
        return (headers, "ok").into_response();
    }
    let mut res = http::Response::new(fdk::Body::from("ok"));
    *res.headers_mut() = headers;
    res
}

/// HS-RESP-13: a handler that sets more response headers than a header map
/// can hold gets a 502 naming the cause; the next call is served.
#[tokio::test]
async fn too_many_response_headers_are_a_502_with_a_message() {
    let server = TestServer::start(Function::new(many_headers))
        .await
        .unwrap();
    let mut conn = server.connect().await.unwrap();
    for gateway in [false, true] {
        let call = || {
            if gateway {
                TestCall::gateway("GET", "http://x/t/a/f")
            } else {
                TestCall::invoke()
            }
        };
        for body in ["24576", "24576 tuple"] {
            let res = conn.call(call().body(body)).await.unwrap();
            assert_eq!(res.status(), 502, "gateway {gateway}, {body}");
            let message = message(&res);
            assert!(
                message.contains("response has too many headers"),
                "{message}"
            );
            assert_eq!(res.header("fn-fdk-version"), Some(fdk::FDK_VERSION));
        }
        // Many, but within what a header map holds: served as they are.
        let res = conn.call(call().body("10000")).await.unwrap();
        assert_eq!((res.status(), res.text()), (200, "ok".to_owned()));
        assert!(res.headers().len() > 10_000);
    }
    server.stop().await;
}

/// Reads the JSON objects a json or cloudevent run wrote, one per line.
fn lines(out: &fdk::testing::StdioOutput) -> Vec<Value> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// `{"X-H-0": ["v"], …}` with `names` names and `values` values in all.
fn header_object(names: usize, values: usize) -> Value {
    let mut map = serde_json::Map::new();
    for i in 0..names {
        let n = values / names + usize::from(i < values % names);
        map.insert(format!("X-H-{i}"), Value::from(vec!["v"; n]));
    }
    Value::Object(map)
}

/// SIO-ERR-9: 24,577 header values in a json request (in one name, or
/// each under its own) are a 400 response object, and the stream goes on
/// with the next request.
#[tokio::test]
async fn json_requests_with_too_many_header_values_are_400_and_the_stream_goes_on() {
    let mut stdin = Vec::new();
    for headers in [header_object(1, 24_577), header_object(24_577, 24_577)] {
        let req =
            serde_json::json!({"call_id": "c", "body": "x", "protocol": {"headers": headers}});
        stdin.extend_from_slice(req.to_string().as_bytes());
        stdin.push(b'\n');
    }
    let ok = serde_json::json!({"body": "b", "protocol": {"headers": header_object(3, 10_000)}});
    stdin.extend_from_slice(ok.to_string().as_bytes());
    stdin.push(b'\n');
    let out = fdk::testing::StdioRun::new("json")
        .run(Function::new(count), stdin)
        .await;
    assert!(out.result.is_ok(), "{:?}", out.result);
    let lines = lines(&out);
    assert_eq!(lines.len(), 3);
    for line in &lines[..2] {
        assert_eq!(line["protocol"]["status_code"], 400, "{line}");
        let body: Value = serde_json::from_str(line["body"].as_str().unwrap()).unwrap();
        let message = body["message"].as_str().unwrap();
        assert!(message.contains("24577 header values"), "{message}");
    }
    assert_eq!(lines[2]["protocol"]["status_code"], 200);
    assert_eq!(lines[2]["body"], "10000 b");
}

/// SIO-ERR-9: the same in a cloudevent, whose answer keeps the event's id.
#[tokio::test]
async fn cloudevents_with_too_many_header_values_are_400_and_the_stream_goes_on() {
    let event = |id: &str, headers: Value| {
        serde_json::json!({
            "cloudEventsVersion": "0.1", "eventID": id, "source": "http://x/invoke/f",
            "eventType": "http", "contentType": "text/plain", "data": "d",
            "extensions": {"protocol": {"type": "http", "method": "POST", "headers": headers}},
        })
        .to_string()
    };
    let stdin = format!(
        "{}\n{}\n",
        event("01BIG", header_object(24_577, 24_577)),
        event("01OK", header_object(2, 2))
    );
    let out = fdk::testing::StdioRun::new("cloudevent")
        .run(Function::new(count), stdin)
        .await;
    assert!(out.result.is_ok(), "{:?}", out.result);
    let lines = lines(&out);
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["eventID"], "01BIG");
    assert_eq!(lines[0]["extensions"]["protocol"]["status_code"], 400);
    let message = lines[0]["data"]["message"].as_str().unwrap();
    assert!(message.contains("24577 header values"), "{message}");
    assert_eq!(lines[1]["extensions"]["protocol"]["status_code"], 200);
    assert_eq!(lines[1]["data"], "2 d");
}

/// SIO-ERR-9: 24,577 `FN_HEADER_*` variables fail a `default` call
/// (nothing on stdout, exit 1) without running the handler; 10,000 work.
#[tokio::test]
async fn default_calls_with_too_many_header_variables_fail_cleanly() {
    let run = |n: usize| {
        let mut run = fdk::testing::StdioRun::new("default");
        for i in 0..n {
            run = run.env(format!("FN_HEADER_X-H-{i}"), "v");
        }
        run.run(Function::new(count), "body")
    };
    let out = run(24_577).await;
    assert!(
        out.stdout.is_empty(),
        "{:?}",
        String::from_utf8_lossy(&out.stdout)
    );
    let err = out.result.unwrap_err();
    assert!(err.is_call(), "{err:?}");
    assert!(err.to_string().contains("24577 header values"), "{err}");

    let out = run(10_000).await;
    assert!(out.result.is_ok(), "{:?}", out.result);
    assert_eq!(out.stdout, b"10000 body");
}

/// SIO-ERR-9: a handler whose response headers fill a header map gets the
/// format's failure (500 with a message) and the stream goes on.
#[tokio::test]
async fn stdio_responses_with_too_many_headers_are_500_with_a_message() {
    let stdin = "{\"body\":\"24576\"}\n{\"body\":\"24576 tuple\"}\n{\"body\":\"3\"}\n";
    let out = fdk::testing::StdioRun::new("json")
        .run(Function::new(many_headers), stdin)
        .await;
    assert!(out.result.is_ok(), "{:?}", out.result);
    let lines = lines(&out);
    assert_eq!(lines.len(), 3);
    for line in &lines[..2] {
        assert_eq!(line["protocol"]["status_code"], 500, "{line}");
        let body = line["body"].as_str().unwrap();
        assert!(body.contains("response has too many headers"), "{body}");
    }
    assert_eq!(lines[2]["protocol"]["status_code"], 200);
}

/// HS-REQ-9: the body limit is for what a handler buffers of its request.
/// A request body handed back as the response (an echo) goes out whole:
/// over the socket, and in-process through the test kit alike.
#[tokio::test]
async fn an_echoed_request_body_is_not_capped_on_the_way_out() {
    async fn echo(body: fdk::Body) -> fdk::Body {
        body
    }
    let body = "x".repeat(100);
    let limit = [("FDK_MAX_BODY", "10")];
    let server = TestServer::start_with_config(Function::new(echo), limit)
        .await
        .unwrap();
    let res = server
        .call(TestCall::invoke().body(body.clone()))
        .await
        .unwrap();
    assert_eq!((res.status(), res.text()), (200, body.clone()));
    server.stop().await;
    let res = TestCall::invoke()
        .config("FDK_MAX_BODY", "10")
        .body(body.clone())
        .send_to(Function::new(echo))
        .await;
    assert_eq!((res.status(), res.text()), (200, body));
}
