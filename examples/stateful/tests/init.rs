//! The init function runs before the socket appears; its failure is one
//! line on stderr and a non-zero exit, with no socket left behind.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::{Command, Stdio};

#[test]
fn a_failing_init_exits_before_the_socket_appears() {
    let dir = std::env::temp_dir().join(format!("stateful-init-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_stateful"))
        .env_clear()
        .env("FN_LISTENER", format!("unix:{}/lsnr.sock", dir.display()))
        .env("GREETING", " ")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(!out.status.success());
    assert_eq!(
        stderr,
        "error: the init function failed: GREETING is set but empty\n"
    );
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0);
    std::fs::remove_dir_all(&dir).unwrap();
}
