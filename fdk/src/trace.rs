//! Distributed-tracing context of a call: Zipkin B3 headers (as OCI
//! Functions sends them) and W3C `traceparent`/`tracestate`.
//!
//! The FDK does not export spans; it exposes the ids so that a tracer can
//! continue the trace, and records them on the `fn_call` span (HS-TRACE-*).
//!
//! ```
//! use fdk::testing::TestCall;
//!
//! let ctx = TestCall::invoke()
//!     .header("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
//!     .context();
//! let tp = ctx.trace().traceparent().unwrap();
//! assert_eq!(tp.trace_id(), "4bf92f3577b34da6a3ce929d0e0e4736");
//! assert!(tp.sampled());
//! ```

use http::HeaderMap;

/// The tracing headers of one call.
#[derive(Debug, Clone, Default)]
pub struct TraceContext {
    b3: Option<B3>,
    traceparent: Option<TraceParent>,
}

impl TraceContext {
    /// The B3 context, from `X-B3-*` headers or the single `b3` header.
    pub fn b3(&self) -> Option<&B3> {
        self.b3.as_ref()
    }

    /// The W3C trace context, from `traceparent` (and `tracestate`).
    pub fn traceparent(&self) -> Option<&TraceParent> {
        self.traceparent.as_ref()
    }

    /// The trace id, W3C first, then B3.
    pub fn trace_id(&self) -> Option<&str> {
        self.traceparent
            .as_ref()
            .map(TraceParent::trace_id)
            .or_else(|| self.b3.as_ref().map(B3::trace_id))
    }

    /// The caller's span id (the parent of this call), W3C first, then B3.
    pub fn parent_span_id(&self) -> Option<&str> {
        self.traceparent
            .as_ref()
            .map(TraceParent::parent_id)
            .or_else(|| self.b3.as_ref().map(B3::span_id))
    }

    /// Reads the tracing headers from `headers`; malformed ones are ignored.
    pub(crate) fn from_headers(headers: &HeaderMap) -> Self {
        Self {
            b3: B3::from_headers(headers),
            traceparent: TraceParent::from_headers(headers),
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.b3.is_none() && self.traceparent.is_none()
    }
}

/// A Zipkin B3 trace context.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct B3 {
    trace_id: String,
    span_id: String,
    parent_span_id: Option<String>,
    sampled: Option<bool>,
}

impl B3 {
    /// `X-B3-TraceId`: 16 or 32 lower-case hex digits.
    pub fn trace_id(&self) -> &str {
        &self.trace_id
    }
    /// `X-B3-SpanId`: the caller's span.
    pub fn span_id(&self) -> &str {
        &self.span_id
    }
    /// `X-B3-ParentSpanId`, if sent.
    pub fn parent_span_id(&self) -> Option<&str> {
        self.parent_span_id.as_deref()
    }
    /// `X-B3-Sampled` (`1`/`true`) or `X-B3-Flags: 1` (debug implies sampled);
    /// `None` when the caller left the decision open.
    pub fn sampled(&self) -> Option<bool> {
        self.sampled
    }

    fn from_headers(headers: &HeaderMap) -> Option<Self> {
        let get = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::trim)
        };
        if let (Some(trace_id), Some(span_id)) = (get("x-b3-traceid"), get("x-b3-spanid")) {
            if !is_hex_id(trace_id, &[16, 32]) || !is_hex_id(span_id, &[16]) {
                return None;
            }
            let sampled = if get("x-b3-flags") == Some("1") {
                Some(true)
            } else {
                get("x-b3-sampled").and_then(parse_sampled)
            };
            return Some(Self {
                trace_id: trace_id.to_ascii_lowercase(),
                span_id: span_id.to_ascii_lowercase(),
                parent_span_id: get("x-b3-parentspanid")
                    .filter(|p| is_hex_id(p, &[16]))
                    .map(str::to_ascii_lowercase),
                sampled,
            });
        }
        // Single header: {TraceId}-{SpanId}[-{SamplingState}[-{ParentSpanId}]]
        let single = get("b3")?;
        let mut parts = single.split('-');
        let trace_id = parts.next()?;
        let span_id = parts.next()?;
        if !is_hex_id(trace_id, &[16, 32]) || !is_hex_id(span_id, &[16]) {
            return None;
        }
        let sampled = parts.next().and_then(|s| match s {
            "d" => Some(true),
            other => parse_sampled(other),
        });
        let parent_span_id = parts
            .next()
            .filter(|p| is_hex_id(p, &[16]))
            .map(str::to_ascii_lowercase);
        Some(Self {
            trace_id: trace_id.to_ascii_lowercase(),
            span_id: span_id.to_ascii_lowercase(),
            parent_span_id,
            sampled,
        })
    }
}

/// A W3C `traceparent` (version 00) with its `tracestate`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceParent {
    trace_id: String,
    parent_id: String,
    flags: u8,
    tracestate: Option<String>,
}

