//! `fdk-conformance`: see `fdk-conformance help` and the crate's README.

use std::process::ExitCode;

fn main() -> ExitCode {
    // This binary is the sandbox's trampoline (`__sandbox-exec`): the
    // harness starts functions through its own executable, which
    // `/proc/self/exe` names even if the file was replaced meanwhile.
    fdk_conformance::suite::set_trampoline(Some("/proc/self/exe".into()));
    fdk_conformance::cli::run(std::env::args_os().skip(1))
}
