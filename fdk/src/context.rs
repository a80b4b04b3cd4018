//! [`Context`]: the Fn-specific view of the current call: call id,
//! deadline, the function's config, the HTTP gateway view and the tracing
//! context.
//!
//! The request a handler's extractors see is the client's on every
//! transport (HS-REQ-11): for a gateway call its method, URL and headers
//! (`Fn-Http-H-` removed), for an invoke call `POST /` with the headers the
//! invoke client sent, without the socket's framing. [`Context::headers`]
//! shows the same headers, those of the request it was extracted from.
//! So an extractor of your own reads the same request over the socket, the
//! stdin/stdout formats and [`TestCall`](crate::testing::TestCall):
//!
//! ```
//! use std::convert::Infallible;
//! use fdk::extract::FromRequestParts;
//! use fdk::http::request::Parts;
//!
//! /// The client's `X-Tenant` header.
//! struct Tenant(Option<String>);
//!
//! impl<S> FromRequestParts<S> for Tenant {
//!     type Rejection = Infallible;
//!     fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Infallible> {
//!         let tenant = parts.headers.get("x-tenant").and_then(|v| v.to_str().ok());
//!         Ok(Tenant(tenant.map(str::to_owned)))
//!     }
//! }
//!
//! async fn hello(Tenant(tenant): Tenant, ctx: fdk::Context) -> String {
//!     // The context shows the same headers.
//!     assert_eq!(tenant.as_deref(), ctx.header("x-tenant"));
//!     format!("hello {}", tenant.unwrap_or_default())
//! }
//!
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! use fdk::testing::TestCall;
//! // A trigger call: the header arrives as `Fn-Http-H-X-Tenant`.
//! let res = TestCall::gateway("GET", "http://example.com/t/app/hello")
//!     .header("X-Tenant", "acme")
//!     .send(hello)
//!     .await;
//! assert_eq!(res.text(), "hello acme");
//! // An invoke call: the header arrives as it is.
//! let res = TestCall::invoke().header("X-Tenant", "acme").send(hello).await;
//! assert_eq!(res.text(), "hello acme");
//! # });
//! ```
//!
//! ```
//! use std::time::Duration;
//! use fdk::testing::TestCall;
//!
//! let ctx = TestCall::invoke()
//!     .call_id("01CALL")
//!     .deadline_in(Duration::from_secs(30))
//!     .config("GREETING", "hi")
//!     .config("RETRIES", "3")
//!     .header("Content-Type", "application/json")
//!     .context();
//! assert_eq!(ctx.call_id(), "01CALL");
//! assert!(ctx.remaining().unwrap() <= Duration::from_secs(30));
//! assert_eq!(ctx.config("GREETING"), Some("hi"));
//! assert_eq!(ctx.config_parse::<u32>("RETRIES").unwrap(), 3);
//! assert_eq!(ctx.content_type(), Some("application/json"));
//! assert!(!ctx.is_gateway());
//! ```

use std::fmt;
use std::str::FromStr;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, SystemTime};

use http::header::{
    CONTENT_LENGTH, CONTENT_TYPE, HOST, HeaderMap, HeaderName, HeaderValue, TRANSFER_ENCODING,
};
use http::request::Parts;

use crate::config::{ConfigError, Env, parse_config};
use crate::deadline::{self, Deadline, FnTimeout};
use crate::extract::FromRequestParts;
use crate::gateway::{self, Gateway};
use crate::logs;
use crate::protocol::{FN_CALL_ID, FN_DEADLINE, FN_INTENT, INTENT_HTTP_REQUEST};
use crate::trace::TraceContext;

/// The current call, as the server described it.
///
/// Cheap to clone (one reference count). Take it as a handler argument,
/// `&Context` with `#[fdk::handler]` or `Context` with [`fdk::run`](crate::run).
#[derive(Clone)]
pub struct Context {
    inner: Arc<Inner>,
}

struct Inner {
    /// Checked to be visible ASCII when the call arrived.
    call_id: Option<HeaderValue>,
    deadline: Option<Deadline>,
    /// Gateway calls only: the headers as they arrived on the socket, for
    /// the trace headers the server sends unprefixed (HS-TRACE-3). The
    /// request carries the client's.
    socket: HeaderMap,
    gateway: Option<Gateway>,
    /// What `headers()` shows: the headers of the request the context was
    /// extracted from (a copy, made then).
    user_headers: OnceLock<HeaderMap>,
    trace: OnceLock<TraceContext>,
    env: Arc<Env>,
}

