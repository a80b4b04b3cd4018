//! One call a stdio case makes ([`StdioCall`]): the client's request, its
//! deadline, and how it is written.

use std::time::Duration;

use fn_emulator::process::FN_ID;
use fn_emulator::stdio::wire::ClientRequest;

use super::StdioFormat;

/// The client's `User-Agent`.
pub(crate) const USER_AGENT: &str = concat!("fdk-conformance/", env!("CARGO_PKG_VERSION"));
/// The function's timeout: the server's default (30 s).
pub(crate) const TIMEOUT: Duration = Duration::from_secs(30);

/// The URL of an `/invoke` call.
pub(crate) fn invoke_url() -> String {
    format!("http://localhost:8080/invoke/{FN_ID}")
}

/// One call to make: the client's request and the deadline.
#[derive(Debug, Clone)]
pub(crate) struct StdioCall {
    pub(super) req: ClientRequest,
    pub(super) timeout: Duration,
    pub(super) patience: Duration,
    pub(super) raw_deadline: Option<String>,
    pub(super) pieces: usize,
    pub(super) pause: Duration,
}

impl Default for StdioCall {
    fn default() -> Self {
        Self::new()
    }
}

impl StdioCall {
    /// `POST /invoke/<fn id>` with no body and the server's default
    /// timeout.
    pub(crate) fn new() -> Self {
        Self {
            req: ClientRequest {
                method: "POST".into(),
                url: invoke_url(),
                headers: vec![("User-Agent".into(), USER_AGENT.into())],
                body: Vec::new(),
                chunked: false,
            },
            timeout: TIMEOUT,
            patience: Duration::ZERO,
            raw_deadline: None,
            pieces: 1,
            pause: Duration::ZERO,
        }
    }

    /// The client's method and URL (an HTTP trigger's, say).
    pub(crate) fn at(mut self, method: &str, url: &str) -> Self {
        self.req.method = method.to_owned();
        self.req.url = url.to_owned();
        self
    }

    /// Adds a client header.
    pub(crate) fn header(mut self, name: &str, value: &str) -> Self {
        self.req.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    /// Sets the body.
    pub(crate) fn body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.req.body = body.into();
        self
    }

    /// A text body the handler sees as `text` in every format: for
    /// `cloudevent` the client sends it as a JSON string (the server wraps
    /// only JSON bodies), `text/plain` everywhere.
    pub(crate) fn text(self, format: StdioFormat, text: &str) -> Self {
        let body = if format == StdioFormat::Cloudevent {
            serde_json::Value::String(text.to_owned()).to_string()
        } else {
            text.to_owned()
        };
        self.header("Content-Type", "text/plain").body(body)
    }

    /// The client sends the body chunked.
    pub(crate) fn chunked(mut self) -> Self {
        self.req.chunked = true;
        self
    }

    /// Asks the probe for `op` through the `X-Probe` header.
    pub(crate) fn probe(self, op: &str) -> Self {
        self.header("X-Probe", op)
    }

    /// The function's timeout for this call (the deadline is now plus it).
    pub(crate) fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Waits this much past the deadline before giving up: more patient
    /// than the server, to see what the function itself does at its
    /// deadline (the server would have answered 504 and killed it).
    pub(crate) fn patience(mut self, extra: Duration) -> Self {
        self.patience = extra;
        self
    }

    /// Writes this deadline as is (a past one, say); the harness still
    /// gives up after the timeout.
    pub(crate) fn raw_deadline(mut self, deadline: &str) -> Self {
        self.raw_deadline = Some(deadline.to_owned());
        self
    }

    /// `default`: writes the body in `pieces` with `pause` between them.
    pub(crate) fn in_pieces(mut self, pieces: usize, pause: Duration) -> Self {
        self.pieces = pieces;
        self.pause = pause;
        self
    }

    /// The client's request.
    pub(crate) fn request(&self) -> &ClientRequest {
        &self.req
    }
}
