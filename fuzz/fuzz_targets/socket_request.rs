//! The socket request path: arbitrary bytes as the Fn server would write
//! them on the function's socket (one or more pipelined HTTP/1.1 requests),
//! through the FDK's real hyper connection, `Context`, gateway decoding,
//! trace parsing, log frame, handler, encoder and hyper's writer.
//!
//! Invariant: every response the FDK itself produced (it carries
//! `Fn-Fdk-Version`) has socket status 200, 502 or 504 (HS-RESP-1), and
//! carries no `Fn-Call-Id` and none of the handler's hop-by-hop headers.

#![no_main]

use std::time::Duration;

use fdk_fuzz::{introspect, runtime};
use libfuzzer_sys::fuzz_target;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::UnixStream;

fn vars() -> Vec<(String, String)> {
    [
        ("FN_APP_ID", "app"),
        ("FN_FN_ID", "fn"),
        ("FN_MEMORY", "128"),
        ("FN_FORMAT", "http-stream"),
        // The log frame is written only for calls that carry this header.
        ("FN_LOGFRAME_NAME", "fuzz_frame"),
        ("FN_LOGFRAME_HDR", "X-Fuzz-Frame"),
        ("GREETING", "hello"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}

fuzz_target!(|data: &[u8]| {
    let out = runtime().block_on(async {
        // Inside the runtime: the pair registers with its reactor.
        let Ok((client, server)) = UnixStream::pair() else {
            return Vec::new();
        };
        let serve = fdk::__fuzz::serve_connection(server, fdk::Function::new(introspect), vars());
        let (mut rd, mut wr) = client.into_split();
        let write = async {
            // The FDK may close first (a malformed head): a failed write is
            // one of the outcomes, not a finding.
            let _ = wr.write_all(data).await;
            let _ = wr.shutdown().await;
        };
        let read = async {
            let mut out = Vec::new();
            let _ = rd.read_to_end(&mut out).await;
            out
        };
        // Everything on this task: a panic anywhere reaches libFuzzer.
        let all = async {
            let ((), (), out) = tokio::join!(serve, write, read);
            out
        };
        match tokio::time::timeout(Duration::from_secs(10), all).await {
            Ok(out) => out,
            Err(_) => panic!("the connection did not end within 10 s of the peer's EOF"),
        }
    });
    check(&out);
});

/// Walks the responses hyper wrote and checks the FDK's own.
fn check(mut out: &[u8]) {
    while !out.is_empty() {
        let mut headers = [httparse::EMPTY_HEADER; 256];
        let mut res = httparse::Response::new(&mut headers);
        let Ok(httparse::Status::Complete(head_len)) = res.parse(out) else {
            panic!(
                "the FDK wrote bytes that are not an HTTP response: {:?}",
                String::from_utf8_lossy(out)
            );
        };
        let status = res.code.unwrap_or(0);
        let ours = res
            .headers
            .iter()
            .any(|h| h.name.eq_ignore_ascii_case("fn-fdk-version"));
        let mut content_length = None;
        let mut chunked = false;
        for h in res.headers.iter() {
            if h.name.eq_ignore_ascii_case("content-length") {
                content_length = std::str::from_utf8(h.value)
                    .ok()
                    .and_then(|v| v.parse::<usize>().ok());
            }
            if h.name.eq_ignore_ascii_case("transfer-encoding") {
                chunked = true;
            }
            if ours {
                // Not `Connection`: hyper itself adds `Connection: close`
                // when it ends the connection after this response.
                for banned in [
                    "fn-call-id",
                    "keep-alive",
                    "upgrade",
                    "proxy-connection",
                    "te",
                    "trailer",
                ] {
                    assert!(
                        !h.name.eq_ignore_ascii_case(banned),
                        "the FDK sent {banned}: {:?}",
                        String::from_utf8_lossy(&out[..head_len])
                    );
                }
            }
        }
        if ours {
            assert!(matches!(status, 200 | 502 | 504), "socket status {status}");
        }
        let rest = &out[head_len..];
        // Skip the body to reach the next response.
        out = if chunked {
            skip_chunked(rest)
        } else {
            let len = content_length.unwrap_or(0).min(rest.len());
            &rest[len..]
        };
    }
}

fn skip_chunked(mut rest: &[u8]) -> &[u8] {
    loop {
        let Ok(httparse::Status::Complete((pos, size))) = httparse::parse_chunk_size(rest) else {
            return &[];
        };
        let size = usize::try_from(size).unwrap_or(usize::MAX);
        if size == 0 {
            // The last chunk, then the (empty) trailer section.
            let after = &rest[pos..];
            return after.strip_prefix(b"\r\n").unwrap_or(after);
        }
        let end = pos.saturating_add(size).saturating_add(2).min(rest.len());
        rest = &rest[end..];
    }
}