impl Context {
    /// The call's id (`Fn-Call-Id`); empty if the server sent none.
    pub fn call_id(&self) -> &str {
        self.inner
            .call_id
            .as_ref()
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    /// When the server gives up on this call (`Fn-Deadline`), if it said.
    pub fn deadline(&self) -> Option<SystemTime> {
        self.inner.deadline.map(|d| d.wall)
    }

    /// Time left before the deadline (zero once passed), if there is one.
    pub fn remaining(&self) -> Option<Duration> {
        self.inner.deadline.as_ref().map(Deadline::remaining)
    }

    /// The app's id (`FN_APP_ID`).
    pub fn app_id(&self) -> Option<&str> {
        self.inner.env.app_id()
    }
    /// The function's id (`FN_FN_ID`).
    pub fn fn_id(&self) -> Option<&str> {
        self.inner.env.fn_id()
    }
    /// The app's name (`FN_APP_NAME`; set by OCI Functions, not by the
    /// open-source server).
    pub fn app_name(&self) -> Option<&str> {
        self.inner.env.app_name()
    }
    /// The function's name (`FN_FN_NAME`; set by OCI Functions only).
    pub fn fn_name(&self) -> Option<&str> {
        self.inner.env.fn_name()
    }
    /// The function's memory limit in MB (`FN_MEMORY`).
    pub fn memory_mb(&self) -> Option<u64> {
        self.inner.env.memory_mb()
    }
    /// The call type (`FN_TYPE`, `sync` on the open-source server).
    pub fn fn_type(&self) -> Option<&str> {
        self.inner.env.fn_type()
    }

    /// A config value. The server passes app and function config as
    /// environment variables, so this reads any variable.
    pub fn config(&self, key: &str) -> Option<&str> {
        self.inner.env.get(key)
    }

    /// A config value parsed as `T`; the error says which key and why.
    pub fn config_parse<T>(&self, key: &str) -> Result<T, ConfigError>
    where
        T: FromStr,
        T::Err: fmt::Display,
    {
        parse_config(&self.inner.env, key)
    }

    /// Every config value (every environment variable), in no order.
    pub fn config_iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.inner.env.iter()
    }

    /// The request headers the caller sent: the same as the request's
    /// headers (`http::HeaderMap` as an extractor, `Parts::headers`). For
    /// gateway calls these are the HTTP client's headers with the
    /// `Fn-Http-H-` prefix removed; for invoke calls, the headers as they
    /// arrived, without the framing ones (`Host`, `Content-Length`,
    /// `Transfer-Encoding`). Lookups ignore case and
    /// [`HeaderMap::get_all`] returns every value of a repeated header.
    ///
    /// They are copied from the request when the context is extracted; a
    /// context taken from the request extensions by hand shows them once
    /// [`Context::from_parts`] has seen the request.
    pub fn headers(&self) -> &HeaderMap {
        self.inner
            .user_headers
            .get_or_init(|| match &self.inner.gateway {
                Some(_) => gateway::client_headers(&self.inner.socket),
                None => HeaderMap::new(),
            })
    }

