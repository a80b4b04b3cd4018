//! Reading images end to end: one image as a layout directory, an OCI
//! archive and a `docker save` archive; and the same image damaged in each
//! of its parts, refused with the reason.

use std::path::{Path, PathBuf};

use super::Image;
use super::digest::sha256;

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

fn hex(digest: &str) -> &str {
    digest.trim_start_matches("sha256:")
}

/// An image's files, both an OCI layout and a docker-archive, as `cargo fdk
/// image` writes it, with real digests and sizes; and the manifest's and
/// config's digests.
struct Files {
    files: Vec<(String, Vec<u8>)>,
    manifest: String,
    config: String,
    layer: String,
}

fn files() -> Files {
    let layer = layer_tar();
    let layer_digest = sha256(&layer);
    let config = format!(
        r#"{{"architecture":"amd64","os":"linux","config":{{"Entrypoint":["/function/func"],"WorkingDir":"/function"}},"rootfs":{{"type":"layers","diff_ids":["{layer_digest}"]}}}}"#
    )
    .into_bytes();
    let config_digest = sha256(&config);
    let manifest = format!(
        r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",
           "config":{{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"{config_digest}","size":{}}},
           "layers":[{{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"{layer_digest}","size":{}}}]}}"#,
        config.len(),
        layer.len()
    )
    .into_bytes();
    let manifest_digest = sha256(&manifest);
    let index = format!(
        r#"{{"schemaVersion":2,"manifests":[{{"mediaType":"application/vnd.oci.image.manifest.v1+json",
           "digest":"{manifest_digest}","size":{},"annotations":{{"org.opencontainers.image.ref.name":"0.0.1"}}}}]}}"#,
        manifest.len()
    );
    let docker = format!(
        r#"[{{"Config":"blobs/sha256/{}","RepoTags":["hello:0.0.1"],"Layers":["blobs/sha256/{}"]}}]"#,
        hex(&config_digest),
        hex(&layer_digest)
    );
    Files {
        files: vec![
            (
                "oci-layout".into(),
                br#"{"imageLayoutVersion":"1.0.0"}"#.to_vec(),
            ),
            ("index.json".into(), index.into_bytes()),
            ("manifest.json".into(), docker.into_bytes()),
            (format!("blobs/sha256/{}", hex(&manifest_digest)), manifest),
            (format!("blobs/sha256/{}", hex(&config_digest)), config),
            (format!("blobs/sha256/{}", hex(&layer_digest)), layer),
        ],
        manifest: manifest_digest,
        config: config_digest,
        layer: layer_digest,
    }
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("fn-image-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn write_layout(dir: &Path, files: &[(String, Vec<u8>)]) {
    for (name, bytes) in files {
        let path = dir.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, bytes).unwrap();
    }
}

