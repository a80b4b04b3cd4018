//! Write [Fn Project](https://fnproject.io) functions in Rust.
//!
//! An Fn function is a container that the Fn server starts once and then
//! calls many times over a unix socket ("hot" functions, the `http-stream`
//! contract). This crate is that server side of the container: you write
//! one ordinary function, and it answers the server's calls, keeping to
//! the contract's rules: the socket dance, the 200/502/504 status channel,
//! deadlines, the HTTP gateway, log framing.
//!
//! # Example
//!
//! ```no_run
//! use fdk::{Context, FunctionError, Json};
//! use serde::{Deserialize, Serialize};
//!
//! #[derive(Deserialize)]
//! struct Input { name: String }
//!
//! #[derive(Serialize)]
//! struct Output { message: String }
//!
//! #[fdk::handler]
//! async fn greet(ctx: &Context, Json(input): Json<Input>) -> Result<Json<Output>, FunctionError> {
//!     if input.name.is_empty() {
//!         return Err(FunctionError::msg("name must not be empty"));
//!     }
//!     Ok(Json(Output { message: format!("Hello {} (call {})", input.name, ctx.call_id()) }))
//! }
//! ```
//!
//! The same function without the macro:
//!
//! ```no_run
//! # use fdk::{Context, FunctionError, Json};
//! # #[derive(serde::Deserialize)] struct Input { name: String }
//! async fn greet(ctx: Context, Json(input): Json<Input>) -> Result<String, FunctionError> {
//!     Ok(format!("Hello {} (call {})", input.name, ctx.call_id()))
//! }
//!
//! fn main() -> Result<(), fdk::Error> {
//!     fdk::Function::new(greet).run_blocking()
//! }
//! ```
//!
//! # What a handler can take and return
//!
//! Arguments are [extractors](extract): [`Context`] and [`State`] (any
//! number, any order), then at most one body extractor: `Bytes`, `String`,
//! `Vec<u8>`, [`Json<T>`](Json) or a streaming [`Body`]. `Result<T,
//! T::Rejection>` of any of them hands a rejection to the handler, and
//! `Option<T>` is `None` for an absent input (an empty body), see
//! [`extract`]. Extractors read the client's request on every transport: a
//! trigger call's method, URL and headers, an invoke call's `POST /` and
//! headers (see [`Context`]). The return type implements [`IntoResponse`]:
//! text, bytes, `Json<T>`, `()`, a [`Response`](response::Response), or a
//! `Result` whose error converts into [`FunctionError`] (any
//! `std::error::Error`, `anyhow::Error`).
//!
//! | what happens                       | the server sees | the caller gets             |
//! |------------------------------------|-----------------|-----------------------------|
//! | handler returns                    | 200             | the response (status via `Fn-Http-Status` for triggers) |
//! | handler returns `Err`              | 502 + JSON      | 502, the container is kept  |
//! | handler panics                     | 502 + JSON      | 502, the process keeps serving |
//! | `Fn-Deadline` passes               | 504 + JSON      | 504, the container is kept  |
//! | input does not parse (`Json<T>`)   | 502, or 200 + `Fn-Http-Status: 400` for triggers | |
//! | body past the limit (`FDK_MAX_BODY`) | 502, or 200 + `Fn-Http-Status: 413` for triggers | |
//!
//! # How large a body can be
//!
//! A container gets `FN_MEMORY` MB and no swap, and going past it kills
//! the process. So the buffered body extractors (`Bytes`, `Vec<u8>`,
//! `String`, `Json<T>`) take at most `FDK_MAX_BODY` bytes; when that
//! variable is unset, half of what `FN_MEMORY` leaves after 32 MiB, and at
//! least 6 MiB (48 MiB at 128 MB). A longer body is refused with 413 before
//! it is held, and the process goes on. A streaming [`Body`] read chunk by
//! chunk has no limit. A value of `FDK_MAX_BODY` that is not a whole number
//! of bytes above 0 stops the function at start-up. The stdin/stdout
//! formats apply the same limit, and never more than 64 MiB.
//!
//! # The stdin/stdout formats
//!
//! With `FN_FORMAT=json`, `http`, `default` or `cloudevent` the same binary
//! speaks the formats of Fn servers up to 0.3.602 over stdin and stdout
//! (`echo Jimmy | FN_FORMAT=default ./hello`). Handlers do not change;
//! statuses go to the client as they are, so failures are 400 (rejected
//! input), 500 (error, panic) and 504 (deadline). A handler's `println!`
//! goes to stderr: stdout carries the protocol. See
//! `protocol-spec/stdio.md`. They are the `stdio` feature, on by default:
//! a function only ever served by current servers (0.3.603 on) can leave
//! them out (`default-features = false, features = ["macros", "json"]`),
//! and then stops at start-up, with a message, if `FN_FORMAT` asks for one.
//!
//! # Feature flags
//!
//! | feature        | default | what it adds |
//! |----------------|---------|--------------|
//! | `macros`       | yes     | `#[fdk::handler]` |
//! | `json`         | yes     | [`Json<T>`](Json) (serde_json) |
//! | `stdio`        | yes     | the stdin/stdout formats of servers up to 0.3.602 (`json` and `cloudevent` also need `json`) |
//! | `multi-thread` | no      | a multi-thread runtime, `flavor = "multi_thread"` |
//! | `tower`        | no      | serve calls with any `tower::Service`; `Function::layer` for tower middleware |
//! | `testing`      | no      | [`testing`]: in-process calls, a real socket server and in-process stdin/stdout runs for tests |
//!
//! # Stability
//!
//! The wire behaviour follows `protocol-spec/http-stream.md` and
//! `protocol-spec/stdio.md`, and changes only with them. The wording of log lines and error messages may change.

#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod after_call;
mod body;
mod config;
mod context;
mod deadline;
mod dispatch;
mod error;
pub mod extract;
mod function;
mod gateway;
mod handler;
mod head;
mod logs;
mod outcome;
mod panic;
mod protocol;
pub mod response;
mod serve;
mod shutdown;
mod small_head;
mod socket;
#[cfg(feature = "stdio")]
mod stdio;
#[cfg(feature = "testing")]
pub mod testing;
#[cfg(feature = "tower")]
pub mod tower;
mod trace;

#[doc(hidden)]
#[path = "private.rs"]
pub mod __private;

/// Entry points for the fuzz targets (`fuzz/`); not public API.
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
#[path = "fuzz.rs"]
pub mod __fuzz;

pub use after_call::CallEnd;
pub use body::{Body, BodyError, BodySender};
pub use config::ConfigError;
pub use context::Context;
pub use error::{Error, FunctionError};
#[cfg(feature = "json")]
pub use extract::Json;
pub use extract::State;
pub use function::{Function, MAX_WORKER_THREADS, run};
pub use gateway::Gateway;
pub use handler::Handler;
pub use protocol::{FDK_RUNTIME, FDK_VERSION};
pub use response::IntoResponse;
pub use trace::{B3, TraceContext, TraceParent};

#[cfg(feature = "macros")]
pub use fn_fdk_macros::handler;

/// The README's examples compile as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
struct ReadmeDoctests;

#[doc(no_inline)]
pub use bytes::Bytes;
#[doc(no_inline)]
pub use http;
