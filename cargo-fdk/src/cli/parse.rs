//! The parse: clap's, after the two rules this command line had before clap
//! (`precheck`), with the help and version printed, and the list of
//! commands for the help and the errors.

use std::ffi::OsString;

use clap::error::ErrorKind;
use clap::{CommandFactory as _, Parser};

use super::command::Cli;
use super::usage::{usage, usage_error};
use crate::error::{Error, Result};

/// The parsed command line, or `None` when the help or the version was
/// asked for, and printed.
pub(super) fn parse(args: &[OsString]) -> Result<Option<Cli>> {
    let command = args
        .first()
        .and_then(|a| a.to_str())
        .filter(|a| command_names().iter().any(|name| name == a));
    if let Some(name) = command
        && precheck(name, &args[1..])?
    {
        print_help(Some(name))?;
        return Ok(None);
    }
    let argv = std::iter::once(OsString::from("cargo-fdk")).chain(args.iter().cloned());
    match Cli::try_parse_from(argv) {
        Ok(cli) => Ok(Some(cli)),
        Err(err)
            if matches!(
                err.kind(),
                ErrorKind::DisplayHelp | ErrorKind::DisplayVersion
            ) =>
        {
            err.print()
                .map_err(|e| Error::new(format!("could not write the help: {e}")))?;
            Ok(None)
        }
        Err(err) => Err(match command {
            Some(name) => usage_error(name, &err),
            // `help` fails only on a name that is not UTF-8.
            None => no_command(
                &args
                    .get(usize::from(args.first().is_some_and(|a| a == "help")))
                    .map(|a| a.to_string_lossy())
                    .unwrap_or_default(),
            ),
        }),
    }
}

/// Two rules this command line had before clap, which clap has no setting
/// for, checked on a command's own arguments (up to `--`) before clap sees
/// them. Returns true when the command's help is asked for.
///
/// - `-h`/`--help` anywhere wins, over a mistake elsewhere and even where
///   it would be an option's value;
/// - an option's value may start with `-` (`--body -x`), but a separate
///   word that starts with `--` is not a value: `--tag --bin` lacks a tag,
///   as a `--tag` at the end does (`--tag=--x` is a value). A mistake
///   before it is the one reported, as clap would report it.
fn precheck(name: &str, args: &[OsString]) -> Result<bool> {
    let words: Vec<&OsString> = args.iter().take_while(|a| *a != "--").collect();
    if words.iter().any(|a| *a == "-h" || *a == "--help") {
        return Ok(true);
    }
    let cli = Cli::command();
    let Some(command) = cli.find_subcommand(name) else {
        return Ok(false);
    };
    let mut words = words.into_iter().enumerate();
    while let Some((at, word)) = words.next() {
        let Some(long) = word.to_str().and_then(|w| w.strip_prefix("--")) else {
            continue;
        };
        let takes_value = command
            .get_arguments()
            .any(|a| a.get_long() == Some(long) && a.get_action().takes_values());
        if takes_value
            && words
                .next()
                .is_none_or(|(_, value)| value.as_encoded_bytes().starts_with(b"--"))
        {
            let before = ["cargo-fdk", name].map(OsString::from);
            if let Err(err) = Cli::try_parse_from(before.into_iter().chain(args[..at].to_vec())) {
                return Err(usage_error(name, &err));
            }
            return Err(usage(name, format!("--{long} needs a value")));
        }
    }
    Ok(false)
}

/// Prints the help of `command`, or of `cargo fdk`, as `--help` does.
pub(super) fn print_help(command: Option<&str>) -> Result<()> {
    let argv = ["cargo-fdk"].into_iter().chain(command).chain(["--help"]);
    match Cli::try_parse_from(argv) {
        Err(err) if err.kind() == ErrorKind::DisplayHelp => err
            .print()
            .map_err(|e| Error::new(format!("could not write the help: {e}"))),
        Err(err) => Err(Error::new(err.render().to_string())),
        Ok(_) => Ok(()),
    }
}

/// The commands `--help` lists, in its order.
pub(super) fn command_names() -> Vec<String> {
    Cli::command()
        .get_subcommands()
        .filter(|c| !c.is_hide_set())
        .map(|c| c.get_name().to_owned())
        .collect()
}

/// `no command `NAME``, with the list of commands.
pub(super) fn no_command(name: &str) -> Error {
    Error::usage(format!(
        "no command `{name}` (commands: {})",
        command_names().join(", ")
    ))
}
