//! What the function sees of a call (HS-REQ, HS-GW-1..3, HS-DL-1..3, HS-ENV-4),
//! and what it makes of a request the server never sends.

use std::time::{Duration, SystemTime};

use super::{expect_200, needs_probe, report};
use crate::case::{Case, CaseResult, Meta, Needs};
use crate::harness::{Call, Exchange, Harness};
use crate::level::Level;
use crate::verdict::{Failure, Verdict, show_bytes};
use fn_emulator::outcome::CallKind;
use fn_emulator::process::SOCKET_NAME;
use fn_emulator::{StartOptions, rfc3339};

pub(super) const CASES: [Case<Harness>; 16] = [
    Case {
        meta: Meta {
            id: "req.empty-body",
            // Level: the server sends every empty call so (Content-Length: 0); an answer
            // other than 200/502/504, or none, is a 502 to the client and a killed container.
            level: Level::Must,
            requirements: &["HS-REQ-1"],
            title: "a call with Content-Length: 0 is answered 200",
            needs: Needs::Nothing,
        },
        run: empty_body,
    },
    Case {
        meta: Meta {
            id: "req.read-before-answer",
            // Level: only the pure-runner (LB) mode refuses an early answer; the server
            // measured logs "Unsolicited response", redials and serves the call.
            level: Level::Should,
            requirements: &["HS-REQ-5"],
            title: "no answer starts before the whole request body has arrived",
            needs: Needs::Nothing,
        },
        run: read_before_answer,
    },
    Case {
        meta: Meta {
            id: "req.no-encoding",
            // Level: the server's Go transport decompresses a gzip answer to the
            // Accept-Encoding it added itself, so the client still gets the plain body.
            level: Level::Should,
            requirements: &["HS-REQ-6"],
            title: "the transport's Accept-Encoding: gzip does not make the answer compressed",
            needs: Needs::Nothing,
        },
        run: no_encoding,
    },
    Case {
        meta: Meta {
            id: "req.wrong-path",
            // Level: informational: the server only ever sends POST /call.
            level: Level::May,
            requirements: &["HS-REQ-7", "HS-RESP-1"],
            title: "informational (the server never sends them): GET /other and POST /other get 200, 502 or 504 and the process keeps serving",
            needs: Needs::Nothing,
        },
        run: wrong_path,
    },
    Case {
        meta: Meta {
            id: "req.sizes-vary",
            level: Level::Must,
            requirements: &["HS-REQ-1", "HS-RESP-10"],
            title: "calls of other sizes in a row (5 B, 5000 B, empty, 1 B, 70 KiB) on one connection are all served",
            needs: Needs::Nothing,
        },
        run: sizes_vary,
    },
    Case {
        meta: Meta {
            id: "req.chunked-echo",
            // Level: the server sends non-empty bodies chunked; a body the handler does
            // not get whole is a call served wrong.
            level: Level::Must,
            requirements: &["HS-REQ-1", "HS-REQ-2"],
            title: "a chunked body reaches the handler byte for byte",
            needs: Needs::Probe,
        },
        run: chunked_echo,
    },
    Case {
        meta: Meta {
            id: "req.binary-6mib",
            // Level: the server forwards any body (no size limit by default), binary
            // included; a changed body is a call served wrong.
            level: Level::Must,
            requirements: &["HS-REQ-2", "HS-RESP-10"],
            title: "6 MiB of binary data round-trip unchanged",
            needs: Needs::Probe,
        },
        run: binary_6mib,
    },
    Case {
        meta: Meta {
            id: "req.call-id",
            // Level: the server sends Fn-Call-Id on every call; a handler that does not
            // see it does not see the call the server sent.
            level: Level::Must,
            requirements: &["HS-REQ-3"],
            title: "the handler sees each call's Fn-Call-Id",
            needs: Needs::Probe,
        },
        run: call_id,
    },
    Case {
        meta: Meta {
            id: "req.deadline",
            // Level: the server sends Fn-Deadline on every call; a handler that does
            // not see it does not see the call the server sent.
            level: Level::Must,
            requirements: &["HS-DL-1", "HS-DL-3"],
            title: "the handler sees the Fn-Deadline instant",
            needs: Needs::Probe,
        },
        run: deadline,
    },
    Case {
        meta: Meta {
            id: "req.deadline-offset",
            // Level: the server writes Fn-Deadline with Go's time.RFC3339 in its own
            // process's zone; the fnserver image has no zone data and runs in UTC, so it
            // sends `Z` (as captured and measured). Only a server run in another zone
            // (built and run outside its image) would send an offset.
            level: Level::Should,
            requirements: &["HS-DL-1", "HS-DL-3"],
            title: "an Fn-Deadline with an offset (+02:00, -05:30) is seen as the same instant in UTC",
            needs: Needs::Probe,
        },
        run: deadline_offset,
    },
    Case {
        meta: Meta {
            id: "req.garbled-deadline",
            // Level: the server always sets a valid Fn-Deadline (RFC 3339, whole
            // seconds), overwriting any the client sent.
            level: Level::Should,
            requirements: &["HS-DL-2"],
            title: "a garbled Fn-Deadline is answered normally (no deadline, no crash)",
            needs: Needs::Nothing,
        },
        run: garbled_deadline,
    },
    Case {
        meta: Meta {
            id: "req.no-deadline",
            // Level: the server sets Fn-Deadline on every call (the call's context always
            // has a deadline), overwriting any the client sent.
            level: Level::Should,
            requirements: &["HS-DL-2"],
            title: "a call without Fn-Deadline is answered normally, and the handler sees no deadline",
            needs: Needs::Nothing,
        },
        run: no_deadline,
    },
    Case {
        meta: Meta {
            id: "req.invoke-headers",
            // Level: the server forwards the client's headers, repeats and Content-Type
            // included (unprefixed, as for triggers); a value the handler does not see is
            // a call served wrong.
            level: Level::Must,
            requirements: &["HS-REQ-4"],
            title: "invoke calls see client headers, every value of a repeated one, and the client's Content-Type",
            needs: Needs::Probe,
        },
        run: invoke_headers,
    },
    Case {
        meta: Meta {
            id: "gw.request",
            // Level: every trigger call arrives so; a method, URL or header value the
            // handler does not see is a call served wrong (an extra, still prefixed
            // copy of a header is only SHOULD: the handler still sees the call).
            level: Level::Must,
            requirements: &["HS-GW-1", "HS-GW-2", "HS-GW-3"],
            title: "gateway calls see the client's method, URL and unprefixed headers",
            needs: Needs::Probe,
        },
        run: gateway_request,
    },
    Case {
        meta: Meta {
            id: "env.config",
            // Level: the server passes the app's and function's config as environment
            // variables; config the handler cannot read is a function served wrong.
            level: Level::Must,
            requirements: &["HS-ENV-4", "HS-ENV-5"],
            title: "config variables (commas, equals signs) and FN_APP_ID reach the handler",
            needs: Needs::Probe,
        },
        run: config,
    },
    Case {
        meta: Meta {
            id: "env.server-vars",
            // Level: the server sets FN_APP_ID, FN_FN_ID, FN_MEMORY and FN_TYPE in every
            // container's config; a handler that cannot read them, or reads other values,
            // does not see the configuration the server sent. FN_LISTENER and FN_FORMAT
            // are the FDK's own plumbing (FN_FORMAT is deprecated, "TODO: remove this after
            // fdk's forget what it means"): hiding only those is a SHOULD failure.
            level: Level::Must,
            requirements: &["HS-ENV-4", "HS-ENV-5"],
            title: "FN_APP_ID, FN_FN_ID, FN_MEMORY, FN_TYPE, FN_FORMAT and FN_LISTENER reach the handler with the server's values",
            needs: Needs::Probe,
        },
        run: server_vars,
    },
];

