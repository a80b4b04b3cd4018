//! The requests a real Fn server 0.3.753 sent (shared/reference/captures,
//! condensed into protocol-spec/vectors/requests.json), replayed byte for
//! byte on the socket: the handler must see what the spec says.

use fdk::Function;
use fdk::testing::{TestCall, TestServer};
use serde_json::Value;

use crate::util::{b64_decode, introspect, with_fresh_deadline};

#[tokio::test]
async fn every_captured_request_is_seen_as_the_spec_says() {
    let vectors: Vec<Value> =
        serde_json::from_str(include_str!("../../protocol-spec/vectors/requests.json")).unwrap();
    assert!(vectors.len() >= 7);
    let server = TestServer::start(Function::new(introspect)).await.unwrap();
    let mut conn = server.connect().await.unwrap();
    for v in &vectors {
        let name = v["name"].as_str().unwrap();
        let raw = with_fresh_deadline(&b64_decode(v["raw_b64"].as_str().unwrap()));
        conn.send_raw(&raw).await.unwrap();
        let res = conn.read_response().await.unwrap();
        assert_eq!(res.status(), 200, "{name}: {}", res.text());
        let seen: Value = res.json().unwrap();
        let expect = &v["expect"];
        assert_eq!(seen["call_id"], expect["call_id"], "{name}");
        assert_eq!(seen["is_gateway"], expect["is_gateway"], "{name}");
        assert_eq!(seen["method"], expect["method"], "{name}");
        assert_eq!(seen["request_url"], expect["request_url"], "{name}");
        assert_eq!(seen["content_type"], expect["content_type"], "{name}");
        assert_eq!(seen["body_b64"], expect["body_b64"], "{name}");
        if expect["is_gateway"] == true {
            assert_eq!(seen["query"], expect["query"], "{name}");
        }
        // Headers: the spec's list, except the deadline we refreshed.
        let strip = |h: &Value| -> Vec<Value> {
            h.as_array()
                .unwrap()
                .iter()
                .filter(|p| p[0] != "fn-deadline")
                .cloned()
                .collect()
        };
        assert_eq!(strip(&seen["headers"]), strip(&expect["headers"]), "{name}");
        assert!(seen["deadline_unix"].is_u64(), "{name}: deadline parsed");
    }
    server.stop().await;
}

#[tokio::test]
async fn the_test_kit_writes_the_servers_bytes() {
    // Capture a-invoke-json, as TestCall builds it.
    let v: Vec<Value> =
        serde_json::from_str(include_str!("../../protocol-spec/vectors/requests.json")).unwrap();
    let a = v
        .iter()
        .find(|v| v["capture"] == "a-invoke-json.json")
        .unwrap();
    let raw = b64_decode(a["raw_b64"].as_str().unwrap());
    let text = String::from_utf8(raw).unwrap();
    let deadline = text
        .lines()
        .find_map(|l| l.strip_prefix("Fn-Deadline: "))
        .unwrap()
        .trim()
        .to_owned();
    let call = TestCall::invoke()
        .call_id(a["expect"]["call_id"].as_str().unwrap())
        .header("User-Agent", "curl/7.88.1")
        .header("Accept", "*/*")
        .header("Content-Type", "application/json")
        .body(r#"{"name":"Jimmy"}"#);
    let built = String::from_utf8(call.to_wire()).unwrap();
    let built_deadline = built
        .lines()
        .find_map(|l| l.strip_prefix("Fn-Deadline: "))
        .unwrap()
        .trim()
        .to_owned();
    assert_eq!(built.replace(&built_deadline, &deadline), text);
}
