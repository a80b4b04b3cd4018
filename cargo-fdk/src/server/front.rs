//! One client request, as the Fn server's front end takes it: the route
//! (`/invoke/<function>` or a trigger), the body (bounded in size, time and
//! how many are held at once), the call handed to the function's thread,
//! and the answer as hyper sends it.

use std::sync::Arc;
use std::sync::mpsc;
use std::time::Duration;

use fn_emulator::Call;
use fn_emulator::golang::canonical_key;
use fn_emulator::outcome::{CallKind, HOP_BY_HOP};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use tokio::sync::{Notify, Semaphore, oneshot};

use super::function::{Job, Msg};
use super::options::RunOptions;
use super::wire::{GoHeader, INTERNAL, Raw, Wire, server_error};
use crate::error::Result;

/// The Fn CLI's limit on an invoke body (`fn invoke`: 10 MiB).
const MAX_BODY: usize = 10 << 20;
/// How long a client has to send a whole request body once its turn has
/// come: a client that trickles it would otherwise hold a body slot.
const BODY_READ_TIMEOUT: Duration = Duration::from_secs(30);
/// Fn's default call timeout, when func.yaml sets none.
const DEFAULT_TIMEOUT_S: u32 = 30;

/// The answer as hyper sends it: the head in the given order, the body
/// framed by it.
pub(super) fn respond(wire: Wire, cut: Arc<Notify>) -> hyper::Response<Raw> {
    let mut res = hyper::Response::new(Raw::new(&wire, cut));
    *res.status_mut() =
        hyper::StatusCode::from_u16(wire.status).unwrap_or(hyper::StatusCode::BAD_GATEWAY);
    for (k, v) in &wire.headers {
        // Values pass as bytes, as Go passes them (UTF-8 included).
        if let (Ok(k), Ok(v)) = (
            hyper::header::HeaderName::from_bytes(k.as_bytes()),
            hyper::header::HeaderValue::from_bytes(v.as_bytes()),
        ) {
            res.headers_mut().append(k, v);
        }
    }
    res
}

/// One of the server's own errors, before any call exists (no
/// `Fn-Call-Id`): the router's 404 and 405, a missing app, trigger or
/// function.
fn route_error(status: u16, message: &str) -> Wire {
    server_error(status, message, GoHeader::default())
}

/// The function's request headers as the server forwards them: hop-by-hop
/// headers dropped (`common.StripHopHeaders`: a header whose first value is
/// empty stays, and so does `Te: trailers`), `Host` and the client's framing
/// left to the transport, names in Go's canonical case.
fn forwarded_headers(headers: &hyper::HeaderMap) -> Vec<(String, Vec<u8>)> {
    let stripped = |name: &str| {
        if !HOP_BY_HOP.contains(&name) {
            return false;
        }
        match headers.get(name).map(hyper::header::HeaderValue::as_bytes) {
            None | Some(b"") => false,
            Some(b"trailers") => name != "te",
            Some(_) => true,
        }
    };
    headers
        .iter()
        .filter(|(k, _)| {
            let name = k.as_str();
            name != "host" && name != "content-length" && !stripped(name)
        })
        // Values as bytes: Go's server and client pass a value's bytes
        // through, UTF-8 or not (`obs-text`).
        .map(|(k, v)| (canonical_key(k.as_str()), v.as_bytes().to_vec()))
        .collect()
}

/// One client request: which entry point (the server's router), then the
/// call.
pub(super) async fn handle(
    options: &RunOptions,
    jobs: &mpsc::Sender<Msg>,
    slots: &Semaphore,
    req: hyper::Request<Incoming>,
) -> Wire {
    let (parts, body) = req.into_parts();
    let path = parts.uri.path().to_owned();
    let method = parts.method.as_str().to_owned();
    let label = format!("{} {}", parts.method, parts.uri);
    let name = &options.func.name;
    // gin's router: `POST /invoke/:fn_id`, `ANY /t/:app_name` and
    // `ANY /t/:app_name/*trigger_source`; the rest is its 405 or 404.
    let invoke_target = path
        .strip_prefix("/invoke/")
        .filter(|t| !t.is_empty() && !t.contains('/'));
    let trigger = path.strip_prefix("/t/").and_then(|rest| {
        let (app, source) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/"),
        };
        (!app.is_empty()).then_some((app, source))
    });
    let call = if let Some(target) = invoke_target {
        if parts.method != hyper::Method::POST {
            return route_error(405, &format!("Method not allowed: {method} {path}"));
        }
        if target != name && target != fn_emulator::process::FN_ID {
            return route_error(404, "Fn not found");
        }
        Call::invoke()
    } else if let Some((app, source)) = trigger {
        if app != options.app {
            return route_error(404, "App not found");
        }
        let known = options
            .func
            .triggers
            .iter()
            .any(|t| t.kind == "http" && t.source == source);
        if !known {
            return route_error(404, "Trigger not found");
        }
        Call::gateway(parts.method.as_str(), &request_url(&parts))
    } else {
        return route_error(404, &format!("Path not found: {method} {path}"));
    };
    let declared = parts
        .headers
        .get(hyper::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if let Some(n) = declared.filter(|&n| n > MAX_BODY as u64) {
        return route_error(
            413,
            &format!("Content-Length too large for this server, {n} > max {MAX_BODY}"),
        );
    }
    // The body is read only when one of the few body slots is free, and
    // the slot is held until the function has answered: however many
    // clients send at once, at most `BODY_SLOTS` bodies are in memory.
    let Ok(_slot) = slots.acquire().await else {
        return route_error(500, INTERNAL);
    };
    let body = match tokio::time::timeout(BODY_READ_TIMEOUT, read_body(body, declared)).await {
        Ok(Ok(body)) => body,
        Ok(Err(BodyError::TooLarge)) => {
            return route_error(
                413,
                &format!("the request body is too large for this server (max {MAX_BODY} bytes)"),
            );
        }
        Ok(Err(BodyError::Malformed(e))) => {
            return route_error(400, &format!("could not read the request body: {e}"));
        }
        Err(_) => {
            return route_error(
                408,
                &format!(
                    "the request body did not arrive within {} s",
                    BODY_READ_TIMEOUT.as_secs()
                ),
            );
        }
    };
    let mut call = call
        .deadline_in(Duration::from_secs(u64::from(
            options.func.timeout.unwrap_or(DEFAULT_TIMEOUT_S),
        )))
        .body(body);
    let headers = forwarded_headers(&parts.headers);
    // Go's transport adds `Accept-Encoding: gzip` (and so decodes a gzip
    // answer) unless the request has its own; a trigger's client header is
    // sent as `Fn-Http-H-Accept-Encoding`.
    let transport_gzip = call.kind() == CallKind::Gateway
        || !headers
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case("accept-encoding"));
    for (k, v) in &headers {
        call = call.header_bytes(k, v);
    }
    let (reply, answer) = oneshot::channel();
    let job = Job {
        call,
        label,
        transport_gzip,
        reply,
    };
    if jobs.send(Msg::Call(job)).is_err() {
        return route_error(500, INTERNAL);
    }
    answer.await.unwrap_or_else(|_| route_error(500, INTERNAL))
}

