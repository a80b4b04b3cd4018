//! Every name and number of the Fn contract, in one place.
//!
//! The requirement IDs refer to `protocol-spec/http-stream.md` (`HS-…`) and
//! `protocol-spec/stdio.md` (`SIO-…`, `JSON-…`, `HTTP-…`, `DEF-…`, `CE-…`).

use http::HeaderName;

// ---- environment (HS-ENV) -------------------------------------------------

/// `unix:<path>` of the socket the server dials (HS-ENV-1).
pub(crate) const ENV_LISTENER: &str = "FN_LISTENER";
/// The protocol the server speaks; unset, empty or `http-stream` (HS-ENV-3).
pub(crate) const ENV_FORMAT: &str = "FN_FORMAT";
pub(crate) const ENV_APP_ID: &str = "FN_APP_ID";
pub(crate) const ENV_FN_ID: &str = "FN_FN_ID";
pub(crate) const ENV_APP_NAME: &str = "FN_APP_NAME";
pub(crate) const ENV_FN_NAME: &str = "FN_FN_NAME";
pub(crate) const ENV_MEMORY: &str = "FN_MEMORY";
pub(crate) const ENV_TYPE: &str = "FN_TYPE";
/// The largest buffered request body, in bytes: this FDK's own knob
/// (HS-REQ-9, SIO-ERR-8), not something the server sets.
pub(crate) const ENV_MAX_BODY: &str = "FDK_MAX_BODY";
/// Log framing, set by OCI Functions (HS-LOG-3).
pub(crate) const ENV_LOGFRAME_NAME: &str = "FN_LOGFRAME_NAME";
pub(crate) const ENV_LOGFRAME_HDR: &str = "FN_LOGFRAME_HDR";

/// The only scheme `FN_LISTENER` may use.
pub(crate) const LISTENER_SCHEME: &str = "unix:";
/// `sockaddr_un.sun_path` holds 108 bytes including the NUL.
pub(crate) const MAX_SOCKET_PATH: usize = 107;
/// The value of `FN_FORMAT` that selects this protocol.
pub(crate) const FORMAT_HTTP_STREAM: &str = "http-stream";
/// `FN_FORMAT` values of the stdin/stdout formats servers up to 0.3.602
/// used (`protocol-spec/stdio.md`, SIO-ENV-1).
pub(crate) const FORMAT_JSON: &str = "json";
pub(crate) const FORMAT_HTTP: &str = "http";
pub(crate) const FORMAT_DEFAULT: &str = "default";
pub(crate) const FORMAT_CLOUDEVENT: &str = "cloudevent";

// ---- socket (HS-SOCK) -----------------------------------------------------

/// How long before the server's own deadline the FDK answers 504, so that
/// its answer arrives first and the container survives (HS-DL-4). It must
/// exceed the time between the server starting its clock and the request
/// arriving: a real fnserver 0.3.753 measured 0 ms for a cold call and
/// 6-16 ms for a call that thaws a frozen container, on a busy 2-core
/// machine. A call that ends in the last `DEADLINE_LEAD` less that lead
/// gets 504, where the server would have served it (HS-DL-3).
pub(crate) const DEADLINE_LEAD: std::time::Duration = std::time::Duration::from_millis(50);

/// Prefix of the private socket name, bound before the public symlink exists
/// (the same name fdk-go uses, so operators recognise it).
pub(crate) const PRIVATE_SOCKET_PREFIX: &str = "phony";
/// Mode of the socket file: the agent may run under another uid (HS-SOCK-2).
pub(crate) const SOCKET_MODE: u32 = 0o666;

// ---- request (HS-REQ) -----------------------------------------------------

/// The one path the server calls.
pub(crate) const CALL_PATH: &str = "/call";
/// The path of the request a handler sees for an invoke call, which has
/// no URL of its own (HS-REQ-11).
pub(crate) const INVOKE_PATH: &str = "/";

