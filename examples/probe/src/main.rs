//! The probe function of the conformance harness: each call's `X-Probe`
//! header (a JSON object) says what to do, and the probe does it through
//! the FDK's public API and nothing else (`protocol-spec/probe.md`).
//!
//! A test fixture, not an example of style: it must not work around the
//! FDK, so whatever the FDK makes of an error, a panic, a missed deadline
//! or an odd status is exactly what the harness gets to see.

mod report;

use std::time::Duration;

use fdk::http;
use fdk::http::header::{CONTENT_TYPE, HeaderValue};
use fdk::response::{IntoResponse, Response};
use fdk::{Body, Bytes, Context, FunctionError, Json};
use serde::Deserialize;

use report::Report;

/// One `X-Probe` request. Serde ignores unknown fields, as the spec asks;
/// an unknown `op` is a parse error (answered with a 502, below).
#[derive(Debug, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
enum Op {
    Echo,
    Report {
        #[serde(default)]
        config: Vec<String>,
    },
    Respond {
        status: u16,
        #[serde(default)]
        headers: Vec<(String, String)>,
        #[serde(default)]
        body: String,
        content_type: Option<String>,
    },
    Sleep {
        ms: u64,
    },
    Error {
        message: String,
    },
    Panic {
        message: String,
    },
    Nothing,
    Emit {
        bytes: usize,
    },
    Stream {
        chunks: u64,
        size: usize,
    },
    Log {
        stdout: Option<String>,
        stderr: Option<String>,
    },
    Exit {
        code: i32,
    },
}

/// Does what the call's `X-Probe` header asks.
#[fdk::handler]
async fn probe(ctx: &Context, body: Body) -> Result<Response, FunctionError> {
    match op(ctx)? {
        // `Bytes` answers `application/octet-stream`.
        Op::Echo => Ok(body.collect().await?.into_response()),
        Op::Report { config } => Ok(Json(Report::new(ctx, body, config).await?).into_response()),
        Op::Respond {
            status,
            headers,
            body,
            content_type,
        } => respond(status, headers, body, content_type),
        Op::Sleep { ms } => {
            // A timer, not `std::thread::sleep`: the runtime keeps serving
            // (and the FDK's deadline timer keeps running) meanwhile.
            tokio::time::sleep(Duration::from_millis(ms)).await;
            Ok("slept".into_response())
        }
        Op::Error { message } => Err(FunctionError::msg(message)),
        Op::Panic { message } => panic!("{message}"),
        // A handler may return `()`, Rust's "no value", and `()` is a valid
        // response (an empty one, no headers). One handler answers every op,
        // so it has one return type; `().into_response()` is exactly what
        // the FDK would have made of a bare `()`.
        Op::Nothing => Ok(().into_response()),
        // `Vec<u8>` answers `application/octet-stream`.
        Op::Emit { bytes } => Ok((0..bytes)
            .map(|i| (i % 251) as u8)
            .collect::<Vec<u8>>()
            .into_response()),
        Op::Stream { chunks, size } => Ok(stream(chunks, size).into_response()),
        Op::Log { stdout, stderr } => {
            // Rust's stdout is line-buffered: the newline flushes it.
            if let Some(line) = stdout {
                println!("{line}");
            }
            if let Some(line) = stderr {
                eprintln!("{line}");
            }
            Ok("logged".into_response())
        }
        // At once, mid-call: no response, no cleanup, as a crash would.
        Op::Exit { code } => std::process::exit(code),
    }
}

/// The call's `X-Probe` request; a call without one is `echo`.
fn op(ctx: &Context) -> Result<Op, FunctionError> {
    // `ctx.header` reads the client's header for both call kinds (the FDK
    // removes the gateway's `Fn-Http-H-` prefix).
    match ctx.header("x-probe") {
        Some(text) => serde_json::from_str(text)
            .map_err(|err| FunctionError::msg(format!("X-Probe {text:?} is not a probe: {err}"))),
        // `header` hides values that are not visible ASCII; say so rather
        // than fall back to `echo` as if the header were absent.
        None if ctx.headers().contains_key("x-probe") => Err(FunctionError::msg(
            "X-Probe is not visible ASCII: write other characters as JSON \\u escapes",
        )),
        None => Ok(Op::Echo),
    }
}

