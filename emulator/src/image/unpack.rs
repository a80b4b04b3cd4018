//! Layers applied to a directory as a container runtime applies them: in
//! order, each a tar (optionally gzip), with OCI whiteouts (`.wh.NAME`
//! deletes NAME of the layers below, `.wh..wh..opq` empties its directory of
//! them). Writing is the `tar` crate's `unpack_in`, which never writes
//! outside the directory (no `..`, no absolute paths, no writing through a
//! link that leaves it); ownership and modes are kept (as root), so uid 1000
//! reads what the image lets it read.

use std::io::Read;
use std::path::{Component, Path, PathBuf};

use super::ImageError;

/// The whiteout prefix.
const WHITEOUT: &str = ".wh.";
/// The opaque-directory marker.
const OPAQUE: &str = ".wh..wh..opq";

/// How much an unpack may still write.
#[derive(Debug)]
pub(crate) struct Budget {
    bytes_left: u64,
    entries_left: u64,
    unpacked: Unpacked,
}

/// What an unpack wrote.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Unpacked {
    /// Regular files' bytes.
    pub bytes: u64,
    /// Entries written (files, directories, links).
    pub entries: u64,
    /// Device nodes and FIFOs skipped (a container gets its own `/dev`).
    pub skipped_special: u64,
}

impl Budget {
    pub(crate) fn new(bytes: u64, entries: u64) -> Self {
        Self {
            bytes_left: bytes,
            entries_left: entries,
            unpacked: Unpacked::default(),
        }
    }

    pub(crate) fn into_unpacked(self) -> Unpacked {
        self.unpacked
    }

    fn take(&mut self, size: u64, what: &Path) -> Result<(), ImageError> {
        if self.entries_left == 0 {
            return Err(ImageError::new("the image unpacks to too many files"));
        }
        if size > self.bytes_left {
            return Err(ImageError::new(format!(
                "the image unpacks to too many bytes (at {})",
                what.display()
            )));
        }
        self.entries_left -= 1;
        self.bytes_left -= size;
        self.unpacked.entries += 1;
        self.unpacked.bytes += size;
        Ok(())
    }
}

/// A layer's tar stream, decompressed if `gzip`. A gzip layer may be
/// several gzip members one after another (umoci and other parallel
/// compressors write one per block); Docker's reader takes them all as one
/// stream, so this does too.
fn entries_of(bytes: &[u8], gzip: bool) -> Box<dyn Read + '_> {
    if gzip {
        Box::new(flate2::read::MultiGzDecoder::new(bytes))
    } else {
        Box::new(bytes)
    }
}

/// `path` inside the image, made relative and checked: no `..`.
fn inside(path: &Path) -> Result<PathBuf, ImageError> {
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            Component::Normal(p) => out.push(p),
            Component::CurDir | Component::RootDir => {}
            Component::ParentDir | Component::Prefix(_) => {
                return Err(ImageError::new(format!(
                    "a layer names {}, outside the image",
                    path.display()
                )));
            }
        }
    }
    Ok(out)
}

/// Applies one layer to `rootfs`.
pub(crate) fn apply_layer(
    bytes: &[u8],
    gzip: bool,
    rootfs: &Path,
    budget: &mut Budget,
) -> Result<(), ImageError> {
    std::fs::create_dir_all(rootfs)
        .map_err(|e| ImageError::new(format!("cannot create {}: {e}", rootfs.display())))?;
    let bad = |e: std::io::Error| ImageError::new(format!("a layer is not a readable tar: {e}"));
    // Pass 1: the whiteouts delete what the layers below wrote.
    let mut archive = tar::Archive::new(entries_of(bytes, gzip));
    for entry in archive.entries().map_err(bad)? {
        let entry = entry.map_err(bad)?;
        let path = inside(&entry.path().map_err(bad)?)?;
        let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        if name == OPAQUE {
            let dir = rootfs.join(path.parent().unwrap_or(Path::new("")));
            if let Ok(children) = std::fs::read_dir(&dir) {
                for child in children.flatten() {
                    remove(&child.path())?;
                }
            }
        } else if let Some(target) = name.strip_prefix(WHITEOUT) {
            remove(&rootfs.join(path.with_file_name(target)))?;
        }
    }
    // Pass 2: everything else.
    let mut archive = tar::Archive::new(entries_of(bytes, gzip));
    archive.set_preserve_permissions(true);
    archive.set_preserve_ownerships(is_root());
    archive.set_unpack_xattrs(false);
    archive.set_overwrite(true);
    for entry in archive.entries().map_err(bad)? {
        let mut entry = entry.map_err(bad)?;
        let path = inside(&entry.path().map_err(bad)?)?;
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        if name.starts_with(WHITEOUT) || path.as_os_str().is_empty() {
            continue;
        }
        let kind = entry.header().entry_type();
        if kind.is_character_special() || kind.is_block_special() || kind.is_fifo() {
            budget.unpacked.skipped_special += 1;
            continue;
        }
        let size = if kind.is_file() { entry.size() } else { 0 };
        budget.take(size, &path)?;
        // A directory that replaces a file, or the other way round.
        if let Ok(meta) = std::fs::symlink_metadata(rootfs.join(&path))
            && (meta.is_dir() != kind.is_dir())
        {
            remove(&rootfs.join(&path))?;
        }
        entry.unpack_in(rootfs).map_err(|e| {
            let cause = std::error::Error::source(&e)
                .map(|c| format!(" ({c})"))
                .unwrap_or_default();
            ImageError::new(format!("cannot unpack {}: {e}{cause}", path.display()))
        })?;
    }
    Ok(())
}

