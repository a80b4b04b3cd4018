//! The `hello` example's image, checked with the tools a registry or runtime
//! would use, and run the way the Fn server runs it, without a daemon.
//!
//! Each test skips (saying why) when its tool is not installed, on a
//! developer's machine; with `CI` set a missing tool fails the test, and
//! `.ci/run` installs them (`apt-get install skopeo umoci oci-image-tool
//! bubblewrap`, a failure of which fails the run). The Docker check alone
//! stays opt-in (`FDK_TEST_DOCKER=1`), in CI too: it needs a daemon. The image
//! is built once per run: `examples/hello` as a static release binary.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeMap;
use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::os::unix::fs::{FileTypeExt as _, PermissionsExt as _};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use cargo_fdk::build;
use cargo_fdk::oci::{Image, ImageSpec};
use cargo_fdk::project::Project;
use cargo_fdk::reference::Reference;
use common::{TempDir, repo, stderr, stdout, target_dir, tool, tool_on};
use serde_json::Value;

const TAG: &str = "0.1.0";

struct Hello {
    image: Image,
    binary: Vec<u8>,
    dir: PathBuf,
}

impl Hello {
    fn layout(&self) -> PathBuf {
        self.dir.join("layout")
    }
    fn archive(&self) -> PathBuf {
        self.dir.join("image.tar")
    }
}

/// `examples/hello` built static and made into an image, once.
fn hello() -> &'static Hello {
    static HELLO: OnceLock<Hello> = OnceLock::new();
    HELLO.get_or_init(|| {
        let project = Project::load(&repo().join("examples/hello/Cargo.toml"), None, None).unwrap();
        let target = build::choose_target(&project.dir, None).unwrap();
        let built = build::build(&project, &target).unwrap();
        let binary = std::fs::read(&built.path).unwrap();
        let image = Image::build(&ImageSpec {
            binary: binary.clone(),
            reference: Reference::parse(&format!("hello:{TAG}")).unwrap(),
            architecture: built.elf.oci_architecture().unwrap().to_owned(),
            labels: BTreeMap::from([("org.opencontainers.image.title".into(), "hello".into())]),
            created: 0,
        })
        .unwrap();
        let dir = target_dir().join("cargo-fdk-tests").join("hello-image");
        std::fs::create_dir_all(&dir).unwrap();
        image.write_layout(&dir.join("layout")).unwrap();
        image.write_archive(&dir.join("image.tar"), 0).unwrap();
        eprintln!(
            "hello image: {} compressed, binary {} bytes ({}, {})",
            image.compressed_size(),
            binary.len(),
            built.elf.linkage(),
            built.target.triple
        );
        Hello { image, binary, dir }
    })
}

fn run(program: &Path, args: &[&str]) -> Output {
    let output = Command::new(program).args(args).output().unwrap();
    assert!(
        output.status.success(),
        "{} {args:?}: {:?}\n{}\n{}",
        program.display(),
        output.status,
        stdout(&output),
        stderr(&output)
    );
    output
}

fn json(output: &Output) -> Value {
    serde_json::from_slice(&output.stdout).unwrap()
}

/// A missing tool skips the test on a developer's machine and fails it
/// under CI, naming the tool and its package.
#[test]
fn a_missing_tool_skips_here_and_fails_under_ci() {
    let empty = TempDir::new("no-tools");
    let path = empty.path().as_os_str();
    assert_eq!(tool_on(Some(path), false, "skopeo", "skopeo", "x"), None);
    let failed = std::panic::catch_unwind(|| {
        tool_on(Some(path), true, "umoci", "umoci", "umoci unpack");
    });
    let message = failed.unwrap_err();
    let message = message
        .downcast_ref::<String>()
        .map(String::as_str)
        .unwrap_or_default();
    assert!(
        message.contains("`umoci` is not installed (apt-get install umoci)")
            && message.contains("CI is set"),
        "{message}"
    );
    // Found: the same answer either way.
    std::fs::write(empty.path().join("bwrap"), "").unwrap();
    assert!(tool_on(Some(path), true, "bwrap", "bubblewrap", "x").is_some());
}

