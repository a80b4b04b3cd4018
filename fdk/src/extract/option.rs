//! `Option<T>` as an extractor: each extractor says what "absent" means.
//!
//! As in axum 0.8, `Option<T>` is an extractor only for the `T` that
//! implement [`OptionalFromRequestParts`] or [`OptionalFromRequest`]. The
//! extractor returns `Ok(None)` when its input is absent and still rejects
//! input that is present but malformed, so a garbled body is never taken
//! for no body. To see every rejection, take `Result<T, T::Rejection>`.

use std::future::Future;

use http::request::Parts;

use super::{FromRequest, FromRequestParts, Request};
use crate::response::IntoResponse;

/// A head extractor that can be absent: `Option<Self>` is then an
/// extractor.
///
/// ```
/// use fdk::extract::{FromRequestParts, OptionalFromRequestParts};
/// use fdk::http::{StatusCode, request::Parts};
///
/// /// The caller's `X-Api-Key`, which must be 32 characters.
/// struct ApiKey(String);
///
/// impl<S> FromRequestParts<S> for ApiKey {
///     type Rejection = (StatusCode, &'static str);
///
///     fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
///         <ApiKey as OptionalFromRequestParts<S>>::from_request_parts(parts, state)?
///             .ok_or((StatusCode::UNAUTHORIZED, "no X-Api-Key"))
///     }
/// }
///
/// impl<S> OptionalFromRequestParts<S> for ApiKey {
///     type Rejection = (StatusCode, &'static str);
///
///     // Absent: `None`. Present but malformed: rejected.
///     fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Option<Self>, Self::Rejection> {
///         match parts.headers.get("x-api-key").map(|v| v.to_str()) {
///             None => Ok(None),
///             Some(Ok(key)) if key.len() == 32 => Ok(Some(ApiKey(key.to_owned()))),
///             Some(_) => Err((StatusCode::BAD_REQUEST, "X-Api-Key must be 32 characters")),
///         }
///     }
/// }
///
/// async fn whoami(key: Option<ApiKey>) -> String {
///     key.map_or_else(|| "anonymous".to_owned(), |ApiKey(k)| k)
/// }
/// # let _ = fdk::Function::new(whoami);
/// ```
#[diagnostic::on_unimplemented(
    message = "`Option<{Self}>` is not an extractor",
    note = "`Option<T>` is an extractor when `T` implements `OptionalFromRequestParts` (a head extractor that can be absent) or `OptionalFromRequest` (a body extractor: `Bytes`, `Vec<u8>`, `String`, `Json<T>`); take `Result<T, T::Rejection>` to see any rejection"
)]
pub trait OptionalFromRequestParts<S>: Sized {
    /// What the call is answered with when the input is present but
    /// malformed.
    type Rejection: IntoResponse;

    /// Extracts `Self` from the request head; `Ok(None)` when absent.
    fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Option<Self>, Self::Rejection>;
}

/// A body extractor that can be absent: `Option<Self>` is then an
/// extractor (in last place).
///
/// The FDK's body extractors are absent when the body is empty:
///
/// ```
/// use fdk::testing::TestCall;
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// async fn greet(name: Option<String>) -> String {
///     format!("Hello {}", name.as_deref().unwrap_or("World"))
/// }
/// assert_eq!(TestCall::invoke().send(greet).await.text(), "Hello World");
/// assert_eq!(TestCall::invoke().body("Ann").send(greet).await.text(), "Hello Ann");
/// // Present but not UTF-8: still rejected.
/// assert_eq!(TestCall::invoke().body(vec![0xff]).send(greet).await.status(), 502);
/// # }
/// ```
#[diagnostic::on_unimplemented(
    message = "`Option<{Self}>` is not an extractor",
    note = "`Option<T>` is an extractor when `T` implements `OptionalFromRequest` (`Bytes`, `Vec<u8>`, `String`, `Json<T>`: absent for an empty body) or `OptionalFromRequestParts`; take `Result<T, T::Rejection>` to see any rejection"
)]
pub trait OptionalFromRequest<S>: Sized {
    /// What the call is answered with when the input is present but
    /// malformed.
    type Rejection: IntoResponse;

    /// Extracts `Self` from the whole request; `Ok(None)` when absent.
    fn from_request(
        req: Request,
        state: &S,
    ) -> impl Future<Output = Result<Option<Self>, Self::Rejection>> + Send;
}

impl<S, T> FromRequestParts<S> for Option<T>
where
    T: OptionalFromRequestParts<S>,
{
    type Rejection = T::Rejection;

    fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        T::from_request_parts(parts, state)
    }
}

impl<S, T> FromRequest<S> for Option<T>
where
    T: OptionalFromRequest<S>,
    S: Sync,
{
    type Rejection = T::Rejection;

    fn from_request(
        req: Request,
        state: &S,
    ) -> impl Future<Output = Result<Self, Self::Rejection>> + Send {
        T::from_request(req, state)
    }
}
