//! The sandbox: no process left behind, limits on every call and case,
//! signals to the harness, its memory, and the freezer.

use super::*;

// ------------------------------------------------------------ the sandbox
//
// The harness never hangs and never leaks: every process of the function
// (a grandchild too) is gone after a run, after a case kills it, and after
// SIGINT or SIGTERM to the harness; every call has a limit even with a
// garbled deadline; the harness's memory does not follow the function's
// log; and the freezer is the server's cgroup freezer when the machine has
// one. In CI (CI=true) a test that lacks root or cgroups fails; elsewhere it
// says why and skips.

use std::sync::Arc;
use std::time::{Duration, Instant};

use fdk_conformance::harness::{Call, Harness};
use fn_emulator::FunctionCommand;
use fn_emulator::sandbox::{Mode, Sandbox};

/// Whether this runs in CI, where nothing may be skipped.
fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

/// `true` if `met`; else fails in CI, or prints why and returns `false`.
fn require(met: bool, what: &str) -> bool {
    if !met {
        assert!(!in_ci(), "CI must be able to run this test: {what}");
        eprintln!("skipped: {what}");
    }
    met
}

/// The sandboxes to test: signals, and cgroups where the harness can put
/// functions in them (root, writable controllers).
fn sandbox_modes() -> Vec<Mode> {
    let usable = is_root() && Sandbox::new(Mode::Cgroup, None).is_ok();
    let mut modes = vec![Mode::Signals];
    if require(usable, "cgroups need root and writable v1/v2 controllers") {
        modes.push(Mode::Cgroup);
    }
    modes
}

/// A tag no other test uses, passed to the fixture as an extra argument so
/// that its processes (and its grandchild's) can be found in `/proc`.
fn unique_tag(name: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!("selftest-{name}-{}-{nanos}", std::process::id())
}

/// The live processes whose command line has `tag` as an argument.
fn tagged(tag: &str) -> Vec<u32> {
    let mut pids = Vec::new();
    for entry in fs::read_dir("/proc").unwrap().flatten() {
        let Some(pid) = entry.file_name().to_str().and_then(|n| n.parse().ok()) else {
            continue;
        };
        let Ok(cmdline) = fs::read(format!("/proc/{pid}/cmdline")) else {
            continue;
        };
        let zombie = fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| {
            s.rsplit(')')
                .next()
                .is_some_and(|r| r.trim_start().starts_with('Z'))
        });
        if !zombie && cmdline.split(|&b| b == 0).any(|arg| arg == tag.as_bytes()) {
            pids.push(pid);
        }
    }
    pids
}

/// Waits up to `limit` for `done`.
fn eventually(limit: Duration, mut done: impl FnMut() -> bool) -> bool {
    let until = Instant::now() + limit;
    while Instant::now() < until {
        if done() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    done()
}

/// Within 2 s, no process has `tag` on its command line.
fn assert_gone(tag: &str, what: &str) {
    assert!(
        eventually(Duration::from_secs(2), || tagged(tag).is_empty()),
        "{what}: left behind: {:?}",
        tagged(tag)
    );
}

/// The harness command for `fixture <mode> <tag>` with `extra` options.
fn harness_cmd(mode: &str, tag: &str, extra: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_fdk-conformance"));
    cmd.arg("run").arg("--probe").args(extra);
    cmd.arg("--")
        .arg(common::fixture_bin("fixture"))
        .arg(mode)
        .arg(tag);
    cmd
}

#[test]
fn no_process_of_the_function_remains_after_a_run() {
    for mode in sandbox_modes() {
        let sandbox = if mode == Mode::Cgroup {
            "cgroup"
        } else {
            "signals"
        };
        let tag = unique_tag(&format!("run-{sandbox}"));
        let out = harness_cmd(
            "grandchild",
            &tag,
            &[
                "--sandbox",
                sandbox,
                "--only",
                "req.empty-body",
                "--only",
                "resp.status-500",
            ],
        )
        .output()
        .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(0), "{sandbox}: {stdout}");
        assert_gone(&tag, sandbox);
    }
}

