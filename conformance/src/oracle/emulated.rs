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
use fn_emulator::sandbox::Sandbox;
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

/// Plays the sequence against `fixture` in `mode`; one row per call.
pub(crate) fn run_mode(
    fixture: &Path,
    mode: &str,
    container: &Container,
) -> Result<Vec<Row>, Error> {
    let command = FunctionCommand {
        name: format!("fixture {mode}"),
        program: OsString::from(fixture),
        args: Vec::new(),
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
