//! HS-LIFE-13: `Function::layer` puts tower middleware around a handler,
//! inside the FDK's boundary, proven through the real socket: the layers
//! see the client's request and the context, their order is the order of
//! the calls (last added is outermost), a layer may answer by itself, and
//! a layer's error, panic or overrun is the call's, after which the
//! process keeps serving.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context as TaskContext, Poll};
use std::time::Duration;

use fdk::testing::{TestCall, TestServer};
use fdk::{Body, Context, Function, http};
use tower_service::Service;

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

/// What a layer does around the service it wraps.
#[derive(Clone, Copy)]
enum Act {
    /// Notes the request it saw, calls in, adds `X-Layer: <name>` to the
    /// response.
    Pass,
    /// Answers 401 itself unless the client sent `Authorization`.
    Guard,
    /// Fails with an error of its own for a body-less `X-Fail` call.
    Fail,
    /// Panics on a call with `X-Panic`.
    Panic,
    /// Sleeps an hour on a call with `X-Stall`, then calls in.
    Stall,
}

/// A tower layer and its service in one: `name` goes into `seen` and into
/// the response's `X-Layer` headers.
#[derive(Clone)]
struct Mw<S> {
    name: &'static str,
    act: Act,
    seen: Arc<Mutex<Vec<String>>>,
    inner: S,
}

struct MwLayer {
    name: &'static str,
    act: Act,
    seen: Arc<Mutex<Vec<String>>>,
}

impl<S> tower_layer::Layer<S> for MwLayer {
    type Service = Mw<S>;
    fn layer(&self, inner: S) -> Mw<S> {
        Mw {
            name: self.name,
            act: self.act,
            seen: Arc::clone(&self.seen),
            inner,
        }
    }
}

#[derive(Debug)]
struct LayerFailed;

impl std::fmt::Display for LayerFailed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the layer refused the call")
    }
}

impl std::error::Error for LayerFailed {}

impl<S> Service<http::Request<Body>> for Mw<S>
where
    S: Service<http::Request<Body>, Response = http::Response<Body>> + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    type Response = http::Response<Body>;
    type Error = Box<dyn std::error::Error + Send + Sync>;
    type Future = BoxFuture<Result<Self::Response, Self::Error>>;

    fn poll_ready(&mut self, cx: &mut TaskContext<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, req: http::Request<Body>) -> Self::Future {
        let call_id = req
            .extensions()
            .get::<Context>()
            .map(|ctx| ctx.call_id().to_owned())
            .unwrap_or_default();
        let view = format!(
            "{} {} {} {} {}",
            self.name,
            req.method(),
            req.uri(),
            req.headers()
                .get("x-tenant")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("-"),
            call_id,
        );
        self.seen.lock().unwrap().push(view);
        let has = |name: &str| req.headers().contains_key(name);
        match self.act {
            Act::Guard if !has("authorization") => {
                let res = http::Response::builder()
                    .status(401)
                    .body(Body::from("who are you?"))
                    .unwrap();
                return Box::pin(async move { Ok(res) });
            }
            Act::Fail if has("x-fail") => {
                return Box::pin(async { Err(LayerFailed.into()) });
            }
            Act::Panic if has("x-panic") => panic!("the layer gave up"),
            _ => {}
        }
        let stall = matches!(self.act, Act::Stall) && has("x-stall");
        let name = self.name;
        let call = self.inner.call(req);
        Box::pin(async move {
            if stall {
                tokio::time::sleep(Duration::from_secs(3600)).await;
            }
            let mut res = call.await.map_err(Into::into)?;
            res.headers_mut()
                .append("x-layer", http::HeaderValue::from_static(name));
            Ok(res)
        })
    }
}

fn layer(name: &'static str, act: Act, seen: &Arc<Mutex<Vec<String>>>) -> MwLayer {
    MwLayer {
        name,
        act,
        seen: Arc::clone(seen),
    }
}

/// The handler, with what it saw of the request.
async fn hello(ctx: Context, body: String) -> String {
    format!("hello {body} ({})", ctx.header("x-tenant").unwrap_or("-"))
}

fn seen_log() -> Arc<Mutex<Vec<String>>> {
    Arc::new(Mutex::new(Vec::new()))
}