    /// The first value of header `name` (any case), if it is visible ASCII.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers().get(name).and_then(|v| v.to_str().ok())
    }

    /// The request's `Content-Type`.
    pub fn content_type(&self) -> Option<&str> {
        self.header(CONTENT_TYPE.as_str())
    }

    /// Does the call carry the HTTP client's view (method, URL, headers)?
    /// True for calls through an HTTP trigger, and for every call of the
    /// stdin/stdout formats, which always carried it.
    pub fn is_gateway(&self) -> bool {
        self.inner.gateway.is_some()
    }

    /// The HTTP client's method and URL, for gateway calls (and every call
    /// of the stdin/stdout formats).
    pub fn gateway(&self) -> Option<&Gateway> {
        self.inner.gateway.as_ref()
    }

    /// The tracing headers (B3, W3C) of the call.
    pub fn trace(&self) -> &TraceContext {
        self.trace_with(self.headers())
    }

    /// The trace context, read from `client` (the request's headers) if
    /// it was not read before: a gateway call's socket headers first, then
    /// the client's, whose own arrive prefixed (HS-TRACE-3).
    pub(crate) fn trace_with(&self, client: &HeaderMap) -> &TraceContext {
        self.inner.trace.get_or_init(|| {
            if self.inner.gateway.is_some() {
                let trace = TraceContext::from_headers(&self.inner.socket);
                if !trace.is_empty() {
                    return trace;
                }
            }
            TraceContext::from_headers(client)
        })
    }

    /// Sets what [`headers`](Self::headers) shows, unless it was set.
    pub(crate) fn attach_headers(&self, headers: impl FnOnce() -> HeaderMap) {
        let _ = self.inner.user_headers.get_or_init(headers);
    }

    pub(crate) fn deadline_instant(&self) -> Option<Deadline> {
        self.inner.deadline
    }

    /// Builds the context from the socket request's headers, and gives back
    /// the client's headers: for a gateway call the `Fn-Http-H-*` set
    /// unprefixed (HS-GW-3), for an invoke call the socket's without the
    /// framing ones (HS-REQ-4).
    ///
    /// Only what every call needs is decoded here (call id, deadline, the
    /// gateway's method and URL); the trace context is read on first use.
    pub(crate) fn from_socket(
        socket: HeaderMap,
        env: Arc<Env>,
        timeout: &FnTimeout,
    ) -> (Self, HeaderMap) {
        // One pass drops the framing headers and notes the few every call
        // needs, instead of a lookup for each.
        let Noted {
            headers: socket,
            call_id,
            deadline,
            intent_is_http,
        } = without_framing(socket);
        let call_id = match call_id {
            Some(v) if v.to_str().is_ok() => Some(v),
            Some(_) => {
                logs::warn(format_args!(
                    "Fn-Call-Id is not ASCII text; using an empty call id"
                ));
                None
            }
            None => None,
        };
        let id = call_id.as_ref().and_then(|v| v.to_str().ok()).unwrap_or("");
        let deadline = match deadline {
            None => None,
            Some(value) => {
                let parsed = value.to_str().ok().and_then(deadline::parse_stated);
                if parsed.is_none() {
                    logs::warn(format_args!(
                        "call {id}: ignoring unparseable Fn-Deadline {value:?}; \
                         the call runs without a deadline"
                    ));
                }
                parsed.map(|stated| Deadline::arriving(stated, timeout))
            }
        };
        let gateway = intent_is_http.then(|| gateway::decode_target(&socket));
        let (socket, client) = match gateway {
            Some(_) => {
                let client = gateway::client_headers(&socket);
                (socket, client)
            }
            None => (HeaderMap::new(), socket),
        };
        let ctx = Self {
            inner: Arc::new(Inner {
                call_id,
                deadline,
                socket,
                gateway,
                user_headers: OnceLock::new(),
                trace: OnceLock::new(),
                env,
            }),
        };
        (ctx, client)
    }
}

/// What a stdin/stdout format says about one call (SIO-REQ-*).
#[cfg(feature = "stdio")]
#[derive(Debug, Default)]
pub(crate) struct StdioCall {
    pub(crate) call_id: String,
    /// RFC 3339, milliseconds in these formats.
    pub(crate) deadline: Option<String>,
    pub(crate) method: Option<String>,
    pub(crate) request_url: Option<String>,
    /// The client's headers, without the format's own metadata.
    pub(crate) headers: HeaderMap,
}

