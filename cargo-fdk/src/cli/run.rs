//! `cargo fdk run`: its options, and the build handed to the local
//! stand-in for the Fn server ([`crate::server`]).

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Args;

use super::build::BuildTarget;
use super::report::thousands;
use crate::commands::{self, BuildOptions};
use crate::error::Result;

/// The options of `cargo fdk run`.
#[derive(Debug, Clone, Args)]
pub struct RunArgs {
    /// Which binary to build.
    #[command(flatten)]
    pub build: BuildTarget,
    /// Serve this binary instead of building one
    #[arg(long, value_name = "FILE", allow_hyphen_values = true)]
    pub binary: Option<PathBuf>,
    /// Where to listen
    #[arg(
        long,
        value_name = "HOST:PORT",
        default_value_t = crate::server::default_addr(),
        value_parser = host_port,
        allow_hyphen_values = true
    )]
    pub addr: SocketAddr,
    /// The app in trigger URLs
    #[arg(
        long,
        value_name = "NAME",
        default_value = "app",
        allow_hyphen_values = true
    )]
    pub app: String,
    /// Do not freeze the function between calls
    #[arg(long)]
    pub no_freeze: bool,
    /// Rebuild when the crate's files change (with --binary: restart when
    /// that file changes) and serve the new build; a failed build is shown
    /// and the last good one keeps serving
    #[arg(long, verbatim_doc_comment)]
    pub watch: bool,
    /// Run the function on the host as this user, not in the server's
    /// container (uid 1000, read-only root, no network; needs root)
    #[arg(long, verbatim_doc_comment)]
    pub no_sandbox: bool,
}

/// `--addr` of `run`: the message completes "--addr `VALUE` ".
fn host_port(value: &str) -> std::result::Result<SocketAddr, String> {
    value.parse().map_err(|_| "is not HOST:PORT".to_owned())
}

/// `cargo fdk run`: the function behind a local stand-in for the Fn server.
pub(super) fn run_function(args: RunArgs) -> Result<()> {
    let started = std::time::Instant::now();
    let build = BuildOptions::from(args.build);
    let watch = match (&args.binary, args.watch) {
        (_, false) => None,
        (Some(binary), true) => Some(crate::watch::Source::Binary(binary.clone())),
        (None, true) => Some(crate::watch::Source::Crate(build.clone())),
    };
    let (func, binary) = match args.binary {
        Some(binary) => (
            crate::funcfile::FuncFile::load(&build.function_dir())?,
            binary,
        ),
        None => {
            let (function, built) = commands::build(&build)?;
            println!(
                "Built {} ({} bytes, {})",
                built.path.display(),
                thousands(built.size),
                built.elf.linkage()
            );
            (function.func, built.path)
        }
    };
    crate::server::run(crate::server::RunOptions {
        binary,
        func,
        app: args.app,
        addr: args.addr,
        freeze: !args.no_freeze,
        started,
        watch,
        sandbox: !args.no_sandbox,
    })
}
