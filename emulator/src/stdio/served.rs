//! The 0.3.602 server's verdict on one call (SIO-ERR-7, DEF-RESP-3): the
//! status and message its client got, and whether it kept the container.

use std::fmt;
use std::process::ExitStatus;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use super::StdioFormat;
use super::read::ClientResponse;
use crate::golang::detect_content_type;
use crate::outcome::{Fate, ServerView};
use crate::show::show_bytes;

/// The server's OOM message for exit code 137 (DEF-RESP-3).
pub const OOM: &str =
    "container out of memory, you may want to raise fn.memory for this function (default: 128MB)";

/// How a call ended, from the server's side of the pipes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum End {
    /// A complete, decodable response before the deadline; `excess` is
    /// what followed it within 100 ms that is not white space (SIO-IO-8).
    Answered {
        /// What the client got.
        response: ClientResponse,
        /// Excess data after it, if any: the container is killed.
        excess: Option<Vec<u8>>,
    },
    /// The response does not decode (502, killed).
    Undecodable(String),
    /// `cloudevent`: it decodes but cannot be mapped (500, kept).
    Unmappable(String),
    /// `cloudevent`: mapping it panicked the 0.3.602 server.
    Crash(String),
    /// stdout went over `FN_MAX_RESPONSE_SIZE` (502, killed).
    TooLarge(usize),
    /// No complete response by the deadline (504, killed).
    TimedOut,
    /// stdout ended (the process exited) before a complete response (502,
    /// killed); `partial` says whether part of one had arrived.
    Exited {
        /// Part of a response had arrived.
        partial: bool,
        /// The exit status, if the process had exited.
        status: Option<ExitStatus>,
    },
    /// `default`: the process exited with this non-zero code (a signal N
    /// counts as 128+N, as docker reports it).
    ExitCode(i32),
}

/// The server's view of one call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct View {
    /// The client's status.
    pub status: i64,
    /// The server's own `{"message": …}`, when it answered itself.
    pub message: Option<String>,
    /// Kept or killed. A `default` container never serves a second call.
    pub fate: Fate,
}

impl fmt::Display for View {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "client gets {}", self.status)?;
        if let Some(message) = &self.message {
            write!(f, " \"{message}\"")?;
        }
        match self.fate {
            Fate::Kept => f.write_str(", container kept"),
            Fate::Killed => f.write_str(", container killed"),
        }
    }
}

/// A docker-style exit code: the code, or 128+N for signal N.
pub fn exit_code(status: ExitStatus) -> i32 {
    use std::os::unix::process::ExitStatusExt;
    status
        .code()
        .or_else(|| status.signal().map(|s| 128 + s))
        .unwrap_or(-1)
}

impl End {
    /// What the server made of it (SIO-ERR-7; DEF-RESP-3 for `default`).
    pub fn view(&self, format: StdioFormat) -> View {
        let view = |status: i64, message: Option<String>, fate| View {
            status,
            message,
            fate,
        };
        let cold = if format.is_hot() {
            Fate::Kept
        } else {
            Fate::Killed
        };
        match self {
            Self::Answered { response, excess } => view(
                response.status,
                None,
                if excess.is_some() { Fate::Killed } else { cold },
            ),
            Self::Undecodable(e) => {
                let kind = if format == StdioFormat::Http {
                    "http"
                } else {
                    "json"
                };
                view(
                    502,
                    Some(format!("invalid {kind} response from function err: {e}")),
                    Fate::Killed,
                )
            }
            Self::Unmappable(_) => view(500, Some("internal server error".into()), Fate::Kept),
            Self::Crash(_) => view(
                500,
                Some("(none: the 0.3.602 server panics mapping this response)".into()),
                Fate::Killed,
            ),
            Self::TooLarge(_) => view(
                502,
                Some("function response too large".into()),
                Fate::Killed,
            ),
            Self::TimedOut => view(504, Some("Timed out".into()), Fate::Killed),
            Self::Exited { status, .. } => view(
                502,
                status.map(|s| format!("container exit code {}", exit_code(s))),
                Fate::Killed,
            ),
            Self::ExitCode(137) => view(502, Some(OOM.into()), Fate::Killed),
            Self::ExitCode(n) => view(502, Some(format!("container exit code {n}")), Fate::Killed),
        }
    }

