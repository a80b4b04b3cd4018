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

use clap::{Parser, Subcommand};

use crate::Error;
use crate::bench::{self, args::BenchArgs};
use crate::error::display_chain;

/// What the top-level help says after the commands.
const AFTER_HELP: &str = "\
Exit codes: 0 passed, 1 something failed (run: at the --fail-on level, MUST by default),
            2 could not run (usage, not ready).";

/// Plays the Fn server against a function built with any language's FDK.
///
/// Options take their value as `--name value` or `--name=value`, in every
/// command, as in `cargo fdk`.
#[derive(Debug, Parser)]
#[command(name = "fdk-conformance", version, after_help = AFTER_HELP)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the conformance cases against a function.
    Run(crate::suite::RunCli),
    /// Print a Markdown verdict matrix from expectations files.
    Matrix {
        /// A column: its name, and an expectations file (`--write-expect`).
        #[arg(required = true, value_name = "NAME=FILE", value_parser = column_arg)]
        columns: Vec<(String, String)>,
    },
    /// Measure exec-to-ready, call latency, CPU and memory against the floor.
    Bench(bench::args::BenchCli),
    /// Play one call sequence on a real Fn server and in the harness's
    /// emulation, and compare them.
    Oracle(crate::oracle::command::OracleArgs),
}

fn column_arg(v: &str) -> Result<(String, String), String> {
    v.split_once('=')
        .map(|(name, file)| (name.to_owned(), file.to_owned()))
        .ok_or_else(|| "takes NAME=FILE".to_owned())
}

/// Runs the command given by `args` (without the program name).
pub fn run<I: IntoIterator<Item = OsString>>(args: I) -> ExitCode {
    let mut args = args.into_iter().peekable();
    // The sandbox's trampoline: every function start goes through it, with
    // arguments that are the function's own, not the harness's options.
    if args
        .peek()
        .is_some_and(|a| a == fn_emulator::sandbox::TRAMPOLINE_ARG)
    {
        args.next();
        return fn_emulator::sandbox::trampoline(args);
    }
    let argv = std::iter::once(OsString::from("fdk-conformance")).chain(args);
    let cli = match Cli::try_parse_from(argv) {
        Ok(cli) => cli,
        Err(e) => {
            // Help and the version go to stdout with 0; usage errors to
            // stderr with 2.
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    match cli.command {
        Command::Bench(bench_cli) => match BenchArgs::try_from(bench_cli) {
            Ok(bench_args) => {
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
        Command::Run(run_cli) => match crate::suite::Args::try_from(run_cli) {
            Ok(run_args) => {
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
        Command::Matrix { columns } => matrix(columns),
        Command::Oracle(oracle) => crate::oracle::command::run(oracle),
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
fn matrix(columns: Vec<(String, String)>) -> ExitCode {
    let mut parsed_columns = Vec::new();
    for (name, file) in columns {
        let parsed = std::fs::read_to_string(&file)
            .map_err(|e| Error::io(format!("could not read {file:?}"), e))
            .and_then(|text| crate::report::expect::parse(&text).map_err(Error::Usage));
        match parsed {
            Ok(verdicts) => parsed_columns.push((name, verdicts)),
            Err(e) => return fail(&e),
        }
    }
    print_out(&crate::report::expect::matrix(&parsed_columns))
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