/// Header lines (or header values) accepted in one request, on the socket
/// and in every stdin format (hyper's default is 100): a trigger forwards
/// every client header (HS-REQ-8). A request with more is answered with an
/// error, never a crash (HS-REQ-10, SIO-ERR-9). `http::HeaderMap` holds at
/// most 32,768 entries and panics when asked for a capacity over 24,576;
/// 16,384 leaves room for the headers the FDK and user code add to a copy.
pub(crate) const MAX_HEADERS: usize = 16 << 10;
/// Bytes accepted in one request head: Go's default `MaxHeaderBytes`
/// (1 MiB, what the server's front end accepts from a client) plus room for
/// the request line and the headers the server adds.
pub(crate) const MAX_HEAD_BYTES: usize = (1 << 20) + (64 << 10);

/// `Fn-Call-Id`: the call's id.
pub(crate) static FN_CALL_ID: HeaderName = HeaderName::from_static("fn-call-id");
/// `Fn-Deadline`: RFC 3339, whole seconds, truncated (HS-DL-1).
pub(crate) static FN_DEADLINE: HeaderName = HeaderName::from_static("fn-deadline");
/// `Fn-Intent: httprequest` marks an HTTP-gateway (trigger) call (HS-GW-1).
pub(crate) static FN_INTENT: HeaderName = HeaderName::from_static("fn-intent");
/// The value of `Fn-Intent` for gateway calls.
pub(crate) const INTENT_HTTP_REQUEST: &str = "httprequest";
/// The client's method, gateway calls only.
pub(crate) static FN_HTTP_METHOD: HeaderName = HeaderName::from_static("fn-http-method");
/// The client's URL, gateway calls only.
pub(crate) static FN_HTTP_REQUEST_URL: HeaderName = HeaderName::from_static("fn-http-request-url");
/// Prefix of the client's headers (request) and the user's headers (response)
/// in gateway mode, lower-case as `http` stores names.
pub(crate) const FN_HTTP_H_PREFIX: &str = "fn-http-h-";

/// `FN_MEMORY` when it is unset or not a number: the server's default
/// function memory, in MB (HS-REQ-9).
pub(crate) const DEFAULT_MEMORY_MB: u64 = 128;
/// Memory kept out of the body budget, in MiB: the binary, the runtime,
/// stacks, buffers and allocator slack (HS-REQ-9).
pub(crate) const MEMORY_RESERVE_MB: u64 = 32;
/// The default body limit never goes below this: HS-REQ-2 promises 6 MiB
/// (OCI Functions' payload limit), whatever the memory.
pub(crate) const MIN_BODY_BYTES: usize = 6 << 20;

// ---- response (HS-RESP) ---------------------------------------------------

/// The user's status, carried next to the socket status (HS-GW-4, HS-RESP-8).
pub(crate) static FN_HTTP_STATUS: HeaderName = HeaderName::from_static("fn-http-status");
/// `Fn-Fdk-Version: fdk-rust/<version>` on every response (HS-RESP-3).
pub(crate) static FN_FDK_VERSION: HeaderName = HeaderName::from_static("fn-fdk-version");
/// `Fn-Fdk-Runtime: rust/<rustc version>` on every response (HS-RESP-3).
pub(crate) static FN_FDK_RUNTIME: HeaderName = HeaderName::from_static("fn-fdk-runtime");

/// The value of `Fn-Fdk-Version`.
pub const FDK_VERSION: &str = concat!("fdk-rust/", env!("CARGO_PKG_VERSION"));
/// The value of `Fn-Fdk-Runtime`: the rustc this crate was compiled with.
pub const FDK_RUNTIME: &str = concat!("rust/", env!("FDK_RUSTC_VERSION"));

/// The three statuses the server accepts on the socket (HS-RESP-1).
/// Any other status gets the container killed.
pub(crate) mod socket_status {
    use http::StatusCode;
    /// The FDK processed the call.
    pub(crate) const PROCESSED: StatusCode = StatusCode::OK;
    /// The function failed; the container is kept.
    pub(crate) const FUNCTION_FAILED: StatusCode = StatusCode::BAD_GATEWAY;
    /// The call ran past its deadline; the container is kept.
    pub(crate) const TIMED_OUT: StatusCode = StatusCode::GATEWAY_TIMEOUT;
}