    /// The `default` format's client response for exit 0: stdout as the
    /// body, `Content-Type` sniffed as the server sniffed it.
    pub fn cold_success(stdout: Vec<u8>) -> Self {
        let content_type = if stdout.starts_with(b"{") {
            "application/json; charset=utf-8"
        } else {
            detect_content_type(&stdout)
        };
        Self::Answered {
            response: ClientResponse {
                status: 200,
                headers: vec![("Content-Type".to_owned(), content_type.to_owned())],
                body: stdout,
            },
            excess: None,
        }
    }
}

/// One call as the harness served it, with the evidence a report shows.
#[derive(Debug, Clone)]
pub struct Served {
    /// The format.
    pub format: StdioFormat,
    /// The call id sent.
    pub call_id: String,
    /// The deadline as written in the request.
    pub deadline: String,
    /// What was written (for `default`: the environment, then the body).
    pub sent: Vec<u8>,
    /// The stdout bytes this call read (its response, leading white space
    /// included; for `default`, all of stdout).
    pub stdout: Vec<u8>,
    /// What followed the response within 100 ms (white space included).
    pub trailing: Vec<u8>,
    /// How it ended.
    pub end: End,
    /// The server's view.
    pub view: View,
    /// From the request's first byte to the verdict (the 100 ms window
    /// excluded).
    pub took: Duration,
    /// Which process served it, for reports.
    pub process: String,
}

impl Served {
    /// The client's response, if the call was answered (excess or not).
    pub fn response(&self) -> Option<&ClientResponse> {
        match &self.end {
            End::Answered { response, .. } => Some(response),
            _ => None,
        }
    }

    /// The body as lossy text (empty without a response).
    pub fn text(&self) -> String {
        self.response()
            .map(|r| String::from_utf8_lossy(&r.body).into_owned())
            .unwrap_or_default()
    }

    /// The op the probe said it cannot do, if it said so.
    pub fn unsupported(&self) -> Option<String> {
        let res = self.response()?;
        let json: serde_json::Value = serde_json::from_slice(&res.body).ok()?;
        json.get("probe_unsupported")?.as_str().map(str::to_owned)
    }

    /// The server's view in the form reports carry, for hot formats (a
    /// `default` container serves one call whatever happens, so "kept" and
    /// "killed" do not apply: [`shown`](Self::shown) tells its view).
    pub fn server_view(&self) -> Option<ServerView> {
        self.format.is_hot().then(|| ServerView {
            client_status: u16::try_from(self.view.status).unwrap_or(0),
            message: self.view.message.clone().map(intern),
            container: self.view.fate,
        })
    }

    /// What came back, for a report.
    pub fn shown(&self) -> String {
        const SHOW: usize = 768;
        let mut text = format!("{}\n", self.process);
        if self.format.is_hot() {
            text.push_str(&format!(
                "stdout for this call ({} bytes): {}\n",
                self.stdout.len(),
                show_bytes(&self.stdout, SHOW)
            ));
            if !self.trailing.is_empty() {
                text.push_str(&format!(
                    "then, within 100 ms: {}\n",
                    show_bytes(&self.trailing, SHOW)
                ));
            }
        } else {
            text.push_str(&format!(
                "stdout ({} bytes): {}\n",
                self.stdout.len(),
                show_bytes(&self.stdout, SHOW)
            ));
            let mut view = format!("client gets {}", self.view.status);
            if let Some(message) = &self.view.message {
                view.push_str(&format!(" \"{message}\""));
            }
            text.push_str(&format!("real server (one container per call): {view}\n"));
        }
        match &self.end {
            End::Answered { response, excess } => {
                text.push_str(&format!("the client's response: {}\n", response.status));
                for (k, v) in &response.headers {
                    text.push_str(&format!("  {k}: {v}\n"));
                }
                text.push_str(&format!("  body: {}\n", show_bytes(&response.body, SHOW)));
                if let Some(excess) = excess {
                    text.push_str(&format!(
                        "excess data after the response (SIO-IO-8): {}\n",
                        show_bytes(excess, 256)
                    ));
                }
            }
            End::Undecodable(e) => text.push_str(&format!("does not decode: {e}\n")),
            End::Unmappable(e) => text.push_str(&format!("decodes but cannot be mapped: {e}\n")),
            End::Crash(e) => text.push_str(&format!("would crash the server: {e}\n")),
            End::TooLarge(n) => text.push_str(&format!("{n} bytes: over FN_MAX_RESPONSE_SIZE\n")),
            End::TimedOut if self.call_id.is_empty() => text.push_str(&format!(
                "no complete response within {} ms (the harness's own limit: the server never \
                 wrote such bytes)\n",
                self.took.as_millis()
            )),
            End::TimedOut => text.push_str(&format!(
                "no complete response by the deadline {} (the server gives up here and kills \
                 the container)\n",
                self.deadline
            )),
            End::Exited { partial, status } => text.push_str(&format!(
                "stdout ended{} before a complete response{}\n",
                status.map_or(String::new(), |s| format!(" (the process exited: {s})")),
                if *partial {
                    ", part of one had arrived"
                } else {
                    ""
                }
            )),
            End::ExitCode(n) => text.push_str(&format!("exit code {n}\n")),
        }
        text
    }
}

