//! What the function sees of a call's request (HS-REQ): its body, read
//! before the answer, and its call id; and what the function makes of a
//! request the server never sends. The deadline is in `deadlines.rs`, the
//! headers, config and variables in `metadata.rs`.

use std::time::Duration;

use super::{expect_200, needs_probe, report_call};
use crate::case::{Case, CaseResult};
use crate::harness::{Call, Exchange, Harness};
use crate::verdict::{Failure, Verdict, show_bytes};
use fn_emulator::outcome::CallKind;

pub(super) const CASES: [Case<Harness>; 8] = cases![
    // Level: the server sends every empty call so (Content-Length: 0); an answer
    // other than 200/502/504, or none, is a 502 to the client and a killed container.
    "req.empty-body": Must, Nothing, empty_body, ["HS-REQ-1"]
        "a call with Content-Length: 0 is answered 200";
    // Level: only the pure-runner (LB) mode refuses an early answer; the server
    // measured logs "Unsolicited response", redials and serves the call.
    "req.read-before-answer": Should, Nothing, read_before_answer, ["HS-REQ-5"]
        "no answer starts before the whole request body has arrived";
    // Level: the server's Go transport decompresses a gzip answer to the
    // Accept-Encoding it added itself, so the client still gets the plain body.
    "req.no-encoding": Should, Nothing, no_encoding, ["HS-REQ-6"]
        "the transport's Accept-Encoding: gzip does not make the answer compressed";
    // Level: informational: the server only ever sends POST /call.
    "req.wrong-path": May, Nothing, wrong_path, ["HS-REQ-7", "HS-RESP-1"]
        "informational (the server never sends them): GET /other and POST /other get 200, 502 or 504 and the process keeps serving";
    "req.sizes-vary": Must, Nothing, sizes_vary, ["HS-REQ-1", "HS-RESP-10"]
        "calls of other sizes in a row (5 B, 5000 B, empty, 1 B, 70 KiB) on one connection are all served";
    // Level: the server sends non-empty bodies chunked; a body the handler does
    // not get whole is a call served wrong.
    "req.chunked-echo": Must, Probe, chunked_echo, ["HS-REQ-1", "HS-REQ-2"]
        "a chunked body reaches the handler byte for byte";
    // Level: the server forwards any body (no size limit by default), binary
    // included; a changed body is a call served wrong.
    "req.binary-6mib": Must, Probe, binary_6mib, ["HS-REQ-2", "HS-RESP-10"]
        "6 MiB of binary data round-trip unchanged";
    // Level: the server sends Fn-Call-Id on every call; a handler that does not
    // see it does not see the call the server sent.
    "req.call-id": Must, Probe, call_id, ["HS-REQ-3"]
        "the handler sees each call's Fn-Call-Id";
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
