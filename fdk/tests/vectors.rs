//! protocol-spec/vectors/responses.json: each user-level outcome, encoded
//! through the whole call path, gives the socket response the spec lists.

use std::time::{Duration, SystemTime};

use bytes::Bytes;
use fdk::testing::{TestCall, TestResponse};
use fdk::{Body, FunctionError, Json, http};
use serde_json::Value;

use crate::util::b64_decode;

async fn run(v: &Value) -> TestResponse {
    let user = &v["user"];
    let call = match v["kind"].as_str().unwrap() {
        "gateway" => TestCall::gateway("POST", "http://localhost:8080/t/app/fn"),
        _ => TestCall::invoke(),
    };
    match user["outcome"].as_str().unwrap() {
        "ok" => {
            let user = user.clone();
            let handler = move || {
                let user = user.clone();
                async move {
                    let mut res =
                        http::Response::builder().status(user["status"].as_u64().unwrap() as u16);
                    for h in user["headers"].as_array().unwrap() {
                        res = res.header(h[0].as_str().unwrap(), h[1].as_str().unwrap());
                    }
                    res.body(Body::from(user["body"].as_str().unwrap().to_owned()))
                        .unwrap()
                }
            };
            call.send(handler).await
        }
        "error" => {
            async fn fails() -> Result<(), FunctionError> {
                Err(FunctionError::msg("boom"))
            }
            call.send(fails).await
        }
        "panic" => {
            async fn panics() -> Bytes {
                panic!("boom")
            }
            call.send(panics).await
        }
        "deadline" => {
            async fn never() {
                std::future::pending::<()>().await
            }
            call.deadline(SystemTime::now() - Duration::from_secs(1))
                .send(never)
                .await
        }
        "rejection" => {
            let body = b64_decode(user["request_body_b64"].as_str().unwrap());
            let call = call.body(body);
            match user["input_type"].as_str().unwrap() {
                "json" => {
                    async fn json(Json(v): Json<Value>) -> String {
                        v.to_string()
                    }
                    call.send(json).await
                }
                _ => {
                    async fn text(s: String) -> String {
                        s
                    }
                    call.send(text).await
                }
            }
        }
        other => panic!("unknown outcome {other}"),
    }
}

#[tokio::test]
async fn every_response_vector_is_encoded_as_the_spec_says() {
    let vectors: Vec<Value> =
        serde_json::from_str(include_str!("../../protocol-spec/vectors/responses.json")).unwrap();
    assert!(vectors.len() >= 20);
    for v in &vectors {
        let name = v["name"].as_str().unwrap();
        let res = run(v).await;
        let expect = &v["expect"];
        assert_eq!(
            u64::from(res.status()),
            expect["status"].as_u64().unwrap(),
            "{name}"
        );
        for pair in expect["must_have"].as_array().into_iter().flatten() {
            let (k, val) = (pair[0].as_str().unwrap(), pair[1].as_str().unwrap());
            assert!(
                res.header_all(k).contains(&val),
                "{name}: {k}: {val} in {:?}",
                res.headers()
            );
        }
        for pair in expect["must_have_prefix"].as_array().into_iter().flatten() {
            let (k, prefix) = (pair[0].as_str().unwrap(), pair[1].as_str().unwrap());
            assert!(
                res.header(k).is_some_and(|v| v.starts_with(prefix)),
                "{name}: {k}"
            );
        }
        for k in expect["must_not_have"].as_array().into_iter().flatten() {
            let k = k.as_str().unwrap();
            assert!(
                res.header(k).is_none(),
                "{name}: {k} must be absent: {:?}",
                res.headers()
            );
        }
        match &expect["body"] {
            Value::Object(body) if body.contains_key("exact") => {
                assert_eq!(res.text(), body["exact"].as_str().unwrap(), "{name}");
            }
            Value::Object(body) if body.contains_key("json_message") => {
                assert_eq!(
                    res.header("content-type"),
                    Some("application/json"),
                    "{name}"
                );
                let json: Value = res.json().unwrap();
                assert!(json["message"].is_string(), "{name}: {json}");
            }
            other => panic!("{name}: unknown body expectation {other}"),
        }
    }
}
