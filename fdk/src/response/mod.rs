//! Responses: what a handler returns, and how it reaches the server.
//!
//! A handler returns anything that implements [`IntoResponse`]: text, bytes,
//! [`Json`](crate::Json), `()`, a full [`Response`] (status, headers, a
//! streaming body), or a `Result` of those. That is the *user's* response;
//! the call's outcome (returned, rejected, failed, panicked, timed out) is
//! decided once, and each transport answers it by its own status policy. On
//! the socket, where the status is a control channel, that is: 200 when the
//! call was processed (the user's status and headers travel in
//! `Fn-Http-Status` / `Fn-Http-H-*`), 502 when the function failed, 504 when
//! it ran out of time (HS-RESP-1).
//!
//! ```
//! use fdk::response::{IntoResponse, Response};
//! use http::StatusCode;
//!
//! async fn not_found() -> Response {
//!     http::Response::builder()
//!         .status(StatusCode::NOT_FOUND)
//!         .header("X-Thing", "v1")
//!         .header("X-Thing", "v2")
//!         .body("nothing here".into())
//!         .unwrap_or_default()
//! }
//!
//! // Tuples set the status, and `Result` maps errors to a 502.
//! async fn created() -> Result<(StatusCode, &'static str), fdk::FunctionError> {
//!     Ok((StatusCode::CREATED, "made it"))
//! }
//! # let _ = (fdk::Function::new(not_found), fdk::Function::new(created));
//! ```

pub(crate) mod encode;
mod into_response;
pub(crate) mod mark;

pub use into_response::IntoResponse;

/// The user-level response: status, headers and [`Body`](crate::Body).
pub type Response = http::Response<crate::Body>;
