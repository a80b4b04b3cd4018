//! The real Fn server as the harness's oracle.
//!
//! One fixed call sequence ([`sequence`]) is played twice against every
//! fixture mode: once by a real fnserver 0.3.753 on dockerd, the mode packed
//! as a `FROM scratch` image ([`real`]), and once by the harness's own server
//! emulation ([`emulated`]). Each call gives one [`Row`]: the status the
//! server's client got, the client's message (the server's `{"message"}` on
//! an error, the body's length on a success) and whether the container was
//! kept or killed. [`compare`] puts the two side by side; any difference is
//! a harness bug (or a fact about the server the harness has not learned).
//! `scripts/oracle.sh` runs the whole thing and CI fails on a difference.
//!
//! The sequence exercises what the server really does between calls: a
//! cold start, keep-alive reuse with bodies of other sizes, an empty body,
//! idling past the freezer (50 ms) and past the transport's 1 s idle close,
//! an HTTP trigger, a function error, and a call that outlives the fn's
//! timeout followed by one more call.

pub(crate) mod command;
pub(crate) mod emulated;
pub(crate) mod real;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use fn_emulator::outcome::Fate;

/// The fn timeout the oracle gives every function, in seconds (the server's
/// `timeout`; a call's deadline is this long after it gets its container).
pub(crate) const FN_TIMEOUT_SECS: u64 = 2;
/// The fn idle timeout: longer than the whole sequence, so the server never
/// reaps an idle container in the middle of one.
pub(crate) const FN_IDLE_TIMEOUT_SECS: u64 = 60;
/// The fn memory, MB (`FN_MEMORY`).
pub(crate) const FN_MEMORY_MB: u64 = 128;
/// How long after the last call a container's death still counts for it.
pub(crate) const SETTLE: Duration = Duration::from_millis(1000);
/// The config key that selects the fixture's mode (the server passes config
/// as environment variables).
pub(crate) const MODE_VARIABLE: &str = "FIXTURE_MODE";

/// How a call reaches the function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Route {
    /// `POST /invoke/<fn id>`.
    Invoke,
    /// `POST /t/<app>/<source>`, the HTTP trigger.
    Trigger,
}

/// One call of the sequence.
#[derive(Debug, Clone)]
pub(crate) struct Step {
    /// A short name, the row's key.
    pub name: &'static str,
    /// How long the function idles before it, counted from the end of the
    /// previous call.
    pub idle: Duration,
    /// Invoke or trigger.
    pub route: Route,
    /// The request body.
    pub body: Vec<u8>,
    /// The probe header (`X-Probe`) the fixture obeys, if any.
    pub probe: Option<&'static str>,
    /// Send when the wall clock's fraction of a second is this many ms, so
    /// that `Fn-Deadline` (whole seconds, truncated) falls well before the
    /// server's own timer and a function that honours it is never in a
    /// photo finish with the server.
    pub align_ms: Option<u32>,
}

impl Step {
    fn invoke(name: &'static str, idle_ms: u64, body: impl Into<Vec<u8>>) -> Self {
        Self {
            name,
            idle: Duration::from_millis(idle_ms),
            route: Route::Invoke,
            body: body.into(),
            probe: None,
            align_ms: None,
        }
    }
}

/// The fixed sequence, in order.
pub(crate) fn sequence() -> Vec<Step> {
    // Bodies of different sizes catch framing that is right only once.
    let big: Vec<u8> = (0..5000u32).map(|i| b'a' + (i % 26) as u8).collect();
    vec![
        Step::invoke("first", 0, "hello"),
        Step::invoke("other-size", 300, big),
        Step::invoke("empty", 300, ""),
        Step::invoke("idle-0.6s", 600, "after 0.6 s"),
        Step::invoke("idle-1.5s", 1500, "after 1.5 s, on a new connection"),
        Step {
            route: Route::Trigger,
            ..Step::invoke("trigger", 300, "through the trigger")
        },
        Step::invoke("error", 300, "error"),
        Step::invoke("after-error", 300, "after an error"),
        Step::invoke("panic", 300, "panic"),
        Step::invoke("after-panic", 300, "after a panic"),
        Step {
            probe: Some(r#"{"op":"sleep","ms":4000}"#),
            align_ms: Some(250),
            ..Step::invoke("past-timeout", 300, "slow")
        },
        Step::invoke("after-timeout", 300, "after the timeout"),
    ]
}

/// What the fixture means a step's call to come to (every mode but its
/// defect answers as a correct function would).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Meant {
    /// 200 with the request body echoed, the container kept.
    Echo(usize),
    /// A handler error or panic: 502 "function failed", the container kept.
    Failure,
    /// Past the fn's timeout: 504 "Timed out" (the container may go: only
    /// a good FDK answers 504 itself before the server's own timer).
    Late,
}

impl Step {
    /// What the fixture means this call to come to.
    pub(crate) fn meant(&self) -> Meant {
        if self.probe.is_some() {
            Meant::Late
        } else if self.body == b"error" || self.body == b"panic" {
            Meant::Failure
        } else {
            Meant::Echo(self.body.len())
        }
    }
}

