//! The HTTP gateway: calls that came through an HTTP trigger
//! (`Fn-Intent: httprequest`), and how their headers and status travel.
//!
//! On the way in, the server sends the client's method and URL as
//! `Fn-Http-Method` and `Fn-Http-Request-Url`, and each client header as
//! `Fn-Http-H-<Name>` (except `Content-Type`, which stays unprefixed). On the
//! way out, the user's status goes in `Fn-Http-Status` and each user header
//! as `Fn-Http-H-<Name>`; the server drops everything else (HS-GW-*).
//!
//! ```
//! use fdk::testing::TestCall;
//!
//! let ctx = TestCall::gateway("GET", "http://example.com/t/app/hello?name=Jo%20Ann&x=1")
//!     .header("X-Thing", "v1")
//!     .context();
//! let gw = ctx.gateway().unwrap();
//! assert_eq!(gw.method(), "GET");
//! assert_eq!(gw.path(), "/t/app/hello");
//! assert_eq!(gw.query("name"), Some("Jo Ann"));
//! assert_eq!(ctx.header("x-thing"), Some("v1"));
//! ```

use http::header::{CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue};
use http::{Method, Uri};

use crate::logs;
use crate::protocol::{FN_HTTP_H_PREFIX, FN_HTTP_METHOD, FN_HTTP_REQUEST_URL, is_hop_by_hop};

/// What the HTTP trigger's client sent: method and URL. The client's headers
/// are on the [`Context`](crate::Context) (`headers()`), already unprefixed.
#[derive(Debug, Clone)]
pub struct Gateway {
    method: Method,
    url: Uri,
    query: Vec<(String, String)>,
}

impl Gateway {
    /// The client's method (`Fn-Http-Method`).
    pub fn method(&self) -> &Method {
        &self.method
    }

    /// The client's full URL (`Fn-Http-Request-Url`), e.g.
    /// `http://localhost:8080/t/app/hello?x=1`.
    pub fn url(&self) -> &Uri {
        &self.url
    }

    /// The URL's path, e.g. `/t/app/hello`.
    pub fn path(&self) -> &str {
        self.url.path()
    }