#[test]
fn skopeo_inspects_all_three_views() {
    let Some(skopeo) = tool("skopeo", "skopeo", "skopeo inspect") else {
        return;
    };
    let hello = hello();
    let layout = format!("oci:{}:{TAG}", hello.layout().display());
    let oci_archive = format!("oci-archive:{}:{TAG}", hello.archive().display());
    let docker_archive = format!("docker-archive:{}", hello.archive().display());

    let info = json(&run(&skopeo, &["inspect", &layout]));
    assert_eq!(info["Digest"], hello.image.manifest.digest.as_str());
    assert_eq!(info["Architecture"], "amd64");
    assert_eq!(info["Os"], "linux");
    assert_eq!(info["Labels"]["org.opencontainers.image.title"], "hello");
    assert_eq!(info["Layers"][0], hello.image.layer.digest.as_str());

    let info = json(&run(&skopeo, &["inspect", &oci_archive]));
    assert_eq!(info["Digest"], hello.image.manifest.digest.as_str());

    for view in [&layout, &oci_archive, &docker_archive] {
        let config = json(&run(&skopeo, &["inspect", "--config", view]));
        assert_eq!(
            config["config"]["Entrypoint"],
            serde_json::json!(["/function/func"]),
            "{view}"
        );
        assert_eq!(config["config"]["WorkingDir"], "/function", "{view}");
        assert!(config["config"].get("Volumes").is_none(), "{view}");
        assert_eq!(
            config["rootfs"]["diff_ids"][0],
            hello.image.diff_id.as_str(),
            "{view}"
        );
    }
    let info = json(&run(&skopeo, &["inspect", &docker_archive]));
    assert_eq!(info["Layers"].as_array().map(Vec::len), Some(1));
}

#[test]
fn skopeo_copy_verifies_every_blob() {
    let Some(skopeo) = tool("skopeo", "skopeo", "skopeo copy") else {
        return;
    };
    let hello = hello();
    let tmp = TempDir::new("copy");
    let from_archive = format!("docker-archive:{}", hello.archive().display());
    let to = format!("oci:{}:x", tmp.path().join("from-archive").display());
    run(&skopeo, &["copy", "--quiet", &from_archive, &to]);
    // Layout to layout keeps the manifest byte for byte.
    let from_layout = format!("oci:{}:{TAG}", hello.layout().display());
    let to = format!("oci:{}:y", tmp.path().join("from-layout").display());
    run(&skopeo, &["copy", "--quiet", &from_layout, &to]);
    let index = std::fs::read_to_string(tmp.path().join("from-layout/index.json")).unwrap();
    assert!(index.contains(&hello.image.manifest.digest), "{index}");

    // A corrupted layer is caught: the check is real.
    let bad = tmp.path().join("bad");
    hello.image.write_layout(&bad).unwrap();
    let layer = bad.join(hello.image.layer.layout_path());
    let mut bytes = std::fs::read(&layer).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0xff;
    std::fs::write(&layer, bytes).unwrap();
    let output = Command::new(&skopeo)
        .args(["copy", "--quiet", &format!("oci:{}:{TAG}", bad.display())])
        .arg(format!("oci:{}:z", tmp.path().join("from-bad").display()))
        .output()
        .unwrap();
    assert!(!output.status.success(), "skopeo copied a corrupted layer");
}

#[test]
fn oci_image_tool_validates_the_layout() {
    let Some(oit) = tool(
        "oci-image-tool",
        "oci-image-tool",
        "oci-image-tool validate",
    ) else {
        return;
    };
    let hello = hello();
    let layout = hello.layout();
    let output = run(
        &oit,
        &[
            "validate",
            "--type",
            "image",
            "--ref",
            &format!("name={TAG}"),
            layout.to_str().unwrap(),
        ],
    );
    assert!(
        stdout(&output).contains("Validation succeeded"),
        "{}",
        stdout(&output)
    );
}

