//! `FN_FORMAT=http`: HTTP/1.1 messages back to back on stdin and stdout
//! (HTTP-REQ-*, HTTP-RESP-*).
//!
//! The server wrote the client's request with four extra headers
//! (`Fn_call_id`, `Fn_deadline`, `Fn_method`, `Fn_request_url`) and read
//! one length-delimited response per request. hyper's server does the
//! framing, over stdin and the protocol's copy of stdout, as it does over
//! the socket.
//!
//! ```text
//! stdin  POST /invoke/01C… HTTP/1.1
//!        Host: localhost:8080
//!        Content-Length: 13
//!        Fn_call_id: 01C…
//!        Fn_deadline: 2018-10-25T19:30:01.123Z
//!        …
//!
//!        {"name":"Jo"}
//! stdout HTTP/1.1 200 OK
//!        content-type: text/plain; charset=utf-8
//!        content-length: 8
//!        …
//!
//!        Hello Jo
//! ```

use std::convert::Infallible;
use std::future::Future;
use std::io::{self, Write};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll};

use http::HeaderMap;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::oneshot;

use super::{Input, Output, client_response};
use crate::body::Body;
use crate::context::{Context, StdioCall};
use crate::dispatch::{self, App, Rejections};
use crate::error::Error;
use crate::logs;
use crate::protocol::{HTTP_FN_CALL_ID, HTTP_FN_DEADLINE, HTTP_FN_METHOD, HTTP_FN_REQUEST_URL};
use crate::response::Response;
use crate::serve::{MAX_HEAD_BYTES, MAX_HEADERS};

pub(super) async fn serve(
    app: Arc<App>,
    input: Input,
    out: Output,
    shutdown: impl Future<Output = ()>,
) -> Result<(), Error> {
    let service = hyper::service::service_fn(move |req| {
        let app = Arc::clone(&app);
        async move { Ok::<_, Infallible>(call(&app, req).await) }
    });
    let conn = http1::Builder::new()
        .keep_alive(true)
        .header_read_timeout(None)
        .max_headers(MAX_HEADERS)
        .max_buf_size(MAX_HEAD_BYTES)
        .serve_connection(TokioIo::new(Pipe { input, out }), service);
    tokio::pin!(conn, shutdown);
    let result = tokio::select! {
        result = conn.as_mut() => result,
        () = &mut shutdown => {
            // Finish the call in flight (if any), then stop.
            conn.as_mut().graceful_shutdown();
            conn.await
        }
    };
    match result {
        Ok(()) => Ok(()),
        Err(err) if err.is_incomplete_message() => {
            Err(Error::input("stdin ended in the middle of a request"))
        }
        // hyper has answered a malformed head with 400; the stream cannot
        // be resynchronised after it (HTTP-REQ-5).
        Err(err) => Err(Error::input(format!(
            "stdin does not carry a valid HTTP request: {err}"
        ))),
    }
}

/// Serves one request of the stream.
async fn call(app: &App, req: http::Request<Incoming>) -> Response {
    let (mut parts, incoming) = req.into_parts();
    let call = stdio_call(&parts);
    let ctx = Context::from_stdio(call, Arc::clone(&app.env));
    if let Some(gateway) = ctx.gateway() {
        parts.method = gateway.method().clone();
        parts.uri = gateway.url().clone();
    }
    parts.headers = ctx.headers().clone();
    let (body, unread) = if http_body::Body::is_end_stream(&incoming) {
        (Body::incoming(incoming, None), None)
    } else {
        let (give_back, unread) = oneshot::channel();
        (Body::incoming(incoming, Some(give_back)), Some(unread))
    };
    let outcome = dispatch::run(app, &ctx, parts, body, unread, Rejections::AreClientErrors).await;
    client_response(outcome)
}

/// The call's metadata from the `Fn_*` headers; the request line stands in
/// for a missing `Fn_method` or `Fn_request_url`.
fn stdio_call(parts: &http::request::Parts) -> StdioCall {
    let text = |name| {
        parts
            .headers
            .get(name)
            .and_then(|v: &http::HeaderValue| v.to_str().ok())
            .map(str::to_owned)
    };
    let mut headers = HeaderMap::with_capacity(parts.headers.len());
    for (name, value) in &parts.headers {
        let meta = [
            &HTTP_FN_CALL_ID,
            &HTTP_FN_DEADLINE,
            &HTTP_FN_METHOD,
            &HTTP_FN_REQUEST_URL,
        ];
        if !meta.contains(&name) {
            headers.append(name.clone(), value.clone());
        }
    }
    if parts.headers.get(&HTTP_FN_CALL_ID).is_none() {
        logs::warn(format_args!("an http-format request without Fn_call_id"));
    }
    StdioCall {
        call_id: text(&HTTP_FN_CALL_ID).unwrap_or_default(),
        deadline: text(&HTTP_FN_DEADLINE).filter(|d| !d.is_empty()),
        method: text(&HTTP_FN_METHOD).or_else(|| Some(parts.method.to_string())),
        request_url: text(&HTTP_FN_REQUEST_URL).or_else(|| Some(parts.uri.to_string())),
        headers,
    }
}

/// stdin and the protocol's stdout as one byte stream for hyper.
struct Pipe {
    input: Input,
    out: Output,
}

impl AsyncRead for Pipe {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut TaskContext<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.input).poll_read(cx, buf)
    }
}

/// Writes block: one call at a time runs, and the server reads each
/// response as it comes, so there is nothing else this thread could do.
impl AsyncWrite for Pipe {
    fn poll_write(
        mut self: Pin<&mut Self>,
        _cx: &mut TaskContext<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Poll::Ready(self.out.write(buf))
    }

    fn poll_flush(mut self: Pin<&mut Self>, _cx: &mut TaskContext<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(self.out.flush())
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, _cx: &mut TaskContext<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(self.out.flush())
    }
}
