//! `fdk-conformance bench`: how much a function costs over the bare minimum.
//!
//! For each function the run measures, in this order:
//!
//! 1. **exec to ready**: `--starts` starts per function, alternating between
//!    functions, each timed from spawn to `lsnr.sock` appearing; the last
//!    start of each is kept running;
//! 2. **warmup**: `--warmup` calls per function, not measured;
//! 3. **calls**: `--calls` invoke calls per function over one keep-alive
//!    connection, in blocks of `BLOCK` calls that alternate between
//!    functions so that drift (other tenants, frequency changes) hits all
//!    alike. Every answer must be a 200 (for `floor`, with [`FLOOR_BODY`]);
//! 4. **soak**: `VmRSS`, `Threads` and the open descriptors after warmup,
//!    after 1k, 10k, 100k and 1M calls (the `CHECKPOINTS` the run reaches)
//!    and at the end, so that a leak shows as growth between the first and
//!    the last checkpoint.
//!
//! By default the driver pins itself to one CPU before it spawns anything,
//! so the functions inherit the same single CPU (see `cpu`). With
//! `--limits` every function runs under the server's limits (`limits`).

pub(crate) mod args;
pub(crate) mod cpu;
pub mod floor;
pub(crate) mod limits;
pub(crate) mod measure;
pub(crate) mod report;
pub(crate) mod stats;
pub(crate) mod table;

use std::fs;
use std::io::{self, Write};
use std::sync::Arc;
use std::time::Duration;

use crate::Error;
use args::BenchArgs;
use fn_emulator::process::output_tail;
use fn_emulator::request::GO_USER_AGENT;
use fn_emulator::sandbox::Sandbox;
use fn_emulator::{
    FunctionCommand, ReadyWait, RequestTemplate, RunningFunction, StartOptions, WorkDir, procfs,
};
use measure::{CallMaker, Subject};
use report::{FunctionReport, Report, compare_with_floor};

/// The name that marks the floor: its body is checked and its p50 is the
/// reference of the `vs_floor` column.
pub(crate) const FLOOR_NAME: &str = "floor";

/// The body the `floor` binary answers every call with.
pub const FLOOR_BODY: &[u8] = b"floor\n";

/// Measured calls per block before switching to the next function.
pub(crate) const BLOCK: u64 = 100;

/// The soak checkpoints, in measured calls: each decade from 1k to 1M, so a
/// leak of a few bytes per call adds up to something visible by the last one
/// the run reaches.
pub(crate) const CHECKPOINTS: [(u64, &str); 4] = [
    (1_000, "1k"),
    (10_000, "10k"),
    (100_000, "100k"),
    (1_000_000, "1M"),
];

/// Where the next block must stop, having made `measured` of `calls`: the
/// end of the block, the next checkpoint or the end of the run, whichever
/// comes first.
fn block_end(measured: u64, calls: u64) -> u64 {
    let next_mark = CHECKPOINTS
        .iter()
        .map(|(at, _)| *at)
        .find(|at| *at > measured)
        .unwrap_or(u64::MAX);
    measured.saturating_add(BLOCK).min(next_mark).min(calls)
}

/// The checkpoint taken after exactly `measured` calls, if any.
fn checkpoint_at(measured: u64) -> Option<&'static str> {
    CHECKPOINTS
        .iter()
        .find(|(at, _)| *at == measured)
        .map(|(_, label)| *label)
}

/// How much of a function's output to show when it fails to start.
const OUTPUT_TAIL: usize = 2_000;

