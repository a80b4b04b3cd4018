//! One call as the server sends it: an `/invoke` call or a trigger's, its
//! client headers and body, and the `Fn-Deadline` it carries.

use std::time::{Duration, Instant, SystemTime};

use crate::RequestTemplate;
use crate::outcome::CallKind;
use crate::request::GO_USER_AGENT;
use crate::{rfc3339, wire};

/// The `User-Agent` of invoke calls (the server passes the client's).
pub(crate) const CLIENT_USER_AGENT: &str = concat!("fdk-conformance/", env!("CARGO_PKG_VERSION"));

/// One call to send.
#[derive(Debug, Clone)]
pub struct Call {
    kind: CallKind,
    method: String,
    url: String,
    /// Values as bytes: Go passes a header value's bytes through, UTF-8
    /// or not.
    headers: Vec<(String, Vec<u8>)>,
    body: Vec<u8>,
    deadline: DeadlineSpec,
}

/// The fn timeout of every call that does not set its own.
const USUAL_TIMEOUT: Duration = Duration::from_secs(30);

/// How far into a second a call with another timeout is sent.
///
/// The server keys containers by the fn's timeout, so a process only ever
/// sees one; the harness sends a few calls with a shorter one to a process
/// that has served 30 s calls. An FDK that recovers the deadline's lost
/// fraction from the arrival's phase (HS-DL-3) cannot tell, in the first
/// 50 ms of a second, whether the server's clock started in this second
/// or the last, and settles it with the timeout it has seen: mixing them
/// would make its verdict depend on the phase. Sending such calls at least
/// this far into a second takes the doubt away, as one timeout would.
const OTHER_TIMEOUT_PHASE: Duration = Duration::from_millis(100);

/// Waits, if needed, until `OTHER_TIMEOUT_PHASE` into the current second.
fn leave_first_part_of_second() {
    let phase = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(Duration::ZERO, |d| {
            Duration::from_nanos(u64::from(d.subsec_nanos()))
        });
    if phase < OTHER_TIMEOUT_PHASE {
        std::thread::sleep(OTHER_TIMEOUT_PHASE - phase);
    }
}

/// What `Fn-Deadline` the call carries.
#[derive(Debug, Clone)]
enum DeadlineSpec {
    /// The server's: now plus this, whole seconds, enforced.
    In(Duration),
    /// This exact header value; no enforcement.
    Raw(String),
    /// This exact header value, or none at all; the harness gives up this
    /// long from now, as the server does at its own deadline (which it
    /// always has, and always sends).
    Sent(Option<String>, Duration),
}

impl Call {
    /// An `/invoke` call with a 30 s deadline.
    pub fn invoke() -> Self {
        Self {
            kind: CallKind::Invoke,
            method: String::new(),
            url: String::new(),
            headers: Vec::new(),
            body: Vec::new(),
            deadline: DeadlineSpec::In(USUAL_TIMEOUT),
        }
    }

    /// An HTTP-trigger call from a client that used `method` on `url`.
    pub fn gateway(method: &str, url: &str) -> Self {
        Self {
            kind: CallKind::Gateway,
            method: method.to_owned(),
            url: url.to_owned(),
            ..Self::invoke()
        }
    }

    /// Adds a client header (canonical case, as Go writes it).
    pub fn header(self, name: &str, value: &str) -> Self {
        self.header_bytes(name, value.as_bytes())
    }

    /// Adds a client header whose value may not be UTF-8 (`obs-text`): the
    /// server forwards a value's bytes as they came.
    pub fn header_bytes(mut self, name: &str, value: &[u8]) -> Self {
        self.headers.push((name.to_owned(), value.to_vec()));
        self
    }

