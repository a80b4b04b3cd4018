//! A function image as the server's daemon has it: read from what a
//! function author holds (an OCI image layout directory, an `oci-archive`
//! or a `docker-archive` tarball, which is what `docker save` and `cargo fdk
//! image` write), checked as the server checks it, and unpacked into a root
//! file system that the server's container can be built from.
//!
//! * [`source`]: finding the manifest, the config and the layers in a
//!   layout or an archive (`DIR[:TAG]`, `FILE[:TAG]`);
//! * [`config`]: what the server takes from the config: entrypoint and cmd,
//!   environment, working directory, and whether it refuses the image;
//! * [`digest`]: every blob checked against its digest and size before use;
//! * [`unpack`]: applying the layers in order, whiteouts honoured, into a
//!   directory, with every size from the image checked before it is held;
//! * [`container`]: the server's container around the unpacked image,
//!   without a daemon (`scripts/fn-sandbox.sh`, compiled in).
//!
//! ```no_run
//! use fn_emulator::image::Image;
//!
//! let image = Image::open("target/fdk-image/hello-0.0.1/image.tar")?;
//! image.refused_by_server().map_or(Ok(()), Err)?;
//! let rootfs = std::env::temp_dir().join("hello-rootfs");
//! image.unpack(&rootfs)?;
//! println!("{} runs {:?} in {}", image.digest, image.config.command(), image.config.working_dir());
//! # Ok::<(), fn_emulator::image::ImageError>(())
//! ```

pub mod config;
pub mod container;
pub mod digest;
pub mod source;
pub mod unpack;

#[cfg(test)]
mod tests;

use std::fmt;
use std::path::Path;

pub use config::ImageConfig;
use source::Blobs;

/// The most one blob (a layer, a config) may hold, compressed: far past any
/// function image, short of what a file from outside could make us hold.
pub const MAX_BLOB: u64 = 2 << 30;
/// The most an unpacked image may hold, in bytes.
pub const MAX_UNPACKED: u64 = 8 << 30;
/// The most entries (files, directories, links) an image may unpack to.
pub const MAX_ENTRIES: u64 = 1_000_000;

/// Why an image cannot be read or used.
#[derive(Debug)]
pub struct ImageError(pub String);

impl fmt::Display for ImageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ImageError {}

impl ImageError {
    pub(crate) fn new(message: impl Into<String>) -> Self {
        Self(message.into())
    }
}

/// An image, opened: its manifest digest, its config, and where its layers
/// are.
#[derive(Debug)]
pub struct Image {
    /// `sha256:…` of the manifest (what a registry or `docker images
    /// --digests` shows; for a `docker-archive` without an OCI index, of
    /// the config, which is the Docker image ID).
    pub digest: String,
    /// The config.
    pub config: ImageConfig,
    blobs: Blobs,
    layers: Vec<source::Layer>,
}

impl Image {
    /// Opens `reference`: a layout directory or an archive, optionally
    /// followed by `:TAG` to pick one of several images.
    pub fn open(reference: impl AsRef<str>) -> Result<Self, ImageError> {
        let found = source::find(reference.as_ref())?;
        let config = ImageConfig::parse(&found.blobs.read(&found.config, source::MAX_JSON)?)?;
        Ok(Self {
            digest: found.digest,
            config,
            blobs: found.blobs,
            layers: found.layers,
        })
    }

    /// Why the server would refuse to run it, if it would (a declared
    /// volume, say; images.md §0).
    pub fn refused_by_server(&self) -> Option<ImageError> {
        self.config.refused_by_server().map(ImageError::new)
    }

    /// Unpacks every layer, in order, into `rootfs` (created if missing),
    /// then makes the mount points the server's container needs (`/tmp`
    /// 1777, `/proc`, `/dev`) where the image has none, as Docker creates
    /// them at run time.
    pub fn unpack(&self, rootfs: &Path) -> Result<unpack::Unpacked, ImageError> {
        let mut budget = unpack::Budget::new(MAX_UNPACKED, MAX_ENTRIES);
        for layer in &self.layers {
            let bytes = self.blobs.read(&layer.blob, MAX_BLOB)?;
            unpack::apply_layer(&bytes, layer.gzip, rootfs, &mut budget)?;
        }
        unpack::mount_points(rootfs)?;
        Ok(budget.into_unpacked())
    }
}