/// Runs the benchmark described by `args`, with progress on stderr.
pub(crate) fn run(args: &BenchArgs) -> Result<Report, Error> {
    if let Some(cpu) = args.cpu {
        cpu::pin_to(cpu)?;
    }
    let limits = if args.limits {
        let (sandbox, report) = limits::open(limits::in_ci())?;
        progress(format_args!("{}", report.summary()));
        Some((sandbox, report))
    } else {
        None
    };
    let mut work =
        WorkDir::create().map_err(|e| Error::io("could not create the work directory", e))?;

    let sandbox = limits.as_ref().map(|(sandbox, _)| sandbox);
    let (running, ready) = start_all(args, &mut work, sandbox)?;

    let body = request_body(args.body_size);
    let headers: &[(&str, &str)] = if body.is_empty() {
        &[]
    } else {
        &[("Content-Type", "text/plain")]
    };
    let mut maker = CallMaker::new(RequestTemplate::new(GO_USER_AGENT, headers, &body));

    let mut subjects: Vec<Subject> = args
        .functions
        .iter()
        .zip(running)
        .map(|(f, r)| {
            let expected = (f.name == FLOOR_NAME).then_some(FLOOR_BODY);
            Subject::new(f.name.clone(), r, expected, args.calls)
        })
        .collect();

    let mut cpus_allowed = Vec::new();
    for s in &mut subjects {
        progress(format_args!("{}: {} warmup calls", s.name, args.warmup));
        s.warm_up(args.warmup, &mut maker);
        s.checkpoint("warm");
        s.function_cpu_start = procfs::cpu_time(s.running.pid()).ok();
        cpus_allowed.push(
            procfs::status(s.running.pid())
                .ok()
                .map(|st| st.cpus_allowed),
        );
    }

    measure_all(args.calls, &mut subjects, &mut maker);

    let mut functions = Vec::new();
    for ((command, subject), (ready, cpus)) in args
        .functions
        .iter()
        .zip(&mut subjects)
        .zip(ready.iter().zip(cpus_allowed))
    {
        subject.checkpoint("end");
        let cpu_end = procfs::cpu_time(subject.running.pid()).ok();
        let nofile = procfs::nofile_limit(subject.running.pid()).ok();
        if let Ok(Some(status)) = subject.running.exit_status() {
            subject
                .stopped
                .get_or_insert(format!("function exited ({status})"));
        }
        let output_bytes = fs::metadata(subject.running.log()).map_or(0, |m| m.len());
        report_output(subject, output_bytes);
        let mut report = FunctionReport::new(command, ready, subject, cpu_end, cpus, output_bytes);
        report.nofile = nofile.flatten();
        report.oom_kills = subject.running.jail().oom_kills();
        functions.push(report);
    }
    compare_with_floor(&mut functions, FLOOR_NAME);
    for f in &functions {
        if let Some(first) = &f.failures.first {
            progress(format_args!(
                "{}: {} failed calls (status {}, body {}, protocol {}); first: {first}",
                f.name, f.failures.total, f.failures.status, f.failures.body, f.failures.protocol
            ));
        }
        if let Some(why) = &f.stopped {
            progress(format_args!("{}: calls stopped: {why}", f.name));
        }
        // An OOM kill shows to the driver only as a refused or reset
        // connection: name the cause.
        if let Some(n) = f.oom_kills.filter(|n| *n > 0) {
            progress(format_args!(
                "{}: the kernel's OOM killer struck {n} time(s) in its cgroup (over the memory limit)",
                f.name
            ));
        }
    }
    drop(subjects); // kill the functions before the work directory goes
    Ok(Report {
        calls: args.calls,
        warmup: args.warmup,
        body_size: args.body_size,
        starts: args.starts,
        cpu: args.cpu,
        block: BLOCK,
        limits: limits.map(|(_, report)| report),
        functions,
    })
}

/// Starts every function `args.starts` times, alternating, and keeps the last
/// start of each. Returns the running processes and each one's ready times.
fn start_all(
    args: &BenchArgs,
    work: &mut WorkDir,
    sandbox: Option<&Arc<Sandbox>>,
) -> Result<(Vec<RunningFunction>, Vec<Vec<Duration>>), Error> {
    let mut kept = Vec::new();
    let mut ready = vec![Vec::new(); args.functions.len()];
    for round in 1..=args.starts {
        for (f, times) in args.functions.iter().zip(&mut ready) {
            let running = start(f, work, sandbox)?;
            times.push(running.ready_after());
            progress(format_args!(
                "{}: ready in {:.2} ms (start {round}/{})",
                f.name,
                running.ready_after().as_secs_f64() * 1e3,
                args.starts
            ));
            if round == args.starts {
                kept.push(running);
            }
        }
    }
    Ok((kept, ready))
}

