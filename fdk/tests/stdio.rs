//! protocol-spec/vectors/stdio.json: the bytes a 0.3.602 server wrote to a
//! function's stdin, the handler's behaviour, and what the FDK must write
//! to stdout, replayed in-process through [`StdioRun`].

use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use fdk::testing::{StdioOutput, StdioRun};
use fdk::{Body, Context, Function, FunctionError, Json, http};
use serde_json::{Value, json};

use crate::util::b64_decode;

/// What the handler saw, one entry per call.
type Seen = Arc<Mutex<Vec<Value>>>;

fn record(seen: &Seen, ctx: &Context, headers: &http::HeaderMap, body: &[u8]) {
    let gateway = ctx.gateway();
    let headers: Vec<Value> = headers
        .iter()
        .map(|(k, v)| json!([k.as_str(), v.to_str().unwrap_or("<binary>")]))
        .collect();
    seen.lock().unwrap().push(json!({
        "call_id": ctx.call_id(),
        "deadline": ctx.deadline().map(|d| {
            d.duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as u64
        }),
        "method": gateway.map(|g| g.method().as_str().to_owned()),
        "request_url": gateway.map(|g| g.url().to_string()),
        "content_type": ctx.content_type(),
        "headers": headers,
        "body_b64": b64_encode(body),
    }));
}

