//! An OCI image from one static binary, with no daemon and no base image:
//! the layer, its config and manifest, an image layout directory, and one
//! `image.tar` that is both an OCI layout archive and a `docker load`
//! archive (the shape `docker save` writes since Docker 25).
//!
//! The image holds `/function/func` (0755) and `/tmp` (1777), runs
//! `/function/func` in `/function`, declares no volume and no user (the Fn
//! server runs it as 1000:1000 with a read-only root and a tmpfs `/tmp`).
//! Every byte depends only on the inputs: the same binary, reference,
//! labels and time give the same digests.
//!
//! ```
//! use std::collections::BTreeMap;
//! use cargo_fdk::oci::{Image, ImageSpec};
//! use cargo_fdk::reference::Reference;
//!
//! let spec = ImageSpec {
//!     binary: b"\x7fELF a static binary".to_vec(),
//!     reference: Reference::parse("hello:0.0.1")?,
//!     architecture: "amd64".into(),
//!     labels: BTreeMap::new(),
//!     created: 0,
//! };
//! let image = Image::build(&spec)?;
//! assert_eq!(image, Image::build(&spec)?);
//! assert!(image.manifest.digest.starts_with("sha256:"));
//! assert_eq!(image.config.digest, image.image_id());
//! # Ok::<(), cargo_fdk::Error>(())
//! ```

mod json;
mod tarball;

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::Path;

use flate2::{Compression, GzBuilder};
use sha2::{Digest as _, Sha256};

use crate::error::{Error, Result};
use crate::reference::Reference;
use json::{
    Config, Descriptor, DockerManifest, History, Index, Manifest, Platform, RootFs, RunConfig,
};
use tarball::TarWriter;

/// Media type of the image config.
pub const CONFIG_MEDIA_TYPE: &str = "application/vnd.oci.image.config.v1+json";
/// Media type of the gzip-compressed layer.
pub const LAYER_MEDIA_TYPE: &str = "application/vnd.oci.image.layer.v1.tar+gzip";
/// Media type of the manifest.
pub const MANIFEST_MEDIA_TYPE: &str = "application/vnd.oci.image.manifest.v1+json";
/// Media type of `index.json`.
pub const INDEX_MEDIA_TYPE: &str = "application/vnd.oci.image.index.v1+json";
/// Where the binary goes, and the entrypoint.
pub const ENTRYPOINT: &str = "/function/func";
/// The working directory.
pub const WORKING_DIR: &str = "/function";
/// `PATH`, as Docker sets it for `FROM scratch`.
pub const PATH_ENV: &str = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
/// The annotation skopeo's `oci:DIR:REF` matches (the tag).
pub const REF_NAME_ANNOTATION: &str = "org.opencontainers.image.ref.name";
/// The annotation containerd and Docker read (the full name).
pub const CONTAINERD_NAME_ANNOTATION: &str = "io.containerd.image.name";

/// What goes into an image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageSpec {
    /// The static executable, stored as `/function/func`.
    pub binary: Vec<u8>,
    /// The image's name and tag.
    pub reference: Reference,
    /// OCI architecture (`amd64`, `arm64`, …).
    pub architecture: String,
    /// Config labels.
    pub labels: BTreeMap<String, String>,
    /// Seconds since 1970 for every timestamp (see [`source_date_epoch`]).
    pub created: u64,
}

/// One content-addressed blob.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Blob {
    /// `sha256:<hex>` of `bytes`.
    pub digest: String,
    /// The content.
    pub bytes: Vec<u8>,
}

impl Blob {
    fn new(bytes: Vec<u8>) -> Blob {
        Blob {
            digest: sha256_digest(&bytes),
            bytes,
        }
    }

    /// The hex part of the digest, the blob's file name in a layout.
    pub fn hex(&self) -> &str {
        self.digest.trim_start_matches("sha256:")
    }

    /// Size in bytes.
    pub fn size(&self) -> u64 {
        self.bytes.len() as u64
    }

    /// Its path inside a layout: `blobs/sha256/<hex>`.
    pub fn layout_path(&self) -> String {
        format!("blobs/sha256/{}", self.hex())
    }
}

