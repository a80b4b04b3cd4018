//! Usage errors: clap's error about a command's arguments as one line that
//! names the command.

use clap::error::{ContextKind, ContextValue, ErrorKind};

use crate::error::Error;

/// Clap's error about `command`'s arguments as one line,
/// `cargo fdk <command>: …`.
pub(super) fn usage_error(command: &str, err: &clap::Error) -> Error {
    let context = |kind| match err.get(kind) {
        Some(ContextValue::String(s)) => Some(s.as_str()),
        _ => None,
    };
    // `--tag <REF>` → `--tag`; `--nope=1` → `--nope`; a positional as it is.
    let arg = context(ContextKind::InvalidArg).map(|a| {
        if a.starts_with('-') {
            a.split([' ', '=']).next().unwrap_or(a)
        } else {
            a
        }
    });
    let message = match (err.kind(), arg) {
        (ErrorKind::UnknownArgument, Some(arg)) if arg.starts_with('-') => {
            format!("unknown option {arg}")
        }
        (ErrorKind::UnknownArgument, Some(arg)) => format!("unexpected argument `{arg}`"),
        (ErrorKind::InvalidValue, Some(arg)) => format!("{arg} needs a value"),
        (ErrorKind::TooManyValues, Some(arg)) => format!("{arg} takes no value"),
        (ErrorKind::MissingRequiredArgument, _) => match err.get(ContextKind::InvalidArg) {
            Some(ContextValue::Strings(missing)) => {
                let names: Vec<&str> = missing
                    .iter()
                    .map(|a| a.split([' ', '=']).next().unwrap_or(a))
                    .collect();
                format!("{} is required", names.join(", "))
            }
            _ => "a required option is missing".to_owned(),
        },
        (ErrorKind::ValueValidation, Some(arg)) => {
            let value = context(ContextKind::InvalidValue).unwrap_or_default();
            match std::error::Error::source(err) {
                Some(reason) => format!("{arg} `{value}` {reason}"),
                None => format!("{arg} `{value}` is not valid"),
            }
        }
        _ => {
            // Anything else: clap's own first line, without its `error: `.
            let text = err.render().to_string();
            let line = text.lines().next().unwrap_or_default();
            line.strip_prefix("error: ").unwrap_or(line).to_owned()
        }
    };
    usage(command, message)
}

/// A usage error that names the command.
pub(super) fn usage(command: &str, message: impl std::fmt::Display) -> Error {
    Error::usage(format!("cargo fdk {command}: {message}"))
}