/// The user-level response the request describes. The FDK decides how it
/// travels (`Fn-Http-Status`, `Fn-Http-H-*`); what it cannot carry (a
/// status outside 100-999, a malformed header) fails the call.
fn respond(
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
    content_type: Option<String>,
) -> Result<Response, FunctionError> {
    let mut res = http::Response::builder().status(status);
    for (name, value) in headers {
        res = res.header(name, value);
    }
    let mut res = res
        .body(Body::from(body))
        .map_err(|err| FunctionError::msg(format!("respond: {err}")))?;
    if let Some(content_type) = content_type {
        // Replaces a `Content-Type` given in `headers`: one field, one value.
        let value = HeaderValue::try_from(content_type)
            .map_err(|err| FunctionError::msg(format!("respond: content_type: {err}")))?;
        res.headers_mut().insert(CONTENT_TYPE, value);
    }
    Ok(res)
}

/// `chunks` writes of `size` bytes of `x`. The FDK has no explicit flush:
/// each `send` is one body frame that the server loop writes as it reads.
fn stream(chunks: u64, size: usize) -> Body {
    let (mut tx, out) = Body::channel();
    tokio::spawn(async move {
        let chunk = Bytes::from(vec![b'x'; size]);
        for _ in 0..chunks {
            if tx.send(chunk.clone()).await.is_err() {
                return; // the server hung up
            }
        }
    });
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use std::time::{Instant, SystemTime, UNIX_EPOCH};

    use fdk::testing::{TestCall, TestResponse, TestServer};
    use serde_json::{Value, json};

    /// The handler as the FDK serves it (`#[fdk::handler]` does this for
    /// `main`), so calls go through the FDK's extractors and encoding.
    async fn served(ctx: Context, body: Body) -> Result<Response, FunctionError> {
        probe(&ctx, body).await
    }

    async fn send(call: TestCall) -> TestResponse {
        call.send(served).await
    }

    fn invoke(probe: &str) -> TestCall {
        TestCall::invoke().header("X-Probe", probe)
    }

    /// The response's headers, without the FDK's version and runtime.
    fn headers(res: &TestResponse) -> Vec<(String, String)> {
        res.headers()
            .iter()
            .filter(|(name, _)| !name.as_str().starts_with("fn-fdk-"))
            .map(|(name, value)| (name.to_string(), value.to_str().unwrap().to_owned()))
            .collect()
    }

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn message(res: &TestResponse) -> String {
        let body: Value = res.json().unwrap();
        body["message"].as_str().unwrap().to_owned()
    }

    #[tokio::test]
    async fn echo_is_the_default_and_answers_the_exact_bytes() {
        let body: &[u8] = b"\x00\xffbinary\r\n";
        for call in [
            TestCall::invoke(),
            invoke(r#"{"op":"echo"}"#),
            invoke(r#"{"op":"echo","unknown":[1,{"x":null}]}"#),
        ] {
            let res = send(call.body(body)).await;
            assert_eq!(res.status(), 200);
            assert_eq!(
                headers(&res),
                pairs(&[("content-type", "application/octet-stream")])
            );
            assert_eq!(res.body().as_ref(), body);
        }
        let res = send(
            TestCall::gateway("POST", "http://h/t/a/f")
                .header("X-Probe", r#"{"op":"echo"}"#)
                .body("hello"),
        )
        .await;
        assert_eq!(res.status(), 200);
        assert_eq!(
            headers(&res),
            pairs(&[
                ("fn-http-status", "200"),
                ("content-type", "application/octet-stream")
            ])
        );
        assert_eq!(res.text(), "hello");
    }

    #[tokio::test]
    async fn report_of_an_invoke_call() {
        let probe = r#"{"op":"report","config":["GREETING","FN_APP_ID","MISSING","GREETING"]}"#;
        // 2099-01-01T00:00:00Z: far enough ahead to never time out.
        let deadline = UNIX_EPOCH + Duration::from_secs(4_070_908_800);
        let res = send(
            invoke(probe)
                .call_id("01CALL")
                .deadline(deadline)
                .header("Content-Type", "text/plain")
                .header("X-Multi", "1")
                .header("X-Multi", "2")
                .config("GREETING", "hi")
                .config("FN_APP_ID", "01APP")
                .body("hello"),
        )
        .await;
        assert_eq!(res.status(), 200);
        assert_eq!(
            headers(&res),
            pairs(&[("content-type", "application/json")])
        );
        let expected = json!({
            "call_id": "01CALL",
            "deadline": "2099-01-01T00:00:00Z",
            "gateway": false,
            "method": null,
            "url": null,
            "content_type": "text/plain",
            // Invoke calls show the socket headers, less the framing ones,
            // grouped by name in the order the names first arrived.
            "headers": [
                ["content-type", "text/plain"],
                ["fn-call-id", "01CALL"],
                ["fn-deadline", "2099-01-01T00:00:00Z"],
                ["x-multi", "1"],
                ["x-multi", "2"],
                ["x-probe", probe],
                ["accept-encoding", "gzip"],
            ],
            "config": {"GREETING": "hi", "FN_APP_ID": "01APP", "MISSING": null},
            "body_len": 5,
            "body_sha256": "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824",
        });
        assert_eq!(res.json::<Value>().unwrap(), expected);
        // The member order too: the spec's, and config in request order.
        let text = res.text();
        assert!(
            text.starts_with(r#"{"call_id":"01CALL","deadline":"2099-01-01T00:00:00Z","gateway":false,"method":null,"url":null,"content_type":"text/plain","headers":[["#),
            "{text}"
        );
        assert!(
            text.contains(r#"],"config":{"GREETING":"hi","FN_APP_ID":"01APP","MISSING":null},"body_len":5,"body_sha256":""#),
            "{text}"
        );
    }

    #[tokio::test]
    async fn report_of_a_gateway_call() {
        let probe = r#"{"op":"report"}"#;
        let res = send(
            TestCall::gateway("GET", "http://h/t/a/f?x=1")
                .call_id("")
                .no_deadline()
                .header("Accept", "*/*")
                .header("X-Multi", "1")
                .header("X-Multi", "2")
                .header("X-Probe", probe),
        )
        .await;
        assert_eq!(res.status(), 200);
        assert_eq!(
            headers(&res),
            pairs(&[
                ("fn-http-status", "200"),
                ("content-type", "application/json")
            ])
        );
        let expected = json!({
            "call_id": null,
            "deadline": null,
            "gateway": true,
            "method": "GET",
            "url": "http://h/t/a/f?x=1",
            "content_type": null,
            // The client's headers only, unprefixed.
            "headers": [
                ["accept", "*/*"],
                ["x-multi", "1"],
                ["x-multi", "2"],
                ["x-probe", probe],
            ],
            "config": {},
            "body_len": 0,
            "body_sha256": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        });
        assert_eq!(res.json::<Value>().unwrap(), expected);
    }

    #[tokio::test]
    async fn respond_sets_status_headers_body_and_content_type() {
        let probe = r#"{"op":"respond","status":201,"headers":[["X-A","1"],["X-A","2"],["Content-Type","text/old"],["X-B","b"]],"body":"made","content_type":"text/x-probe"}"#;
        let res = send(invoke(probe)).await;
        assert_eq!(res.status(), 200);
        assert_eq!(
            headers(&res),
            pairs(&[
                ("x-a", "1"),
                ("x-a", "2"),
                ("content-type", "text/x-probe"),
                ("x-b", "b"),
                ("fn-http-status", "201"),
            ])
        );
        assert_eq!(res.text(), "made");

        let res = send(TestCall::gateway("GET", "http://h/t/a/f").header("X-Probe", probe)).await;
        assert_eq!((res.status(), res.user_status()), (200, 201));
        assert_eq!(
            headers(&res),
            pairs(&[
                ("fn-http-status", "201"),
                ("fn-http-h-x-a", "1"),
                ("fn-http-h-x-a", "2"),
                ("content-type", "text/x-probe"),
                ("fn-http-h-x-b", "b"),
            ])
        );
        assert_eq!(res.text(), "made");

        // Without `content_type`, `headers` or `body`: none of them.
        let res = send(invoke(r#"{"op":"respond","status":404}"#)).await;
        assert_eq!(res.status(), 200);
        assert_eq!(headers(&res), pairs(&[("fn-http-status", "404")]));
        assert_eq!(res.text(), "");
    }

    #[tokio::test]
    async fn respond_with_what_http_cannot_carry_fails_the_call() {
        for probe in [
            r#"{"op":"respond","status":42}"#,
            r#"{"op":"respond","status":200,"headers":[["bad name","v"]]}"#,
            r#"{"op":"respond","status":200,"content_type":"a\nb"}"#,
        ] {
            let res = send(invoke(probe)).await;
            assert_eq!(res.status(), 502, "{probe}");
            assert!(message(&res).starts_with("respond: "), "{probe}");
        }
    }

    #[tokio::test]
    async fn sleep_answers_slept_after_the_time() {
        let start = Instant::now();
        let res = send(invoke(r#"{"op":"sleep","ms":30}"#)).await;
        assert!(start.elapsed() >= Duration::from_millis(30));
        assert_eq!(res.status(), 200);
        assert_eq!(
            headers(&res),
            pairs(&[("content-type", "text/plain; charset=utf-8")])
        );
        assert_eq!(res.text(), "slept");
    }

    #[tokio::test]
    async fn sleep_past_the_deadline_is_a_504() {
        let res = send(
            invoke(r#"{"op":"sleep","ms":10000}"#)
                .deadline(SystemTime::now() - Duration::from_secs(1)),
        )
        .await;
        assert_eq!(res.status(), 504);
    }

    #[tokio::test]
    async fn error_fails_the_call_with_the_message() {
        let res = send(invoke(r#"{"op":"error","message":"boom"}"#)).await;
        assert_eq!(res.status(), 502);
        assert_eq!(
            headers(&res),
            pairs(&[("content-type", "application/json")])
        );
        assert_eq!(res.json::<Value>().unwrap(), json!({"message": "boom"}));
    }

    #[tokio::test]
    async fn panic_fails_the_call() {
        let res = send(invoke(r#"{"op":"panic","message":"oops"}"#)).await;
        assert_eq!(res.status(), 502);
        assert!(message(&res).contains("oops"), "{}", res.text());
    }

    #[tokio::test]
    async fn nothing_is_an_empty_success() {
        let res = send(invoke(r#"{"op":"nothing"}"#)).await;
        assert_eq!(res.status(), 200);
        assert_eq!(headers(&res), []);
        assert!(res.body().is_empty());
        let res = send(
            TestCall::gateway("GET", "http://h/t/a/f").header("X-Probe", r#"{"op":"nothing"}"#),
        )
        .await;
        assert_eq!(headers(&res), pairs(&[("fn-http-status", "200")]));
        assert!(res.body().is_empty());
    }

    #[tokio::test]
    async fn emit_answers_the_byte_pattern() {
        let res = send(invoke(r#"{"op":"emit","bytes":600}"#)).await;
        assert_eq!(res.status(), 200);
        assert_eq!(
            headers(&res),
            pairs(&[("content-type", "application/octet-stream")])
        );
        let expected: Vec<u8> = (0..600).map(|i| (i % 251) as u8).collect();
        assert_eq!(res.body().as_ref(), expected);
        assert_eq!((res.body()[250], res.body()[251]), (250, 0));
        let res = send(invoke(r#"{"op":"emit","bytes":0}"#)).await;
        assert_eq!((res.status(), res.body().len()), (200, 0));
    }

    #[tokio::test]
    async fn stream_answers_chunks_of_x() {
        let res = send(invoke(r#"{"op":"stream","chunks":3,"size":5}"#)).await;
        assert_eq!(res.status(), 200);
        assert_eq!(headers(&res), []);
        assert_eq!(res.text(), "x".repeat(15));
    }

    #[tokio::test]
    async fn log_answers_logged() {
        // That the lines reach stdout and stderr is checked on a real
        // process, in tests/exit.rs.
        let res = send(invoke(
            r#"{"op":"log","stdout":"to out","stderr":"to err"}"#,
        ))
        .await;
        assert_eq!(res.status(), 200);
        assert_eq!(res.text(), "logged");
    }

    #[tokio::test]
    async fn a_bad_x_probe_fails_the_call_and_says_why() {
        for probe in [
            "not json",
            "{}",
            r#"{"op":"fly"}"#,
            r#"{"op":"sleep"}"#,
            r#"{"op":"emit","bytes":-1}"#,
        ] {
            let res = send(invoke(probe)).await;
            assert_eq!(res.status(), 502, "{probe}");
            assert!(message(&res).starts_with("X-Probe "), "{probe}");
        }
    }

    /// A non-ASCII value is not silently an `echo`. `TestCall` drops such
    /// headers in-process, so this goes through a real socket.
    #[tokio::test]
    async fn a_non_ascii_x_probe_is_refused() {
        let server = TestServer::start(fdk::Function::new(served)).await.unwrap();
        let res = server
            .call(invoke(r#"{"op":"respond","status":200,"body":"é"}"#))
            .await
            .unwrap();
        assert_eq!(res.status(), 502);
        assert!(
            message(&res).contains("not visible ASCII"),
            "{}",
            res.text()
        );
        server.stop().await;
    }
}
