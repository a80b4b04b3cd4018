//! The command line: `cargo fdk <command> [options]`, declared with clap's
//! derive API.
//!
//! [`Cli`] is the whole command line and [`Command`] has one variant per
//! subcommand, each with its options struct; [`main`] parses with clap, turns
//! clap's errors into this crate's one-line usage errors (exit 2) and runs the
//! command. A new subcommand is a new variant and the function that runs it.
//!
//! The parts, one a file:
//!
//! * `command`: [`Cli`], [`Command`], the help texts and [`HelpArgs`];
//! * `new`, `build`, `image`, `run`, `invoke`, `deploy`: one a subcommand,
//!   its options struct and the function that runs it ([`BuildTarget`],
//!   the options that pick the binary, is with `build`);
//! * `parse`: clap's parse with the two rules clap has no setting for, the
//!   help, and the list of commands;
//! * `usage`: clap's errors as this crate's one-line usage errors;
//! * `report`: how the commands word what they built ([`thousands`]).

mod build;
mod command;
mod deploy;
mod image;
mod invoke;
mod new;
mod parse;
mod report;
mod run;
mod usage;

use std::ffi::OsString;
use std::process::ExitCode;

use clap::CommandFactory as _;

use crate::error::{Error, Result};
use build::run_build;
use deploy::deploy_function;
use image::run_image;
use invoke::invoke_function;
use new::run_new;
use parse::{command_names, no_command, parse, print_help};
use run::run_function;

pub use build::{BuildArgs, BuildTarget};
pub use command::{Cli, Command, HelpArgs};
pub use deploy::DeployArgs;
pub use image::ImageArgs;
pub use invoke::InvokeArgs;
pub use new::NewArgs;
pub use report::thousands;
pub use run::RunArgs;

/// Runs the command line `args` (as `std::env::args_os()` gives it, the
/// program first) and returns the exit code: 0, 1 for a failure, 2 for a
/// usage mistake.
pub fn main<I>(args: I) -> ExitCode
where
    I: IntoIterator,
    I::Item: Into<OsString>,
{
    let mut args: Vec<OsString> = args.into_iter().skip(1).map(Into::into).collect();
    // `cargo fdk …` runs `cargo-fdk fdk …`.
    if args.first().is_some_and(|a| a == "fdk") {
        args.remove(0);
    }
    match dispatch(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err}");
            if err.is_usage() {
                eprintln!("(see cargo fdk --help)");
            }
            ExitCode::from(err.exit_code())
        }
    }
}

