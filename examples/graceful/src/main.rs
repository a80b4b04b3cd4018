//! A shutdown hook: on SIGTERM or SIGINT the function lets the calls in
//! flight finish, removes its socket, then runs the hook (here: reports how
//! many calls it served, as a metrics flush would) and exits 0. The calls
//! and the hook share one grace, counted from the signal.
//!
//! The Fn server removes containers with SIGKILL, so on Fn the hook never
//! runs: it is for local runs (Ctrl-C), tests and platforms that stop a
//! process with a signal.
//!
//! Config (environment): `GRACE_MS`, the shutdown grace in milliseconds
//! (default 5000); `HOOK=panic` makes the hook panic, to show that the stop
//! stays clean.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Counts the call; a body of `slow` takes 300 ms, one of `hang` an hour.
async fn count(calls: Arc<AtomicU64>, body: String) -> String {
    match body.as_str() {
        "slow" => tokio::time::sleep(Duration::from_millis(300)).await,
        "hang" => tokio::time::sleep(Duration::from_secs(3600)).await,
        _ => {}
    }
    let n = calls.fetch_add(1, Ordering::Relaxed) + 1;
    format!("call {n}")
}

fn main() -> Result<(), fdk::Error> {
    let calls = Arc::new(AtomicU64::new(0));
    let served = Arc::clone(&calls);
    let grace = std::env::var("GRACE_MS")
        .ok()
        .and_then(|ms| ms.parse().ok())
        .map_or(Duration::from_secs(5), Duration::from_millis);
    let panics = std::env::var("HOOK").is_ok_and(|v| v == "panic");
    let handler = move |body: String| count(Arc::clone(&calls), body);
    fdk::Function::new(handler)
        .shutdown_grace(grace)
        .on_shutdown(move || async move {
            if panics {
                panic!("the hook was told to panic");
            }
            eprintln!(
                "graceful: served {} call(s)",
                served.load(Ordering::Relaxed)
            );
        })
        .run_blocking()
}