#[tokio::test]
async fn layers_wrap_the_handler_outermost_last_and_see_the_clients_request() {
    let seen = seen_log();
    let function = Function::new(hello)
        .layer(layer("inner", Act::Pass, &seen))
        .layer(layer("outer", Act::Pass, &seen));
    let server = TestServer::start(function).await.unwrap();

    let call = TestCall::gateway("PUT", "http://example.com/t/app/hi?x=1")
        .call_id("01GATEWAY")
        .header("X-Tenant", "acme")
        .body("Jo");
    let res = server.call(call).await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.user_status(), 200);
    assert_eq!(res.text(), "hello Jo (acme)");
    // The inner layer added its header first: the outer one saw it.
    assert_eq!(res.header_all("Fn-Http-H-X-Layer"), ["inner", "outer"]);

    let call = TestCall::invoke()
        .call_id("01INVOKE")
        .header("X-Tenant", "initech")
        .body("Al");
    let res = server.call(call).await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.text(), "hello Al (initech)");
    assert_eq!(res.header_all("X-Layer"), ["inner", "outer"]);

    assert_eq!(
        *seen.lock().unwrap(),
        [
            "outer PUT http://example.com/t/app/hi?x=1 acme 01GATEWAY",
            "inner PUT http://example.com/t/app/hi?x=1 acme 01GATEWAY",
            "outer POST / initech 01INVOKE",
            "inner POST / initech 01INVOKE",
        ]
    );
    server.stop().await;
}

#[tokio::test]
async fn a_layer_can_answer_without_the_handler() {
    let seen = seen_log();
    let ran = Arc::new(Mutex::new(0u32));
    let counted = Arc::clone(&ran);
    let handler = move |body: String| {
        *counted.lock().unwrap() += 1;
        async move { body }
    };
    let function = Function::new(handler).layer(layer("guard", Act::Guard, &seen));
    let server = TestServer::start(function).await.unwrap();

    let res = server
        .call(TestCall::gateway("GET", "http://example.com/t/app/x"))
        .await
        .unwrap();
    // A user status: the socket stays 200 (HS-RESP-1), the client gets 401.
    assert_eq!(res.status(), 200);
    assert_eq!(res.user_status(), 401);
    assert_eq!(res.text(), "who are you?");
    assert_eq!(*ran.lock().unwrap(), 0);

    let call = TestCall::gateway("GET", "http://example.com/t/app/x")
        .header("Authorization", "Bearer t")
        .body("in");
    let res = server.call(call).await.unwrap();
    assert_eq!(res.user_status(), 200);
    assert_eq!(res.text(), "in");
    assert_eq!(*ran.lock().unwrap(), 1);
    server.stop().await;
}

#[tokio::test]
async fn a_layers_error_panic_or_overrun_is_the_calls_and_serving_goes_on() {
    let seen = seen_log();
    let function = Function::new(hello)
        .layer(layer("fail", Act::Fail, &seen))
        .layer(layer("panic", Act::Panic, &seen))
        .layer(layer("stall", Act::Stall, &seen));
    let server = TestServer::start(function).await.unwrap();
    let mut conn = server.connect().await.unwrap();

    let res = conn
        .call(TestCall::invoke().header("X-Fail", "1"))
        .await
        .unwrap();
    assert_eq!(res.status(), 502);
    assert!(
        res.text().contains("the layer refused the call"),
        "{}",
        res.text()
    );

    let res = conn
        .call(TestCall::invoke().header("X-Panic", "1"))
        .await
        .unwrap();
    assert_eq!(res.status(), 502);

    let call = TestCall::invoke()
        .deadline_in(Duration::from_secs(1))
        .header("X-Stall", "1");
    let res = conn.call(call).await.unwrap();
    assert_eq!(res.status(), 504);

    // The same connection, and the process, go on.
    let res = conn.call(TestCall::invoke().body("again")).await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.text(), "hello again (-)");
    assert_eq!(res.header_all("X-Layer"), ["fail", "panic", "stall"]);
    server.stop().await;
}

