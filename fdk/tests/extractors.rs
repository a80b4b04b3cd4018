//! `Result<T, T::Rejection>` and `Option<T>` extractors, and customised
//! rejections, through the real socket: a missing or garbled input reaches
//! the handler, and a customised answer keeps the socket's status policy
//! (HS-RESP-1, HS-RESP-6, HS-RESP-8).

use bytes::Bytes;
use fdk::extract::rejection::{JsonRejection, StringRejection};
use fdk::extract::{FromRequest, FromRequestParts, OptionalFromRequestParts, Request};
use fdk::http::request::Parts;
use fdk::http::{self, StatusCode};
use fdk::response::{IntoResponse, Response};
use fdk::testing::{TestCall, TestServer};
use fdk::{Context, Function, FunctionError, Json};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

#[derive(Debug, Deserialize)]
struct Order {
    item: String,
    qty: u32,
}

/// A head extractor that can be absent: `X-Api-Key`, of 4 characters.
#[derive(Debug)]
struct ApiKey(String);

#[derive(Debug)]
struct BadKey(&'static str);

impl IntoResponse for BadKey {
    fn into_response(self) -> Response {
        (StatusCode::UNAUTHORIZED, self.0).into_response()
    }
}

impl<S> OptionalFromRequestParts<S> for ApiKey {
    type Rejection = BadKey;

    fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Option<Self>, BadKey> {
        // Through the context, which carries the client's headers on every
        // transport.
        match Context::from_parts(parts).header("x-api-key") {
            None => Ok(None),
            Some(key) if key.len() == 4 => Ok(Some(Self(key.to_owned()))),
            Some(_) => Err(BadKey("X-Api-Key must be 4 characters")),
        }
    }
}

impl<S> FromRequestParts<S> for ApiKey {
    type Rejection = BadKey;

    fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, BadKey> {
        <Self as OptionalFromRequestParts<S>>::from_request_parts(parts, state)?
            .ok_or(BadKey("no X-Api-Key"))
    }
}

/// A garbled and a missing body both reach a `Result<Json<T>, _>` handler,
/// over invoke and gateway calls; its answer is its own.
#[tokio::test]
async fn result_of_json_hands_the_rejection_to_the_handler() {
    async fn order(order: Result<Json<Order>, JsonRejection>) -> String {
        match order {
            Ok(Json(o)) => format!("{} x {}", o.qty, o.item),
            Err(JsonRejection::InvalidJson { type_name, .. }) => {
                format!(
                    "not an order ({})",
                    type_name.rsplit("::").next().unwrap_or("")
                )
            }
            Err(other) => format!("unreadable: {other}"),
        }
    }
    let server = TestServer::start(Function::new(order)).await.unwrap();
    let mut conn = server.connect().await.unwrap();
    let ok = conn
        .call(TestCall::invoke().body(r#"{"item":"tea","qty":2}"#))
        .await
        .unwrap();
    assert_eq!((ok.status(), ok.text()), (200, "2 x tea".to_owned()));
    for call in [
        TestCall::invoke().body("{garbled"),
        TestCall::invoke(),
        TestCall::gateway("POST", "/orders").body(r#"{"item":1}"#),
    ] {
        let res = conn.call(call).await.unwrap();
        assert_eq!(res.status(), 200);
        assert_eq!(res.user_status(), 200);
        assert_eq!(res.text(), "not an order (Order)");
    }
    server.stop().await;
}

/// `Result<String, _>` takes binary input the plain `String` rejects.
#[tokio::test]
async fn result_of_string_sees_invalid_utf8() {
    async fn text(text: Result<String, StringRejection>) -> String {
        match text {
            Ok(text) => format!("text: {text}"),
            Err(StringRejection::InvalidUtf8(_)) => "binary".to_owned(),
            Err(other) => other.to_string(),
        }
    }
    let server = TestServer::start(Function::new(text)).await.unwrap();
    let mut conn = server.connect().await.unwrap();
    let res = conn
        .call(TestCall::invoke().body(vec![0xff, 0xfe]))
        .await
        .unwrap();
    assert_eq!((res.status(), res.text()), (200, "binary".to_owned()));
    let res = conn.call(TestCall::invoke().body("hi")).await.unwrap();
    assert_eq!(res.text(), "text: hi");
    server.stop().await;
}

/// `Option<Json<T>>`: `None` for no body (or a newline), and a garbled body
/// is still rejected as `Json<T>` rejects it (HS-RESP-6).
#[tokio::test]
async fn option_of_json_is_none_for_no_body_and_still_rejects_garbage() {
    async fn order(order: Option<Json<Order>>) -> String {
        order.map_or_else(|| "default order".to_owned(), |Json(o)| o.item)
    }
    let server = TestServer::start(Function::new(order)).await.unwrap();
    let mut conn = server.connect().await.unwrap();
    for call in [TestCall::invoke(), TestCall::invoke().body("\n")] {
        let res = conn.call(call).await.unwrap();
        assert_eq!(
            (res.status(), res.text()),
            (200, "default order".to_owned())
        );
    }
    let res = conn
        .call(TestCall::invoke().body(r#"{"item":"tea","qty":1}"#))
        .await
        .unwrap();
    assert_eq!(res.text(), "tea");
    let res = conn
        .call(TestCall::invoke().body("{garbled"))
        .await
        .unwrap();
    assert_eq!(res.status(), 502);
    let res = conn
        .call(TestCall::gateway("POST", "/orders").body("{garbled"))
        .await
        .unwrap();
    assert_eq!((res.status(), res.user_status()), (200, 400));
    let message: Value = res.json().unwrap();
    assert!(message["message"].as_str().unwrap().contains("Order"));
    server.stop().await;
}

/// `Option<String>` and `Option<Bytes>`: `None` for an empty body only.
#[tokio::test]
async fn option_of_string_and_bytes_are_none_for_an_empty_body() {
    async fn text(ctx: Context, text: Option<String>) -> String {
        format!("{}:{text:?}", ctx.call_id())
    }
    async fn bytes(bytes: Option<Bytes>) -> String {
        format!("{:?}", bytes.map(|b| b.len()))
    }
    let server = TestServer::start(Function::new(text)).await.unwrap();
    let mut conn = server.connect().await.unwrap();
    let res = conn.call(TestCall::invoke().call_id("a")).await.unwrap();
    assert_eq!(res.text(), "a:None");
    let res = conn
        .call(TestCall::invoke().call_id("b").body(" "))
        .await
        .unwrap();
    assert_eq!(res.text(), "b:Some(\" \")");
    let res = conn
        .call(TestCall::invoke().body(vec![0xff]))
        .await
        .unwrap();
    assert_eq!(res.status(), 502);
    server.stop().await;

    let server = TestServer::start(Function::new(bytes)).await.unwrap();
    let mut conn = server.connect().await.unwrap();
    assert_eq!(conn.call(TestCall::invoke()).await.unwrap().text(), "None");
    let res = conn.call(TestCall::invoke().body("abc")).await.unwrap();
    assert_eq!(res.text(), "Some(3)");
    server.stop().await;
}

/// A head extractor of the user's in `Option` and `Result`: absent is
/// `None`, malformed is rejected (as `Option`) or handed over (as
/// `Result`), with a body extractor after it.
#[tokio::test]
async fn option_and_result_of_a_head_extractor() {
    async fn optional(key: Option<ApiKey>, body: String) -> String {
        format!("{}:{body}", key.map_or("anonymous".to_owned(), |k| k.0))
    }
    async fn fallible(key: Result<ApiKey, BadKey>, body: String) -> String {
        match key {
            Ok(ApiKey(key)) => format!("{key}:{body}"),
            Err(BadKey(why)) => format!("refused ({why}):{body}"),
        }
    }
    let server = TestServer::start(Function::new(optional)).await.unwrap();
    let mut conn = server.connect().await.unwrap();
    let res = conn.call(TestCall::invoke().body("x")).await.unwrap();
    assert_eq!(res.text(), "anonymous:x");
    let res = conn
        .call(TestCall::invoke().header("X-Api-Key", "k123").body("x"))
        .await
        .unwrap();
    assert_eq!(res.text(), "k123:x");
    let res = conn
        .call(TestCall::gateway("GET", "/who").header("X-Api-Key", "long-key"))
        .await
        .unwrap();
    assert_eq!((res.status(), res.user_status()), (200, 401));
    assert_eq!(res.text(), "X-Api-Key must be 4 characters");
    server.stop().await;

    let server = TestServer::start(Function::new(fallible)).await.unwrap();
    let mut conn = server.connect().await.unwrap();
    let res = conn.call(TestCall::invoke().body("x")).await.unwrap();
    assert_eq!(res.text(), "refused (no X-Api-Key):x");
    let res = conn
        .call(TestCall::invoke().header("X-Api-Key", "long-key").body("y"))
        .await
        .unwrap();
    assert_eq!(res.text(), "refused (X-Api-Key must be 4 characters):y");
    server.stop().await;
}

/// An `Option` or `Result` of a head extractor in last place.
#[tokio::test]
async fn option_and_result_of_a_head_extractor_in_last_place() {
    async fn last(key: Option<ApiKey>) -> String {
        key.map_or("anonymous".to_owned(), |k| k.0)
    }
    async fn last_result(ctx: Result<Context, std::convert::Infallible>) -> String {
        ctx.map(|c| c.call_id().to_owned()).unwrap_or_default()
    }
    let res = TestCall::invoke()
        .header("X-Api-Key", "abcd")
        .send(last)
        .await;
    assert_eq!(res.text(), "abcd");
    let server = TestServer::start(Function::new(last_result)).await.unwrap();
    let res = server.call(TestCall::invoke().call_id("c7")).await.unwrap();
    assert_eq!(res.text(), "c7");
    server.stop().await;
}

/// `Json<T>` with this API's error shape: a newtype extractor whose
/// rejection is the user's own response.
struct Input<T>(T);

struct BadInput(JsonRejection);

impl IntoResponse for BadInput {
    fn into_response(self) -> Response {
        let body = json!({ "error": "bad-input", "detail": self.0.to_string() });
        (StatusCode::UNPROCESSABLE_ENTITY, Json(body)).into_response()
    }
}

impl<S: Sync, T: DeserializeOwned> FromRequest<S> for Input<T> {
    type Rejection = BadInput;

    async fn from_request(req: Request, state: &S) -> Result<Self, BadInput> {
        match <Json<T> as FromRequest<S>>::from_request(req, state).await {
            Ok(Json(value)) => Ok(Self(value)),
            Err(rejection) => Err(BadInput(rejection)),
        }
    }
}

/// A customised rejection reaches the client, and the socket status stays
/// 200: the user status travels in `Fn-Http-Status` for gateway calls
/// (HS-GW-*) and invoke calls alike (HS-RESP-8).
#[tokio::test]
async fn a_customised_rejection_reaches_the_client_with_the_status_policy_intact() {
    async fn total(Input(numbers): Input<Vec<u32>>) -> String {
        numbers.iter().sum::<u32>().to_string()
    }
    let server = TestServer::start(Function::new(total)).await.unwrap();
    let mut conn = server.connect().await.unwrap();
    let res = conn.call(TestCall::invoke().body("[1,2,3]")).await.unwrap();
    assert_eq!((res.status(), res.text()), (200, "6".to_owned()));
    for call in [
        TestCall::gateway("POST", "/total").body("[1,"),
        TestCall::invoke().body("[1,"),
    ] {
        let res = conn.call(call).await.unwrap();
        assert_eq!(res.status(), 200, "the server sees a processed call");
        assert_eq!(res.header("fn-http-status"), Some("422"));
        assert_eq!(res.user_status(), 422);
        let body: Value = res.json().unwrap();
        assert_eq!(body["error"], "bad-input");
        assert!(body["detail"].as_str().unwrap().contains("Vec<u32>"));
        assert_eq!(
            res.header("fn-http-h-content-type")
                .or(res.header("content-type")),
            Some("application/json")
        );
    }
    assert_eq!(
        conn.call(TestCall::invoke().body("[4]"))
            .await
            .unwrap()
            .text(),
        "4"
    );
    server.stop().await;
}

/// The `Result` way, mapping the rejection to a `FunctionError`: a 502 on
/// the socket for every call, with the user's message (HS-RESP-4).
#[tokio::test]
async fn a_rejection_mapped_to_a_function_error_is_a_502() {
    async fn strict(order: Result<Json<Order>, JsonRejection>) -> Result<String, FunctionError> {
        let Json(order) = order.map_err(|r| FunctionError::msg(format!("order refused: {r}")))?;
        Ok(order.item)
    }
    let server = TestServer::start(Function::new(strict)).await.unwrap();
    let mut conn = server.connect().await.unwrap();
    for call in [
        TestCall::invoke().body("nope"),
        TestCall::gateway("POST", "/orders").body("nope"),
    ] {
        let res = conn.call(call).await.unwrap();
        assert_eq!(res.status(), 502);
        let body: Value = res.json().unwrap();
        assert!(
            body["message"]
                .as_str()
                .unwrap()
                .starts_with("order refused: the request body is not valid JSON"),
            "{body}"
        );
    }
    server.stop().await;
}

#[test]
fn http_reexport_is_the_one_used() {
    // `fdk::http` is the `http` crate the extractor traits name.
    let (mut parts, ()) = http::Request::new(()).into_parts();
    assert!(<Option<ApiKey> as FromRequestParts<()>>::from_request_parts(&mut parts, &()).is_ok());
}

/// Whether the request carries the call's context, read by an extractor
/// that says it does not read it (as the FDK's body extractors say).
struct Peek(bool);

impl<S> FromRequestParts<S> for Peek {
    type Rejection = std::convert::Infallible;
    const READS_CONTEXT: bool = false;

    fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(Self(parts.extensions.get::<Context>().is_some()))
    }
}

/// The call's id, through the context, by an extractor of the user's own
/// (which says nothing about reading the context, so it may).
struct CallId(String);

impl<S> FromRequestParts<S> for CallId {
    type Rejection = std::convert::Infallible;

    fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(Self(Context::from_parts(parts).call_id().to_owned()))
    }
}

/// The context goes in the request's extensions (a map and three
/// allocations a call) only for a handler that may read it, and an
/// extractor of the user's own always finds it, beside any body extractor.
#[tokio::test]
async fn the_context_is_in_the_request_for_every_handler_that_may_read_it() {
    async fn body_only(Peek(seen): Peek, text: String) -> String {
        format!("{seen} {text}")
    }
    async fn with_context(Peek(seen): Peek, ctx: Context, text: String) -> String {
        format!("{seen} {} {text}", ctx.call_id())
    }
    async fn with_own(Peek(seen): Peek, CallId(id): CallId, text: String) -> String {
        format!("{seen} {id} {text}")
    }
    let functions = [
        (Function::new(body_only), "false hi"),
        (Function::new(with_context), "true 01PEEK hi"),
        (Function::new(with_own), "true 01PEEK hi"),
    ];
    for (function, expected) in functions {
        let server = TestServer::start(function).await.unwrap();
        let mut conn = server.connect().await.unwrap();
        for _ in 0..2 {
            let res = conn
                .call(TestCall::invoke().call_id("01PEEK").body("hi"))
                .await
                .unwrap();
            assert_eq!((res.status(), res.text().as_str()), (200, expected));
        }
    }
}
