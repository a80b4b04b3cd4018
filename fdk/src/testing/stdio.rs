//! [`StdioRun`]: a function served over a stdin/stdout format, in-process.

use std::io::{self, Write};
use std::sync::{Arc, Mutex, PoisonError};

use crate::config::Env;
use crate::error::Error;
use crate::function::Function;
use crate::protocol::ENV_FORMAT;
use crate::stdio::{self, Input};

/// Serves a function over one of the stdin/stdout formats (`json`, `http`,
/// `default`, `cloudevent`) with the bytes the server would write to its
/// stdin, and returns what it wrote to stdout.
///
/// ```
/// use fdk::testing::StdioRun;
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// async fn hello(name: String) -> String { format!("Hello {name}") }
///
/// let out = StdioRun::new("default")
///     .env("FN_CALL_ID", "01CALL")
///     .run(fdk::Function::new(hello), "Jo")
///     .await;
/// assert!(out.result.is_ok());
/// assert_eq!(out.stdout, b"Hello Jo");
///
/// let out = StdioRun::new("json")
///     .run(fdk::Function::new(hello), "{\"body\":\"Al\"}\n")
///     .await;
/// let line: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
/// assert_eq!(line["body"], "Hello Al");
/// assert_eq!(line["protocol"]["status_code"], 200);
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct StdioRun {
    vars: Vec<(String, String)>,
}

/// What a [`StdioRun`] produced.
#[derive(Debug)]
pub struct StdioOutput {
    /// Every byte written on the protocol's stdout.
    pub stdout: Vec<u8>,
    /// How serving ended: `Ok` at the end of the input; an error for a
    /// broken stream or a failed `default` call (the process would exit 1).
    pub result: Result<(), Error>,
}

impl StdioRun {
    /// A run in format `format` (the value of `FN_FORMAT`).
    pub fn new(format: &str) -> Self {
        Self {
            vars: vec![(ENV_FORMAT.to_owned(), format.to_owned())],
        }
    }

    /// Sets an environment variable as the server would (config, or the
    /// `default` format's `FN_CALL_ID`, `FN_HEADER_<Name>`, …).
    pub fn env(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.vars.push((key.into(), value.into()));
        self
    }

    /// Serves `function` until `stdin` is used up, then runs its
    /// [shutdown hook](crate::Function::on_shutdown), as a process would.
    pub async fn run(self, function: Function, stdin: impl Into<Vec<u8>>) -> StdioOutput {
        let env = Arc::new(Env::from_vars(self.vars));
        let captured = Captured::default();
        let (app, shutdown) = function.into_app(Arc::clone(&env));
        let result = async {
            let format = env.format()?;
            let input = Input::spawn(io::Cursor::new(stdin.into()))
                .map_err(|e| Error::runtime("failed to start reading the input", e))?;
            let app = Arc::new(app);
            stdio::serve(
                format,
                app,
                input,
                Box::new(captured.clone()),
                std::future::pending(),
            )
            .await
        }
        .await;
        let deadline = shutdown.deadline_from_now();
        shutdown.run_hook(deadline).await;
        StdioOutput {
            stdout: captured.take(),
            result,
        }
    }
}

/// A shared buffer standing in for stdout.
#[derive(Debug, Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Captured {
    fn take(&self) -> Vec<u8> {
        std::mem::take(&mut *self.0.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}