fn write_tar(path: &Path, files: &[(String, Vec<u8>)], skip: &str) {
    let mut archive = tar::Builder::new(Vec::new());
    for (name, bytes) in files.iter().filter(|(name, _)| name != skip) {
        let mut header = tar::Header::new_gnu();
        header.set_size(bytes.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        archive.append_data(&mut header, name, &bytes[..]).unwrap();
    }
    std::fs::write(path, archive.into_inner().unwrap()).unwrap();
}

fn check(image: &Image, digest: &str, scratch: &Path) {
    assert_eq!(image.digest, digest);
    assert_eq!(image.config.command(), ["/function/func"]);
    assert_eq!(image.config.working_dir(), "/function");
    let rootfs = scratch.join(format!("rootfs-{}", hex(digest)));
    image.unpack(&rootfs).unwrap();
    assert_eq!(std::fs::read(rootfs.join("function/func")).unwrap(), b"hi");
    assert!(rootfs.join("tmp").is_dir());
}

#[test]
fn layouts_archives_and_docker_saves_are_read_alike() {
    let scratch = scratch("src");
    let image = files();
    let layout = scratch.join("layout");
    write_layout(&layout, &image.files);
    let tarball = scratch.join("image.tar");
    write_tar(&tarball, &image.files, "");
    let saved = scratch.join("saved.tar");
    write_tar(&saved, &image.files, "index.json");

    let dir = Image::open(layout.to_str().unwrap()).unwrap();
    check(&dir, &image.manifest, &scratch);
    let tagged = Image::open(format!("{}:0.0.1", tarball.display())).unwrap();
    check(&tagged, &image.manifest, &scratch);
    // Without an index the digest is the config's: the Docker image ID.
    let docker = Image::open(format!("{}:0.0.1", saved.display())).unwrap();
    check(&docker, &image.config, &scratch);

    let err = Image::open(format!("{}:9.9.9", tarball.display())).unwrap_err();
    assert!(err.0.contains("no image tagged 9.9.9"), "{err}");
    let err = Image::open(scratch.join("absent").to_str().unwrap()).unwrap_err();
    assert!(
        err.0
            .contains("neither an image layout directory nor an image archive"),
        "{err}"
    );
    let _ = std::fs::remove_dir_all(&scratch);
}

/// The image with the blob `digest` replaced by `bytes`, as a layout.
fn tampered(scratch: &Path, name: &str, digest: &str, bytes: &[u8]) -> String {
    let mut image = files();
    for (path, content) in &mut image.files {
        if path.ends_with(hex(digest)) {
            *content = bytes.to_vec();
        }
    }
    let dir = scratch.join(name);
    write_layout(&dir, &image.files);
    dir.to_string_lossy().into_owned()
}

#[test]
fn tampered_blobs_are_refused_with_the_reason() {
    let scratch = scratch("tampered");
    let good = files();
    let blob = |digest: &str| {
        good.files
            .iter()
            .find(|(path, _)| path.ends_with(hex(digest)))
            .map(|(_, bytes)| bytes.clone())
            .unwrap()
    };

    // The same size, one byte changed: the digest catches it.
    let mut layer = blob(&good.layer);
    let at = layer.len() - 1030;
    layer[at] ^= 1;
    let image = Image::open(tampered(&scratch, "layer", &good.layer, &layer)).unwrap();
    let err = image.unpack(&scratch.join("rootfs-layer")).unwrap_err();
    assert!(
        err.0.contains("does not match its digest")
            && err.0.contains(&good.layer)
            && err.0.contains("damaged or was altered"),
        "{err}"
    );
    assert!(!scratch.join("rootfs-layer/function/func").exists());

    // A config that says something else is refused before it is read.
    let config = String::from_utf8(blob(&good.config))
        .unwrap()
        .replace("/function/func", "/function/another");
    let err = Image::open(tampered(
        &scratch,
        "config",
        &good.config,
        config.as_bytes(),
    ))
    .unwrap_err();
    assert!(
        err.0.contains("holds") && err.0.contains("but the image declares"),
        "{err}"
    );
    let config = String::from_utf8(blob(&good.config))
        .unwrap()
        .replace("/function/func", "/function/fun2");
    let err = Image::open(tampered(
        &scratch,
        "config2",
        &good.config,
        config.as_bytes(),
    ))
    .unwrap_err();
    assert!(err.0.contains("does not match its digest"), "{err}");

    // A manifest cut short: its size is wrong before any digest is taken.
    let manifest = blob(&good.manifest);
    let err = Image::open(tampered(
        &scratch,
        "manifest",
        &good.manifest,
        &manifest[..manifest.len() - 1],
    ))
    .unwrap_err();
    assert!(err.0.contains("but the image declares"), "{err}");

    // A docker-archive's layer is checked by its name, as the layout's.
    let mut image = files();
    for (path, content) in &mut image.files {
        if path.ends_with(hex(&good.layer)) {
            *content = layer.clone();
        }
    }
    let saved = scratch.join("saved.tar");
    write_tar(&saved, &image.files, "index.json");
    let docker = Image::open(saved.to_str().unwrap()).unwrap();
    let err = docker.unpack(&scratch.join("rootfs-saved")).unwrap_err();
    assert!(err.0.contains("does not match its digest"), "{err}");

    // A descriptor that names no digest a daemon takes.
    let index = String::from_utf8(
        good.files
            .iter()
            .find(|(p, _)| p == "index.json")
            .map(|(_, b)| b.clone())
            .unwrap(),
    )
    .unwrap()
    .replace(&good.manifest, "sha256:../../../etc/passwd");
    let dir = scratch.join("index");
    write_layout(&dir, &good.files);
    std::fs::write(dir.join("index.json"), index).unwrap();
    let err = Image::open(dir.to_str().unwrap()).unwrap_err();
    assert!(err.0.contains("is not a digest"), "{err}");
    let _ = std::fs::remove_dir_all(&scratch);
}

/// A `docker save` of the older kind: layers at `<id>/layer.tar`, named by
/// no digest, so each is checked against the config's diff ID.
#[test]
fn legacy_docker_saves_are_checked_by_diff_id() {
    let scratch = scratch("legacy");
    let good = files();
    let blob = |digest: &str| {
        good.files
            .iter()
            .find(|(path, _)| path.ends_with(hex(digest)))
            .map(|(_, bytes)| bytes.clone())
            .unwrap()
    };
    let save = |layer: Vec<u8>, name: &str| {
        let manifest = format!(
            r#"[{{"Config":"{}.json","RepoTags":["hello:0.0.1"],"Layers":["0123/layer.tar"]}}]"#,
            hex(&good.config)
        );
        let files = vec![
            ("manifest.json".to_owned(), manifest.into_bytes()),
            (format!("{}.json", hex(&good.config)), blob(&good.config)),
            ("0123/layer.tar".to_owned(), layer),
        ];
        let path = scratch.join(name);
        write_tar(&path, &files, "");
        Image::open(path.to_str().unwrap()).unwrap()
    };
    let image = save(blob(&good.layer), "good.tar");
    check(&image, &good.config, &scratch);

    let mut layer = blob(&good.layer);
    let at = layer.len() - 1030;
    layer[at] ^= 1;
    let err = save(layer, "altered.tar")
        .unpack(&scratch.join("rootfs-altered"))
        .unwrap_err();
    assert!(
        err.0.contains("0123/layer.tar does not match its digest")
            && err.0.contains("its uncompressed tar hashes to"),
        "{err}"
    );
    let _ = std::fs::remove_dir_all(&scratch);
}

/// An image's parts must be regular files inside it: a blob that is a
/// symlink (to `/dev/zero`, which would be read without end) or a FIFO
/// (whose open would block), or a `docker save` path that leaves the
/// directory, is refused with the reason before anything is read from it.
#[test]
fn parts_that_are_not_files_inside_the_image_are_refused() {
    let scratch = scratch("hostile");
    let image = files();
    let blob = |layout: &Path, digest: &str| layout.join("blobs/sha256").join(hex(digest));

    let layout = scratch.join("symlinked");
    write_layout(&layout, &image.files);
    std::fs::remove_file(blob(&layout, &image.layer)).unwrap();
    std::os::unix::fs::symlink("/dev/zero", blob(&layout, &image.layer)).unwrap();
    let err = Image::open(layout.to_str().unwrap())
        .unwrap()
        .unpack(&scratch.join("rootfs-symlinked"))
        .unwrap_err();
    assert!(err.0.contains("is not a regular file"), "{err}");

    let layout = scratch.join("fifo");
    write_layout(&layout, &image.files);
    std::fs::remove_file(blob(&layout, &image.config)).unwrap();
    nix::unistd::mkfifo(
        &blob(&layout, &image.config),
        nix::sys::stat::Mode::from_bits_truncate(0o644),
    )
    .unwrap();
    let err = Image::open(layout.to_str().unwrap()).unwrap_err();
    assert!(err.0.contains("is not a regular file"), "{err}");

    for (name, layer) in [("absolute", "/dev/zero"), ("parent", "../outside.tar")] {
        let saved = scratch.join(name);
        let mut files = image.files.clone();
        files.retain(|(path, _)| path != "index.json");
        for (path, content) in &mut files {
            if path == "manifest.json" {
                *content = format!(
                    r#"[{{"Config":"blobs/sha256/{}","RepoTags":["hello:0.0.1"],"Layers":["{layer}"]}}]"#,
                    hex(&image.config)
                )
                .into_bytes();
            }
        }
        write_layout(&saved, &files);
        let err = Image::open(saved.to_str().unwrap()).unwrap_err();
        assert!(
            err.0.contains("must stay inside the image"),
            "{name}: {err}"
        );
    }
    let _ = std::fs::remove_dir_all(&scratch);
}
