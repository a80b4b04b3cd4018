//! `fdk-conformance` plays the Fn server against a function built with any
//! language's FDK.
//!
//! It is a second, independent implementation of the contract in
//! `fn-contract.md` and the golden captures: it never links the Rust FDK, so
//! a misreading shared by both cannot pass unseen.
//!
//! Today it benchmarks ([`bench`](mod@bench)): exec-to-ready, per-call latency over one
//! keep-alive connection, the client's and the function's CPU per call, and
//! memory growth, next to `floor`, the least work a socket server can do. The
//! conformance cases come next, on the same [`agent`].

pub mod agent;
pub mod bench;
pub mod cli;
pub mod error;

pub use error::Error;
