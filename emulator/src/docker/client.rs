//! One HTTP client for the Engine API and the Fn API: a request, its whole
//! answer, over a unix socket (a Docker daemon's) or plain TCP (the Fn API,
//! a daemon's `tcp://` port). One connection per request: a deploy makes a
//! dozen of them, a conformance run one per pause, and a fresh connection
//! never meets a stale keep-alive. `cargo fdk deploy` and `fdk-conformance
//! run --docker` both use it.
//!
//! TLS is not spoken. An Fn server or a daemon behind `https://` is reached
//! through a local proxy or an SSH tunnel; the error says so.

use std::path::PathBuf;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::client::conn::http1;
use hyper::{Method, Request, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite};

use super::{DockerError as Error, Result};

/// The most of an answer that is read: the Fn API and the Engine API answer
/// in kilobytes; anything far larger is not one of them.
pub const MAX_ANSWER: usize = 16 << 20;

/// Where a service listens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    /// A unix socket, e.g. `/var/run/docker.sock`.
    Unix(PathBuf),
    /// `host:port` over plain TCP, with a path prefix (no trailing `/`).
    Tcp {
        /// `host:port`, as `Host` carries it.
        authority: String,
        /// Prepended to every request path (`http://h:8080/fn` → `/fn`).
        prefix: String,
    },
}

impl Endpoint {
    /// An `http://host[:port][/prefix]` URL (port 80 by default).
    pub fn from_http_url(url: &str, what: &str) -> Result<Endpoint> {
        let uri: hyper::Uri = url
            .parse()
            .map_err(|e| Error::usage(format!("{what} `{url}` is not a URL: {e}")))?;
        match uri.scheme_str() {
            Some("http") => {}
            Some("https") => {
                return Err(Error::usage(format!(
                    "{what} `{url}`: plain http only; reach an https server \
                     through a local proxy or an SSH tunnel"
                )));
            }
            _ => {
                return Err(Error::usage(format!(
                    "{what} `{url}` must start with http://"
                )));
            }
        }
        let Some(authority) = uri.authority() else {
            return Err(Error::usage(format!("{what} `{url}` has no host")));
        };
        if authority.as_str().contains('@') {
            return Err(Error::usage(format!(
                "{what} `{url}`: user information in the URL is not supported"
            )));
        }
        let authority = match authority.port_u16() {
            Some(_) => authority.as_str().to_owned(),
            None => format!("{}:80", authority.host()),
        };
        Ok(Endpoint::Tcp {
            authority,
            prefix: uri.path().trim_end_matches('/').to_owned(),
        })
    }

    /// A `DOCKER_HOST` value: `unix:///path` or `tcp://host:port`.
    pub fn from_docker_host(value: &str) -> Result<Endpoint> {
        if let Some(path) = value.strip_prefix("unix://") {
            if path.is_empty() {
                return Err(Error::usage("DOCKER_HOST `unix://` names no socket"));
            }
            return Ok(Endpoint::Unix(PathBuf::from(path)));
        }
        if let Some(rest) = value.strip_prefix("tcp://") {
            return Endpoint::from_http_url(&format!("http://{rest}"), "DOCKER_HOST");
        }
        Err(Error::usage(format!(
            "DOCKER_HOST `{value}`: a daemon is reached at unix:///PATH or tcp://HOST:PORT \
             (no TLS, no ssh://)"
        )))
    }
}

impl std::fmt::Display for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Endpoint::Unix(path) => write!(f, "unix://{}", path.display()),
            Endpoint::Tcp { authority, prefix } => write!(f, "http://{authority}{prefix}"),
        }
    }
}

/// Percent-escapes every byte of `text` but RFC 3986's unreserved ones and
/// those in `keep` (a path of several segments keeps `/`, say).
pub fn percent_escape(text: &str, keep: &[u8]) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) || keep.contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// An answer: its status and whole body.
#[derive(Debug, Clone)]
pub struct Answer {
    /// The status.
    pub status: StatusCode,
    /// The head's fields (a registry's `Location`, say).
    pub headers: hyper::HeaderMap,
    /// The body.
    pub body: Bytes,
}

impl Answer {
    /// The body as text, for messages (invalid UTF-8 replaced).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).trim().to_owned()
    }
}

