//! What the function answers, and the socket status discipline (HS-RESP,
//! HS-GW-4..7, HS-DL-4).

use std::time::Duration;

use super::{expect_200, needs_probe, supported};
use crate::case::{Case, CaseResult};
use crate::harness::{Call, Exchange, Harness, unsupported};
use crate::level::Level;
use crate::verdict::Verdict;
use fn_emulator::outcome::{Fate, gateway_client_headers};

pub(super) const CASES: [Case<Harness>; 14] = cases![
    // Level: the server only uses Fn-Fdk-Version as a metrics tag.
    "resp.fdk-version": Should, Nothing, fdk_version, ["HS-RESP-3"]
        "responses carry Fn-Fdk-Version";
    // Level: nothing in the server reads Fn-Fdk-Runtime (an FDK convention since
    // 2019); /invoke clients get it passed through, triggers drop it.
    "resp.fdk-runtime": Should, Nothing, fdk_runtime, ["HS-RESP-3"]
        "responses carry Fn-Fdk-Runtime";
    // Level: the server's default head limit is Go's 10 MiB (measured: 20 KiB
    // heads served); only FN_MAX_HDR_RESPONSE_SIZE=1024, as in its tests, fails.
    "resp.head-size": Should, Nothing, head_size, ["HS-RESP-11"]
        "a plain answer's head stays under 1 KiB (servers may cap response heads)";
    // Level: any socket status but 200, 502 or 504 is a 502 "invalid function
    // response" to the client and a killed container.
    "resp.status-discipline": Must, Probe, status_discipline, ["HS-RESP-1"]
        "user statuses, errors, panics and empty returns never give a socket status other than 200/502/504";
    // Level: a handler error answered other than 502 is a 502 "invalid function
    // response" and a killed container (or, as a 200, a failure the client never
    // learns of); a next call that fails is a failed call. The JSON body is only
    // SHOULD: the server discards a 502's body.
    "resp.error-502": Must, Probe, error_502, ["HS-RESP-4"]
        "a handler error is a 502 with a JSON message, and the next call works";
    // Level: a panic that drops the connection is a 502 "error receiving function
    // response" and a killed container, a cold start for the next call.
    "resp.panic-502": Must, Probe, panic_502, ["HS-RESP-5"]
        "a panic is a 502 and the process keeps serving";
    // Level: an empty return is an ordinary handler outcome; anything but a 200
    // is a failed call (a crash also kills the container).
    "resp.nothing": Must, Probe, nothing, ["HS-RESP-2"]
        "a handler that returns nothing gets a 200 with an empty body";
    // Level: the server passes every answer header to the /invoke client; a
    // header the client does not get is a call served wrong.
    "resp.invoke-headers": Must, Probe, invoke_headers, ["HS-RESP-7"]
        "invoke calls send user headers unprefixed, every value";
    // Level: the server strips hop-by-hop headers and, on Connection: close,
    // simply dials anew (measured: served without a failure).
    "resp.hop-headers": Should, Probe, hop_headers, ["HS-RESP-9"]
        "hop-by-hop headers set by user code (Connection, Keep-Alive) never reach the socket";
    // Level: for /invoke the server passes Fn-Http-Status through unread; the
    // client gets 200 either way, and fdk-go and fdk-python drop such a status.
    "resp.invoke-status": Should, Probe, invoke_status, ["HS-RESP-8"]
        "invoke calls carry a non-200 user status in Fn-Http-Status";
    // Level: the trigger's client gets only what Fn-Http-Status and Fn-Http-H-*
    // carry; a status or header it does not get is a call served wrong.
    "gw.response": Must, Probe, gateway_response, ["HS-GW-4", "HS-GW-5", "HS-GW-7"]
        "gateway status and headers reach the trigger's client";
    // Level: the server takes any body (no limit by default); one that does not
    // arrive whole is a call served wrong.
    "resp.big-output": Must, Probe, big_output, ["HS-RESP-10"]
        "a 5.5 MB body is framed and delivered whole";
    // Level: optional (n/a when the FDK cannot stream), but a streamed body that
    // does not arrive whole is a call served wrong.
    "resp.stream": Must, Probe, stream, ["HS-RESP-10"]
        "a streamed body (many writes) arrives whole";
    // Level: without the FDK's own 504 the server answers the client the same 504
    // "Timed out" at its own deadline and kills the container: the only cost is
    // a cold start (the contract calls the FDK's 504 optional; no official FDK
    // sends it). A next call that fails after the FDK's own 504 (container kept)
    // is a failed call: MUST.
    "dl.timeout-504": Should, Probe, timeout_504, ["HS-DL-4"]
        "a call past its Fn-Deadline is answered 504 (container kept), then the next call works";
];

