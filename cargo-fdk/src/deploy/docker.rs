//! The three Docker Engine API calls a deploy makes, on the daemon's socket
//! (no docker CLI): is a daemon there, what image does a tag name, load an
//! archive. The Fn server starts function containers from its daemon's
//! images, so the image must be in that daemon before the function names it.
//! The calls are `fn_emulator`'s ([`fn_emulator::docker::Engine`]).

use std::path::Path;

use fn_emulator::docker::Engine;

use super::client::Endpoint;
use crate::error::{Error, Result};

pub use fn_emulator::docker::{DEFAULT_SOCKET, message_of};

/// A Docker daemon.
#[derive(Debug, Clone)]
pub struct Docker {
    engine: Engine,
}

impl Docker {
    /// The daemon at `DOCKER_HOST`, or at [`DEFAULT_SOCKET`].
    pub fn from_env() -> Result<Docker> {
        Ok(Docker {
            engine: Engine::from_env()?,
        })
    }

    /// The daemon at `endpoint`.
    pub fn at(endpoint: Endpoint) -> Docker {
        Docker {
            engine: Engine::at(endpoint),
        }
    }

    /// Where it is.
    pub fn endpoint(&self) -> &Endpoint {
        self.engine.endpoint()
    }

    /// Fails, saying where it looked, unless a daemon answers `/_ping`.
    pub fn ping(&self) -> Result<()> {
        self.engine.ping().map_err(|e| {
            Error::new(format!(
                "{e} (set DOCKER_HOST to the daemon the Fn server uses)"
            ))
        })
    }

    /// The image ID (`sha256:…`) that `reference` names in the daemon, if
    /// any.
    pub fn image_id(&self, reference: &str) -> Result<Option<String>> {
        Ok(self.engine.image_id(reference)?)
    }

    /// `docker load` of `archive` (a docker-archive tarball).
    pub fn load(&self, archive: &Path) -> Result<()> {
        Ok(self.engine.load(archive)?)
    }
}
