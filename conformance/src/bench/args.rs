//! The `bench` command line, parsed by hand (no parser dependency).

use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use crate::Error;
use fn_emulator::FunctionCommand;

/// The help text of `fdk-conformance bench`.
pub const USAGE: &str = "\
Usage: fdk-conformance bench [OPTIONS] -- <command> [args...]
       fdk-conformance bench [OPTIONS] --fn <name>=<command> [--fn <name>=<command>...] [-- <command> [args...]]

Starts each function as the Fn server would (FN_LISTENER=unix:<dir>/lsnr.sock in a
fresh 0777 directory, FN_FORMAT=http-stream, FN_APP_ID, FN_FN_ID, FN_MEMORY=128,
FN_TYPE=sync), measures exec-to-ready, then sends invoke calls over one keep-alive
connection per function, alternating between functions in blocks of 100 calls.

Functions:
  --fn <name>=<command>  A function to bench; <command> is split on whitespace
                         (no quoting: use the `--` form for arguments with spaces).
                         Repeat for several. A function named `floor` is checked
                         for the floor binary's body and is the reference of the
                         `vs_floor` column.
  -- <command> [args...] One more function, named after the program's file name.

Options:
  --calls <N>        Measured calls per function [default: 10000]
  --warmup <N>       Calls per function before measuring [default: 1000]
  --body-size <B>    Request body bytes: 0 sends Content-Length: 0, more sends
                     one chunk of text/plain [default: 0]
  --starts <N>       Starts per function for exec-to-ready; the median is
                     reported [default: 5]
  --cpu <N>          Pin the driver and the functions to CPU N [default: 0]
  --no-pin           Do not pin
  --limits           Run every function under the Fn server's limits: open files
                     350 (setrlimit before exec), and, as root with cgroups, a
                     cgroup with pids.max 50 (threads included) and a 128 MiB
                     memory limit without swap. Without cgroups those two are
                     skipped and the output says why; with CI=true that is an
                     error instead
  --json             Print one JSON object instead of the table
  -h, --help         Print this help

Exit codes: 0 all calls answered as expected, 1 some call failed,
2 usage error or a function never became ready.
";

/// The parsed `bench` options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BenchArgs {
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

impl Default for BenchArgs {
    fn default() -> Self {
        Self {
            calls: 10_000,
            warmup: 1_000,
            body_size: 0,
            starts: 5,
            cpu: Some(0),
            json: false,
            limits: false,
            functions: Vec::new(),
        }
    }
}

/// What the command line asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parsed {
    /// Run the benchmark.
    Run(BenchArgs),
    /// Print [`USAGE`].
    Help,
}

fn usage(text: impl Into<String>) -> Error {
    Error::Usage(text.into())
}

/// Parses the arguments that follow `bench`.
pub fn parse<I: IntoIterator<Item = OsString>>(args: I) -> Result<Parsed, Error> {
    let mut out = BenchArgs::default();
    let mut pin_flags = (false, false); // (--cpu seen, --no-pin seen)
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        if arg == "--" {
            let program = args
                .next()
                .ok_or_else(|| usage("`--` must be followed by a command"))?;
            let name = Path::new(&program)
                .file_name()
                .unwrap_or(&program)
                .to_string_lossy()
                .into_owned();
            out.functions.push(FunctionCommand {
                name,
                program,
                args: args.collect(),
            });
            break;
        }
        let text = arg
            .to_str()
            .ok_or_else(|| usage(format!("unexpected argument {arg:?}")))?;
        let (flag, inline) = match text.split_once('=') {
            Some((flag, value)) if flag.starts_with("--") => (flag, Some(OsString::from(value))),
            _ => (text, None),
        };
        let mut value = || {
            inline
                .clone()
                .or_else(|| args.next())
                .ok_or_else(|| usage(format!("{flag} needs a value")))
        };
        match flag {
            "-h" | "--help" => return Ok(Parsed::Help),
            "--calls" => out.calls = number(flag, &value()?)?,
            "--warmup" => out.warmup = number(flag, &value()?)?,
            "--body-size" => out.body_size = number(flag, &value()?)?,
            "--starts" => out.starts = number(flag, &value()?)?,
            "--cpu" => {
                out.cpu = Some(number(flag, &value()?)?);
                pin_flags.0 = true;
            }
            "--no-pin" if inline.is_none() => {
                out.cpu = None;
                pin_flags.1 = true;
            }
            "--json" if inline.is_none() => out.json = true,
            "--limits" if inline.is_none() => out.limits = true,
            "--fn" => out.functions.push(function(&value()?)?),
            _ => return Err(usage(format!("unknown option {text:?}"))),
        }
    }
    if pin_flags == (true, true) {
        return Err(usage("--cpu and --no-pin exclude each other"));
    }
    if out.calls == 0 {
        return Err(usage("--calls must be at least 1"));
    }
    if out.starts == 0 {
        return Err(usage("--starts must be at least 1"));
    }
    if out.functions.is_empty() {
        return Err(usage(
            "no function: give --fn <name>=<command> or -- <command>",
        ));
    }
    for (i, f) in out.functions.iter().enumerate() {
        if out.functions[..i].iter().any(|g| g.name == f.name) {
            return Err(usage(format!("two functions are named {:?}", f.name)));
        }
    }
    Ok(Parsed::Run(out))
}

fn number<T: std::str::FromStr>(flag: &str, value: &OsStr) -> Result<T, Error> {
    value
        .to_str()
        .and_then(|v| v.trim().replace('_', "").parse().ok())
        .ok_or_else(|| usage(format!("{flag} needs a whole number, not {value:?}")))
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

    fn parse_strs(args: &[&str]) -> Result<Parsed, Error> {
        parse(args.iter().map(OsString::from))
    }

    fn run(args: &[&str]) -> BenchArgs {
        match parse_strs(args).unwrap() {
            Parsed::Run(a) => a,
            Parsed::Help => panic!("help"),
        }
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

    #[test]
    fn no_pin() {
        assert_eq!(run(&["--no-pin", "--", "x"]).cpu, None);
    }

    #[test]
    fn help() {
        assert_eq!(parse_strs(&["--calls", "1", "-h"]).unwrap(), Parsed::Help);
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
