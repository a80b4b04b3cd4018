//! The `http` catalog (fn-contract §12 case 47).

use super::checks::*;
use super::{StdioCase, case};
use crate::case::Needs::{Nothing, Probe};
use crate::level::Level::{Must, Should};

pub(super) const CASES: [StdioCase; 25] = [
    case(
        "http.waits",
        // Level: a hot process that exits at once, or writes to stdout before a
        // request (which starts the first call's response), fails the server's calls.
        Must,
        &["SIO-ENV-1", "SIO-IO-1", "SIO-IO-3"],
        "with stdin open and no request, the process waits and writes nothing",
        Nothing,
        waits,
    ),
    case(
        "http.call",
        // Level: the server reads every response so: one that does not decode is a
        // 502 and a killed container, excess data after it kills the container.
        Must,
        &["HTTP-REQ-1", "SIO-IO-1", "SIO-IO-8", "SIO-ERR-7"],
        "a call gets one complete 2xx response, nothing after it, container kept",
        Nothing,
        call,
    ),
    case(
        "http.fdk-version",
        // Level: the server is indifferent to these headers (it passes them on).
        Should,
        &["SIO-IO-5", "HTTP-RESP-2"],
        "responses carry Fn-Fdk-Version and Fn-Fdk-Runtime headers",
        Nothing,
        fdk_version,
    ),
    case(
        "http.framing",
        // Level: a response framed by neither length nor chunks is read to the end
        // of stdout, which never comes: 504 and a killed container. The status
        // line's version and reason and a Connection header are only SHOULD.
        Must,
        &["HTTP-RESP-1", "HTTP-RESP-4"],
        "HTTP/1.1 status line with its reason, framed by Content-Length or chunked, no Connection",
        Nothing,
        http_framing,
    ),
    case(
        "http.echo",
        // Level: a body the handler does not get whole is a call served wrong.
        Must,
        &["HTTP-REQ-3", "SIO-ERR-1"],
        "a binary body (NUL, CR LF, 0xff) reaches the handler unchanged and comes back",
        Probe,
        echo_body,
    ),
    case(
        "http.chunked",
        // Level: the server writes a chunked client body chunked (req.Write).
        Must,
        &["HTTP-REQ-1", "HTTP-REQ-3"],
        "an 80 KiB chunked request body (three chunks) arrives whole",
        Probe,
        chunked,
    ),
    case(
        "http.sequential",
        // Level: the server sends a hot process call after call; one that exits or
        // answers out of step fails the calls that follow.
        Must,
        &["SIO-IO-1", "SIO-LIFE-4", "HTTP-REQ-1"],
        "10 calls in one process (frozen between calls), each answered with its own body",
        Probe,
        sequential,
    ),
    case(
        "http.metadata",
        // Level: the server sends call id, deadline, method, URL, headers and
        // config with every call; a value the handler does not see is a call served
        // wrong (framing headers shown to it are only SHOULD).
        Must,
        &["SIO-IO-4", "SIO-ENV-3", "HTTP-REQ-2", "HTTP-REQ-3"],
        "the handler sees Fn_call_id, the deadline, method, URL, headers (no Fn_, Host, framing) and config",
        Probe,
        metadata,
    ),
    case(
        "http.user-status",
        // Level: the server passes the response's status and headers to the client;
        // one it does not get is a call served wrong.
        Must,
        &["SIO-ERR-1", "HTTP-RESP-2", "HTTP-RESP-4"],
        "a returned 404 with repeated headers and a content type reaches the client as returned",
        Probe,
        user_status,
    ),
    case(
        "http.dropped-headers",
        // Level: the server copies every response header to its client, so a
        // handler's Content-Length corrupts the client's response (MUST); a
        // Connection, Keep-Alive or Upgrade reaching it is only SHOULD.
        Must,
        &["SIO-IO-6"],
        "Connection, Keep-Alive, Upgrade and a wrong Content-Length set by the handler are not sent",
        Probe,
        dropped_headers,
    ),
    case(
        "http.no-body",
        // Level: the server reads no body after HEAD or a 204, so body bytes
        // corrupt the next call (excess data, container killed); a length header on
        // the 204 is only SHOULD.
        Must,
        &["HTTP-RESP-3", "HTTP-RESP-1"],
        "no body bytes for HEAD or a 204 (no length headers on the 204); the stream stays in step",
        Probe,
        no_body,
    ),
    case(
        "http.error",
        // Level: a handler error that is not answered (a crash) is a 502 and a
        // killed container, and a 2xx hides it from the client; a next call that
        // fails is a failed call. The JSON message is only SHOULD: the status decides.
        Must,
        &["SIO-ERR-3", "SIO-ERR-6", "HTTP-RESP-2"],
        "a handler error is a 500 with a JSON message, and the next call is served",
        Probe,
        error,
    ),
    case(
        "http.panic",
        // Level: a panic that is not answered (a crash) is a 502 and a killed
        // container; a next call that fails is a failed call. The JSON message is
        // only SHOULD.
        Must,
        &["SIO-ERR-3", "SIO-ERR-6", "HTTP-RESP-2"],
        "a panic is a 500 with a JSON message, and the next call is served",
        Probe,
        panic,
    ),
    case(
        "http.deadline-past",
        // Level: the server never sends a request whose deadline has passed (it
        // writes the request as the call's clock starts).
        Should,
        &["SIO-DL-1", "SIO-DL-2", "SIO-ERR-4"],
        "a deadline long past gets a 504 without running the handler; the next call is served",
        Probe,
        deadline_past,
    ),
    case(
        "http.deadline-running",
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
        "http.timeout",
        // Level: a handler outliving its deadline is a sequence the server really
        // sends; the client must get 504 and the next call must be served.
        Must,
        &["SIO-DL-3", "SIO-ERR-7", "SIO-LIFE-4"],
        "a handler outliving its deadline: the client gets 504, then the next call is served",
        Probe,
        timeout,
    ),
    case(
        "http.big-body",
        // Level: the server forwards any body; a changed one is a call served wrong.
        Must,
        &["HTTP-REQ-1", "HTTP-REQ-3"],
        "6 MiB of binary data round-trip unchanged",
        Probe,
        big_body,
    ),
    case(
        "http.stray-output",
        // Level: a handler's stray stdout line corrupts the response stream: 502 and
        // a killed container. Losing the line instead of logging it is only SHOULD.
        Must,
        &["SIO-IO-2", "SIO-IO-3"],
        "a line printed to stdout by the handler goes to the logs, not into the response stream",
        Probe,
        stray_output,
    ),
    case(
        "http.malformed",
        // Level: the server always wrote well-formed requests (people and other
        // tools write the malformed ones).
        Should,
        &["HTTP-REQ-4", "SIO-ERR-5", "SIO-ERR-6"],
        "a head that is not HTTP gets a 400 with a JSON message, then the process exits with 1",
        Nothing,
        malformed,
    ),
    case(
        "http.eof",
        // Level: the server closed stdin only when it removed the container.
        Should,
        &["SIO-LIFE-1"],
        "stdin closed between requests: exit status 0 within 3 s",
        Nothing,
        eof,
    ),
    case(
        "http.eof-inside",
        // Level: the server never closed stdin inside a request.
        Should,
        &["SIO-LIFE-2"],
        "stdin closed inside a request body: no response, exit status 1",
        Nothing,
        eof_inside,
    ),
    case(
        "http.sigterm",
        // Level: the server removed containers with SIGKILL, never SIGTERM.
        Should,
        &["SIO-LIFE-3"],
        "SIGTERM between calls: exit status 0",
        Nothing,
        sigterm,
    ),
    case(
        "http.sigterm-in-flight",
        // Level: the server removed containers with SIGKILL, never SIGTERM.
        Should,
        &["SIO-LIFE-3"],
        "SIGTERM during a call: the call is answered, then exit status 0",
        Probe,
        sigterm_in_flight,
    ),
    case(
        "http.listener-ignored",
        // Level: 0.3.602 set FN_LISTENER only for http-stream, never with these
        // formats.
        Should,
        &["SIO-ENV-2"],
        "a valid FN_LISTENER changes nothing: calls on stdio, no socket created",
        Nothing,
        listener_ignored,
    ),
    case(
        "http.unknown-format",
        // Level: the server only ever set the exact format names.
        Should,
        &["SIO-ENV-1"],
        "FN_FORMAT=HTTP (not an exact name): a stderr line naming it and a non-zero exit",
        Nothing,
        unknown_format,
    ),
];
