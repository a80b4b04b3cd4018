//! Test your function: call a handler in-process, or run the real socket
//! server in a temporary directory and talk to it as the Fn server does;
//! [`StdioRun`] serves the stdin/stdout formats in-process.
//!
//! [`TestCall`] builds one call (body, headers, gateway method and URL,
//! deadline, config) and [`TestResponse`] shows what the server would get:
//! the socket status (200, 502 or 504), the headers (`Fn-Http-Status`,
//! `Fn-Http-H-*`, …) and the body.
//!
//! ```
//! use fdk::testing::TestCall;
//! use fdk::FunctionError;
//!
//! async fn double(text: String) -> Result<String, FunctionError> {
//!     let n: i64 = text.trim().parse()?;
//!     Ok((n * 2).to_string())
//! }
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! let ok = TestCall::invoke().body("21").send(double).await;
//! assert_eq!((ok.status(), ok.text()), (200, "42".to_owned()));
//!
//! let failed = TestCall::invoke().body("x").send(double).await;
//! assert_eq!(failed.status(), 502);
//! assert!(failed.text().contains("invalid digit"));
//! # }
//! ```
//!
//! [`TestServer`] runs the same function behind a real `lsnr.sock`:
//!
//! ```
//! use fdk::testing::{TestCall, TestServer};
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> std::io::Result<()> {
//! async fn hello() -> &'static str { "Hello" }
//! let server = TestServer::start(fdk::Function::new(hello)).await?;
//! let res = server.call(TestCall::gateway("GET", "http://localhost:8080/t/app/hello")).await?;
//! assert_eq!(res.status(), 200);
//! assert_eq!(res.header("fn-http-status"), Some("200"));
//! assert_eq!(res.text(), "Hello");
//! server.stop().await;
//! # Ok(()) }
//! ```

mod call;
mod server;
#[cfg(feature = "stdio")]
mod stdio;
mod wire;

pub use call::{TestCall, TestResponse};
pub use server::{TestConnection, TestServer};
#[cfg(feature = "stdio")]
pub use stdio::{StdioOutput, StdioRun};
