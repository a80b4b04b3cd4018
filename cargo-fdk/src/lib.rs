//! `cargo fdk`: from a Rust crate to an image the Fn server runs, with no
//! Docker daemon and no base image.
//!
//! - [`scaffold`]: `cargo fdk new`, a function crate that passes its own test;
//! - [`build`]: a static release binary (musl, or gnu with `+crt-static`),
//!   checked by reading its ELF headers ([`elf`]);
//! - [`oci`]: the layer, config, manifest, image layout and the archive that
//!   is both an OCI archive and a `docker load` archive;
//! - [`funcfile`]: Fn's `func.yaml` (schema 20180708); [`reference`](mod@reference): image
//!   references; [`project`]: the crate as `cargo metadata` sees it;
//! - [`server`]: `cargo fdk run`, a local stand-in for the Fn server built
//!   on the server emulator (`fn-emulator`), with [`watch`] for `--watch`;
//!   [`invoke`]: one call to it;
//! - [`deploy`]: `cargo fdk deploy`, the image into a Docker daemon and the
//!   function into an Fn server, through their APIs;
//! - [`commands`] runs `build` and `image`; [`cli`] parses the command line.
//!
//! The binary `cargo-fdk` is [`cli::main`]; see `cargo-fdk/README.md` for
//! the path from `cargo fdk new` to a real Fn server.

pub mod build;
pub mod cli;
pub mod commands;
pub mod deploy;
pub mod elf;
pub mod error;
pub mod funcfile;
pub mod invoke;
pub mod oci;
pub mod project;
pub mod reference;
pub mod sandbox;
pub mod scaffold;
pub mod server;
#[cfg(test)]
mod testutil;
pub mod watch;

pub use error::{Error, Result};
