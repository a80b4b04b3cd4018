//! The reader against the answers the harness has met, whole and cut at
//! every byte.

use super::body::MAX_CHUNK_LINE;
use super::response::MAX_HEAD;
use super::*;

fn read(bytes: &[u8]) -> Result<Response, ResponseError> {
    let mut reader = bytes;
    read_response(&mut reader)
}

#[test]
fn content_length_body() {
    let raw = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello";
    let res = read(raw).unwrap();
    assert_eq!(res.status, 200);
    assert_eq!(res.body, b"hello");
    assert_eq!(res.header("content-type"), Some("text/plain"));
    let names: Vec<_> = res.headers().map(|(n, _)| n).collect();
    assert_eq!(names, ["Content-Type", "Content-Length"]);
    assert!(!res.close);
}

#[test]
fn keep_alive_leaves_the_next_response_unread() {
    let raw = b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\naHTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\n\r\n";
    let mut reader = &raw[..];
    assert_eq!(read_response(&mut reader).unwrap().body, b"a");
    let second = read_response(&mut reader).unwrap();
    assert_eq!((second.status, second.body.len()), (502, 0));
    assert!(reader.is_empty());
}

/// The canned `chunked-resp` answer of the captures.
#[test]
fn chunked_body_with_extension_and_trailer() {
    let raw = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n7\r\nchunk1-\r\n7;x=y\r\nchunk2-\r\n7\r\nchunk3\n\r\n0\r\nX-Trailer: t\r\n\r\nrest";
    let mut reader = &raw[..];
    let res = read_response(&mut reader).unwrap();
    assert_eq!(res.body, b"chunk1-chunk2-chunk3\n");
    assert_eq!(reader, b"rest");
}

#[test]
fn chunk_size_in_upper_and_lower_hex() {
    let mut raw = b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n1A\r\n".to_vec();
    raw.extend_from_slice(&[b'x'; 26]);
    raw.extend_from_slice(b"\r\na\r\n0123456789\r\n0\r\n\r\n");
    assert_eq!(read(&raw).unwrap().body.len(), 36);
}

#[test]
fn bare_lf_line_ends_are_accepted() {
    let res = read(b"HTTP/1.1 200 OK\nContent-Length: 2\n\nok").unwrap();
    assert_eq!(res.body, b"ok");
}

