//! Every stdio case, written once with the formats it runs in
//! ([`stdio_cases`](super::stdio_cases)). The comment under a case's head
//! says why it has its level; where that differs by format, each format's
//! reason stands above its line.

use super::{checks, stdio_cases};
use crate::case::{Case, Meta, Needs};
use crate::level::Level;
use crate::stdio::StdioFormat;
use crate::stdio::harness::StdioHarness;

stdio_cases! {
    "waits": Must, Nothing, waits {
        // Level: a hot process that exits at once, or writes to stdout before a
        // request (which starts the first call's response), fails the server's calls.
        json http cloudevent: ["SIO-ENV-1", "SIO-IO-1", "SIO-IO-3"]
            "with stdin open and no request, the process waits and writes nothing";
    }
    "call": Must, Nothing, call {
        // Level: the server reads every response so: one that does not decode is a
        // 502 and a killed container, excess data after it kills the container.
        json: ["JSON-REQ-1", "SIO-IO-1", "SIO-IO-8", "SIO-ERR-7"]
            "a call gets one decodable 2xx response, nothing after it, container kept";
        http: ["HTTP-REQ-1", "SIO-IO-1", "SIO-IO-8", "SIO-ERR-7"]
            "a call gets one complete 2xx response, nothing after it, container kept";
        cloudevent: ["CE-REQ-1", "SIO-IO-1", "SIO-IO-8", "SIO-ERR-7"]
            "a call gets one decodable, mappable 2xx event, nothing after it, container kept";
        // Level: a non-zero exit is the server's 502 "container exit code N".
        default: ["DEF-REQ-1", "DEF-RESP-1", "DEF-RESP-3"]
            "a call exits 0 with a body on stdout (the client gets 200)";
    }
    "fdk-version": Should, Nothing, fdk_version {
        // Level: the server is indifferent to these headers (it passes them on).
        json: ["SIO-IO-5"]
            "responses carry Fn-Fdk-Version and Fn-Fdk-Runtime in protocol.headers";
        http: ["SIO-IO-5", "HTTP-RESP-2"]
            "responses carry Fn-Fdk-Version and Fn-Fdk-Runtime headers";
        cloudevent: ["SIO-IO-5"]
            "responses carry Fn-Fdk-Version and Fn-Fdk-Runtime in extensions.protocol.headers";
    }
    "framing": Should, Nothing, json_framing {
        // Level: the server's json.Decoder takes any white space and member order;
        // whether it can decode the response at all is judged by json.call (MUST).
        json: ["JSON-RESP-1", "JSON-RESP-3", "SIO-IO-3"]
            "one compact line {body, content_type, protocol{status_code, headers}} and \\n";
    }
    "framing": Must, Nothing, http_framing {
        // Level: a response framed by neither length nor chunks is read to the end
        // of stdout, which never comes: 504 and a killed container. The status
        // line's version and reason and a Connection header are only SHOULD.
        http: ["HTTP-RESP-1", "HTTP-RESP-4"]
            "HTTP/1.1 status line with its reason, framed by Content-Length or chunked, no Connection";
    }
    "framing": Should, Nothing, cloudevent_framing {
        // Level: the server's decoder takes any white space and member order, and
        // its client sees only `data`; whether it can decode and map the event at
        // all is judged by cloudevent.call (MUST).
        cloudevent: ["CE-RESP-1", "CE-RESP-2", "CE-RESP-3", "SIO-IO-3"]
            "one compact line: the ten members in order, copied request fields, extensions.protocol only";
    }
    "echo": Must, Probe, echo_body {
        // Level: a body the handler does not get whole is a call served wrong.
        json: ["JSON-REQ-2", "JSON-RESP-2", "JSON-RESP-4", "SIO-ERR-1"]
            "the body reaches the handler unchanged and comes back as the body";
        http: ["HTTP-REQ-3", "SIO-ERR-1"]
            "a binary body (NUL, CR LF, 0xff) reaches the handler unchanged and comes back";
        cloudevent: ["CE-REQ-2", "CE-RESP-2", "CE-RESP-4", "SIO-ERR-1"]
            "a text/plain string data reaches the handler unquoted and comes back as the body";
        default: ["DEF-REQ-1", "DEF-RESP-1"]
            "a binary body written in two parts is stdin until EOF, and exactly stdout";
    }
    "escapes": Must, Probe, escapes {
        // Level: the server's encoder writes these escapes in every body it sends.
        json: ["JSON-REQ-2", "JSON-RESP-2"]
            "a body with Go's escapes (\\u003c, \\u0026, \\u2028, \\\", \\t) arrives decoded and round-trips";
    }
    "chunked": Must, Probe, chunked {
        // Level: the server writes a chunked client body chunked (req.Write).
        http: ["HTTP-REQ-1", "HTTP-REQ-3"]
            "an 80 KiB chunked request body (three chunks) arrives whole";
    }
    "text-data": Must, Probe, text_data {
        // Level: the server wraps a text body as string data; a body the handler
        // does not get decoded, or an answer the server cannot map (500), is a call
        // served wrong.
        cloudevent: ["CE-REQ-2", "CE-RESP-2"]
            "escaped string data arrives decoded; an octet-stream answer goes out as text/plain";
    }
    "json-data": Must, Probe, json_data {
        // Level: the server wraps a JSON body as data; any contentType but exactly
        // application/json or text/plain is the server's 500.
        cloudevent: ["CE-REQ-2", "CE-RESP-2", "CE-RESP-4"]
            "object data arrives as compact JSON; a JSON answer goes out as application/json data";
    }
    "sequential": Must, Probe, sequential {
        // Level: the server sends a hot process call after call; one that exits or
        // answers out of step fails the calls that follow.
        json: ["SIO-IO-1", "SIO-LIFE-4", "JSON-REQ-1"]
            "10 calls in one process (frozen between calls), each answered with its own body";
        http: ["SIO-IO-1", "SIO-LIFE-4", "HTTP-REQ-1"]
            "10 calls in one process (frozen between calls), each answered with its own body";
        cloudevent: ["SIO-IO-1", "SIO-LIFE-4", "CE-REQ-1"]
            "10 calls in one process (frozen between calls), each answered with its own body";
    }
    "empty-stdin": Must, Probe, empty_stdin {
        // Level: the server sends an empty body as an empty stdin.
        default: ["DEF-REQ-1"]
            "an empty stdin is an empty body: exit 0, nothing on stdout";
    }
    "metadata": Must, Probe, metadata {
        // Level: the server sends call id, deadline, method, URL, headers and
        // config with every call; a value the handler does not see is a call served
        // wrong (framing headers shown to it are only SHOULD).
        json: ["SIO-IO-4", "SIO-ENV-3", "JSON-REQ-2", "JSON-REQ-3"]
            "the handler sees call_id, the deadline, method, URL, headers (no Content-Length) and config";
        http: ["SIO-IO-4", "SIO-ENV-3", "HTTP-REQ-2", "HTTP-REQ-3"]
            "the handler sees Fn_call_id, the deadline, method, URL, headers (no Fn_, Host, framing) and config";
        cloudevent: ["SIO-IO-4", "SIO-ENV-3", "CE-REQ-2", "CE-REQ-3"]
            "the handler sees eventID, the deadline extension, method, URL, headers and config";
        default: ["SIO-IO-4", "SIO-ENV-3", "DEF-REQ-2"]
            "the handler sees FN_CALL_ID, FN_DEADLINE, method, URL, FN_HEADER_* as headers, config";
    }
    "user-status": Must, Probe, user_status {
        // Level: the server passes the response's status and headers to the client;
        // one it does not get is a call served wrong.
        json: ["SIO-ERR-1", "JSON-RESP-3", "JSON-RESP-4"]
            "a returned 404 with repeated headers and a content type reaches the client as returned";
        http: ["SIO-ERR-1", "HTTP-RESP-2", "HTTP-RESP-4"]
            "a returned 404 with repeated headers and a content type reaches the client as returned";
        cloudevent: ["SIO-ERR-1", "CE-RESP-3", "CE-RESP-4"]
            "a returned 404 with repeated headers and a content type reaches the client as returned";
        // Level: a non-zero exit would turn the body into the server's 502; the
        // stderr warning naming the status is only SHOULD.
        default: ["DEF-RESP-1"]
            "a returned 404: its body on stdout, exit 0, and a stderr warning naming 404";
    }
    "dropped-headers": Must, Probe, dropped_headers {
        // Level: the server copies every response header to its client, so a
        // handler's Content-Length corrupts the client's response (MUST); a
        // Connection, Keep-Alive or Upgrade reaching it is only SHOULD.
        json cloudevent: ["SIO-IO-6"]
            "Connection, Keep-Alive, Upgrade and Content-Length set by the handler are not sent";
        http: ["SIO-IO-6"]
            "Connection, Keep-Alive, Upgrade and a wrong Content-Length set by the handler are not sent";
    }
    "no-body": Must, Probe, no_body {
        // Level: the server reads no body after HEAD or a 204, so body bytes
        // corrupt the next call (excess data, container killed); a length header on
        // the 204 is only SHOULD.
        http: ["HTTP-RESP-3", "HTTP-RESP-1"]
            "no body bytes for HEAD or a 204 (no length headers on the 204); the stream stays in step";
    }
    "error": Must, Probe, error {
        // Level: a handler error that is not answered (a crash) is a 502 and a
        // killed container, and a 2xx hides it from the client; a next call that
        // fails is a failed call. The JSON message is only SHOULD: the status decides.
        json cloudevent: ["SIO-ERR-3", "SIO-ERR-6"]
            "a handler error is a 500 with a JSON message, and the next call is served";
        http: ["SIO-ERR-3", "SIO-ERR-6", "HTTP-RESP-2"]
            "a handler error is a 500 with a JSON message, and the next call is served";
    }
    "exit-status": Must, Probe, error {
        // Level: exit 0 after a handler error is a 200 that hides the failure from
        // the client; the error on stderr is only SHOULD.
        default: ["DEF-RESP-2", "DEF-RESP-3", "SIO-ERR-6"]
            "a handler error: nothing on stdout, the error on stderr, exit 1 (502 container exit code 1)";
    }
    "panic": Must, Probe, panic {
        // Level: a panic that is not answered (a crash) is a 502 and a killed
        // container; a next call that fails is a failed call. The JSON message is
        // only SHOULD.
        json cloudevent: ["SIO-ERR-3", "SIO-ERR-6"]
            "a panic is a 500 with a JSON message, and the next call is served";
        http: ["SIO-ERR-3", "SIO-ERR-6", "HTTP-RESP-2"]
            "a panic is a 500 with a JSON message, and the next call is served";
        // Level: exit 0 after a panic is a 200 that hides the failure from the
        // client; the message on stderr is only SHOULD.
        default: ["DEF-RESP-2", "DEF-RESP-3"]
            "a panic: nothing on stdout, the message on stderr, exit 1";
    }
    "deadline-past": Should, Probe, deadline_past {
        // Level: the server never sends a request whose deadline has passed (it
        // writes the request as the call's clock starts).
        json http: ["SIO-DL-1", "SIO-DL-2", "SIO-ERR-4"]
            "a deadline long past gets a 504 without running the handler; the next call is served";
        cloudevent: ["SIO-DL-1", "SIO-DL-2", "SIO-ERR-4", "CE-REQ-3"]
            "a deadline extension long past gets a 504 without running the handler";
        // Level: the server never starts a call whose deadline has passed.
        default: ["DEF-RESP-2", "SIO-DL-1", "SIO-DL-2"]
            "FN_DEADLINE long past: the handler does not run, nothing on stdout, exit 1";
    }
    "deadline-running": Should, Probe, deadline_running {
        // Level: without the FDK's own 504 the server answers the same 504 at its
        // deadline and kills the container: the only cost is a cold start. A next
        // call that fails after the FDK's own 504 (container kept) is MUST.
        json http cloudevent: ["SIO-DL-2", "SIO-ERR-4"]
            "a handler still running at its deadline is answered 504 and the process goes on";
        // Level: without the FDK's own exit the server answers 504 at its deadline
        // and kills the process, which serves one call anyway.
        default: ["DEF-RESP-2", "SIO-DL-2"]
            "a handler still running at its deadline: nothing on stdout, exit 1";
    }
    "timeout": Must, Probe, timeout {
        // Level: a handler outliving its deadline is a sequence the server really
        // sends; the client must get 504 and the next call must be served.
        json http cloudevent: ["SIO-DL-3", "SIO-ERR-7", "SIO-LIFE-4"]
            "a handler outliving its deadline: the client gets 504, then the next call is served";
    }
    "big-body": Must, Probe, big_body {
        // Level: the server forwards any body; a changed one is a call served wrong.
        json: ["JSON-REQ-2", "JSON-RESP-2"]
            "a 6 MiB string body (escapes, non-ASCII) round-trips unchanged";
        http: ["HTTP-REQ-1", "HTTP-REQ-3"]
            "6 MiB of binary data round-trip unchanged";
        cloudevent: ["CE-REQ-2", "CE-RESP-2"]
            "6 MiB of string data (escapes, non-ASCII) round-trip unchanged";
        default: ["DEF-REQ-1", "DEF-RESP-1"]
            "6 MiB of binary data on stdin come back exactly on stdout";
    }
    "stray-output": Must, Probe, stray_output {
        // Level: a handler's stray stdout line corrupts the response stream: 502 and
        // a killed container. Losing the line instead of logging it is only SHOULD.
        json http cloudevent: ["SIO-IO-2", "SIO-IO-3"]
            "a line printed to stdout by the handler goes to the logs, not into the response stream";
        // Level: stdout is the body: a stray line changes the client's response.
        // Losing the line instead of logging it is only SHOULD.
        default: ["SIO-IO-2", "DEF-RESP-1"]
            "a line printed to stdout by the handler goes to the logs: stdout is exactly the body";
    }
    "malformed": Should, Nothing, malformed {
        // Level: the server always wrote well-formed requests (people and other
        // tools write the malformed ones).
        json: ["JSON-REQ-1", "SIO-ERR-5", "SIO-ERR-6"]
            "a line that is not JSON gets a 400 with a JSON message, then the next request is served";
        http: ["HTTP-REQ-4", "SIO-ERR-5", "SIO-ERR-6"]
            "a head that is not HTTP gets a 400 with a JSON message, then the process exits with 1";
        cloudevent: ["CE-REQ-1", "SIO-ERR-5", "SIO-ERR-6"]
            "a line that is not an event gets a 400 event with a JSON message, then the next is served";
    }
    "eof": Should, Nothing, eof {
        // Level: the server closed stdin only when it removed the container.
        json http cloudevent: ["SIO-LIFE-1"]
            "stdin closed between requests: exit status 0 within 3 s";
    }
    "eof-inside": Should, Nothing, eof_inside {
        // Level: the server never closed stdin inside a request.
        json: ["SIO-LIFE-2"]
            "stdin closed inside a request: no response, exit status 1";
        http: ["SIO-LIFE-2"]
            "stdin closed inside a request body: no response, exit status 1";
        cloudevent: ["SIO-LIFE-2"]
            "stdin closed inside an event: no response, exit status 1";
    }
    "sigterm": Should, Nothing, sigterm {
        // Level: the server removed containers with SIGKILL, never SIGTERM.
        json http cloudevent: ["SIO-LIFE-3"]
            "SIGTERM between calls: exit status 0";
    }
    "sigterm-in-flight": Should, Probe, sigterm_in_flight {
        // Level: the server removed containers with SIGKILL, never SIGTERM.
        json http cloudevent: ["SIO-LIFE-3"]
            "SIGTERM during a call: the call is answered, then exit status 0";
    }
    "listener-ignored": Should, Nothing, listener_ignored {
        // Level: 0.3.602 set FN_LISTENER only for http-stream, never with these
        // formats.
        json http cloudevent: ["SIO-ENV-2"]
            "a valid FN_LISTENER changes nothing: calls on stdio, no socket created";
        default: ["SIO-ENV-2"]
            "a valid FN_LISTENER changes nothing: the call is served, no socket created";
    }
    "unknown-format": Should, Nothing, unknown_format {
        // Level: the server only ever set the exact format names.
        json: ["SIO-ENV-1"]
            "FN_FORMAT=JSON (not an exact name): a stderr line naming it and a non-zero exit";
        http: ["SIO-ENV-1"]
            "FN_FORMAT=HTTP (not an exact name): a stderr line naming it and a non-zero exit";
        cloudevent: ["SIO-ENV-1"]
            "FN_FORMAT=CLOUDEVENT (not an exact name): a stderr line naming it and a non-zero exit";
        default: ["SIO-ENV-1"]
            "FN_FORMAT=DEFAULT (not an exact name): a stderr line naming it and a non-zero exit";
    }
}