fn b64_encode(bytes: &[u8]) -> String {
    const ABC: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = (u32::from(chunk[0]) << 16)
            | (u32::from(*chunk.get(1).unwrap_or(&0)) << 8)
            | u32::from(*chunk.get(2).unwrap_or(&0));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ABC[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// The function a vector's `user` describes.
fn function(user: &Value, seen: &Seen) -> Function {
    let outcome = user["outcome"].as_str().unwrap().to_owned();
    if outcome == "rejection" {
        async fn json(Json(v): Json<Value>) -> String {
            v.to_string()
        }
        return Function::new(json);
    }
    let user = user.clone();
    let seen = Arc::clone(seen);
    Function::new(move |ctx: Context, body: Bytes| {
        let user = user.clone();
        let seen = Arc::clone(&seen);
        let outcome = outcome.clone();
        async move {
            record(&seen, &ctx, ctx.headers(), &body);
            match outcome.as_str() {
                "ok" => {
                    let mut res =
                        http::Response::builder().status(user["status"].as_u64().unwrap() as u16);
                    for h in user["headers"].as_array().into_iter().flatten() {
                        res = res.header(h[0].as_str().unwrap(), h[1].as_str().unwrap());
                    }
                    let body = user["body"].as_str().unwrap_or("").to_owned();
                    Ok(res.body(Body::from(body)).unwrap())
                }
                "echo" => {
                    let mut res = http::Response::builder();
                    if let Some(ct) = ctx.content_type() {
                        res = res.header("Content-Type", ct);
                    }
                    Ok(res.body(Body::from(body)).unwrap())
                }
                "error" => Err(FunctionError::msg(user["error"].as_str().unwrap_or("boom"))),
                "panic" => panic!("{}", user["error"].as_str().unwrap_or("boom")),
                "deadline" => {
                    tokio::time::sleep(Duration::from_secs(3600)).await;
                    Ok(http::Response::new(Body::empty()))
                }
                other => panic!("unknown outcome {other}"),
            }
        }
    })
}

/// `expected` matches `got`: strings ending in `*` match by prefix.
fn matches(expected: &Value, got: &Value) -> bool {
    match (expected, got) {
        (Value::String(e), Value::String(g)) if e.ends_with('*') => {
            g.starts_with(&e[..e.len() - 1])
        }
        (Value::Object(e), Value::Object(g)) => {
            e.len() == g.len()
                && e.iter()
                    .all(|(k, ev)| g.get(k).is_some_and(|gv| matches(ev, gv)))
        }
        (Value::Array(e), Value::Array(g)) => {
            e.len() == g.len() && e.iter().zip(g).all(|(e, g)| matches(e, g))
        }
        (e, g) => e == g,
    }
}

/// One HTTP/1.1 response off the front of `bytes`: status, headers
/// (lower-case names), body (sized or chunked), and the rest.
/// Status, headers (lower-case names), decoded body.
type Parsed = (u16, Vec<(String, String)>, Vec<u8>);

fn http_response(bytes: &[u8]) -> (Parsed, &[u8]) {
    let end = bytes
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a complete response head");
    let head = std::str::from_utf8(&bytes[..end]).unwrap();
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap();
    assert!(status_line.starts_with("HTTP/1.1 "), "{status_line}");
    let status: u16 = status_line[9..12].parse().unwrap();
    let headers: Vec<(String, String)> = lines
        .map(|l| {
            let (k, v) = l.split_once(':').unwrap();
            (k.trim().to_ascii_lowercase(), v.trim().to_owned())
        })
        .collect();
    let mut rest = &bytes[end + 4..];
    let get = |name: &str| {
        headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    let body = if let Some(len) = get("content-length") {
        let len: usize = len.parse().unwrap();
        let body = rest[..len].to_vec();
        rest = &rest[len..];
        body
    } else if get("transfer-encoding").as_deref() == Some("chunked") {
        let mut body = Vec::new();
        loop {
            let line_end = rest.windows(2).position(|w| w == b"\r\n").unwrap();
            let size =
                usize::from_str_radix(std::str::from_utf8(&rest[..line_end]).unwrap(), 16).unwrap();
            rest = &rest[line_end + 2..];
            if size == 0 {
                rest = &rest[2..];
                break;
            }
            body.extend_from_slice(&rest[..size]);
            rest = &rest[size + 2..];
        }
        body
    } else {
        Vec::new()
    };
    ((status, headers, body), rest)
}

fn check_http(name: &str, out: &StdioOutput, outputs: &[Value]) {
    let mut rest = &out.stdout[..];
    for (i, expect) in outputs.iter().enumerate() {
        assert!(
            rest.windows(4).any(|w| w == b"\r\n\r\n"),
            "{name} #{i}: no response head in {:?}",
            String::from_utf8_lossy(rest)
        );
        let ((status, headers, body), next) = http_response(rest);
        rest = next;
        let ctx = format!("{name} #{i}: {status} {headers:?}");
        assert_eq!(
            u64::from(status),
            expect["status"].as_u64().unwrap(),
            "{ctx}"
        );
        let has = |k: &str, v: &str| headers.iter().any(|(hk, hv)| hk == k && hv == v);
        for pair in expect["must_have"].as_array().into_iter().flatten() {
            let (k, v) = (pair[0].as_str().unwrap(), pair[1].as_str().unwrap());
            assert!(has(k, v), "{ctx}: wants {k}: {v}");
        }
        for pair in expect["must_have_prefix"].as_array().into_iter().flatten() {
            let (k, p) = (pair[0].as_str().unwrap(), pair[1].as_str().unwrap());
            assert!(
                headers.iter().any(|(hk, hv)| hk == k && hv.starts_with(p)),
                "{ctx}: wants {k}: {p}…"
            );
        }
        for k in expect["must_not_have"].as_array().into_iter().flatten() {
            let k = k.as_str().unwrap().to_ascii_lowercase();
            assert!(
                !headers.iter().any(|(hk, _)| *hk == k),
                "{ctx}: {k} must be absent"
            );
        }
        let b = &expect["body"];
        if let Some(exact) = b.get("exact") {
            assert_eq!(
                String::from_utf8_lossy(&body),
                exact.as_str().unwrap(),
                "{ctx}"
            );
        } else if let Some(exact) = b.get("exact_b64") {
            assert_eq!(body, b64_decode(exact.as_str().unwrap()), "{ctx}");
        } else if let Some(needle) = b.get("json_message_contains") {
            let json: Value = serde_json::from_slice(&body).unwrap();
            let message = json["message"].as_str().unwrap();
            assert!(
                message.contains(needle.as_str().unwrap()),
                "{ctx}: {message}"
            );
        }
    }
    assert!(
        rest.is_empty(),
        "{name}: extra output {:?}",
        String::from_utf8_lossy(rest)
    );
}

fn check_lines(name: &str, out: &StdioOutput, outputs: &[Value]) {
    let text = String::from_utf8(out.stdout.clone()).unwrap();
    assert!(text.is_empty() || text.ends_with('\n'), "{name}: {text:?}");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), outputs.len(), "{name}: {text}");
    for (i, (line, expect)) in lines.iter().zip(outputs).enumerate() {
        let got: Value = serde_json::from_str(line).unwrap();
        // Compact: re-serialising gives the same bytes.
        assert_eq!(
            got.to_string().len(),
            line.len(),
            "{name} #{i}: not compact"
        );
        if let Some(needle) = expect.get("message_contains") {
            assert!(
                line.contains(needle.as_str().unwrap()),
                "{name} #{i}: wants {needle} in {line}"
            );
        }
        let mut want = expect["json"].clone();
        if expect.get("message_contains").is_some() {
            // The FDK's own wording is not part of the contract: accept any
            // text where the vector says "*".
            erase_wildcards(&mut want, &got);
        }
        assert!(
            matches(&want, &got),
            "{name} #{i}:\n want {want}\n  got {got}"
        );
    }
}

/// Where `want` holds `"*"`, take `got`'s value.
fn erase_wildcards(want: &mut Value, got: &Value) {
    match want {
        Value::String(s) if s == "*" => *want = got.clone(),
        Value::Object(map) => {
            for (k, v) in map.iter_mut() {
                if let Some(g) = got.get(k) {
                    erase_wildcards(v, g);
                }
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter_mut().enumerate() {
                if let Some(g) = got.get(i) {
                    erase_wildcards(v, g);
                }
            }
        }
        _ => {}
    }
}

fn check_seen(name: &str, seen: &[Value], expected: &[Value]) {
    assert_eq!(seen.len(), expected.len(), "{name}: calls seen {seen:?}");
    for (i, (got, want)) in seen.iter().zip(expected).enumerate() {
        let ctx = format!("{name} seen #{i}: {got}");
        for key in ["call_id", "method", "request_url", "content_type"] {
            if let Some(w) = want.get(key) {
                assert_eq!(&got[key], w, "{ctx}: {key}");
            }
        }
        if let Some(w) = want.get("deadline") {
            let w = w.as_str().unwrap();
            let millis = w.parse::<humantime_free::Rfc3339>().map(|d| d.0);
            assert_eq!(got["deadline"].as_u64(), millis.ok(), "{ctx}: deadline {w}");
        }
        if let Some(w) = want.get("body") {
            assert_eq!(
                got["body_b64"].as_str().unwrap(),
                b64_encode(w.as_str().unwrap().as_bytes()),
                "{ctx}: body"
            );
        }
        if let Some(w) = want.get("body_b64") {
            assert_eq!(&got["body_b64"], w, "{ctx}: body");
        }
        for pair in want["headers"].as_array().into_iter().flatten() {
            assert!(
                got["headers"].as_array().unwrap().contains(pair),
                "{ctx}: wants header {pair}"
            );
        }
        for name in want["headers_absent"].as_array().into_iter().flatten() {
            assert!(
                !got["headers"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|h| h[0] == *name),
                "{ctx}: header {name} must not be visible"
            );
        }
    }
}

/// A tiny RFC 3339 reader for the vectors' deadlines (UTC `Z` only).
mod humantime_free {
    pub(crate) struct Rfc3339(pub(crate) u64);
    impl std::str::FromStr for Rfc3339 {
        type Err = ();
        fn from_str(s: &str) -> Result<Self, ()> {
            let n = |a: usize, b: usize| s.get(a..b).and_then(|t| t.parse::<i64>().ok()).ok_or(());
            let (y, mo, d) = (n(0, 4)?, n(5, 7)?, n(8, 10)?);
            let (h, mi, sec) = (n(11, 13)?, n(14, 16)?, n(17, 19)?);
            let millis = if s.as_bytes().get(19) == Some(&b'.') {
                n(20, 23)?
            } else {
                0
            };
            // Days from the civil date (Howard Hinnant's algorithm).
            let y2 = if mo <= 2 { y - 1 } else { y };
            let era = y2.div_euclid(400);
            let yoe = y2 - era * 400;
            let doy = (153 * (if mo > 2 { mo - 3 } else { mo + 9 }) + 2) / 5 + d - 1;
            let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
            let days = era * 146_097 + doe - 719_468;
            let secs = days * 86_400 + h * 3600 + mi * 60 + sec;
            u64::try_from(secs * 1000 + millis)
                .map(Rfc3339)
                .map_err(|_| ())
        }
    }
}

#[tokio::test]
async fn every_stdio_vector_is_served_as_the_spec_says() {
    let vectors: Vec<Value> =
        serde_json::from_str(include_str!("../../protocol-spec/vectors/stdio.json")).unwrap();
    assert!(vectors.len() >= 20, "{} vectors", vectors.len());
    for v in &vectors {
        let name = v["name"].as_str().unwrap();
        let format = v["format"].as_str().unwrap();
        let input = match (v.get("input"), v.get("input_b64")) {
            (Some(text), _) => text.as_str().unwrap().as_bytes().to_vec(),
            (None, Some(b64)) => b64_decode(b64.as_str().unwrap()),
            _ => panic!("{name}: no input"),
        };
        let mut run = StdioRun::new(format);
        for (k, val) in v["env"].as_object().into_iter().flatten() {
            run = run.env(k, val.as_str().unwrap());
        }
        let seen: Seen = Arc::default();
        let out = run.run(function(&v["user"], &seen), input).await;
        let exit = i64::from(out.result.is_err());
        assert_eq!(
            v["exit_code"].as_i64().unwrap_or(0),
            exit,
            "{name}: {:?}",
            out.result
        );
        let outputs = v["outputs"].as_array().unwrap();
        match format {
            "json" | "cloudevent" => check_lines(name, &out, outputs),
            "http" => check_http(name, &out, outputs),
            "default" => {
                let want = outputs
                    .first()
                    .and_then(|o| o["stdout"].as_str())
                    .unwrap_or("");
                assert_eq!(String::from_utf8_lossy(&out.stdout), want, "{name}");
            }
            other => panic!("{name}: unknown format {other}"),
        }
        if let Some(expected) = v["seen"].as_array() {
            check_seen(name, &seen.lock().unwrap(), expected);
        }
    }
}

/// Bad input never takes the process down or hangs it (SIO-ERR-5,
/// SIO-LIFE-2): every vector's input, cut short at every few bytes and with
/// bytes flipped, still ends with an answer or a clean error.
#[tokio::test]
async fn mangled_inputs_end_cleanly() {
    let vectors: Vec<Value> =
        serde_json::from_str(include_str!("../../protocol-spec/vectors/stdio.json")).unwrap();
    // xorshift: the same mangling on every run.
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut runs = 0;
    for v in &vectors {
        let format = v["format"].as_str().unwrap();
        let input = match (v.get("input"), v.get("input_b64")) {
            (Some(text), _) => text.as_str().unwrap().as_bytes().to_vec(),
            (None, Some(b64)) => b64_decode(b64.as_str().unwrap()),
            _ => continue,
        };
        let step = (input.len() / 12).max(1);
        let mut variants: Vec<Vec<u8>> = (0..input.len())
            .step_by(step)
            .map(|cut| input[..cut].to_vec())
            .collect();
        for _ in 0..6 {
            let mut flipped = input.clone();
            for _ in 0..3 {
                if flipped.is_empty() {
                    break;
                }
                let at = (next() as usize) % flipped.len();
                flipped[at] = (next() & 0xff) as u8;
            }
            variants.push(flipped);
        }
        for bytes in variants {
            async fn echo(body: Bytes) -> Bytes {
                body
            }
            let run = StdioRun::new(format).run(Function::new(echo), bytes.clone());
            let out = tokio::time::timeout(Duration::from_secs(10), run)
                .await
                .unwrap_or_else(|_| {
                    panic!("{format}: hung on {:?}", String::from_utf8_lossy(&bytes))
                });
            // Whatever was answered is well framed: JSON lines parse.
            if matches!(format, "json" | "cloudevent") {
                for line in String::from_utf8_lossy(&out.stdout).lines() {
                    serde_json::from_str::<Value>(line)
                        .unwrap_or_else(|e| panic!("{format}: {e} in {line:?}"));
                }
            }
            runs += 1;
        }
    }
    assert!(runs > 300, "{runs} runs");
}
