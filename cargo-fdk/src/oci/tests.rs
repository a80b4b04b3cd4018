use std::collections::BTreeMap;
use std::io::Read as _;

use serde_json::Value;

use super::*;
use crate::testutil::TempDir;

fn fake_binary() -> Vec<u8> {
    // A fixed, compressible "binary": the image code does not look inside.
    let mut bytes = b"\x7fELF\x02\x01\x01".to_vec();
    for i in 0..20_000u32 {
        bytes.extend_from_slice(&(i % 251).to_le_bytes());
    }
    bytes
}

fn spec(created: u64) -> ImageSpec {
    ImageSpec {
        binary: fake_binary(),
        reference: Reference::parse("hello:0.0.1").unwrap(),
        architecture: "amd64".into(),
        labels: BTreeMap::from([
            ("io.fnproject.fdk.version".into(), "fdk-rust/0.1.0".into()),
            ("org.opencontainers.image.title".into(), "hello".into()),
            ("org.opencontainers.image.version".into(), "0.0.1".into()),
        ]),
        created,
    }
}

fn json(bytes: &[u8]) -> Value {
    serde_json::from_slice(bytes).unwrap()
}

fn gunzip(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_end(&mut out)
        .unwrap();
    out
}

/// (path, mode, uid, gid, mtime, type, user name, group name, content)
type Entry = (
    String,
    u32,
    u64,
    u64,
    u64,
    tar::EntryType,
    Vec<u8>,
    Vec<u8>,
    Vec<u8>,
);

fn entries(tar_bytes: &[u8]) -> Vec<Entry> {
    let mut archive = tar::Archive::new(tar_bytes);
    let mut out = Vec::new();
    for entry in archive.entries().unwrap() {
        let mut entry = entry.unwrap();
        let h = entry.header().clone();
        let mut content = Vec::new();
        entry.read_to_end(&mut content).unwrap();
        out.push((
            String::from_utf8(entry.path_bytes().into_owned()).unwrap(),
            h.mode().unwrap(),
            h.uid().unwrap(),
            h.gid().unwrap(),
            h.mtime().unwrap(),
            h.entry_type(),
            h.username_bytes().unwrap_or_default().to_vec(),
            h.groupname_bytes().unwrap_or_default().to_vec(),
            content,
        ));
    }
    out
}

#[test]
fn the_same_input_gives_the_same_bytes_and_a_golden_digest() {
    let a = Image::build(&spec(0)).unwrap();
    let b = Image::build(&spec(0)).unwrap();
    assert_eq!(a, b);
    assert_eq!(a.archive(0).unwrap(), b.archive(0).unwrap());
    // Golden digests: any change to the layer tar, the gzip framing, the
    // config or the manifest shows up here. Update them only for an
    // intended change. The diff_id does not depend on the compressor; the
    // manifest digest also changes if miniz_oxide's output does.
    assert_eq!(
        a.diff_id,
        "sha256:ad1aad5e1bfdb9dfb6fe4fecd718d2e1b4e7c1ccc0c7555fec1f3a24263c5b62"
    );
    assert_eq!(
        a.manifest.digest,
        "sha256:c3d0a1b5336e6f92a77ab846a69af64fe79994f0ee9d3c82870680315a903fe7",
        "config {}\nlayer {}",
        String::from_utf8_lossy(&a.config.bytes),
        a.layer.digest
    );
}

#[test]
fn every_descriptor_matches_its_blob() {
    let image = Image::build(&spec(0)).unwrap();
    for blob in image.blobs() {
        assert_eq!(blob.digest, sha256_digest(&blob.bytes));
    }
    let manifest = json(&image.manifest.bytes);
    assert_eq!(manifest["schemaVersion"], 2);
    assert_eq!(manifest["mediaType"], MANIFEST_MEDIA_TYPE);
    assert_eq!(manifest["config"]["mediaType"], CONFIG_MEDIA_TYPE);
    assert_eq!(manifest["config"]["digest"], image.config.digest.as_str());
    assert_eq!(manifest["config"]["size"], image.config.size());
    let layers = manifest["layers"].as_array().unwrap();
    assert_eq!(layers.len(), 1);
    assert_eq!(layers[0]["mediaType"], LAYER_MEDIA_TYPE);
    assert_eq!(layers[0]["digest"], image.layer.digest.as_str());
    assert_eq!(layers[0]["size"], image.layer.size());

    let index = json(&image.index);
    assert_eq!(index["schemaVersion"], 2);
    assert_eq!(index["mediaType"], INDEX_MEDIA_TYPE);
    let m = &index["manifests"][0];
    assert_eq!(index["manifests"].as_array().unwrap().len(), 1);
    assert_eq!(m["mediaType"], MANIFEST_MEDIA_TYPE);
    assert_eq!(m["digest"], image.manifest.digest.as_str());
    assert_eq!(m["size"], image.manifest.size());
    assert_eq!(
        m["platform"],
        serde_json::json!({"architecture": "amd64", "os": "linux"})
    );
    assert_eq!(m["annotations"][REF_NAME_ANNOTATION], "0.0.1");
    assert_eq!(
        m["annotations"][CONTAINERD_NAME_ANNOTATION],
        "docker.io/library/hello:0.0.1"
    );
    assert_eq!(
        image.compressed_size(),
        image.layer.size() + image.config.size() + image.manifest.size()
    );
}