/// Removes a file, link or directory tree, if there.
fn remove(path: &Path) -> Result<(), ImageError> {
    let result = match std::fs::symlink_metadata(path) {
        Err(_) => return Ok(()),
        Ok(meta) if meta.is_dir() => std::fs::remove_dir_all(path),
        Ok(_) => std::fs::remove_file(path),
    };
    result.map_err(|e| ImageError::new(format!("cannot remove {}: {e}", path.display())))
}

/// The mount points the server's container needs, where the image has
/// none: `/tmp` (1777), `/proc`, `/dev`, `/sys`.
pub(crate) fn mount_points(rootfs: &Path) -> Result<(), ImageError> {
    use std::os::unix::fs::PermissionsExt as _;
    for (dir, mode) in [
        ("tmp", 0o1777),
        ("proc", 0o555),
        ("dev", 0o755),
        ("sys", 0o555),
    ] {
        let path = rootfs.join(dir);
        if std::fs::symlink_metadata(&path).is_err() {
            std::fs::create_dir(&path)
                .and_then(|()| {
                    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode))
                })
                .map_err(|e| ImageError::new(format!("cannot create {}: {e}", path.display())))?;
        }
    }
    // uid 1000 must be able to enter `/`.
    let meta = std::fs::metadata(rootfs)
        .map_err(|e| ImageError::new(format!("cannot read {}: {e}", rootfs.display())))?;
    let mode = meta.permissions().mode() | 0o755;
    std::fs::set_permissions(rootfs, std::fs::Permissions::from_mode(mode))
        .map_err(|e| ImageError::new(format!("cannot chmod {}: {e}", rootfs.display())))
}

fn is_root() -> bool {
    use std::os::unix::fs::MetadataExt as _;
    std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layer(entries: &[(&str, Option<&[u8]>)]) -> Vec<u8> {
        let mut builder = tar::Builder::new(Vec::new());
        for (path, data) in entries {
            let mut header = tar::Header::new_gnu();
            header.set_uid(0);
            header.set_gid(0);
            header.set_mtime(0);
            match data {
                Some(bytes) => {
                    header.set_entry_type(tar::EntryType::Regular);
                    header.set_size(bytes.len() as u64);
                    header.set_mode(0o644);
                    header.set_cksum();
                    builder.append_data(&mut header, path, *bytes).unwrap();
                }
                None => {
                    header.set_entry_type(tar::EntryType::Directory);
                    header.set_size(0);
                    header.set_mode(0o755);
                    header.set_cksum();
                    builder.append_data(&mut header, path, &[][..]).unwrap();
                }
            }
        }
        builder.into_inner().unwrap()
    }

    #[test]
    fn layers_apply_in_order_with_whiteouts() {
        let root = std::env::temp_dir().join(format!("fn-unpack-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        let mut budget = Budget::new(1 << 20, 100);
        let lower = layer(&[
            ("etc/", None),
            ("etc/a", Some(b"a")),
            ("etc/b", Some(b"b")),
            ("data/", None),
            ("data/old", Some(b"old")),
        ]);
        apply_layer(&lower, false, &root, &mut budget).unwrap();
        let upper = layer(&[
            ("etc/.wh.a", Some(b"")),
            ("data/.wh..wh..opq", Some(b"")),
            ("data/new", Some(b"new")),
        ]);
        // Gzip the upper one, as registries serve layers, in two gzip
        // members, as parallel compressors (umoci's) write them: a reader
        // that stops after the first member sees a truncated tar.
        let (head, tail) = upper.split_at(700);
        let mut gzipped = Vec::new();
        for part in [head, tail] {
            let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            std::io::Write::write_all(&mut gz, part).unwrap();
            gzipped.extend(gz.finish().unwrap());
        }
        apply_layer(&gzipped, true, &root, &mut budget).unwrap();
        assert!(!root.join("etc/a").exists());
        assert_eq!(std::fs::read(root.join("etc/b")).unwrap(), b"b");
        assert!(!root.join("data/old").exists());
        assert_eq!(std::fs::read(root.join("data/new")).unwrap(), b"new");
        mount_points(&root).unwrap();
        assert!(
            root.join("tmp").is_dir() && root.join("proc").is_dir() && root.join("sys").is_dir()
        );
        let _ = std::fs::remove_dir_all(&root);
    }

    #[test]
    fn escapes_and_budgets_are_refused() {
        assert!(inside(Path::new("../etc/passwd")).is_err());
        assert_eq!(inside(Path::new("/./a/b")).unwrap(), Path::new("a/b"));
        let root = std::env::temp_dir().join(format!("fn-unpack-budget-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        let mut budget = Budget::new(3, 100);
        let big = layer(&[("f", Some(b"four"))]);
        let err = apply_layer(&big, false, &root, &mut budget).unwrap_err();
        assert!(err.0.contains("too many bytes"), "{err}");
        let mut budget = Budget::new(100, 1);
        let two = layer(&[("a", Some(b"1")), ("b", Some(b"2"))]);
        let err = apply_layer(&two, false, &root, &mut budget).unwrap_err();
        assert!(err.0.contains("too many files"), "{err}");
        let _ = std::fs::remove_dir_all(&root);
    }
}
