//! `run --image REF`: the function an image holds, run as the server runs
//! it. The image is read and checked as the server checks it (one it would
//! refuse is refused, with its reason), unpacked, and its command started in
//! the server's container ([`fn_emulator::image::container`]); then the
//! cases run against it exactly as against a command.

use fn_emulator::image::container::{self, Container};
use fn_emulator::image::{Image, ImageError};

use super::Args;
use crate::Error;
use crate::report::ImageInfo;

/// Runs the suite against the image `reference`; see the module doc.
pub(super) fn run(args: &Args, reference: &str) -> Result<u8, Error> {
    if let Some(why) = container::missing_requirement() {
        return Err(Error::Usage(format!(
            "--image runs the image in the server's container, which cannot be built here: {why}"
        )));
    }
    let image_error = |e: ImageError| Error::Usage(format!("--image {reference}: {e}"));
    let image = Image::open(reference).map_err(image_error)?;
    if let Some(refused) = image.refused_by_server() {
        return Err(Error::Usage(format!(
            "--image {reference}: the Fn server would not run it: {refused}"
        )));
    }
    let container =
        Container::prepare().map_err(|e| Error::io("could not prepare the container", e))?;
    let rootfs = container.dir().join("rootfs");
    let unpacked = image.unpack(&rootfs).map_err(image_error)?;
    let name = image_name(reference);
    let command = container
        .command(&name, &rootfs, &image.config)
        .map_err(image_error)?;
    let (arch, os) = &image.config.platform;
    println!(
        "image {reference}: {}, {os}/{arch}, {} entries ({} bytes) unpacked; runs {:?} in {}",
        image.digest,
        unpacked.entries,
        unpacked.bytes,
        image.config.command(),
        image.config.working_dir()
    );
    let container_line = "the server's (uid and gid 1000, no capabilities, read-only root, \
         tmpfs /tmp with the socket directory at /tmp/iofs, no network, 50 processes, 350 files)";
    println!("container: {container_line}");
    let mut with_command = args.clone();
    with_command.image = None;
    with_command.image_info = Some(ImageInfo {
        reference: reference.to_owned(),
        digest: image.digest.clone(),
        container: container_line.to_owned(),
    });
    with_command.command = Some(command);
    // The container (and the unpacked root) stays until the run is over.
    let code = super::run(&with_command);
    drop(container);
    code
}

/// A short name for reports: the archive's or directory's file name.
fn image_name(reference: &str) -> String {
    let path = std::path::Path::new(reference);
    let base = if path.exists() {
        path
    } else {
        std::path::Path::new(reference.rsplit_once(':').map_or(reference, |(p, _)| p))
    };
    base.file_name()
        .map_or_else(|| "image".to_owned(), |n| n.to_string_lossy().into_owned())
}