fn empty_body(h: &mut Harness) -> CaseResult {
    let ex = h.call(&Call::invoke())?;
    expect_200(h, &ex)
}

/// A defect that shows only on a later call of another size (a length
/// remembered from the first answer, a buffer sized once) is invisible to
/// a run whose every process gets the same first call: this case varies the
/// size and order on one process and one pooled connection.
fn sizes_vary(h: &mut Harness) -> CaseResult {
    // A fresh process, so the first call of this case is its first call.
    h.discard();
    for size in [5, 5000, 0, 1, 70 * 1024, 5] {
        let body: Vec<u8> = (0..size).map(|i| b'a' + (i % 26) as u8).collect();
        let ex = h.call(&Call::invoke().body(body))?;
        // The server serves a call when it neither kills the container nor
        // answers its own 500 (a body cut short); a 502 or 504 the function
        // chose is served too.
        if ex.view.container == fn_emulator::outcome::Fate::Killed || ex.view.client_status == 500 {
            return Err(h.failed(
                format!("a call with a {size}-byte body was not served"),
                &ex,
            ));
        }
    }
    Ok(())
}

fn echo_check(h: &mut Harness, body: Vec<u8>) -> CaseResult {
    needs_probe(h)?;
    let ex = h.call(&Call::invoke().body(body.clone()))?;
    expect_200(h, &ex)?;
    let got = ex.response().map(|r| r.body.as_slice()).unwrap_or_default();
    if got != body.as_slice() {
        return Err(h.failed(
            format!(
                "the echo differs: sent {} bytes, got {} back",
                body.len(),
                got.len()
            ),
            &ex,
        ));
    }
    Ok(())
}

