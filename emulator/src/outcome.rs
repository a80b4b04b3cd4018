//! What the real server makes of a function's answer (contract §5.1, §5.3):
//! the status and message its client gets, and whether the container is
//! kept or killed. Every verdict the harness gives is phrased in these terms.

use std::fmt;

#[cfg(test)]
use crate::http1::Head;
use crate::http1::{Response, ResponseError};
use crate::ready::StartError;
use crate::wire;

/// Hop-by-hop headers (`api/common/io_utils.go`): the server never passes
/// them between its client and the function, either way.
pub const HOP_BY_HOP: [&str; 9] = [
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

/// What happens to the container after a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fate {
    /// It serves the next call.
    Kept,
    /// The server shuts it down (the next call pays a cold start).
    Killed,
}

/// How the server would answer its client, and the container's fate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerView {
    /// The status the server's client gets.
    pub client_status: u16,
    /// The server's error message (`{"message": ...}`), if it answers one.
    pub message: Option<&'static str>,
    /// Kept or killed.
    pub container: Fate,
}

impl ServerView {
    /// "error receiving function response": the agent's request failed
    /// before any head (a refused dial, a dead container, a close), and the
    /// container goes.
    pub(crate) fn receive_error() -> Self {
        Self {
            client_status: 502,
            message: Some("error receiving function response"),
            container: Fate::Killed,
        }
    }
}

impl fmt::Display for ServerView {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "client gets {}", self.client_status)?;
        if let Some(message) = self.message {
            write!(f, " \"{message}\"")?;
        }
        match self.container {
            Fate::Kept => f.write_str(", container kept"),
            Fate::Killed => f.write_str(", container killed"),
        }
    }
}

/// Is the call an HTTP-trigger call (the gateway) or an `/invoke`?
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallKind {
    /// `POST /invoke/<fn id>`.
    Invoke,
    /// An HTTP trigger (`Fn-Intent: httprequest`).
    Gateway,
}

/// The server's view of one call's result (`agent.go` `writeResp`,
/// `runner_httptrigger.go`).
pub fn classify(result: &Result<Response, ResponseError>, kind: CallKind) -> ServerView {
    let view = |client_status, message, container| ServerView {
        client_status,
        message,
        container,
    };
    // The status decides first: the agent switches on it as soon as the
    // head arrives, and reads the body of a 200 only.
    let status = match result {
        Ok(res) => Some(res.status),
        Err(ResponseError::Body { status, .. }) => Some(*status),
        Err(_) => None,
    };
    match (status, result) {
        (Some(502), _) => view(502, Some("function failed"), Fate::Kept),
        (Some(504), _) => view(504, Some("Timed out"), Fate::Kept),
        (Some(200), Ok(res)) => view(success_status(res, kind), None, Fate::Kept),
        // A 200 whose body stalls: the call's deadline passes while the
        // server copies it (504, killed). One cut short or mangled: the
        // copy fails with a raw I/O error, which the server answers 500
        // with an empty body, keeping the container (observed on 0.3.753).
        (Some(200), Err(e)) if e.timed_out() => view(504, Some("Timed out"), Fate::Killed),
        (Some(200), Err(ResponseError::Body { error, .. }))
            if matches!(**error, ResponseError::TooLarge(_)) =>
        {
            // The harness's own body limit stands in for the server's
            // FN_MAX_RESPONSE_SIZE (unlimited by default).
            view(502, Some("function response body too large"), Fate::Kept)
        }
        (Some(200), Err(_)) => view(500, None, Fate::Kept),
        (Some(_), _) => view(502, Some("invalid function response"), Fate::Killed),
        // No response head by the deadline: the server times the call out
        // and kills the container.
        (None, Err(e)) if e.timed_out() => view(504, Some("Timed out"), Fate::Killed),
        // Go's `server response headers exceeded` (10 MiB).
        (None, Err(ResponseError::TooLarge(_))) => view(
            502,
            Some("function response header too large"),
            Fate::Killed,
        ),
        (None, _) => ServerView::receive_error(),
    }
}

/// The client's status for a 200: for triggers, `Fn-Http-Status` when it is
/// a positive integer (`strconv.Atoi`), else 200 (HS-GW-7).
fn success_status(res: &Response, kind: CallKind) -> u16 {
    if kind == CallKind::Invoke {
        return 200;
    }
    res.header(wire::HTTP_STATUS)
        .and_then(|v| v.trim().parse::<u16>().ok())
        .filter(|&s| (100..=999).contains(&s))
        .unwrap_or(200)
}

/// The headers the trigger's client gets from a 200: `Fn-Http-H-<Name>` as
/// `<Name>`, `Content-Type` as is, everything else dropped (HS-GW-7).
pub fn gateway_client_headers(res: &Response) -> Vec<(String, String)> {
    res.headers()
        .filter_map(|(name, value)| {
            let lower = name.to_ascii_lowercase();
            if lower == "content-type" {
                Some(("content-type".to_owned(), value.to_owned()))
            } else {
                let prefix = wire::HTTP_HEADER_PREFIX.len();
                lower
                    .get(..prefix)
                    .filter(|p| p.eq_ignore_ascii_case(wire::HTTP_HEADER_PREFIX))
                    .and_then(|_| lower.get(prefix..))
                    .filter(|rest| !rest.is_empty())
                    .map(|rest| (rest.to_owned(), value.to_owned()))
            }
        })
        .collect()
}

