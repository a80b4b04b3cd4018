//! Integration tests: every call goes through the real socket, with the
//! bytes the Fn server sends (chunked bodies, `Host: localhost`,
//! `Fn-Deadline` in whole seconds). Requirement IDs refer to
//! `protocol-spec/http-stream.md`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod after_call;
mod calls;
mod captures;
mod client_request;
mod deadline;
mod extractors;
mod failures;
#[cfg(feature = "tower")]
mod layers;
mod limits;
mod observability;
mod shutdown;
mod stdio;
mod util;
mod vectors;
