//! `FN_FORMAT=http`: arbitrary bytes on stdin, through the format's
//! decoder, `Context`, the handler and the format's encoder, in-process.

#![no_main]

use fdk::testing::StdioRun;
use fdk_fuzz::{introspect, runtime};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let out = runtime().block_on(StdioRun::new("http").run(fdk::Function::new(introspect), data));
    fdk_fuzz_check(&out.stdout);
});

/// Every response is a complete HTTP/1.1 response head with a
/// `Content-Length` that the bytes after it honour.
fn fdk_fuzz_check(mut out: &[u8]) {
    while !out.is_empty() {
        let mut headers = [httparse::EMPTY_HEADER; 256];
        let mut res = httparse::Response::new(&mut headers);
        let Ok(httparse::Status::Complete(head_len)) = res.parse(out) else {
            panic!("not an HTTP response: {:?}", String::from_utf8_lossy(out));
        };
        let len = res
            .headers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case("content-length"))
            .and_then(|h| std::str::from_utf8(h.value).ok()?.parse::<usize>().ok());
        let Some(len) = len else {
            panic!(
                "a response without Content-Length: {:?}",
                String::from_utf8_lossy(&out[..head_len])
            );
        };
        let rest = &out[head_len..];
        assert!(
            rest.len() >= len,
            "Content-Length {len} but {} bytes follow",
            rest.len()
        );
        out = &rest[len..];
    }
}
