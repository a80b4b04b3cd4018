//! Why an extractor refused a request, one type per extractor.
//!
//! Every rejection is a response: status `400` with a JSON body
//! `{"message": "..."}` that names the expected type and the problem, or
//! `413` for a body past the function's limit (`FDK_MAX_BODY`, HS-REQ-9).
//! The FDK sends it as `Fn-Http-Status: 400` (or 413) for gateway calls and
//! as a 502 for invoke calls, whose socket status cannot carry a client
//! error (HS-RESP-6).
//!
//! ```
//! use fdk::extract::rejection::StringRejection;
//! use fdk::testing::TestCall;
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! async fn echo(text: String) -> String { text }
//! let res = TestCall::invoke().body(vec![0xff, 0xfe]).send(echo).await;
//! assert_eq!(res.status(), 502);
//! assert!(res.text().contains("not valid UTF-8"));
//! # let _: Option<StringRejection> = None;
//! # }
//! ```
//!
//! # Customising a rejection
//!
//! There are two ways to answer input that does not parse in a way of your
//! own, as in axum.
//!
//! **Take `Result<T, T::Rejection>`** and map the rejection in the handler,
//! when one handler needs it:
//!
//! ```
//! use fdk::extract::rejection::JsonRejection;
//! use fdk::http::StatusCode;
//! use fdk::Json;
//! use serde::Deserialize;
//! use serde_json::{Value, json};
//!
//! #[derive(Deserialize)]
//! struct Order { item: String }
//!
//! async fn order(order: Result<Json<Order>, JsonRejection>) -> (StatusCode, Json<Value>) {
//!     match order {
//!         Ok(Json(order)) => (StatusCode::OK, Json(json!({ "ordered": order.item }))),
//!         Err(rejection) => (
//!             StatusCode::UNPROCESSABLE_ENTITY,
//!             Json(json!({ "error": "bad-order", "detail": rejection.to_string() })),
//!         ),
//!     }
//! }
//! # let _ = fdk::Function::new(order);
//! ```
//!
//! **Write a newtype extractor** around the FDK's, whose `Rejection` is your
//! own [`IntoResponse`] type, when every handler should answer alike (the
//! handler does not run on a rejection):
//!
//! ```
//! use fdk::extract::rejection::JsonRejection;
//! use fdk::extract::{FromRequest, Request};
//! use fdk::http::StatusCode;
//! use fdk::response::{IntoResponse, Response};
//! use fdk::Json;
//! use serde::de::DeserializeOwned;
//! use serde_json::json;
//!
//! /// `Json<T>`, with this API's error shape.
//! struct Input<T>(T);
//!
//! /// This API's answer to input that does not parse.
//! struct BadInput(JsonRejection);
//!
//! impl IntoResponse for BadInput {
//!     fn into_response(self) -> Response {
//!         let body = json!({ "error": "bad-input", "detail": self.0.to_string() });
//!         (StatusCode::UNPROCESSABLE_ENTITY, Json(body)).into_response()
//!     }
//! }
//!
//! impl<S: Sync, T: DeserializeOwned> FromRequest<S> for Input<T> {
//!     type Rejection = BadInput;
//!
//!     async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
//!         match <Json<T> as FromRequest<S>>::from_request(req, state).await {
//!             Ok(Json(value)) => Ok(Input(value)),
//!             Err(rejection) => Err(BadInput(rejection)),
//!         }
//!     }
//! }
//!
//! async fn total(Input(numbers): Input<Vec<u32>>) -> String {
//!     numbers.iter().sum::<u32>().to_string()
//! }
//! # let _ = fdk::Function::new(total);
//! ```
//!
//! Either way the answer is the function's own response, and the socket's
//! status policy applies to it as to any response a handler returns
//! (HS-RESP-1): the server sees 200, and the status you chose reaches the
//! caller in `Fn-Http-Status` (a trigger's HTTP client gets it as its
//! status; an invoke client sees it in that header, HS-RESP-8). To fail an
//! invoke call with a 502 instead, as the built-in rejections do, answer
//! with a [`FunctionError`](crate::FunctionError) (it is an `IntoResponse`
//! too, and can be a `Rejection`); your message then travels in its JSON
//! body. A custom rejection can never produce another socket status.

use std::fmt;

use crate::body::BodyError;
use crate::response::{IntoResponse, Response, mark};

/// `Bytes` or `Vec<u8>` could not be read.
#[derive(Debug)]
#[non_exhaustive]
pub enum BytesRejection {
    /// The body could not be read (the caller hung up mid-body).
    BodyRead(BodyError),
    /// The body is longer than the function's limit (`FDK_MAX_BODY`);
    /// reading stopped there.
    TooLarge {
        /// The limit, in bytes.
        limit: usize,
    },
}