fn fdk_version(h: &mut Harness) -> CaseResult {
    identifies(h, "Fn-Fdk-Version")
}

fn fdk_runtime(h: &mut Harness) -> CaseResult {
    identifies(h, "Fn-Fdk-Runtime")
}

/// The header `name`, not blank, on a plain answer and (where the probe can
/// produce one) on the 502 of a handler error.
fn identifies(h: &mut Harness, name: &str) -> CaseResult {
    let ex = h.call(&Call::invoke())?;
    expect_200(h, &ex)?;
    let has = |ex: &Exchange| {
        ex.response()
            .and_then(|r| r.header(name))
            .is_some_and(|v| !v.trim().is_empty())
    };
    if !has(&ex) {
        return Err(h.failed(format!("no {name} header"), &ex));
    }
    // Error answers too, where the probe can produce one.
    if h.has_probe() {
        let ex = probe_call(
            h,
            Call::invoke().probe(r#"{"op":"error","message":"conformance error"}"#),
        )?;
        if ex.status() == Some(502) && !has(&ex) {
            return Err(h.failed(
                format!("no {name} header on the 502 of a handler error"),
                &ex,
            ));
        }
    }
    Ok(())
}

/// Sends a probe op; when the server would kill the container, the next
/// call starts a fresh process.
fn probe_call(h: &mut Harness, call: Call) -> Result<Exchange, Verdict> {
    let ex = h.call(&call)?;
    if ex.view.container == Fate::Killed {
        h.discard();
    }
    Ok(ex)
}

fn status_discipline(h: &mut Harness) -> CaseResult {
    needs_probe(h)?;
    let ops = [
        r#"{"op":"respond","status":204,"body":""}"#,
        r#"{"op":"respond","status":400,"body":"bad"}"#,
        r#"{"op":"respond","status":500,"body":"oops"}"#,
        r#"{"op":"respond","status":201,"body":"made"}"#,
        r#"{"op":"error","message":"conformance error"}"#,
        r#"{"op":"panic","message":"conformance panic"}"#,
        r#"{"op":"nothing"}"#,
    ];
    for kind in ["invoke", "gateway"] {
        for op in ops {
            let call = match kind {
                "invoke" => Call::invoke(),
                _ => Call::gateway("POST", "http://localhost:8080/t/app/fn"),
            };
            let ex = probe_call(h, call.probe(op))?;
            if unsupported(&ex).is_some() {
                continue;
            }
            if !matches!(ex.status(), Some(200 | 502 | 504)) {
                return Err(h.failed(
                    format!(
                        "{kind} call with X-Probe {op}: the socket status must be 200, 502 or 504"
                    ),
                    &ex,
                ));
            }
        }
    }
    Ok(())
}

/// After a failed call, the next call must work (on a new connection: the
/// server does not reuse one after a 502 or 504).
fn next_call_works(h: &mut Harness, after: &str) -> CaseResult {
    let ex = h.call(&Call::invoke())?;
    h.require_200(&ex, format!("the call after {after} failed"))
}

fn error_502(h: &mut Harness) -> CaseResult {
    needs_probe(h)?;
    let ex = probe_call(
        h,
        Call::invoke().probe(r#"{"op":"error","message":"conformance error"}"#),
    )?;
    supported(&ex)?;
    if ex.status() != Some(502) {
        return Err(h.failed(
            "a handler error must be answered with socket status 502",
            &ex,
        ));
    }
    let json: Option<serde_json::Value> = ex
        .response()
        .and_then(|r| serde_json::from_slice(&r.body).ok());
    let json_message = json.is_some_and(|j| j["message"].is_string());
    next_call_works(h, "a handler error")?;
    if !json_message {
        // SHOULD: the server discards a 502's body and sends its own.
        return Err(h
            .failed(
                "the 502's body must be JSON with a string `message` (the server replaces \
                 it with its own, so only local tools and logs see it)",
                &ex,
            )
            .at(Level::Should));
    }
    Ok(())
}

fn panic_502(h: &mut Harness) -> CaseResult {
    needs_probe(h)?;
    let ex = probe_call(
        h,
        Call::invoke().probe(r#"{"op":"panic","message":"conformance panic"}"#),
    )?;
    supported(&ex)?;
    if ex.status() != Some(502) {
        return Err(h.failed(
            "a panic must be answered with socket status 502, the process kept",
            &ex,
        ));
    }
    next_call_works(h, "a panic")
}

fn nothing(h: &mut Harness) -> CaseResult {
    needs_probe(h)?;
    let ex = probe_call(h, Call::invoke().probe(r#"{"op":"nothing"}"#))?;
    expect_200(h, &ex)?;
    next_call_works(h, "an empty return")
}

fn invoke_headers(h: &mut Harness) -> CaseResult {
    needs_probe(h)?;
    let op = r#"{"op":"respond","status":200,"headers":[["X-Custom","a"],["X-Custom","b"]],"body":"ok"}"#;
    let ex = probe_call(h, Call::invoke().probe(op))?;
    expect_200(h, &ex)?;
    let values: Vec<&str> = ex
        .response()
        .map(|r| r.head.field_values("X-Custom").collect())
        .unwrap_or_default();
    if values != ["a", "b"] {
        return Err(h.failed(
            format!("X-Custom values {values:?}, expected a then b"),
            &ex,
        ));
    }
    Ok(())
}

fn invoke_status(h: &mut Harness) -> CaseResult {
    needs_probe(h)?;
    let op = r#"{"op":"respond","status":404,"body":"no such thing"}"#;
    let ex = probe_call(h, Call::invoke().probe(op))?;
    expect_200(h, &ex)?;
    match ex.response().and_then(|r| r.header("Fn-Http-Status")) {
        Some("404") => Ok(()),
        other => Err(h.failed(
            format!("Fn-Http-Status is {other:?}; the user's 404 was lost"),
            &ex,
        )),
    }
}

fn gateway_response(h: &mut Harness) -> CaseResult {
    needs_probe(h)?;
    let op = r#"{"op":"respond","status":404,"headers":[["X-Thing","v1"],["X-Thing","v2"]],"body":"{\"error\":\"not found\"}","content_type":"application/json"}"#;
    let ex = probe_call(
        h,
        Call::gateway("GET", "http://localhost:8080/t/app/fn").probe(op),
    )?;
    expect_200(h, &ex)?;
    let Some(res) = ex.response() else {
        return Err(h.failed("no response", &ex));
    };
    let client = gateway_client_headers(res);
    let things: Vec<&str> = client
        .iter()
        .filter(|(k, _)| k == "x-thing")
        .map(|(_, v)| v.as_str())
        .collect();
    let mut problems = Vec::new();
    if ex.view.client_status != 404 {
        problems.push(format!(
            "the client would get {} instead of 404",
            ex.view.client_status
        ));
    }
    if things != ["v1", "v2"] {
        problems.push(format!(
            "the client would get X-Thing {things:?} instead of v1, v2"
        ));
    }
    if !client
        .iter()
        .any(|(k, v)| k == "content-type" && v.starts_with("application/json"))
    {
        problems.push("the client would get no Content-Type: application/json".to_owned());
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(h.failed(problems.join("; "), &ex))
    }
}

fn big_output(h: &mut Harness) -> CaseResult {
    needs_probe(h)?;
    let len = 5_500_000usize;
    let ex = probe_call(
        h,
        Call::invoke().probe(&format!(r#"{{"op":"emit","bytes":{len}}}"#)),
    )?;
    expect_200(h, &ex)?;
    let body = ex.response().map(|r| r.body.as_slice()).unwrap_or_default();
    let expected = (0..len).map(|i| (i % 251) as u8);
    if body.len() != len || !body.iter().copied().eq(expected) {
        return Err(h.failed(
            format!("got {} bytes, not the {len} asked for", body.len()),
            &ex,
        ));
    }
    Ok(())
}

fn stream(h: &mut Harness) -> CaseResult {
    needs_probe(h)?;
    let ex = probe_call(
        h,
        Call::invoke().probe(r#"{"op":"stream","chunks":50,"size":1000}"#),
    )?;
    expect_200(h, &ex)?;
    let body = ex.response().map(|r| r.body.as_slice()).unwrap_or_default();
    if body.len() != 50_000 || body.iter().any(|&b| b != b'x') {
        return Err(h.failed(format!("got {} bytes, not 50000 x's", body.len()), &ex));
    }
    Ok(())
}

fn timeout_504(h: &mut Harness) -> CaseResult {
    needs_probe(h)?;
    // Whole seconds, truncated: the header is 0-1 s away.
    let call = Call::invoke()
        .deadline_in(Duration::from_secs(1))
        .probe(r#"{"op":"sleep","ms":5000}"#);
    let ex = probe_call(h, call)?;
    supported(&ex)?;
    if ex.status() != Some(504) {
        return Err(h.failed(
            "the call ran past Fn-Deadline: the FDK must answer 504 before the server's own deadline",
            &ex,
        ));
    }
    // After its own 504 the server keeps the container: the next call must work.
    next_call_works(h, "a timed-out call").map_err(|v| v.at(Level::Must))
}

fn hop_headers(h: &mut Harness) -> CaseResult {
    needs_probe(h)?;
    let op = r#"{"op":"respond","status":200,"headers":[["Connection","close"],["Keep-Alive","timeout=1"]],"body":"hop"}"#;
    let mut conn = h.connect()?;
    let ex = h.exchange(&mut conn, &Call::invoke().probe(op));
    expect_200(h, &ex)?;
    let hop: Vec<String> = ex
        .response()
        .map(|r| {
            r.headers()
                // The user's values; an FDK's own `Connection: keep-alive` is fine.
                .filter(|(k, v)| {
                    (k.eq_ignore_ascii_case("Connection") && v.eq_ignore_ascii_case("close"))
                        || (k.eq_ignore_ascii_case("Keep-Alive") && *v == "timeout=1")
                })
                .map(|(k, v)| format!("{k}: {v}"))
                .collect()
        })
        .unwrap_or_default();
    if !hop.is_empty() {
        return Err(h.failed(
            format!("user code's {hop:?} reached the socket, where they change how the connection is handled"),
            &ex,
        ));
    }
    let ex = h.exchange(&mut conn, &Call::invoke());
    h.require_200(&ex, "the connection did not carry the next call")
}

fn head_size(h: &mut Harness) -> CaseResult {
    let ex = h.call(&Call::invoke())?;
    expect_200(h, &ex)?;
    let head: usize = ex
        .response()
        .map(|r| {
            "HTTP/1.1 200 OK\r\n\r\n".len()
                + r.headers()
                    .map(|(k, v)| k.len() + v.len() + 4)
                    .sum::<usize>()
        })
        .unwrap_or_default();
    if head >= 1024 {
        return Err(h.failed(
            format!(
                "the response head is {head} bytes; the server's default limit is Go's 10 MiB, but \
                 one run with FN_MAX_HDR_RESPONSE_SIZE=1024 (as in its own tests) answers 502 \
                 \"function response header too large\" and kills the container"
            ),
            &ex,
        ));
    }
    Ok(())
}
