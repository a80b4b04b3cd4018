//! Serve calls with any [`tower_service::Service`], an axum `Router` say.
//!
//! Gateway calls reach the service as the HTTP client sent them: the
//! client's method, full URL and headers (prefix removed). Invoke calls,
//! which have no method or URL of their own, arrive as `POST /` with the
//! invoke headers. The call's [`Context`] is in the request extensions. The
//! service's status and headers become the user's response (so for gateway
//! calls `Fn-Http-Status` and `Fn-Http-H-*`); a service error is a 502.
//!
//! ```
//! use std::convert::Infallible;
//! use std::future::Ready;
//! use std::task::{Context as TaskContext, Poll};
//! use fdk::{Body, http};
//!
//! #[derive(Clone)]
//! struct PathEcho;
//!
//! impl tower_service::Service<http::Request<Body>> for PathEcho {
//!     type Response = http::Response<Body>;
//!     type Error = Infallible;
//!     type Future = Ready<Result<Self::Response, Infallible>>;
//!     fn poll_ready(&mut self, _: &mut TaskContext<'_>) -> Poll<Result<(), Infallible>> {
//!         Poll::Ready(Ok(()))
//!     }
//!     fn call(&mut self, req: http::Request<Body>) -> Self::Future {
//!         std::future::ready(Ok(http::Response::new(req.uri().path().to_owned().into())))
//!     }
//! }
//!
//! let function = fdk::tower::function(PathEcho);
//! # let _ = function;
//! ```

use std::sync::Arc;

use bytes::Bytes;
use http::{Method, Uri};
use tokio::sync::Mutex;

use crate::body::Body;
use crate::context::Context;
use crate::error::{BoxError, FunctionError};
use crate::function::Function;
use crate::response::IntoResponse;

/// A [`Function`] whose calls are served by `service`.
pub fn function<Svc, B>(service: Svc) -> Function
where
    Svc: tower_service::Service<http::Request<Body>, Response = http::Response<B>> + Send + 'static,
    Svc::Future: Send + 'static,
    Svc::Error: Into<BoxError>,
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    // Calls come one at a time; the lock only makes the service shareable.
    let service = Arc::new(Mutex::new(service));
    Function::new(move |ctx: Context, body: Body| {
        let service = Arc::clone(&service);
        async move {
            let req = request(&ctx, body);
            let future = {
                let mut svc = service.lock().await;
                if let Err(err) = std::future::poll_fn(|cx| svc.poll_ready(cx)).await {
                    return FunctionError::from(err.into()).into_response();
                }
                svc.call(req)
            };
            match future.await {
                Ok(res) => res.map(Body::wrap),
                Err(err) => FunctionError::from(err.into()).into_response(),
            }
        }
    })
}

fn request(ctx: &Context, body: Body) -> http::Request<Body> {
    let mut req = http::Request::new(body);
    match ctx.gateway() {
        Some(gw) => {
            *req.method_mut() = gw.method().clone();
            *req.uri_mut() = gw.url().clone();
        }
        None => {
            *req.method_mut() = Method::POST;
            *req.uri_mut() = Uri::from_static("/");
        }
    }
    *req.headers_mut() = ctx.headers().clone();
    req.extensions_mut().insert(ctx.clone());
    req
}
