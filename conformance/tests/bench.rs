//! End to end: `fdk-conformance bench` against the `floor` binary. Nothing
//! here depends on how fast the machine is.

use std::process::{Command, Output};

fn bench(args: &[&str]) -> Output {
    bench_with_ci(args, None)
}

/// `bench` with `CI` set to `ci`, or removed for `None` (the developer's
/// machine), whatever the environment running the tests has.
fn bench_with_ci(args: &[&str], ci: Option<&str>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_fdk-conformance"));
    cmd.arg("bench").args(args);
    match ci {
        Some(value) => cmd.env("CI", value),
        None => cmd.env_remove("CI"),
    };
    let run = cmd.output();
    match run {
        Ok(output) => output,
        Err(e) => panic!("could not run fdk-conformance: {e}"),
    }
}

fn floor() -> String {
    format!("floor={}", env!("CARGO_BIN_EXE_floor"))
}

#[test]
fn table_has_a_row_for_the_floor() {
    let out = bench(&[
        "--calls",
        "300",
        "--warmup",
        "20",
        "--starts",
        "2",
        "--fn",
        &floor(),
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "stdout:\n{stdout}\nstderr:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut lines = stdout.lines();
    assert!(lines.next().unwrap().starts_with("function"));
    let row: Vec<&str> = lines.next().unwrap().split_whitespace().collect();
    assert_eq!(row[0], "floor");
    assert_eq!(row[7], "1.00x", "vs_floor of the floor itself");
    assert_eq!(row.last(), Some(&"0"), "no failed call");
}

#[test]
fn json_with_a_chunked_body_and_two_functions() {
    let plain = format!("plain={}", env!("CARGO_BIN_EXE_floor"));
    let out = bench(&[
        "--calls",
        "250",
        "--warmup",
        "5",
        "--starts",
        "1",
        "--body-size",
        "3000",
        "--no-pin",
        "--json",
        "--fn",
        &floor(),
        "--fn",
        &plain,
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["cpu"], serde_json::Value::Null);
    let functions = report["functions"].as_array().unwrap();
    assert_eq!(functions.len(), 2);
    for (f, name) in functions.iter().zip(["floor", "plain"]) {
        assert_eq!(f["name"], name);
        assert_eq!(f["calls"], 250);
        assert_eq!(f["failures"]["total"], 0);
        assert_eq!(f["reconnects"], 0, "one keep-alive connection");
        assert!(f["latency_us"]["p50"].as_f64().unwrap() > 0.0);
        let labels: Vec<&str> = f["memory"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["label"].as_str().unwrap())
            .collect();
        assert_eq!(labels, ["warm", "end"]);
    }
    assert!(functions[1]["p50_vs_floor"].as_f64().is_some());
}

#[test]
fn limits_and_soak_checkpoints_in_json() {
    let args = [
        "--calls",
        "1000",
        "--warmup",
        "5",
        "--starts",
        "1",
        "--limits",
        "--json",
        "--fn",
        &floor(),
    ];
    let out = bench_with_ci(&args, None);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("limits: open files 350"), "{stderr}");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let limits = &report["limits"];
    assert_eq!(limits["nofile"], 350);
    let f = &report["functions"][0];
    assert_eq!(f["nofile"], 350, "read back from /proc/<pid>/limits");
    let memory = f["memory"].as_array().unwrap();
    let labels: Vec<&str> = memory
        .iter()
        .map(|c| c["label"].as_str().unwrap())
        .collect();
    assert_eq!(labels, ["warm", "1k", "end"]);
    assert!(memory[1]["fds"].as_u64().unwrap() >= 3, "{f}");
    assert_eq!(f["soak"]["from"], "1k");
    if limits["pids_max"] == 50 {
        // Root with cgroups: every limit held, and the cgroup saw no OOM kill.
        assert_eq!(limits["memory_mib"], 128);
        assert_eq!(limits["skipped"], serde_json::Value::Null);
        assert_eq!(f["oom_kills"], 0);
    } else {
        // No cgroups: skipped, with the reason; under CI that is an error.
        assert!(
            limits["skipped"].as_str().unwrap().contains("no cgroups"),
            "{limits}"
        );
        let ci = bench_with_ci(&args, Some("true"));
        assert_eq!(ci.status.code(), Some(2));
        assert!(String::from_utf8_lossy(&ci.stderr).contains("CI=true"));
    }
}

#[test]
fn usage_error_exits_2() {
    let out = bench(&["--calls", "lots", "--", "x"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--calls"));
}

#[test]
fn a_function_that_never_listens_exits_2() {
    let out = bench(&["--starts", "1", "--fn", "quitter=sh -c exit"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("did not become ready"));
}

#[test]
fn a_function_answering_500_exits_1() {
    let me = std::env::current_exe().unwrap();
    let me = me.to_str().unwrap();
    let out = bench(&[
        "--calls",
        "20",
        "--warmup",
        "0",
        "--starts",
        "1",
        "--",
        me,
        "--ignored",
        "--exact",
        "serve_500_as_a_function",
        "--nocapture",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("20 failed calls (status 20, body 0, protocol 0)"),
        "{stderr}"
    );
    assert!(stderr.contains("status 500, expected 200"), "{stderr}");
}

/// Not a test: the function that `a_function_answering_500_exits_1` runs
/// (this test binary, started by the bench with `FN_LISTENER` set). It
/// answers every empty-bodied call with 500, on one keep-alive connection.
#[test]
#[ignore = "run by a_function_answering_500_exits_1 as a function process"]
fn serve_500_as_a_function() {
    use std::io::{BufRead, BufReader, Write};
    use std::os::unix::net::UnixListener;
    use std::path::PathBuf;

    let Some(listener) = std::env::var("FN_LISTENER").ok() else {
        return;
    };
    let public = PathBuf::from(listener.strip_prefix("unix:").unwrap());
    let private = public.with_file_name("phonylsnr.sock");
    let socket = UnixListener::bind(&private).unwrap();
    std::os::unix::fs::symlink("phonylsnr.sock", &public).unwrap();
    for stream in socket.incoming() {
        let mut stream = BufReader::new(stream.unwrap());
        let mut line = String::new();
        loop {
            line.clear();
            if stream.read_line(&mut line).unwrap() == 0 {
                break;
            }
            if line == "\r\n" {
                stream
                    .get_mut()
                    .write_all(b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n")
                    .unwrap();
            }
        }
    }
}
