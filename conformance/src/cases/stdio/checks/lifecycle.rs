//! The process's life around calls: EOF, SIGTERM, the environment it
//! ignores or refuses.

use std::time::{Duration, Instant};

use nix::sys::signal::Signal;

use super::{EXIT_LIMIT, answered, body_is, needs_probe, probe_call};
use crate::case::CaseResult;
use crate::stdio::StdioFormat;
use crate::stdio::call::StdioCall;
use crate::stdio::harness::StdioHarness;
use crate::verdict::show_bytes;

/// EOF at a request boundary ends the process with status 0, promptly.
pub(crate) fn eof(h: &mut StdioHarness) -> CaseResult {
    let s = h.call(&StdioCall::new().text(h.format(), "hello"))?;
    answered(h, &s)?;
    h.close_stdin()
        .map_err(|v| v.prefixed("after answering a call, before stdin was closed: "))?;
    let rest = h.unread_output(EXIT_LIMIT);
    match h.wait_exit(Duration::from_millis(200)) {
        Some(status) if status.success() && rest.is_empty() => Ok(()),
        Some(status) if status.success() => Err(h.failed_plain(format!(
            "after stdin closed the process wrote {} to stdout",
            show_bytes(&rest, 128)
        ))),
        other => Err(h.failed_plain(format!(
            "stdin closed between requests: the process must exit with status 0 within 3 s \
             (SIO-LIFE-1), got {}",
            other.map_or("no exit".to_owned(), |s| s.to_string())
        ))),
    }
}

/// EOF inside a request: no response, exit 1.
pub(crate) fn eof_inside(h: &mut StdioHarness) -> CaseResult {
    h.restart(&[], &[])?;
    let partial = match h.format() {
        StdioFormat::Http => {
            let (bytes, _) = h.request_bytes(&StdioCall::new().text(h.format(), "0123456789"))?;
            bytes[..bytes.len() - 7].to_vec()
        }
        _ => {
            let (bytes, _) = h.request_bytes(&StdioCall::new().text(h.format(), "hello"))?;
            bytes[..bytes.len() / 2].to_vec()
        }
    };
    h.write_raw(&partial)?;
    h.close_stdin()?;
    let out = h.unread_output(EXIT_LIMIT);
    let status = h.wait_exit(Duration::from_millis(200));
    let shown = format!(
        "wrote {} of a request, then closed stdin: ",
        show_bytes(&partial, 200)
    );
    if !out.is_empty() {
        return Err(h.failed_plain(format!(
            "{shown}the process wrote {} to stdout; no response is owed for a cut request \
             (SIO-LIFE-2)",
            show_bytes(&out, 200)
        )));
    }
    match status {
        Some(s) if s.code() == Some(1) => Ok(()),
        other => Err(h.failed_plain(format!(
            "{shown}the process must exit with status 1 (SIO-LIFE-2), got {}",
            other.map_or("no exit within 3 s".to_owned(), |s| s.to_string())
        ))),
    }
}

/// SIGTERM between calls: exit 0.
pub(crate) fn sigterm(h: &mut StdioHarness) -> CaseResult {
    let s = h.call(&StdioCall::new().text(h.format(), "hello"))?;
    answered(h, &s)?;
    h.signal(Signal::SIGTERM)
        .map_err(|v| v.prefixed("after answering a call, before SIGTERM: "))?;
    match h.wait_exit(EXIT_LIMIT) {
        Some(status) if status.success() => Ok(()),
        other => Err(h.failed_plain(format!(
            "SIGTERM with no call in flight: the process must exit with status 0 at once \
             (SIO-LIFE-3), got {}",
            other.map_or("no exit within 3 s".to_owned(), |s| s.to_string())
        ))),
    }
}

/// SIGTERM during a call: the response is delivered, then exit 0.
pub(crate) fn sigterm_in_flight(h: &mut StdioHarness) -> CaseResult {
    needs_probe(h)?;
    h.running()?;
    let flight = h.start_call(&probe_call(r#"{"op":"sleep","ms":600}"#))?;
    std::thread::sleep(Duration::from_millis(200));
    let signalled = h.signal(Signal::SIGTERM);
    let s = h.finish_call(flight);
    signalled?;
    body_is(h, &s, b"slept").map_err(|v| {
        v.prefixed(
            "SIGTERM 200 ms into a 600 ms call: the call in flight must still be answered \
             (SIO-LIFE-3): ",
        )
    })?;
    match h.wait_exit(EXIT_LIMIT) {
        Some(status) if status.success() => Ok(()),
        other => Err(h.failed(
            format!(
                "after answering the call in flight the process must exit with status 0 \
                 (SIO-LIFE-3), got {}",
                other.map_or("no exit within 3 s".to_owned(), |s| s.to_string())
            ),
            &s,
        )),
    }
}

/// `FN_LISTENER` set to a valid socket path changes nothing: the call is
/// served on stdin/stdout and no socket appears.
pub(crate) fn listener_ignored(h: &mut StdioHarness) -> CaseResult {
    let dir = h.fresh_dir()?;
    let listener = format!("unix:{}", dir.join("lsnr.sock").display());
    h.set_env("FN_LISTENER", &listener);
    if h.format().is_hot() {
        h.restart(&[], &[])?;
    }
    let s = h.call(&StdioCall::new().text(h.format(), "hello"))?;
    answered(h, &s).map_err(|v| v.prefixed(&format!("with FN_LISTENER={listener}: ")))?;
    let made: Vec<String> = std::fs::read_dir(&dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    if !made.is_empty() {
        return Err(h.failed(
            format!(
                "with FN_LISTENER={listener} the function created {made:?} in that directory: \
                 the stdin/stdout formats ignore FN_LISTENER (SIO-ENV-2)"
            ),
            &s,
        ));
    }
    Ok(())
}

/// An `FN_FORMAT` that is none of the known values (this format's name in
/// upper case) is refused: a line on stderr naming it, a non-zero exit.
pub(crate) fn unknown_format(h: &mut StdioHarness) -> CaseResult {
    let value = h.format().name().to_ascii_uppercase();
    let mut p = h.spawn_plain(&[("FN_FORMAT", &value)])?;
    let status = p.wait_exit(EXIT_LIMIT);
    let until = Instant::now() + Duration::from_millis(200);
    while p.pull(until) == fn_emulator::stdio::process::Pulled::Bytes {}
    let out = p.consume(p.pending().len());
    drop(p);
    let named = h.case_output().contains(&value);
    match status {
        Some(s) if !s.success() && named && out.is_empty() => Ok(()),
        Some(s) if !s.success() && out.is_empty() => Err(h.failed_plain(format!(
            "FN_FORMAT={value}: exited ({s}) but no stderr line names the value (SIO-ENV-1)"
        ))),
        Some(s) if !s.success() => Err(h.failed_plain(format!(
            "FN_FORMAT={value}: wrote {} to stdout",
            show_bytes(&out, 128)
        ))),
        other => Err(h.failed_plain(format!(
            "FN_FORMAT={value} is not a format (they are exact, lower-case names): the \
             function must exit non-zero, got {} (SIO-ENV-1)",
            other.map_or("still running after 3 s".to_owned(), |s| s.to_string())
        ))),
    }
}
