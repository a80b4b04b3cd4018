//! The Fn server's side of the function contract, without verdicts: what
//! the Fn agent does to a hot function, written from the contract and the
//! captures (never from an FDK).
//!
//! `fdk-conformance` judges a function with it and `cargo fdk run` serves
//! one with it; neither re-implements what the server sends or how it reads
//! an answer.
//!
//! * [`Agent`]: a function run hot as the server's agent runs it (started on
//!   demand, one pooled connection, frozen between calls, replaced when the
//!   server would replace it), sending [`Call`]s and giving [`Exchange`]s;
//! * [`docker`]: a Docker daemon through its Engine API, and the server's
//!   own function container on it (`run --docker`, `cargo fdk deploy`);
//! * [`golang`]: what the Go server's standard library does to headers, JSON
//!   and content types, where the contract depends on it;
//! * [`http1`]: one sans-IO HTTP/1.1 message reader (heads and bodies, fed
//!   whatever bytes arrived) and a blocking adapter over any
//!   [`BufRead`](std::io::BufRead);
//! * [`image`]: a function image (OCI layout or archive) read, checked as
//!   the server checks it, and unpacked into a root file system;
//! * [`iofs`]: a fresh 0777 directory for each start;
//! * [`process`]: spawning with the `FN_*` environment, and killing;
//! * [`sandbox`]: the container each start runs in (cgroups with the
//!   server's limits and freezer, or a process group and signals), the
//!   trampoline that puts a process there before it runs, and the
//!   emergency stop for SIGINT and SIGTERM;
//! * `ready`: waiting for `lsnr.sock` and checking it as the agent does;
//! * [`request`]: the bytes of a call, in the order the server writes them;
//! * [`rfc3339`]: `Fn-Deadline` timestamps;
//! * `connection`: a blocking keep-alive client over the socket;
//! * [`outcome`]: what the server makes of an answer (the client's status
//!   and message, the container kept or killed);
//! * [`procfs`]: memory, threads and CPU time of the function process;
//! * [`show`]: bytes and errors as reports show them;
//! * [`stdio`]: the same for the four stdin/stdout formats of Fn 0.3.602;
//! * [`wire`]: the server's header, variable and socket names, once.
//!
//! ```
//! use fn_emulator::http1::read_response;
//!
//! let raw = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
//! let res = read_response(&mut &raw[..]).unwrap();
//! assert_eq!((res.status, &res.body[..]), (200, &b"ok"[..]));
//! ```

mod agent;
mod call;
mod connection;
pub mod docker;
pub mod exchange;
mod freezer;
pub mod golang;
pub mod http1;
pub mod image;
pub mod iofs;
pub mod outcome;
pub mod process;
pub mod procfs;
mod ready;
pub mod request;
pub mod rfc3339;
pub mod sandbox;
pub mod show;
pub mod stdio;
pub mod wire;

pub use agent::{Agent, SERVER_IDLE_CLOSE};
pub use call::Call;
pub use connection::Connection;
pub use exchange::{Ended, Exchange, Served, Via};
pub use http1::{Response, ResponseError};
pub use iofs::WorkDir;
pub use outcome::AgentError;
pub use process::{FunctionCommand, RunningFunction, StartOptions};
pub use ready::ReadyWait;
pub use ready::StartError;
pub use request::{CallIds, RequestTemplate};
