//! The server's side of the four stdin/stdout formats of Fn 0.3.602
//! (`protocol-spec/stdio.md`): `json`, `http` and `cloudevent` (hot: one
//! process, many calls) and `default` (cold: one process per call).
//!
//! * [`wire`]: the request bytes of each format, as the server wrote them,
//!   and the `default` format's per-call environment (SIO-DL-3);
//! * [`read`]: one response read from stdout as the server read it
//!   (`json.Decoder`, `http.ReadResponse`), and what its client got
//!   (JSON-RESP-4, HTTP-RESP-4, CE-RESP-4);
//! * [`process`]: spawning with pipes and the 0.3.602 environment, stdout
//!   gathered by a thread, stdin written by another, freezing (SIGSTOP)
//!   between calls;
//! * [`served`]: what the server made of one call (SIO-ERR-7, DEF-RESP-3):
//!   the client's status and message, the container kept or killed.
//!
//! Go's own rules (JSON, header keys, content sniffing) are in
//! [`golang`](crate::golang).

pub mod process;
pub mod read;
pub mod served;
pub mod wire;

use std::fmt;

/// One of the four legacy formats (`FN_FORMAT`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StdioFormat {
    /// One JSON object per line each way.
    Json,
    /// HTTP/1.1 requests and responses, back to back.
    Http,
    /// The body on stdin, the answer on stdout and the exit status; one
    /// process per call.
    Default,
    /// One CloudEvents 0.1 object per line each way.
    Cloudevent,
}

impl StdioFormat {
    /// Every format, in the order the suites are documented.
    pub const ALL: [Self; 4] = [Self::Json, Self::Http, Self::Default, Self::Cloudevent];

    /// The `FN_FORMAT` value (and the case id prefix).
    pub fn name(self) -> &'static str {
        match self {
            Self::Json => "json",
            Self::Http => "http",
            Self::Default => "default",
            Self::Cloudevent => "cloudevent",
        }
    }

    /// Parses an exact `FN_FORMAT` value of the four.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.name() == text)
    }

    /// One process serves many calls (everything but `default`).
    pub fn is_hot(self) -> bool {
        self != Self::Default
    }
}

impl fmt::Display for StdioFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_only_exact_names_parse() {
        for f in StdioFormat::ALL {
            assert_eq!(StdioFormat::parse(f.name()), Some(f));
        }
        assert_eq!(StdioFormat::parse("JSON"), None);
        assert_eq!(StdioFormat::parse("http-stream"), None);
        assert_eq!(StdioFormat::parse(""), None);
        assert!(!StdioFormat::Default.is_hot());
        assert!(StdioFormat::Cloudevent.is_hot());
    }
}
