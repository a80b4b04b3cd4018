//! `run --docker IMAGE`: the function an image in a Docker daemon holds,
//! run through the daemon's Engine API as fnserver 0.3.753 runs it (its
//! container configuration, pause and unpause as the freezer, forced
//! removal; [`fn_emulator::docker`]). The image must already be in the
//! daemon: like the server with an image it has, nothing is pulled.

use std::sync::Arc;

use fn_emulator::FunctionCommand;
use fn_emulator::docker::Engine;
use fn_emulator::docker::client::Endpoint;
use fn_emulator::docker::container::DockerRuntime;
use fn_emulator::sandbox::Sandbox;

use super::Args;
use crate::Error;
use crate::report::ImageInfo;

/// Runs the suite against `reference` in the daemon; see the module doc.
pub(super) fn run(args: &Args, reference: &str) -> Result<u8, Error> {
    if let Some(format) = args.format {
        return Err(Error::Usage(format!(
            "--docker runs the http-stream suite only, not --format {format}"
        )));
    }
    let engine = match &args.docker_host {
        Some(host) => Engine::from_host(host),
        None => Engine::from_env(),
    }
    .map_err(|e| Error::Usage(format!("--docker: {e}")))?;
    // The harness binds its socket directory into the container and watches
    // the function's PID in /proc: both need the daemon on this machine.
    if !matches!(engine.endpoint(), Endpoint::Unix(_)) {
        return Err(Error::Usage(format!(
            "--docker needs a daemon on this machine, through its unix socket (the function's \
             socket directory is bound into the container and its process watched in /proc), \
             not {}",
            engine.endpoint()
        )));
    }
    engine
        .ping()
        .map_err(|e| Error::Usage(format!("--docker {reference}: {e}")))?;
    let inspect = engine
        .inspect_image(reference)
        .map_err(|e| Error::Usage(format!("--docker {reference}: {e}")))?
        .ok_or_else(|| {
            Error::Usage(format!(
                "--docker {reference}: the daemon at {} has no such image, and --docker never \
                 pulls; load it first (docker load -i image.tar)",
                engine.endpoint()
            ))
        })?;
    let digest = inspect
        .get("Id")
        .and_then(serde_json::Value::as_str)
        .unwrap_or("(no image ID)")
        .to_owned();
    // The server's `ValidateImage`: an image with a volume is refused.
    let volumes = inspect
        .pointer("/Config/Volumes")
        .and_then(serde_json::Value::as_object)
        .filter(|v| !v.is_empty());
    if let Some(volumes) = volumes {
        let names: Vec<&str> = volumes.keys().map(String::as_str).collect();
        return Err(Error::Usage(format!(
            "--docker {reference}: the Fn server would not run it: the image declares VOLUME \
             {} (the server's \"image has Volume definition\")",
            names.join(", ")
        )));
    }
    let runtime = DockerRuntime::new(engine.clone(), reference);
    let container = format!(
        "docker: fnserver 0.3.753's container on the daemon at {} (uid and gid 1000, no \
         capabilities, read-only root, tmpfs /tmp with the socket directory at /tmp/iofs, \
         docker-init, no network, 50 pids, 350 files, frozen with docker pause)",
        engine.endpoint()
    );
    println!("image {reference}: {digest}");
    println!("container: {container}");
    let mut with_docker = args.clone();
    with_docker.image_info = Some(ImageInfo {
        reference: reference.to_owned(),
        digest,
        container,
    });
    with_docker.command = Some(FunctionCommand {
        name: reference.to_owned(),
        program: reference.into(),
        args: Vec::new(),
    });
    with_docker.docker_sandbox = Some(Arc::new(Sandbox::docker(runtime)));
    super::run(&with_docker)
}
