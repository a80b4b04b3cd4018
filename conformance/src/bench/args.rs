//! The `bench` command line (clap), and the functions it names.

use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use crate::Error;
use fn_emulator::FunctionCommand;

/// What the help of `fdk-conformance bench` says after the options.
const BENCH_AFTER_HELP: &str = "\
Each function is started as the Fn server would (FN_LISTENER=unix:<dir>/lsnr.sock in a
fresh 0777 directory, FN_FORMAT=http-stream, FN_APP_ID, FN_FN_ID, FN_MEMORY=128,
FN_TYPE=sync); exec-to-ready is measured, then invoke calls go over one keep-alive
connection per function, alternating between functions in blocks of 100 calls.

Exit codes: 0 all calls answered as expected, 1 some call failed,
2 usage error or a function never became ready.";

/// `fdk-conformance bench`'s command line: measure exec-to-ready, call
/// latency, CPU and memory against the floor.
#[derive(Debug, clap::Args)]
#[command(after_help = BENCH_AFTER_HELP, args_override_self = true)]
pub(crate) struct BenchCli {
    /// A function to bench; COMMAND is split on whitespace (no quoting: use
    /// the `--` form for arguments with spaces). Repeat for several. A
    /// function named `floor` is checked for the floor binary's body and is
    /// the reference of the `vs_floor` column.
    #[arg(long = "fn", value_name = "NAME=COMMAND", value_parser = function_arg)]
    functions: Vec<FunctionCommand>,
    /// Measured calls per function.
    #[arg(long, value_name = "N", default_value = "10000", value_parser = number_arg::<u64>)]
    calls: u64,
    /// Calls per function before measuring.
    #[arg(long, value_name = "N", default_value = "1000", value_parser = number_arg::<u64>)]
    warmup: u64,
    /// Request body bytes: 0 sends Content-Length: 0, more sends one chunk of
    /// text/plain.
    #[arg(long, value_name = "B", default_value = "0", value_parser = number_arg::<usize>)]
    body_size: usize,
    /// Starts per function for exec-to-ready; the median is reported.
    #[arg(long, value_name = "N", default_value = "5", value_parser = number_arg::<u32>)]
    starts: u32,
    /// Pin the driver and the functions to CPU N [default: 0].
    #[arg(long, value_name = "N", conflicts_with = "no_pin", value_parser = number_arg::<usize>)]
    cpu: Option<usize>,
    /// Do not pin.
    #[arg(long)]
    no_pin: bool,
    /// Run every function under the Fn server's limits: open files 350
    /// (setrlimit before exec), and, as root with cgroups, a cgroup with
    /// pids.max 50 (threads included) and a 128 MiB memory limit without
    /// swap. Without cgroups those two are skipped and the output says why;
    /// with CI=true that is an error instead.
    #[arg(long)]
    limits: bool,
    /// Print one JSON object instead of the table.
    #[arg(long)]
    json: bool,
    /// One more function, named after the program's file name, after `--`.
    #[arg(last = true, value_name = "COMMAND")]
    command: Vec<OsString>,
}

/// The parsed `bench` options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct BenchArgs {
    /// Measured calls per function.
    pub calls: u64,
    /// Unmeasured calls per function before measuring.
    pub warmup: u64,
    /// Request body size in bytes.
    pub body_size: usize,
    /// Starts per function for the exec-to-ready median.
    pub starts: u32,
    /// The CPU to pin to; `None` for `--no-pin`.
    pub cpu: Option<usize>,
    /// Print JSON instead of the table.
    pub json: bool,
    /// `--limits`: run the functions under the server's limits.
    pub limits: bool,
    /// The functions, in command-line order.
    pub functions: Vec<FunctionCommand>,
}

impl TryFrom<BenchCli> for BenchArgs {
    type Error = Error;

    fn try_from(cli: BenchCli) -> Result<Self, Error> {
        let mut functions = cli.functions;
        let mut words = cli.command.into_iter();
        if let Some(program) = words.next() {
            let name = Path::new(&program)
                .file_name()
                .unwrap_or(&program)
                .to_string_lossy()
                .into_owned();
            functions.push(FunctionCommand {
                name,
                program,
                args: words.collect(),
            });
        }
        if cli.calls == 0 {
            return Err(usage("--calls must be at least 1"));
        }
        if cli.starts == 0 {
            return Err(usage("--starts must be at least 1"));
        }
        if functions.is_empty() {
            return Err(usage(
                "no function: give --fn <name>=<command> or -- <command>",
            ));
        }
        for (i, f) in functions.iter().enumerate() {
            if functions[..i].iter().any(|g| g.name == f.name) {
                return Err(usage(format!("two functions are named {:?}", f.name)));
            }
        }
        Ok(Self {
            calls: cli.calls,
            warmup: cli.warmup,
            body_size: cli.body_size,
            starts: cli.starts,
            cpu: if cli.no_pin {
                None
            } else {
                cli.cpu.or(Some(0))
            },
            json: cli.json,
            limits: cli.limits,
            functions,
        })
    }
}

