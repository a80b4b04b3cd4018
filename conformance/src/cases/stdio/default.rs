//! The `default` catalog (fn-contract §12 case 48): one process per call.

use super::checks::*;
use super::{StdioCase, case};
use crate::case::Needs::{Nothing, Probe};
use crate::level::Level::{Must, Should};

pub(super) const CASES: [StdioCase; 13] = [
    case(
        "default.call",
        // Level: a non-zero exit is the server's 502 "container exit code N".
        Must,
        &["DEF-REQ-1", "DEF-RESP-1", "DEF-RESP-3"],
        "a call exits 0 with a body on stdout (the client gets 200)",
        Nothing,
        call,
    ),
    case(
        "default.echo",
        // Level: a body the handler does not get whole is a call served wrong.
        Must,
        &["DEF-REQ-1", "DEF-RESP-1"],
        "a binary body written in two parts is stdin until EOF, and exactly stdout",
        Probe,
        echo_body,
    ),
    case(
        "default.empty-stdin",
        // Level: the server sends an empty body as an empty stdin.
        Must,
        &["DEF-REQ-1"],
        "an empty stdin is an empty body: exit 0, nothing on stdout",
        Probe,
        empty_stdin,
    ),
    case(
        "default.metadata",
        // Level: the server sends call id, deadline, method, URL, headers and
        // config with every call; a value the handler does not see is a call served
        // wrong (framing headers shown to it are only SHOULD).
        Must,
        &["SIO-IO-4", "SIO-ENV-3", "DEF-REQ-2"],
        "the handler sees FN_CALL_ID, FN_DEADLINE, method, URL, FN_HEADER_* as headers, config",
        Probe,
        metadata,
    ),
    case(
        "default.user-status",
        // Level: a non-zero exit would turn the body into the server's 502; the
        // stderr warning naming the status is only SHOULD.
        Must,
        &["DEF-RESP-1"],
        "a returned 404: its body on stdout, exit 0, and a stderr warning naming 404",
        Probe,
        user_status,
    ),
    case(
        "default.exit-status",
        // Level: exit 0 after a handler error is a 200 that hides the failure from
        // the client; the error on stderr is only SHOULD.
        Must,
        &["DEF-RESP-2", "DEF-RESP-3", "SIO-ERR-6"],
        "a handler error: nothing on stdout, the error on stderr, exit 1 (502 container exit code 1)",
        Probe,
        error,
    ),
    case(
        "default.panic",
        // Level: exit 0 after a panic is a 200 that hides the failure from the
        // client; the message on stderr is only SHOULD.
        Must,
        &["DEF-RESP-2", "DEF-RESP-3"],
        "a panic: nothing on stdout, the message on stderr, exit 1",
        Probe,
        panic,
    ),
    case(
        "default.deadline-past",
        // Level: the server never starts a call whose deadline has passed.
        Should,
        &["DEF-RESP-2", "SIO-DL-1", "SIO-DL-2"],
        "FN_DEADLINE long past: the handler does not run, nothing on stdout, exit 1",
        Probe,
        deadline_past,
    ),
    case(
        "default.deadline-running",
        // Level: without the FDK's own exit the server answers 504 at its deadline
        // and kills the process, which serves one call anyway.
        Should,
        &["DEF-RESP-2", "SIO-DL-2"],
        "a handler still running at its deadline: nothing on stdout, exit 1",
        Probe,
        deadline_running,
    ),
    case(
        "default.big-body",
        // Level: the server forwards any body; a changed one is a call served wrong.
        Must,
        &["DEF-REQ-1", "DEF-RESP-1"],
        "6 MiB of binary data on stdin come back exactly on stdout",
        Probe,
        big_body,
    ),
    case(
        "default.stray-output",
        // Level: stdout is the body: a stray line changes the client's response.
        // Losing the line instead of logging it is only SHOULD.
        Must,
        &["SIO-IO-2", "DEF-RESP-1"],
        "a line printed to stdout by the handler goes to the logs: stdout is exactly the body",
        Probe,
        stray_output,
    ),
    case(
        "default.listener-ignored",
        // Level: 0.3.602 set FN_LISTENER only for http-stream, never with these
        // formats.
        Should,
        &["SIO-ENV-2"],
        "a valid FN_LISTENER changes nothing: the call is served, no socket created",
        Nothing,
        listener_ignored,
    ),
    case(
        "default.unknown-format",
        // Level: the server only ever set the exact format names.
        Should,
        &["SIO-ENV-1"],
        "FN_FORMAT=DEFAULT (not an exact name): a stderr line naming it and a non-zero exit",
        Nothing,
        unknown_format,
    ),
];
