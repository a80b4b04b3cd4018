//! What the runner needs of a harness ([`SuiteHarness`]), and the two
//! harnesses opened for a run: the http-stream one ([`Harness`]) and the
//! stdio one ([`StdioHarness`]).

use std::sync::Arc;
use std::time::Instant;

use super::args::Args;
use super::container::open_sandbox;
use super::results::not_run;
use crate::Error;
use crate::case::Meta;
use crate::harness::Harness;
use crate::stdio::StdioFormat;
use crate::stdio::harness::StdioHarness;
use crate::verdict::{Failure, Verdict};
use fn_emulator::FunctionCommand;

/// A harness the runner can play a catalog with.
pub(super) trait SuiteHarness {
    /// What the function did not do when its preflight fails: "never became
    /// ready", say.
    const NOT_READY: &'static str;

    /// Marks the start of a case: reports show the log written after it.
    fn begin_case(&mut self);

    /// No call outlasts `deadline`; `limit` names it in reports. `None`
    /// lifts it. By default nothing: a harness whose every call has its own
    /// deadline leaves the case's limit to the runner's guard.
    fn set_case_deadline(&mut self, _deadline: Option<Instant>, _limit: &str) {}

    /// Starts the function once before the cases: one that cannot be
    /// started cannot be judged case by case.
    fn preflight(&mut self) -> Result<(), Verdict>;

    /// Ends the run's function as the server ends a container it no longer
    /// needs.
    fn shut_down(self);
}

impl SuiteHarness for Harness {
    const NOT_READY: &'static str = "never became ready";

    fn begin_case(&mut self) {
        Harness::begin_case(self);
    }

    fn set_case_deadline(&mut self, deadline: Option<Instant>, limit: &str) {
        Harness::set_case_deadline(self, deadline, limit);
    }

    fn preflight(&mut self) -> Result<(), Verdict> {
        self.running().map(|_| ())
    }

    fn shut_down(self) {
        // Dropping the agent kills the function and removes its directory.
    }
}

impl SuiteHarness for StdioHarness {
    const NOT_READY: &'static str = "could not be started";

    fn begin_case(&mut self) {
        StdioHarness::begin_case(self);
    }

    fn preflight(&mut self) -> Result<(), Verdict> {
        self.spawn_plain(&[]).map(|_| ())
    }

    fn shut_down(mut self) {
        StdioHarness::shut_down(&mut self);
    }
}

/// The http-stream harness for `command`, set up as `args` ask; `None`
/// when `--uid` cannot be honoured (said on stderr, and in the output files
/// as the `cases`' failure): the run then exits 2.
pub(super) fn open_http_stream(
    args: &Args,
    command: &FunctionCommand,
    cases: &[Meta],
) -> Result<Option<Harness>, Error> {
    if let Some(uid) = args.uid
        && !nix::unistd::geteuid().is_root()
    {
        eprintln!(
            "fdk-conformance: --uid {uid} needs root: only root may start the function as \
             another user (run as root, or leave --uid out; life.unprivileged is then skipped)"
        );
        return Ok(None);
    }
    let sandbox = match &args.docker_sandbox {
        Some(sandbox) => Arc::clone(sandbox),
        None => Arc::new(open_sandbox(args.sandbox)?),
    };
    let mut harness = Harness::new(command.clone(), args.probe)
        .map_err(|e| Error::io("could not create a work directory", e))?;
    harness.set_sandbox(Arc::clone(&sandbox));
    harness.set_call_timeout(args.limits.call);
    harness.set_freeze(args.freeze);
    harness.set_config(args.config.clone());
    harness.set_in_container(args.image_info.is_some() || args.docker_sandbox.is_some());
    if args.docker_sandbox.is_some() {
        // The container runs as the server's 1000:1000 whatever is asked
        // (the uid the cases that check it expect).
        harness
            .set_uid(Some(fn_emulator::docker::spec::UID))
            .map_err(|e| Error::io("could not open the work directory to the uid", e))?;
    }
    if let Some(uid) = args.uid {
        harness
            .set_uid(Some(uid))
            .map_err(|e| Error::io("could not open the work directory to other users", e))?;
        if let Err(why) = fn_emulator::process::check_access(uid, command, harness.work_path()) {
            eprintln!("fdk-conformance: --uid {uid}: {why}");
            not_run(
                command,
                cases,
                &Failure::new(format!("--uid {uid}: {why}")),
                &args.outputs,
                None,
            )?;
            return Ok(None);
        }
    }
    eprintln!("{}", sandbox.describe());
    Ok(Some(harness))
}

/// The stdio harness of `format` for `command`, set up as `args` ask.
pub(super) fn open_stdio(
    format: StdioFormat,
    args: &Args,
    command: &FunctionCommand,
) -> Result<StdioHarness, Error> {
    let sandbox = Arc::new(open_sandbox(args.sandbox)?);
    let mut harness = StdioHarness::new(format, command.clone(), args.probe)
        .map_err(|e| Error::io("could not create a work directory", e))?;
    harness.set_sandbox(Arc::clone(&sandbox));
    harness.set_freeze(args.freeze);
    eprintln!("{}", sandbox.describe());
    Ok(harness)
}