fn chunked_echo(h: &mut Harness) -> CaseResult {
    echo_check(h, b"hello, chunked world".to_vec())
}

fn binary_6mib(h: &mut Harness) -> CaseResult {
    let mut x: u32 = 0x9E37_79B9;
    let body = (0..6 << 20)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x.to_le_bytes()[3]
        })
        .collect();
    echo_check(h, body)
}

fn report_call(h: &mut Harness, call: Call) -> Result<(serde_json::Value, Exchange), Verdict> {
    needs_probe(h)?;
    let ex = h.call(
        &call.probe(r#"{"op":"report","config":["GREETING","FN_APP_ID","FN_MEMORY","MISSING"]}"#),
    )?;
    let json = report(h, &ex)?;
    Ok((json, ex))
}

fn call_id(h: &mut Harness) -> CaseResult {
    let (first, ex1) = report_call(h, Call::invoke())?;
    let (second, ex2) = report_call(h, Call::invoke())?;
    for (json, ex) in [(&first, &ex1), (&second, &ex2)] {
        if json["call_id"].as_str() != Some(ex.call_id.as_str()) {
            return Err(h.failed(
                format!(
                    "the handler saw call id {}, the server sent {}",
                    json["call_id"], ex.call_id
                ),
                ex,
            ));
        }
    }
    Ok(())
}

fn deadline(h: &mut Harness) -> CaseResult {
    let (json, ex) = report_call(h, Call::invoke())?;
    let sent = String::from_utf8_lossy(&ex.sent)
        .lines()
        .find_map(|l| l.strip_prefix("Fn-Deadline: ").map(str::to_owned))
        .unwrap_or_default();
    if json["deadline"].as_str() != Some(sent.as_str()) {
        return Err(h.failed(
            format!(
                "the handler saw deadline {}, the server sent {sent}",
                json["deadline"]
            ),
            &ex,
        ));
    }
    Ok(())
}

/// The same instant as `at` (whole seconds), written with the offset
/// `minutes` east of UTC: the UTC clock time shifted by the offset, then
/// the offset instead of `Z`.
fn with_offset(at: SystemTime, minutes: i32) -> String {
    let shift = Duration::from_secs(u64::from(minutes.unsigned_abs()) * 60);
    let local = if minutes >= 0 { at + shift } else { at - shift };
    let clock = rfc3339::format_utc(local);
    let (sign, abs) = (if minutes >= 0 { '+' } else { '-' }, minutes.unsigned_abs());
    format!(
        "{}{sign}{:02}:{:02}",
        clock.trim_end_matches('Z'),
        abs / 60,
        abs % 60
    )
}

fn deadline_offset(h: &mut Harness) -> CaseResult {
    for minutes in [120, -330] {
        let at = SystemTime::now() + Duration::from_secs(30);
        let utc = rfc3339::format_utc(at);
        let sent = with_offset(at, minutes);
        let call = Call::invoke().deadline_header(&sent, Duration::from_secs(30));
        let (json, ex) = report_call(h, call)?;
        if json["deadline"].as_str() != Some(utc.as_str()) {
            return Err(h.failed(
                format!(
                    "the handler saw deadline {}; the call sent Fn-Deadline: {sent}, which is {utc}",
                    json["deadline"]
                ),
                &ex,
            ));
        }
    }
    Ok(())
}

fn garbled_deadline(h: &mut Harness) -> CaseResult {
    let ex = h.call(&Call::invoke().raw_deadline("next tuesday"))?;
    expect_200(h, &ex)?;
    let ex = h.call(&Call::invoke())?;
    expect_200(h, &ex)
}

fn no_deadline(h: &mut Harness) -> CaseResult {
    let ex = h.call(&Call::invoke().no_deadline())?;
    expect_200(h, &ex)?;
    if h.has_probe() {
        let (json, ex) = report_call(h, Call::invoke().no_deadline())?;
        if !json["deadline"].is_null() {
            return Err(h.failed(
                format!(
                    "the handler saw deadline {} though the call carried no Fn-Deadline \
                     (HS-DL-2: no deadline)",
                    json["deadline"]
                ),
                &ex,
            ));
        }
    }
    let ex = h.call(&Call::invoke())?;
    expect_200(h, &ex)
}

fn headers_of(json: &serde_json::Value) -> Vec<(String, String)> {
    json["headers"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|p| {
                    Some((
                        p[0].as_str()?.to_ascii_lowercase(),
                        p[1].as_str()?.to_owned(),
                    ))
                })
                .collect()
        })
        .unwrap_or_default()
}

