//! The one HTTP client `cargo fdk deploy` needs, over a unix socket (a
//! Docker daemon's) or plain TCP (the Fn API, a daemon's `tcp://` port):
//! `fn_emulator`'s ([`fn_emulator::docker::client`]), with its errors as
//! this crate's.

use std::time::Duration;

use bytes::Bytes;
use hyper::Method;

use crate::error::{Error, Result};

pub use fn_emulator::docker::client::{Answer, Endpoint, MAX_ANSWER, percent_escape};

impl From<fn_emulator::docker::DockerError> for Error {
    fn from(e: fn_emulator::docker::DockerError) -> Self {
        if e.is_usage() {
            Error::usage(e.message())
        } else {
            Error::new(e.message())
        }
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
    Ok(fn_emulator::docker::client::send(
        endpoint, method, path, body, limit,
    )?)
}
