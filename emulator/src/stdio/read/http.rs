//! `http`: one response read as Go's `http.ReadResponse` reads it for the
//! request's method (HTTP-RESP-4), by [`crate::http1`] in its Go dialect.

use super::*;

use crate::golang::canonical_key;
use crate::http1::{self, BodyDecoder, Dialect, Framing, HeadDecoder, Role, response_framing};

/// The 0.3.602 server read the head and the body without a limit of its
/// own; what the harness holds of stdout bounds them here.
const NO_LIMIT: u64 = u64::MAX;

#[derive(Debug)]
pub(super) struct HttpReader {
    method: String,
    /// Bytes of the stream the decoders have taken.
    consumed: usize,
    head: HeadDecoder,
    /// Once the head is in: the response so far and how its body is read.
    answer: Option<Answer>,
}

#[derive(Debug)]
struct Answer {
    status: i64,
    headers: Vec<(String, String)>,
    framing: Framing,
    decoder: BodyDecoder,
    body: Vec<u8>,
}

/// What a step of reading says, in the server's words: Go's message alone.
fn message(e: http1::Error) -> String {
    match e {
        http1::Error::Malformed(what) => what,
        other => other.to_string(),
    }
}

impl HttpReader {
    pub(super) fn new(method: &str) -> Self {
        Self {
            method: method.to_owned(),
            consumed: 0,
            head: HeadDecoder::new(Role::Response, NO_LIMIT, usize::MAX).with_dialect(Dialect::Go),
            answer: None,
        }
    }

    /// Reads on: `buf` is everything since the call began.
    pub(super) fn feed(&mut self, buf: &[u8], eof: bool) -> Step {
        if self.answer.is_none() {
            let rest = buf.get(self.consumed..).unwrap_or_default();
            match self.head.feed(rest) {
                Ok((used, Some(head))) => {
                    self.consumed += used;
                    let status = head.status().unwrap_or_default();
                    let mut headers: Vec<(String, String)> = head
                        .fields()
                        .map(|(name, value)| (canonical_key(name), value.to_owned()))
                        .collect();
                    let framing = match response_framing(&self.method, status, &mut headers) {
                        Ok(framing) => framing,
                        Err(e) => return Step::Bad(e),
                    };
                    self.answer = Some(Answer {
                        status: i64::from(status),
                        headers,
                        framing,
                        decoder: BodyDecoder::new(framing, NO_LIMIT).with_dialect(Dialect::Go),
                        body: Vec::new(),
                    });
                }
                Ok((used, None)) => {
                    self.consumed += used;
                    return if eof {
                        Step::Ended {
                            partial: !buf.is_empty(),
                        }
                    } else {
                        Step::More
                    };
                }
                Err(e) => return Step::Bad(message(e)),
            }
        }
        let Some(answer) = &mut self.answer else {
            return Step::More;
        };
        // A body that runs to the end of the stream never completes: the
        // end of stdout is the end of the process.
        if answer.framing == Framing::UntilClose {
            return if eof {
                Step::Ended { partial: true }
            } else {
                Step::More
            };
        }
        let rest = buf.get(self.consumed..).unwrap_or_default();
        match answer.decoder.feed(rest, &mut answer.body) {
            Ok((used, true)) => {
                self.consumed += used;
                Step::Done {
                    used: self.consumed,
                    decoded: Decoded::Response(ClientResponse {
                        status: answer.status,
                        headers: std::mem::take(&mut answer.headers),
                        body: std::mem::take(&mut answer.body),
                    }),
                }
            }
            Ok((used, false)) => {
                self.consumed += used;
                if eof {
                    Step::Ended { partial: true }
                } else {
                    Step::More
                }
            }
            Err(e) => Step::Bad(message(e)),
        }
    }
}
