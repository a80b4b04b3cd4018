//! Entry points for the fuzz targets in `fuzz/` (feature `fuzzing`). Not
//! public API: no semver promise covers anything here, and nothing in it
//! changes how the FDK behaves. Each function is a thin wrapper that lets a
//! target reach a private parser or encoder exactly as the FDK runs it.

use std::sync::Arc;
use std::time::SystemTime;

use tokio::net::UnixStream;
use tokio::sync::watch;

use crate::config::Env;
use crate::function::Function;
use crate::outcome::{Outcome, Transport, finish};
use crate::response::Response;
use crate::response::encode::CallKind;

/// `Fn-Deadline`'s parser (RFC 3339), as the socket and stdio paths call it.
pub fn parse_rfc3339(text: &str) -> Option<SystemTime> {
    crate::deadline::parse_stated(text).map(|stated| stated.at)
}

/// Serves one socket connection of `function` with the process environment
/// `vars`, through the same hyper configuration as the real server, until
/// the peer hangs up.
pub async fn serve_connection(
    stream: UnixStream,
    function: Function,
    vars: impl IntoIterator<Item = (String, String)>,
) {
    let (app, _) = function.into_app(Arc::new(Env::from_vars(vars)));
    let app = Arc::new(app);
    // Never signalled: the connection ends when the peer closes it. The
    // sender lives until then, so `changed()` never fires early.
    let (_stop, stop_rx) = watch::channel(());
    // The in-flight count only matters to the accept loop's shutdown.
    let calls = Arc::new(crate::serve::Calls::default());
    crate::serve::serve_connection(stream, app, calls, stop_rx).await;
}

/// The socket response for a handler's response `res`, for a plain invoke
/// call or an HTTP-gateway call.
pub fn encode_socket_response(res: Response, gateway: bool) -> Response {
    let kind = if gateway {
        CallKind::Gateway
    } else {
        CallKind::Invoke
    };
    finish(Outcome::of(res), Transport::Socket(kind), "fuzz")
}

/// The client's response for a handler's response `res` in the
/// stdin/stdout formats.
pub fn encode_stdio_response(res: Response) -> Response {
    finish(Outcome::of(res), Transport::Stdio, "fuzz")
}
