//! The readers against what the 0.3.602 server's client got.

use super::*;

fn read_all(format: StdioFormat, method: &str, input: &[u8], eof: bool) -> Step {
    Reader::new(format, method).feed(input, eof)
}

fn response(step: Step) -> (usize, ClientResponse) {
    match step {
        Step::Done {
            used,
            decoded: Decoded::Response(res),
        } => (used, res),
        other => panic!("not a response: {other:?}"),
    }
}

/// What a finished read made of its input, by kind.
fn kind(step: &Step) -> &'static str {
    match step {
        Step::Done { decoded, .. } => match decoded {
            Decoded::Response(_) => "response",
            Decoded::Undecodable(_) => "undecodable",
            Decoded::Unmappable(_) => "unmappable",
            Decoded::Crash(_) => "crash",
        },
        _ => "unfinished",
    }
}

#[test]
fn json_responses_map_as_the_server_maps_them() {
    let input = b"{\"body\":\"hi\",\"content_type\":\"text/plain\",\"protocol\":{\"status_code\":404,\"headers\":{\"x-custom\":[\"a\",\"b\"],\"Content-Type\":[\"ignored\"]}}}\n";
    let (used, res) = response(read_all(StdioFormat::Json, "POST", input, false));
    assert_eq!(used, input.len() - 1);
    assert_eq!(res.status, 404);
    assert_eq!(res.body, b"hi");
    assert_eq!(res.header_values("X-Custom"), ["a", "b"]);
    assert_eq!(res.header_values("Content-Type"), ["text/plain"]);

    // No protocol, zero status: 200.
    let (_, res) = response(read_all(
        StdioFormat::Json,
        "POST",
        b"{\"body\":\"x\",\"protocol\":{\"status_code\":0}}",
        false,
    ));
    assert_eq!(res.status, 200);
    for bad in [
        &b"{\"body\":1}"[..],
        b"{\"protocol\":{\"status_code\":\"200\"}}",
        b"{\"protocol\":{\"status_code\":200.5}}",
        b"{\"protocol\":{\"headers\":{\"A\":\"b\"}}}",
        b"[1]",
    ] {
        let step = read_all(StdioFormat::Json, "POST", bad, true);
        assert_eq!(kind(&step), "undecodable", "{step:?}");
    }
    assert!(matches!(
        read_all(StdioFormat::Json, "POST", b"stray\n{}", false),
        Step::Bad(_)
    ));
    assert_eq!(
        read_all(StdioFormat::Json, "POST", b"{\"bo", true),
        Step::Ended { partial: true }
    );
}

#[test]
fn cloudevent_responses_map_as_the_server_maps_them() {
    let event = |ct: &str, data: &str, protocol: &str| {
        format!(
            "{{\"cloudEventsVersion\":\"0.1\",\"eventID\":\"x\",\"eventTime\":\"0001-01-01T00:00:00Z\",\"contentType\":\"{ct}\",\"extensions\":{{\"protocol\":{protocol}}}{data}}}\n"
        )
    };
    let ok = event(
        "application/json",
        ",\"data\":{\"b\":1,\"a\":[true]}",
        "{\"status_code\":201,\"headers\":{\"X-A\":[\"1\"]}}",
    );
    let (_, res) = response(read_all(
        StdioFormat::Cloudevent,
        "POST",
        ok.as_bytes(),
        false,
    ));
    assert_eq!(res.status, 201);
    assert_eq!(res.body, br#"{"a":[true],"b":1}"#);
    assert_eq!(res.header("content-type"), Some("application/json"));
    assert_eq!(res.header("x-a"), Some("1"));

    let text = event("text/plain", ",\"data\":\"hello\"", "{}");
    let (_, res) = response(read_all(
        StdioFormat::Cloudevent,
        "POST",
        text.as_bytes(),
        false,
    ));
    assert_eq!((res.status, res.body.as_slice()), (200, &b"hello"[..]));

    let step = |s: String| read_all(StdioFormat::Cloudevent, "POST", s.as_bytes(), false);
    for (content_type, data, protocol, want) in [
        ("text/html", ",\"data\":\"x\"", "{}", "unmappable"),
        (
            "text/plain",
            ",\"data\":\"x\"",
            "{\"status_code\":\"200\"}",
            "unmappable",
        ),
        ("text/plain", ",\"data\":1", "{}", "crash"),
        ("text/plain", ",\"data\":\"x\"", "[]", "crash"),
    ] {
        let got = step(event(content_type, data, protocol));
        assert_eq!(kind(&got), want, "{content_type} {data} {protocol}");
    }
    let bad_time = "{\"eventTime\":\"yesterday\",\"contentType\":\"text/plain\",\"data\":\"x\"}";
    assert_eq!(kind(&step(bad_time.to_owned())), "undecodable");
}

#[test]
fn http_responses_are_framed_as_go_frames_them() {
    let input = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nX-A: 1\r\nX-A: 2\r\nContent-Length: 5\r\n\r\nhelloNEXT";
    let (used, res) = response(read_all(StdioFormat::Http, "POST", input, false));
    assert_eq!(used, input.len() - 4);
    assert_eq!(res.body, b"hello");
    assert_eq!(res.header_values("x-a"), ["1", "2"]);

    let chunked = b"HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\nContent-Length: 99\r\n\r\n5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nTrailer-A: x\r\n\r\n";
    let (used, res) = response(read_all(StdioFormat::Http, "POST", chunked, false));
    assert_eq!(used, chunked.len());
    assert_eq!(
        (res.status, res.body.as_slice()),
        (201, &b"hello world"[..])
    );
    assert_eq!(res.header("content-length"), None);

    // Chunk by chunk gives the same answer.
    let mut reader = Reader::new(StdioFormat::Http, "POST");
    let mut last = Step::More;
    for n in 1..=chunked.len() {
        last = reader.feed(&chunked[..n], false);
        if last != Step::More {
            assert_eq!(n, chunked.len());
            break;
        }
    }
    assert!(matches!(last, Step::Done { .. }));

    // No body for HEAD and 204 whatever the length says.
    let head = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n";
    let (used, res) = response(read_all(StdioFormat::Http, "HEAD", head, false));
    assert_eq!((used, res.body.len()), (head.len(), 0));
    let no_content = b"HTTP/1.1 204 No Content\r\n\r\n";
    assert!(matches!(
        read_all(StdioFormat::Http, "POST", no_content, false),
        Step::Done { .. }
    ));

    // No length: to the end of the stream, which a live process never
    // reaches.
    let open = b"HTTP/1.1 200 OK\r\n\r\nbody";
    assert_eq!(read_all(StdioFormat::Http, "POST", open, false), Step::More);
    assert_eq!(
        read_all(StdioFormat::Http, "POST", open, true),
        Step::Ended { partial: true }
    );
}

#[test]
fn malformed_http_responses_do_not_decode() {
    for bad in [
        &b"stray line\nHTTP/1.1 200 OK\r\n"[..],
        b"HTTP/1.1 20 OK\r\n",
        b"HTTX/1.1 200 OK\r\n",
        b"HTTP/1.1 200 OK\r\nno colon\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabXX",
    ] {
        assert!(
            matches!(
                read_all(StdioFormat::Http, "POST", bad, false),
                Step::Bad(_)
            ),
            "{}",
            String::from_utf8_lossy(bad)
        );
    }
    assert_eq!(
        read_all(
            StdioFormat::Http,
            "POST",
            b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nabc",
            true
        ),
        Step::Ended { partial: true }
    );
    assert_eq!(
        read_all(StdioFormat::Http, "POST", b"", true),
        Step::Ended { partial: false }
    );
}