#[test]
fn a_killed_function_takes_its_grandchild_along() {
    for mode in sandbox_modes() {
        let tag = unique_tag(&format!("kill-{mode:?}"));
        let command = FunctionCommand {
            name: "grandchild".into(),
            program: common::fixture_bin("fixture").into(),
            args: vec!["grandchild".into(), tag.clone().into()],
        };
        let sandbox =
            Sandbox::new(mode, Some(env!("CARGO_BIN_EXE_fdk-conformance").into())).unwrap();
        let cgroups = sandbox.uses_cgroups();
        let mut h = Harness::new(command, false).unwrap();
        h.set_sandbox(Arc::new(sandbox));
        h.set_freeze(true);
        assert_eq!(h.call(&Call::invoke()).unwrap().status(), Some(200));
        assert!(eventually(Duration::from_secs(2), || tagged(&tag).len() == 2));
        let pid = h.pid().unwrap();
        if cgroups {
            // In its own cgroups, with the server's limits.
            let groups = fs::read_to_string(format!("/proc/{pid}/cgroup")).unwrap();
            // The path of `controller`'s group, from its line in /proc.
            let group = |controller: &str| {
                let line = groups.lines().find(|l| {
                    l.split(':')
                        .nth(1)
                        .is_some_and(|c| c.split(',').any(|x| x == controller))
                });
                line.and_then(|l| l.splitn(3, ':').nth(2))
                    .unwrap_or_default()
            };
            for controller in ["freezer", "pids", "memory"] {
                assert!(group(controller).contains("/fdk-conformance-"), "{groups}");
            }
            // v1: pids.max 50 and 128 MB (FN_MEMORY) without swap.
            let dir = |controller: &str| {
                let path = group(controller).trim_start_matches('/');
                Path::new("/sys/fs/cgroup").join(controller).join(path)
            };
            let read = |controller: &str, file: &str| {
                fs::read_to_string(dir(controller).join(file)).map(|v| v.trim().to_owned())
            };
            if let Ok(pids_max) = read("pids", "pids.max") {
                assert_eq!(pids_max, "50");
                assert_eq!(
                    read("memory", "memory.limit_in_bytes").unwrap(),
                    (128u64 << 20).to_string()
                );
                if let Ok(memsw) = read("memory", "memory.memsw.limit_in_bytes") {
                    assert_eq!(memsw, (128u64 << 20).to_string());
                }
                // Frozen 50 ms after the call, as docker pause leaves it.
                assert!(
                    eventually(Duration::from_secs(2), || {
                        read("freezer", "freezer.state").is_ok_and(|s| s == "FROZEN")
                    }),
                    "{:?}",
                    read("freezer", "freezer.state")
                );
            }
            let limits = fs::read_to_string(format!("/proc/{pid}/limits")).unwrap();
            let nofile = limits
                .lines()
                .find(|l| l.starts_with("Max open files"))
                .unwrap();
            assert!(nofile.split_whitespace().any(|w| w == "350"), "{nofile}");
        }
        // The server kills the container: the grandchild goes too.
        h.discard();
        assert_gone(&tag, &format!("{mode:?}"));
        // A fresh start, then the end of the run.
        assert_eq!(h.call(&Call::invoke()).unwrap().status(), Some(200));
        assert!(eventually(Duration::from_secs(2), || tagged(&tag).len() == 2));
        drop(h);
        assert_gone(&tag, &format!("{mode:?}"));
    }
}

/// `fixture <mode>` in `req.garbled-deadline` under `limit` (an option and
/// its value) fails the case well within 20 s; its stdout. The case is a
/// SHOULD: asked for, its failure fails the run.
fn garbled_within(mode: &str, tag: &str, limit: [&str; 2]) -> String {
    let started = Instant::now();
    let only = ["--only", "req.garbled-deadline", "--fail-on", "should"];
    let out = harness_cmd(mode, tag, &[&only[..], &limit].concat())
        .output()
        .unwrap();
    let took = started.elapsed();
    assert!(took < Duration::from_secs(20), "{mode}: took {took:?}");
    common::judged(&out, 1, "req.garbled-deadline", "FAIL")
}

#[test]
fn a_garbled_deadline_still_ends_the_call_at_the_call_timeout() {
    for mode in ["length-too-long", "no-final-crlf"] {
        let tag = unique_tag(mode);
        let stdout = garbled_within(mode, &tag, ["--call-timeout", "2s"]);
        assert!(stdout.contains("no complete response"), "{mode}: {stdout}");
        assert!(eventually(Duration::from_secs(2), || tagged(&tag).is_empty()));
    }
}

#[test]
fn a_case_ends_at_its_limit_as_a_failure() {
    let tag = unique_tag("case-limit");
    let stdout = garbled_within("length-too-long", &tag, ["--case-timeout", "3s"]);
    assert!(stdout.contains("--case-timeout"), "{stdout}");
}

#[test]
fn sigint_or_sigterm_leaves_no_process_and_no_work_directory() {
    use nix::sys::signal::{Signal, kill};
    use nix::unistd::Pid;

    for (signal, code) in [(Signal::SIGINT, 130), (Signal::SIGTERM, 143)] {
        let tag = unique_tag(&format!("{signal}"));
        let tmp = std::env::temp_dir().join(&tag);
        fs::create_dir(&tmp).unwrap();
        let mut child = harness_cmd("grandchild", &tag, &[])
            .env("TMPDIR", &tmp)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        // The function and its grandchild are up: a case is running.
        assert!(
            eventually(Duration::from_secs(10), || tagged(&tag).len() >= 2),
            "the function did not start"
        );
        std::thread::sleep(Duration::from_millis(300));
        let harness = Pid::from_raw(i32::try_from(child.id()).unwrap());
        kill(harness, signal).unwrap();
        let until = Instant::now() + Duration::from_secs(15);
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status;
            }
            assert!(Instant::now() < until, "{signal}: the harness did not exit");
            std::thread::sleep(Duration::from_millis(20));
        };
        let mut stderr = String::new();
        std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
        assert_eq!(status.code(), Some(code), "{signal}: {stderr}");
        assert!(stderr.contains(&format!("stopped by {signal}")), "{stderr}");
        assert_gone(&tag, &format!("{signal}"));
        let left: Vec<_> = fs::read_dir(&tmp)
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .collect();
        assert!(left.is_empty(), "{signal}: left {left:?}");
        // Nor a cgroup named after the harness.
        let name = format!("fdk-conformance-{}-", child.id());
        for controller in ["freezer", "pids", "memory"] {
            let root = Path::new("/sys/fs/cgroup").join(controller);
            let mut stack = vec![root];
            while let Some(dir) = stack.pop() {
                for entry in fs::read_dir(&dir).into_iter().flatten().flatten() {
                    let path = entry.path();
                    if path.is_dir() {
                        let file = entry.file_name();
                        assert!(
                            !file.to_string_lossy().starts_with(&name),
                            "{signal}: left {}",
                            path.display()
                        );
                        stack.push(path);
                    }
                }
            }
        }
        fs::remove_dir(&tmp).unwrap();
    }
}