/// `String` could not be read, or the body is not UTF-8.
#[derive(Debug)]
#[non_exhaustive]
pub enum StringRejection {
    /// The body could not be read (the caller hung up mid-body).
    BodyRead(BodyError),
    /// The body is longer than the function's limit (`FDK_MAX_BODY`);
    /// reading stopped there.
    TooLarge {
        /// The limit, in bytes.
        limit: usize,
    },
    /// The body is not valid UTF-8; nothing is replaced or lost silently.
    InvalidUtf8(std::str::Utf8Error),
}

/// `Json<T>` could not be read or does not parse as `T`.
#[cfg(feature = "json")]
#[derive(Debug)]
#[non_exhaustive]
pub enum JsonRejection {
    /// The body could not be read (the caller hung up mid-body).
    BodyRead(BodyError),
    /// The body is longer than the function's limit (`FDK_MAX_BODY`);
    /// reading stopped there.
    TooLarge {
        /// The limit, in bytes.
        limit: usize,
    },
    /// The body is not JSON, or not JSON of the expected shape.
    InvalidJson {
        /// The type that was asked for.
        type_name: &'static str,
        /// What serde_json said, with line and column.
        error: serde_json::Error,
    },
}

impl fmt::Display for BytesRejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::BodyRead(err) => write!(f, "failed to read the request body: {}", chain(err)),
            Self::TooLarge { limit } => too_large(f, *limit),
        }
    }
}

impl fmt::Display for StringRejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::BodyRead(err) => write!(f, "failed to read the request body: {}", chain(err)),
            Self::TooLarge { limit } => too_large(f, *limit),
            Self::InvalidUtf8(err) => write!(
                f,
                "the request body is not valid UTF-8, as `String` requires ({err}); \
                 take `Bytes` or `Vec<u8>` to accept binary input"
            ),
        }
    }
}

#[cfg(feature = "json")]
impl fmt::Display for JsonRejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::BodyRead(err) => write!(f, "failed to read the request body: {}", chain(err)),
            Self::TooLarge { limit } => too_large(f, *limit),
            Self::InvalidJson { type_name, error } => {
                write!(
                    f,
                    "the request body is not valid JSON for `{type_name}`: {error}"
                )
            }
        }
    }
}

fn too_large(f: &mut fmt::Formatter<'_>, limit: usize) -> fmt::Result {
    write!(
        f,
        "the request body is larger than this function's limit of {limit} bytes \
         (FDK_MAX_BODY; read it as a streaming `Body` to take more)"
    )
}

/// Splits the too-large case off a body error (the extractors' `map_err`).
pub(super) fn body_read<R>(
    err: BodyError,
    read: impl FnOnce(BodyError) -> R,
    large: impl FnOnce(usize) -> R,
) -> R {
    match err.limit() {
        Some(limit) => large(limit),
        None => read(err),
    }
}

fn chain(err: &BodyError) -> String {
    // Skip our own "failed to read the body" level; say the cause.
    std::error::Error::source(err).map_or_else(|| err.to_string(), crate::error::chain)
}

impl std::error::Error for BytesRejection {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::BodyRead(err) => Some(err),
            Self::TooLarge { .. } => None,
        }
    }
}

impl std::error::Error for StringRejection {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::BodyRead(err) => Some(err),
            Self::TooLarge { .. } => None,
            Self::InvalidUtf8(err) => Some(err),
        }
    }
}

#[cfg(feature = "json")]
impl std::error::Error for JsonRejection {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::BodyRead(err) => Some(err),
            Self::TooLarge { .. } => None,
            Self::InvalidJson { error, .. } => Some(error),
        }
    }
}

impl IntoResponse for BytesRejection {
    fn into_response(self) -> Response {
        match self {
            Self::TooLarge { .. } => mark::too_large(self.to_string()),
            _ => mark::rejected(self.to_string()),
        }
    }
}

impl IntoResponse for StringRejection {
    fn into_response(self) -> Response {
        match self {
            Self::TooLarge { .. } => mark::too_large(self.to_string()),
            _ => mark::rejected(self.to_string()),
        }
    }
}

#[cfg(feature = "json")]
impl IntoResponse for JsonRejection {
    fn into_response(self) -> Response {
        match self {
            Self::TooLarge { .. } => mark::too_large(self.to_string()),
            _ => mark::rejected(self.to_string()),
        }
    }
}