#[test]
fn umoci_unpacks_a_runnable_bundle() {
    let Some(umoci) = tool("umoci", "umoci", "umoci unpack") else {
        return;
    };
    let hello = hello();
    let tmp = TempDir::new("umoci");
    let bundle = tmp.path().join("bundle");
    let image = format!("{}:{TAG}", hello.layout().display());
    let mut args = vec!["unpack", "--image", &image];
    let rootless = !is_root();
    if rootless {
        args.push("--rootless");
    }
    let bundle_arg = bundle.to_str().unwrap().to_owned();
    args.push(&bundle_arg);
    run(&umoci, &args);
    let rootfs = bundle.join("rootfs");
    assert_eq!(
        std::fs::read(rootfs.join("function/func")).unwrap(),
        hello.binary
    );
    let mode = |p: &str| {
        std::fs::metadata(rootfs.join(p))
            .unwrap()
            .permissions()
            .mode()
            & 0o7777
    };
    assert_eq!(mode("function/func"), 0o755);
    assert_eq!(mode("function"), 0o755);
    assert_eq!(mode("tmp"), 0o1777);
    let config: Value =
        serde_json::from_slice(&std::fs::read(bundle.join("config.json")).unwrap()).unwrap();
    assert_eq!(
        config["process"]["args"],
        serde_json::json!(["/function/func"])
    );
    assert_eq!(config["process"]["cwd"], "/function");
}

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|ids| ids.split_whitespace().nth(1).map(|euid| euid == "0"))
        .unwrap_or(false)
}

/// A response: status, lowercased headers, body.
type Response = (u16, Vec<(String, String)>, Vec<u8>);

fn read_response(reader: &mut BufReader<UnixStream>) -> Response {
    let mut status_line = String::new();
    reader.read_line(&mut status_line).unwrap();
    let status: u16 = status_line.split(' ').nth(1).unwrap().parse().unwrap();
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        let (name, value) = line.split_once(':').unwrap();
        headers.push((name.to_ascii_lowercase(), value.trim().to_owned()));
    }
    let header = |n: &str| headers.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone());
    let mut body = Vec::new();
    if let Some(length) = header("content-length") {
        body.resize(length.parse().unwrap(), 0);
        reader.read_exact(&mut body).unwrap();
    } else if header("transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked")) {
        loop {
            let mut size = String::new();
            reader.read_line(&mut size).unwrap();
            let size = usize::from_str_radix(size.trim().split(';').next().unwrap(), 16).unwrap();
            let mut chunk = vec![0; size + 2];
            reader.read_exact(&mut chunk).unwrap();
            if size == 0 {
                break;
            }
            body.extend_from_slice(&chunk[..size]);
        }
    }
    (status, headers, body)
}

/// A call exactly as the server sends it: `POST /call`, chunked body.
fn call(stream: &mut UnixStream, call_id: &str, chunks: &[&str]) {
    let deadline = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 60;
    let mut request = format!(
        "POST /call HTTP/1.1\r\nHost: localhost\r\nFn-Call-Id: {call_id}\r\n\
         Fn-Deadline: {}\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n",
        fn_emulator::rfc3339::format_unix_seconds(deadline)
    );
    for chunk in chunks {
        request += &format!("{:x}\r\n{chunk}\r\n", chunk.len());
    }
    request += "0\r\n\r\n";
    stream.write_all(request.as_bytes()).unwrap();
}

/// Kills the sandbox if a check fails half-way.
struct Sandbox(Child);

impl Drop for Sandbox {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The process named `func` among the descendants of `root`.
fn find_func(root: u32) -> Option<u32> {
    let mut parents = BTreeMap::new();
    for entry in std::fs::read_dir("/proc").ok()?.flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else {
            continue;
        };
        let comm = stat[open + 1..close].to_owned();
        let ppid: u32 = stat[close + 2..].split(' ').nth(1)?.parse().ok()?;
        parents.insert(pid, (ppid, comm));
    }
    parents.iter().find_map(|(&pid, (_, comm))| {
        let mut at = pid;
        while let Some((ppid, _)) = parents.get(&at) {
            if *ppid == root {
                return (comm == "func").then_some(pid);
            }
            at = *ppid;
        }
        None
    })
}

