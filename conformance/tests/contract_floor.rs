//! The contract floor answers as `examples/hello` answers, with the server's
//! exact bytes in and the FDK's headers out: otherwise the benchmark would
//! compare the FDK with a server that does less than the contract asks.

use std::ffi::OsString;
use std::time::{Duration, SystemTime};

use fn_emulator::request::GO_USER_AGENT;
use fn_emulator::rfc3339::format_utc;
use fn_emulator::{
    Connection, FunctionCommand, ReadyWait, RequestTemplate, RunningFunction, WorkDir,
};

fn call(conn: &mut Connection, body: &[u8], deadline: Option<Duration>) -> fn_emulator::Response {
    let template = RequestTemplate::new(GO_USER_AGENT, &[("Content-Type", "text/plain")], body);
    let deadline = deadline.map_or_else(
        || "not a date".to_owned(),
        |ahead| format_utc(SystemTime::now() + ahead),
    );
    let mut bytes = Vec::new();
    template.render("01KCONTRACTFLOOR000000000001", &deadline, &mut bytes);
    match conn.call(&bytes) {
        Ok(response) => response,
        Err(e) => panic!("the contract floor did not answer: {e}"),
    }
}

#[test]
fn answers_as_hello_does_call_after_call() {
    let mut work = WorkDir::create().unwrap();
    let iofs = work.fresh_iofs().unwrap();
    let log = iofs.with_extension("log");
    let command = FunctionCommand {
        name: "contract".to_owned(),
        program: OsString::from(env!("CARGO_BIN_EXE_contract-floor")),
        args: Vec::new(),
    };
    let running = RunningFunction::start(&command, iofs, &log, ReadyWait::default()).unwrap();
    let mut conn = Connection::connect(running.socket()).unwrap();

    // The request bodies arrive chunked, as the server sends them.
    let named = call(&mut conn, b" Jo ", Some(Duration::from_secs(30)));
    assert_eq!(named.status, 200);
    assert_eq!(named.body, b"Hello Jo");
    assert_eq!(
        named.header("content-type"),
        Some("text/plain; charset=utf-8")
    );
    assert!(
        named
            .header("fn-fdk-version")
            .is_some_and(|v| v.starts_with("fdk-rust/")),
        "{:?}",
        named.head
    );
    assert!(
        named
            .header("fn-fdk-runtime")
            .is_some_and(|v| v.starts_with("rust/"))
    );
    assert!(!named.close, "the connection stays open");

    // An empty body, and a deadline that does not parse: still an answer.
    let empty = call(&mut conn, b"", None);
    assert_eq!(
        (empty.status, empty.body.as_slice()),
        (200, &b"Hello World"[..])
    );
}
