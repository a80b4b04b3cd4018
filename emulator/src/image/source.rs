//! Where an image's parts are: an OCI image layout (a directory, or the same
//! files in a tar: `oci-archive`) is read from `index.json` down; a
//! `docker-archive` (`docker save`) from `manifest.json`. A tarball that is
//! both (what `cargo fdk image` and Docker 25+ write) is read as a layout.
//! Every blob is checked against its digest and size as it is read
//! ([`super::digest`]).

use std::collections::BTreeMap;
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::digest::Expected;
use super::{ImageError, MAX_BLOB};

/// The OCI manifest media type.
pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
/// Docker's schema 2 manifest media type (a layout may hold one).
pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
/// The OCI index media type (a nested index picks a platform).
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
/// The annotation that names a manifest's tag in `index.json`.
const REF_NAME: &str = "org.opencontainers.image.ref.name";
/// The most `index.json`, `manifest.json`, a manifest or a config may hold.
pub(super) const MAX_JSON: u64 = 4 << 20;

/// Where the blobs are.
#[derive(Debug)]
pub(crate) enum Blobs {
    /// A layout directory: `blobs/<alg>/<hex>`.
    Dir(PathBuf),
    /// An archive: every regular file's path and (offset, size) in it.
    Tar(PathBuf, BTreeMap<String, (u64, u64)>),
}

/// A blob: its path in the layout or archive, and what it must be (the
/// roots, `index.json` and `manifest.json`, are named by no digest).
#[derive(Debug, Clone)]
pub(crate) struct BlobRef {
    path: String,
    expect: Option<Expected>,
}

impl BlobRef {
    /// A root document, which nothing names by digest.
    fn root(path: &str) -> Self {
        Self {
            path: path.to_owned(),
            expect: None,
        }
    }

    /// The blob a descriptor (`{"digest": …, "size": …}`) names.
    fn described(descriptor: &Value, what: &str) -> Result<Self, ImageError> {
        let digest = text(descriptor, "digest")
            .ok_or_else(|| ImageError::new(format!("{what} has no digest")))?;
        // The OCI spec requires the size; a descriptor without one is refused,
        // as containerd refuses it.
        let size = descriptor
            .get("size")
            .and_then(Value::as_u64)
            .ok_or_else(|| ImageError::new(format!("{what} ({digest}) declares no size")))?;
        Ok(Self {
            path: blob_path(digest)?,
            expect: Some(Expected::descriptor(digest, Some(size))?),
        })
    }
}

/// A layer: its blob, and whether it is gzip-compressed.
#[derive(Debug)]
pub(crate) struct Layer {
    pub(crate) blob: BlobRef,
    pub(crate) gzip: bool,
}

/// An image's parts, found.
#[derive(Debug)]
pub(crate) struct Found {
    pub(crate) digest: String,
    pub(crate) config: BlobRef,
    pub(crate) layers: Vec<Layer>,
    pub(crate) blobs: Blobs,
}

impl Blobs {
    /// The blob's bytes, if it holds at most `max`.
    pub(crate) fn read(&self, blob: &BlobRef, max: u64) -> Result<Vec<u8>, ImageError> {
        let too_big = |size: u64| {
            ImageError::new(format!(
                "{} holds {size} bytes, more than the {max} an image part may hold here",
                blob.path
            ))
        };
        let check_size = |size: u64| match &blob.expect {
            Some(expect) => expect.check_size(&blob.path, size),
            None => Ok(()),
        };
        let bytes = match self {
            Blobs::Dir(dir) => {
                let path = inside(dir, &blob.path)?;
                let file = open_regular(&path)?;
                let size = file.metadata().map(|m| m.len()).unwrap_or(0);
                check_size(size)?;
                if size > max {
                    return Err(too_big(size));
                }
                // No further than the size checked: a file that grows meanwhile is refused.
                read_at_most(file, size, size, &path.display().to_string())?
            }
            Blobs::Tar(archive, entries) => {
                let &(offset, size) = entries.get(&blob.path).ok_or_else(|| {
                    ImageError::new(format!("{} has no {}", archive.display(), blob.path))
                })?;
                check_size(size)?;
                if size > max {
                    return Err(too_big(size));
                }
                let mut file = File::open(archive).map_err(|e| {
                    ImageError::new(format!("cannot open {}: {e}", archive.display()))
                })?;
                std::io::Seek::seek(&mut file, std::io::SeekFrom::Start(offset)).map_err(|e| {
                    ImageError::new(format!("cannot read {}: {e}", archive.display()))
                })?;
                read_at_most(file.take(size), size, max, &blob.path)?
            }
        };
        // A file that changed between the size check and the read is caught here.
        if let Some(expect) = &blob.expect {
            expect.check_size(&blob.path, bytes.len() as u64)?;
            expect.check(&blob.path, &bytes)?;
        }
        Ok(bytes)
    }

