//! `fdk-conformance` plays the Fn server against a function built with any
//! language's FDK.
//!
//! It is a second, independent implementation of the contract in
//! `fn-contract.md` and the golden captures: it never links the Rust FDK, so
//! a misreading shared by both cannot pass unseen.
//!
//! It runs the conformance cases ([`suite`], catalog in `cases`) and judges
//! each outcome as the real server would ([`fn_emulator::outcome`]), and it
//! benchmarks ([`bench`](mod@bench)): exec-to-ready, per-call latency over one
//! keep-alive connection, the client's and the function's CPU per call, and
//! memory growth, next to `floor`, the least work a socket server can do.
//!
//! The four legacy stdin/stdout formats of Fn 0.3.602 (`json`, `http`,
//! `default`, `cloudevent`) have their own server emulation (`stdio`) and
//! catalogs (`run --format <format>`).

// The library's API is what the binaries and the tests use: the CLI, the
// floor's body, the sandbox trampoline and the harness (with its verdicts).
// Everything else is the tool's own.
pub mod bench;
mod case;
mod cases;
pub mod cli;
mod error;
pub mod harness;
pub mod level;
mod oracle;
mod report;
mod stdio;
pub mod suite;
pub mod verdict;

use error::Error;
