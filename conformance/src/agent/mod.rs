//! The server's side of the contract: what the Fn agent does to a hot
//! function, reimplemented from the contract and the captures (never from the
//! FDK under test).
//!
//! * [`iofs`]: a fresh 0777 directory for each start;
//! * [`process`]: spawning with the `FN_*` environment, and killing;
//! * [`sandbox`]: the container each start runs in (cgroups with the
//!   server's limits and freezer, or a process group and signals), the
//!   trampoline that puts a process there before it runs, and the
//!   emergency stop for SIGINT and SIGTERM;
//! * [`ready`]: waiting for `lsnr.sock` and checking it as the agent does;
//! * [`request`]: the bytes of a call, in the order the server writes them;
//! * [`rfc3339`]: `Fn-Deadline` timestamps;
//! * [`connection`] and [`response`]: a blocking keep-alive client with a
//!   hand-written response reader;
//! * [`procfs`]: memory, threads and CPU time of the function process.

pub mod connection;
pub mod iofs;
pub mod outcome;
pub mod process;
pub mod procfs;
pub mod ready;
pub mod request;
pub mod response;
pub mod rfc3339;
pub mod sandbox;

pub use connection::Connection;
pub use iofs::WorkDir;
pub use process::{FunctionCommand, RunningFunction, StartError, StartOptions};
pub use ready::{ReadyWait, SocketWatch};
pub use request::{CallIds, RequestTemplate};
pub use response::{Response, ResponseError};