    fn has(&self, path: &str) -> bool {
        match self {
            Blobs::Dir(dir) => dir.join(path).is_file(),
            Blobs::Tar(_, entries) => entries.contains_key(path),
        }
    }
}

/// `dir/rel`, where `rel` (a path an image's own JSON gives, such as a
/// `docker save` manifest's `Layers`) must stay inside `dir`: an absolute
/// path or a `..` is refused.
fn inside(dir: &Path, rel: &str) -> Result<PathBuf, ImageError> {
    use std::path::Component;
    let path = Path::new(rel);
    if rel.is_empty() || !path.components().all(|c| matches!(c, Component::Normal(_))) {
        return Err(ImageError::new(format!(
            "the image names {rel:?}: a part's path must stay inside the image"
        )));
    }
    Ok(dir.join(path))
}

/// Opens `path` if it is a regular file: a layout's blob that is a symlink
/// (to `/dev/zero`, say), a FIFO or a device is refused before it is read,
/// as is one that turns into something else between the look and the open.
fn open_regular(path: &Path) -> Result<File, ImageError> {
    use nix::fcntl::OFlag;
    use std::os::unix::fs::OpenOptionsExt;
    let not_regular = || {
        ImageError::new(format!(
            "{} is not a regular file (a symlink, FIFO or device is not a blob)",
            path.display()
        ))
    };
    let meta = std::fs::symlink_metadata(path)
        .map_err(|e| ImageError::new(format!("cannot open {}: {e}", path.display())))?;
    if !meta.file_type().is_file() {
        return Err(not_regular());
    }
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags((OFlag::O_NOFOLLOW | OFlag::O_NONBLOCK).bits())
        .open(path)
        .map_err(|e| ImageError::new(format!("cannot open {}: {e}", path.display())))?;
    match file.metadata() {
        Ok(m) if m.file_type().is_file() => Ok(file),
        _ => Err(not_regular()),
    }
}

fn read_at_most(reader: impl Read, size: u64, max: u64, what: &str) -> Result<Vec<u8>, ImageError> {
    // `size` was checked against `max`; a file that grew meanwhile stops there.
    let mut bytes = Vec::with_capacity(usize::try_from(size.min(max)).unwrap_or(0));
    reader
        .take(max.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|e| ImageError::new(format!("cannot read {what}: {e}")))?;
    if bytes.len() as u64 > max {
        return Err(ImageError::new(format!(
            "{what} holds more than {max} bytes"
        )));
    }
    Ok(bytes)
}

/// Finds the image `reference` names: `PATH` or `PATH:TAG`.
pub(crate) fn find(reference: &str) -> Result<Found, ImageError> {
    let (path, tag) = split_tag(reference);
    let blobs = if path.is_dir() {
        Blobs::Dir(path.clone())
    } else if path.is_file() {
        Blobs::Tar(path.clone(), tar_entries(&path)?)
    } else {
        return Err(ImageError::new(format!(
            "{} is neither an image layout directory nor an image archive",
            path.display()
        )));
    };
    if blobs.has("index.json") {
        from_layout(blobs, tag.as_deref())
    } else if blobs.has("manifest.json") {
        from_docker_archive(blobs, tag.as_deref())
    } else {
        Err(ImageError::new(format!(
            "{} has neither index.json (an OCI layout) nor manifest.json (docker save)",
            path.display()
        )))
    }
}

/// `PATH:TAG` → (PATH, TAG) when PATH exists and the whole does not.
fn split_tag(reference: &str) -> (PathBuf, Option<String>) {
    let whole = PathBuf::from(reference);
    if whole.exists() {
        return (whole, None);
    }
    match reference.rsplit_once(':') {
        Some((path, tag)) if !tag.contains('/') && Path::new(path).exists() => {
            (PathBuf::from(path), Some(tag.to_owned()))
        }
        _ => (whole, None),
    }
}

