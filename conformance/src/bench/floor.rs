//! What the reference servers share: `floor` (the least work a socket
//! server can do) and `contract-floor` (the least work a function that
//! honours the Fn contract can do). Both are bare hyper 1 HTTP/1.1 servers on
//! a current-thread tokio runtime, started as the Fn server starts a
//! function: they bind `phony<name>` beside the socket named by
//! `FN_LISTENER=unix:<dir>/<name>`, make it 0666 and link `<name>` to it (a
//! relative symlink, created last). Connections stay alive with no timeouts.
//!
//! Neither uses the FDK: they are the yardsticks the FDK is measured with.

use std::ffi::{OsStr, OsString};
use std::fs;
use std::future::Future;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::net::UnixListener;

/// What a reference server answers one request with; an error (a request
/// body that failed to arrive) ends the connection.
pub type Answer = Result<Response<Full<Bytes>>, hyper::Error>;

/// The runtime a reference server runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Runtime {
    /// I/O only: the bare minimum.
    IoOnly,
    /// I/O and timers: what a function needs to enforce a deadline, and what
    /// user code expects of tokio.
    WithTimers,
}

/// Serves `answer` on `FN_LISTENER` until the process is killed; `name`
/// prefixes the error line.
pub fn main<F, Fut>(name: &str, runtime: Runtime, answer: F) -> ExitCode
where
    F: Fn(Request<Incoming>) -> Fut + Copy + Send + 'static,
    Fut: Future<Output = Answer> + Send + 'static,
{
    let mut builder = tokio::runtime::Builder::new_current_thread();
    builder.enable_io();
    if runtime == Runtime::WithTimers {
        builder.enable_time();
    }
    match builder.build().and_then(|rt| rt.block_on(serve(answer))) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{name}: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The socket path from `FN_LISTENER`.
fn listener_path() -> io::Result<PathBuf> {
    let value = std::env::var_os("FN_LISTENER").unwrap_or_default();
    value
        .as_bytes()
        .strip_prefix(b"unix:")
        .filter(|path| !path.is_empty())
        .map(|path| PathBuf::from(OsStr::from_bytes(path)))
        .ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("FN_LISTENER must be unix:<path>, not {value:?}"),
            )
        })
}

/// Binds the private name, makes it 0666, then links the public name to it.
fn bind(public: &Path) -> io::Result<UnixListener> {
    let name = public.file_name().ok_or_else(|| {
        io::Error::new(io::ErrorKind::InvalidInput, "FN_LISTENER has no file name")
    })?;
    let mut private_name = OsString::from("phony");
    private_name.push(name);
    let private = public.with_file_name(&private_name);
    for stale in [&private, &public.to_path_buf()] {
        match fs::remove_file(stale) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
            _ => {}
        }
    }
    let listener = UnixListener::bind(&private)?;
    fs::set_permissions(&private, fs::Permissions::from_mode(0o666))?;
    symlink(&private_name, public)?;
    Ok(listener)
}

async fn serve<F, Fut>(answer: F) -> io::Result<()>
where
    F: Fn(Request<Incoming>) -> Fut + Copy + Send + 'static,
    Fut: Future<Output = Answer> + Send + 'static,
{
    let listener = bind(&listener_path()?)?;
    loop {
        let (stream, _) = listener.accept().await?;
        tokio::spawn(async move {
            let mut builder = http1::Builder::new();
            builder.keep_alive(true).header_read_timeout(None);
            // A failed connection only ends that connection.
            let _ = builder
                .serve_connection(TokioIo::new(stream), service_fn(answer))
                .await;
        });
    }
}