#[test]
fn runs_under_bubblewrap_as_the_fn_server_runs_it() {
    let Some(bwrap) = tool("bwrap", "bubblewrap", "the sandboxed run") else {
        return;
    };
    let hello = hello();
    let tmp = TempDir::new("bwrap");

    // The rootfs: the layer as a runtime unpacks it, plus mount points for
    // /proc and /dev (bwrap cannot create them on a read-only root).
    let rootfs = tmp.path().join("rootfs");
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(&hello.image.layer.bytes[..]));
    archive.set_preserve_permissions(true);
    archive.unpack(&rootfs).unwrap();
    assert_eq!(
        std::fs::metadata(rootfs.join("tmp"))
            .unwrap()
            .permissions()
            .mode()
            & 0o7777,
        0o1777
    );
    std::fs::create_dir(rootfs.join("proc")).unwrap();
    std::fs::create_dir(rootfs.join("dev")).unwrap();
    let iofs = tmp.path().join("iofs");
    std::fs::create_dir(&iofs).unwrap();
    std::fs::set_permissions(&iofs, std::fs::Permissions::from_mode(0o777)).unwrap();

    // The server's sandbox: read-only root, tmpfs /tmp, uid/gid 1000, no
    // network, the iofs directory at /tmp/iofs, 50 processes, 350 files.
    let mut command = match tool("prlimit", "util-linux", "process and file limits") {
        Some(prlimit) => {
            let mut c = Command::new(prlimit);
            c.args(["--nproc=50", "--nofile=350"]).arg(&bwrap);
            c
        }
        None => Command::new(&bwrap),
    };
    command
        .args([
            "--unshare-all",
            "--unshare-user",
            "--uid",
            "1000",
            "--gid",
            "1000",
        ])
        .args(["--die-with-parent", "--ro-bind"])
        .arg(&rootfs)
        .args([
            "/", "--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp", "--bind",
        ])
        .arg(&iofs)
        .args(["/tmp/iofs", "--clearenv"])
        .args(["--setenv", "FN_LISTENER", "unix:/tmp/iofs/lsnr.sock"])
        .args(["--setenv", "FN_FORMAT", "http-stream"])
        .args([
            "--setenv",
            "FN_APP_ID",
            "app1",
            "--setenv",
            "FN_FN_ID",
            "fn1",
        ])
        .args([
            "--setenv",
            "FN_MEMORY",
            "128",
            "--setenv",
            "FN_TYPE",
            "sync",
        ])
        .args(["--chdir", "/function", "/function/func"])
        .stdin(Stdio::null());
    let started = Instant::now();
    let mut sandbox = Sandbox(command.spawn().unwrap());

    // Ready within the server's 5 s: a relative symlink to a 0666 socket.
    let link = iofs.join("lsnr.sock");
    while std::fs::symlink_metadata(&link).is_err() {
        if let Some(status) = sandbox.0.try_wait().unwrap() {
            panic!("the function exited before its socket appeared: {status}");
        }
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "no lsnr.sock after 5 s"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    eprintln!(
        "lsnr.sock after {:?} (bwrap start included)",
        started.elapsed()
    );
    assert!(
        std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    let target = std::fs::read_link(&link).unwrap();
    assert!(
        !target.is_absolute()
            && target
                .parent()
                .is_some_and(|p| p.as_os_str().is_empty() || p == Path::new(".")),
        "the link must stay in the directory: {target:?}"
    );
    let socket = std::fs::metadata(&link).unwrap();
    assert!(socket.file_type().is_socket());
    assert_eq!(socket.permissions().mode() & 0o777, 0o666);

    // Two chunked calls on one keep-alive connection.
    let mut stream = UnixStream::connect(&link).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    call(&mut stream, "01BWRAP1", &["Ji", "mmy"]);
    let (status, headers, body) = read_response(&mut reader);
    assert_eq!(
        (status, String::from_utf8_lossy(&body).as_ref()),
        (200, "Hello Jimmy")
    );
    let version = headers
        .iter()
        .find(|(k, _)| k == "fn-fdk-version")
        .map(|(_, v)| v.as_str());
    assert!(
        version.is_some_and(|v| v.starts_with("fdk-rust/")),
        "{headers:?}"
    );
    call(&mut stream, "01BWRAP2", &[]);
    let (status, _, body) = read_response(&mut reader);
    assert_eq!(
        (status, String::from_utf8_lossy(&body).as_ref()),
        (200, "Hello World")
    );
    drop((stream, reader));

    // SIGTERM (what `docker stop` sends through the server's --init): a
    // clean exit that removes both socket files.
    let func = find_func(sandbox.0.id()).expect("the function process under bwrap");
    let kill = Command::new("kill")
        .args(["-TERM", &func.to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let stopping = Instant::now();
    let status = loop {
        if let Some(status) = sandbox.0.try_wait().unwrap() {
            break status;
        }
        assert!(
            stopping.elapsed() < Duration::from_secs(5),
            "still running 5 s after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(10));
    };
    assert!(status.success(), "{status}");
    let left: Vec<_> = std::fs::read_dir(&iofs)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert!(left.is_empty(), "left in iofs: {left:?}");
}

/// Opt-in (`FDK_TEST_DOCKER=1` and a daemon that answers `docker info`):
/// `docker load` the archive and run it with the flags the Fn server's
/// docker driver uses (fn-contract.md §2.2), then call it on its socket.
#[test]
fn docker_loads_and_runs_it_with_the_servers_flags() {
    if std::env::var_os("FDK_TEST_DOCKER").is_none_or(|v| v != "1") {
        // Opt-in everywhere, CI included: it needs a running daemon, which
        // CI's machine does not start.
        eprintln!(
            "skipped: the Docker engine check is opt-in, in CI too; \
             set FDK_TEST_DOCKER=1 (with a running Docker daemon) to run it"
        );
        return;
    }
    let Some(docker) = tool("docker", "docker.io", "the Docker engine check") else {
        return;
    };
    if !Command::new(&docker)
        .arg("info")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
    {
        eprintln!("skipped: `docker info` fails, no daemon to talk to");
        return;
    }
    let hello = hello();
    let loaded = run(&docker, &["load", "-i", hello.archive().to_str().unwrap()]);
    assert!(loaded.status.success(), "{}", stderr(&loaded));
    let reference = format!("hello:{TAG}");
    assert!(stdout(&loaded).contains(&reference), "{}", stdout(&loaded));

    let tmp = TempDir::new("docker");
    let iofs = tmp.path().join("iofs");
    std::fs::create_dir(&iofs).unwrap();
    std::fs::set_permissions(&iofs, std::fs::Permissions::from_mode(0o777)).unwrap();
    let name = format!("cargo-fdk-test-{}", std::process::id());
    let volume = format!("{}:/tmp/iofs", iofs.display());
    let started = run(
        &docker,
        &[
            "run",
            "-d",
            "--name",
            &name,
            "--user",
            "1000:1000",
            "--read-only",
            "--tmpfs",
            "/tmp",
            "--cap-drop",
            "all",
            "--security-opt",
            "no-new-privileges",
            "--init",
            "--network",
            "none",
            "--memory",
            "128m",
            "--memory-swap",
            "128m",
            "--pids-limit",
            "50",
            "--ulimit",
            "nofile=350:350",
            "-v",
            &volume,
            "-e",
            "FN_LISTENER=unix:/tmp/iofs/lsnr.sock",
            "-e",
            "FN_FORMAT=http-stream",
            "-e",
            "FN_APP_ID=app1",
            "-e",
            "FN_FN_ID=fn1",
            "-e",
            "FN_MEMORY=128",
            "-e",
            "FN_TYPE=sync",
            &reference,
        ],
    );
    struct Container(PathBuf, String);
    impl Drop for Container {
        fn drop(&mut self) {
            let _ = Command::new(&self.0).args(["rm", "-f", &self.1]).output();
        }
    }
    let _container = Container(docker.clone(), name.clone());
    assert!(started.status.success(), "{}", stderr(&started));

    let link = iofs.join("lsnr.sock");
    let begin = Instant::now();
    while std::fs::symlink_metadata(&link).is_err() {
        assert!(
            begin.elapsed() < Duration::from_secs(5),
            "no lsnr.sock after 5 s"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    let mut stream = UnixStream::connect(&link).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    call(&mut stream, "01DOCKER1", &["Jimmy"]);
    let (status, headers, body) = read_response(&mut reader);
    assert_eq!(
        (status, String::from_utf8_lossy(&body).as_ref()),
        (200, "Hello Jimmy")
    );
    assert!(
        headers
            .iter()
            .any(|(k, v)| k == "fn-fdk-version" && v.starts_with("fdk-rust/"))
    );
    drop((stream, reader));

    // `docker stop` sends SIGTERM through --init: a clean exit, socket gone.
    let stopped = run(&docker, &["stop", "-t", "5", &name]);
    assert!(stopped.status.success(), "{}", stderr(&stopped));
    let code = run(&docker, &["inspect", "-f", "{{.State.ExitCode}}", &name]);
    assert_eq!(stdout(&code).trim(), "0");
    assert!(
        std::fs::symlink_metadata(&link).is_err(),
        "lsnr.sock left behind"
    );
}
