//! The socket's half of a call's answer (HS-RESP-1): its status policy,
//! 200, 502 or 504 and nothing else, and how a user's status and headers
//! travel in a 200 (`Fn-Http-Status`, and `Fn-Http-H-*` for gateway calls).
//! [`finish`](crate::outcome::finish) applies both; the table of outcomes and
//! statuses is in [`outcome`](crate::outcome).

use http::StatusCode;
use http::header::{CONTENT_LENGTH, HeaderMap, HeaderName, HeaderValue};

use super::Response;
use crate::gateway;
use crate::outcome::Outcome;
use crate::protocol::{
    FDK_RUNTIME, FDK_VERSION, FN_CALL_ID, FN_FDK_RUNTIME, FN_FDK_VERSION, FN_HTTP_STATUS,
    is_hop_by_hop, socket_status,
};

/// Is the call an HTTP-gateway call or a plain invoke?
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CallKind {
    Invoke,
    Gateway,
}

/// The socket status of `outcome`: 200 when the call was processed (a
/// rejected input of a gateway call is the client's 400, carried in
/// `Fn-Http-Status`), 504 past the deadline, 502 for every failure. An
/// invoke call's socket status cannot say 400: a rejection fails the call.
pub(crate) fn socket_status(outcome: &Outcome, kind: CallKind) -> StatusCode {
    match outcome {
        Outcome::Returned(_) => socket_status::PROCESSED,
        Outcome::Rejected { .. } if kind == CallKind::Gateway => socket_status::PROCESSED,
        Outcome::TimedOut => socket_status::TIMED_OUT,
        _ => socket_status::FUNCTION_FAILED,
    }
}

/// A response of the handler's own on the socket under `status`: processed
/// (200) with the user's status and headers carried as the call kind
/// requires, or a failure that keeps the JSON body and headers.
pub(crate) fn carry(
    res: Response,
    status: StatusCode,
    kind: CallKind,
) -> Result<Response, TooManyHeaders> {
    if status == socket_status::PROCESSED {
        processed(res, kind)
    } else {
        Ok(with_status(res, status))
    }
}

/// The user's response headers did not fit in the socket response's
/// header map (`http::HeaderMap` holds at most 24,576 names), so the FDK
/// could not add its own (HS-RESP-13).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TooManyHeaders {
    pub(crate) values: usize,
    pub(crate) names: usize,
}

impl TooManyHeaders {
    pub(crate) fn of(headers: &HeaderMap) -> Self {
        Self {
            values: headers.len(),
            names: headers.keys_len(),
        }
    }

    /// The message of the error answer.
    pub(crate) fn message(&self) -> String {
        format!(
            "the function's response has too many headers: {} values under {} names \
             (a header map holds {MAX_RESPONSE_NAMES} names, and the FDK adds up to 3 of its own)",
            self.values, self.names,
        )
    }
}

/// The most header names one `http::HeaderMap` holds.
pub(crate) const MAX_RESPONSE_NAMES: usize = 24_576;

/// Adds `Fn-Fdk-Version` and `Fn-Fdk-Runtime` (HS-RESP-3).
pub(crate) fn identify(headers: &mut HeaderMap) -> Result<(), http::header::MaxSizeReached> {
    headers.try_insert(&FN_FDK_VERSION, HeaderValue::from_static(FDK_VERSION))?;
    headers.try_insert(&FN_FDK_RUNTIME, HeaderValue::from_static(FDK_RUNTIME))?;
    Ok(())
}

/// Keeps headers and body, replaces the status with a socket status.
fn with_status(mut res: Response, status: StatusCode) -> Response {
    *res.status_mut() = status;
    let headers = std::mem::take(res.headers_mut());
    *res.headers_mut() = without_unsendable(headers);
    res
}

/// A processed call: socket status 200, the user's status and headers
/// carried as the call kind requires.
fn processed(res: Response, kind: CallKind) -> Result<Response, TooManyHeaders> {
    let (mut parts, body) = res.into_parts();
    let user_status = parts.status;
    let user_headers = std::mem::take(&mut parts.headers);
    let too_many = TooManyHeaders::of(&user_headers);
    parts.status = socket_status::PROCESSED;
    match kind {
        CallKind::Gateway => {
            // Sized by names, not values: repeated names share an entry.
            let mut out = HeaderMap::try_with_capacity(user_headers.keys_len().saturating_add(3))
                .map_err(|_| too_many)?;
            out.try_insert(&FN_HTTP_STATUS, gateway::status_value(user_status))
                .map_err(|_| too_many)?;
            gateway::encode_headers(without_unsendable(user_headers), &mut out)
                .map_err(|_| too_many)?;
            parts.headers = out;
        }
        CallKind::Invoke => {
            let mut out = without_unsendable(user_headers);
            if user_status != StatusCode::OK {
                out.try_insert(&FN_HTTP_STATUS, gateway::status_value(user_status))
                    .map_err(|_| too_many)?;
            }
            parts.headers = out;
        }
    }
    Ok(Response::from_parts(parts, body))
}

