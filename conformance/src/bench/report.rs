//! What a bench run found, ready for the table or for JSON.

use std::time::Duration;

use serde::Serialize;

use super::CHECKPOINTS;
use super::limits::LimitsReport;
use super::measure::{Checkpoint, Failures, Subject};
use super::stats::{LatencySummary, percentile};
use fn_emulator::FunctionCommand;

/// The whole run.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Report {
    /// Measured calls asked for per function.
    pub calls: u64,
    /// Warmup calls per function.
    pub warmup: u64,
    /// Request body bytes.
    pub body_size: usize,
    /// Starts per function for exec-to-ready.
    pub starts: u32,
    /// The CPU everything was pinned to (`None`: not pinned).
    pub cpu: Option<usize>,
    /// Calls per block when alternating between functions.
    pub block: u64,
    /// `--limits`: what the functions ran under (`None`: no limits asked for).
    pub limits: Option<LimitsReport>,
    /// One entry per function, in command-line order.
    pub functions: Vec<FunctionReport>,
}

impl Report {
    /// 0 if every call was answered as expected, 1 otherwise.
    pub(crate) fn exit_code(&self) -> u8 {
        let failed = self
            .functions
            .iter()
            .any(|f| f.failures.total > 0 || f.stopped.is_some() || f.calls < self.calls);
        u8::from(failed)
    }
}

/// Exec-to-ready times, in milliseconds.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct ReadyTimes {
    /// The median start (nearest rank).
    pub median: f64,
    /// Every start, in order.
    pub samples: Vec<f64>,
}

impl ReadyTimes {
    /// Summarises the starts.
    pub(crate) fn new(samples: &[Duration]) -> Self {
        let mut nanos: Vec<u64> = samples
            .iter()
            .map(|d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
            .collect();
        let ms = |ns: u64| ns as f64 / 1e6;
        let in_order = nanos.iter().copied().map(ms).collect();
        nanos.sort_unstable();
        Self {
            median: percentile(&nanos, 50.0).map(ms).unwrap_or(f64::NAN),
            samples: in_order,
        }
    }
}

/// One function's results.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct FunctionReport {
    /// Its name.
    pub name: String,
    /// The command that was run.
    pub command: Vec<String>,
    /// The process ID of the measured instance.
    pub pid: u32,
    /// Its `Cpus_allowed_list` after warmup.
    pub cpus_allowed: Option<String>,
    /// Exec-to-ready.
    pub ready_ms: ReadyTimes,
    /// Measured calls made.
    pub calls: u64,
    /// Latency of the successful measured calls.
    pub latency_us: Option<LatencySummary>,
    /// Measured calls per second of time spent calling this function.
    pub calls_per_s: Option<f64>,
    /// This p50 over the p50 of the function named `floor`.
    pub p50_vs_floor: Option<f64>,
    /// The driver's CPU time per measured call, in µs.
    pub client_cpu_us_per_call: Option<f64>,
    /// The function's CPU time per measured call, in µs (10 ms total resolution).
    pub function_cpu_us_per_call: Option<f64>,
    /// Memory, threads and descriptors after warmup, 1k, 10k, 100k, 1M
    /// calls and at the end.
    pub memory: Vec<Checkpoint>,
    /// The soak: growth between the first and the last checkpoint.
    pub soak: Soak,
    /// The function's soft open-files limit, read from `/proc/<pid>/limits`
    /// at the end (`None`: unlimited or unreadable).
    pub nofile: Option<u64>,
    /// OOM kills in the function's cgroup (`None`: no cgroup).
    pub oom_kills: Option<u64>,
    /// Failed calls, warmup included.
    pub failures: Failures,
    /// Connections opened after the first.
    pub reconnects: u64,
    /// Why calls stopped early, or how the process ended during the run.
    pub stopped: Option<String>,
    /// Bytes the measured instance wrote to stdout and stderr.
    pub output_bytes: u64,
}

impl FunctionReport {
    /// Builds the report of `subject`, whose function CPU time is now
    /// `function_cpu_end`.
    pub(crate) fn new(
        command: &FunctionCommand,
        ready: &[Duration],
        subject: &mut Subject,
        function_cpu_end: Option<Duration>,
        cpus_allowed: Option<String>,
        output_bytes: u64,
    ) -> Self {
        let calls = subject.measured;
        let per_call = |d: Duration| (calls > 0).then(|| d.as_secs_f64() * 1e6 / calls as f64);
        let function_cpu = match (subject.function_cpu_start, function_cpu_end) {
            (Some(start), Some(end)) => Some(end.saturating_sub(start)),
            _ => None,
        };
        let busy = subject.busy.as_secs_f64();
        Self {
            name: subject.name.clone(),
            command: command.words(),
            pid: subject.running.pid(),
            cpus_allowed,
            ready_ms: ReadyTimes::new(ready),
            calls,
            latency_us: LatencySummary::from_nanos(&mut subject.latencies_ns),
            calls_per_s: (busy > 0.0).then(|| calls as f64 / busy),
            p50_vs_floor: None,
            client_cpu_us_per_call: subject.client_cpu.and_then(per_call),
            function_cpu_us_per_call: function_cpu.and_then(per_call),
            memory: subject.checkpoints.clone(),
            soak: Soak::new(&subject.checkpoints),
            nofile: None,
            oom_kills: None,
            failures: subject.failures.clone(),
            reconnects: subject.reconnects(),
            stopped: subject.stopped.clone(),
            output_bytes,
        }
    }
}