/// Parses `args` (after `cargo-fdk` and `fdk`) and runs the command.
fn dispatch(args: &[OsString]) -> Result<()> {
    let Some(cli) = parse(args)? else {
        return Ok(());
    };
    match cli.command {
        None => {
            eprint!("{}", Cli::command().render_help());
            Err(Error::usage("no command given"))
        }
        Some(Command::New(args)) => run_new(args),
        Some(Command::Build(args)) => run_build(args),
        Some(Command::Image(args)) => run_image(args),
        Some(Command::Run(args)) => run_function(args),
        Some(Command::Invoke(args)) => invoke_function(args),
        Some(Command::Deploy(args)) => deploy_function(args),
        Some(Command::Help(help)) => match help.command {
            None => print_help(None),
            Some(name) if command_names().contains(&name) => print_help(Some(&name)),
            Some(name) => Err(no_command(&name)),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn os(args: &[&str]) -> Vec<OsString> {
        args.iter().map(OsString::from).collect()
    }

    fn parsed(args: &[&str]) -> Command {
        parse(&os(args)).unwrap().unwrap().command.unwrap()
    }

    #[test]
    fn values_both_ways_defaults_and_the_last_one_wins() {
        let Command::Image(image) = parsed(&["image", "--tag", "a:1", "--out=dir", "--tag=b:2"])
        else {
            panic!("not image");
        };
        assert_eq!(image.tag.as_deref(), Some("b:2"));
        assert_eq!(image.out, Some(PathBuf::from("dir")));
        assert_eq!(image.build.manifest_path, None);
        let Command::Run(run) = parsed(&["run", "--no-freeze", "--app=x"]) else {
            panic!("not run");
        };
        assert!(run.no_freeze);
        assert_eq!(
            (run.app.as_str(), run.addr),
            ("x", crate::server::default_addr())
        );
        let Command::Invoke(invoke) = parsed(&["invoke", "-v", "--body", "-x"]) else {
            panic!("not invoke");
        };
        assert!(invoke.verbose);
        assert_eq!(invoke.body.as_deref(), Some("-x"));
        assert_eq!(
            (invoke.timeout, invoke.content_type.as_str()),
            (60, "text/plain")
        );
        assert_eq!(invoke.addr, "127.0.0.1:8080");
        let Command::New(new) = parsed(&["new", "hello", "--name=--odd"]) else {
            panic!("not new");
        };
        assert_eq!(new.path, Some(PathBuf::from("hello")));
        assert_eq!(new.name.as_deref(), Some("--odd"));
    }

    #[test]
    fn mistakes_are_one_line_that_names_the_command() {
        let message = |args: &[&str]| {
            let err = dispatch(&os(args)).unwrap_err();
            assert_eq!(err.exit_code(), 2, "{err}");
            err.message().to_owned()
        };
        assert_eq!(
            message(&["build", "--nope"]),
            "cargo fdk build: unknown option --nope"
        );
        assert_eq!(
            message(&["build", "--nope=1"]),
            "cargo fdk build: unknown option --nope"
        );
        assert_eq!(
            message(&["run", "--no-freeze=1"]),
            "cargo fdk run: --no-freeze takes no value"
        );
        assert_eq!(
            message(&["build", "--target", "--bin"]),
            "cargo fdk build: --target needs a value"
        );
        assert_eq!(
            message(&["build", "--nope", "--target", "--bin"]),
            "cargo fdk build: unknown option --nope"
        );
        assert_eq!(
            message(&["image", "--tag"]),
            "cargo fdk image: --tag needs a value"
        );
        assert_eq!(
            message(&["new", "a", "b"]),
            "cargo fdk new: unexpected argument `b`"
        );
        assert_eq!(
            message(&["invoke", "--timeout=0"]),
            "cargo fdk invoke: --timeout `0` is not a positive number of seconds"
        );
        assert_eq!(message(&["deploy"]), "cargo fdk deploy: --app is required");
        for args in [&["publish"][..], &["help", "publish"], &["-x"]] {
            assert_eq!(
                message(args),
                format!(
                    "no command `{}` (commands: new, build, image, run, invoke, deploy)",
                    args[args.len() - 1]
                )
            );
        }
        assert_eq!(message(&[]), "no command given");
    }

    #[test]
    fn help_and_version_are_not_mistakes() {
        for args in [
            &["image", "--help"][..],
            &["build", "--nope", "-h"],
            &["invoke", "--body", "-h"],
            &["help", "build"],
            &["help"],
            &["--help"],
            &["-V"],
        ] {
            assert_eq!(dispatch(&os(args)), Ok(()), "{args:?}");
        }
        let names: Vec<String> = Cli::command()
            .get_subcommands()
            .map(|c| c.get_name().to_owned())
            .collect();
        assert_eq!(command_names(), names[..6]);
    }

    #[test]
    fn run_and_invoke_refuse_bad_options_with_one_clear_line() {
        let err = dispatch(&os(&["run", "--addr", "nope"])).unwrap_err();
        assert!(
            err.is_usage() && err.message().contains("HOST:PORT"),
            "{err}"
        );
        let err = dispatch(&os(&["invoke", "--url", "ftp://x/", "--body", "a"])).unwrap_err();
        assert!(err.is_usage() && err.message().contains("http://"), "{err}");
        // Nothing listens on port 1: the message says what to start.
        let err = dispatch(&os(&[
            "invoke",
            "--url",
            "http://127.0.0.1:1/invoke/x",
            "--body",
            "a",
        ]))
        .unwrap_err();
        assert_eq!(err.exit_code(), 1);
        assert!(err.message().contains("cargo fdk run"), "{err}");
    }
}
