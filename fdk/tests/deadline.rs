//! HS-DL-3, HS-DL-4 end to end: the server's deadline truncated to whole
//! seconds, played at many phases across a second.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use std::path::Path;

use fdk::testing::{TestCall, TestConnection, TestServer};
use fdk::{Context, Function};

/// Sleeps until the wall-clock instant in `X-Until-Ns` (unix ns).
async fn until(ctx: Context) -> &'static str {
    let until = ctx
        .headers()
        .get("x-until-ns")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
        .map_or(UNIX_EPOCH, |ns| UNIX_EPOCH + Duration::from_nanos(ns));
    if let Ok(left) = until.duration_since(SystemTime::now()) {
        tokio::time::sleep(left).await;
    }
    "done"
}

fn unix_ns(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).unwrap().as_nanos() as u64
}

/// One call as the server makes it: its clock starts now, the fn timeout
/// is 1 s, `Fn-Deadline` is that deadline truncated; the handler runs
/// until `end` after the real deadline (negative: before it). Returns
/// the status, when it arrived, and the real deadline.
async fn call(socket: &Path, end: i64) -> (u16, SystemTime, SystemTime) {
    let start = SystemTime::now();
    let real = start + Duration::from_secs(1);
    let ends = if end >= 0 {
        real + Duration::from_millis(end as u64)
    } else {
        real - Duration::from_millis(end.unsigned_abs())
    };
    let call = TestCall::invoke()
        .deadline(real)
        .header("X-Until-Ns", &unix_ns(ends).to_string());
    let mut conn = TestConnection::open(socket).await.unwrap();
    let res = conn.call(call).await.unwrap();
    (res.status(), SystemTime::now(), real)
}

#[tokio::test]
async fn at_every_phase_good_calls_finish_and_overruns_get_504_before_the_server() {
    let server = TestServer::start(Function::new(until)).await.unwrap();
    // The first call of a process, in the middle of a second (one that
    // starts in the first 50 ms of a second teaches nothing): it teaches
    // the FDK the fn timeout.
    let now = unix_ns(SystemTime::now());
    let middle = (now / 1_000_000_000 + 1) * 1_000_000_000 - 500_000_000;
    let wait = if middle > now {
        middle - now
    } else {
        middle + 1_000_000_000 - now
    };
    tokio::time::sleep(Duration::from_nanos(wait)).await;
    let (status, _, _) = call(server.socket_path(), -500).await;
    assert_eq!(status, 200);

    // 20 phases across the next whole second, a good call and an overrun
    // at each, side by side.
    let now = unix_ns(SystemTime::now());
    let next_second = (now / 1_000_000_000 + 1) * 1_000_000_000;
    let mut calls = Vec::new();
    for phase in 0..20u64 {
        let at = UNIX_EPOCH + Duration::from_nanos(next_second + phase * 50_000_000 + 3_000_000);
        for end in [-100i64, 500] {
            let socket = server.socket_path().to_owned();
            calls.push(tokio::spawn(async move {
                if let Ok(wait) = at.duration_since(SystemTime::now()) {
                    tokio::time::sleep(wait).await;
                }
                (phase, end, call(&socket, end).await)
            }));
        }
    }
    for handle in calls {
        let (phase, end, (status, answered, real)) = handle.await.unwrap();
        let at = format!("phase {} ms, handler ends {end} ms after", phase * 50 + 3);
        if end < 0 {
            assert_eq!(status, 200, "{at}: a call the server would serve failed");
        } else {
            assert_eq!(status, 504, "{at}");
            let early = real.duration_since(answered);
            assert!(
                early.is_ok(),
                "{at}: the 504 came after the server's deadline"
            );
            let early = early.unwrap_or_default();
            assert!(early <= Duration::from_millis(50), "{at}: {early:?} early");
        }
    }
    server.stop().await;
}