fn usage(text: impl Into<String>) -> Error {
    Error::Usage(text.into())
}

/// A whole number, `_` separators allowed (`20_000`).
fn number_arg<T: std::str::FromStr>(value: &str) -> Result<T, String> {
    value
        .trim()
        .replace('_', "")
        .parse()
        .map_err(|_| "needs a whole number".to_owned())
}

/// Parses `<name>=<command words…>`.
fn function_arg(spec: &str) -> Result<FunctionCommand, String> {
    function(OsStr::new(spec)).map_err(|e| e.to_string())
}

/// Parses `<name>=<command words…>`.
fn function(spec: &OsStr) -> Result<FunctionCommand, Error> {
    let bytes = spec.as_bytes();
    let eq = bytes
        .iter()
        .position(|&b| b == b'=')
        .ok_or_else(|| usage(format!("--fn needs <name>=<command>, not {spec:?}")))?;
    let name = std::str::from_utf8(&bytes[..eq])
        .ok()
        .filter(|n| !n.is_empty() && !n.contains(char::is_whitespace))
        .ok_or_else(|| usage(format!("bad function name in {spec:?}")))?;
    let mut words = bytes[eq + 1..]
        .split(|b| b.is_ascii_whitespace())
        .filter(|w| !w.is_empty())
        .map(|w| OsStr::from_bytes(w).to_owned());
    let program = words
        .next()
        .ok_or_else(|| usage(format!("--fn {name}= has no command")))?;
    Ok(FunctionCommand {
        name: name.to_owned(),
        program,
        args: words.collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(clap::Parser)]
    struct Cli {
        #[command(flatten)]
        bench: BenchCli,
    }

    /// `bench`'s arguments as the command line parses them; `Ok(None)` is
    /// a request for help.
    fn parse_strs(args: &[&str]) -> Result<Option<BenchArgs>, Error> {
        use clap::Parser as _;
        let argv = std::iter::once("bench").chain(args.iter().copied());
        match Cli::try_parse_from(argv) {
            Ok(cli) => BenchArgs::try_from(cli.bench).map(Some),
            Err(e) if e.kind() == clap::error::ErrorKind::DisplayHelp => Ok(None),
            Err(e) => Err(Error::Usage(e.to_string())),
        }
    }

    fn run(args: &[&str]) -> BenchArgs {
        parse_strs(args).unwrap().unwrap()
    }

    #[test]
    fn defaults_with_a_trailing_command() {
        let a = run(&["--", "target/release/floor", "--flag", "two words"]);
        assert_eq!(a.calls, 10_000);
        assert_eq!(a.cpu, Some(0));
        assert!(!a.limits);
        assert_eq!(a.functions.len(), 1);
        assert_eq!(a.functions[0].name, "floor");
        assert_eq!(a.functions[0].program, "target/release/floor");
        assert_eq!(
            a.functions[0].args,
            vec![OsString::from("--flag"), "two words".into()]
        );
    }

    #[test]
    fn options_and_several_functions() {
        let a = run(&[
            "--calls",
            "20_000",
            "--warmup=5",
            "--body-size",
            "64",
            "--starts",
            "3",
            "--cpu=1",
            "--json",
            "--limits",
            "--fn",
            "floor=target/release/floor",
            "--fn=py=python3  -u fn.py",
        ]);
        assert_eq!(
            (a.calls, a.warmup, a.body_size, a.starts),
            (20_000, 5, 64, 3)
        );
        assert_eq!((a.cpu, a.json, a.limits), (Some(1), true, true));
        let names: Vec<_> = a.functions.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["floor", "py"]);
        assert_eq!(a.functions[1].program, "python3");
        assert_eq!(
            a.functions[1].args,
            vec![OsString::from("-u"), "fn.py".into()]
        );
    }

    /// A later value wins (scripts/main-job.sh passes extra options after
    /// its own).
    #[test]
    fn later_values_override_earlier_ones() {
        let a = run(&["--calls", "20000", "--calls=100000", "--", "f"]);
        assert_eq!(a.calls, 100_000);
    }

    #[test]
    fn no_pin() {
        assert_eq!(run(&["--no-pin", "--", "x"]).cpu, None);
    }

    #[test]
    fn help() {
        assert_eq!(parse_strs(&["--calls", "1", "-h"]).unwrap(), None);
    }

    #[test]
    fn usage_errors() {
        for args in [
            &[][..],
            &["--calls", "1"],
            &["--calls", "x", "--", "f"],
            &["--calls", "0", "--", "f"],
            &["--calls"],
            &["--bogus", "--", "f"],
            &["--cpu", "1", "--no-pin", "--", "f"],
            &["--fn", "nameonly"],
            &["--fn", "=cmd"],
            &["--fn", "a="],
            &["--fn", "a=x", "--fn", "a=y"],
            &["--"],
            &["--json=yes", "--", "f"],
            &["--limits=on", "--", "f"],
        ] {
            assert!(
                matches!(parse_strs(args), Err(Error::Usage(_))),
                "{args:?} should be a usage error"
            );
        }
    }
}