#[test]
fn the_harness_memory_does_not_follow_a_flooding_log() {
    let tag = unique_tag("flood");
    let mut child = harness_cmd(
        "log-flood",
        &tag,
        &[
            "--only",
            "log.no-response-bytes",
            "--only",
            "req.empty-body",
            "--only",
            "req.text-body",
            "--only",
            "resp.error-502",
        ],
    )
    .stdout(std::process::Stdio::piped())
    .stderr(std::process::Stdio::null())
    .spawn()
    .unwrap();
    let pid = child.id();
    let mut stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = std::io::Read::read_to_string(&mut stdout, &mut text);
        text
    });
    // VmHWM is the peak resident set so far: the last reading before the
    // process exits is (almost) its peak over the run.
    let mut peak_kib = 0u64;
    let until = Instant::now() + Duration::from_secs(120);
    while child.try_wait().unwrap().is_none() && Instant::now() < until {
        if let Ok(status) = fs::read_to_string(format!("/proc/{pid}/status"))
            && let Some(kib) = status
                .lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        {
            peak_kib = peak_kib.max(kib);
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let status = child.wait().unwrap();
    let stdout = reader.join().unwrap();
    assert_eq!(status.code(), Some(0), "{stdout}");
    assert!(peak_kib > 0, "VmHWM was never read");
    assert!(
        peak_kib < 100 * 1024,
        "the harness peaked at {} MiB while the function logged 50 MiB per call",
        peak_kib / 1024
    );
}

#[test]
fn output_files_are_written_when_the_function_never_becomes_ready() {
    let dir = std::env::temp_dir().join(unique_tag("outputs"));
    fs::create_dir(&dir).unwrap();
    let (json, junit, tap) = (dir.join("r.json"), dir.join("r.xml"), dir.join("r.tap"));
    let out = Command::new(env!("CARGO_BIN_EXE_fdk-conformance"))
        .arg("run")
        .arg("--output")
        .arg(format!("json={}", json.display()))
        .arg("--output")
        .arg(format!("junit={}", junit.display()))
        .arg("--output")
        .arg(format!("tap={}", tap.display()))
        .args(["--only", "sock.", "--"])
        .arg(common::fixture_bin("fixture"))
        .arg("exit-early")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    for file in [&json, &junit, &tap] {
        let text = fs::read_to_string(file).unwrap_or_default();
        assert!(text.contains("sock.ready"), "{}: {text}", file.display());
        assert!(
            text.contains("never became ready"),
            "{}: {text}",
            file.display()
        );
    }
    fs::remove_dir_all(&dir).unwrap();
}

/// The server pauses containers with the cgroup freezer, under which a
/// wait with `SO_RCVTIMEO` just resumes; SIGSTOP/SIGCONT interrupts it
/// (`EINTR`). `eintr-fatal` exits on `EINTR`: it survives the cgroup
/// freezer and dies under the signal emulation.
#[test]
fn the_cgroup_freezer_does_not_interrupt_a_timed_wait() {
    for mode in sandbox_modes() {
        let command = FunctionCommand {
            name: "eintr-fatal".into(),
            program: common::fixture_bin("fixture").into(),
            args: vec!["eintr-fatal".into()],
        };
        let mut h = Harness::new(command, false).unwrap();
        h.set_sandbox(Arc::new(Sandbox::new(mode, None).unwrap()));
        assert_eq!(h.call(&Call::invoke()).unwrap().status(), Some(200));
        let pid = h.pid();
        // The function is waiting for the next request: freeze it there.
        std::thread::sleep(Duration::from_millis(100));
        h.freeze_now();
        std::thread::sleep(Duration::from_millis(100));
        h.thaw();
        std::thread::sleep(Duration::from_millis(100));
        let survived = h.alive() && h.pid() == pid;
        match mode {
            Mode::Cgroup => {
                assert!(survived, "the cgroup freezer interrupted the wait");
                let ex = h.call(&Call::invoke()).unwrap();
                assert_eq!(ex.status(), Some(200));
                assert_eq!(h.pid(), pid);
            }
            _ => assert!(!survived, "SIGSTOP/SIGCONT did not interrupt the wait"),
        }
    }
}