    /// The first value of query parameter `key`, percent-decoded.
    pub fn query(&self, key: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// Every query parameter in URL order, percent-decoded (`+` is a space).
    pub fn query_pairs(&self) -> impl Iterator<Item = (&str, &str)> {
        self.query.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    pub(crate) fn new(method: Method, url: Uri) -> Self {
        let query = url.query().map(parse_query).unwrap_or_default();
        Self { method, url, query }
    }
}

/// The client's method and URL of a gateway call; missing or garbled
/// values are logged and replaced, never fatal (HS-GW-2).
pub(crate) fn decode_target(socket: &HeaderMap) -> Gateway {
    let method = match socket
        .get(&FN_HTTP_METHOD)
        .map(|v| Method::from_bytes(v.as_bytes()))
    {
        Some(Ok(m)) => m,
        _ => {
            logs::warn(format_args!(
                "gateway call without a valid Fn-Http-Method header; assuming POST"
            ));
            Method::POST
        }
    };
    let url = match socket
        .get(&FN_HTTP_REQUEST_URL)
        .map(|v| Uri::try_from(v.as_bytes()))
    {
        Some(Ok(u)) => u,
        _ => {
            logs::warn(format_args!(
                "gateway call without a valid Fn-Http-Request-Url header; assuming /"
            ));
            Uri::from_static("/")
        }
    };
    Gateway::new(method, url)
}

/// The client's own headers of a gateway call: each `Fn-Http-H-<Name>` as
/// `<Name>`, plus the unprefixed `Content-Type` (HS-GW-3).
pub(crate) fn client_headers(socket: &HeaderMap) -> HeaderMap {
    // `socket` holds at most MAX_HEADERS values (HS-REQ-10), so the copy
    // fits; the fallible calls keep that a bound, not a panic.
    let mut client = HeaderMap::try_with_capacity(socket.keys_len()).unwrap_or_default();
    for (name, value) in socket {
        if name == CONTENT_TYPE {
            let _ = client.try_append(CONTENT_TYPE, value.clone());
        } else if let Some(rest) = name.as_str().strip_prefix(FN_HTTP_H_PREFIX) {
            // `Fn-Http-H-` with an empty name is dropped, as the server does.
            if let Ok(original) = HeaderName::from_bytes(rest.as_bytes()) {
                let _ = client.try_append(original, value.clone());
            }
        }
    }
    client
}

/// Writes the user's headers for a gateway response: `Content-Type` as is,
/// everything else as `Fn-Http-H-<Name>`, every value kept (HS-GW-5).
/// Fails when `out` cannot hold another name (HS-RESP-13).
pub(crate) fn encode_headers(
    user: HeaderMap,
    out: &mut HeaderMap,
) -> Result<(), http::header::MaxSizeReached> {
    let mut current: Option<HeaderName> = None;
    for (name, value) in user {
        // `HeaderMap::into_iter` yields the name once, then `None` for the
        // further values of the same header.
        if let Some(name) = name {
            current = if name == CONTENT_TYPE {
                Some(CONTENT_TYPE)
            } else if is_hop_by_hop(name.as_str()) {
                None
            } else if name.as_str().starts_with(FN_HTTP_H_PREFIX) {
                // Set by hand, fdk-go style: already in gateway form (HS-GW-6).
                Some(name)
            } else {
                prefixed(&name)
            };
        }
        if let Some(name) = &current {
            out.try_append(name.clone(), value)?;
        }
    }
    Ok(())
}

fn prefixed(name: &HeaderName) -> Option<HeaderName> {
    let mut full = String::with_capacity(FN_HTTP_H_PREFIX.len() + name.as_str().len());
    full.push_str(FN_HTTP_H_PREFIX);
    full.push_str(name.as_str());
    HeaderName::from_bytes(full.as_bytes()).ok()
}

/// The status value for `Fn-Http-Status`.
pub(crate) fn status_value(status: http::StatusCode) -> HeaderValue {
    HeaderValue::from(status.as_u16())
}

/// `application/x-www-form-urlencoded` parsing of a query string.
fn parse_query(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

/// Decodes `%XX` escapes and `+`; invalid escapes are kept as written and
/// invalid UTF-8 becomes U+FFFD, so no input is refused.
pub(crate) fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = bytes.get(i + 1..i + 3).and_then(|h| {
                    let h = std::str::from_utf8(h).ok()?;
                    u8::from_str_radix(h, 16).ok()
                });
                match hex {
                    Some(b) => {
                        out.push(b);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn decode_keeps_only_prefixed_headers_and_content_type() {
        // The header block of capture e-trigger-get-query (plus a Content-Type).
        let socket = headers(&[
            ("host", "localhost"),
            ("user-agent", "Go-http-client/1.1"),
            ("content-type", "text/plain"),
            ("fn-call-id", "01M8CTP7SMFW0000A6M000000A"),
            ("fn-http-h-accept", "application/json"),
            ("fn-http-h-x-multi", "1"),
            ("fn-http-h-x-multi", "2"),
            ("fn-http-h-", "dropped"),
            ("fn-http-method", "GET"),
            (
                "fn-http-request-url",
                "http://127.0.0.1:18080/t/cap/cap?x=1&y=two%20words",
            ),
            ("fn-intent", "httprequest"),
        ]);
        let (gw, client) = (decode_target(&socket), client_headers(&socket));
        assert_eq!(gw.method(), Method::GET);
        assert_eq!(gw.path(), "/t/cap/cap");
        assert_eq!(
            gw.query_pairs().collect::<Vec<_>>(),
            [("x", "1"), ("y", "two words")]
        );
        let seen: Vec<_> = client
            .iter()
            .map(|(k, v)| (k.as_str(), v.to_str().unwrap()))
            .collect();
        assert_eq!(
            seen,
            [
                ("content-type", "text/plain"),
                ("accept", "application/json"),
                ("x-multi", "1"),
                ("x-multi", "2"),
            ]
        );
    }

    #[test]
    fn decode_tolerates_missing_or_garbled_gateway_headers() {
        let gw = decode_target(&headers(&[
            ("fn-http-method", "G E T"),
            ("fn-http-request-url", "::"),
        ]));
        assert_eq!((gw.method(), gw.path()), (&Method::POST, "/"));
    }

    #[test]
    fn encode_prefixes_user_headers_keeps_content_type_and_every_value() {
        let user = headers(&[
            ("content-type", "application/json"),
            ("x-thing", "v1"),
            ("x-thing", "v2"),
            ("connection", "close"),
            ("set-cookie", "a=1"),
            ("fn-http-h-x-manual", "m"),
        ]);
        let mut out = HeaderMap::new();
        encode_headers(user, &mut out).unwrap();
        let seen: Vec<_> = out
            .iter()
            .map(|(k, v)| (k.as_str(), v.to_str().unwrap()))
            .collect();
        assert_eq!(
            seen,
            [
                ("content-type", "application/json"),
                ("fn-http-h-x-thing", "v1"),
                ("fn-http-h-x-thing", "v2"),
                ("fn-http-h-set-cookie", "a=1"),
                ("fn-http-h-x-manual", "m"),
            ]
        );
    }

    #[test]
    fn percent_decoding_never_refuses_input() {
        assert_eq!(percent_decode("a%20b+c"), "a b c");
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("%zz%4"), "%zz%4");
        assert_eq!(percent_decode("%C3%A9%FF"), "é\u{FFFD}");
    }
}
