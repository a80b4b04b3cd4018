//! The human-readable table: one row per function, then a legend.

use std::fmt::Write as _;

use super::report::{FunctionReport, Report};

/// The column headings, in order.
const COLUMNS: [&str; 17] = [
    "function", "ready_ms", "p50_us", "p90_us", "p99_us", "max_us", "calls/s", "vs_floor",
    "cli_us", "fn_us", "threads", "rss_warm", "rss_1k", "rss_10k", "rss_100k", "rss_end", "fails",
];

/// Renders `report` as an aligned table followed by a short legend.
pub fn render(report: &Report) -> String {
    let rows: Vec<Vec<String>> = report.functions.iter().map(row).collect();
    let mut widths: Vec<usize> = COLUMNS.iter().map(|c| c.len()).collect();
    for row in &rows {
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
    line(&mut COLUMNS.iter().copied());
    for row in &rows {
        line(&mut row.iter().map(String::as_str));
    }
    let _ = write!(
        out,
        "\n{calls} calls per function after {warmup} warmup calls, {body}, {pin}, alternating in blocks of {block}.\n\
         ready_ms: median exec-to-lsnr.sock of {starts} starts.  p50..max_us: call latency over one keep-alive\n\
         connection.  calls/s: calls / time spent calling.  vs_floor: p50 / floor's p50.  cli_us, fn_us: CPU time\n\
         per call of this driver and of the function.  threads: after warmup (->at the end).  rss_*: VmRSS in KiB\n\
         after warmup, 1k, 10k, 100k calls and at the end.  fails: failed calls, warmup included.\n",
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
    out
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
        rss("1k"),
        rss("10k"),
        rss("100k"),
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
    use crate::bench::measure::{Checkpoint, Failures};
    use crate::bench::report::ReadyTimes;
    use crate::bench::stats::LatencySummary;

    fn function(name: &str) -> FunctionReport {
        FunctionReport {
            name: name.into(),
            command: vec![name.into()],
            pid: 1,
            cpus_allowed: Some("0".into()),
            ready_ms: ReadyTimes {
                median: 1.234,
                samples: vec![1.234],
            },
            calls: 2000,
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
            memory: vec![
                Checkpoint {
                    label: "warm",
                    after_calls: 0,
                    rss_kib: Some(1500),
                    threads: Some(1),
                },
                Checkpoint {
                    label: "1k",
                    after_calls: 1000,
                    rss_kib: Some(1510),
                    threads: Some(1),
                },
                Checkpoint {
                    label: "end",
                    after_calls: 2000,
                    rss_kib: Some(1520),
                    threads: Some(2),
                },
            ],
            failures: Failures::default(),
            reconnects: 0,
            stopped: None,
            output_bytes: 0,
        }
    }

    #[test]
    fn one_aligned_row_per_function() {
        let report = Report {
            calls: 2000,
            warmup: 10,
            body_size: 0,
            starts: 5,
            cpu: Some(0),
            block: 100,
            functions: vec![function("floor"), function("a-much-longer-name")],
        };
        let text = render(&report);
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].starts_with("function            ready_ms  p50_us"));
        assert!(
            lines[1].starts_with("floor                   1.23    20.0    25.5    40.3   900.0")
        );
        assert!(lines[1].contains("45000     1.00x"));
        assert!(lines[1].contains(" 1->2      1500    1510        -         -     1520      0"));
        assert!(lines[2].starts_with("a-much-longer-name"));
        assert!(text.contains("pinned to CPU 0"));
    }
}
