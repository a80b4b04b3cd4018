//! Where an image's parts are: an OCI image layout (a directory, or the same
//! files in a tar: `oci-archive`) is read from `index.json` down; a
//! `docker-archive` (`docker save`) from `manifest.json`. A tarball that is
//! both (what `cargo fdk image` and Docker 25+ write) is read as a layout.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::{ImageError, MAX_BLOB};

/// The OCI manifest media type.
pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
/// Docker's schema 2 manifest media type (a layout may hold one).
pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
/// The OCI index media type (a nested index picks a platform).
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
/// The annotation that names a manifest's tag in `index.json`.
const REF_NAME: &str = "org.opencontainers.image.ref.name";
/// The most `index.json`, `manifest.json` or a manifest may hold.
const MAX_JSON: u64 = 4 << 20;

/// Where the blobs are.
#[derive(Debug)]
pub(crate) enum Blobs {
    /// A layout directory: `blobs/<alg>/<hex>`.
    Dir(PathBuf),
    /// An archive: every regular file's path and (offset, size) in it.
    Tar(PathBuf, BTreeMap<String, (u64, u64)>),
}

/// A blob: its path in the layout or archive.
#[derive(Debug, Clone)]
pub(crate) struct BlobRef(String);

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
                blob.0
            ))
        };
        match self {
            Blobs::Dir(dir) => {
                let path = dir.join(&blob.0);
                let file = File::open(&path)
                    .map_err(|e| ImageError::new(format!("cannot open {}: {e}", path.display())))?;
                let size = file.metadata().map(|m| m.len()).unwrap_or(0);
                if size > max {
                    return Err(too_big(size));
                }
                read_at_most(file, size, max, &path.display().to_string())
            }
            Blobs::Tar(archive, entries) => {
                let &(offset, size) = entries.get(&blob.0).ok_or_else(|| {
                    ImageError::new(format!("{} has no {}", archive.display(), blob.0))
                })?;
                if size > max {
                    return Err(too_big(size));
                }
                let mut file = File::open(archive).map_err(|e| {
                    ImageError::new(format!("cannot open {}: {e}", archive.display()))
                })?;
                std::io::Seek::seek(&mut file, std::io::SeekFrom::Start(offset)).map_err(|e| {
                    ImageError::new(format!("cannot read {}: {e}", archive.display()))
                })?;
                read_at_most(file.take(size), size, max, &blob.0)
            }
        }
    }

    fn has(&self, path: &str) -> bool {
        match self {
            Blobs::Dir(dir) => dir.join(path).is_file(),
            Blobs::Tar(_, entries) => entries.contains_key(path),
        }
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
        .map_err(|e| ImageError::new(format!("{} is not JSON: {e}", blob.0)))
}

/// `sha256:<hex>` → `blobs/sha256/<hex>`, refusing anything that could
/// name a file outside the layout.
fn blob_path(digest: &str) -> Result<BlobRef, ImageError> {
    match digest.split_once(':') {
        Some((alg, hex))
            if !alg.is_empty()
                && alg.bytes().all(|b| b.is_ascii_alphanumeric())
                && !hex.is_empty()
                && hex.bytes().all(|b| b.is_ascii_hexdigit()) =>
        {
            Ok(BlobRef(format!("blobs/{alg}/{hex}")))
        }
        _ => Err(ImageError::new(format!("`{digest}` is not a digest"))),
    }
}

fn text<'a>(value: &'a Value, key: &str) -> Option<&'a str> {
    value.get(key).and_then(Value::as_str)
}

