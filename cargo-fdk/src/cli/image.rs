//! `cargo fdk image`: its options, and the report of the image written.

use std::path::PathBuf;

use clap::Args;

use super::build::BuildTarget;
use super::report::{describe_static, thousands};
use crate::commands::{self, BuildOptions, ImageOptions};
use crate::error::Result;

/// The options of `cargo fdk image`.
#[derive(Debug, Clone, Args)]
pub struct ImageArgs {
    /// Which binary to build.
    #[command(flatten)]
    pub build: BuildTarget,
    /// Use this static binary instead of building one
    #[arg(long, value_name = "FILE", allow_hyphen_values = true)]
    pub binary: Option<PathBuf>,
    /// The image reference, [registry/]name:tag (default: func.yaml's
    /// name and version, after $FN_REGISTRY/ when that is set)
    #[arg(
        long,
        value_name = "REF",
        allow_hyphen_values = true,
        verbatim_doc_comment
    )]
    pub tag: Option<String>,
    /// Write the layout and image.tar into DIR
    #[arg(long, value_name = "DIR", allow_hyphen_values = true)]
    pub out: Option<PathBuf>,
}

pub(super) fn run_image(args: ImageArgs) -> Result<()> {
    let options = ImageOptions {
        build: BuildOptions::from(args.build),
        binary: args.binary,
        tag: args.tag,
        out: args.out,
        version: None,
    };
    let report = commands::image(&options)?;
    let image = &report.image;
    let tag = image.reference.tag();
    let cwd = std::env::current_dir().unwrap_or_default();
    let show = |path: &std::path::Path| {
        path.strip_prefix(&cwd)
            .unwrap_or(path)
            .display()
            .to_string()
    };
    println!("Image    {}", image.reference);
    println!("digest   {} (manifest)", image.manifest.digest);
    println!(
        "id       {} (config; the Docker image ID)",
        image.image_id()
    );
    println!(
        "size     {} bytes compressed (layer {}), {} uncompressed",
        thousands(image.compressed_size()),
        thousands(image.layer.size()),
        thousands(image.uncompressed_size)
    );
    println!(
        "binary   {}, {} bytes, {}",
        show(&report.binary),
        thousands(report.binary_size),
        describe_static(&report.elf, report.target.as_ref())
    );
    println!(
        "layout   {}  (skopeo: oci:{}:{tag})",
        show(&report.layout),
        show(&report.layout)
    );
    println!(
        "archive  {}, {} bytes  (docker load -i; skopeo: oci-archive: or docker-archive:)",
        show(&report.archive),
        thousands(report.archive_size)
    );
    println!(
        "took     {:.1} ms from the binary to the image",
        report.elapsed.as_secs_f64() * 1000.0
    );
    Ok(())
}
