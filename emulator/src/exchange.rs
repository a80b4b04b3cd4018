//! What came of a call: the bytes sent, the answer read, what the server
//! would make of it, and the connection it went over.

use std::time::Duration;

use crate::http1::{Head, Response, ResponseError};
use crate::outcome::ServerView;
use crate::show::show_bytes;

/// How much of a body a report shows.
pub const SHOW_BODY: usize = 512;

/// Which connection carried a call: evidence for reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Via {
    /// The pooled connection, reused: it had carried `calls` calls and been
    /// idle for `idle`.
    Reused {
        /// Calls it carried before this one.
        calls: u32,
        /// Time since the last exchange on it ended.
        idle: Duration,
    },
    /// A new pooled connection; the previous one ended as told.
    New(Ended),
    /// A connection the case opened itself, outside the pool.
    Own,
}

/// Why there was no pooled connection to reuse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// None was ever opened to this process.
    Never,
    /// The harness closed it after this long idle, as the server's transport
    /// does after 1 s.
    IdleClose(Duration),
    /// The function had closed it (or sent bytes no call asked for).
    ByFunction,
    /// The last answer on it left it unusable: not a 200, `Connection:
    /// close`, a close-delimited body, or no answer (the server drops it too).
    AfterAnswer,
    /// The case opened its own connection; the server never holds two.
    ForCase,
}

impl std::fmt::Display for Via {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Reused { calls, idle } => write!(
                f,
                "the pooled keep-alive connection, reused (call {} on it, after {} ms idle)",
                calls + 1,
                idle.as_millis()
            ),
            Self::New(ended) => {
                f.write_str("a new connection")?;
                match ended {
                    Ended::Never => Ok(()),
                    Ended::IdleClose(idle) => write!(
                        f,
                        ": the harness closed the pooled one after {} ms idle, as the server's \
                         transport does after 1 s (IdleConnTimeout)",
                        idle.as_millis()
                    ),
                    Ended::ByFunction => f.write_str(": the function had closed the pooled one"),
                    Ended::AfterAnswer => f.write_str(
                        ": the previous answer left the pooled one unusable (not a 200, or closed), \
                         and the server drops such a connection",
                    ),
                    Ended::ForCase => {
                        f.write_str(": the case had opened a connection of its own")
                    }
                }
            }
            Self::Own => f.write_str("a connection the case opened itself"),
        }
    }
}

/// What the server's client got from one call ([`Agent::serve`](crate::Agent::serve)).
#[derive(Debug, Clone)]
pub struct Served {
    /// Status, message and the container's fate.
    pub view: ServerView,
    /// The body of a successful answer (empty for the server's errors).
    pub body: Vec<u8>,
    /// The process had exited on its own before this call was sent (so the
    /// call found a dead container).
    pub died_before: bool,
    /// The function's `Content-Length` that the server's error answer
    /// carries (a 200 head whose body failed): a client reading by length
    /// sees the error body cut or waits for more than comes.
    pub leaked_length: Option<u64>,
}

impl Served {
    /// A call the server failed before the function answered.
    pub(crate) fn failed(view: ServerView, died_before: bool) -> Self {
        Self {
            view,
            body: Vec::new(),
            died_before,
            leaked_length: None,
        }
    }

    /// What the client got from an exchange with the function.
    pub(crate) fn of(ex: Exchange) -> Self {
        // A 200 head whose body then failed: the server's error answer goes
        // out with the function's headers already in it (fn-contract §5.3,
        // observed), its `Content-Length` among them.
        let leaked_length = match &ex.result {
            Err(ResponseError::Body {
                status: 200, head, ..
            }) => head
                .field("content-length")
                .and_then(|value| value.trim().parse().ok()),
            _ => None,
        };
        let body = match (ex.result, ex.view.message) {
            (Ok(res), None) => res.body,
            _ => Vec::new(),
        };
        Self {
            view: ex.view,
            body,
            died_before: false,
            leaked_length,
        }
    }
}

/// One call and what came of it.
#[derive(Debug)]
pub struct Exchange {
    /// The bytes sent.
    pub sent: Vec<u8>,
    /// The call id sent.
    pub call_id: String,
    /// What came back.
    pub result: Result<Response, ResponseError>,
    /// What the real server would make of it.
    pub view: ServerView,
    /// The connection it went over.
    pub via: Via,
    /// The harness stopped waiting at the case's limit, not the call's own
    /// deadline: what that limit was.
    pub cut_short: Option<String>,
}

impl Exchange {
    /// The response, if one came.
    pub fn response(&self) -> Option<&Response> {
        self.result.as_ref().ok()
    }

    /// The socket status, if a response came.
    pub fn status(&self) -> Option<u16> {
        self.response().map(|r| r.status)
    }

    /// The body as text (lossy), empty without a response.
    pub fn text(&self) -> String {
        self.response()
            .map(|r| String::from_utf8_lossy(&r.body).into_owned())
            .unwrap_or_default()
    }

    /// The response as a report shows it.
    pub fn shown(&self) -> String {
        match &self.result {
            Ok(res) => head_text(res.status, &res.head) + &show_bytes(&res.body, SHOW_BODY),
            Err(ResponseError::Body {
                status,
                head,
                error,
            }) => {
                let mut text = head_text(*status, head);
                if error.timed_out() {
                    match &self.cut_short {
                        Some(limit) => text.push_str(&format!(
                            "(no complete response: the body had not ended when the harness \
                             stopped waiting at {limit})"
                        )),
                        None => text.push_str(
                            "(no complete response: the body did not end before the call's \
                             deadline)",
                        ),
                    }
                } else {
                    text.push_str(&format!(
                        "(the body could not be read: {})",
                        crate::show::display_chain(error.as_ref())
                    ));
                }
                text
            }
            Err(ResponseError::Io(e))
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                match &self.cut_short {
                    Some(limit) => {
                        format!("no complete response when the harness stopped waiting at {limit}")
                    }
                    None => "no complete response before the call's deadline (the server gives \
                             up here and kills the container)"
                        .to_owned(),
                }
            }
            Err(e) if e.timed_out() => "no response before the call's deadline (the server \
                                        gives up here and kills the container)"
                .to_owned(),
            Err(e) => format!("no response: {}", crate::show::display_chain(e)),
        }
    }
}

/// A response head as a report shows it, the blank line after it included.
fn head_text(status: u16, head: &Head) -> String {
    let mut text = format!("HTTP/1.1 {status}\n");
    for (k, v) in head.fields() {
        text.push_str(&format!("{k}: {v}\n"));
    }
    text.push('\n');
    text
}