/// A `&'static str` for a [`ServerView`] message. Reports hold at most one
/// failure per case, so the few distinct messages are kept for the run.
fn intern(message: String) -> &'static str {
    static SEEN: OnceLock<Mutex<Vec<&'static str>>> = OnceLock::new();
    let seen = SEEN.get_or_init(|| Mutex::new(Vec::new()));
    let Ok(mut seen) = seen.lock() else {
        return "(message unavailable)";
    };
    if let Some(known) = seen.iter().find(|s| **s == message) {
        return known;
    }
    let leaked: &'static str = Box::leak(message.into_boxed_str());
    seen.push(leaked);
    leaked
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answered(status: i64, excess: Option<&[u8]>) -> End {
        End::Answered {
            response: ClientResponse {
                status,
                headers: Vec::new(),
                body: Vec::new(),
            },
            excess: excess.map(<[u8]>::to_vec),
        }
    }

    #[test]
    fn calls_are_classified_as_the_server_classified_them() {
        let json = StdioFormat::Json;
        let cases = [
            (answered(404, None), json, 404, None, Fate::Kept),
            (answered(200, Some(b"x")), json, 200, None, Fate::Killed),
            (
                End::Undecodable("boom".into()),
                json,
                502,
                Some("invalid json response from function err: boom"),
                Fate::Killed,
            ),
            (
                End::Undecodable("boom".into()),
                StdioFormat::Http,
                502,
                Some("invalid http response from function err: boom"),
                Fate::Killed,
            ),
            (
                End::Unmappable("x".into()),
                StdioFormat::Cloudevent,
                500,
                Some("internal server error"),
                Fate::Kept,
            ),
            (End::TimedOut, json, 504, Some("Timed out"), Fate::Killed),
            (
                End::ExitCode(1),
                StdioFormat::Default,
                502,
                Some("container exit code 1"),
                Fate::Killed,
            ),
            (
                End::ExitCode(137),
                StdioFormat::Default,
                502,
                Some(OOM),
                Fate::Killed,
            ),
        ];
        for (i, (end, format, status, message, fate)) in cases.into_iter().enumerate() {
            let view = end.view(format);
            assert_eq!(
                (view.status, view.message.as_deref(), view.fate),
                (status, message, fate),
                "case {i}"
            );
        }
    }

    #[test]
    fn cold_success_sniffs_the_content_type() {
        let ct = |body: &[u8]| match End::cold_success(body.to_vec()) {
            End::Answered { response, .. } => response.header("content-type").map(str::to_owned),
            _ => None,
        };
        assert_eq!(
            ct(b"{\"a\":1}").as_deref(),
            Some("application/json; charset=utf-8")
        );
        assert_eq!(ct(b"Hello").as_deref(), Some("text/plain; charset=utf-8"));
        assert_eq!(ct(b"\x00\x01").as_deref(), Some("application/octet-stream"));
    }

    #[test]
    fn interned_messages_are_reused() {
        let a = intern("same".to_owned());
        let b = intern("same".to_owned());
        assert!(std::ptr::eq(a, b));
    }
}
