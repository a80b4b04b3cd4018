//! `cargo fdk build`: the options that pick the binary (which `image`,
//! `run` and `deploy` share), the command's own options, and the command.

use std::path::PathBuf;

use clap::Args;

use super::report::{describe_static, thousands};
use crate::commands::{self, BuildOptions};
use crate::error::Result;

/// Which binary to build: the options `build`, `image` and `run` share.
#[derive(Debug, Clone, Default, Args)]
pub struct BuildTarget {
    /// The function's Cargo.toml (default ./Cargo.toml); func.yaml is
    /// read from the same directory
    #[arg(
        long,
        value_name = "PATH",
        allow_hyphen_values = true,
        verbatim_doc_comment
    )]
    pub manifest_path: Option<PathBuf>,
    /// The binary, when the package has several
    #[arg(long, value_name = "NAME", allow_hyphen_values = true)]
    pub bin: Option<String>,
    /// Build for TRIPLE (its standard library must be installed)
    #[arg(long, value_name = "TRIPLE", allow_hyphen_values = true)]
    pub target: Option<String>,
}

impl From<BuildTarget> for BuildOptions {
    fn from(args: BuildTarget) -> Self {
        BuildOptions {
            manifest_path: args.manifest_path,
            bin: args.bin,
            target: args.target,
        }
    }
}

/// The options of `cargo fdk build`.
#[derive(Debug, Clone, Args)]
pub struct BuildArgs {
    /// Which binary to build.
    #[command(flatten)]
    pub build: BuildTarget,
    /// Also copy the binary to FILE, mode 0755 (func.yaml's build
    /// step uses --out .fn/func for the Dockerfile)
    #[arg(
        long,
        value_name = "FILE",
        allow_hyphen_values = true,
        verbatim_doc_comment
    )]
    pub out: Option<PathBuf>,
}

/// `cargo fdk build`: a static release binary.
pub(super) fn run_build(args: BuildArgs) -> Result<()> {
    let options = BuildOptions::from(args.build);
    let (function, built) = commands::build(&options)?;
    println!(
        "Built {} ({}): {}, {} bytes",
        function.project.bin,
        function.func.name,
        built.path.display(),
        thousands(built.size)
    );
    println!("  {}", describe_static(&built.elf, Some(&built.target)));
    if let Some(out) = args.out {
        commands::copy_binary(&built.path, &out)?;
        println!("  copied to {}", out.display());
    }
    Ok(())
}
