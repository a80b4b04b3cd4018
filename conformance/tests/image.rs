//! `fdk-conformance run --image`: a function image run as the server runs
//! it. The images are OCI layouts made here around the conformance fixture
//! (built static: a FROM-scratch root has no libraries), its mode set by
//! the image's `Env`, as an image author would:
//!
//! * `good` passes the start-up cases;
//! * `needs-writable-cwd` never becomes ready, for the reason it fails on
//!   the real server (HS-ENV-6: a read-only root as uid 1000), while the
//!   same binary as a command starts;
//! * an image declaring a `VOLUME` is refused with the server's reason;
//! * an image whose layer was altered after it was made is refused, naming
//!   the blob and its digest.
//!
//! Needs root and util-linux (`prlimit`, `unshare`, `setpriv`): on a
//! developer's machine without them the test says so and skips; with `CI`
//! set it fails instead.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use fn_emulator::image::digest::sha256;

const HARNESS: &str = env!("CARGO_BIN_EXE_fdk-conformance");

#[path = "../fixtures/static_fixture.rs"]
mod static_fixture;

/// The fixture, static, built in this workspace's target directory
/// (`target/debug/fdk-conformance` → `target`).
fn static_fixture() -> PathBuf {
    let harness = PathBuf::from(HARNESS);
    let target = harness.parent().unwrap().parent().unwrap();
    static_fixture::static_fixture(target)
}

fn tar_of(files: &[(&str, &[u8], u32)]) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    for (path, bytes, mode) in files {
        let mut header = tar::Header::new_gnu();
        header.set_size(bytes.len() as u64);
        header.set_mode(*mode);
        header.set_uid(0);
        header.set_gid(0);
        header.set_mtime(0);
        header.set_cksum();
        builder.append_data(&mut header, path, *bytes).unwrap();
    }
    builder.into_inner().unwrap()
}

/// An OCI layout at `dir` holding `/function/func` = `binary`, with `env`
/// and, if given, a declared volume; returns the manifest's digest and the
/// layer's path.
fn layout(dir: &Path, binary: &[u8], env: &[&str], volume: Option<&str>) -> (String, PathBuf) {
    let layer = tar_of(&[("function/func", binary, 0o755)]);
    let volumes = volume.map_or(String::new(), |v| format!(r#","Volumes":{{"{v}":{{}}}}"#));
    let env: Vec<String> = env.iter().map(|e| format!("{e:?}")).collect();
    let config = format!(
        r#"{{"architecture":"amd64","os":"linux","config":{{"Entrypoint":["/function/func"],
            "WorkingDir":"/function","Env":[{}]{volumes}}}}}"#,
        env.join(",")
    );
    let (l, c) = (sha256(&layer), sha256(config.as_bytes()));
    let manifest = format!(
        r#"{{"schemaVersion":2,"config":{{"digest":"{c}","size":{}}},
            "layers":[{{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"{l}","size":{}}}]}}"#,
        config.len(),
        layer.len()
    );
    let m = sha256(manifest.as_bytes());
    let index = format!(
        r#"{{"schemaVersion":2,"manifests":[{{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"{m}","size":{}}}]}}"#,
        manifest.len()
    );
    let blob = |digest: &str| {
        dir.join("blobs/sha256")
            .join(digest.trim_start_matches("sha256:"))
    };
    std::fs::create_dir_all(dir.join("blobs/sha256")).unwrap();
    std::fs::write(dir.join("index.json"), index).unwrap();
    std::fs::write(blob(&m), manifest).unwrap();
    std::fs::write(blob(&c), config).unwrap();
    std::fs::write(blob(&l), layer).unwrap();
    (m, blob(&l))
}

fn run(args: &[&str]) -> (Option<i32>, String) {
    let Output {
        status,
        stdout,
        stderr,
    } = Command::new(HARNESS)
        .arg("run")
        .args(args)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&stdout),
        String::from_utf8_lossy(&stderr)
    );
    (status.code(), text)
}

