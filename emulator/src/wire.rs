//! The names the Fn server puts on the wire and in a function's
//! environment, in one place (as the FDK's `protocol.rs` holds its own):
//! every other module of the emulator takes them from here. Tests keep
//! their literal vectors, so that a wrong name here cannot pass them.

/// The call id header (`Fn-Call-Id`).
pub const CALL_ID: &str = "Fn-Call-Id";
/// The call's deadline header (`Fn-Deadline`, RFC 3339, whole seconds).
pub(crate) const DEADLINE: &str = "Fn-Deadline";
/// A trigger call's client method.
pub(crate) const HTTP_METHOD: &str = "Fn-Http-Method";
/// A trigger call's client URL.
pub(crate) const HTTP_REQUEST_URL: &str = "Fn-Http-Request-Url";
/// Marks a trigger call (`Fn-Intent: httprequest`).
pub(crate) const INTENT: &str = "Fn-Intent";
/// The only `Fn-Intent` value the server sends.
pub(crate) const INTENT_HTTP_REQUEST: &str = "httprequest";
/// The prefix of a client header passed to a trigger call (and of a
/// function's header passed back to the trigger's client).
pub const HTTP_HEADER_PREFIX: &str = "Fn-Http-H-";
/// The status a function gives a trigger's client (socket status 200).
pub(crate) const HTTP_STATUS: &str = "Fn-Http-Status";

/// The socket the agent waits for in the iofs directory (`udsFilename`).
pub const SOCKET_NAME: &str = "lsnr.sock";
/// The prefix of every variable the server sets, and of none it passes
/// through from elsewhere.
pub(crate) const ENV_PREFIX: &str = "FN_";
/// `unix:<iofs>/lsnr.sock`.
pub(crate) const ENV_LISTENER: &str = "FN_LISTENER";
/// `http-stream` (or, at 0.3.602, one of the stdin/stdout formats).
pub(crate) const ENV_FORMAT: &str = "FN_FORMAT";
/// The app's id.
pub(crate) const ENV_APP_ID: &str = "FN_APP_ID";
/// The app's name (0.3.602).
pub(crate) const ENV_APP_NAME: &str = "FN_APP_NAME";
/// The function's id.
pub(crate) const ENV_FN_ID: &str = "FN_FN_ID";
/// The function's memory limit, in MB.
pub(crate) const ENV_MEMORY: &str = "FN_MEMORY";
/// `sync`.
pub(crate) const ENV_TYPE: &str = "FN_TYPE";
/// The route's path (0.3.602).
pub(crate) const ENV_PATH: &str = "FN_PATH";
/// The `default` format's per-call variables (0.3.602).
pub(crate) const ENV_CALL_ID: &str = "FN_CALL_ID";
/// See [`ENV_CALL_ID`].
pub(crate) const ENV_DEADLINE: &str = "FN_DEADLINE";
/// See [`ENV_CALL_ID`].
pub(crate) const ENV_METHOD: &str = "FN_METHOD";
/// See [`ENV_CALL_ID`].
pub(crate) const ENV_REQUEST_URL: &str = "FN_REQUEST_URL";
/// The value of [`ENV_FORMAT`] on current servers.
pub(crate) const FORMAT_HTTP_STREAM: &str = "http-stream";

// The container the server's docker driver creates for a hot function.
/// The server's `FN_MAX_PIDS` default: tasks, threads included.
pub const PIDS_MAX: u64 = 50;
/// The server's `nofile` ulimit.
pub const NOFILE: u64 = 350;
/// The server's `memlock` ulimit, in bytes.
pub(crate) const MEMLOCK: u64 = 64 * 1024;
/// The server's `sigpending` ulimit.
pub(crate) const SIGPENDING: u64 = 5000;
/// The server's `msgqueue` ulimit, in bytes.
pub(crate) const MSGQUEUE: u64 = 819_200;
/// The fn's default memory, MB (`FN_MEMORY`).
pub const DEFAULT_MEMORY_MB: u64 = 128;