#[cfg(feature = "stdio")]
impl Context {
    /// Builds the context of a stdin/stdout call: the client's method, URL
    /// and headers arrive directly, so the gateway view is always there.
    /// Gives back the client's headers, without framing.
    pub(crate) fn from_stdio(
        call: StdioCall,
        env: Arc<Env>,
        timeout: &FnTimeout,
    ) -> (Self, HeaderMap) {
        let call_id = match HeaderValue::from_str(&call.call_id) {
            Ok(v) if !call.call_id.is_empty() => Some(v),
            Ok(_) => None,
            Err(_) => {
                logs::warn(format_args!(
                    "the call id {:?} is not visible ASCII text; using an empty call id",
                    call.call_id
                ));
                None
            }
        };
        let deadline = call.deadline.as_deref().and_then(|text| {
            let parsed = deadline::parse_stated(text);
            if parsed.is_none() {
                // `{:?}`: the id is still raw here, and must not be able
                // to forge a log line of its own.
                logs::warn(format_args!(
                    "call {:?}: ignoring unparseable deadline {text:?}; \
                     the call runs without a deadline",
                    call.call_id
                ));
            }
            parsed.map(|stated| Deadline::arriving(stated, timeout))
        });
        let method = call
            .method
            .as_deref()
            .filter(|m| !m.is_empty())
            .and_then(|m| http::Method::from_bytes(m.as_bytes()).ok())
            .unwrap_or(http::Method::POST);
        let url = call
            .request_url
            .as_deref()
            .and_then(|u| http::Uri::try_from(u).ok())
            .unwrap_or_else(|| http::Uri::from_static("/"));
        let ctx = Self {
            inner: Arc::new(Inner {
                call_id,
                deadline,
                socket: HeaderMap::new(),
                gateway: Some(Gateway::new(method, url)),
                user_headers: OnceLock::new(),
                trace: OnceLock::new(),
                env,
            }),
        };
        (ctx, without_framing(call.headers).headers)
    }
}

/// The headers without the socket's framing ones (`Host`, `Content-Length`,
/// `Transfer-Encoding`) in arrival order (HS-REQ-4), and the first values of
/// the headers every call reads.
struct Noted {
    headers: HeaderMap,
    call_id: Option<HeaderValue>,
    deadline: Option<HeaderValue>,
    /// `Fn-Intent` is exactly `httprequest` (HS-GW-1).
    intent_is_http: bool,
}

/// Drops the framing headers, noting the Fn ones on the way. The guard
/// hands hyper a small head with its framing lines last (`small_head`), so
/// they are usually the map's last entries and come off in place, the
/// others' order untouched; otherwise the map is rebuilt without them.
fn without_framing(mut socket: HeaderMap) -> Noted {
    let mut noted = Noted {
        headers: HeaderMap::new(),
        call_id: None,
        deadline: None,
        intent_is_http: false,
    };
    // The framing names, in entry order (three names at most).
    let mut framing: [Option<HeaderName>; 3] = Default::default();
    let mut framing_names = 0;
    let mut previous: Option<&HeaderName> = None;
    for (name, value) in &socket {
        // `iter` repeats an entry's name for each further value; an
        // entry's first value is the one a lookup gives.
        if previous == Some(name) {
            continue;
        }
        previous = Some(name);
        if is_framing(name) {
            if let Some(slot) = framing.get_mut(framing_names) {
                *slot = Some(name.clone());
                framing_names += 1;
            }
        } else if framing_names > 0 {
            // A header after a framing one: removing would reorder.
            return rebuilt(socket);
        } else {
            note(&mut noted, name, value);
        }
    }
    // Last first: each is then the map's last entry, and nothing moves.
    for name in framing.iter().rev().flatten() {
        socket.remove(name);
    }
    noted.headers = socket;
    noted
}

/// Notes `value` if `name` is one of the Fn headers every call reads.
fn note(noted: &mut Noted, name: &HeaderName, value: &HeaderValue) {
    if name == FN_CALL_ID {
        noted.call_id = Some(value.clone());
    } else if name == FN_DEADLINE {
        noted.deadline = Some(value.clone());
    } else if name == FN_INTENT {
        noted.intent_is_http = value.as_bytes() == INTENT_HTTP_REQUEST.as_bytes();
    }
}

/// [`without_framing`] for a map whose framing headers are not last: names
/// and values are moved, not copied, into a new map in the same order.
fn rebuilt(socket: HeaderMap) -> Noted {
    use http::header::Entry;
    // The request's headers were counted on arrival (HS-REQ-10, SIO-ERR-9),
    // so the map fits; the fallible calls keep that a bound, not a panic.
    let mut noted = Noted {
        headers: HeaderMap::try_with_capacity(socket.keys_len()).unwrap_or_default(),
        call_id: None,
        deadline: None,
        intent_is_http: false,
    };
    // The entry of the name whose further values follow (`into_iter` yields
    // a name once, then `None` for each further value).
    let mut current = None;
    for (name, value) in socket {
        match name {
            Some(name) if is_framing(&name) => current = None,
            Some(name) => {
                note(&mut noted, &name, &value);
                current = match noted.headers.try_entry(name) {
                    Ok(Entry::Vacant(entry)) => entry.try_insert_entry(value).ok(),
                    Ok(Entry::Occupied(mut entry)) => {
                        entry.append(value);
                        Some(entry)
                    }
                    Err(_) => None,
                };
            }
            None => {
                if let Some(entry) = current.as_mut() {
                    entry.append(value);
                }
            }
        }
    }
    noted
}

