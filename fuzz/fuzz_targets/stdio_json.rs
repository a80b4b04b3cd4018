//! `FN_FORMAT=json`: arbitrary bytes on stdin, through the format's
//! decoder, `Context`, the handler and the format's encoder, in-process.

#![no_main]

use fdk::testing::StdioRun;
use fdk_fuzz::{introspect, runtime};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let out = runtime().block_on(StdioRun::new("json").run(fdk::Function::new(introspect), data));
    fdk_fuzz_check(&out.stdout);
});

/// Every response is one JSON object on a line of its own (JSON-RESP-1).
fn fdk_fuzz_check(stdout: &[u8]) {
    for line in stdout.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
        let value: serde_json::Value = match serde_json::from_slice(line) {
            Ok(v) => v,
            Err(e) => panic!(
                "a response line is not JSON ({e}): {:?}",
                String::from_utf8_lossy(line)
            ),
        };
        assert!(
            value["protocol"]["status_code"].is_u64(),
            "no status_code: {value}"
        );
    }
}