impl TraceParent {
    /// 32 lower-case hex digits.
    pub fn trace_id(&self) -> &str {
        &self.trace_id
    }
    /// The caller's span id: 16 lower-case hex digits.
    pub fn parent_id(&self) -> &str {
        &self.parent_id
    }
    /// The sampled bit of the trace flags.
    pub fn sampled(&self) -> bool {
        self.flags & 1 == 1
    }
    /// All trace flags.
    pub fn flags(&self) -> u8 {
        self.flags
    }
    /// The vendor-specific `tracestate` header, if sent.
    pub fn tracestate(&self) -> Option<&str> {
        self.tracestate.as_deref()
    }

    fn from_headers(headers: &HeaderMap) -> Option<Self> {
        let value = headers.get("traceparent")?.to_str().ok()?.trim();
        let mut parts = value.split('-');
        let (version, trace_id, parent_id, flags) =
            (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
        // Version ff is invalid; a higher version may append fields.
        if version.len() != 2 || version == "ff" || !is_hex(version) {
            return None;
        }
        if version == "00" && parts.next().is_some() {
            return None;
        }
        let all_zero = |s: &str| s.bytes().all(|b| b == b'0');
        if !is_hex_id(trace_id, &[32]) || all_zero(trace_id) {
            return None;
        }
        if !is_hex_id(parent_id, &[16]) || all_zero(parent_id) {
            return None;
        }
        if flags.len() != 2 {
            return None;
        }
        let flags = u8::from_str_radix(flags, 16).ok()?;
        let tracestate = headers
            .get_all("tracestate")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect::<Vec<_>>()
            .join(",");
        Some(Self {
            trace_id: trace_id.to_owned(),
            parent_id: parent_id.to_owned(),
            flags,
            tracestate: (!tracestate.is_empty()).then_some(tracestate),
        })
    }
}

fn parse_sampled(s: &str) -> Option<bool> {
    match s {
        "1" | "true" => Some(true),
        "0" | "false" => Some(false),
        _ => None,
    }
}

fn is_hex(s: &str) -> bool {
    s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

fn is_hex_id(s: &str, lengths: &[usize]) -> bool {
    lengths.contains(&s.len()) && s.bytes().all(|b| b.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::{HeaderName, HeaderValue};

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.append(
                HeaderName::from_bytes(k.as_bytes()).unwrap(),
                HeaderValue::from_str(v).unwrap(),
            );
        }
        map
    }

    #[test]
    fn reads_multi_header_b3() {
        let t = TraceContext::from_headers(&headers(&[
            ("X-B3-TraceId", "80F198EE56343BA864FE8B2A57D3EFF7"),
            ("X-B3-SpanId", "e457b5a2e4d86bd1"),
            ("X-B3-ParentSpanId", "05e3ac9a4f6e3b90"),
            ("X-B3-Sampled", "1"),
        ]));
        let b3 = t.b3().unwrap();
        assert_eq!(b3.trace_id(), "80f198ee56343ba864fe8b2a57d3eff7");
        assert_eq!(b3.parent_span_id(), Some("05e3ac9a4f6e3b90"));
        assert_eq!(b3.sampled(), Some(true));
        assert_eq!(t.parent_span_id(), Some("e457b5a2e4d86bd1"));
    }

    #[test]
    fn reads_single_header_b3_and_debug_flag() {
        let t = TraceContext::from_headers(&headers(&[(
            "b3",
            "80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-d-05e3ac9a4f6e3b90",
        )]));
        let b3 = t.b3().unwrap();
        assert_eq!(
            (b3.sampled(), b3.parent_span_id()),
            (Some(true), Some("05e3ac9a4f6e3b90"))
        );
    }

    #[test]
    fn traceparent_wins_over_b3_for_the_trace_id() {
        let t = TraceContext::from_headers(&headers(&[
            (
                "traceparent",
                "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00",
            ),
            ("tracestate", "a=1"),
            ("tracestate", "b=2"),
            ("X-B3-TraceId", "463ac35c9f6413ad"),
            ("X-B3-SpanId", "a2fb4a1d1a96d312"),
        ]));
        assert_eq!(t.trace_id(), Some("4bf92f3577b34da6a3ce929d0e0e4736"));
        let tp = t.traceparent().unwrap();
        assert!(!tp.sampled());
        assert_eq!(tp.tracestate(), Some("a=1,b=2"));
    }

    #[test]
    fn malformed_trace_headers_are_ignored() {
        for (k, v) in [
            (
                "traceparent",
                "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            ),
            (
                "traceparent",
                "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            ),
            (
                "traceparent",
                "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
            ),
            ("traceparent", "garbage"),
            ("b3", "nothex-e457b5a2e4d86bd1"),
        ] {
            assert!(
                TraceContext::from_headers(&headers(&[(k, v)])).is_empty(),
                "{v}"
            );
        }
    }
}