/// An infallible layer written with `tower_layer::layer_fn`, the shape of
/// the crate docs' example.
#[tokio::test]
async fn a_layer_fn_layer_works() {
    #[derive(Clone)]
    struct Upper<S>(S);
    impl<S> Service<http::Request<Body>> for Upper<S>
    where
        S: Service<http::Request<Body>, Response = http::Response<Body>, Error = Infallible>,
        S::Future: Send + 'static,
    {
        type Response = http::Response<Body>;
        type Error = Infallible;
        type Future = BoxFuture<Result<Self::Response, Infallible>>;
        fn poll_ready(&mut self, cx: &mut TaskContext<'_>) -> Poll<Result<(), Infallible>> {
            self.0.poll_ready(cx)
        }
        fn call(&mut self, req: http::Request<Body>) -> Self::Future {
            let call = self.0.call(req);
            Box::pin(async move {
                let res = call.await?;
                let (parts, body) = res.into_parts();
                let text = body.collect().await.unwrap_or_default();
                let upper = String::from_utf8_lossy(&text).to_uppercase();
                Ok(http::Response::from_parts(parts, Body::from(upper)))
            })
        }
    }
    let function = Function::new(hello).layer(tower_layer::layer_fn(Upper));
    let server = TestServer::start(function).await.unwrap();
    let res = server.call(TestCall::invoke().body("jo")).await.unwrap();
    assert_eq!(res.text(), "HELLO JO (-)");
    server.stop().await;
}

/// A layer that hands the request body back (through `Body::wrap`, as
/// `tower::function` does) is not held to the request's body limit.
#[tokio::test]
async fn a_service_echoing_the_request_body_is_not_capped() {
    #[derive(Clone)]
    struct Echo;
    impl Service<http::Request<Body>> for Echo {
        type Response = http::Response<Body>;
        type Error = Infallible;
        type Future = std::future::Ready<Result<Self::Response, Infallible>>;
        fn poll_ready(&mut self, _: &mut TaskContext<'_>) -> Poll<Result<(), Infallible>> {
            Poll::Ready(Ok(()))
        }
        fn call(&mut self, req: http::Request<Body>) -> Self::Future {
            std::future::ready(Ok(http::Response::new(req.into_body())))
        }
    }
    let body = "x".repeat(100);
    let res = TestCall::invoke()
        .config("FDK_MAX_BODY", "10")
        .body(body.clone())
        .send_to(fdk::tower::function(Echo))
        .await;
    assert_eq!((res.status(), res.text()), (200, body));
}

/// A layer's change to the request reaches the handler's extractors; the
/// context keeps the headers as the call arrived.
#[tokio::test]
async fn a_layers_request_change_reaches_the_extractors_not_the_context() {
    struct Tenant(String);
    impl<S> fdk::extract::FromRequestParts<S> for Tenant {
        type Rejection = Infallible;
        fn from_request_parts(parts: &mut http::request::Parts, _: &S) -> Result<Self, Infallible> {
            let tenant = parts.headers.get("x-tenant").and_then(|v| v.to_str().ok());
            Ok(Self(tenant.unwrap_or("-").to_owned()))
        }
    }
    #[derive(Clone)]
    struct SetTenant<S>(S);
    impl<S> Service<http::Request<Body>> for SetTenant<S>
    where
        S: Service<http::Request<Body>>,
    {
        type Response = S::Response;
        type Error = S::Error;
        type Future = S::Future;
        fn poll_ready(&mut self, cx: &mut TaskContext<'_>) -> Poll<Result<(), S::Error>> {
            self.0.poll_ready(cx)
        }
        fn call(&mut self, mut req: http::Request<Body>) -> S::Future {
            req.headers_mut()
                .insert("x-tenant", http::HeaderValue::from_static("from-layer"));
            self.0.call(req)
        }
    }
    async fn both(Tenant(seen): Tenant, ctx: Context) -> String {
        format!("{seen} {}", ctx.header("x-tenant").unwrap_or("-"))
    }
    let function = Function::new(both).layer(tower_layer::layer_fn(SetTenant));
    let server = TestServer::start(function).await.unwrap();
    let res = server
        .call(TestCall::invoke().header("X-Tenant", "client"))
        .await
        .unwrap();
    assert_eq!(res.text(), "from-layer client");
    server.stop().await;
}
