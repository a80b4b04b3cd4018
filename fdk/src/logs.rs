//! The FDK's own log lines, and the per-call log frame.
//!
//! The server merges stdout and stderr line by line into the function's log
//! (HS-LOG-1). The FDK reports through `tracing` when the user installed a
//! subscriber, and otherwise writes one plain line to stderr, so that a
//! warning (a garbled deadline, a handler error) is never lost.

use std::fmt;
use std::io::Write;

use http::HeaderMap;

use crate::config::LogFrame;

/// A warning: something odd on the wire that the FDK worked around.
pub(crate) fn warn(args: fmt::Arguments<'_>) {
    if tracing::dispatcher::has_been_set() {
        tracing::warn!(target: "fdk", "{args}");
    } else {
        line("warning", args);
    }
}

/// An error: a call failed (handler error, panic, timeout).
pub(crate) fn error(args: fmt::Arguments<'_>) {
    if tracing::dispatcher::has_been_set() {
        tracing::error!(target: "fdk", "{args}");
    } else {
        line("error", args);
    }
}

fn line(level: &str, args: fmt::Arguments<'_>) {
    // One write per line, so lines from concurrent writers never interleave.
    let text = format!("fdk {level}: {args}\n");
    let _ = std::io::stderr().lock().write_all(text.as_bytes());
}

/// Writes `\n<NAME>=<value>\n` to stdout and stderr when the call carries
/// the framing header (the bytes fdk-go writes; HS-LOG-3, HS-LOG-4). Nothing is
/// written when the header is absent.
pub(crate) fn write_frame(frame: &LogFrame, headers: &HeaderMap) {
    let Some(value) = headers.get(&frame.header).filter(|v| !v.is_empty()) else {
        return;
    };
    let mut text = Vec::with_capacity(frame.name.len() + value.len() + 3);
    text.push(b'\n');
    text.extend_from_slice(frame.name.as_bytes());
    text.push(b'=');
    text.extend_from_slice(value.as_bytes());
    text.push(b'\n');
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(&text).and_then(|()| out.flush());
    let _ = std::io::stderr().lock().write_all(&text);
}
