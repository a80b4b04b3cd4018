//! The sequence played by the harness's own server emulation: the fixture
//! started as the server starts a container (its mode in the environment,
//! as the real function gets it from its config; as uid 1000 in a
//! read-only working directory when the harness runs as root), frozen
//! between calls, and every call served and judged by [`Harness::serve`].

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::{FN_TIMEOUT_SECS, MODE_VARIABLE, Route, Row, SETTLE, Step, message_of, sequence};
use crate::Error;
use crate::harness::{Call, Harness};
use fn_emulator::outcome::Fate;
use fn_emulator::sandbox::{Mode, Sandbox};
use fn_emulator::{FunctionCommand, StartOptions};

/// How the emulated containers run.
#[derive(Debug, Clone)]
pub(crate) struct Container {
    /// The jail every start runs in (cgroups when the machine allows).
    pub sandbox: Arc<Sandbox>,
    /// Run as this uid (and gid), as the server runs containers as 1000.
    pub uid: Option<u32>,
    /// The working directory (the server's is the image's, read-only).
    pub cwd: Option<PathBuf>,
}

/// What the sequence is played against: the fixture's command and its
/// container, and what must live as long as they do.
#[derive(Debug)]
pub(crate) struct Subject {
    /// What starts the fixture.
    pub command: FunctionCommand,
    /// How it runs.
    pub container: Container,
    /// An unpacked image's directory (`--image`), removed on drop.
    _unpacked: Option<fn_emulator::image::container::Container>,
}

impl Subject {
    /// The fixture binary, started here in the run's sandbox (cgroups when
    /// they can be used), as `uid` in `cwd` if given.
    pub(crate) fn command(
        fixture: &Path,
        uid: Option<u32>,
        cwd: Option<PathBuf>,
    ) -> Result<Self, Error> {
        let sandbox = crate::suite::open_sandbox(Mode::Auto).map(Arc::new)?;
        Ok(Self {
            command: FunctionCommand {
                name: "fixture".into(),
                program: OsString::from(fixture),
                args: Vec::new(),
            },
            container: Container { sandbox, uid, cwd },
            _unpacked: None,
        })
    }

    /// The fixture image, unpacked and started daemonless in the server's
    /// sandbox (`scripts/fn-sandbox.sh`), as `run --image` starts one.
    pub(crate) fn image(reference: &str) -> Result<Self, Error> {
        use fn_emulator::image::{Image, container};
        if let Some(why) = container::missing_requirement() {
            return Err(Error::Usage(format!("--image: {why}")));
        }
        let image_error =
            |e: fn_emulator::image::ImageError| Error::Usage(format!("--image {reference}: {e}"));
        let image = Image::open(reference).map_err(image_error)?;
        if let Some(refused) = image.refused_by_server() {
            return Err(image_error(refused));
        }
        let unpacked = container::Container::prepare()
            .map_err(|e| Error::io("could not prepare the container", e))?;
        let rootfs = unpacked.dir().join("rootfs");
        image.unpack(&rootfs).map_err(image_error)?;
        let command = unpacked
            .command("fixture", &rootfs, &image.config)
            .map_err(image_error)?;
        let sandbox = crate::suite::open_sandbox(Mode::Auto).map(Arc::new)?;
        Ok(Self {
            command,
            container: Container {
                sandbox,
                uid: None,
                cwd: None,
            },
            _unpacked: Some(unpacked),
        })
    }

    /// The fixture image in a Docker daemon, in the server's container
    /// (`run --docker`).
    pub(crate) fn docker(image: &str, host: Option<&str>) -> Result<Self, Error> {
        use fn_emulator::docker::{Engine, container::DockerRuntime};
        let engine = host
            .map_or_else(Engine::from_env, Engine::from_host)
            .map_err(|e| Error::Usage(format!("--docker: {e}")))?;
        let there = engine
            .image_id(image)
            .map_err(|e| Error::Usage(format!("--docker {image}: {e}")))?;
        if there.is_none() {
            return Err(Error::Usage(format!(
                "--docker {image}: the daemon at {} has no such image (never pulled: load it)",
                engine.endpoint()
            )));
        }
        Ok(Self {
            command: FunctionCommand {
                name: image.to_owned(),
                program: image.into(),
                args: Vec::new(),
            },
            container: Container {
                sandbox: Arc::new(Sandbox::docker(DockerRuntime::new(engine, image))),
                uid: None,
                cwd: None,
            },
            _unpacked: None,
        })
    }
}

/// Plays the sequence against `fixture` (a command) in `mode`; one row per
/// call.
pub(crate) fn run_mode(
    fixture: &FunctionCommand,
    mode: &str,
    container: &Container,
) -> Result<Vec<Row>, Error> {
    let command = FunctionCommand {
        name: format!("{} {mode}", fixture.name),
        ..fixture.clone()
    };
    let mut harness = Harness::new(command, false)
        .map_err(|e| Error::io("could not create the work directory", e))?;
    harness.set_freeze(true);
    harness.set_sandbox(Arc::clone(&container.sandbox));
    harness
        .set_uid(container.uid)
        .map_err(|e| Error::io("could not open the work directory to the uid", e))?;
    harness.set_start_options(StartOptions {
        env_set: vec![(MODE_VARIABLE.to_owned(), mode.to_owned())],
        cwd: container.cwd.clone(),
        uid: container.uid,
        ..StartOptions::default()
    });
    let mut rows: Vec<Row> = Vec::new();
    let mut last_end = Instant::now();
    for step in sequence() {
        step.wait_after(last_end);
        let served = harness.serve(&call_for(&step, mode));
        last_end = Instant::now();
        // The real side sees a container die in the window from one call's
        // start to the next's: a process found dead now died in the last
        // window, and a call to a dead one kills nothing new.
        if served.died_before
            && let Some(last) = rows.last_mut()
        {
            last.fate = Fate::Killed;
        }
        let view = served.view;
        let message = match view.message {
            // The client reads the server's JSON by the function's length.
            Some(message)
                if served
                    .leaked_length
                    .is_some_and(|len| len != error_body_len(message)) =>
            {
                "-".to_owned()
            }
            Some(message) => message.to_owned(),
            // The function's own answer, read as the real side reads it.
            None => message_of(view.client_status, &served.body),
        };
        rows.push(Row {
            mode: mode.to_owned(),
            step: step.name.to_owned(),
            status: view.client_status,
            message,
            fate: if served.died_before {
                Fate::Kept
            } else {
                view.container
            },
        });
    }
    // As the real side waits for late deaths after the last call.
    std::thread::sleep(SETTLE);
    if harness.pid().is_some()
        && !harness.alive()
        && let Some(last) = rows.last_mut()
    {
        last.fate = Fate::Killed;
    }
    harness.discard();
    Ok(rows)
}

/// The length of the server's error body, `{"message":"…"}` and a newline.
fn error_body_len(message: &str) -> u64 {
    (message.len() + r#"{"message":""}"#.len() + 1) as u64
}

/// The request the server would send the function for `step`.
fn call_for(step: &Step, mode: &str) -> Call {
    let call = match step.route {
        Route::Invoke => Call::invoke(),
        Route::Trigger => Call::gateway("POST", &format!("http://127.0.0.1/t/oracle/{mode}")),
    };
    let call = call
        .body(step.body.clone())
        .deadline_in(Duration::from_secs(FN_TIMEOUT_SECS));
    match step.probe {
        Some(op) => call.probe(op),
        None => call,
    }
}