/// Whether the real server served `mode`'s calls as the fixture meant them:
/// `Ok` if every row is what [`Step::meant`] says, else the first call that
/// was not. The harness's `run` must exit non-zero exactly for the modes
/// that fail here (`scripts/oracle.sh` checks it).
pub(crate) fn served_as_meant(rows: &[Row], mode: &str) -> Result<(), String> {
    for step in sequence() {
        let Some(row) = rows.iter().find(|r| r.mode == mode && r.step == step.name) else {
            return Err(format!("no row for {}", step.name));
        };
        let ok = match step.meant() {
            Meant::Echo(len) => {
                row.status == 200 && row.message == format!("{len} bytes") && row.fate == Fate::Kept
            }
            Meant::Failure => {
                row.status == 502 && row.message == "function failed" && row.fate == Fate::Kept
            }
            Meant::Late => row.status == 504 && row.message == "Timed out",
        };
        if !ok {
            return Err(format!("{}: {}", step.name, row.outcome()));
        }
    }
    Ok(())
}

impl Step {
    /// Waits until this step may be sent: its idle time after `last_end`
    /// (the end of the previous call), then its alignment, if any. Both
    /// sides pace the sequence through this.
    pub(crate) fn wait_after(&self, last_end: std::time::Instant) {
        let since = last_end.elapsed();
        if since < self.idle {
            std::thread::sleep(self.idle - since);
        }
        if let Some(ms) = self.align_ms {
            align_to(ms);
        }
    }
}

/// Waits until the wall clock's fraction of a second is `ms`.
fn align_to(ms: u32) {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_millis())
        .unwrap_or(0);
    let wait = (1000 + ms - now) % 1000;
    std::thread::sleep(Duration::from_millis(u64::from(wait)));
}

/// What one call came to, as the server's client and its docker see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Row {
    /// The fixture mode.
    pub mode: String,
    /// The step's name.
    pub step: String,
    /// The client's status.
    pub status: u16,
    /// The server's error message, `-` for none, or `<n> bytes` for a
    /// successful body.
    pub message: String,
    /// Whether the container survived the call.
    pub fate: Fate,
}

impl Row {
    /// The row as one tab-separated line (no tabs or newlines inside).
    pub(crate) fn to_tsv(&self) -> String {
        format!(
            "{}\t{}\t{}\t{}\t{}",
            self.mode,
            self.step,
            self.status,
            clean(&self.message),
            fate_word(self.fate)
        )
    }

    /// Parses [`to_tsv`](Self::to_tsv)'s line.
    pub(crate) fn from_tsv(line: &str) -> Result<Self, String> {
        let fields: Vec<&str> = line.split('\t').collect();
        let [mode, step, status, message, fate] = fields[..] else {
            return Err(format!("not 5 tab-separated fields: {line:?}"));
        };
        let status = status
            .parse()
            .map_err(|_| format!("bad status {status:?} in {line:?}"))?;
        let fate = match fate {
            "kept" => Fate::Kept,
            "killed" => Fate::Killed,
            other => return Err(format!("bad fate {other:?} in {line:?}")),
        };
        Ok(Self {
            mode: mode.to_owned(),
            step: step.to_owned(),
            status,
            message: message.to_owned(),
            fate,
        })
    }

    /// Status, message and fate, as a table cell.
    pub(crate) fn outcome(&self) -> String {
        format!(
            "{} {} ({})",
            self.status,
            self.message,
            fate_word(self.fate)
        )
    }
}

/// The message column for a client answer: the server's `{"message"}` on an
/// error status, else the body's length.
pub(crate) fn message_of(status: u16, body: &[u8]) -> String {
    if status < 400 {
        return format!("{} bytes", body.len());
    }
    serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v.get("message")?.as_str().map(str::to_owned))
        .unwrap_or_else(|| "-".to_owned())
}

/// A fate as the rows write it (and [`Row::from_tsv`] reads it).
fn fate_word(fate: Fate) -> &'static str {
    match fate {
        Fate::Kept => "kept",
        Fate::Killed => "killed",
    }
}

fn clean(text: &str) -> String {
    text.replace(['\t', '\n', '\r'], " ")
}

/// Reads rows written by [`Row::to_tsv`], one a line (`#` lines skipped).
pub(crate) fn parse_rows(text: &str) -> Result<Vec<Row>, String> {
    text.lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(Row::from_tsv)
        .collect()
}

/// The two sides compared call by call.
#[derive(Debug)]
pub(crate) struct Comparison {
    /// (mode, step, real, emulated), in the real rows' order; a side that
    /// has no row for a call has `None`.
    pub calls: Vec<(String, String, Option<Row>, Option<Row>)>,
    /// Modes whose real rows vary from run to run: shown, not counted.
    pub unsettled: Vec<String>,
}

impl Comparison {
    /// How many calls differ (a missing row counts as a difference).
    pub(crate) fn differences(&self) -> usize {
        self.calls
            .iter()
            .filter(|(mode, _, r, e)| r != e && !self.unsettled.contains(mode))
            .count()
    }

