//! The `cloudevent` catalog (fn-contract §12 case 49).

use super::checks::*;
use super::{StdioCase, case};
use crate::case::Needs::{Nothing, Probe};
use crate::level::Level::{Must, Should};

pub(super) const CASES: [StdioCase; 25] = [
    case(
        "cloudevent.waits",
        // Level: a hot process that exits at once, or writes to stdout before a
        // request (which starts the first call's response), fails the server's calls.
        Must,
        &["SIO-ENV-1", "SIO-IO-1", "SIO-IO-3"],
        "with stdin open and no request, the process waits and writes nothing",
        Nothing,
        waits,
    ),
    case(
        "cloudevent.call",
        // Level: the server reads every response so: one that does not decode is a
        // 502 and a killed container, excess data after it kills the container.
        Must,
        &["CE-REQ-1", "SIO-IO-1", "SIO-IO-8", "SIO-ERR-7"],
        "a call gets one decodable, mappable 2xx event, nothing after it, container kept",
        Nothing,
        call,
    ),
    case(
        "cloudevent.fdk-version",
        // Level: the server is indifferent to these headers (it passes them on).
        Should,
        &["SIO-IO-5"],
        "responses carry Fn-Fdk-Version and Fn-Fdk-Runtime in extensions.protocol.headers",
        Nothing,
        fdk_version,
    ),
    case(
        "cloudevent.framing",
        // Level: the server's decoder takes any white space and member order, and
        // its client sees only `data`; whether it can decode and map the event at
        // all is judged by cloudevent.call (MUST).
        Should,
        &["CE-RESP-1", "CE-RESP-2", "CE-RESP-3", "SIO-IO-3"],
        "one compact line: the ten members in order, copied request fields, extensions.protocol only",
        Nothing,
        cloudevent_framing,
    ),
    case(
        "cloudevent.echo",
        // Level: a body the handler does not get whole is a call served wrong.
        Must,
        &["CE-REQ-2", "CE-RESP-2", "CE-RESP-4", "SIO-ERR-1"],
        "a text/plain string data reaches the handler unquoted and comes back as the body",
        Probe,
        echo_body,
    ),
    case(
        "cloudevent.text-data",
        // Level: the server wraps a text body as string data; a body the handler
        // does not get decoded, or an answer the server cannot map (500), is a call
        // served wrong.
        Must,
        &["CE-REQ-2", "CE-RESP-2"],
        "escaped string data arrives decoded; an octet-stream answer goes out as text/plain",
        Probe,
        text_data,
    ),
    case(
        "cloudevent.json-data",
        // Level: the server wraps a JSON body as data; any contentType but exactly
        // application/json or text/plain is the server's 500.
        Must,
        &["CE-REQ-2", "CE-RESP-2", "CE-RESP-4"],
        "object data arrives as compact JSON; a JSON answer goes out as application/json data",
        Probe,
        json_data,
    ),
    case(
        "cloudevent.sequential",
        // Level: the server sends a hot process call after call; one that exits or
        // answers out of step fails the calls that follow.
        Must,
        &["SIO-IO-1", "SIO-LIFE-4", "CE-REQ-1"],
        "10 calls in one process (frozen between calls), each answered with its own body",
        Probe,
        sequential,
    ),
    case(
        "cloudevent.metadata",
        // Level: the server sends call id, deadline, method, URL, headers and
        // config with every call; a value the handler does not see is a call served
        // wrong (framing headers shown to it are only SHOULD).
        Must,
        &["SIO-IO-4", "SIO-ENV-3", "CE-REQ-2", "CE-REQ-3"],
        "the handler sees eventID, the deadline extension, method, URL, headers and config",
        Probe,
        metadata,
    ),
    case(
        "cloudevent.user-status",
        // Level: the server passes the response's status and headers to the client;
        // one it does not get is a call served wrong.
        Must,
        &["SIO-ERR-1", "CE-RESP-3", "CE-RESP-4"],
        "a returned 404 with repeated headers and a content type reaches the client as returned",
        Probe,
        user_status,
    ),
    case(
        "cloudevent.dropped-headers",
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
        "cloudevent.error",
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
        "cloudevent.panic",
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
        "cloudevent.deadline-past",
        // Level: the server never sends a request whose deadline has passed (it
        // writes the request as the call's clock starts).
        Should,
        &["SIO-DL-1", "SIO-DL-2", "SIO-ERR-4", "CE-REQ-3"],
        "a deadline extension long past gets a 504 without running the handler",
        Probe,
        deadline_past,
    ),
    case(
        "cloudevent.deadline-running",
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
        "cloudevent.timeout",
        // Level: a handler outliving its deadline is a sequence the server really
        // sends; the client must get 504 and the next call must be served.
        Must,
        &["SIO-DL-3", "SIO-ERR-7", "SIO-LIFE-4"],
        "a handler outliving its deadline: the client gets 504, then the next call is served",
        Probe,
        timeout,
    ),
    case(
        "cloudevent.big-body",
        // Level: the server forwards any body; a changed one is a call served wrong.
        Must,
        &["CE-REQ-2", "CE-RESP-2"],
        "6 MiB of string data (escapes, non-ASCII) round-trip unchanged",
        Probe,
        big_body,
    ),
    case(
        "cloudevent.stray-output",
        // Level: a handler's stray stdout line corrupts the response stream: 502 and
        // a killed container. Losing the line instead of logging it is only SHOULD.
        Must,
        &["SIO-IO-2", "SIO-IO-3"],
        "a line printed to stdout by the handler goes to the logs, not into the response stream",
        Probe,
        stray_output,
    ),
    case(
        "cloudevent.malformed",
        // Level: the server always wrote well-formed requests (people and other
        // tools write the malformed ones).
        Should,
        &["CE-REQ-1", "SIO-ERR-5", "SIO-ERR-6"],
        "a line that is not an event gets a 400 event with a JSON message, then the next is served",
        Nothing,
        malformed,
    ),
    case(
        "cloudevent.eof",
        // Level: the server closed stdin only when it removed the container.
        Should,
        &["SIO-LIFE-1"],
        "stdin closed between requests: exit status 0 within 3 s",
        Nothing,
        eof,
    ),
    case(
        "cloudevent.eof-inside",
        // Level: the server never closed stdin inside a request.
        Should,
        &["SIO-LIFE-2"],
        "stdin closed inside an event: no response, exit status 1",
        Nothing,
        eof_inside,
    ),
    case(
        "cloudevent.sigterm",
        // Level: the server removed containers with SIGKILL, never SIGTERM.
        Should,
        &["SIO-LIFE-3"],
        "SIGTERM between calls: exit status 0",
        Nothing,
        sigterm,
    ),
    case(
        "cloudevent.sigterm-in-flight",
        // Level: the server removed containers with SIGKILL, never SIGTERM.
        Should,
        &["SIO-LIFE-3"],
        "SIGTERM during a call: the call is answered, then exit status 0",
        Probe,
        sigterm_in_flight,
    ),
    case(
        "cloudevent.listener-ignored",
        // Level: 0.3.602 set FN_LISTENER only for http-stream, never with these
        // formats.
        Should,
        &["SIO-ENV-2"],
        "a valid FN_LISTENER changes nothing: calls on stdio, no socket created",
        Nothing,
        listener_ignored,
    ),
    case(
        "cloudevent.unknown-format",
        // Level: the server only ever set the exact format names.
        Should,
        &["SIO-ENV-1"],
        "FN_FORMAT=CLOUDEVENT (not an exact name): a stderr line naming it and a non-zero exit",
        Nothing,
        unknown_format,
    ),
];