/// What the soak checkpoints show: how RSS, descriptors and threads moved
/// from the first checkpoint the run reached (1k calls) to the last one. A
/// leak shows as growth that does not level off; a function that holds
/// steady shows 0, 0, 0.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct Soak {
    /// The first checkpoint's label (`None`: no checkpoint was reached).
    pub from: Option<&'static str>,
    /// The last checkpoint's label.
    pub to: Option<&'static str>,
    /// `VmRSS` at the last checkpoint minus at the first, in KiB.
    pub rss_growth_kib: Option<i64>,
    /// Open descriptors at the last checkpoint minus at the first.
    pub fds_growth: Option<i64>,
    /// Threads at the last checkpoint minus at the first.
    pub threads_growth: Option<i64>,
}

impl Soak {
    /// The soak of `checkpoints` (those not in [`CHECKPOINTS`], `warm` and
    /// `end`, are left out). Growth needs two checkpoints.
    pub(crate) fn new(checkpoints: &[Checkpoint]) -> Self {
        let soak: Vec<&Checkpoint> = soak_only(checkpoints).collect();
        let (first, last) = match soak.as_slice() {
            [first, .., last] => (Some(*first), Some(*last)),
            _ => (None, None),
        };
        let growth = |value: fn(&Checkpoint) -> Option<u64>| {
            let a = i64::try_from(value(first?)?).ok()?;
            let b = i64::try_from(value(last?)?).ok()?;
            Some(b - a)
        };
        Self {
            from: soak.first().map(|c| c.label),
            to: soak.last().map(|c| c.label),
            rss_growth_kib: growth(|c| c.rss_kib),
            fds_growth: growth(|c| c.fds),
            threads_growth: growth(|c| c.threads),
        }
    }
}

/// The checkpoints among `checkpoints` taken at a call count of
/// [`CHECKPOINTS`], in order.
pub(crate) fn soak_only(checkpoints: &[Checkpoint]) -> impl Iterator<Item = &Checkpoint> {
    checkpoints
        .iter()
        .filter(|c| CHECKPOINTS.iter().any(|(_, label)| *label == c.label))
}

/// Fills `p50_vs_floor` from the function named `floor_name`, if present.
pub(crate) fn compare_with_floor(functions: &mut [FunctionReport], floor_name: &str) {
    let floor = functions
        .iter()
        .find(|f| f.name == floor_name)
        .and_then(|f| f.latency_us)
        .map(|l| l.p50);
    if let Some(floor) = floor.filter(|p50| *p50 > 0.0) {
        for f in functions {
            f.p50_vs_floor = f.latency_us.map(|l| l.p50 / floor);
        }
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    #[test]
    fn ready_median_keeps_sample_order() {
        let r = ReadyTimes::new(&[
            Duration::from_millis(3),
            Duration::from_millis(1),
            Duration::from_millis(2),
        ]);
        assert_eq!(r.median, 2.0);
        assert_eq!(r.samples, [3.0, 1.0, 2.0]);
    }

    /// A checkpoint with every reading.
    pub(crate) fn point(label: &'static str, rss: u64, fds: u64, threads: u64) -> Checkpoint {
        Checkpoint {
            label,
            after_calls: 0,
            rss_kib: Some(rss),
            threads: Some(threads),
            fds: Some(fds),
        }
    }

    #[test]
    fn soak_growth_is_last_checkpoint_minus_first() {
        let points = [
            point("warm", 1000, 9, 1),
            point("1k", 2000, 6, 1),
            point("10k", 2100, 7, 1),
            point("100k", 3000, 8, 2),
            point("end", 9000, 99, 9),
        ];
        let soak = Soak::new(&points);
        assert_eq!((soak.from, soak.to), (Some("1k"), Some("100k")));
        assert_eq!(
            (soak.rss_growth_kib, soak.fds_growth, soak.threads_growth),
            (Some(1000), Some(2), Some(1))
        );
        let shrank = Soak::new(&[point("1k", 2000, 6, 1), point("10k", 1900, 6, 1)]);
        assert_eq!(shrank.rss_growth_kib, Some(-100));
    }

    #[test]
    fn soak_needs_two_checkpoints() {
        let one = Soak::new(&[point("warm", 1, 1, 1), point("1k", 2, 2, 2)]);
        assert_eq!((one.from, one.to), (Some("1k"), Some("1k")));
        assert_eq!(one.rss_growth_kib, None);
        let none = Soak::new(&[point("warm", 1, 1, 1), point("end", 2, 2, 2)]);
        assert_eq!((none.from, none.rss_growth_kib), (None, None));
        let mut unreadable = point("10k", 0, 0, 0);
        unreadable.rss_kib = None;
        let partial = Soak::new(&[point("1k", 5, 5, 1), unreadable]);
        assert_eq!(
            (partial.rss_growth_kib, partial.fds_growth),
            (None, Some(-5))
        );
    }
}