fn is_framing(name: &HeaderName) -> bool {
    name == HOST || name == CONTENT_LENGTH || name == TRANSFER_ENCODING
}

impl fmt::Debug for Context {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Context")
            .field("call_id", &self.call_id())
            .field("deadline", &self.deadline())
            .field("gateway", &self.inner.gateway)
            .field("headers", &self.headers())
            .finish_non_exhaustive()
    }
}

impl<S> FromRequestParts<S> for Context {
    type Rejection = std::convert::Infallible;

    fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(Self::from_parts(parts))
    }
}

impl Context {
    /// The context of the call whose request head is `parts`, showing
    /// `parts.headers` as its [`headers`](Self::headers). Every request the
    /// FDK hands to a handler that may read it carries one: a handler written
    /// by hand, any handler inside a layer, and any handler with an
    /// extractor other than the FDK's body extractors and `State<T>` (an
    /// extractor of your own always finds it). A bare `Parts` built by hand
    /// gets a context with no call id, deadline or gateway view.
    ///
    /// ```
    /// use fdk::Context;
    ///
    /// let (parts, ()) = fdk::http::Request::builder()
    ///     .header("x-thing", "v1")
    ///     .body(())
    ///     .unwrap_or_default()
    ///     .into_parts();
    /// let ctx = Context::from_parts(&parts);
    /// assert_eq!(ctx.header("x-thing"), Some("v1"));
    /// assert_eq!(ctx.call_id(), "");
    /// ```
    pub fn from_parts(parts: &Parts) -> Self {
        let ctx = match parts.extensions.get::<Context>() {
            Some(ctx) => ctx.clone(),
            None => {
                Self::from_socket(
                    HeaderMap::new(),
                    Arc::new(Env::default()),
                    &FnTimeout::default(),
                )
                .0
            }
        };
        ctx.attach_headers(|| parts.headers.clone());
        ctx
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(
                HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_str(value).unwrap(),
            );
        }
        map
    }

    fn listed(map: &HeaderMap) -> Vec<(String, String)> {
        map.iter()
            .map(|(k, v)| (k.to_string(), v.to_str().unwrap().to_owned()))
            .collect()
    }

    /// Framing last (as the guard arranges it) or anywhere else: the same
    /// headers in the same order, and the same notes (HS-REQ-4).
    #[test]
    fn framing_headers_come_off_wherever_they_are_and_the_order_stays() {
        let rest = [
            ("user-agent", "Go"),
            ("fn-call-id", "01A"),
            ("x-a", "1"),
            ("fn-deadline", "2030-01-01T00:00:00Z"),
            ("x-b", "2"),
            ("x-a", "3"),
            ("fn-intent", "httprequest"),
            ("fn-call-id", "second"),
        ];
        let framing = [
            ("host", "h"),
            ("transfer-encoding", "chunked"),
            ("content-length", "3"),
            ("host", "again"),
        ];
        // A map lists a name's values together, at its first place.
        let expected = listed(&map(&rest));
        for at in 0..=rest.len() {
            let mut pairs = rest.to_vec();
            for (i, f) in framing.iter().enumerate() {
                pairs.insert((at + i).min(pairs.len()), *f);
            }
            let noted = without_framing(map(&pairs));
            assert_eq!(listed(&noted.headers), expected, "framing at {at}");
            assert_eq!(noted.call_id.unwrap(), "01A");
            assert_eq!(noted.deadline.unwrap(), "2030-01-01T00:00:00Z");
            assert!(noted.intent_is_http);
        }
        let noted = without_framing(map(&[("host", "h"), ("fn-intent", "cloudevent")]));
        assert_eq!(
            listed(&noted.headers),
            [("fn-intent".to_owned(), "cloudevent".to_owned())]
        );
        assert!(!noted.intent_is_http && noted.call_id.is_none());
    }
}
