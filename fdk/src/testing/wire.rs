//! A small HTTP/1.1 response reader for tests: status line, headers, and a
//! body framed by `Content-Length`, chunked, or the end of the connection.
//! Written apart from hyper on purpose, so the tests do not trust the code
//! they test.

use std::io;

use bytes::Bytes;
use http::StatusCode;
use http::header::{HeaderMap, HeaderName, HeaderValue};
use tokio::io::{AsyncRead, AsyncReadExt};

use super::call::TestResponse;

fn bad(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what.to_owned())
}

/// Reads one response from `stream`; `buf` keeps bytes read past its end.
pub(crate) async fn read_response<R: AsyncRead + Unpin>(
    stream: &mut R,
    buf: &mut Vec<u8>,
) -> io::Result<TestResponse> {
    let head_end = loop {
        if let Some(i) = find(buf, b"\r\n\r\n") {
            break i;
        }
        if fill(stream, buf).await? == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "connection closed before a response head",
            ));
        }
    };
    let head = String::from_utf8(buf[..head_end].to_vec()).map_err(|_| bad("head not UTF-8"))?;
    buf.drain(..head_end + 4);
    let mut lines = head.split("\r\n");
    let status_line = lines.next().ok_or_else(|| bad("no status line"))?;
    let code = status_line
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse::<u16>().ok())
        .ok_or_else(|| bad("bad status line"))?;
    let status = StatusCode::from_u16(code).map_err(|_| bad("bad status"))?;
    let mut headers = HeaderMap::new();
    for line in lines {
        let (name, value) = line.split_once(':').ok_or_else(|| bad("bad header line"))?;
        headers.append(
            HeaderName::from_bytes(name.trim().as_bytes()).map_err(|_| bad("bad header name"))?,
            HeaderValue::from_str(value.trim()).map_err(|_| bad("bad header value"))?,
        );
    }

    let chunked = headers
        .get("transfer-encoding")
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"chunked"));
    let length = headers
        .get("content-length")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    let body = if chunked {
        read_chunked(stream, buf).await?
    } else if let Some(len) = length {
        while buf.len() < len {
            if fill(stream, buf).await? == 0 {
                return Err(bad("connection closed mid-body"));
            }
        }
        buf.drain(..len).collect()
    } else {
        while fill(stream, buf).await? != 0 {}
        std::mem::take(buf)
    };
    Ok(TestResponse {
        status,
        headers,
        body: Bytes::from(body),
    })
}

async fn read_chunked<R: AsyncRead + Unpin>(
    stream: &mut R,
    buf: &mut Vec<u8>,
) -> io::Result<Vec<u8>> {
    let mut body = Vec::new();
    loop {
        let line_end = loop {
            if let Some(i) = find(buf, b"\r\n") {
                break i;
            }
            if fill(stream, buf).await? == 0 {
                return Err(bad("connection closed mid-chunk"));
            }
        };
        let size_text = std::str::from_utf8(&buf[..line_end]).map_err(|_| bad("chunk size"))?;
        let size_text = size_text.split(';').next().unwrap_or("").trim();
        let size = usize::from_str_radix(size_text, 16).map_err(|_| bad("chunk size"))?;
        buf.drain(..line_end + 2);
        while buf.len() < size + 2 {
            if fill(stream, buf).await? == 0 {
                return Err(bad("connection closed mid-chunk"));
            }
        }
        if size == 0 {
            // No trailers are expected: the last chunk is `0\r\n\r\n`.
            buf.drain(..2);
            return Ok(body);
        }
        body.extend_from_slice(&buf[..size]);
        buf.drain(..size + 2);
    }
}

async fn fill<R: AsyncRead + Unpin>(stream: &mut R, buf: &mut Vec<u8>) -> io::Result<usize> {
    let mut chunk = [0u8; 16 * 1024];
    let n = stream.read(&mut chunk).await?;
    buf.extend_from_slice(&chunk[..n]);
    Ok(n)
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}
