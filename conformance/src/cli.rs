//! The `fdk-conformance` command: subcommand dispatch, output and exit codes.
//!
//! | exit code | meaning |
//! |---|---|
//! | 0 | everything passed (run: no failure at the `--fail-on` level, MUST by default; bench: every call answered as expected) |
//! | 1 | something failed (run: a failure at that level; bench: at least one call failed) |
//! | 2 | the harness could not run: usage error, a function never became ready |
//! | 130, 143 | `run` was stopped by SIGINT, SIGTERM (the function killed, the work directory removed) |
//!
//! The hidden command `__sandbox-exec` is the sandbox's trampoline
//! ([`fn_emulator::sandbox::trampoline`]): the harness starts every function
//! through it.

use std::ffi::OsString;
use std::io::{self, Write};
use std::process::ExitCode;

use crate::Error;
use crate::bench::{self, args::Parsed};
use crate::error::display_chain;

/// The top-level help text.
pub const USAGE: &str = "\
Usage: fdk-conformance <command> [options]

Plays the Fn server against a function built with any language's FDK.

Commands:
  run     Run the conformance cases against a function
          (`fdk-conformance run --help`)
  matrix  Print a Markdown verdict matrix from expectations files:
          `fdk-conformance matrix NAME=FILE...`
  bench   Measure exec-to-ready, call latency, CPU and memory against the floor
          (`fdk-conformance bench --help`)
  oracle  Play one call sequence on a real Fn server and in the harness's
          emulation, and compare them (`fdk-conformance oracle --help`)
  help    Print this help

Exit codes: 0 passed, 1 something failed (run: at the --fail-on level, MUST by default),
            2 could not run (usage, not ready).
";

/// Runs the command given by `args` (without the program name).
pub fn run<I: IntoIterator<Item = OsString>>(args: I) -> ExitCode {
    let mut args = args.into_iter();
    let Some(command) = args.next() else {
        return usage_error(&Error::Usage("no command given".into()));
    };
    match command.to_str() {
        Some("bench") => match bench::args::parse(args) {
            Ok(Parsed::Help) => print_out(bench::args::USAGE),
            Ok(Parsed::Run(bench_args)) => {
                // Under --limits every function has a cgroup of its own: a
                // Ctrl-C must remove those (and kill the functions), not
                // leave them behind, as `run` does.
                if let Err(e) = crate::suite::stop_on_signals() {
                    eprintln!(
                        "fdk-conformance: cannot handle SIGINT/SIGTERM ({e}); stopping the run \
                         that way may leave the functions running"
                    );
                }
                bench_command(&bench_args)
            }
            Err(e) => usage_error(&e),
        },
        Some(fn_emulator::sandbox::TRAMPOLINE_ARG) => fn_emulator::sandbox::trampoline(args),
        Some("run") => match crate::suite::parse(args) {
            Ok(None) => print_out(crate::suite::USAGE),
            Ok(Some(run_args)) => {
                if let Err(e) = crate::suite::stop_on_signals() {
                    eprintln!(
                        "fdk-conformance: cannot handle SIGINT/SIGTERM ({e}); stopping the run \
                         that way may leave the function running"
                    );
                }
                match crate::suite::run(&run_args) {
                    Ok(code) => ExitCode::from(code),
                    Err(e) => fail(&e),
                }
            }
            Err(e) => usage_error(&e),
        },
        Some("matrix") => matrix(args),
        Some("oracle") => crate::oracle::command::run(args),
        Some("help" | "-h" | "--help") => print_out(USAGE),
        Some("--version" | "-V") => {
            print_out(concat!("fdk-conformance ", env!("CARGO_PKG_VERSION"), "\n"))
        }
        _ => usage_error(&Error::Usage(format!("unknown command {command:?}"))),
    }
}

/// `fdk-conformance bench`, parsed: runs it and prints the table or JSON.
fn bench_command(bench_args: &bench::args::BenchArgs) -> ExitCode {
    match bench::run(bench_args) {
        Ok(report) => {
            let text = if bench_args.json {
                match serde_json::to_string_pretty(&report) {
                    Ok(json) => json + "\n",
                    Err(e) => return fail(&Error::io("could not write JSON", e.into())),
                }
            } else {
                bench::table::render(&report)
            };
            match print_out(&text) {
                code if code == ExitCode::SUCCESS => ExitCode::from(report.exit_code()),
                code => code,
            }
        }
        Err(e) => fail(&e),
    }
}

/// `fdk-conformance matrix NAME=FILE...`
fn matrix(args: impl Iterator<Item = OsString>) -> ExitCode {
    let mut columns = Vec::new();
    for arg in args {
        let arg = arg.to_string_lossy().into_owned();
        let Some((name, file)) = arg.split_once('=') else {
            return usage_error(&Error::Usage(format!(
                "matrix takes NAME=FILE, not {arg:?}"
            )));
        };
        let parsed = std::fs::read_to_string(file)
            .map_err(|e| Error::io(format!("could not read {file:?}"), e))
            .and_then(|text| crate::report::expect::parse(&text).map_err(Error::Usage));
        match parsed {
            Ok(verdicts) => columns.push((name.to_owned(), verdicts)),
            Err(e) => return fail(&e),
        }
    }
    print_out(&crate::report::expect::matrix(&columns))
}

fn print_out(text: &str) -> ExitCode {
    let mut out = io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => ExitCode::SUCCESS,
        // A closed pipe (`| head`) is not an error.
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(_) => ExitCode::from(2),
    }
}

fn usage_error(e: &Error) -> ExitCode {
    eprintln!(
        "fdk-conformance: {}\n\nRun `fdk-conformance help` for usage.",
        display_chain(e)
    );
    ExitCode::from(2)
}

fn fail(e: &Error) -> ExitCode {
    eprintln!("fdk-conformance: {}", display_chain(e));
    if let Error::Start { output, .. } = e
        && !output.is_empty()
    {
        eprintln!("its output ended with:\n{}", output.trim_end());
    }
    ExitCode::from(2)
}
