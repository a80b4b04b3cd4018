//! The hello binary on the socket under `FN_MEMORY=128`: a body past the
//! limit is refused, not held (`protocol-spec/http-stream.md` HS-REQ-9).
//! A file of its own: peak-RSS readings in the same test process would
//! count this test's 64 MiB request (a child's high-water mark starts at
//! its parent's when it is spawned).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::{Command, Stdio};

const MIB: usize = 1 << 20;

/// HS-REQ-9: on the socket, a 64 MiB body under `FN_MEMORY=128` (limit
/// 48 MiB) is refused with 413 through `Fn-Http-Status` instead of taking
/// the process past its memory, and the next call on the same connection
/// is served.
#[test]
fn a_64_mib_body_on_the_socket_is_413_and_the_next_call_is_served() {
    use fdk::testing::{TestCall, TestConnection};
    use std::time::{Duration, Instant};

    let dir = std::env::temp_dir().join(format!("hello-memory-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let socket = dir.join("lsnr.sock");
    let mut child = Command::new(env!("CARGO_BIN_EXE_hello"))
        .env_clear()
        .env("FN_LISTENER", format!("unix:{}", socket.display()))
        .env("FN_MEMORY", "128")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while !socket.exists() {
        assert!(child.try_wait().unwrap().is_none(), "hello exited");
        assert!(start.elapsed() < Duration::from_secs(5), "no lsnr.sock");
        std::thread::sleep(Duration::from_millis(2));
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (big, next) = rt.block_on(async {
        let mut conn = TestConnection::open(&socket).await.unwrap();
        let big = TestCall::gateway("POST", "http://h/t/app/hello").body(vec![b'x'; 64 * MIB]);
        let big = conn.call(big).await.unwrap();
        let next = TestCall::gateway("POST", "http://h/t/app/hello").body("Jo");
        (big, conn.call(next).await.unwrap())
    });
    let status = std::fs::read_to_string(format!("/proc/{}/status", child.id())).unwrap();
    let peak_kib: usize = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap();
    let _ = child.kill();
    let _ = child.wait();
    let _ = std::fs::remove_dir_all(&dir);
    println!(
        "socket, 64 MiB, FN_MEMORY=128: Fn-Http-Status {:?}, peak RSS {} MiB",
        big.header("fn-http-status"),
        peak_kib / 1024
    );
    assert_eq!(
        (big.status(), big.header("fn-http-status")),
        (200, Some("413"))
    );
    assert!(big.text().contains("50331648"), "{}", big.text());
    assert_eq!((next.status(), next.text()), (200, "Hello Jo".to_owned()));
    // Before the limit, the body was held whole and hello's answer built
    // from it: about 195 MiB, an OOM kill under 128 MB.
    assert!(peak_kib < 64 * 1024, "peak RSS {} KiB", peak_kib);
}