/// A built image, in memory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Image {
    /// The name and tag it carries.
    pub reference: Reference,
    /// The gzip-compressed layer.
    pub layer: Blob,
    /// `sha256:` of the uncompressed layer tar (the config's `diff_ids`).
    pub diff_id: String,
    /// Size of the uncompressed layer tar.
    pub uncompressed_size: u64,
    /// The config JSON.
    pub config: Blob,
    /// The manifest JSON.
    pub manifest: Blob,
    /// `index.json` of the layout.
    pub index: Vec<u8>,
    /// Docker's `manifest.json`, for `docker load`.
    pub docker_manifest: Vec<u8>,
}

/// `{"imageLayoutVersion":"1.0.0"}`, the `oci-layout` file.
pub const OCI_LAYOUT: &[u8] = br#"{"imageLayoutVersion":"1.0.0"}"#;

impl Image {
    /// Builds the layer, config, manifest and index for `spec`.
    pub fn build(spec: &ImageSpec) -> Result<Image> {
        let layer_tar = layer_tar(&spec.binary, spec.created)?;
        let diff_id = sha256_digest(&layer_tar);
        let layer = Blob::new(gzip(&layer_tar)?);
        let created = fn_emulator::rfc3339::format_unix_seconds(spec.created);
        let config = Config {
            created: created.clone(),
            architecture: spec.architecture.clone(),
            os: "linux",
            config: RunConfig {
                entrypoint: vec![ENTRYPOINT.to_owned()],
                env: vec![PATH_ENV.to_owned()],
                working_dir: WORKING_DIR.to_owned(),
                labels: spec.labels.clone(),
            },
            rootfs: RootFs {
                kind: "layers",
                diff_ids: vec![diff_id.clone()],
            },
            history: vec![History {
                created,
                created_by: format!("cargo fdk image: {ENTRYPOINT}"),
            }],
        };
        let config = Blob::new(to_json(&config)?);
        let manifest = Manifest {
            schema_version: 2,
            media_type: MANIFEST_MEDIA_TYPE,
            config: descriptor(CONFIG_MEDIA_TYPE, &config),
            layers: vec![descriptor(LAYER_MEDIA_TYPE, &layer)],
        };
        let manifest = Blob::new(to_json(&manifest)?);
        let mut manifest_descriptor = descriptor(MANIFEST_MEDIA_TYPE, &manifest);
        manifest_descriptor.platform = Some(Platform {
            architecture: spec.architecture.clone(),
            os: "linux",
        });
        manifest_descriptor.annotations = BTreeMap::from([
            (
                REF_NAME_ANNOTATION.to_owned(),
                spec.reference.tag().to_owned(),
            ),
            (
                CONTAINERD_NAME_ANNOTATION.to_owned(),
                spec.reference.normalized(),
            ),
        ]);
        let index = to_json(&Index {
            schema_version: 2,
            media_type: INDEX_MEDIA_TYPE,
            manifests: vec![manifest_descriptor],
        })?;
        let docker_manifest = to_json(&[DockerManifest {
            config: config.layout_path(),
            repo_tags: vec![spec.reference.to_string()],
            layers: vec![layer.layout_path()],
        }])?;
        Ok(Image {
            reference: spec.reference.clone(),
            layer,
            diff_id,
            uncompressed_size: layer_tar.len() as u64,
            config,
            manifest,
            index,
            docker_manifest,
        })
    }

    /// The Docker image ID: the config's digest.
    pub fn image_id(&self) -> &str {
        &self.config.digest
    }

    /// What a registry stores: layer, config and manifest, in bytes.
    pub fn compressed_size(&self) -> u64 {
        self.layer.size() + self.config.size() + self.manifest.size()
    }

    /// The blobs, in the order they are written.
    pub fn blobs(&self) -> [&Blob; 3] {
        [&self.layer, &self.config, &self.manifest]
    }

    /// Writes an OCI image layout into `dir` (created; an old layout there
    /// is replaced, anything else is left alone and refused).
    pub fn write_layout(&self, dir: &Path) -> Result<()> {
        if dir.exists() {
            let is_layout = dir.join("oci-layout").is_file();
            let is_empty = std::fs::read_dir(dir)
                .map_err(|err| Error::io("read", dir, &err))?
                .next()
                .is_none();
            if !(is_layout || is_empty) {
                return Err(Error::new(format!(
                    "{} exists and is not an image layout; not overwriting it",
                    dir.display()
                )));
            }
            std::fs::remove_dir_all(dir).map_err(|err| Error::io("remove", dir, &err))?;
        }
        let blobs = dir.join("blobs").join("sha256");
        std::fs::create_dir_all(&blobs).map_err(|err| Error::io("create", &blobs, &err))?;
        for blob in self.blobs() {
            write(&dir.join(blob.layout_path()), &blob.bytes)?;
        }
        write(&dir.join("oci-layout"), OCI_LAYOUT)?;
        write(&dir.join("index.json"), &self.index)
    }

