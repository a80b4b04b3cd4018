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
//! [`Context`]: crate::Context
//! [`Body`]: crate::Body

mod body;
#[cfg(feature = "json")]
mod json;
pub mod rejection;
mod state;

use std::future::Future;

use http::request::Parts;

use crate::response::IntoResponse;

#[cfg(feature = "json")]
pub use json::Json;
pub use state::State;

/// The request a handler receives: the socket request with the call's
/// [`Context`](crate::Context) in its extensions.
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
}

/// An extractor that consumes the request (and its body).
///
/// The `M` parameter only lets head extractors be used in last place too;
/// name it never.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a handler argument type",
    note = "handler arguments must be extractors: `Context`, `State<T>`, `Bytes`, `String`, `Vec<u8>`, `Json<T>`, `Body`, or a type implementing `fdk::extract::FromRequest`"
)]
pub trait FromRequest<S, M = private::ViaRequest>: Sized {
    /// What the call is answered with when extraction fails.
    type Rejection: IntoResponse;

    /// Extracts `Self` from the whole request.
    fn from_request(
        req: Request,
        state: &S,
    ) -> impl Future<Output = Result<Self, Self::Rejection>> + Send;
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

    fn from_request(
        req: Request,
        state: &S,
    ) -> impl Future<Output = Result<Self, Self::Rejection>> + Send {
        let (mut parts, _body) = req.into_parts();
        let extracted = T::from_request_parts(&mut parts, state);
        std::future::ready(extracted)
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
