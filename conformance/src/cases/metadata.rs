//! The rest of a call's metadata as the function sees it: the invoke and
//! gateway headers (HS-REQ, HS-GW-1..3), the config and the server's
//! variables (HS-ENV-4).

use super::{needs_probe, report, report_call};
use crate::case::{Case, CaseResult};
use crate::harness::{Call, Harness};
use crate::level::Level;
use fn_emulator::StartOptions;
use fn_emulator::process::SOCKET_NAME;

pub(super) const CASES: [Case<Harness>; 4] = cases![
    // Level: the server forwards the client's headers, repeats and Content-Type
    // included (unprefixed, as for triggers); a value the handler does not see is
    // a call served wrong.
    "req.invoke-headers": Must, Probe, invoke_headers, ["HS-REQ-4"]
        "invoke calls see client headers, every value of a repeated one, and the client's Content-Type";
    // Level: every trigger call arrives so; a method, URL or header value the
    // handler does not see is a call served wrong (an extra, still prefixed
    // copy of a header is only SHOULD: the handler still sees the call).
    "gw.request": Must, Probe, gateway_request, ["HS-GW-1", "HS-GW-2", "HS-GW-3"]
        "gateway calls see the client's method, URL and unprefixed headers";
    // Level: the server passes the app's and function's config as environment
    // variables; config the handler cannot read is a function served wrong.
    "env.config": Must, Probe, config, ["HS-ENV-4", "HS-ENV-5"]
        "config variables (commas, equals signs) and FN_APP_ID reach the handler";
    // Level: the server sets FN_APP_ID, FN_FN_ID, FN_MEMORY and FN_TYPE in every
    // container's config; a handler that cannot read them, or reads other values,
    // does not see the configuration the server sent. FN_LISTENER and FN_FORMAT
    // are the FDK's own plumbing (FN_FORMAT is deprecated, "TODO: remove this after
    // fdk's forget what it means"): hiding only those is a SHOULD failure.
    "env.server-vars": Must, Probe, server_vars, ["HS-ENV-4", "HS-ENV-5"]
        "FN_APP_ID, FN_FN_ID, FN_MEMORY, FN_TYPE, FN_FORMAT and FN_LISTENER reach the handler with the server's values";
];

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