    /// Sets the body.
    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = body.into();
        self
    }

    /// Asks the probe for `op` (a JSON object), through `X-Probe`.
    pub fn probe(self, op: &str) -> Self {
        self.header("X-Probe", op)
    }

    /// The deadline `after` from now.
    pub fn deadline_in(mut self, after: Duration) -> Self {
        self.deadline = DeadlineSpec::In(after);
        self
    }

    /// Sends this `Fn-Deadline` value as is.
    pub fn raw_deadline(mut self, value: &str) -> Self {
        self.deadline = DeadlineSpec::Raw(value.to_owned());
        self
    }

    /// Sends this `Fn-Deadline` value as is (an offset the server never
    /// writes, say), and gives up on the answer `after` from now, as the
    /// server does at its own deadline.
    pub fn deadline_header(mut self, value: &str, after: Duration) -> Self {
        self.deadline = DeadlineSpec::Sent(Some(value.to_owned()), after);
        self
    }

    /// Sends no `Fn-Deadline` at all (the server always sends one), and
    /// gives up on the answer 30 s from now, as the server would.
    pub fn no_deadline(mut self) -> Self {
        self.deadline = DeadlineSpec::Sent(None, Duration::from_secs(30));
        self
    }

    /// The call's kind.
    pub fn kind(&self) -> CallKind {
        self.kind
    }

    /// The body's length in bytes.
    pub fn body_len(&self) -> usize {
        self.body.len()
    }

    /// The request bytes with a fixed call id, for cases that send them in
    /// pieces.
    pub fn render_for_test(&self) -> (Vec<u8>, Option<Instant>) {
        self.render("01KCONF0RMANCE0PIECEWISE01")
    }

    /// The request bytes, and the instant the server would give up.
    pub(crate) fn render(&self, call_id: &str) -> (Vec<u8>, Option<Instant>) {
        let mut headers: Vec<(String, Vec<u8>)> = Vec::new();
        let user_agent = match self.kind {
            CallKind::Invoke => {
                headers.extend(self.headers.iter().cloned());
                CLIENT_USER_AGENT
            }
            CallKind::Gateway => {
                for (name, value) in &self.headers {
                    if name.eq_ignore_ascii_case("Content-Type") {
                        headers.push((name.clone(), value.clone()));
                    } else {
                        headers
                            .push((format!("{}{name}", wire::HTTP_HEADER_PREFIX), value.clone()));
                    }
                }
                headers.push((wire::HTTP_METHOD.into(), self.method.clone().into_bytes()));
                headers.push((wire::HTTP_REQUEST_URL.into(), self.url.clone().into_bytes()));
                headers.push((wire::INTENT.into(), wire::INTENT_HTTP_REQUEST.into()));
                GO_USER_AGENT
            }
        };
        let borrowed: Vec<(&str, &[u8])> = headers
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_slice()))
            .collect();
        let template = RequestTemplate::with_raw_values(user_agent, &borrowed, &self.body);
        let (deadline, enforce) = match &self.deadline {
            DeadlineSpec::In(after) => {
                if *after != USUAL_TIMEOUT {
                    leave_first_part_of_second();
                }
                let at = SystemTime::now() + *after;
                (Some(rfc3339::format_utc(at)), Some(Instant::now() + *after))
            }
            DeadlineSpec::Raw(value) => (Some(value.clone()), None),
            DeadlineSpec::Sent(value, after) => (value.clone(), Some(Instant::now() + *after)),
        };
        let mut out = Vec::new();
        match deadline {
            Some(deadline) => template.render(call_id, &deadline, &mut out),
            None => template.render_without_deadline(call_id, &mut out),
        }
        (out, enforce)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A client header value that is not UTF-8 reaches the function byte
    /// for byte, as Go's server and client pass it (for a trigger, under
    /// its `Fn-Http-H-` name).
    #[test]
    fn header_values_pass_as_bytes() {
        for (call, name) in [
            (Call::invoke(), &b"X-Bin: "[..]),
            (
                Call::gateway("GET", "http://h/t/a/s"),
                &b"Fn-Http-H-X-Bin: "[..],
            ),
        ] {
            let (bytes, _) = call.header_bytes("X-Bin", b"caf\xe9").render_for_test();
            let line = [name, b"caf\xe9\r\n"].concat();
            assert!(
                bytes.windows(line.len()).any(|w| w == line),
                "{}",
                String::from_utf8_lossy(&bytes)
            );
        }
    }
}
