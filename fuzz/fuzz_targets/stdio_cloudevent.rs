//! `FN_FORMAT=cloudevent`: arbitrary bytes on stdin, through the format's
//! decoder, `Context`, the handler and the format's encoder, in-process.

#![no_main]

use fdk::testing::StdioRun;
use fdk_fuzz::{introspect, runtime};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let out =
        runtime().block_on(StdioRun::new("cloudevent").run(fdk::Function::new(introspect), data));
    fdk_fuzz_check(&out.stdout);
});

/// Every response is one JSON object on a line of its own.
fn fdk_fuzz_check(stdout: &[u8]) {
    for line in stdout.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
        if let Err(e) = serde_json::from_slice::<serde_json::Value>(line) {
            panic!(
                "a response line is not JSON ({e}): {:?}",
                String::from_utf8_lossy(line)
            );
        }
    }
}