fn invoke_headers(h: &mut Harness) -> CaseResult {
    let call = Call::invoke()
        .header("X-Multi", "1")
        .header("X-Multi", "2")
        .header("Authorization", "Bearer t0k3n")
        .header("Content-Type", "application/json")
        .body(r#"{"name":"conformance"}"#);
    let (json, ex) = report_call(h, call)?;
    let headers = headers_of(&json);
    let multi: Vec<&str> = headers
        .iter()
        .filter(|(k, _)| k == "x-multi")
        .map(|(_, v)| v.as_str())
        .collect();
    if multi != ["1", "2"] {
        return Err(h.failed(format!("x-multi seen as {multi:?}, sent 1 then 2"), &ex));
    }
    if !headers
        .iter()
        .any(|(k, v)| k == "authorization" && v == "Bearer t0k3n")
    {
        return Err(h.failed("the Authorization header did not reach the handler", &ex));
    }
    // The client's Content-Type arrives unprefixed, as a header like any other;
    // an FDK may also expose it as a field of its own, which must agree.
    if !headers
        .iter()
        .any(|(k, v)| k == "content-type" && v == "application/json")
    {
        return Err(h.failed(
            "the client's Content-Type: application/json did not reach the handler's headers",
            &ex,
        ));
    }
    if !(json["content_type"].is_null() || json["content_type"] == "application/json") {
        return Err(h.failed(
            format!(
                "the handler's content type is {}, the client sent application/json",
                json["content_type"]
            ),
            &ex,
        ));
    }
    Ok(())
}

fn gateway_request(h: &mut Harness) -> CaseResult {
    let url = "http://127.0.0.1:18080/t/cap/cap?x=1&y=two%20words";
    let call = Call::gateway("GET", url)
        .header("X-Multi", "1")
        .header("X-Multi", "2")
        .header("Content-Type", "text/plain");
    let (json, ex) = report_call(h, call)?;
    let mut problems = Vec::new();
    if json["gateway"] != true {
        problems.push("not treated as a gateway call".to_owned());
    }
    if json["method"].as_str() != Some("GET") {
        problems.push(format!("method {} (sent GET)", json["method"]));
    }
    if json["url"].as_str() != Some(url) {
        problems.push(format!("url {}", json["url"]));
    }
    let headers = headers_of(&json);
    let multi = headers.iter().filter(|(k, _)| k == "x-multi").count();
    if multi != 2 {
        problems.push(format!(
            "{multi} x-multi values (sent 2, as Fn-Http-H-X-Multi)"
        ));
    }
    if !headers
        .iter()
        .any(|(k, v)| k == "content-type" && v == "text/plain")
    {
        problems.push("no content-type: text/plain".to_owned());
    }
    // SHOULD only: the handler still sees every header the server sent.
    let mut extra = None;
    if let Some((k, _)) = headers.iter().find(|(k, _)| k.starts_with("fn-http-h-")) {
        extra = Some(format!("{k} still prefixed"));
    }
    match (problems.is_empty(), extra) {
        (true, None) => Ok(()),
        (true, Some(extra)) => Err(h
            .failed(
                format!("gateway view wrong: {extra} (an extra copy beside the unprefixed header)"),
                &ex,
            )
            .at(Level::Should)),
        (false, extra) => {
            problems.extend(extra);
            Err(h.failed(format!("gateway view wrong: {}", problems.join("; ")), &ex))
        }
    }
}

fn config(h: &mut Harness) -> CaseResult {
    needs_probe(h)?;
    let value = "hi, there = yes";
    h.start(StartOptions {
        env_set: vec![("GREETING".into(), value.into())],
        ..StartOptions::default()
    })?;
    let result = report_call(h, Call::invoke()).and_then(|(json, ex)| {
        let config = &json["config"];
        if config["GREETING"].as_str() != Some(value) {
            return Err(h.failed(format!("GREETING seen as {}", config["GREETING"]), &ex));
        }
        if config["FN_APP_ID"].as_str() != Some(fn_emulator::process::APP_ID) {
            return Err(h.failed(format!("FN_APP_ID seen as {}", config["FN_APP_ID"]), &ex));
        }
        if !config["MISSING"].is_null() {
            return Err(h.failed("an unset key has a value", &ex));
        }
        Ok(())
    });
    h.discard();
    result
}

/// The variables the server sets in every container that are neither app
/// nor function config: the FDK's plumbing, the rest user code may use.
const PLUMBING: [&str; 2] = ["FN_LISTENER", "FN_FORMAT"];

fn server_vars(h: &mut Harness) -> CaseResult {
    needs_probe(h)?;
    let socket = h.running()?.socket().to_owned();
    let expected: Vec<(String, String)> = fn_emulator::process::server_env(&socket)
        .into_iter()
        .map(|(k, v)| {
            (
                k.to_string_lossy().into_owned(),
                v.to_string_lossy().into_owned(),
            )
        })
        .collect();
    let keys: Vec<&str> = expected.iter().map(|(k, _)| k.as_str()).collect();
    let op = serde_json::json!({ "op": "report", "config": keys }).to_string();
    let ex = h.call(&Call::invoke().probe(&op))?;
    let json = report(h, &ex)?;
    // FN_LISTENER names the socket inside the function's own file system:
    // a container (or a wrapper such as scripts/fn-sandbox.sh) mounts the
    // socket directory elsewhere (the server's is /tmp/iofs), so only its
    // form is checked.
    let as_set = |k: &str, v: &str, seen: Option<&str>| match (k, seen) {
        ("FN_LISTENER", Some(seen)) => {
            seen.starts_with("unix:/") && seen.ends_with(&format!("/{SOCKET_NAME}"))
        }
        (_, seen) => seen == Some(v),
    };
    let wrong: Vec<(&str, String)> = expected
        .iter()
        .filter(|(k, v)| !as_set(k, v, json["config"][k.as_str()].as_str()))
        .map(|(k, v)| {
            let seen = &json["config"][k.as_str()];
            (
                k.as_str(),
                format!("{k} seen as {seen} (the server set {v:?})"),
            )
        })
        .collect();
    if wrong.is_empty() {
        return Ok(());
    }
    let what = wrong
        .iter()
        .map(|(_, w)| w.as_str())
        .collect::<Vec<_>>()
        .join("; ");
    let failure = h.failed(what, &ex);
    if wrong.iter().all(|(k, _)| PLUMBING.contains(k)) {
        // SHOULD: user code has no use for the FDK's own plumbing.
        return Err(failure.at(Level::Should));
    }
    Err(failure)
}

fn read_before_answer(h: &mut Harness) -> CaseResult {
    // A call whose chunked body arrives in two halves, 200 ms apart.
    let body = vec![b'x'; 64 * 1024];
    let call = Call::invoke()
        .header("Content-Type", "text/plain")
        .body(body);
    let mut conn = h.connect()?;
    let (sent, _) = call.render_for_test();
    let half = sent.len() - 1000;
    conn.send_raw(&sent[..half])
        .map_err(|e| Verdict::fail(format!("could not send: {e}")))?;
    conn.set_read_timeout(Some(std::time::Duration::from_millis(200)))
        .map_err(|e| Verdict::fail(e.to_string()))?;
    if conn.has_data() {
        return Err(h.failed_plain(
            "the function answered before the request body was complete \
             (the server's pure-runner mode answers 502 to such a premature write)",
        ));
    }
    conn.send_raw(&sent[half..])
        .map_err(|e| Verdict::fail(format!("could not send: {e}")))?;
    conn.set_read_timeout(Some(std::time::Duration::from_secs(30)))
        .map_err(|e| Verdict::fail(e.to_string()))?;
    let ex = h.read_answer(&mut conn, sent, fn_emulator::outcome::CallKind::Invoke);
    expect_200(h, &ex)
}

fn no_encoding(h: &mut Harness) -> CaseResult {
    let ex = h.call(&Call::invoke())?;
    expect_200(h, &ex)?;
    match ex.response().and_then(|r| r.header("Content-Encoding")) {
        None => Ok(()),
        Some(enc) => Err(h.failed(
            format!("the answer is {enc}-encoded, though only the transport asked for gzip"),
            &ex,
        )),
    }
}

/// What every `req.wrong-path` report starts with.
const INFORMATIONAL: &str = "informational (MAY): the Fn server only ever sends POST /call, so \
     no real call can meet this";

/// fn-contract §12 case 26's wrong-path sub-case: requests the server never
/// sends, each on a connection of its own, then a good call.
fn wrong_path(h: &mut Harness) -> CaseResult {
    let requests: [&[u8]; 2] = [
        b"GET /other HTTP/1.1\r\nHost: localhost\r\nUser-Agent: Go-http-client/1.1\r\n\
          Accept-Encoding: gzip\r\n\r\n",
        b"POST /other HTTP/1.1\r\nHost: localhost\r\nUser-Agent: Go-http-client/1.1\r\n\
          Content-Length: 5\r\nContent-Type: text/plain\r\nAccept-Encoding: gzip\r\n\r\nhello",
    ];
    h.running()?;
    let pid = h.pid();
    let mut problems = Vec::new();
    let mut evidence = None;
    for request in requests {
        let line = String::from_utf8_lossy(request)
            .lines()
            .next()
            .unwrap_or_default()
            .to_owned();
        let mut conn = h.connect()?;
        let sent = conn
            .send_raw(request)
            .and_then(|()| conn.set_read_timeout(Some(Duration::from_secs(10))));
        if let Err(e) = sent {
            return Err(h.failed_plain(format!("{INFORMATIONAL}. Could not send {line}: {e}")));
        }
        let ex = h.read_answer(&mut conn, request.to_vec(), CallKind::Invoke);
        match ex.status() {
            Some(200 | 502 | 504) => continue,
            Some(status) => problems.push(format!("{line} was answered {status}")),
            None => problems.push(format!("{line} got no answer")),
        }
        evidence.get_or_insert(ex);
    }
    let ex = h.call(&Call::invoke())?;
    if h.pid() != pid {
        problems.push(
            "the process exited after them (the harness started it again for the next call)"
                .to_owned(),
        );
    } else if ex.status() != Some(200) {
        problems.push("a good call after them failed".to_owned());
    }
    let Some(evidence) = evidence.or((!problems.is_empty()).then_some(ex)) else {
        return Ok(());
    };
    Err(informational(
        h,
        format!(
            "{}; HS-REQ-7 asks for 502 and the process serving on (any of 200, 502 or 504 keeps \
             HS-RESP-1)",
            problems.join("; ")
        ),
        &evidence,
    ))
}

/// A `req.wrong-path` failure: what was sent and what came back, but no
/// server view, since the server never sends such a request.
fn informational(h: &Harness, problem: String, ex: &Exchange) -> Verdict {
    let mut failure = Failure::new(format!("{INFORMATIONAL}. {problem}"));
    failure.sent = Some(show_bytes(&ex.sent, 1024));
    failure.got = Some(ex.shown());
    failure.connection = Some(ex.via.to_string());
    failure.log = h.case_log();
    Verdict::Fail(Box::new(failure))
}
