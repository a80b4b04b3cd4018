//! The function's answer turned into the client's, as the Fn server turns
//! it: the transport's gzip decoding, the function's headers carried (for
//! invoke) or filtered by the trigger writer (for a trigger), and the
//! server's error when the answer failed.

use fn_emulator::http1::Head;
use fn_emulator::outcome::{CallKind, Fate, HOP_BY_HOP, ServerView};
use fn_emulator::wire as wire_names;
use fn_emulator::{Exchange, ResponseError};

use super::wire::{GoHeader, INTERNAL, Wire, go_write, gunzip, server_error};

/// The function's response headers as Go's transport hands them to the
/// server: canonical names, hop-by-hop headers stripped
/// (`common.StripHopHeaders`), and, when the transport decodes a gzip body
/// it asked for, no `Content-Encoding` or `Content-Length`.
fn function_headers(head: &Head, gzip_decoded: bool) -> GoHeader {
    let mut map = GoHeader::default();
    for (k, v) in head.fields() {
        map.add(k, v);
    }
    for name in HOP_BY_HOP {
        match map.get(name) {
            None | Some("") => {}
            Some("trailers") if name == "te" => {}
            Some(_) => map.del(name),
        }
    }
    if gzip_decoded {
        map.del("Content-Encoding");
        map.del("Content-Length");
    }
    map
}

/// Whether Go's transport decodes an answer with these headers: it asked
/// for gzip itself, the answer says `Content-Encoding: gzip`, and it has a
/// body (a `Content-Length: 0` answer is left alone).
fn decodes_gzip(head: &Head, transport_gzip: bool) -> bool {
    let header = |name: &str| head.field(name).map(str::trim);
    transport_gzip
        && header("Content-Encoding").is_some_and(|v| v.eq_ignore_ascii_case("gzip"))
        && header("Content-Length") != Some("0")
}

/// What the Fn server sends its client, and the view it acts on.
///
/// * A 200: for invoke (`runner_fninvoke.go`), the function's headers with
///   the server's `Fn-Call-Id` and its own `Content-Length`; for a trigger
///   (`runner_httptrigger.go`), only `Fn-Http-H-*` (unprefixed),
///   `Content-Type` and `Fn-Call-Id`, with the status from `Fn-Http-Status`.
/// * Any error: the server's `{"message":…}\n`. When a 200 head had
///   arrived and its body then failed (cut short, stalled past the
///   deadline, over the size limit), the server had already copied the
///   function's headers into its answer, unfiltered, and they go out with
///   the error, its `Content-Length` included: so a body cut short is a
///   500 with an empty body, as observed on fnserver 0.3.753.
pub(super) fn client_answer(
    ex: &Exchange,
    kind: CallKind,
    transport_gzip: bool,
) -> (Wire, ServerView) {
    let mut view = ex.view.clone();
    let mut map = GoHeader::default();
    map.add(wire_names::CALL_ID, &ex.call_id);
    match &ex.result {
        Ok(res) if view.message.is_none() => {
            let gzip = decodes_gzip(&res.head, transport_gzip);
            let mut decoded = None;
            if gzip {
                match gunzip(&res.body) {
                    Ok(body) => decoded = Some(body),
                    Err(_) => {
                        // The body fails inside Go's gzip reader: a plain
                        // I/O error, as for a body cut short.
                        view = ServerView {
                            client_status: 500,
                            message: None,
                            container: Fate::Kept,
                        };
                        carry(&mut map, &function_headers(&res.head, true));
                        return (server_error(500, INTERNAL, map), view);
                    }
                }
            }
            let body = decoded.as_deref().unwrap_or(&res.body);
            carry(&mut map, &function_headers(&res.head, gzip));
            map.set("Content-Length", &body.len().to_string());
            let wire = match kind {
                CallKind::Invoke => go_write(200, map, body),
                CallKind::Gateway => go_write(view.client_status, gateway_map(&map), body),
            };
            (wire, view)
        }
        Err(ResponseError::Body {
            status: 200, head, ..
        }) => {
            let gzip = decodes_gzip(head, transport_gzip);
            carry(&mut map, &function_headers(head, gzip));
            let message = view.message.unwrap_or(INTERNAL);
            (server_error(view.client_status, message, map), view)
        }
        _ => {
            let message = view.message.unwrap_or(INTERNAL);
            (server_error(view.client_status, message, map), view)
        }
    }
}