/// Sends one request and reads the whole answer, within `limit`.
/// `content_type` goes with a body.
pub fn send(
    endpoint: &Endpoint,
    method: Method,
    path: &str,
    body: Option<(Bytes, &str)>,
    limit: Duration,
) -> Result<Answer> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::new(format!("cannot start an I/O runtime: {e}")))?;
    let what = format!("{method} {path}");
    runtime.block_on(async {
        match tokio::time::timeout(limit, exchange(endpoint, method, path, body)).await {
            Ok(answer) => answer,
            Err(_) => Err(Error::new(format!(
                "{endpoint}: {what} got no answer in {} s",
                limit.as_secs()
            ))),
        }
    })
}

async fn exchange(
    endpoint: &Endpoint,
    method: Method,
    path: &str,
    body: Option<(Bytes, &str)>,
) -> Result<Answer> {
    let (host, full_path) = match endpoint {
        // The Engine API ignores `Host`; Go's client sends this one.
        Endpoint::Unix(_) => ("localhost".to_owned(), path.to_owned()),
        Endpoint::Tcp { authority, prefix } => (authority.clone(), format!("{prefix}{path}")),
    };
    let mut request = Request::builder()
        .method(method.clone())
        .uri(&full_path)
        .header(hyper::header::HOST, host)
        .header(
            hyper::header::USER_AGENT,
            concat!("fn-emulator/", env!("CARGO_PKG_VERSION")),
        );
    let bytes = match body {
        Some((bytes, content_type)) => {
            request = request.header(hyper::header::CONTENT_TYPE, content_type);
            bytes
        }
        None => Bytes::new(),
    };
    let request = request
        .body(Full::new(bytes))
        .map_err(|e| Error::new(format!("cannot make the request {method} {full_path}: {e}")))?;
    let answer = match endpoint {
        Endpoint::Unix(path) => {
            let stream = tokio::net::UnixStream::connect(path)
                .await
                .map_err(|e| unreachable(endpoint, &e))?;
            over(stream, request).await
        }
        Endpoint::Tcp { authority, .. } => {
            let stream = tokio::net::TcpStream::connect(authority.as_str())
                .await
                .map_err(|e| unreachable(endpoint, &e))?;
            over(stream, request).await
        }
    };
    answer.map_err(|e| Error::new(format!("{endpoint}: {method} {path}: {e}")))
}

fn unreachable(endpoint: &Endpoint, err: &std::io::Error) -> Error {
    Error::new(format!("nothing answers at {endpoint}: {err}"))
}

async fn over<S>(stream: S, request: Request<Full<Bytes>>) -> Result<Answer, String>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (mut sender, connection) = http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| e.to_string())?;
    let driver = tokio::spawn(connection);
    let response = sender
        .send_request(request)
        .await
        .map_err(|e| e.to_string());
    let answer = match response {
        Ok(response) => {
            let status = response.status();
            let headers = response.headers().clone();
            // Counted as it arrives: a runaway answer stops at the limit.
            match Limited::new(response.into_body(), MAX_ANSWER)
                .collect()
                .await
            {
                Ok(collected) => Ok(Answer {
                    status,
                    headers,
                    body: collected.to_bytes(),
                }),
                Err(e) => Err(format!("reading the answer: {e}")),
            }
        }
        Err(e) => Err(e),
    };
    driver.abort();
    answer
}