/// Every regular file of a tar archive: its normalized path, data offset
/// and size. Reads headers only.
fn tar_entries(archive: &Path) -> Result<BTreeMap<String, (u64, u64)>, ImageError> {
    let file = File::open(archive)
        .map_err(|e| ImageError::new(format!("cannot open {}: {e}", archive.display())))?;
    let mut tar = tar::Archive::new(file);
    let mut entries = BTreeMap::new();
    let bad = |e: std::io::Error| {
        ImageError::new(format!("{} is not a tar archive: {e}", archive.display()))
    };
    for entry in tar.entries_with_seek().map_err(bad)? {
        let entry = entry.map_err(bad)?;
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let path = entry.path().map_err(bad)?;
        let name = path.to_string_lossy().trim_start_matches("./").to_owned();
        entries.insert(name, (entry.raw_file_position(), entry.size()));
        if entries.len() > 100_000 {
            return Err(ImageError::new(format!(
                "{} holds more than 100000 files: not an image archive",
                archive.display()
            )));
        }
    }
    Ok(entries)
}

fn json(blobs: &Blobs, blob: &BlobRef) -> Result<Value, ImageError> {
    let bytes = blobs.read(blob, MAX_JSON)?;
    serde_json::from_slice(&bytes)
        .map_err(|e| ImageError::new(format!("{} is not JSON: {e}", blob.path)))
}

/// `sha256:<hex>` → `blobs/sha256/<hex>`, refusing anything that could
/// name a file outside the layout.
fn blob_path(digest: &str) -> Result<String, ImageError> {
    match digest.split_once(':') {
        Some((alg, hex))
            if !alg.is_empty()
                && alg.bytes().all(|b| b.is_ascii_alphanumeric())
                && !hex.is_empty()
                && hex.bytes().all(|b| b.is_ascii_hexdigit()) =>
        {
            Ok(format!("blobs/{alg}/{hex}"))
        }
        _ => Err(ImageError::new(format!("`{digest}` is not a digest"))),
    }
}

fn text<'a>(value: &'a Value, key: &str) -> Option<&'a str> {
    value.get(key).and_then(Value::as_str)
}

fn from_layout(blobs: Blobs, tag: Option<&str>) -> Result<Found, ImageError> {
    let mut index = json(&blobs, &BlobRef::root("index.json"))?;
    // A nested index (a multi-platform image) is followed to its first
    // linux/amd64 (or only) manifest.
    for _ in 0..4 {
        let manifests = index
            .get("manifests")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let chosen = match tag {
            Some(tag) => manifests
                .iter()
                .find(|m| m.get("annotations").and_then(|a| text(a, REF_NAME)) == Some(tag))
                .ok_or_else(|| ImageError::new(format!("the layout has no image tagged {tag}")))?,
            None if manifests.len() == 1 => &manifests[0],
            None if manifests.is_empty() => {
                return Err(ImageError::new("the layout's index.json lists no image"));
            }
            None => manifests
                .iter()
                .find(|m| {
                    m.get("platform").is_some_and(|p| {
                        text(p, "os") == Some("linux") && text(p, "architecture") == Some("amd64")
                    })
                })
                .ok_or_else(|| {
                    ImageError::new(format!(
                        "the layout holds {} images: name one as PATH:TAG",
                        manifests.len()
                    ))
                })?,
        };
        let manifest = BlobRef::described(chosen, "an index entry")?;
        let digest = text(chosen, "digest").unwrap_or_default().to_owned();
        let media = text(chosen, "mediaType").unwrap_or(OCI_MANIFEST);
        let doc = json(&blobs, &manifest)?;
        if media == OCI_INDEX {
            index = doc;
            continue;
        }
        if media != OCI_MANIFEST && media != DOCKER_MANIFEST {
            return Err(ImageError::new(format!(
                "unknown manifest media type {media}"
            )));
        }
        let config = doc
            .get("config")
            .ok_or_else(|| ImageError::new("the manifest has no config"))?;
        let config = BlobRef::described(config, "the manifest's config")?;
        let mut layers = Vec::new();
        for layer in doc
            .get("layers")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let digest =
                text(layer, "digest").ok_or_else(|| ImageError::new("a layer has no digest"))?;
            let media = text(layer, "mediaType").unwrap_or_default();
            if media.contains("zstd") {
                return Err(ImageError::new(format!(
                    "layer {digest} is zstd-compressed; only tar and tar+gzip are read"
                )));
            }
            layers.push(Layer {
                blob: BlobRef::described(layer, "a layer")?,
                gzip: media.ends_with("gzip"),
            });
        }
        return Ok(Found {
            digest,
            config,
            layers,
            blobs,
        });
    }
    Err(ImageError::new("index.json nests indexes too deeply"))
}

