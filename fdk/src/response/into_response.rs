//! [`IntoResponse`] and its implementations for common return types.

use std::borrow::Cow;
use std::convert::Infallible;

use bytes::Bytes;
use http::StatusCode;
use http::header::{CONTENT_TYPE, HeaderMap, HeaderValue};

use super::encode::TooManyHeaders;

use super::{Response, mark};
use crate::body::Body;
use crate::error::FunctionError;

/// Turns a handler's return value into the user-level response.
///
/// Implement it for your own error type to choose what a failure looks
/// like to the caller; return [`FunctionError`] (or `Result<_, E>` with
/// `E: std::error::Error`, converted with `?`) to fail the call with a 502.
///
/// ```
/// use fdk::response::{IntoResponse, Response};
/// use http::StatusCode;
///
/// enum ApiError { NotFound }
///
/// impl IntoResponse for ApiError {
///     fn into_response(self) -> Response {
///         (StatusCode::NOT_FOUND, "no such thing").into_response()
///     }
/// }
///
/// async fn lookup() -> Result<String, ApiError> {
///     Err(ApiError::NotFound)
/// }
/// # let _ = fdk::Function::new(lookup);
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be returned from a handler",
    note = "a handler returns `()`, `String`, `&'static str`, `Bytes`, `Vec<u8>`, `Json<T>`, `Body`, `Response`, `(StatusCode, R)`, `Result<R, E>` where `E: IntoResponse` (e.g. `fdk::FunctionError`), or a type implementing `fdk::response::IntoResponse`"
)]
pub trait IntoResponse {
    /// Builds the response.
    #[must_use]
    fn into_response(self) -> Response;
}

fn with_content_type(body: Body, content_type: &'static str) -> Response {
    let mut res = Response::new(body);
    res.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    res
}

const TEXT: &str = "text/plain; charset=utf-8";
const OCTETS: &str = "application/octet-stream";

impl IntoResponse for Response {
    fn into_response(self) -> Response {
        self
    }
}

impl IntoResponse for () {
    fn into_response(self) -> Response {
        Response::new(Body::empty())
    }
}

impl IntoResponse for Infallible {
    fn into_response(self) -> Response {
        match self {}
    }
}

impl IntoResponse for Body {
    fn into_response(self) -> Response {
        Response::new(self)
    }
}

impl IntoResponse for String {
    fn into_response(self) -> Response {
        with_content_type(self.into(), TEXT)
    }
}

impl IntoResponse for &'static str {
    fn into_response(self) -> Response {
        with_content_type(self.into(), TEXT)
    }
}

impl IntoResponse for Cow<'static, str> {
    fn into_response(self) -> Response {
        match self {
            Cow::Borrowed(s) => s.into_response(),
            Cow::Owned(s) => s.into_response(),
        }
    }
}

impl IntoResponse for Bytes {
    fn into_response(self) -> Response {
        with_content_type(self.into(), OCTETS)
    }
}

impl IntoResponse for Vec<u8> {
    fn into_response(self) -> Response {
        with_content_type(self.into(), OCTETS)
    }
}

impl IntoResponse for &'static [u8] {
    fn into_response(self) -> Response {
        with_content_type(self.into(), OCTETS)
    }
}

impl IntoResponse for StatusCode {
    fn into_response(self) -> Response {
        let mut res = Response::new(Body::empty());
        *res.status_mut() = self;
        res
    }
}

impl<R: IntoResponse> IntoResponse for (StatusCode, R) {
    fn into_response(self) -> Response {
        let mut res = self.1.into_response();
        *res.status_mut() = self.0;
        res
    }
}

impl<R: IntoResponse> IntoResponse for (HeaderMap, R) {
    /// The headers replace those of the same name `R` sets. A map too full
    /// to take `R`'s other headers makes a failed call whose message says
    /// so (HS-RESP-13), never a panic.
    fn into_response(self) -> Response {
        let (user, inner) = self;
        let mut res = inner.into_response();
        let own = std::mem::take(res.headers_mut());
        let too_many = TooManyHeaders::of(&user);
        match merged(user, own) {
            Ok(headers) => {
                *res.headers_mut() = headers;
                res
            }
            Err(_) => super::mark::failed(too_many.message()),
        }
    }
}

/// `user` plus the names of `own` that `user` does not set (every value of
/// them), as `HeaderMap::extend` would, but fallibly: `user` may fill the
/// map to its 24,576 names.
fn merged(mut user: HeaderMap, own: HeaderMap) -> Result<HeaderMap, http::header::MaxSizeReached> {
    let mut current: Option<(http::HeaderName, bool)> = None;
    for (name, value) in own {
        if let Some(name) = name {
            let keep = !user.contains_key(&name);
            current = Some((name, keep));
        }
        if let Some((name, true)) = &current {
            user.try_append(name.clone(), value)?;
        }
    }
    Ok(user)
}

impl<R: IntoResponse> IntoResponse for (StatusCode, HeaderMap, R) {
    fn into_response(self) -> Response {
        let mut res = (self.1, self.2).into_response();
        *res.status_mut() = self.0;
        res
    }
}

impl<T, E> IntoResponse for Result<T, E>
where
    T: IntoResponse,
    E: IntoResponse,
{
    fn into_response(self) -> Response {
        match self {
            Ok(ok) => ok.into_response(),
            Err(err) => err.into_response(),
        }
    }
}

impl IntoResponse for FunctionError {
    fn into_response(self) -> Response {
        mark::failed(self.message())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_and_bytes_get_content_types() {
        let ct = |r: Response| r.headers()[CONTENT_TYPE].to_str().unwrap().to_owned();
        assert_eq!(ct("hi".into_response()), TEXT);
        assert_eq!(ct(String::from("hi").into_response()), TEXT);
        assert_eq!(ct(Bytes::from_static(b"x").into_response()), OCTETS);
        assert_eq!(ct(vec![1u8].into_response()), OCTETS);
        assert!(().into_response().headers().is_empty());
    }

    #[test]
    fn function_errors_are_marked_failed() {
        let res = Err::<(), _>(FunctionError::msg("nope")).into_response();
        assert_eq!(res.status(), StatusCode::BAD_GATEWAY);
        assert!(matches!(
            res.extensions().get::<mark::Mark>(),
            Some(mark::Mark::Failed(message)) if message == "nope"
        ));
    }
}
