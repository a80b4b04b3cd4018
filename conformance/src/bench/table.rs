//! The human-readable tables: one row per function for latency, then one
//! per function for the soak, each followed by a legend.

use std::fmt::Write as _;

use super::CHECKPOINTS;
use super::measure::Checkpoint;
use super::report::{FunctionReport, Report, soak_only};

/// The column headings of the latency table, in order.
const COLUMNS: [&str; 14] = [
    "function", "ready_ms", "p50_us", "p90_us", "p99_us", "max_us", "calls/s", "vs_floor",
    "cli_us", "fn_us", "threads", "rss_warm", "rss_end", "fails",
];

/// The column headings of the soak table, in order: an `rss_` column per
/// entry of [`CHECKPOINTS`] between `function` and `rss_growth`.
const SOAK_COLUMNS: [&str; 11] = [
    "function",
    "rss_1k",
    "rss_10k",
    "rss_100k",
    "rss_1M",
    "rss_growth",
    "fds",
    "threads",
    "nofile",
    "oom_kills",
    "calls",
];

/// Renders `report` as aligned tables followed by short legends.
pub(crate) fn render(report: &Report) -> String {
    let rows: Vec<Vec<String>> = report.functions.iter().map(row).collect();
    let mut out = aligned(&COLUMNS, &rows);
    let _ = write!(
        out,
        "\n{calls} calls per function after {warmup} warmup calls, {body}, {pin}, alternating in blocks of {block}.\n\
         ready_ms: median exec-to-lsnr.sock of {starts} starts.  p50..max_us: call latency over one keep-alive\n\
         connection.  calls/s: calls / time spent calling.  vs_floor: p50 / floor's p50.  cli_us, fn_us: CPU time\n\
         per call of this driver and of the function.  threads: after warmup (->at the end).  rss_warm, rss_end:\n\
         VmRSS in KiB after warmup and at the end.  fails: failed calls, warmup included.\n",
        calls = report.calls,
        warmup = report.warmup,
        body = match report.body_size {
            0 => "empty body".to_owned(),
            n => format!("{n}-byte chunked body"),
        },
        pin = match report.cpu {
            Some(cpu) => format!("pinned to CPU {cpu}"),
            None => "not pinned".to_owned(),
        },
        block = report.block,
        starts = report.starts,
    );
    out.push('\n');
    out.push_str(&render_soak(report));
    out
}

/// The soak table and its legend, with the limits the functions ran under.
pub(crate) fn render_soak(report: &Report) -> String {
    let mut out = String::new();
    let reached = report
        .functions
        .iter()
        .any(|f| soak_only(&f.memory).next().is_some());
    // Under --limits the table is worth printing even before 1k calls: its
    // nofile and oom_kills columns show what the limits did.
    if reached || report.limits.is_some() {
        let rows: Vec<Vec<String>> = report.functions.iter().map(soak_row).collect();
        out.push_str(&aligned(&SOAK_COLUMNS, &rows));
        out.push('\n');
        out.push_str(
            "soak: the function's VmRSS in KiB after 1k, 10k, 100k and 1M measured calls (-: not reached).\n\
             rss_growth: KiB from the first checkpoint to the last.  fds (/proc/<pid>/fd entries), threads: one\n\
             value if unchanged at every checkpoint, else each checkpoint's.  nofile: the function's soft\n\
             open-files limit (/proc/<pid>/limits).  oom_kills: in its cgroup (-: no cgroup).  calls: measured.\n",
        );
    }
    if !reached {
        let _ = writeln!(
            out,
            "soak: no checkpoint reached (the first is after {} calls)",
            CHECKPOINTS[0].0
        );
    }
    match &report.limits {
        Some(limits) => {
            let _ = writeln!(out, "{}", limits.summary());
        }
        None => out.push_str("limits: none asked for (--limits runs under the Fn server's)\n"),
    }
    out
}

