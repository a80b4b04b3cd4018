//! How a call ended, decided once, and the one finisher that turns it into
//! the answer of a transport.
//!
//! [`dispatch`](crate::dispatch) makes an [`Outcome`] for every request: it
//! reads the handler's response mark once ([`Outcome::of`]) or names what
//! went wrong around the handler (a panic, the deadline, a request that is
//! not a call, a head over the limits). Each transport then has one small
//! status policy ([`Transport::status`]): the socket's is 200, 502 or 504
//! (`response/encode.rs`), the stdin/stdout formats' is the status the old
//! server passed through (`stdio/mod.rs`). [`finish`] applies it, writes the
//! error texts and adds the FDK's own headers, on every transport alike.
//!
//! | outcome                              | socket, invoke call           | socket, gateway call                    | stdin/stdout formats     |
//! |--------------------------------------|-------------------------------|-----------------------------------------|--------------------------|
//! | [`Returned`](Outcome::Returned)      | 200, user status in `Fn-Http-Status` unless 200 | 200, `Fn-Http-Status`, `Fn-Http-H-*` | the user's status |
//! | [`Rejected`](Outcome::Rejected)      | 502                           | 200, `Fn-Http-Status: 400` (413)        | 400 (413)                |
//! | [`Failed`](Outcome::Failed)          | 502                           | 502                                     | 500                      |
//! | [`Panicked`](Outcome::Panicked)      | 502                           | 502                                     | 500                      |
//! | [`TimedOut`](Outcome::TimedOut)      | 504                           | 504                                     | 504                      |
//! | [`NotACall`](Outcome::NotACall)      | 502                           | 502                                     | (cannot happen)          |
//! | [`HeadRefused`](Outcome::HeadRefused)| 502                           | 502                                     | (cannot happen)          |
//! | [`TooManyHeaders`](Outcome::TooManyHeaders) | 502                    | 502                                     | 500                      |
//!
//! Every answer carries `Fn-Fdk-Version` and `Fn-Fdk-Runtime`; every one
//! but the first row has a JSON `{"message": …}` body.

use std::borrow::Cow;

use http::{Method, StatusCode};

use crate::logs;
use crate::protocol::client_status;
use crate::response::Response;
#[cfg(feature = "stdio")]
use crate::response::encode::without_unsendable;
use crate::response::encode::{self, CallKind, TooManyHeaders, identify};
use crate::response::mark::{self, Mark};

/// How a call ended: a closed set, so every transport answers every case.
#[derive(Debug)]
pub(crate) enum Outcome {
    /// The handler returned a response of its own.
    Returned(Response),
    /// An extractor refused the input; its response (400, or 413 past the
    /// body limit) and the message.
    Rejected { res: Response, message: String },
    /// The handler returned an error; its response (a JSON message) and the
    /// message.
    Failed { res: Response, message: String },
    /// The handler panicked; the payload's message.
    Panicked(String),
    /// The deadline passed before the handler finished.
    TimedOut,
    /// A request the server never sends (another method or path).
    NotACall { method: Method, path: String },
    /// The request head was over the FDK's limits or not valid HTTP
    /// (HS-REQ-10); why.
    HeadRefused(String),
    /// The response's headers did not fit with the FDK's own (HS-RESP-13).
    TooManyHeaders(TooManyHeaders),
}

impl Outcome {
    /// Classifies what the handler (or an extractor) returned, by the mark
    /// its `IntoResponse` set; the mark is taken off, so it is read once.
    pub(crate) fn of(mut res: Response) -> Self {
        match res.extensions_mut().remove::<Mark>() {
            None => Self::Returned(res),
            Some(Mark::Rejected(message)) => Self::Rejected { res, message },
            Some(Mark::Failed(message)) => Self::Failed { res, message },
        }
    }

    /// A failed call with `message`, for failures the FDK finds itself.
    #[cfg(feature = "stdio")]
    pub(crate) fn failed(message: String) -> Self {
        Self::of(mark::failed(message))
    }

