//! `floor`: the least work a socket server can do, the reference every FDK is
//! compared with.
//!
//! A bare hyper 1 HTTP/1.1 server on a current-thread tokio runtime. It binds
//! `phony<name>` beside the socket named by `FN_LISTENER=unix:<dir>/<name>`,
//! makes it 0666, links `<name>` to it (a relative symlink, created last), and
//! answers every request with `200` and a fixed body with `Content-Length`,
//! keeping connections alive, with no timeouts. It reads each request body to
//! its end and ignores it. It does not read `FN_*`
//! variables beyond `FN_LISTENER`, parse headers, or log.

use std::ffi::OsString;
use std::fs;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use fdk_conformance::bench::FLOOR_BODY;
use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::net::UnixListener;

fn main() -> ExitCode {
    let result = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()
        .and_then(|runtime| runtime.block_on(serve()));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("floor: {e}");
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
        .map(|path| PathBuf::from(OsString::from(std::ffi::OsStr::from_bytes(path))))
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

async fn serve() -> io::Result<()> {
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

/// Reads the request body to its end (as any function must, so that the
/// connection stays usable), then answers with the fixed body.
async fn answer(request: Request<Incoming>) -> Result<Response<Full<Bytes>>, hyper::Error> {
    request.into_body().collect().await?;
    Ok(Response::new(Full::new(Bytes::from_static(FLOOR_BODY))))
}