/// `rows` under `columns`, the first column left-aligned, the others right.
fn aligned(columns: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = columns.iter().map(|c| c.len()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let mut line = |cells: &mut dyn Iterator<Item = &str>| {
        let mut text = String::new();
        for (i, (cell, width)) in cells.zip(&widths).enumerate() {
            if i == 0 {
                let _ = write!(text, "{cell:<width$}");
            } else {
                let _ = write!(text, "  {cell:>width$}");
            }
        }
        out.push_str(text.trim_end());
        out.push('\n');
    };
    line(&mut columns.iter().copied());
    for row in rows {
        line(&mut row.iter().map(String::as_str));
    }
    out
}

/// One function's soak row: see [`SOAK_COLUMNS`].
fn soak_row(f: &FunctionReport) -> Vec<String> {
    let soak: Vec<&Checkpoint> = soak_only(&f.memory).collect();
    let mut row = vec![f.name.clone()];
    for (_, label) in CHECKPOINTS {
        row.push(
            soak.iter()
                .find(|c| c.label == label)
                .and_then(|c| c.rss_kib)
                .map_or_else(dash, |kib| kib.to_string()),
        );
    }
    row.push(
        f.soak
            .rss_growth_kib
            .map_or_else(dash, |kib| format!("{kib:+}")),
    );
    row.push(series(soak.iter().map(|c| c.fds)));
    row.push(series(soak.iter().map(|c| c.threads)));
    row.push(f.nofile.map_or_else(dash, |n| n.to_string()));
    row.push(f.oom_kills.map_or_else(dash, |n| n.to_string()));
    row.push(f.calls.to_string());
    row
}

/// One value if every sample is that value, else every sample joined with
/// `/` (`?`: unreadable), so that a count that creeps up stays in sight.
fn series(values: impl Iterator<Item = Option<u64>>) -> String {
    let values: Vec<Option<u64>> = values.collect();
    match values.first() {
        None => dash(),
        Some(Some(first)) if values.iter().all(|v| *v == Some(*first)) => first.to_string(),
        Some(_) => values
            .iter()
            .map(|v| v.map_or_else(|| "?".to_owned(), |n| n.to_string()))
            .collect::<Vec<_>>()
            .join("/"),
    }
}

fn row(f: &FunctionReport) -> Vec<String> {
    let lat = f.latency_us;
    let rss = |label: &str| {
        f.memory
            .iter()
            .find(|c| c.label == label)
            .and_then(|c| c.rss_kib)
            .map_or_else(dash, |kib| kib.to_string())
    };
    let threads_at = |label: &str| {
        f.memory
            .iter()
            .find(|c| c.label == label)
            .and_then(|c| c.threads)
    };
    let threads = match (threads_at("warm"), threads_at("end")) {
        (Some(a), Some(b)) if a != b => format!("{a}->{b}"),
        (Some(a), _) => a.to_string(),
        (None, Some(b)) => b.to_string(),
        (None, None) => dash(),
    };
    vec![
        f.name.clone(),
        format!("{:.2}", f.ready_ms.median),
        fixed(lat.map(|l| l.p50), 1),
        fixed(lat.map(|l| l.p90), 1),
        fixed(lat.map(|l| l.p99), 1),
        fixed(lat.map(|l| l.max), 1),
        fixed(f.calls_per_s, 0),
        f.p50_vs_floor.map_or_else(dash, |r| format!("{r:.2}x")),
        fixed(f.client_cpu_us_per_call, 1),
        fixed(f.function_cpu_us_per_call, 1),
        threads,
        rss("warm"),
        rss("end"),
        f.failures.total.to_string(),
    ]
}

fn fixed(value: Option<f64>, decimals: usize) -> String {
    value.map_or_else(dash, |v| format!("{v:.decimals$}"))
}

fn dash() -> String {
    "-".to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::limits::LimitsReport;
    use crate::bench::measure::{Checkpoint, Failures};
    use crate::bench::report::tests::point;
    use crate::bench::report::{ReadyTimes, Soak};
    use crate::bench::stats::LatencySummary;

    fn function(name: &str, memory: Vec<Checkpoint>) -> FunctionReport {
        FunctionReport {
            name: name.into(),
            command: vec![name.into()],
            pid: 1,
            cpus_allowed: Some("0".into()),
            ready_ms: ReadyTimes {
                median: 1.234,
                samples: vec![1.234],
            },
            calls: 20_000,
            latency_us: Some(LatencySummary {
                p50: 20.0,
                p90: 25.5,
                p99: 40.26,
                max: 900.0,
                mean: 22.0,
            }),
            calls_per_s: Some(45_000.4),
            p50_vs_floor: Some(1.0),
            client_cpu_us_per_call: Some(3.21),
            function_cpu_us_per_call: Some(12.0),
            soak: Soak::new(&memory),
            memory,
            nofile: Some(350),
            oom_kills: Some(0),
            failures: Failures::default(),
            reconnects: 0,
            stopped: None,
            output_bytes: 0,
        }
    }

    fn steady() -> Vec<Checkpoint> {
        vec![
            point("warm", 1500, 6, 1),
            point("1k", 1510, 6, 1),
            point("10k", 1510, 6, 1),
            point("end", 1520, 6, 2),
        ]
    }

    fn leaky() -> Vec<Checkpoint> {
        vec![
            point("warm", 1500, 6, 1),
            point("1k", 1600, 7, 1),
            point("10k", 4200, 16, 1),
            point("end", 6000, 26, 1),
        ]
    }

    fn report(functions: Vec<FunctionReport>, limits: Option<LimitsReport>) -> Report {
        Report {
            calls: 20_000,
            warmup: 10,
            body_size: 0,
            starts: 5,
            cpu: Some(0),
            block: 100,
            limits,
            functions,
        }
    }

    #[test]
    fn one_aligned_row_per_function() {
        let text = render(&report(
            vec![
                function("floor", steady()),
                function("a-much-longer-name", steady()),
            ],
            None,
        ));
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].starts_with("function            ready_ms  p50_us"));
        assert!(
            lines[1].starts_with("floor                   1.23    20.0    25.5    40.3   900.0")
        );
        assert!(lines[1].contains("45000     1.00x"));
        assert!(
            lines[1].ends_with(" 1->2      1500     1520      0"),
            "{}",
            lines[1]
        );
        assert!(lines[2].starts_with("a-much-longer-name"));
        assert!(text.contains("pinned to CPU 0"));
        assert!(text.contains("limits: none asked for"));
    }

    #[test]
    fn the_soak_row_shows_a_leak() {
        let limits = LimitsReport {
            nofile: Some(350),
            pids_max: Some(50),
            memory_mib: Some(128),
            skipped: None,
            sandbox: String::new(),
        };
        let text = render_soak(&report(
            vec![function("hello", steady()), function("leaky", leaky())],
            Some(limits),
        ));
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0],
            "function  rss_1k  rss_10k  rss_100k  rss_1M  rss_growth   fds  threads  nofile  \
             oom_kills  calls"
        );
        assert_eq!(
            lines[1],
            concat!(
                "hello       1510     1510         -       -          +0     6        1     350",
                "          0  20000"
            )
        );
        assert_eq!(
            lines[2],
            concat!(
                "leaky       1600     4200         -       -       +2600  7/16        1     350",
                "          0  20000"
            )
        );
        assert!(text.ends_with(
            "limits: open files 350 (RLIMIT_NOFILE), pids.max 50 (threads included), memory \
             128 MiB without swap, as the Fn server's defaults\n"
        ));
    }

    #[test]
    fn a_short_run_has_no_soak_table() {
        let text = render_soak(&report(
            vec![function(
                "hello",
                vec![point("warm", 1, 1, 1), point("end", 1, 1, 1)],
            )],
            None,
        ));
        assert!(text.starts_with("soak: no checkpoint reached (the first is after 1000 calls)\n"));
    }

    #[test]
    fn a_short_run_under_limits_still_shows_oom_kills() {
        let limits = LimitsReport {
            nofile: Some(350),
            pids_max: None,
            memory_mib: None,
            skipped: Some("no cgroups".into()),
            sandbox: String::new(),
        };
        let mut hog = function("hog", vec![point("warm", 1, 1, 1)]);
        hog.oom_kills = Some(1);
        let text = render_soak(&report(vec![hog], Some(limits)));
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].starts_with("function  rss_1k"));
        let row: Vec<&str> = lines[1].split_whitespace().collect();
        assert_eq!(
            row,
            [
                "hog", "-", "-", "-", "-", "-", "-", "-", "350", "1", "20000"
            ]
        );
        assert!(text.contains("soak: no checkpoint reached"));
        assert!(text.ends_with("skipped: no cgroups\n"));
    }

    #[test]
    fn series_of_samples() {
        assert_eq!(series([Some(6), Some(6)].into_iter()), "6");
        assert_eq!(series([Some(6), None, Some(8)].into_iter()), "6/?/8");
        assert_eq!(series(std::iter::empty()), "-");
    }
}
