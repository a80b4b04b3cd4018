//! Serve calls with any [`tower_service::Service`], an axum `Router` say.
//!
//! The service gets the request a handler's extractors see, the client's
//! on every transport (HS-REQ-11): for gateway calls the client's method,
//! full URL and headers (prefix removed); for invoke calls, which have no
//! method or URL of their own, `POST /` with the invoke headers. The call's
//! [`Context`] is in the request extensions. The service's
//! status and headers become the user's response (so for gateway calls
//! `Fn-Http-Status` and `Fn-Http-H-*`); a service error is a 502.
//!
//! The service is cloned for each call and driven like tower's `oneshot`
//! (`poll_ready`, then `call` on the clone), so calls never wait on each
//! other: it must be `Clone + Send + Sync`, as an axum `Router` is.
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
//!
//! The other way round, [`Function::layer`] puts tower layers (middleware)
//! around a handler: the innermost service is the handler as a
//! [`HandlerService`].

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context as TaskContext, Poll};

use bytes::Bytes;

use crate::body::Body;
use crate::context::Context;
use crate::error::{BoxError, FunctionError};
use crate::extract::Request;
use crate::function::Function;
use crate::handler::{BoxFuture, BoxHandler, Handler};
use crate::response::{IntoResponse, Response};

/// A [`Function`] whose calls are served by `service`.
pub fn function<Svc, B>(service: Svc) -> Function
where
    Svc: tower_service::Service<http::Request<Body>, Response = http::Response<B>>
        + Clone
        + Send
        + Sync
        + 'static,
    Svc::Future: Send + 'static,
    Svc::Error: Into<BoxError>,
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    Function::new(Adapter(service))
}

/// `handler` inside `layer`, as a handler again (`Function::layer`).
pub(crate) fn layered<L, B>(handler: BoxHandler, layer: L) -> BoxHandler
where
    L: tower_layer::Layer<HandlerService>,
    L::Service: tower_service::Service<http::Request<Body>, Response = http::Response<B>>
        + Clone
        + Send
        + Sync
        + 'static,
    <L::Service as tower_service::Service<http::Request<Body>>>::Future: Send + 'static,
    <L::Service as tower_service::Service<http::Request<Body>>>::Error: Into<BoxError>,
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    Adapter(layer.layer(HandlerService { handler })).boxed(())
}

/// A function's handler as a [`tower_service::Service`]: what the
/// innermost of the layers added with [`Function::layer`] wraps.
///
/// It is always ready, never fails (a handler's failure is its response,
/// a 502 on the socket) and is cheap to clone.
#[derive(Clone)]
pub struct HandlerService {
    handler: BoxHandler,
}

impl std::fmt::Debug for HandlerService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HandlerService").finish_non_exhaustive()
    }
}

impl tower_service::Service<http::Request<Body>> for HandlerService {
    type Response = Response;
    type Error = Infallible;
    type Future = HandlerFuture;

    fn poll_ready(&mut self, _: &mut TaskContext<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request) -> HandlerFuture {
        HandlerFuture((self.handler)(req))
    }
}

/// The future of one call of a [`HandlerService`].
pub struct HandlerFuture(BoxFuture<Response>);

impl std::fmt::Debug for HandlerFuture {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HandlerFuture").finish_non_exhaustive()
    }
}

impl Future for HandlerFuture {
    type Output = Result<Response, Infallible>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Self::Output> {
        self.0.as_mut().poll(cx).map(Ok)
    }
}

/// A service as a [`Handler`] of the whole request.
#[derive(Clone)]
struct Adapter<Svc>(Svc);

/// The argument list of [`Adapter`]: the request itself.
#[derive(Debug)]
enum WholeRequest {}

impl<Svc, B> Handler<WholeRequest, ()> for Adapter<Svc>
where
    Svc: tower_service::Service<http::Request<Body>, Response = http::Response<B>>
        + Clone
        + Send
        + Sync
        + 'static,
    Svc::Future: Send + 'static,
    Svc::Error: Into<BoxError>,
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    fn call(self, req: Request, _state: ()) -> impl Future<Output = Response> + Send + 'static {
        // `self` is this call's own clone (`Handler::boxed`).
        let Adapter(mut service) = self;
        // A service reads the context from the extensions, not through the
        // extractor that would show it the request's headers.
        if let Some(ctx) = req.extensions().get::<Context>() {
            ctx.attach_headers(|| req.headers().clone());
        }
        async move {
            if let Err(err) = std::future::poll_fn(|cx| service.poll_ready(cx)).await {
                return FunctionError::from(err.into()).into_response();
            }
            match service.call(req).await {
                Ok(res) => res.map(Body::wrap),
                Err(err) => FunctionError::from(err.into()).into_response(),
            }
        }
    }
}
