//! What the fuzz targets share: one runtime, a quiet process, and a handler
//! that reads every view of its call and answers with a response the input
//! chooses.

use std::sync::{LazyLock, Once};

use fdk::response::Response;
use fdk::{Bytes, Context};
use http::StatusCode;
use http::header::{HeaderName, HeaderValue};

/// Headers a fuzzed request can set to choose the handler's response:
/// `X-Fuzz-Status: 404` sets the status and `X-Echo-<name>: <value>`
/// becomes response header `<name>`, so the socket target also drives the
/// response encoder and hyper's writer with input-chosen heads.
pub const STATUS_HEADER: &str = "x-fuzz-status";
/// See [`STATUS_HEADER`].
pub const ECHO_PREFIX: &str = "x-echo-";
/// `X-Fuzz-Fail: <message>` makes the handler return an error.
pub const FAIL_HEADER: &str = "x-fuzz-fail";

/// One current-thread runtime for every run: the FDK's own flavour, and
/// building one per input would dominate the time of a run.
pub fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: LazyLock<tokio::runtime::Runtime> = LazyLock::new(|| {
        init();
        match tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        {
            Ok(rt) => rt,
            Err(err) => panic!("cannot build the runtime: {err}"),
        }
    });
    &RUNTIME
}

/// Process set-up, once: ignore SIGPIPE (libFuzzer's `main` is not Rust's,
/// which would have ignored it: a write to a socket the FDK already closed
/// must be an error, not the end of the fuzzer), and install a subscriber
/// that drops events, so the FDK's warnings about garbled input go through
/// `tracing` instead of costing a stderr write per run.
pub fn init() {
    static INIT: Once = Once::new();
    INIT.call_once(|| {
        // SAFETY: setting a signal's disposition to SIG_IGN at start-up,
        // before any other thread of ours exists.
        unsafe {
            libc::signal(libc::SIGPIPE, libc::SIG_IGN);
        }
        let _ =
            tracing::subscriber::set_global_default(tracing::subscriber::NoSubscriber::default());
    });
}

/// A handler that touches everything the FDK decodes for a call (so lazy
/// views are built and their parsers run), then answers as the request
/// asks (see [`STATUS_HEADER`]).
pub async fn introspect(ctx: Context, body: Bytes) -> Result<Response, fdk::FunctionError> {
    let mut seen = 0usize;
    seen += ctx.call_id().len();
    seen += usize::from(ctx.deadline().is_some());
    seen += usize::from(ctx.remaining().is_some());
    seen += ctx.app_id().map_or(0, str::len);
    seen += ctx.fn_id().map_or(0, str::len);
    seen += ctx.memory_mb().map_or(0, |m| usize::from(m > 0));
    seen += ctx.content_type().map_or(0, str::len);
    seen += ctx.header("content-type").map_or(0, str::len);
    seen += ctx.config_iter().count();
    seen += ctx.headers().len();
    let trace = ctx.trace();
    seen += trace.trace_id().map_or(0, str::len);
    seen += trace.parent_span_id().map_or(0, str::len);
    if let Some(b3) = trace.b3() {
        seen += b3.trace_id().len() + b3.span_id().len();
        seen += b3.parent_span_id().map_or(0, str::len);
        seen += usize::from(b3.sampled().unwrap_or(false));
    }
    if let Some(tp) = trace.traceparent() {
        seen += tp.trace_id().len() + tp.parent_id().len() + usize::from(tp.flags());
        seen += usize::from(tp.sampled()) + tp.tracestate().map_or(0, str::len);
    }
    if let Some(gw) = ctx.gateway() {
        seen += gw.method().as_str().len() + gw.url().to_string().len() + gw.path().len();
        seen += gw.query("x").map_or(0, str::len);
        seen += gw
            .query_pairs()
            .map(|(k, v)| k.len() + v.len())
            .sum::<usize>();
    }
    std::hint::black_box(seen);

    if let Some(message) = ctx.header(FAIL_HEADER) {
        return Err(fdk::FunctionError::msg(message.to_owned()));
    }
    let status = ctx
        .header(STATUS_HEADER)
        .and_then(|s| s.trim().parse::<u16>().ok())
        .and_then(|s| StatusCode::from_u16(s).ok())
        .unwrap_or(StatusCode::OK);
    let mut res = http::Response::new(fdk::Body::from(body));
    *res.status_mut() = status;
    for (name, value) in ctx.headers() {
        let Some(echoed) = name.as_str().strip_prefix(ECHO_PREFIX) else {
            continue;
        };
        if let Ok(echoed) = HeaderName::from_bytes(echoed.as_bytes()) {
            res.headers_mut().append(echoed, value.clone());
        }
    }
    Ok(res)
}

/// Splits `KEY=VALUE` lines into variables (the `default` format's
/// environment, in the stdio_default target's input).
pub fn env_lines(text: &str) -> Vec<(String, String)> {
    text.lines()
        .filter_map(|line| line.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

/// Parses one header line `name: value` as a handler could set it; `None`
/// when the name or value could not be a header at all.
pub fn header_line(line: &[u8]) -> Option<(HeaderName, HeaderValue)> {
    let colon = line.iter().position(|&b| b == b':')?;
    let name = HeaderName::from_bytes(&line[..colon]).ok()?;
    let value = line[colon + 1..]
        .strip_prefix(b" ")
        .unwrap_or(&line[colon + 1..]);
    let value = HeaderValue::from_bytes(value).ok()?;
    Some((name, value))
}
