//! Extractors: the types a handler takes as arguments.
//!
//! As in axum, there are two kinds. [`FromRequestParts`] reads only the
//! request head, so any number of them may come in any order: [`Context`],
//! [`State`]. [`FromRequest`] consumes the body, so at most one may be used
//! and it must be the last argument: `Bytes`, `String`, `Vec<u8>`,
//! [`Json<T>`](crate::Json), [`Body`].
//!
//! A body that cannot become the requested type is answered for the user:
//! a 502 for invoke calls, a `400` (as `Fn-Http-Status`) for gateway calls,
//! with a JSON body naming the type and the problem (see [`rejection`]).
//!
//! ```
//! use fdk::{Context, Json};
//! use serde::Deserialize;
//!
//! #[derive(Deserialize)]
//! struct Order { item: String, qty: u32 }
//!
//! // Parts extractors first, then at most one body extractor.
//! async fn order(ctx: Context, Json(order): Json<Order>) -> String {
//!     format!("{}: {} x {}", ctx.call_id(), order.qty, order.item)
//! }
//! # let _ = fdk::Function::new(order);
//! ```
//!
//! # Optional and fallible extractors
//!
//! `Result<T, T::Rejection>` is an extractor for every extractor `T`: the
//! handler runs either way and gets the rejection to answer as it likes
//! (see [`rejection`] for customising a rejection).
//!
//! `Option<T>` is an extractor when `T` says what "absent" means by
//! implementing [`OptionalFromRequestParts`] or [`OptionalFromRequest`], as
//! in axum 0.8: the body extractors `Bytes`, `Vec<u8>`, `String` and
//! `Json<T>` are `None` for an empty body (`Json<T>` also for one of only
//! whitespace), and input that is present but malformed is still rejected.
//! An `Option` that turned every rejection into `None` would answer a
//! client's typo as if no input had been sent; take `Result` to see it.
//!
//! ```
//! use fdk::extract::rejection::JsonRejection;
//! use fdk::Json;
//! use serde::Deserialize;
//!
//! #[derive(Deserialize)]
//! struct Order { item: String }
//!
//! // No body: a default order. A garbled one: still rejected (400 / 502).
//! async fn optional(order: Option<Json<Order>>) -> String {
//!     order.map_or_else(|| "tea".to_owned(), |Json(o)| o.item)
//! }
//!
//! // Any body: the handler decides.
//! async fn fallible(order: Result<Json<Order>, JsonRejection>) -> String {
//!     match order {
//!         Ok(Json(o)) => o.item,
//!         Err(rejection) => format!("no order: {rejection}"),
//!     }
//! }
//! # let _ = (fdk::Function::new(optional), fdk::Function::new(fallible));
//! ```
//!
//! [`Context`]: crate::Context
//! [`Body`]: crate::Body

mod body;
#[cfg(feature = "json")]
mod json;
mod option;
pub mod rejection;
mod state;

use std::future::Future;

use http::request::Parts;

use crate::response::IntoResponse;

#[cfg(feature = "json")]
pub use json::Json;
pub use option::{OptionalFromRequest, OptionalFromRequestParts};
pub use state::State;

/// The request a handler receives: the client's request (HS-REQ-11), with
/// the call's [`Context`](crate::Context) in its extensions whenever the
/// handler may read it (see [`Context::from_parts`](crate::Context::from_parts)).
pub type Request = http::Request<crate::Body>;

/// An extractor that reads only the request head.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not an extractor that reads the request head",
    note = "handler arguments before the last must be head extractors such as `Context` or `State<T>`; body extractors (`Bytes`, `String`, `Json<T>`, `Body`) must come last, and only one of them"
)]
pub trait FromRequestParts<S>: Sized {
    /// What the call is answered with when extraction fails.
    type Rejection: IntoResponse;

    /// Extracts `Self` from the request head.
    fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection>;

    /// Whether extracting may read the call's [`Context`](crate::Context)
    /// from the request's extensions. The FDK puts it there (a map and
    /// three allocations a call) only for handlers with an extractor that
    /// may: `true` unless the extractor says otherwise, so one of your own
    /// always finds it.
    #[doc(hidden)]
    const READS_CONTEXT: bool = true;
}

/// An extractor that consumes the request (and its body).
///
/// The `M` parameter only lets head extractors be used in last place too;
/// name it never.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a handler argument type",
    note = "handler arguments must be extractors: `Context`, `State<T>`, `Bytes`, `String`, `Vec<u8>`, `Json<T>`, `Body`, `Result<T, T::Rejection>` or `Option<T>` of an extractor that can be absent (`OptionalFromRequest`), or a type implementing `fdk::extract::FromRequest`"
)]
pub trait FromRequest<S, M = private::ViaRequest>: Sized {
    /// What the call is answered with when extraction fails.
    type Rejection: IntoResponse;

    /// Extracts `Self` from the whole request.
    fn from_request(
        req: Request,
        state: &S,
    ) -> impl Future<Output = Result<Self, Self::Rejection>> + Send;

    /// As [`FromRequestParts::READS_CONTEXT`].
    #[doc(hidden)]
    const READS_CONTEXT: bool = true;
}

// Not offered as a suggestion in errors: it would list only head extractors.
#[diagnostic::do_not_recommend]
impl<S, T> FromRequest<S, private::ViaParts> for T
where
    T: FromRequestParts<S> + Send,
    <T as FromRequestParts<S>>::Rejection: Send,
    S: Sync,
{
    type Rejection = <T as FromRequestParts<S>>::Rejection;
    const READS_CONTEXT: bool = <T as FromRequestParts<S>>::READS_CONTEXT;

    fn from_request(
        req: Request,
        state: &S,
    ) -> impl Future<Output = Result<Self, Self::Rejection>> + Send {
        let (mut parts, _body) = req.into_parts();
        let extracted = T::from_request_parts(&mut parts, state);
        std::future::ready(extracted)
    }
}

/// The handler gets the rejection instead of the call being answered with
/// it.
///
/// ```
/// use fdk::Context;
///
/// async fn always(ctx: Result<Context, std::convert::Infallible>) -> String {
///     ctx.map(|c| c.call_id().to_owned()).unwrap_or_default()
/// }
/// # let _ = fdk::Function::new(always);
/// ```
impl<S, T> FromRequestParts<S> for Result<T, T::Rejection>
where
    T: FromRequestParts<S>,
{
    type Rejection = std::convert::Infallible;
    const READS_CONTEXT: bool = T::READS_CONTEXT;

    fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Ok(T::from_request_parts(parts, state))
    }
}

/// The handler gets the rejection instead of the call being answered with
/// it: the way to answer a body that does not parse in a way of your own.
///
/// ```
/// use fdk::extract::rejection::StringRejection;
///
/// async fn lenient(text: Result<String, StringRejection>) -> String {
///     text.unwrap_or_else(|rejection| format!("binary input ({rejection})"))
/// }
/// # let _ = fdk::Function::new(lenient);
/// ```
impl<S, T> FromRequest<S> for Result<T, T::Rejection>
where
    T: FromRequest<S>,
    T::Rejection: Send,
    S: Sync,
{
    type Rejection = std::convert::Infallible;
    const READS_CONTEXT: bool = <T as FromRequest<S>>::READS_CONTEXT;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        Ok(T::from_request(req, state).await)
    }
}

#[doc(hidden)]
pub mod private {
    /// Marker: the extractor consumes the request.
    #[derive(Debug, Clone, Copy)]
    pub enum ViaRequest {}
    /// Marker: a head extractor used in last place.
    #[derive(Debug, Clone, Copy)]
    pub enum ViaParts {}
}