#[test]
fn interim_responses_are_skipped() {
    let res = read(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
    assert_eq!(res.unwrap().status, 200);
}

#[test]
fn connection_close_and_http10() {
    let res = read(b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
    assert!(res.unwrap().close);
    let res = read(b"HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n");
    assert!(res.unwrap().close);
    let res = read(b"HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 0\r\n\r\n");
    assert!(!res.unwrap().close);
}

#[test]
fn body_without_framing_runs_to_close() {
    let res = read(b"HTTP/1.1 200 OK\r\n\r\nuntil the end").unwrap();
    assert_eq!(res.body, b"until the end");
    assert!(res.close);
    // A coding other than chunked last: the body runs to the close too.
    let res = read(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\nzz").unwrap();
    assert_eq!((&res.body[..], res.close), (&b"zz"[..], true));
}

#[test]
fn no_body_for_204() {
    let raw = b"HTTP/1.1 204 No Content\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
    let mut reader = &raw[..];
    assert_eq!(read_response(&mut reader).unwrap().status, 204);
    assert_eq!(read_response(&mut reader).unwrap().status, 200);
}

#[test]
fn status_without_reason() {
    let res = read(b"HTTP/1.1 504\r\nContent-Length: 0\r\n\r\n").unwrap();
    assert_eq!(res.status, 504);
}

#[test]
fn closed_before_anything() {
    assert!(matches!(read(b""), Err(ResponseError::Closed)));
}

#[test]
fn malformed_inputs() {
    for raw in [
        &b"HTTP/2 200 OK\r\n\r\n"[..],
        b"HTTP/1.1 20 OK\r\n\r\n",
        b"HTTP/1.1 2000 OK\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nno colon\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nX: a\r\n folded\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
        b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n",
        b"HTTP/1.1 200",
        b"HTTP/1.1 200 OK\r\nX: \xff\r\n\r\n",
    ] {
        let err = read(raw).unwrap_err();
        assert!(
            matches!(err, ResponseError::Malformed(_)),
            "{:?}: {err:?}",
            String::from_utf8_lossy(raw)
        );
    }
}

#[test]
fn a_body_cut_short_keeps_the_head() {
    for (raw, why) in [
        (
            &b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nabc"[..],
            "after 3 of 5",
        ),
        (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
            "bad chunk size",
        ),
        (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcX\r\n0\r\n\r\n",
            "not followed by CRLF",
        ),
        (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nab",
            "inside a chunk",
        ),
        (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n",
            "inside the trailers",
        ),
        (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
            "before the last chunk",
        ),
        (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1",
            "inside the chunk size",
        ),
    ] {
        let err = read(raw).unwrap_err();
        let ResponseError::Body {
            status,
            error,
            head,
        } = &err
        else {
            panic!("{:?}: {err:?}", String::from_utf8_lossy(raw));
        };
        assert_eq!((*status, head.status()), (200, Some(200)));
        assert!(
            matches!(&**error, ResponseError::Malformed(m) if m.contains(why)),
            "{why}: {error:?}"
        );
        assert!(!err.timed_out());
    }
}

#[test]
fn limits() {
    let raw = b"HTTP/1.1 200 OK\r\nContent-Length: 99999999999\r\n\r\n";
    assert!(matches!(
        read(raw),
        Err(ResponseError::Body { ref error, .. }) if matches!(**error, ResponseError::TooLarge(_))
    ));
    // Heads up to the server's 10 MiB pass, in one line or many.
    let mut big = b"HTTP/1.1 200 OK\r\nX: ".to_vec();
    big.extend(std::iter::repeat_n(b'a', 20 * 1024));
    big.extend_from_slice(b"\r\n");
    for i in 0..2000 {
        big.extend_from_slice(format!("X-{i}: {}\r\n", "b".repeat(100)).as_bytes());
    }
    big.extend_from_slice(b"Content-Length: 0\r\n\r\n");
    assert_eq!(read(&big).unwrap().head.field_count(), 2002);
    // One byte past 10 MiB is too large.
    let mut long = b"HTTP/1.1 200 OK\r\nX: ".to_vec();
    long.extend(std::iter::repeat_n(b'a', MAX_HEAD as usize));
    long.extend_from_slice(b"\r\n\r\n");
    assert!(matches!(read(&long), Err(ResponseError::TooLarge(_))));
    // A chunk-size line of more than 16 KiB.
    let mut chunk = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1".to_vec();
    chunk.extend(std::iter::repeat_n(b' ', MAX_CHUNK_LINE as usize));
    assert!(matches!(
        read(&chunk),
        Err(ResponseError::Body { ref error, .. }) if matches!(**error, ResponseError::TooLarge("chunk size"))
    ));
    // A chunk size that overflows, or one past the body limit.
    for size in ["fffffffffffffffff", "ffffffffffffffff", "4000001"] {
        let raw = format!("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n{size}\r\n");
        assert!(
            matches!(read(raw.as_bytes()), Err(ResponseError::Body { .. })),
            "{size}"
        );
    }
}

/// The budget covers interim heads too: many `100`s add up.
#[test]
fn interim_heads_share_the_budget() {
    let mut raw = Vec::new();
    let interim =
        b"HTTP/1.1 100 Continue\r\nX: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n";
    while (raw.len() as u64) < MAX_HEAD {
        raw.extend_from_slice(interim);
    }
    raw.extend_from_slice(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
    assert!(matches!(read(&raw), Err(ResponseError::TooLarge(_))));
}

/// Lines split across the reader's buffer fills read as whole lines; a
/// head cut off mid-line is a closed connection, not a line.
#[test]
fn lines_split_across_buffer_fills_are_whole() {
    let raw = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nX-Long: abcdefghij\r\nContent-Length: 5\r\n\r\nhello";
    for capacity in [1, 2, 3, 7, 64] {
        let mut reader = std::io::BufReader::with_capacity(capacity, &raw[..]);
        let res = read_response(&mut reader).unwrap();
        assert_eq!(res.body, b"hello", "capacity {capacity}");
        assert_eq!(
            res.header("x-long"),
            Some("abcdefghij"),
            "capacity {capacity}"
        );
        let cut = &raw[..30];
        let mut reader = std::io::BufReader::with_capacity(capacity, cut);
        let err = read_response(&mut reader).unwrap_err();
        assert!(
            err.to_string().contains("closed inside the header section"),
            "{err}"
        );
    }
}

/// Every answer reads the same fed whole or in two parts cut at any byte:
/// the sans-IO decoders keep what a feed left unfinished.
#[test]
fn any_split_reads_as_whole() {
    let answers: [&[u8]; 4] = [
        b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n7\r\nchunk1-\r\n7;x=y\r\nchunk2-\r\n0\r\nT: t\r\n\r\n",
        b"HTTP/1.0 502 Bad Gateway\nX-A:  spaced \n\nuntil close",
        b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\nA: b\r\n\r\n",
    ];
    for raw in answers {
        let whole = read(raw).unwrap();
        for cut in 0..=raw.len() {
            let reader = std::io::Read::chain(&raw[..cut], &raw[cut..]);
            let mut reader = std::io::BufReader::with_capacity(raw.len(), reader);
            let split = read_response(&mut reader).unwrap();
            assert_eq!(split, whole, "cut at {cut}");
        }
    }
}

#[test]
fn request_heads() {
    let raw = b"POST /call HTTP/1.1\r\nHost: localhost\r\nFn-Call-Id: 01\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n";
    let mut decoder = HeadDecoder::new(Role::Request, 1024, 16);
    let (used, head) = decoder.feed(raw).unwrap();
    let head = head.unwrap();
    assert_eq!(&raw[used..], b"0\r\n\r\n");
    assert_eq!(head.wire_len(), used as u64);
    assert_eq!((head.method(), head.target()), ("POST", "/call"));
    assert_eq!((head.status(), head.is_http10()), (None, false));
    assert_eq!(head.last_transfer_coding(), Some("chunked"));
    assert_eq!(
        head.to_pairs(),
        [
            ("Host".to_owned(), "localhost".to_owned()),
            ("Fn-Call-Id".to_owned(), "01".to_owned()),
            ("Transfer-Encoding".to_owned(), "chunked".to_owned()),
        ]
    );
    for bad in [
        &b"POST /call\r\n\r\n"[..],
        b"POST /call HTTP/2.0\r\n\r\n",
        b"PO(ST /call HTTP/1.1\r\n\r\n",
        b"POST  /call HTTP/1.1\r\n\r\n",
    ] {
        let mut decoder = HeadDecoder::new(Role::Request, 1024, 16);
        assert!(
            matches!(decoder.feed(bad), Err(Error::Malformed(_))),
            "{:?}",
            String::from_utf8_lossy(bad)
        );
    }
    // The field limit.
    let mut decoder = HeadDecoder::new(Role::Request, 1024, 1);
    assert_eq!(
        decoder.feed(b"GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\n\r\n"),
        Err(Error::TooLarge("header count"))
    );
    // Nothing fed, then the end: closed; something fed: malformed.
    let mut decoder = HeadDecoder::new(Role::Request, 1024, 1);
    assert_eq!(decoder.eof(), Error::Closed);
    decoder.feed(b"GET").unwrap();
    assert!(matches!(decoder.eof(), Error::Malformed(m) if m.contains("request line")));
}