/// Why a function could not be started or reached: what happened, and what
/// the server would have answered its client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentError {
    /// What happened, in a sentence.
    pub what: String,
    /// What the real Fn server would have done to its client and container.
    pub server: Option<ServerView>,
}

impl AgentError {
    /// An error described by `what`, with no server answer of its own.
    pub fn new(what: impl Into<String>) -> Self {
        Self {
            what: what.into(),
            server: None,
        }
    }
}

impl fmt::Display for AgentError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.what)
    }
}

impl std::error::Error for AgentError {}

/// What the server answers when a container does not start (§3).
pub(crate) fn start_failure(e: &StartError) -> ServerView {
    let (client_status, message) = match e {
        StartError::TimedOut(_) => (
            504,
            "Container initialization timed out, please ensure you are using the latest fdk and check the logs",
        ),
        _ => (
            502,
            "Container failed to initialize, please ensure you are using the latest fdk and check the logs",
        ),
    };
    ServerView {
        client_status,
        message: Some(message),
        container: Fate::Killed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io;

    fn res(status: u16, headers: &[(&str, &str)]) -> Result<Response, ResponseError> {
        Ok(Response {
            status,
            head: Head::response(status, headers.iter().copied()),
            body: Vec::new(),
            close: false,
        })
    }

    fn body_error(status: u16, error: ResponseError) -> Result<Response, ResponseError> {
        Err(ResponseError::Body {
            status,
            head: Box::new(Head::response(status, [])),
            error: Box::new(error),
        })
    }

    fn malformed() -> ResponseError {
        ResponseError::Malformed("body ended early".into())
    }

    fn stalled() -> ResponseError {
        ResponseError::Io(io::ErrorKind::WouldBlock.into())
    }

    #[test]
    fn statuses_map_as_the_server_maps_them() {
        use CallKind::*;
        let cases = [
            (res(200, &[]), Invoke, "200, container kept"),
            (
                res(200, &[("Fn-Http-Status", "404")]),
                Gateway,
                "404, container kept",
            ),
            (
                res(200, &[("Fn-Http-Status", "404")]),
                Invoke,
                "200, container kept",
            ),
            (
                res(200, &[("Fn-Http-Status", "abc")]),
                Gateway,
                "200, container kept",
            ),
            (
                res(502, &[]),
                Invoke,
                "502 \"function failed\", container kept",
            ),
            (res(504, &[]), Gateway, "504 \"Timed out\", container kept"),
            (
                res(500, &[]),
                Invoke,
                "502 \"invalid function response\", container killed",
            ),
            (
                res(204, &[]),
                Gateway,
                "502 \"invalid function response\", container killed",
            ),
            (
                Err(ResponseError::Closed),
                Invoke,
                "502 \"error receiving function response\", container killed",
            ),
            (
                Err(ResponseError::Io(io::ErrorKind::WouldBlock.into())),
                Invoke,
                "504 \"Timed out\", container killed",
            ),
            (
                Err(ResponseError::TooLarge("header section")),
                Invoke,
                "502 \"function response header too large\", container killed",
            ),
            (body_error(200, malformed()), Invoke, "500, container kept"),
            (
                body_error(200, stalled()),
                Gateway,
                "504 \"Timed out\", container killed",
            ),
            (
                body_error(502, malformed()),
                Invoke,
                "502 \"function failed\", container kept",
            ),
            (
                body_error(504, stalled()),
                Invoke,
                "504 \"Timed out\", container kept",
            ),
            (
                body_error(500, malformed()),
                Invoke,
                "502 \"invalid function response\", container killed",
            ),
        ];
        // As reports show the view: "client gets <shown>".
        for (result, kind, shown) in cases {
            let view = classify(&result, kind).to_string();
            assert_eq!(view, format!("client gets {shown}"), "{result:?}");
        }
    }

    #[test]
    fn gateway_clients_see_only_prefixed_headers_and_content_type() {
        let r = res(
            200,
            &[
                ("Fn-Http-H-X-Thing", "v1"),
                ("Fn-Http-H-X-Thing", "v2"),
                ("Content-Type", "text/plain"),
                ("X-Unprefixed", "z"),
                ("Fn-Fdk-Version", "x"),
                ("Fn-Http-H-", "empty"),
            ],
        )
        .unwrap();
        assert_eq!(
            gateway_client_headers(&r),
            [
                ("x-thing".to_owned(), "v1".to_owned()),
                ("x-thing".to_owned(), "v2".to_owned()),
                ("content-type".to_owned(), "text/plain".to_owned()),
            ]
        );
    }
}