#[test]
fn diff_id_is_the_digest_of_the_uncompressed_layer() {
    let image = Image::build(&spec(0)).unwrap();
    let tar = gunzip(&image.layer.bytes);
    assert_eq!(image.diff_id, sha256_digest(&tar));
    assert_eq!(image.uncompressed_size, tar.len() as u64);
    assert_eq!(tar, layer_tar(&fake_binary(), 0).unwrap());
    let config = json(&image.config.bytes);
    assert_eq!(
        config["rootfs"],
        serde_json::json!({"type": "layers", "diff_ids": [image.diff_id]})
    );
    assert_ne!(image.diff_id, image.layer.digest);
}

#[test]
fn gzip_header_has_no_time_and_no_name() {
    let image = Image::build(&spec(1_700_000_000)).unwrap();
    let gz = &image.layer.bytes;
    assert_eq!(
        &gz[..4],
        &[0x1f, 0x8b, 8, 0],
        "magic, deflate, no FNAME/FCOMMENT/FEXTRA"
    );
    assert_eq!(&gz[4..8], &[0, 0, 0, 0], "mtime 0");
    assert_eq!(gz[9], 255, "OS unknown");
}

#[test]
fn layer_entries_modes_owners_and_times() {
    for created in [0, 1_700_000_000] {
        let image = Image::build(&spec(created)).unwrap();
        let got = entries(&gunzip(&image.layer.bytes));
        let want: Vec<(&str, u32, tar::EntryType, Vec<u8>)> = vec![
            ("function/", 0o755, tar::EntryType::Directory, vec![]),
            ("tmp/", 0o1777, tar::EntryType::Directory, vec![]),
            (
                "function/func",
                0o755,
                tar::EntryType::Regular,
                fake_binary(),
            ),
        ];
        assert_eq!(got.len(), want.len());
        for (entry, (path, mode, kind, content)) in got.into_iter().zip(want) {
            let (p, m, uid, gid, mtime, k, user, group, c) = entry;
            assert_eq!((p.as_str(), m, k), (path, mode, kind));
            assert_eq!((uid, gid, mtime), (0, 0, created), "{path}");
            assert!(user.is_empty() && group.is_empty(), "{path}");
            assert_eq!(c, content, "{path}");
        }
    }
}

#[test]
fn config_runs_the_function_with_no_volume_and_no_user() {
    let image = Image::build(&spec(0)).unwrap();
    let config = json(&image.config.bytes);
    assert_eq!(config["architecture"], "amd64");
    assert_eq!(config["os"], "linux");
    assert_eq!(config["created"], "1970-01-01T00:00:00Z");
    let run = config["config"].as_object().unwrap();
    assert_eq!(run["Entrypoint"], serde_json::json!(["/function/func"]));
    assert_eq!(run["WorkingDir"], "/function");
    assert_eq!(run["Env"], serde_json::json!([PATH_ENV]));
    assert_eq!(run["Labels"]["org.opencontainers.image.title"], "hello");
    assert_eq!(run["Labels"]["io.fnproject.fdk.version"], "fdk-rust/0.1.0");
    for absent in ["Volumes", "User", "Cmd", "ExposedPorts"] {
        assert!(!run.contains_key(absent), "{absent}");
    }
    assert_eq!(config["history"][0]["created"], "1970-01-01T00:00:00Z");
}

#[test]
fn source_date_epoch_sets_every_time_and_changes_the_digest() {
    let zero = Image::build(&spec(0)).unwrap();
    let later = Image::build(&spec(1_700_000_000)).unwrap();
    assert_ne!(zero.manifest.digest, later.manifest.digest);
    assert_ne!(zero.diff_id, later.diff_id);
    let config = json(&later.config.bytes);
    assert_eq!(config["created"], "2023-11-14T22:13:20Z");
    assert_eq!(config["history"][0]["created"], "2023-11-14T22:13:20Z");
    let archive = later.archive(1_700_000_000).unwrap();
    assert!(entries(&archive).iter().all(|e| e.4 == 1_700_000_000));
}