fn from_layout(blobs: Blobs, tag: Option<&str>) -> Result<Found, ImageError> {
    let mut index = json(&blobs, &BlobRef("index.json".into()))?;
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
        let digest = text(chosen, "digest")
            .ok_or_else(|| ImageError::new("an index entry has no digest"))?
            .to_owned();
        let media = text(chosen, "mediaType").unwrap_or(OCI_MANIFEST);
        let doc = json(&blobs, &blob_path(&digest)?)?;
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
            .and_then(|c| text(c, "digest"))
            .ok_or_else(|| ImageError::new("the manifest has no config"))?;
        let config = blob_path(config)?;
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
                blob: blob_path(digest)?,
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
    let manifest = json(&blobs, &BlobRef("manifest.json".into()))?;
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
    let config = BlobRef(config.trim_start_matches("./").to_owned());
    // The config's file name is its digest (`<hex>.json` or `blobs/sha256/<hex>`).
    let hex: String = config
        .0
        .rsplit('/')
        .next()
        .unwrap_or_default()
        .trim_end_matches(".json")
        .to_owned();
    let mut layers = Vec::new();
    for layer in chosen
        .get("Layers")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let path = layer
            .as_str()
            .ok_or_else(|| ImageError::new("a layer path is not text"))?;
        let blob = BlobRef(path.trim_start_matches("./").to_owned());
        // `docker save` writes plain tars; others gzip them: look.
        let head = blobs.read_prefix(&blob)?;
        layers.push(Layer {
            blob,
            gzip: head.starts_with(&[0x1f, 0x8b]),
        });
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
        let open_err = |e: std::io::Error| ImageError::new(format!("cannot read {}: {e}", blob.0));
        let mut head = [0u8; 2];
        let n = match self {
            Blobs::Dir(dir) => File::open(dir.join(&blob.0))
                .and_then(|mut f| f.read(&mut head))
                .map_err(open_err)?,
            Blobs::Tar(archive, entries) => {
                let &(offset, size) = entries
                    .get(&blob.0)
                    .ok_or_else(|| ImageError::new(format!("the archive has no {}", blob.0)))?;
                if size > MAX_BLOB {
                    return Err(ImageError::new(format!(
                        "{} is larger than {MAX_BLOB} bytes",
                        blob.0
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

#[cfg(test)]
mod tests {
    use super::super::Image;
    use std::path::Path;

    const LAYER: &str = "1111111111111111111111111111111111111111111111111111111111111111";
    const CONFIG: &str = "2222222222222222222222222222222222222222222222222222222222222222";
    const MANIFEST: &str = "3333333333333333333333333333333333333333333333333333333333333333";

    fn layer_tar() -> Vec<u8> {
        let mut builder = tar::Builder::new(Vec::new());
        let mut header = tar::Header::new_gnu();
        header.set_size(2);
        header.set_mode(0o755);
        header.set_uid(0);
        header.set_gid(0);
        header.set_mtime(0);
        header.set_cksum();
        builder
            .append_data(&mut header, "function/func", &b"hi"[..])
            .unwrap();
        builder.into_inner().unwrap()
    }

    /// The files of an image that is both an OCI layout and a docker-archive,
    /// as `cargo fdk image` writes it.
    fn files() -> Vec<(String, Vec<u8>)> {
        let config = br#"{"architecture":"amd64","os":"linux","config":{"Entrypoint":["/function/func"],"WorkingDir":"/function"}}"#;
        let manifest = format!(
            r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",
               "config":{{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:{CONFIG}","size":1}},
               "layers":[{{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"sha256:{LAYER}","size":1}}]}}"#
        );
        let index = format!(
            r#"{{"schemaVersion":2,"manifests":[{{"mediaType":"application/vnd.oci.image.manifest.v1+json",
               "digest":"sha256:{MANIFEST}","size":1,"annotations":{{"org.opencontainers.image.ref.name":"0.0.1"}}}}]}}"#
        );
        let docker = format!(
            r#"[{{"Config":"blobs/sha256/{CONFIG}","RepoTags":["hello:0.0.1"],"Layers":["blobs/sha256/{LAYER}"]}}]"#
        );
        vec![
            (
                "oci-layout".into(),
                br#"{"imageLayoutVersion":"1.0.0"}"#.to_vec(),
            ),
            ("index.json".into(), index.into_bytes()),
            ("manifest.json".into(), docker.into_bytes()),
            (format!("blobs/sha256/{MANIFEST}"), manifest.into_bytes()),
            (format!("blobs/sha256/{CONFIG}"), config.to_vec()),
            (format!("blobs/sha256/{LAYER}"), layer_tar()),
        ]
    }

    fn check(image: &Image, digest: &str, scratch: &Path) {
        assert_eq!(image.digest, format!("sha256:{digest}"));
        assert_eq!(image.config.command(), ["/function/func"]);
        assert_eq!(image.config.working_dir(), "/function");
        let rootfs = scratch.join(format!("rootfs-{digest}"));
        image.unpack(&rootfs).unwrap();
        assert_eq!(std::fs::read(rootfs.join("function/func")).unwrap(), b"hi");
        assert!(rootfs.join("tmp").is_dir());
    }

    #[test]
    fn layouts_archives_and_docker_saves_are_read_alike() {
        let scratch = std::env::temp_dir().join(format!("fn-image-src-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&scratch);
        let layout = scratch.join("layout");
        let mut archive = tar::Builder::new(Vec::new());
        let mut docker_only = tar::Builder::new(Vec::new());
        for (name, bytes) in files() {
            let path = layout.join(&name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, &bytes).unwrap();
            let mut header = tar::Header::new_gnu();
            header.set_size(bytes.len() as u64);
            header.set_mode(0o644);
            header.set_cksum();
            archive
                .append_data(&mut header.clone(), &name, &bytes[..])
                .unwrap();
            if name != "index.json" {
                docker_only
                    .append_data(&mut header, &name, &bytes[..])
                    .unwrap();
            }
        }
        let tarball = scratch.join("image.tar");
        std::fs::write(&tarball, archive.into_inner().unwrap()).unwrap();
        let saved = scratch.join("saved.tar");
        std::fs::write(&saved, docker_only.into_inner().unwrap()).unwrap();

        let dir = Image::open(layout.to_str().unwrap()).unwrap();
        check(&dir, MANIFEST, &scratch);
        let tagged = Image::open(format!("{}:0.0.1", tarball.display())).unwrap();
        check(&tagged, MANIFEST, &scratch);
        // Without an index the digest is the config's: the Docker image ID.
        let docker = Image::open(format!("{}:0.0.1", saved.display())).unwrap();
        check(&docker, CONFIG, &scratch);

        let err = Image::open(format!("{}:9.9.9", tarball.display())).unwrap_err();
        assert!(err.0.contains("no image tagged 9.9.9"), "{err}");
        let err = Image::open(scratch.join("absent").to_str().unwrap()).unwrap_err();
        assert!(
            err.0
                .contains("neither an image layout directory nor an image archive"),
            "{err}"
        );
        assert!(super::blob_path("sha256:../../etc").is_err());
        let _ = std::fs::remove_dir_all(&scratch);
    }
}
