//! `cargo fdk new`: its options, and the function crate it creates.

use std::path::PathBuf;

use clap::Args;

use super::usage::usage;
use crate::error::{Error, Result};
use crate::scaffold::{FdkSource, NewFunction};

/// The options of `cargo fdk new`.
#[derive(Debug, Clone, Args)]
pub struct NewArgs {
    // Optional for clap: `run_new` says what is missing, as it always has.
    /// The new function's directory; it must not exist, or be empty
    #[arg(value_name = "path")]
    pub path: Option<PathBuf>,
    /// The function, package and binary name (default: the last
    /// component of <path>); lowercase letters, digits, `-`, `_`
    #[arg(
        long,
        value_name = "NAME",
        allow_hyphen_values = true,
        verbatim_doc_comment
    )]
    pub name: Option<String>,
    /// Depend on the FDK at DIR (a checkout's fdk/ directory)
    #[arg(long, value_name = "DIR", allow_hyphen_values = true)]
    pub fdk_path: Option<PathBuf>,
    /// Depend on fn-fdk VER from the registry
    /// (default: this repository's fdk/ when cargo-fdk was built from
    /// it and it is still there, else fn-fdk at cargo-fdk's version)
    #[arg(
        long,
        value_name = "VER",
        allow_hyphen_values = true,
        verbatim_doc_comment
    )]
    pub fdk_version: Option<String>,
}

/// `cargo fdk new`: a function crate.
pub(super) fn run_new(args: NewArgs) -> Result<()> {
    let dir = args.path.ok_or_else(|| {
        usage(
            "new",
            "give the new function's directory, e.g. `cargo fdk new hello`",
        )
    })?;
    let name = match args.name {
        Some(name) => name,
        None => dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .ok_or_else(|| {
                usage(
                    "new",
                    format!("cannot take a name from {}; use --name", dir.display()),
                )
            })?,
    };
    let fdk = match (args.fdk_path, args.fdk_version) {
        (Some(_), Some(_)) => {
            return Err(usage(
                "new",
                "--fdk-path and --fdk-version exclude each other",
            ));
        }
        (Some(path), None) => {
            let abs = path
                .canonicalize()
                .map_err(|err| Error::new(format!("--fdk-path {}: {err}", path.display())))?;
            if !abs.join("Cargo.toml").is_file() {
                return Err(Error::new(format!(
                    "--fdk-path {}: no Cargo.toml there",
                    path.display()
                )));
            }
            FdkSource::Path(abs)
        }
        (None, Some(version)) => FdkSource::Version(version),
        (None, None) => FdkSource::default_for_this_build(),
    };
    let new = NewFunction { dir, name, fdk };
    new.create()?;
    let source = match &new.fdk {
        FdkSource::Path(path) => format!("the FDK at {}", path.display()),
        FdkSource::Version(v) => format!("fn-fdk {v} from the registry"),
    };
    println!(
        "Created function `{}` in {} (with {source})",
        new.name,
        new.dir.display()
    );
    println!("  Cargo.toml  src/main.rs  func.yaml  Dockerfile  .dockerignore  .gitignore");
    println!(
        "Next: cd {} && cargo test && cargo fdk image",
        new.dir.display()
    );
    Ok(())
}