    /// How many modes were compared.
    pub(crate) fn modes(&self) -> usize {
        let mut modes: Vec<&str> = self.calls.iter().map(|(m, ..)| m.as_str()).collect();
        modes.dedup();
        modes.len()
    }

    /// A Markdown table: every call, the real server's outcome and the
    /// harness's, and whether they agree.
    pub(crate) fn markdown(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "{} modes x {} calls = {} calls compared, {} differences.\n",
            self.modes(),
            sequence().len(),
            self.calls.len(),
            self.differences()
        );
        out.push_str("| mode | call | real fnserver 0.3.753 | harness | same |\n");
        out.push_str("|---|---|---|---|---|\n");
        let show = |row: &Option<Row>| row.as_ref().map_or("(no row)".to_owned(), Row::outcome);
        for (mode, step, real, emulated) in &self.calls {
            let same = match (real == emulated, self.unsettled.contains(mode)) {
                (true, _) => "yes",
                (false, true) => "varies (the real server races here; not counted)",
                (false, false) => "**NO**",
            };
            let _ = writeln!(
                out,
                "| {mode} | {step} | {} | {} | {same} |",
                show(real),
                show(emulated)
            );
        }
        out
    }
}

/// Puts the real server's rows beside the harness's.
pub(crate) fn compare(real: &[Row], emulated: &[Row]) -> Comparison {
    let key = |r: &Row| (r.mode.clone(), r.step.clone());
    let mut theirs: BTreeMap<(String, String), Row> =
        emulated.iter().map(|r| (key(r), r.clone())).collect();
    let mut calls = Vec::new();
    for row in real {
        let k = key(row);
        let other = theirs.remove(&k);
        calls.push((k.0, k.1, Some(row.clone()), other));
    }
    for ((mode, step), row) in theirs {
        calls.push((mode, step, None, Some(row)));
    }
    Comparison {
        calls,
        unsettled: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(mode: &str, step: &str, status: u16, message: &str, fate: Fate) -> Row {
        Row {
            mode: mode.into(),
            step: step.into(),
            status,
            message: message.into(),
            fate,
        }
    }

    #[test]
    fn rows_round_trip_through_tsv() {
        let r = row("good", "first", 502, "a\tb\nc", Fate::Killed);
        let back = Row::from_tsv(&r.to_tsv()).unwrap();
        assert_eq!(back.message, "a b c");
        assert_eq!((back.status, back.fate), (502, Fate::Killed));
        assert!(Row::from_tsv("x\ty").is_err());
        assert!(Row::from_tsv("m\ts\t200\t-\tmaybe").is_err());
    }

    #[test]
    fn messages_are_the_servers_or_a_length() {
        assert_eq!(message_of(200, b"hello"), "5 bytes");
        assert_eq!(
            message_of(502, b"{\"message\":\"function failed\"}\n"),
            "function failed"
        );
        assert_eq!(message_of(500, b""), "-");
    }

    #[test]
    fn served_as_meant_reads_each_step_as_the_fixture_means_it() {
        let good: Vec<Row> = sequence()
            .iter()
            .map(|step| match step.meant() {
                Meant::Echo(len) => row("m", step.name, 200, &format!("{len} bytes"), Fate::Kept),
                Meant::Failure => row("m", step.name, 502, "function failed", Fate::Kept),
                Meant::Late => row("m", step.name, 504, "Timed out", Fate::Killed),
            })
            .collect();
        assert_eq!(served_as_meant(&good, "m"), Ok(()));
        let mut leaked = good.clone();
        leaked[1].message = "5 bytes".into();
        assert!(
            served_as_meant(&leaked, "m")
                .unwrap_err()
                .starts_with("other-size")
        );
        let mut killed = good.clone();
        killed[0].fate = Fate::Killed;
        assert!(served_as_meant(&killed, "m").is_err());
        assert!(served_as_meant(&good[1..], "m").is_err());
    }

    #[test]
    fn a_difference_or_a_missing_row_is_counted() {
        let real = [
            row("m", "a", 200, "5 bytes", Fate::Kept),
            row("m", "b", 502, "function failed", Fate::Kept),
        ];
        let same = compare(&real, &real);
        assert_eq!(same.differences(), 0);
        assert_eq!(same.modes(), 1);
        let emulated = [row("m", "a", 200, "5 bytes", Fate::Killed)];
        let mut diff = compare(&real, &emulated);
        assert_eq!(diff.differences(), 2);
        assert!(diff.markdown().contains("**NO**"));
        diff.unsettled = vec!["m".into()];
        assert_eq!(diff.differences(), 0);
        assert!(diff.markdown().contains("varies"));
    }

    #[test]
    fn the_sequence_has_what_the_oracle_promises() {
        let steps = sequence();
        let names: Vec<_> = steps.iter().map(|s| s.name).collect();
        let mut unique = names.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), names.len());
        assert!(steps.iter().any(|s| s.route == Route::Trigger));
        assert!(steps.iter().any(|s| s.body.is_empty()));
        assert!(steps.iter().any(|s| s.idle > Duration::from_secs(1)));
        let sizes: std::collections::HashSet<_> = steps.iter().map(|s| s.body.len()).collect();
        assert!(sizes.len() > 3);
    }
}