    /// The status the call's client gets for this outcome: the handler's
    /// own, or the ordinary HTTP status of the failure. The stdin/stdout
    /// formats send it (the server passed the function's status through,
    /// SIO-ERR-1..4); the socket carries it as HS-RESP-1 says.
    pub(crate) fn client_status(&self) -> StatusCode {
        match self {
            Self::Returned(res) => res.status(),
            // 400, or the 413 of a body past the limit.
            Self::Rejected { res, .. } if res.status().is_client_error() => res.status(),
            Self::Rejected { .. } => client_status::REJECTED,
            Self::TimedOut => client_status::TIMED_OUT,
            Self::Failed { .. }
            | Self::Panicked(_)
            | Self::NotACall { .. }
            | Self::HeadRefused(_)
            | Self::TooManyHeaders(_) => client_status::FAILED,
        }
    }

    /// Did the call fail, as opposed to return a response of its own?
    pub(crate) fn is_failure(&self) -> bool {
        !matches!(self, Self::Returned(_))
    }

    /// The error text of an outcome without a response of its own.
    fn message(&self) -> Cow<'_, str> {
        match self {
            Self::Panicked(message) => format!("the function panicked: {message}").into(),
            Self::TimedOut => "the function did not finish before its deadline".into(),
            Self::NotACall { method, path } => format!(
                "unexpected request {method} {path}: the Fn server only sends POST /call on this socket"
            )
            .into(),
            Self::HeadRefused(message) => message.as_str().into(),
            Self::TooManyHeaders(too_many) => too_many.message().into(),
            Self::Returned(_) => "".into(),
            Self::Rejected { message, .. } | Self::Failed { message, .. } => {
                message.as_str().into()
            }
        }
    }
}

/// Where the answer goes, and so which status policy applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Transport {
    /// The http-stream socket: 200, 502 or 504 (HS-RESP-1).
    Socket(CallKind),
    /// A stdin/stdout format: the status the client gets (SIO-ERR-1..4).
    #[cfg(feature = "stdio")]
    Stdio,
}

impl Transport {
    /// The status this transport answers `outcome` with.
    pub(crate) fn status(self, outcome: &Outcome) -> StatusCode {
        match self {
            Self::Socket(kind) => encode::socket_status(outcome, kind),
            #[cfg(feature = "stdio")]
            Self::Stdio => outcome.client_status(),
        }
    }

    /// Is a rejected input the call's failure (logged as an error) rather
    /// than the client's (a warning)?
    pub(crate) fn rejections_fail(self) -> bool {
        self == Self::Socket(CallKind::Invoke)
    }

    /// A response of the handler's own under `status`: the socket carries
    /// the user's status and headers as the call kind requires, the stdio
    /// formats send them as they are.
    fn carry(self, res: Response, status: StatusCode) -> Result<Response, TooManyHeaders> {
        match self {
            Self::Socket(kind) => encode::carry(res, status, kind),
            #[cfg(feature = "stdio")]
            Self::Stdio => {
                let (mut parts, body) = res.into_parts();
                parts.status = status;
                parts.headers = without_unsendable(std::mem::take(&mut parts.headers));
                Ok(Response::from_parts(parts, body))
            }
        }
    }
}

/// The answer to `outcome` of call `call_id` on `transport`, with the FDK's
/// headers (HS-RESP-3, SIO-IO-5). A response whose headers leave no room
/// for them becomes a failure that says so (HS-RESP-13, SIO-ERR-9).
pub(crate) fn finish(outcome: Outcome, transport: Transport, call_id: &str) -> Response {
    let status = transport.status(&outcome);
    let res = match outcome {
        Outcome::Returned(res) | Outcome::Rejected { res, .. } | Outcome::Failed { res, .. } => {
            transport.carry(res, status)
        }
        other => Ok(mark::json_error(status, &other.message())),
    };
    match res.and_then(identified) {
        Ok(res) => res,
        Err(too_many) => {
            let outcome = Outcome::TooManyHeaders(too_many);
            let status = transport.status(&outcome);
            let message = outcome.message();
            logs::error(format_args!(
                "call {call_id} failed: {message}; answered {}",
                status.as_u16()
            ));
            let mut res = mark::json_error(status, &message);
            // A fresh map with one entry: these cannot fail.
            let _ = identify(res.headers_mut());
            res
        }
    }
}

fn identified(mut res: Response) -> Result<Response, TooManyHeaders> {
    let before = TooManyHeaders::of(res.headers());
    match identify(res.headers_mut()) {
        Ok(()) => Ok(res),
        Err(_) => Err(before),
    }
}