/// Hop-by-hop headers (`api/common/io_utils.go`): never forwarded by the
/// server, and never sent by the FDK from user code, because on the socket
/// they would change the connection's framing (HS-RESP-9).
pub(crate) const HOP_BY_HOP: [&str; 9] = [
    "connection",
    "proxy-connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
];

// ---- stdin/stdout formats (protocol-spec/stdio.md) -------------------------

/// The metadata of a `default` (cold) call, one variable each (DEF-REQ-*).
#[cfg(feature = "stdio")]
pub(crate) const ENV_CALL_ID: &str = "FN_CALL_ID";
#[cfg(feature = "stdio")]
pub(crate) const ENV_DEADLINE: &str = "FN_DEADLINE";
#[cfg(feature = "stdio")]
pub(crate) const ENV_METHOD: &str = "FN_METHOD";
#[cfg(feature = "stdio")]
pub(crate) const ENV_REQUEST_URL: &str = "FN_REQUEST_URL";
/// `FN_HEADER_<Name>`: one request header of a `default` call.
#[cfg(feature = "stdio")]
pub(crate) const ENV_HEADER_PREFIX: &str = "FN_HEADER_";

/// The metadata headers of the `http` format, as Go canonicalises
/// `FN_CALL_ID` & co. (`Fn_call_id`); `http` stores them lower-case.
#[cfg(feature = "stdio")]
pub(crate) static HTTP_FN_CALL_ID: HeaderName = HeaderName::from_static("fn_call_id");
#[cfg(feature = "stdio")]
pub(crate) static HTTP_FN_DEADLINE: HeaderName = HeaderName::from_static("fn_deadline");
#[cfg(feature = "stdio")]
pub(crate) static HTTP_FN_METHOD: HeaderName = HeaderName::from_static("fn_method");
#[cfg(feature = "stdio")]
pub(crate) static HTTP_FN_REQUEST_URL: HeaderName = HeaderName::from_static("fn_request_url");

/// The largest request the stdin/stdout formats buffer (they read a whole
/// request before the call), whatever `FDK_MAX_BODY` says: far above the
/// server's own limits, low enough that garbage cannot take all memory
/// (SIO-ERR-5, SIO-ERR-8).
#[cfg(feature = "stdio")]
pub(crate) const MAX_BODY_BYTES: usize = 64 << 20;
/// The longest chunk-size or trailer line of the `http` format (Go's
/// `net/http` allows 4 KiB).
#[cfg(feature = "stdio")]
pub(crate) const MAX_LINE_BYTES: usize = 4 << 10;

/// The `cloudevent` format's fixed values (CE-RESP-1, CE-RESP-2); the
/// format needs the `json` feature.
#[cfg(all(feature = "stdio", feature = "json"))]
pub(crate) mod cloudevent {
    /// The two `contentType`s the 0.3.602 server accepts from a function:
    /// it compares the strings exactly (CE-RESP-2).
    pub(crate) const JSON: &str = "application/json";
    pub(crate) const TEXT: &str = "text/plain";
    /// Go's zero `time.Time`, which the server wrote as `eventTime`.
    pub(crate) const ZERO_TIME: &str = "0001-01-01T00:00:00Z";
}

/// The statuses a failed call has for its client: what the stdin/stdout
/// formats send (the server passes the function's status through,
/// SIO-ERR-*) and what the after-call hook is told on every transport.
pub(crate) mod client_status {
    use http::StatusCode;
    /// An extractor rejected the input: the caller's fault.
    pub(crate) const REJECTED: StatusCode = StatusCode::BAD_REQUEST;
    /// The handler returned an error or panicked.
    pub(crate) const FAILED: StatusCode = StatusCode::INTERNAL_SERVER_ERROR;
    /// The deadline passed.
    pub(crate) const TIMED_OUT: StatusCode = StatusCode::GATEWAY_TIMEOUT;
}

/// Is `name` (lower-case, as `http` stores it) a hop-by-hop header?
pub(crate) fn is_hop_by_hop(name: &str) -> bool {
    HOP_BY_HOP.contains(&name)
}