/// Starts `f` in `sandbox` (`None`: a process group of its own, no limits).
fn start(
    f: &FunctionCommand,
    work: &mut WorkDir,
    sandbox: Option<&Arc<Sandbox>>,
) -> Result<RunningFunction, Error> {
    let iofs = work
        .fresh_iofs()
        .map_err(|e| Error::io("could not create an iofs directory", e))?;
    let log = iofs.with_extension("log");
    let options = StartOptions {
        sandbox: sandbox.cloned(),
        ..StartOptions::default()
    };
    RunningFunction::start_with(f, iofs, &log, ReadyWait::default(), &options).map_err(|source| {
        Error::Start {
            name: f.name.clone(),
            source,
            output: output_tail(&log, OUTPUT_TAIL),
        }
    })
}

/// The measured calls: blocks of [`BLOCK`] calls, round-robin over the
/// functions, each block cut short at a memory checkpoint.
fn measure_all(calls: u64, subjects: &mut [Subject], maker: &mut CallMaker) {
    progress(format_args!(
        "measuring {calls} calls per function in blocks of {BLOCK}"
    ));
    let mut next_report = calls / 10;
    loop {
        let mut any = false;
        for s in subjects.iter_mut() {
            if s.measured >= calls || s.is_stopped() {
                continue;
            }
            any = true;
            s.run_block(block_end(s.measured, calls) - s.measured, maker);
            if let Some(label) = checkpoint_at(s.measured) {
                s.checkpoint(label);
            }
        }
        let done = subjects.iter().map(|s| s.measured).min().unwrap_or(calls);
        if !any || done >= calls {
            break;
        }
        if done >= next_report && next_report > 0 {
            progress(format_args!("  {done}/{calls}"));
            next_report += calls / 10;
        }
    }
}

/// Mentions a function's output on stderr: an FDK that logs per call, or
/// warns, shows up here.
fn report_output(subject: &Subject, bytes: u64) {
    if bytes == 0 {
        return;
    }
    let tail = subject.running.output_tail(600);
    progress(format_args!(
        "{}: wrote {bytes} bytes to stdout/stderr; last lines:",
        subject.name
    ));
    for line in tail
        .lines()
        .rev()
        .take(5)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
    {
        progress(format_args!("  | {line}"));
    }
}

/// The request body: `size` bytes of printable text.
fn request_body(size: usize) -> Vec<u8> {
    b"abcdefghijklmnopqrstuvwxyz"
        .iter()
        .copied()
        .cycle()
        .take(size)
        .collect()
}

fn progress(args: std::fmt::Arguments<'_>) {
    let mut err = io::stderr().lock();
    let _ = writeln!(err, "{args}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_stop_at_each_checkpoint_and_at_the_end() {
        assert_eq!(block_end(0, 20_000), 100);
        assert_eq!(block_end(950, 20_000), 1_000);
        assert_eq!(block_end(1_000, 20_000), 1_100);
        assert_eq!(block_end(999_950, 2_000_000), 1_000_000);
        assert_eq!(block_end(1_000_000, 2_000_000), 1_000_100);
        assert_eq!(block_end(0, 30), 30);
        assert_eq!(block_end(19_990, 20_000), 20_000);
        // Walking the blocks visits every checkpoint the run reaches, once.
        let (mut at, mut seen) = (0, Vec::new());
        while at < 120_050 {
            at = block_end(at, 120_050);
            seen.extend(checkpoint_at(at));
        }
        assert_eq!(at, 120_050);
        assert_eq!(seen, ["1k", "10k", "100k"]);
        assert_eq!(checkpoint_at(1_000_000), Some("1M"));
        assert_eq!(checkpoint_at(1_001), None);
    }

    #[test]
    fn body_is_text_of_the_given_size() {
        assert_eq!(request_body(0), b"");
        assert_eq!(request_body(30), b"abcdefghijklmnopqrstuvwxyzabcd");
    }
}