    /// The archive: the layout's files plus `manifest.json`, so that
    /// `skopeo … oci-archive:`, `docker-archive:` and `docker load` all read it.
    pub fn archive(&self, mtime: u64) -> Result<Vec<u8>> {
        let mut tar = TarWriter::new(mtime);
        tar.dir("blobs/", 0o755)?;
        tar.dir("blobs/sha256/", 0o755)?;
        let mut blobs = self.blobs();
        blobs.sort_by(|a, b| a.digest.cmp(&b.digest));
        for blob in blobs {
            tar.file(&blob.layout_path(), 0o644, &blob.bytes)?;
        }
        tar.file("oci-layout", 0o644, OCI_LAYOUT)?;
        tar.file("index.json", 0o644, &self.index)?;
        tar.file("manifest.json", 0o644, &self.docker_manifest)?;
        tar.finish()
    }

    /// Writes [`Image::archive`] to `path` (through a temporary file, so a
    /// reader never sees half an archive).
    pub fn write_archive(&self, path: &Path, mtime: u64) -> Result<u64> {
        let bytes = self.archive(mtime)?;
        let partial = path.with_extension("tar.partial");
        write(&partial, &bytes)?;
        std::fs::rename(&partial, path).map_err(|err| Error::io("write", path, &err))?;
        Ok(bytes.len() as u64)
    }
}

/// The layer: `function/` (0755), `tmp/` (01777), `function/func` (0755),
/// owned by 0:0, every entry at `mtime`.
pub fn layer_tar(binary: &[u8], mtime: u64) -> Result<Vec<u8>> {
    let mut tar = TarWriter::new(mtime);
    tar.dir("function/", 0o755)?;
    tar.dir("tmp/", 0o1777)?;
    tar.file("function/func", 0o755, binary)?;
    tar.finish()
}

/// Gzip with a fixed header: mtime 0, no file name, OS "unknown" (255).
pub fn gzip(bytes: &[u8]) -> Result<Vec<u8>> {
    let mut encoder = GzBuilder::new()
        .mtime(0)
        .operating_system(255)
        .write(Vec::with_capacity(bytes.len() / 2), Compression::default());
    encoder
        .write_all(bytes)
        .and_then(|()| encoder.finish())
        .map_err(|err| Error::new(format!("cannot compress the layer: {err}")))
}

/// `sha256:<hex>` of `bytes`.
pub fn sha256_digest(bytes: &[u8]) -> String {
    let hash = Sha256::digest(bytes);
    let mut out = String::with_capacity(7 + 64);
    out.push_str("sha256:");
    for byte in hash.iter() {
        out.push(char::from(b"0123456789abcdef"[usize::from(byte >> 4)]));
        out.push(char::from(b"0123456789abcdef"[usize::from(byte & 0xf)]));
    }
    out
}

/// `SOURCE_DATE_EPOCH` (whole seconds since 1970) if set, else 0.
pub fn source_date_epoch() -> Result<u64> {
    match std::env::var("SOURCE_DATE_EPOCH") {
        Err(_) => Ok(0),
        Ok(text) if text.trim().is_empty() => Ok(0),
        Ok(text) => text.trim().parse().map_err(|_| {
            Error::new(format!(
                "SOURCE_DATE_EPOCH must be whole seconds since 1970, found `{text}`"
            ))
        }),
    }
}

fn descriptor(media_type: &'static str, blob: &Blob) -> Descriptor {
    Descriptor {
        media_type,
        digest: blob.digest.clone(),
        size: blob.size(),
        platform: None,
        annotations: BTreeMap::new(),
    }
}

fn to_json<T: serde::Serialize + ?Sized>(value: &T) -> Result<Vec<u8>> {
    serde_json::to_vec(value).map_err(|err| Error::new(format!("cannot write JSON: {err}")))
}

fn write(path: &Path, bytes: &[u8]) -> Result<()> {
    std::fs::write(path, bytes).map_err(|err| Error::io("write", path, &err))
}

#[cfg(test)]
mod tests;