/// Drops what user code must not send on the socket: hop-by-hop headers
/// (they would change the connection's framing), `Content-Length` (the FDK
/// frames the body itself), `Fn-Call-Id` (the server adds its own) and the
/// FDK's own headers (set last, once) (HS-RESP-9).
pub(crate) fn without_unsendable(mut headers: HeaderMap) -> HeaderMap {
    // The common case has nothing to remove: check before allocating.
    if !headers.keys().any(is_unsendable) {
        return headers;
    }
    let doomed: Vec<HeaderName> = headers
        .keys()
        .filter(|n| is_unsendable(n))
        .cloned()
        .collect();
    for name in doomed {
        headers.remove(name);
    }
    headers
}

fn is_unsendable(name: &HeaderName) -> bool {
    is_hop_by_hop(name.as_str())
        || name == CONTENT_LENGTH
        || name == FN_CALL_ID
        || name == FN_FDK_VERSION
        || name == FN_FDK_RUNTIME
        || name == FN_HTTP_STATUS
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::body::Body;
    use crate::error::FunctionError;
    use crate::outcome::{Transport, finish};
    use crate::response::IntoResponse;
    use crate::response::mark;
    use http::Method;

    fn user(status: u16, headers: &[(&str, &str)]) -> Response {
        let mut b = http::Response::builder().status(status);
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        b.body(Body::from("body")).unwrap()
    }

    fn pairs(res: &Response) -> Vec<(String, String)> {
        res.headers()
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_str().unwrap().to_owned()))
            .filter(|(k, _)| !k.starts_with("fn-fdk-"))
            .collect()
    }

    fn p(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    /// The decision table above, row by row (HS-RESP-1..9, HS-GW-4..6).
    #[test]
    fn socket_status_follows_the_outcome_table() {
        use CallKind::{Gateway, Invoke};
        let rejected = || Outcome::of(mark::rejected("bad input".into()));
        let failed = || Outcome::of(FunctionError::msg("boom").into_response());
        let cases: Vec<(Outcome, CallKind, u16, Option<&str>)> = vec![
            (Outcome::Returned(user(200, &[])), Invoke, 200, None),
            (Outcome::Returned(user(200, &[])), Gateway, 200, Some("200")),
            (Outcome::Returned(user(404, &[])), Invoke, 200, Some("404")),
            (Outcome::Returned(user(404, &[])), Gateway, 200, Some("404")),
            (Outcome::Returned(user(500, &[])), Gateway, 200, Some("500")),
            (Outcome::Returned(user(204, &[])), Invoke, 200, Some("204")),
            (rejected(), Invoke, 502, None),
            (rejected(), Gateway, 200, Some("400")),
            (failed(), Invoke, 502, None),
            (failed(), Gateway, 502, None),
            (Outcome::Panicked("oops".into()), Invoke, 502, None),
            (Outcome::Panicked("oops".into()), Gateway, 502, None),
            (Outcome::TimedOut, Invoke, 504, None),
            (Outcome::TimedOut, Gateway, 504, None),
            (
                Outcome::NotACall {
                    method: Method::GET,
                    path: "/x".into(),
                },
                Invoke,
                502,
                None,
            ),
        ];
        for (i, (outcome, kind, status, user_status)) in cases.into_iter().enumerate() {
            let res = finish(outcome, Transport::Socket(kind), "");
            assert_eq!(res.status(), status, "case {i}");
            assert_eq!(
                res.headers()
                    .get("fn-http-status")
                    .map(|v| v.to_str().unwrap()),
                user_status,
                "case {i}"
            );
            assert_eq!(res.headers()["fn-fdk-version"], FDK_VERSION, "case {i}");
            assert!(
                res.headers()["fn-fdk-runtime"]
                    .to_str()
                    .unwrap()
                    .starts_with("rust/1.")
            );
        }
    }

    #[test]
    fn gateway_headers_are_prefixed_and_invoke_headers_are_not() {
        let h = [
            ("content-type", "application/json"),
            ("x-thing", "v1"),
            ("x-thing", "v2"),
            ("connection", "close"),
            ("keep-alive", "timeout=5"),
            ("transfer-encoding", "chunked"),
            ("content-length", "999"),
            ("fn-call-id", "spoofed"),
        ];
        let gw = finish(
            Outcome::Returned(user(404, &h)),
            Transport::Socket(CallKind::Gateway),
            "",
        );
        assert_eq!(
            pairs(&gw),
            p(&[
                ("fn-http-status", "404"),
                ("content-type", "application/json"),
                ("fn-http-h-x-thing", "v1"),
                ("fn-http-h-x-thing", "v2"),
            ])
        );
        let inv = finish(
            Outcome::Returned(user(200, &h)),
            Transport::Socket(CallKind::Invoke),
            "",
        );
        assert_eq!(
            pairs(&inv),
            p(&[
                ("content-type", "application/json"),
                ("x-thing", "v1"),
                ("x-thing", "v2")
            ])
        );
    }

    #[tokio::test]
    async fn error_bodies_are_json_messages() {
        for (outcome, needle) in [
            (
                Outcome::Panicked("index out of bounds".into()),
                "panicked: index out of bounds",
            ),
            (Outcome::TimedOut, "deadline"),
            (
                Outcome::of(FunctionError::msg("db down").into_response()),
                "db down",
            ),
        ] {
            let res = finish(outcome, Transport::Socket(CallKind::Invoke), "");
            assert_eq!(res.headers()["content-type"], "application/json");
            let body = res.into_body().collect().await.unwrap();
            let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
            assert!(json["message"].as_str().unwrap().contains(needle), "{json}");
        }
    }
}