/// Opens a raw stream: sends `method path` asking to take the connection
/// over (`Upgrade: tcp`, as the Engine API's attach wants), reads the head,
/// and hands back the connection for what follows (blocking reads). For
/// `POST /containers/{id}/attach`: the function's stdout and stderr as
/// they are written, for as long as the container runs.
pub fn open_stream(
    endpoint: &Endpoint,
    method: &Method,
    path: &str,
    limit: Duration,
) -> Result<Box<dyn std::io::Read + Send>> {
    use std::io::{Read as _, Write as _};
    let fail = |what: String| Error::new(format!("{endpoint}: {method} {path}: {what}"));
    let (host, full_path) = match endpoint {
        Endpoint::Unix(_) => ("localhost".to_owned(), path.to_owned()),
        Endpoint::Tcp { authority, prefix } => (authority.clone(), format!("{prefix}{path}")),
    };
    let request = format!(
        "{method} {full_path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: fn-emulator/{}\r\n\
         Content-Length: 0\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n",
        env!("CARGO_PKG_VERSION")
    );
    let mut stream: Box<dyn RawStream> = match endpoint {
        Endpoint::Unix(socket) => {
            let s = std::os::unix::net::UnixStream::connect(socket)
                .map_err(|e| unreachable(endpoint, &e))?;
            s.set_read_timeout(Some(limit))
                .map_err(|e| fail(e.to_string()))?;
            Box::new(s)
        }
        Endpoint::Tcp { authority, .. } => {
            let s = std::net::TcpStream::connect(authority.as_str())
                .map_err(|e| unreachable(endpoint, &e))?;
            s.set_read_timeout(Some(limit))
                .map_err(|e| fail(e.to_string()))?;
            Box::new(s)
        }
    };
    stream
        .write_all(request.as_bytes())
        .map_err(|e| fail(e.to_string()))?;
    // The head, byte by byte: what follows it belongs to the stream.
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if head.len() > 64 * 1024 {
            return Err(fail("an answer head over 64 KiB".into()));
        }
        match stream.read(&mut byte) {
            Ok(0) => return Err(fail("the daemon closed the connection".into())),
            Ok(_) => head.push(byte[0]),
            Err(e) => return Err(fail(e.to_string())),
        }
    }
    let head = String::from_utf8_lossy(&head);
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse::<u16>().ok())
        .unwrap_or(0);
    if status != 101 && status != 200 {
        return Err(fail(format!(
            "answered {}",
            head.lines().next().unwrap_or_default()
        )));
    }
    stream
        .clear_read_timeout()
        .map_err(|e| fail(e.to_string()))?;
    Ok(Box::new(StreamReader(stream)))
}

/// A connection [`open_stream`] can hand back.
trait RawStream: std::io::Read + std::io::Write + Send {
    /// Reads block again without a limit (the stream lasts as long as the
    /// container).
    fn clear_read_timeout(&self) -> std::io::Result<()>;
}

impl RawStream for std::os::unix::net::UnixStream {
    fn clear_read_timeout(&self) -> std::io::Result<()> {
        self.set_read_timeout(None)
    }
}

impl RawStream for std::net::TcpStream {
    fn clear_read_timeout(&self) -> std::io::Result<()> {
        self.set_read_timeout(None)
    }
}

struct StreamReader(Box<dyn RawStream>);

impl std::io::Read for StreamReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.0.read(buf)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_from_urls_and_docker_hosts() {
        assert_eq!(
            Endpoint::from_http_url("http://127.0.0.1:8080", "FN_API_URL").unwrap(),
            Endpoint::Tcp {
                authority: "127.0.0.1:8080".into(),
                prefix: String::new()
            }
        );
        assert_eq!(
            Endpoint::from_http_url("http://fn.local/api/", "FN_API_URL").unwrap(),
            Endpoint::Tcp {
                authority: "fn.local:80".into(),
                prefix: "/api".into()
            }
        );
        assert_eq!(
            Endpoint::from_docker_host("unix:///run/d.sock").unwrap(),
            Endpoint::Unix("/run/d.sock".into())
        );
        assert_eq!(
            Endpoint::from_docker_host("tcp://10.0.0.1:2375")
                .unwrap()
                .to_string(),
            "http://10.0.0.1:2375"
        );
        for (bad, says) in [
            ("https://fn.example", "plain http only"),
            ("ftp://x", "must start with http://"),
            ("http://u:p@h:1", "user information"),
        ] {
            let err = Endpoint::from_http_url(bad, "FN_API_URL").unwrap_err();
            assert!(
                err.is_usage() && err.message().contains(says),
                "{bad}: {err}"
            );
        }
        for bad in ["ssh://me@host", "unix://", "/var/run/docker.sock"] {
            assert!(Endpoint::from_docker_host(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn nothing_listening_is_a_clear_error() {
        let dir = std::env::temp_dir().join(format!("fdk-client-{}", std::process::id()));
        let endpoint = Endpoint::Unix(dir.join("absent.sock"));
        let err = send(
            &endpoint,
            Method::GET,
            "/_ping",
            None,
            Duration::from_secs(5),
        )
        .unwrap_err()
        .to_string();
        assert!(err.starts_with("nothing answers at unix://"), "{err}");
    }
}
