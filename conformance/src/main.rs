//! `fdk-conformance`: see `fdk-conformance help` and the crate's README.

use std::process::ExitCode;

fn main() -> ExitCode {
    fdk_conformance::cli::run(std::env::args_os().skip(1))
}