#[test]
fn the_archive_holds_the_layout_and_docker_manifest() {
    let image = Image::build(&spec(0)).unwrap();
    let archive = image.archive(0).unwrap();
    let entries = entries(&archive);
    let find = |path: &str| entries.iter().find(|e| e.0 == path).map(|e| e.8.clone());
    let paths: Vec<&str> = entries.iter().map(|e| e.0.as_str()).collect();
    assert_eq!(&paths[..2], ["blobs/", "blobs/sha256/"]);
    assert_eq!(&paths[5..], ["oci-layout", "index.json", "manifest.json"]);
    for entry in &entries {
        let want = if entry.0.ends_with('/') { 0o755 } else { 0o644 };
        assert_eq!((entry.1, entry.2, entry.3), (want, 0, 0), "{}", entry.0);
    }
    for blob in image.blobs() {
        assert_eq!(find(&blob.layout_path()).unwrap(), blob.bytes);
    }
    assert_eq!(find("oci-layout").unwrap(), OCI_LAYOUT);
    assert_eq!(find("index.json").unwrap(), image.index);
    let docker = json(&find("manifest.json").unwrap());
    let docker = docker.as_array().unwrap();
    assert_eq!(docker.len(), 1);
    assert_eq!(docker[0]["RepoTags"], serde_json::json!(["hello:0.0.1"]));
    let config_path = docker[0]["Config"].as_str().unwrap();
    assert_eq!(find(config_path).unwrap(), image.config.bytes);
    let layer_paths = docker[0]["Layers"].as_array().unwrap();
    assert_eq!(layer_paths.len(), 1);
    assert_eq!(
        find(layer_paths[0].as_str().unwrap()).unwrap(),
        image.layer.bytes
    );
}

#[test]
fn a_layout_on_disk_has_one_file_per_blob() {
    let tmp = TempDir::new("layout");
    let dir = tmp.path().join("layout");
    let image = Image::build(&spec(0)).unwrap();
    // A stale blob from an earlier image goes away.
    std::fs::create_dir_all(dir.join("blobs/sha256")).unwrap();
    std::fs::write(dir.join("oci-layout"), OCI_LAYOUT).unwrap();
    std::fs::write(dir.join("blobs/sha256/stale"), b"old").unwrap();
    image.write_layout(&dir).unwrap();
    let mut names: Vec<String> = std::fs::read_dir(dir.join("blobs/sha256"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    let mut want: Vec<String> = image.blobs().iter().map(|b| b.hex().to_owned()).collect();
    want.sort();
    assert_eq!(names, want);
    for name in &names {
        let bytes = std::fs::read(dir.join("blobs/sha256").join(name)).unwrap();
        assert_eq!(sha256_digest(&bytes), format!("sha256:{name}"));
    }
    assert_eq!(std::fs::read(dir.join("index.json")).unwrap(), image.index);
    assert_eq!(std::fs::read(dir.join("oci-layout")).unwrap(), OCI_LAYOUT);

    // Not a layout: refused, untouched.
    let other = tmp.path().join("other");
    std::fs::create_dir_all(&other).unwrap();
    std::fs::write(other.join("keep"), b"mine").unwrap();
    let err = image.write_layout(&other).unwrap_err().to_string();
    assert!(
        err.ends_with("exists and is not an image layout; not overwriting it"),
        "{err}"
    );
    assert_eq!(std::fs::read(other.join("keep")).unwrap(), b"mine");

    let tar_path = tmp.path().join("image.tar");
    let size = image.write_archive(&tar_path, 0).unwrap();
    assert_eq!(std::fs::read(&tar_path).unwrap(), image.archive(0).unwrap());
    assert_eq!(size, std::fs::metadata(&tar_path).unwrap().len());
}

#[test]
fn rfc3339_dates() {
    for (secs, want) in [
        (0, "1970-01-01T00:00:00Z"),
        (951_782_400, "2000-02-29T00:00:00Z"),
        (1_700_000_000, "2023-11-14T22:13:20Z"),
        (4_102_444_799, "2099-12-31T23:59:59Z"),
    ] {
        assert_eq!(fn_emulator::rfc3339::format_unix_seconds(secs), want);
    }
}
