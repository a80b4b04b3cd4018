//! `FN_FORMAT=default`: the call's metadata in the environment
//! (`FN_CALL_ID`, `FN_DEADLINE`, `FN_METHOD`, `FN_REQUEST_URL`,
//! `FN_HEADER_<Name>`, config) and the body on stdin.
//!
//! Input: `KEY=VALUE` lines, a NUL byte, then stdin. Without a NUL the
//! whole input is stdin.

#![no_main]

use fdk::testing::StdioRun;
use fdk_fuzz::{env_lines, introspect, runtime};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (env, stdin) = match data.iter().position(|&b| b == 0) {
        Some(nul) => (&data[..nul], &data[nul + 1..]),
        None => (&b""[..], data),
    };
    let mut run = StdioRun::new("default");
    for (key, value) in env_lines(&String::from_utf8_lossy(env)) {
        // The format is this target's; another value would test start-up.
        if key != "FN_FORMAT" {
            run = run.env(key, value);
        }
    }
    let out = runtime().block_on(run.run(fdk::Function::new(introspect), stdin));
    // A failed call writes nothing (DEF-RESP-2).
    if out.result.is_err() {
        assert!(
            out.stdout.is_empty(),
            "a failed call wrote {} bytes",
            out.stdout.len()
        );
    }
});
