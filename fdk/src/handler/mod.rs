//! [`Handler`]: an async function whose arguments are extractors and whose
//! return type implements [`IntoResponse`].
//!
//! It is implemented for every `async fn` (or closure returning a future)
//! of up to 16 arguments where every argument but the last implements
//! [`FromRequestParts`] and the last implements [`FromRequest`]. With
//! `#[fdk::handler]`, plain `fn`s and `&Context` arguments work too.
//!
//! ```
//! use fdk::{Context, Json};
//!
//! async fn no_args() -> &'static str { "hi" }
//! async fn context_only(ctx: Context) -> String { ctx.call_id().to_owned() }
//! async fn body(ctx: Context, text: String) -> String { format!("{}:{text}", ctx.call_id()) }
//!
//! # let _ = (fdk::Function::new(no_args), fdk::Function::new(context_only), fdk::Function::new(body));
//! ```

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use crate::extract::{FromRequest, FromRequestParts, Request};
use crate::response::{IntoResponse, Response};

/// A boxed, sendable future.
pub type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

/// A function that can serve calls: an `async fn` (or closure) whose
/// arguments are extractors and whose return type is [`IntoResponse`](crate::IntoResponse).
///
/// `T` only records the argument types, so that one function type can
/// implement the trait for exactly one argument list; `S` is the state type.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not an Fn handler",
    note = "a handler is an `async fn` whose arguments are extractors (`Context`, `State<T>`, then at most one of `Bytes`, `String`, `Vec<u8>`, `Json<T>`, `Body`, last) and whose return type implements `fdk::response::IntoResponse`; `#[fdk::handler]` also accepts plain `fn`s and `&Context`"
)]
pub trait Handler<T, S>: Clone + Send + Sync + Sized + 'static {
    /// Runs the handler on one call.
    fn call(self, req: Request, state: S) -> impl Future<Output = Response> + Send + 'static;

    /// Whether the handler may read the call's [`Context`](crate::Context)
    /// from the request's extensions (through an extractor, or by hand):
    /// the FDK puts it there only then. Not for implementing: `true`, the
    /// default, is right for every handler written by hand.
    #[doc(hidden)]
    fn reads_context(&self) -> bool {
        true
    }

    /// Erases the argument types, binding the handler to `state`. Not for
    /// implementing: the default is right for every handler.
    #[doc(hidden)]
    fn boxed(self, state: S) -> BoxHandler
    where
        S: Clone + Send + Sync + 'static,
    {
        Arc::new(move |req| Box::pin(self.clone().call(req, state.clone())))
    }
}

impl<F, Fut, Res, S> Handler<((),), S> for F
where
    F: FnOnce() -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Res> + Send + 'static,
    Res: IntoResponse,
    S: Send + Sync + 'static,
{
    // Not `async fn`: that would capture `Res` in the future's type and
    // demand `Res: 'static`, which a handler's return type need not be.
    #[allow(clippy::manual_async_fn)]
    fn call(self, _req: Request, _state: S) -> impl Future<Output = Response> + Send + 'static {
        async move { self().await.into_response() }
    }

    fn reads_context(&self) -> bool {
        false
    }
}

macro_rules! impl_handler {
    ([$($head:ident),*], $last:ident) => {
        #[allow(non_snake_case)]
        impl<F, Fut, Res, S, M, $($head,)* $last> Handler<(M, $($head,)* $last,), S> for F
        where
            F: FnOnce($($head,)* $last) -> Fut + Clone + Send + Sync + 'static,
            Fut: Future<Output = Res> + Send + 'static,
            Res: IntoResponse,
            S: Send + Sync + 'static,
            $($head: FromRequestParts<S> + Send,)*
            $last: FromRequest<S, M> + Send,
        {
            fn call(self, req: Request, state: S) -> impl Future<Output = Response> + Send + 'static {
                async move {
                    #[allow(unused_mut)]
                    let (mut parts, body) = req.into_parts();
                    $(
                        let $head = match $head::from_request_parts(&mut parts, &state) {
                            Ok(value) => value,
                            Err(rejection) => return rejection.into_response(),
                        };
                    )*
                    let req = Request::from_parts(parts, body);
                    let $last = match $last::from_request(req, &state).await {
                        Ok(value) => value,
                        Err(rejection) => return rejection.into_response(),
                    };
                    self($($head,)* $last).await.into_response()
                }
            }

            fn reads_context(&self) -> bool {
                $(<$head as FromRequestParts<S>>::READS_CONTEXT ||)*
                    <$last as FromRequest<S, M>>::READS_CONTEXT
            }
        }
    };
}

impl_handler!([], T1);
impl_handler!([T1], T2);
impl_handler!([T1, T2], T3);
impl_handler!([T1, T2, T3], T4);
impl_handler!([T1, T2, T3, T4], T5);
impl_handler!([T1, T2, T3, T4, T5], T6);
impl_handler!([T1, T2, T3, T4, T5, T6], T7);
impl_handler!([T1, T2, T3, T4, T5, T6, T7], T8);
impl_handler!([T1, T2, T3, T4, T5, T6, T7, T8], T9);
impl_handler!([T1, T2, T3, T4, T5, T6, T7, T8, T9], T10);
impl_handler!([T1, T2, T3, T4, T5, T6, T7, T8, T9, T10], T11);
impl_handler!([T1, T2, T3, T4, T5, T6, T7, T8, T9, T10, T11], T12);
impl_handler!([T1, T2, T3, T4, T5, T6, T7, T8, T9, T10, T11, T12], T13);
impl_handler!(
    [T1, T2, T3, T4, T5, T6, T7, T8, T9, T10, T11, T12, T13],
    T14
);
impl_handler!(
    [T1, T2, T3, T4, T5, T6, T7, T8, T9, T10, T11, T12, T13, T14],
    T15
);
impl_handler!(
    [
        T1, T2, T3, T4, T5, T6, T7, T8, T9, T10, T11, T12, T13, T14, T15
    ],
    T16
);

/// A handler with its state, type-erased: what the server loop calls.
#[doc(hidden)]
pub type BoxHandler = Arc<dyn Fn(Request) -> BoxFuture<Response> + Send + Sync>;
