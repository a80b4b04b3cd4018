//! The `json` catalog (fn-contract §12 case 46).

use super::checks::*;
use super::{StdioCase, case};
use crate::case::Needs::{Nothing, Probe};
use crate::level::Level::{Must, Should};

pub(super) const CASES: [StdioCase; 24] = [
    case(
        "json.waits",
        // Level: a hot process that exits at once, or writes to stdout before a
        // request (which starts the first call's response), fails the server's calls.
        Must,
        &["SIO-ENV-1", "SIO-IO-1", "SIO-IO-3"],
        "with stdin open and no request, the process waits and writes nothing",
        Nothing,
        waits,
    ),
    case(
        "json.call",
        // Level: the server reads every response so: one that does not decode is a
        // 502 and a killed container, excess data after it kills the container.
        Must,
        &["JSON-REQ-1", "SIO-IO-1", "SIO-IO-8", "SIO-ERR-7"],
        "a call gets one decodable 2xx response, nothing after it, container kept",
        Nothing,
        call,
    ),
    case(
        "json.fdk-version",
        // Level: the server is indifferent to these headers (it passes them on).
        Should,
        &["SIO-IO-5"],
        "responses carry Fn-Fdk-Version and Fn-Fdk-Runtime in protocol.headers",
        Nothing,
        fdk_version,
    ),
    case(
        "json.framing",
        // Level: the server's json.Decoder takes any white space and member order;
        // whether it can decode the response at all is judged by json.call (MUST).
        Should,
        &["JSON-RESP-1", "JSON-RESP-3", "SIO-IO-3"],
        "one compact line {body, content_type, protocol{status_code, headers}} and \\n",
        Nothing,
        json_framing,
    ),
    case(
        "json.echo",
        // Level: a body the handler does not get whole is a call served wrong.
        Must,
        &["JSON-REQ-2", "JSON-RESP-2", "JSON-RESP-4", "SIO-ERR-1"],
        "the body reaches the handler unchanged and comes back as the body",
        Probe,
        echo_body,
    ),
    case(
        "json.escapes",
        // Level: the server's encoder writes these escapes in every body it sends.
        Must,
        &["JSON-REQ-2", "JSON-RESP-2"],
        "a body with Go's escapes (\\u003c, \\u0026, \\u2028, \\\", \\t) arrives decoded and round-trips",
        Probe,
        escapes,
    ),
    case(
        "json.sequential",
        // Level: the server sends a hot process call after call; one that exits or
        // answers out of step fails the calls that follow.
        Must,
        &["SIO-IO-1", "SIO-LIFE-4", "JSON-REQ-1"],
        "10 calls in one process (frozen between calls), each answered with its own body",
        Probe,
        sequential,
    ),
    case(
        "json.metadata",
        // Level: the server sends call id, deadline, method, URL, headers and
        // config with every call; a value the handler does not see is a call served
        // wrong (framing headers shown to it are only SHOULD).
        Must,
        &["SIO-IO-4", "SIO-ENV-3", "JSON-REQ-2", "JSON-REQ-3"],
        "the handler sees call_id, the deadline, method, URL, headers (no Content-Length) and config",
        Probe,
        metadata,
    ),
    case(
        "json.user-status",
        // Level: the server passes the response's status and headers to the client;
        // one it does not get is a call served wrong.
        Must,
        &["SIO-ERR-1", "JSON-RESP-3", "JSON-RESP-4"],
        "a returned 404 with repeated headers and a content type reaches the client as returned",
        Probe,
        user_status,
    ),
    case(
        "json.dropped-headers",
        // Level: the server copies every response header to its client, so a
        // handler's Content-Length corrupts the client's response (MUST); a
        // Connection, Keep-Alive or Upgrade reaching it is only SHOULD.
        Must,
        &["SIO-IO-6"],
        "Connection, Keep-Alive, Upgrade and Content-Length set by the handler are not sent",
        Probe,
        dropped_headers,
    ),
    case(
        "json.error",
        // Level: a handler error that is not answered (a crash) is a 502 and a
        // killed container, and a 2xx hides it from the client; a next call that
        // fails is a failed call. The JSON message is only SHOULD: the status decides.
        Must,
        &["SIO-ERR-3", "SIO-ERR-6"],
        "a handler error is a 500 with a JSON message, and the next call is served",
        Probe,
        error,
    ),
    case(
        "json.panic",
        // Level: a panic that is not answered (a crash) is a 502 and a killed
        // container; a next call that fails is a failed call. The JSON message is
        // only SHOULD.
        Must,
        &["SIO-ERR-3", "SIO-ERR-6"],
        "a panic is a 500 with a JSON message, and the next call is served",
        Probe,
        panic,
    ),
    case(
        "json.deadline-past",
        // Level: the server never sends a request whose deadline has passed (it
        // writes the request as the call's clock starts).
        Should,
        &["SIO-DL-1", "SIO-DL-2", "SIO-ERR-4"],
        "a deadline long past gets a 504 without running the handler; the next call is served",
        Probe,
        deadline_past,
    ),
    case(
        "json.deadline-running",
        // Level: without the FDK's own 504 the server answers the same 504 at its
        // deadline and kills the container: the only cost is a cold start. A next
        // call that fails after the FDK's own 504 (container kept) is MUST.
        Should,
        &["SIO-DL-2", "SIO-ERR-4"],
        "a handler still running at its deadline is answered 504 and the process goes on",
        Probe,
        deadline_running,
    ),
    case(
        "json.timeout",
        // Level: a handler outliving its deadline is a sequence the server really
        // sends; the client must get 504 and the next call must be served.
        Must,
        &["SIO-DL-3", "SIO-ERR-7", "SIO-LIFE-4"],
        "a handler outliving its deadline: the client gets 504, then the next call is served",
        Probe,
        timeout,
    ),
    case(
        "json.big-body",
        // Level: the server forwards any body; a changed one is a call served wrong.
        Must,
        &["JSON-REQ-2", "JSON-RESP-2"],
        "a 6 MiB string body (escapes, non-ASCII) round-trips unchanged",
        Probe,
        big_body,
    ),
    case(
        "json.stray-output",
        // Level: a handler's stray stdout line corrupts the response stream: 502 and
        // a killed container. Losing the line instead of logging it is only SHOULD.
        Must,
        &["SIO-IO-2", "SIO-IO-3"],
        "a line printed to stdout by the handler goes to the logs, not into the response stream",
        Probe,
        stray_output,
    ),
    case(
        "json.malformed",
        // Level: the server always wrote well-formed requests (people and other
        // tools write the malformed ones).
        Should,
        &["JSON-REQ-1", "SIO-ERR-5", "SIO-ERR-6"],
        "a line that is not JSON gets a 400 with a JSON message, then the next request is served",
        Nothing,
        malformed,
    ),
    case(
        "json.eof",
        // Level: the server closed stdin only when it removed the container.
        Should,
        &["SIO-LIFE-1"],
        "stdin closed between requests: exit status 0 within 3 s",
        Nothing,
        eof,
    ),
    case(
        "json.eof-inside",
        // Level: the server never closed stdin inside a request.
        Should,
        &["SIO-LIFE-2"],
        "stdin closed inside a request: no response, exit status 1",
        Nothing,
        eof_inside,
    ),
    case(
        "json.sigterm",
        // Level: the server removed containers with SIGKILL, never SIGTERM.
        Should,
        &["SIO-LIFE-3"],
        "SIGTERM between calls: exit status 0",
        Nothing,
        sigterm,
    ),
    case(
        "json.sigterm-in-flight",
        // Level: the server removed containers with SIGKILL, never SIGTERM.
        Should,
        &["SIO-LIFE-3"],
        "SIGTERM during a call: the call is answered, then exit status 0",
        Probe,
        sigterm_in_flight,
    ),
    case(
        "json.listener-ignored",
        // Level: 0.3.602 set FN_LISTENER only for http-stream, never with these
        // formats.
        Should,
        &["SIO-ENV-2"],
        "a valid FN_LISTENER changes nothing: calls on stdio, no socket created",
        Nothing,
        listener_ignored,
    ),
    case(
        "json.unknown-format",
        // Level: the server only ever set the exact format names.
        Should,
        &["SIO-ENV-1"],
        "FN_FORMAT=JSON (not an exact name): a stderr line naming it and a non-zero exit",
        Nothing,
        unknown_format,
    ),
];
