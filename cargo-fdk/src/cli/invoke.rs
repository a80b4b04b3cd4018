//! `cargo fdk invoke`: its options, and the one call to `cargo fdk run`.

use std::path::PathBuf;

use clap::Args;

use crate::commands::BuildOptions;
use crate::error::{Error, Result};

/// The options of `cargo fdk invoke`.
#[derive(Debug, Clone, Args)]
pub struct InvokeArgs {
    /// The function's Cargo.toml, for its name (default ./Cargo.toml)
    #[arg(long, value_name = "PATH", allow_hyphen_values = true)]
    pub manifest_path: Option<PathBuf>,
    /// The whole URL instead (default http://<addr>/invoke/<name>)
    #[arg(long, value_name = "URL", allow_hyphen_values = true)]
    pub url: Option<String>,
    /// Where `cargo fdk run` listens
    #[arg(
        long,
        value_name = "HOST:PORT",
        default_value_t = crate::server::default_addr().to_string(),
        allow_hyphen_values = true
    )]
    pub addr: String,
    /// The request body (default: stdin, when it is not a terminal)
    #[arg(long, value_name = "TEXT", allow_hyphen_values = true)]
    pub body: Option<String>,
    /// The request's Content-Type
    #[arg(
        long,
        value_name = "TYPE",
        default_value = "text/plain",
        allow_hyphen_values = true
    )]
    pub content_type: String,
    /// How long to wait for the answer
    #[arg(
        long,
        value_name = "SECONDS",
        default_value_t = 60,
        value_parser = positive_seconds,
        allow_hyphen_values = true
    )]
    pub timeout: u64,
    /// Print the status line and headers on stderr
    #[arg(short, long)]
    pub verbose: bool,
}

/// `--timeout` of `invoke`: whole seconds, at least one.
fn positive_seconds(value: &str) -> std::result::Result<u64, String> {
    value
        .parse()
        .ok()
        .filter(|&t: &u64| t > 0)
        .ok_or_else(|| "is not a positive number of seconds".to_owned())
}

/// `cargo fdk invoke`: one call to `cargo fdk run`.
pub(super) fn invoke_function(args: InvokeArgs) -> Result<()> {
    let build = BuildOptions {
        manifest_path: args.manifest_path,
        ..BuildOptions::default()
    };
    let url = match args.url {
        Some(url) => url,
        None => {
            let func = crate::funcfile::FuncFile::load(&build.function_dir())?;
            format!("http://{}/invoke/{}", args.addr, func.name)
        }
    };
    let body = match args.body {
        Some(body) => body.into_bytes(),
        None => {
            use std::io::{IsTerminal, Read};
            let mut stdin = std::io::stdin();
            let mut all = Vec::new();
            if !stdin.is_terminal() {
                stdin
                    .read_to_end(&mut all)
                    .map_err(|e| Error::new(format!("could not read stdin: {e}")))?;
            }
            all
        }
    };
    let answer = crate::invoke::send(
        "POST",
        &url,
        &args.content_type,
        &body,
        std::time::Duration::from_secs(args.timeout),
    )?;
    if args.verbose {
        eprintln!("HTTP/1.1 {}", answer.status);
        for (k, v) in &answer.headers {
            eprintln!("{k}: {v}");
        }
    }
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    out.write_all(&answer.body)
        .and_then(|()| out.flush())
        .map_err(|e| Error::new(format!("could not write the answer: {e}")))?;
    if !(200..300).contains(&answer.status) {
        return Err(Error::new(match crate::invoke::server_message(&answer) {
            Some(message) => format!("the call answered {}: {message}", answer.status),
            None => format!("the call answered {}", answer.status),
        }));
    }
    Ok(())
}