/// The URL the server gives a trigger's function (`Fn-Http-Request-Url`),
/// as its `reqURL` builds it: an absolute-form target (`GET http://h/t/a/s`)
/// is the URL as it came, else `http://` and the `Host` header before the
/// target.
fn request_url(parts: &hyper::http::request::Parts) -> String {
    if parts.uri.scheme().is_some() && parts.uri.authority().is_some() {
        return parts.uri.to_string();
    }
    let host = parts
        .headers
        .get(hyper::header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    let target = parts
        .uri
        .path_and_query()
        .map_or("/", hyper::http::uri::PathAndQuery::as_str);
    format!("http://{host}{target}")
}

/// Why a request body could not be read.
#[derive(Debug)]
enum BodyError {
    /// Over [`MAX_BODY`].
    TooLarge,
    /// The client's framing is broken (a malformed chunk, a body cut short).
    Malformed(hyper::Error),
}

/// The request body, into one buffer of at most [`MAX_BODY`] bytes: sized
/// from `declared` (already checked against the limit) and grown only as
/// bytes arrive.
async fn read_body(mut body: Incoming, declared: Option<u64>) -> Result<Vec<u8>, BodyError> {
    let capacity = declared
        .and_then(|n| usize::try_from(n).ok())
        .unwrap_or(0)
        .min(MAX_BODY);
    let mut out = Vec::with_capacity(capacity);
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(BodyError::Malformed)?;
        if let Ok(data) = frame.into_data() {
            if data.len() > MAX_BODY - out.len() {
                return Err(BodyError::TooLarge);
            }
            out.extend_from_slice(&data);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forwarded_headers_strip_hop_by_hop_as_the_server_does() {
        let mut h = hyper::HeaderMap::new();
        for (k, v) in [
            ("host", "x"),
            ("content-length", "3"),
            ("connection", "keep-alive"),
            ("keep-alive", "timeout=5"),
            ("te", "trailers"),
            ("upgrade", ""),
            ("x-multi", "1"),
            ("x-multi", "2"),
        ] {
            h.append(
                hyper::header::HeaderName::from_static(k),
                hyper::header::HeaderValue::from_static(v),
            );
        }
        // Not UTF-8: forwarded as its bytes, as Go forwards it.
        h.append(
            hyper::header::HeaderName::from_static("x-bin"),
            hyper::header::HeaderValue::from_bytes(b"caf\xe9").unwrap(),
        );
        let pair = |k: &str, v: &[u8]| (k.to_owned(), v.to_vec());
        assert_eq!(
            forwarded_headers(&h),
            [
                pair("Te", b"trailers"),
                pair("Upgrade", b""),
                pair("X-Multi", b"1"),
                pair("X-Multi", b"2"),
                pair("X-Bin", b"caf\xe9"),
            ]
        );
    }

    /// Origin form: `http://` + `Host` + target. Absolute form: the target
    /// as it came, whatever `Host` says (Go's `reqURL`).
    #[test]
    fn request_urls_as_the_server_builds_them() {
        let url = |target: &str, host: Option<&str>| {
            let mut req = hyper::Request::builder().uri(target);
            if let Some(host) = host {
                req = req.header("host", host);
            }
            let (parts, ()) = req.body(()).unwrap().into_parts();
            request_url(&parts)
        };
        assert_eq!(
            url("/t/app/s?x=1", Some("127.0.0.1:8080")),
            "http://127.0.0.1:8080/t/app/s?x=1"
        );
        assert_eq!(url("/t/app/s", None), "http://localhost/t/app/s");
        assert_eq!(
            url("http://example.com:81/t/app/s?x=1", Some("127.0.0.1:8080")),
            "http://example.com:81/t/app/s?x=1"
        );
    }
}
