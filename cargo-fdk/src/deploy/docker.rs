//! The three Docker Engine API calls a deploy makes, on the daemon's socket
//! (no docker CLI): is a daemon there, what image does a tag name, load an
//! archive. The Fn server starts function containers from its daemon's
//! images, so the image must be in that daemon before the function names it.

use std::path::Path;
use std::time::Duration;

use bytes::Bytes;
use hyper::{Method, StatusCode};

use super::client::{self, Endpoint, percent_escape};
use crate::error::{Error, Result};

/// The daemon's socket when `DOCKER_HOST` is not set.
pub const DEFAULT_SOCKET: &str = "unix:///var/run/docker.sock";

/// How long a load may take: the archive is one static binary, but a busy
/// daemon on a small machine takes its time.
const LOAD_LIMIT: Duration = Duration::from_secs(300);
const CALL_LIMIT: Duration = Duration::from_secs(30);

/// A Docker daemon.
#[derive(Debug, Clone)]
pub struct Docker {
    endpoint: Endpoint,
}

impl Docker {
    /// The daemon at `DOCKER_HOST`, or at [`DEFAULT_SOCKET`].
    pub fn from_env() -> Result<Docker> {
        let host = std::env::var("DOCKER_HOST")
            .ok()
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| DEFAULT_SOCKET.to_owned());
        Ok(Docker {
            endpoint: Endpoint::from_docker_host(&host)?,
        })
    }

    /// The daemon at `endpoint`.
    pub fn at(endpoint: Endpoint) -> Docker {
        Docker { endpoint }
    }

    /// Where it is.
    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    /// Fails, saying where it looked, unless a daemon answers `/_ping`.
    pub fn ping(&self) -> Result<()> {
        let answer = client::send(&self.endpoint, Method::GET, "/_ping", None, CALL_LIMIT)
            .map_err(|e| {
                Error::new(format!(
                    "no Docker daemon: {e} (set DOCKER_HOST to the daemon the Fn server uses)"
                ))
            })?;
        if answer.status != StatusCode::OK {
            return Err(Error::new(format!(
                "{} is not a Docker daemon: /_ping answered {} {}",
                self.endpoint,
                answer.status.as_u16(),
                answer.text()
            )));
        }
        Ok(())
    }

    /// The image ID (`sha256:…`) that `reference` names in the daemon, if
    /// any.
    pub fn image_id(&self, reference: &str) -> Result<Option<String>> {
        // The Engine API takes a whole reference, `/` and `:` included, as the
        // rest of the path.
        let path = format!("/images/{}/json", percent_escape(reference, b"/:"));
        let answer = client::send(&self.endpoint, Method::GET, &path, None, CALL_LIMIT)?;
        match answer.status {
            StatusCode::NOT_FOUND => Ok(None),
            StatusCode::OK => {
                let inspect: serde_json::Value =
                    serde_json::from_slice(&answer.body).map_err(|e| {
                        Error::new(format!("the daemon's image inspect is not JSON: {e}"))
                    })?;
                match inspect.get("Id").and_then(|id| id.as_str()) {
                    Some(id) => Ok(Some(id.to_owned())),
                    None => Err(Error::new("the daemon's image inspect has no Id")),
                }
            }
            other => Err(Error::new(format!(
                "the daemon answered GET {path} with {}: {}",
                other.as_u16(),
                message_of(&answer.body)
            ))),
        }
    }

    /// `docker load` of `archive` (a docker-archive tarball).
    pub fn load(&self, archive: &Path) -> Result<()> {
        let tar = std::fs::read(archive).map_err(|e| Error::io("read", archive, &e))?;
        let answer = client::send(
            &self.endpoint,
            Method::POST,
            "/images/load?quiet=1",
            Some((Bytes::from(tar), "application/x-tar")),
            LOAD_LIMIT,
        )?;
        if answer.status != StatusCode::OK {
            return Err(Error::new(format!(
                "the daemon refused the image ({}): {}",
                answer.status.as_u16(),
                message_of(&answer.body)
            )));
        }
        // A 200 streams JSON messages; a failure mid-way is one with `error`.
        for line in answer.body.split(|b| *b == b'\n') {
            let Ok(message) = serde_json::from_slice::<serde_json::Value>(line) else {
                continue;
            };
            if let Some(error) = message.get("error").and_then(|e| e.as_str()) {
                return Err(Error::new(format!(
                    "the daemon could not load the image: {error}"
                )));
            }
        }
        Ok(())
    }
}

/// The `message` of a Docker or Fn API error body, else the body.
pub(crate) fn message_of(body: &[u8]) -> String {
    serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v.get("message").and_then(|m| m.as_str()).map(str::to_owned))
        .unwrap_or_else(|| String::from_utf8_lossy(body).trim().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_and_messages() {
        assert_eq!(
            percent_escape("reg:5000/a/b:0.0.1", b"/:"),
            "reg:5000/a/b:0.0.1"
        );
        assert_eq!(percent_escape("a b?c", b"/:"), "a%20b%3Fc");
        assert_eq!(
            message_of(br#"{"message":"No such image"}"#),
            "No such image"
        );
        assert_eq!(message_of(b"plain\n"), "plain");
    }
}