/// Adds the function's headers to the server's map (`Header.Add`, after
/// the server's `Fn-Call-Id`).
fn carry(map: &mut GoHeader, function: &GoHeader) {
    for (name, values) in function.entries() {
        for value in values {
            map.add(name, value);
        }
    }
}

/// The trigger writer's filter (`triggerResponseWriter.WriteHeader`):
/// `Fn-Http-H-<Name>` becomes `<Name>`, `Content-Type` and `Fn-Call-Id`
/// stay, everything else (the `Content-Length` the server set included)
/// goes. Each kept name replaces any earlier one of the same name, as
/// `gwHeaders[k] = vs` does.
fn gateway_map(map: &GoHeader) -> GoHeader {
    let mut out = GoHeader::default();
    for (name, values) in map.entries() {
        if let Some(rest) = name.strip_prefix(wire_names::HTTP_HEADER_PREFIX) {
            if !rest.is_empty() {
                out.put(rest.to_owned(), values.clone());
            }
        } else if name == "Content-Type" || name == wire_names::CALL_ID {
            out.put(name.clone(), values.clone());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use fn_emulator::Via;
    use fn_emulator::http1::read_response;
    use fn_emulator::outcome::classify;

    /// One `h-*` scenario of the captures (fnserver 0.3.753): the bytes the
    /// function wrote, and everything the client got but the `Date` value.
    struct Capture {
        name: &'static str,
        kind: CallKind,
        transport_gzip: bool,
        call_id: &'static str,
        function: &'static [u8],
        status: u16,
        headers: &'static [(&'static str, &'static str)],
        body: &'static [u8],
        kept: bool,
    }

    /// The function's answer `raw`, read and classified by the harness,
    /// as the client gets it.
    fn answer(
        raw: &[u8],
        kind: CallKind,
        transport_gzip: bool,
        call_id: &str,
    ) -> (Wire, ServerView) {
        let result = read_response(&mut &raw[..]);
        let view = classify(&result, kind);
        let ex = Exchange {
            sent: Vec::new(),
            call_id: call_id.to_owned(),
            result,
            view,
            via: Via::Own,
            cut_short: None,
        };
        client_answer(&ex, kind, transport_gzip)
    }

    fn head(wire: &Wire) -> Vec<(&str, &str)> {
        wire.headers
            .iter()
            .map(|(k, v)| (k.as_str(), if k == "Date" { "<date>" } else { v.as_str() }))
            .collect()
    }

    /// Every canned answer of the captures gives the client the captured
    /// status, head (names, order, values) and body, and the captured
    /// container fate.
    #[test]
    fn clients_get_what_the_captured_server_sent() {
        let captures = [
        Capture {
            name: "h-bad-204-invoke",
            kind: CallKind::Invoke,
            transport_gzip: true,
            call_id: "01M8CTQ8QCFW0000A6M0000012",
            function: b"HTTP/1.1 204 No Content\r\nFn-Fdk-Version: fdk-capture/0.0.1\r\n\r\n",
            status: 502,
            headers: &[("Content-Type", "application/json; charset=utf-8"), ("Fn-Call-Id", "01M8CTQ8QCFW0000A6M0000012"), ("Date", "<date>"), ("Content-Length", "40")],
            body: b"{\"message\":\"invalid function response\"}\n",
            kept: false,
        },
        Capture {
            name: "h-bad-204-trigger",
            kind: CallKind::Gateway,
            transport_gzip: true,
            call_id: "01M8CTQBQTFW0000A6M0000016",
            function: b"HTTP/1.1 204 No Content\r\nFn-Fdk-Version: fdk-capture/0.0.1\r\n\r\n",
            status: 502,
            headers: &[("Content-Type", "application/json; charset=utf-8"), ("Fn-Call-Id", "01M8CTQBQTFW0000A6M0000016"), ("Date", "<date>"), ("Content-Length", "40")],
            body: b"{\"message\":\"invalid function response\"}\n",
            kept: false,
        },
        Capture {
            name: "h-bad-500-invoke",
            kind: CallKind::Invoke,
            transport_gzip: true,
            call_id: "01M8CTQ2KWFW0000A6M000000T",
            function: b"HTTP/1.1 500 Internal Server Error\r\nContent-Type: application/json\r\nContent-Length: 37\r\n\r\n{\"message\":\"capture-fn bad-500 body\"}",
            status: 502,
            headers: &[("Content-Type", "application/json; charset=utf-8"), ("Fn-Call-Id", "01M8CTQ2KWFW0000A6M000000T"), ("Date", "<date>"), ("Content-Length", "40")],
            body: b"{\"message\":\"invalid function response\"}\n",
            kept: false,
        },
        Capture {
            name: "h-bad-500-trigger",
            kind: CallKind::Gateway,
            transport_gzip: true,
            call_id: "01M8CTQ5KEFW0000A6M000000Y",
            function: b"HTTP/1.1 500 Internal Server Error\r\nContent-Type: application/json\r\nContent-Length: 37\r\n\r\n{\"message\":\"capture-fn bad-500 body\"}",
            status: 502,
            headers: &[("Content-Type", "application/json; charset=utf-8"), ("Fn-Call-Id", "01M8CTQ5KEFW0000A6M000000Y"), ("Date", "<date>"), ("Content-Length", "40")],
            body: b"{\"message\":\"invalid function response\"}\n",
            kept: false,
        },
        Capture {
            name: "h-chunked-resp-invoke",
            kind: CallKind::Invoke,
            transport_gzip: true,
            call_id: "01M8CTR54CFW0000A6M000001T",
            function: b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nchunk1\r\n7\r\n-chunk2\r\n8\r\n-chunk3\n\r\n0\r\n\r\n",
            status: 200,
            headers: &[("Content-Length", "21"), ("Content-Type", "text/plain"), ("Fn-Call-Id", "01M8CTR54CFW0000A6M000001T"), ("Date", "<date>")],
            body: b"chunk1-chunk2-chunk3\n",
            kept: true,
        },
        Capture {
            name: "h-chunked-resp-trigger",
            kind: CallKind::Gateway,
            transport_gzip: true,
            call_id: "01M8CTR7VGFW0000A6M000001W",
            function: b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nchunk1\r\n7\r\n-chunk2\r\n8\r\n-chunk3\n\r\n0\r\n\r\n",
            status: 200,
            headers: &[("Content-Type", "text/plain"), ("Fn-Call-Id", "01M8CTR7VGFW0000A6M000001W"), ("Date", "<date>"), ("Content-Length", "21")],
            body: b"chunk1-chunk2-chunk3\n",
            kept: true,
        },
        Capture {
            name: "h-err-502-invoke",
            kind: CallKind::Invoke,
            transport_gzip: true,
            call_id: "01M8CTPQV1FW0000A6M000000J",
            function: b"HTTP/1.1 502 Bad Gateway\r\nContent-Type: application/json\r\nContent-Length: 37\r\n\r\n{\"message\":\"capture-fn err-502 body\"}",
            status: 502,
            headers: &[("Content-Type", "application/json; charset=utf-8"), ("Fn-Call-Id", "01M8CTPQV1FW0000A6M000000J"), ("Date", "<date>"), ("Content-Length", "30")],
            body: b"{\"message\":\"function failed\"}\n",
            kept: true,
        },
        Capture {
            name: "h-err-502-trigger",
            kind: CallKind::Gateway,
            transport_gzip: true,
            call_id: "01M8CTPTGRFW0000A6M000000M",
            function: b"HTTP/1.1 502 Bad Gateway\r\nContent-Type: application/json\r\nContent-Length: 37\r\n\r\n{\"message\":\"capture-fn err-502 body\"}",
            status: 502,
            headers: &[("Content-Type", "application/json; charset=utf-8"), ("Fn-Call-Id", "01M8CTPTGRFW0000A6M000000M"), ("Date", "<date>"), ("Content-Length", "30")],
            body: b"{\"message\":\"function failed\"}\n",
            kept: true,
        },
        Capture {
            name: "h-err-504-invoke",
            kind: CallKind::Invoke,
            transport_gzip: true,
            call_id: "01M8CTPX6XFW0000A6M000000P",
            function: b"HTTP/1.1 504 Gateway Timeout\r\nContent-Type: application/json\r\nContent-Length: 37\r\n\r\n{\"message\":\"capture-fn err-504 body\"}",
            status: 504,
            headers: &[("Content-Type", "application/json; charset=utf-8"), ("Fn-Call-Id", "01M8CTPX6XFW0000A6M000000P"), ("Date", "<date>"), ("Content-Length", "24")],
            body: b"{\"message\":\"Timed out\"}\n",
            kept: true,
        },
        Capture {
            name: "h-err-504-trigger",
            kind: CallKind::Gateway,
            transport_gzip: true,
            call_id: "01M8CTPZXZFW0000A6M000000R",
            function: b"HTTP/1.1 504 Gateway Timeout\r\nContent-Type: application/json\r\nContent-Length: 37\r\n\r\n{\"message\":\"capture-fn err-504 body\"}",
            status: 504,
            headers: &[("Content-Type", "application/json; charset=utf-8"), ("Fn-Call-Id", "01M8CTPZXZFW0000A6M000000R"), ("Date", "<date>"), ("Content-Length", "24")],
            body: b"{\"message\":\"Timed out\"}\n",
            kept: true,
        },
        Capture {
            name: "h-gw-404-invoke",
            kind: CallKind::Invoke,
            transport_gzip: true,
            call_id: "01M8CTQF9VFW0000A6M000001A",
            function: b"HTTP/1.1 200 OK\r\nFn-Http-Status: 404\r\nFn-Http-H-X-Thing: v1\r\nFn-Http-H-X-Thing: v2\r\nContent-Type: application/json\r\nX-Unprefixed: z\r\nContent-Length: 21\r\n\r\n{\"error\":\"not found\"}",
            status: 200,
            headers: &[("Content-Length", "21"), ("Content-Type", "application/json"), ("Fn-Call-Id", "01M8CTQF9VFW0000A6M000001A"), ("Fn-Http-H-X-Thing", "v1"), ("Fn-Http-H-X-Thing", "v2"), ("Fn-Http-Status", "404"), ("X-Unprefixed", "z"), ("Date", "<date>")],
            body: b"{\"error\":\"not found\"}",
            kept: true,
        },
        Capture {
            name: "h-gw-404-trigger",
            kind: CallKind::Gateway,
            transport_gzip: true,
            call_id: "01M8CTQJ1NFW0000A6M000001C",
            function: b"HTTP/1.1 200 OK\r\nFn-Http-Status: 404\r\nFn-Http-H-X-Thing: v1\r\nFn-Http-H-X-Thing: v2\r\nContent-Type: application/json\r\nX-Unprefixed: z\r\nContent-Length: 21\r\n\r\n{\"error\":\"not found\"}",
            status: 404,
            headers: &[("Content-Type", "application/json"), ("Fn-Call-Id", "01M8CTQJ1NFW0000A6M000001C"), ("X-Thing", "v1"), ("X-Thing", "v2"), ("Date", "<date>"), ("Content-Length", "21")],
            body: b"{\"error\":\"not found\"}",
            kept: true,
        },
        Capture {
            name: "h-gw-bad-status-invoke",
            kind: CallKind::Invoke,
            transport_gzip: true,
            call_id: "01M8CTQMSNFW0000A6M000001E",
            function: b"HTTP/1.1 200 OK\r\nFn-Http-Status: abc\r\nContent-Type: text/plain\r\nContent-Length: 19\r\n\r\ngw-bad-status body\n",
            status: 200,
            headers: &[("Content-Length", "19"), ("Content-Type", "text/plain"), ("Fn-Call-Id", "01M8CTQMSNFW0000A6M000001E"), ("Fn-Http-Status", "abc"), ("Date", "<date>")],
            body: b"gw-bad-status body\n",
            kept: true,
        },
        Capture {
            name: "h-gw-bad-status-trigger",
            kind: CallKind::Gateway,
            transport_gzip: true,
            call_id: "01M8CTQQGRFW0000A6M000001G",
            function: b"HTTP/1.1 200 OK\r\nFn-Http-Status: abc\r\nContent-Type: text/plain\r\nContent-Length: 19\r\n\r\ngw-bad-status body\n",
            status: 200,
            headers: &[("Content-Type", "text/plain"), ("Fn-Call-Id", "01M8CTQQGRFW0000A6M000001G"), ("Date", "<date>"), ("Content-Length", "19")],
            body: b"gw-bad-status body\n",
            kept: true,
        },
        Capture {
            name: "h-gzip-invoke-client-accept-encoding",
            kind: CallKind::Invoke,
            transport_gzip: false,
            call_id: "01M8CTRG0HFW0000A6M0000022",
            function: b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Encoding: gzip\r\nContent-Length: 25\r\n\r\n\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\x03\xcbH\xcd\xc9\xc9\x07\x00\x86\xa6\x106\x05\x00\x00\x00",
            status: 200,
            headers: &[("Content-Encoding", "gzip"), ("Content-Length", "25"), ("Content-Type", "text/plain"), ("Fn-Call-Id", "01M8CTRG0HFW0000A6M0000022"), ("Date", "<date>")],
            body: b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\x03\xcbH\xcd\xc9\xc9\x07\x00\x86\xa6\x106\x05\x00\x00\x00",
            kept: true,
        },
        Capture {
            name: "h-gzip-invoke",
            kind: CallKind::Invoke,
            transport_gzip: true,
            call_id: "01M8CTRAJDFW0000A6M000001Y",
            function: b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Encoding: gzip\r\nContent-Length: 25\r\n\r\n\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\x03\xcbH\xcd\xc9\xc9\x07\x00\x86\xa6\x106\x05\x00\x00\x00",
            status: 200,
            headers: &[("Content-Length", "5"), ("Content-Type", "text/plain"), ("Fn-Call-Id", "01M8CTRAJDFW0000A6M000001Y"), ("Date", "<date>")],
            body: b"hello",
            kept: true,
        },
        Capture {
            name: "h-gzip-trigger",
            kind: CallKind::Gateway,
            transport_gzip: true,
            call_id: "01M8CTRD9TFW0000A6M0000020",
            function: b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Encoding: gzip\r\nContent-Length: 25\r\n\r\n\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\x03\xcbH\xcd\xc9\xc9\x07\x00\x86\xa6\x106\x05\x00\x00\x00",
            status: 200,
            headers: &[("Content-Type", "text/plain"), ("Fn-Call-Id", "01M8CTRD9TFW0000A6M0000020"), ("Date", "<date>"), ("Content-Length", "5")],
            body: b"hello",
            kept: true,
        },
        Capture {
            name: "h-hop-invoke",
            kind: CallKind::Invoke,
            transport_gzip: true,
            call_id: "01M8CTQZP0FW0000A6M000001P",
            function: b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\nKeep-Alive: timeout=5\r\nContent-Length: 9\r\n\r\nhop body\n",
            status: 200,
            headers: &[("Content-Length", "9"), ("Content-Type", "text/plain"), ("Fn-Call-Id", "01M8CTQZP0FW0000A6M000001P"), ("Date", "<date>")],
            body: b"hop body\n",
            kept: true,
        },
        Capture {
            name: "h-hop-trigger",
            kind: CallKind::Gateway,
            transport_gzip: true,
            call_id: "01M8CTR2CSFW0000A6M000001R",
            function: b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\nKeep-Alive: timeout=5\r\nContent-Length: 9\r\n\r\nhop body\n",
            status: 200,
            headers: &[("Content-Type", "text/plain"), ("Fn-Call-Id", "01M8CTR2CSFW0000A6M000001R"), ("Date", "<date>"), ("Content-Length", "9")],
            body: b"hop body\n",
            kept: true,
        },
        Capture {
            name: "h-no-ct-invoke",
            kind: CallKind::Invoke,
            transport_gzip: true,
            call_id: "01M8CTQT8AFW0000A6M000001J",
            function: b"HTTP/1.1 200 OK\r\nContent-Length: 15\r\n\r\n<html>hi</html>",
            status: 200,
            headers: &[("Content-Length", "15"), ("Fn-Call-Id", "01M8CTQT8AFW0000A6M000001J"), ("Date", "<date>"), ("Content-Type", "text/html; charset=utf-8")],
            body: b"<html>hi</html>",
            kept: true,
        },
        Capture {
            name: "h-no-ct-trigger",
            kind: CallKind::Gateway,
            transport_gzip: true,
            call_id: "01M8CTQWZGFW0000A6M000001M",
            function: b"HTTP/1.1 200 OK\r\nContent-Length: 15\r\n\r\n<html>hi</html>",
            status: 200,
            headers: &[("Fn-Call-Id", "01M8CTQWZGFW0000A6M000001M"), ("Date", "<date>"), ("Content-Length", "15"), ("Content-Type", "text/html; charset=utf-8")],
            body: b"<html>hi</html>",
            kept: true,
        },
        Capture {
            name: "h-ok-headers-invoke",
            kind: CallKind::Invoke,
            transport_gzip: true,
            call_id: "01M8CTPJF2FW0000A6M000000E",
            function: b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nX-Custom: a\r\nX-Custom: b\r\nFn-Fdk-Version: fdk-capture/0.0.1\r\nContent-Length: 16\r\n\r\nok-headers body\n",
            status: 200,
            headers: &[("Content-Length", "16"), ("Content-Type", "text/plain"), ("Fn-Call-Id", "01M8CTPJF2FW0000A6M000000E"), ("Fn-Fdk-Version", "fdk-capture/0.0.1"), ("X-Custom", "a"), ("X-Custom", "b"), ("Date", "<date>")],
            body: b"ok-headers body\n",
            kept: true,
        },
        Capture {
            name: "h-ok-headers-trigger",
            kind: CallKind::Gateway,
            transport_gzip: true,
            call_id: "01M8CTPN51FW0000A6M000000G",
            function: b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nX-Custom: a\r\nX-Custom: b\r\nFn-Fdk-Version: fdk-capture/0.0.1\r\nContent-Length: 16\r\n\r\nok-headers body\n",
            status: 200,
            headers: &[("Content-Type", "text/plain"), ("Fn-Call-Id", "01M8CTPN51FW0000A6M000000G"), ("Date", "<date>"), ("Content-Length", "16")],
            body: b"ok-headers body\n",
            kept: true,
        },

        ];
        for c in captures {
            let (wire, view) = answer(c.function, c.kind, c.transport_gzip, c.call_id);
            assert_eq!(wire.status, c.status, "{}", c.name);
            assert_eq!(head(&wire), c.headers, "{}", c.name);
            assert_eq!(&wire.body[..], c.body, "{}", c.name);
            assert_eq!(view.container == Fate::Kept, c.kept, "{}", c.name);
        }
    }

    /// fnserver 0.3.753, observed: a 200 whose body ends early is a 500
    /// and the container is kept; the server had already copied the
    /// function's headers, so they go out with it, its `Content-Length`
    /// included (an empty body, then the connection ends).
    #[test]
    fn a_body_cut_short_is_an_empty_500_with_the_function_headers() {
        let raw = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nFn-Fdk-Version: x/1\r\n\
                    Connection: close\r\nContent-Length: 10\r\n\r\nabc";
        for kind in [CallKind::Invoke, CallKind::Gateway] {
            let (wire, view) = answer(raw, kind, true, "ID");
            assert_eq!(view.container, Fate::Kept);
            assert_eq!(wire.status, 500);
            assert_eq!(
                head(&wire),
                [
                    ("Content-Length", "10"),
                    ("Content-Type", "application/json; charset=utf-8"),
                    ("Fn-Call-Id", "ID"),
                    ("Fn-Fdk-Version", "x/1"),
                    ("Date", "<date>"),
                ]
            );
            assert!(wire.body.is_empty());
        }
        // Chunked: no length to keep, the whole JSON goes out.
        let raw = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n";
        let (wire, _) = answer(raw, CallKind::Invoke, true, "ID");
        assert_eq!(
            head(&wire),
            [
                ("Content-Type", "application/json; charset=utf-8"),
                ("Fn-Call-Id", "ID"),
                ("Date", "<date>"),
                ("Content-Length", "36"),
            ]
        );
        assert_eq!(&wire.body[..], b"{\"message\":\"internal server error\"}\n");
        // A 502 head is a "function failed" whatever its body does.
        let raw = b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 10\r\n\r\nabc";
        let (wire, view) = answer(raw, CallKind::Invoke, true, "ID");
        assert_eq!((wire.status, view.container), (502, Fate::Kept));
        assert_eq!(&wire.body[..], b"{\"message\":\"function failed\"}\n");
    }

    /// Closed before a head, or no head at all: the server's 502, killed.
    #[test]
    fn no_head_is_error_receiving_function_response() {
        let (wire, view) = answer(b"", CallKind::Gateway, true, "ID");
        assert_eq!((wire.status, view.container), (502, Fate::Killed));
        assert_eq!(
            &wire.body[..],
            b"{\"message\":\"error receiving function response\"}\n"
        );
        assert_eq!(
            head(&wire),
            [
                ("Content-Type", "application/json; charset=utf-8"),
                ("Fn-Call-Id", "ID"),
                ("Date", "<date>"),
                ("Content-Length", "48"),
            ]
        );
    }

    /// Over the size limit (the harness's stands in for the server's
    /// `FN_MAX_RESPONSE_SIZE`): the server's 502, the function's headers
    /// already copied, the container kept.
    #[test]
    fn a_body_over_the_limit_is_a_502_with_the_function_headers() {
        let ex = Exchange {
            sent: Vec::new(),
            call_id: "ID".into(),
            result: Err(ResponseError::Body {
                status: 200,
                head: Box::new(Head::response(200, [("X-Mine", "m")])),
                error: Box::new(ResponseError::TooLarge("Content-Length")),
            }),
            view: ServerView {
                client_status: 502,
                message: Some("function response body too large"),
                container: Fate::Kept,
            },
            via: Via::Own,
            cut_short: None,
        };
        let (wire, view) = client_answer(&ex, CallKind::Gateway, true);
        assert_eq!(view.container, Fate::Kept);
        assert_eq!(
            head(&wire),
            [
                ("Content-Type", "application/json; charset=utf-8"),
                ("Fn-Call-Id", "ID"),
                ("X-Mine", "m"),
                ("Date", "<date>"),
                ("Content-Length", "47"),
            ]
        );
        assert_eq!(
            &wire.body[..],
            b"{\"message\":\"function response body too large\"}\n"
        );
    }

    /// A gzip body the transport cannot decode fails inside the copy: the
    /// server's 500, container kept.
    #[test]
    fn a_broken_gzip_body_is_a_500() {
        let raw = b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 3\r\n\r\nabc";
        let (wire, view) = answer(raw, CallKind::Invoke, true, "ID");
        assert_eq!((wire.status, view.container), (500, Fate::Kept));
        assert_eq!(&wire.body[..], b"{\"message\":\"internal server error\"}\n");
        // Not asked for by the transport: passed as it is.
        let (wire, _) = answer(raw, CallKind::Invoke, false, "ID");
        assert_eq!((wire.status, &wire.body[..]), (200, &b"abc"[..]));
    }
}