#[test]
fn images_run_as_the_server_runs_them() {
    if let Some(why) = fn_emulator::image::container::missing_requirement() {
        assert!(
            std::env::var_os("CI").is_none_or(|v| v.is_empty()),
            "CI must run the image test, but: {why}"
        );
        eprintln!("skipped: the server's container cannot be built here: {why}");
        return;
    }
    let fixture = static_fixture();
    let binary = std::fs::read(&fixture).unwrap();
    let scratch = std::env::temp_dir().join(format!("fdk-image-test-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&scratch);

    let good = scratch.join("good");
    let (digest, _) = layout(&good, &binary, &["FIXTURE_MODE=good"], None);
    let (json, junit) = (scratch.join("out.json"), scratch.join("out.xml"));
    let (code, out) = run(&[
        "--image",
        good.to_str().unwrap(),
        "--only",
        "sock.",
        "--output",
        &format!("json={}", json.display()),
        "--output",
        &format!("junit={}", junit.display()),
    ]);
    assert_eq!(code, Some(0), "{out}");
    assert!(
        out.contains("container: the server's (uid and gid 1000"),
        "{out}"
    );
    assert!(out.contains("PASS MUST   sock.ready"), "{out}");
    // The outputs name the image and its digest, not the container's command.
    let json = std::fs::read_to_string(&json).unwrap();
    let summary: serde_json::Value = serde_json::from_str(json.lines().last().unwrap()).unwrap();
    assert_eq!(summary["function"], good.to_str().unwrap(), "{json}");
    assert_eq!(summary["image"]["digest"], digest.as_str(), "{json}");
    assert!(
        summary["image"]["container"]
            .as_str()
            .unwrap()
            .contains("uid and gid 1000")
    );
    let junit = std::fs::read_to_string(&junit).unwrap();
    assert!(
        junit.contains(&format!(
            "<property name=\"image_digest\" value=\"{digest}\"/>"
        )),
        "{junit}"
    );

    let writer = scratch.join("writer");
    layout(&writer, &binary, &["FIXTURE_MODE=needs-writable-cwd"], None);
    let (code, out) = run(&["--image", writer.to_str().unwrap(), "--only", "sock.ready"]);
    assert_eq!(code, Some(2), "{out}");
    assert!(out.contains("Read-only file system"), "{out}");
    // The same binary as a command, as this user: it starts.
    let as_command = Command::new(HARNESS)
        .args(["run", "--only", "sock.ready", "--"])
        .arg(&fixture)
        .arg("needs-writable-cwd")
        .current_dir(&scratch)
        .output()
        .unwrap();
    assert_eq!(as_command.status.code(), Some(0), "{as_command:?}");

    let volume = scratch.join("volume");
    layout(&volume, &binary, &[], Some("/data"));
    let (code, out) = run(&["--image", volume.to_str().unwrap()]);
    assert_eq!(code, Some(2), "{out}");
    assert!(
        out.contains("the Fn server would not run it: the image declares VOLUME /data"),
        "{out}"
    );

    // One byte of the binary changed after the image was made: refused
    // before anything runs, as a daemon refuses it.
    let altered = scratch.join("altered");
    let (_, layer) = layout(&altered, &binary, &["FIXTURE_MODE=good"], None);
    let mut bytes = std::fs::read(&layer).unwrap();
    let at = bytes.len() / 2;
    bytes[at] ^= 0x20;
    std::fs::write(&layer, bytes).unwrap();
    let (code, out) = run(&["--image", altered.to_str().unwrap(), "--only", "sock.ready"]);
    assert_eq!(code, Some(2), "{out}");
    assert!(
        out.contains("does not match its digest") && out.contains("damaged or was altered"),
        "{out}"
    );
    assert!(!out.contains("sock.ready"), "{out}");
    let _ = std::fs::remove_dir_all(&scratch);
}

/// `--docker` binds the harness's socket directory into the container and
/// watches the function's PID in /proc: a daemon reached over TCP (another
/// machine, perhaps) is refused with the reason, before anything is asked.
#[test]
fn docker_mode_refuses_a_daemon_over_tcp() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_fdk-conformance"))
        .args([
            "run",
            "--docker",
            "fixture:1",
            "--docker-host",
            "tcp://127.0.0.1:9",
        ])
        .output()
        .expect("fdk-conformance runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("--docker needs a daemon on this machine, through its unix socket"),
        "{stderr}"
    );
}