fn from_docker_archive(blobs: Blobs, tag: Option<&str>) -> Result<Found, ImageError> {
    let manifest = json(&blobs, &BlobRef::root("manifest.json"))?;
    let images = manifest.as_array().cloned().unwrap_or_default();
    let chosen = match tag {
        Some(tag) => images.iter().find(|i| {
            i.get("RepoTags")
                .and_then(Value::as_array)
                .is_some_and(|tags| {
                    tags.iter()
                        .filter_map(Value::as_str)
                        .any(|t| t == tag || t.rsplit_once(':').map(|(_, t)| t) == Some(tag))
                })
        }),
        None if images.len() == 1 => images.first(),
        None => None,
    }
    .ok_or_else(|| match tag {
        Some(tag) => ImageError::new(format!("the archive has no image tagged {tag}")),
        None => ImageError::new(format!(
            "the archive holds {} images: name one as FILE:TAG",
            images.len()
        )),
    })?;
    let config =
        text(chosen, "Config").ok_or_else(|| ImageError::new("manifest.json has no Config"))?;
    let config_path = config.trim_start_matches("./").to_owned();
    // The config's file name is its digest (`<hex>.json` or `blobs/sha256/<hex>`).
    let hex: String = config_path
        .rsplit('/')
        .next()
        .unwrap_or_default()
        .trim_end_matches(".json")
        .to_owned();
    let config = BlobRef {
        path: config_path,
        expect: Some(
            Expected::descriptor(&format!("sha256:{hex}"), None).map_err(|_| {
                ImageError::new(format!(
                    "the config's file name, {config}, is not its digest: it cannot be checked"
                ))
            })?,
        ),
    };
    // A layer is checked by its file name when that is its digest (Docker
    // 25+: `blobs/sha256/<hex>`), else by the config's diff ID for it.
    let diff_ids: Vec<String> = serde_json::from_slice::<Value>(&blobs.read(&config, MAX_JSON)?)
        .ok()
        .and_then(|c| c.get("rootfs")?.get("diff_ids")?.as_array().cloned())
        .unwrap_or_default()
        .iter()
        .filter_map(|d| d.as_str().map(str::to_owned))
        .collect();
    let mut layers = Vec::new();
    for (n, layer) in chosen
        .get("Layers")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        let path = layer
            .as_str()
            .ok_or_else(|| ImageError::new("a layer path is not text"))?
            .trim_start_matches("./")
            .to_owned();
        let mut blob = BlobRef::root(&path);
        // `docker save` writes plain tars; others gzip them: look.
        let gzip = blobs.read_prefix(&blob)?.starts_with(&[0x1f, 0x8b]);
        let named = path
            .strip_prefix("blobs/sha256/")
            .map(|hex| Expected::descriptor(&format!("sha256:{hex}"), None));
        blob.expect = Some(match (named, diff_ids.get(n)) {
            (Some(Ok(expect)), _) => expect,
            (_, Some(diff_id)) => Expected::diff_id(diff_id, gzip)?,
            _ => {
                return Err(ImageError::new(format!(
                    "layer {path} is named by no digest and the config has no diff ID for it: \
                     it cannot be checked"
                )));
            }
        });
        layers.push(Layer { blob, gzip });
    }
    Ok(Found {
        digest: format!("sha256:{hex}"),
        config,
        layers,
        blobs,
    })
}

impl Blobs {
    /// The first bytes of a blob (to tell gzip from tar).
    fn read_prefix(&self, blob: &BlobRef) -> Result<Vec<u8>, ImageError> {
        let open_err =
            |e: std::io::Error| ImageError::new(format!("cannot read {}: {e}", blob.path));
        let mut head = [0u8; 2];
        let n = match self {
            Blobs::Dir(dir) => open_regular(&inside(dir, &blob.path)?)?
                .read(&mut head)
                .map_err(open_err)?,
            Blobs::Tar(archive, entries) => {
                let &(offset, size) = entries
                    .get(&blob.path)
                    .ok_or_else(|| ImageError::new(format!("the archive has no {}", blob.path)))?;
                if size > MAX_BLOB {
                    return Err(ImageError::new(format!(
                        "{} is larger than {MAX_BLOB} bytes",
                        blob.path
                    )));
                }
                let mut file = File::open(archive).map_err(open_err)?;
                std::io::Seek::seek(&mut file, std::io::SeekFrom::Start(offset))
                    .map_err(open_err)?;
                file.take(size.min(2)).read(&mut head).map_err(open_err)?
            }
        };
        Ok(head[..n].to_vec())
    }
}
