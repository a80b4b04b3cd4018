//! The harness's own connection pool, driven through the library.

use super::*;

/// The harness's own connection pool, driven directly: reused within 1 s,
/// closed by the harness after 1 s idle, never reused once the function
/// closed it or after a 502.
#[test]
fn the_pool_reuses_and_closes_connections_as_the_server_does() {
    use fdk_conformance::harness::{Call, Ended, Harness, Via};
    use fn_emulator::FunctionCommand;
    use std::time::Duration;

    let harness = |mode: &str| {
        let command = FunctionCommand {
            name: mode.to_owned(),
            program: common::fixture_bin("fixture").into(),
            args: vec![mode.into()],
        };
        let mut h = Harness::new(command, false).unwrap();
        h.set_freeze(true);
        h
    };
    let mut h = harness("good");
    let first = h.call(&Call::invoke()).unwrap();
    assert_eq!(first.status(), Some(200));
    assert_eq!(first.via, Via::New(Ended::Never));
    let second = h.call(&Call::invoke()).unwrap();
    assert!(
        matches!(second.via, Via::Reused { calls: 1, .. }),
        "{:?}",
        second.via
    );
    std::thread::sleep(Duration::from_millis(1100));
    let third = h.call(&Call::invoke()).unwrap();
    assert_eq!(third.status(), Some(200));
    assert!(
        matches!(third.via, Via::New(Ended::IdleClose(idle)) if idle > Duration::from_secs(1)),
        "{:?}",
        third.via
    );
    assert!(
        third
            .via
            .to_string()
            .contains("as the server's transport does")
    );
    // A 502 is not reused.
    let failed = h.call(&Call::invoke().body("error")).unwrap();
    assert_eq!(failed.status(), Some(502));
    let after = h.call(&Call::invoke()).unwrap();
    assert_eq!(after.via, Via::New(Ended::AfterAnswer));
    // A case's own connection closes the pooled one.
    drop(h.connect().unwrap());
    assert!(!h.has_pooled());
    assert_eq!(
        h.call(&Call::invoke()).unwrap().via,
        Via::New(Ended::ForCase)
    );

    // idle-timeout closes a connection idle for 500 ms; running (not
    // frozen), it does so before the harness's 1 s: the harness notices.
    let mut h = harness("idle-timeout");
    h.set_freeze(false);
    assert_eq!(h.call(&Call::invoke()).unwrap().status(), Some(200));
    std::thread::sleep(Duration::from_millis(800));
    let ex = h.call(&Call::invoke()).unwrap();
    assert_eq!(ex.status(), Some(200));
    assert_eq!(ex.via, Via::New(Ended::ByFunction));
}
