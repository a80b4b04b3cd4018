//! The call's deadline: `Fn-Deadline` parsed once at the edge, then held as
//! both the wall-clock time (for users) and a monotonic instant (for the
//! timer that answers 504 before the server kills the container).
//!
//! The server formats the deadline as RFC 3339 with whole seconds, truncated
//! (`2026-11-26T21:03:13Z`), so the header is 0-1 s *before* the server's own
//! deadline. Enforcing the header as written fails calls the server would
//! let finish (HS-DL-4). The lost fraction can be recovered: the server's
//! deadline is the moment its clock started plus a whole number of seconds
//! (the fn timeout), and its clock starts just before it sends the request
//! (a real fnserver 0.3.753 measured 0 ms for cold calls and 6-16 ms for
//! calls to a frozen container, the time its `docker unpause` takes). So
//! the real deadline has the same sub-second phase as the arrival, less
//! that small lead: the FDK takes the instant within the header's second
//! that has the phase of `arrival - DEADLINE_LEAD`, and enforces it
//! (HS-DL-3). A deadline written with a fraction (the legacy formats' ms)
//! is precise and enforced `DEADLINE_LEAD` before it.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::protocol::DEADLINE_LEAD;

/// A call's deadline: the wall-clock time users see, and the monotonic
/// instant at which the FDK answers 504.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Deadline {
    /// The FDK's estimate of the server's own deadline.
    pub(crate) wall: SystemTime,
    /// When the FDK gives up: `DEADLINE_LEAD` before its estimate, so
    /// that its 504 reaches the server before the server's timer fires.
    pub(crate) instant: Instant,
}

/// A deadline as the server wrote it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Stated {
    pub(crate) at: SystemTime,
    /// No fraction was written: the server truncated its deadline to the
    /// second below (http-stream's `time.RFC3339`).
    pub(crate) whole_seconds: bool,
}

const NANOS_PER_SECOND: i128 = 1_000_000_000;

impl Deadline {
    /// The deadline of a call that arrives now, stated as `stated`.
    pub(crate) fn arriving(stated: Stated, timeout: &FnTimeout) -> Self {
        Self::estimate(stated, SystemTime::now(), Instant::now(), timeout)
    }

    /// The deadline of a call that arrived at `arrival` (wall clock, and
    /// `now` on the monotonic clock), stated as `stated` (HS-DL-3).
    pub(crate) fn estimate(
        stated: Stated,
        arrival: SystemTime,
        now: Instant,
        timeout: &FnTimeout,
    ) -> Self {
        let lead = DEADLINE_LEAD.as_nanos() as i128;
        let arrived = unix_nanos(arrival);
        let header = unix_nanos(stated.at);
        let (enforce, real) = if stated.whole_seconds {
            // The server's deadline is `arrived - ε + T` for its lead ε
            // (0 <= ε <= lead) and the fn timeout T (whole seconds).
            let phase = arrived.rem_euclid(NANOS_PER_SECOND);
            // Whole seconds from the arrival's second to the header's.
            let seconds = (header - (arrived - phase)).div_euclid(NANOS_PER_SECOND);
            let from = arrived - lead;
            // The instant of the header's second with the phase of
            // `arrived - lead`: the server's deadline less `lead - ε`.
            let mut enforce = header + (from - header).rem_euclid(NANOS_PER_SECOND);
            if phase >= lead {
                // `arrived - ε` is in the arrival's second, so the header's
                // second is T seconds later: T is learned.
                timeout.learn(seconds);
            } else if timeout.known() == Some(seconds) {
                // `arrived - ε` may be in the second before the arrival's,
                // and then the header is T - 1 seconds after the arrival's
                // second. The candidate above assumed so; the learned T
                // says it is not: the deadline is a second earlier.
                enforce = from + seconds * NANOS_PER_SECOND;
            }
            if enforce < arrived && header + NANOS_PER_SECOND > arrived {
                // The header's second is not over, and every fn timeout is
                // at least a second: only a lead longer than DEADLINE_LEAD
                // gets here, and the real deadline is a second later.
                enforce += NANOS_PER_SECOND;
            }
            // Users see the estimate, never outside the header's second.
            let real = (enforce + lead).clamp(header, header + NANOS_PER_SECOND - 1);
            (enforce, real)
        } else {
            (header - lead, header)
        };
        let ahead = u64::try_from(enforce - arrived).unwrap_or(0);
        Self {
            wall: from_unix_nanos(real),
            instant: now + Duration::from_nanos(ahead),
        }
    }

    /// Time left before the FDK answers 504, zero once that has passed.
    pub(crate) fn remaining(&self) -> Duration {
        self.instant.saturating_duration_since(Instant::now())
    }
}

/// The fn timeout this process serves, in whole seconds, as learned from
/// its calls' deadlines. The server keys its containers by the fn's timeout
/// (among other things), so one process only ever serves one value.
#[derive(Debug, Default)]
pub(crate) struct FnTimeout(AtomicU64);

impl FnTimeout {
    fn learn(&self, seconds: i128) {
        if let Ok(seconds @ 1..) = u64::try_from(seconds) {
            self.0.store(seconds, Ordering::Relaxed);
        }
    }

    fn known(&self) -> Option<i128> {
        match self.0.load(Ordering::Relaxed) {
            0 => None,
            seconds => Some(i128::from(seconds)),
        }
    }
}

fn unix_nanos(t: SystemTime) -> i128 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(after) => after.as_nanos() as i128,
        Err(before) => -(before.duration().as_nanos() as i128),
    }
}

fn from_unix_nanos(n: i128) -> SystemTime {
    let magnitude = Duration::from_nanos(u64::try_from(n.unsigned_abs()).unwrap_or(u64::MAX));
    if n >= 0 {
        UNIX_EPOCH + magnitude
    } else {
        UNIX_EPOCH - magnitude
    }
}

/// Runs `inner` until `deadline`; `Err(TimedOut)` if it has not finished.
///
/// Like `tokio::time::timeout_at`, but the timer is only armed once the
/// inner future returns `Pending`: most calls finish on their first poll,
/// and an unarmed timer costs the runtime nothing.
pub(crate) struct Enforced<F> {
    inner: F,
    deadline: Instant,
    timer: Option<Pin<Box<tokio::time::Sleep>>>,
}

/// The deadline passed first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TimedOut;

impl<F: Future + Unpin> Enforced<F> {
    pub(crate) fn new(inner: F, deadline: Instant) -> Self {
        Self {
            inner,
            deadline,
            timer: None,
        }
    }
}

impl<F: Future + Unpin> Future for Enforced<F> {
    type Output = Result<F::Output, TimedOut>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        if let Poll::Ready(out) = Pin::new(&mut self.inner).poll(cx) {
            return Poll::Ready(Ok(out));
        }
        let deadline = self.deadline;
        let timer = self
            .timer
            .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline.into())));
        timer.as_mut().poll(cx).map(|()| Err(TimedOut))
    }
}

/// Parses an RFC 3339 date-time (`YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)`).
/// `T` and `Z` may be lower-case; a space separator is refused, as the server
/// never sends one. Returns `None` for anything else.
#[cfg(test)]
pub(crate) fn parse_rfc3339(text: &str) -> Option<SystemTime> {
    parse_stated(text).map(|stated| stated.at)
}

/// [`parse_rfc3339`], also saying whether the text had no fraction.
pub(crate) fn parse_stated(text: &str) -> Option<Stated> {
    let b = text.as_bytes();
    if b.len() < 20 {
        return None;
    }
    let year = digits(b, 0, 4)?;
    let month = digits(b, 5, 2)?;
    let day = digits(b, 8, 2)?;
    let hour = digits(b, 11, 2)?;
    let minute = digits(b, 14, 2)?;
    let second = digits(b, 17, 2)?;
    if b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't') || b[13] != b':' {
        return None;
    }
    if b[16] != b':' {
        return None;
    }
    if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
        return None;
    }
    // No leap seconds: Go's formatter never writes `:60` (HS-DL-1).
    if hour > 23 || minute > 59 || second > 59 {
        return None;
    }

    let mut pos = 19;
    let mut nanos: u32 = 0;
    let whole_seconds = b.get(pos) != Some(&b'.');
    if !whole_seconds {
        pos += 1;
        let start = pos;
        while pos < b.len() && b[pos].is_ascii_digit() {
            if pos - start < 9 {
                nanos = nanos * 10 + u32::from(b[pos] - b'0');
            }
            pos += 1;
        }
        let len = pos - start;
        if len == 0 {
            return None;
        }
        for _ in len..9 {
            nanos *= 10;
        }
    }

    let offset_seconds: i64 = match b.get(pos)? {
        b'Z' | b'z' if pos + 1 == b.len() => 0,
        sign @ (b'+' | b'-') if pos + 6 == b.len() && b[pos + 3] == b':' => {
            let oh = digits(b, pos + 1, 2)?;
            let om = digits(b, pos + 4, 2)?;
            if oh > 23 || om > 59 {
                return None;
            }
            let off = i64::from(oh * 3600 + om * 60);
            if *sign == b'+' { off } else { -off }
        }
        _ => return None,
    };

    let days = days_from_civil(i64::from(year), month, day);
    let local = days * 86_400 + i64::from(hour) * 3600 + i64::from(minute) * 60 + i64::from(second);
    let unix = local - offset_seconds;
    let secs = u64::try_from(unix).ok()?;
    Some(Stated {
        at: UNIX_EPOCH + Duration::new(secs, nanos),
        whole_seconds,
    })
}

fn digits(b: &[u8], start: usize, len: usize) -> Option<u32> {
    let slice = b.get(start..start + len)?;
    slice.iter().try_fold(0u32, |acc, &c| {
        c.is_ascii_digit().then(|| acc * 10 + u32::from(c - b'0'))
    })
}

fn is_leap(year: u32) -> bool {
    (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400)
}

fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
/// `days_from_civil`).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unix(text: &str) -> Option<(u64, u32)> {
        parse_rfc3339(text).map(|t| {
            let d = t.duration_since(UNIX_EPOCH).unwrap();
            (d.as_secs(), d.subsec_nanos())
        })
    }

    #[test]
    fn parses_the_servers_whole_second_utc_form() {
        // date -u -d 2026-11-26T21:03:13Z +%s
        assert_eq!(unix("2026-11-26T21:03:13Z"), Some((1_795_726_993, 0)));
        assert_eq!(unix("1970-01-01T00:00:00Z"), Some((0, 0)));
    }

    #[test]
    fn parses_offsets_fractions_and_lower_case() {
        assert_eq!(unix("2026-11-26t23:03:13+02:00"), Some((1_795_726_993, 0)));
        assert_eq!(unix("2026-11-26T13:33:13-07:30"), Some((1_795_726_993, 0)));
        assert_eq!(
            unix("2026-11-26T21:03:13.5z"),
            Some((1_795_726_993, 500_000_000))
        );
        assert_eq!(
            unix("2026-11-26T21:03:13.1234567891Z"),
            Some((1_795_726_993, 123_456_789))
        );
        assert_eq!(unix("2024-02-29T00:00:00Z"), Some((1_709_164_800, 0)));
    }

    #[test]
    fn refuses_garbage_without_panicking() {
        for bad in [
            "",
            "garbage",
            "2026-13-01T00:00:00Z",
            "2026-02-29T00:00:00Z",
            "2026-11-26T24:00:00Z",
            "2026-11-26T21:03:13",
            "2026-11-26 21:03:13Z",
            "2026-11-26T21:03:13.Z",
            "2026-11-26T21:03:13+0200",
            "2026-11-26T21:03:13Zjunk",
            "1969-12-31T23:59:59Z",
            "２０２６-11-26T21:03:13Z",
        ] {
            assert_eq!(unix(bad), None, "{bad}");
        }
    }

    /// `protocol-spec/vectors/deadline.json`, the grammar of HS-DL-1.
    #[test]
    fn matches_the_spec_vectors() {
        let vectors: Vec<serde_json::Value> =
            serde_json::from_str(include_str!("../../protocol-spec/vectors/deadline.json"))
                .unwrap();
        assert!(vectors.len() > 40);
        for v in vectors {
            let input = v["input"].as_str().unwrap();
            let expected = v["valid"].as_bool().unwrap().then(|| {
                (
                    v["unix_seconds"].as_u64().unwrap(),
                    v["nanos"].as_u64().unwrap() as u32,
                )
            });
            assert_eq!(unix(input), expected, "{input}: {}", v["note"]);
        }
    }

    #[tokio::test]
    async fn enforced_futures_finish_or_time_out() {
        let soon = Instant::now() + Duration::from_millis(20);
        assert_eq!(Enforced::new(std::future::ready(7), soon).await, Ok(7));
        let never = std::future::pending::<()>();
        assert_eq!(Enforced::new(never, soon).await, Err(TimedOut));
        assert!(Instant::now() >= soon);
    }

    const SECOND: i128 = 1_000_000_000;
    const MS: i128 = 1_000_000;
    const LEAD: i128 = DEADLINE_LEAD.as_nanos() as i128;

    /// Plays the server: its clock starts at `start` (unix ns), the fn
    /// timeout is `t` s, the request arrives `eps` ns later with the
    /// deadline truncated to whole seconds. Returns when the FDK answers
    /// 504 and the deadline it shows, both as unix ns.
    fn play(start: i128, eps: i128, t: i128, timeout: &FnTimeout) -> (i128, i128) {
        let real = start + t * SECOND;
        let header = real.div_euclid(SECOND) * SECOND;
        let stated = Stated {
            at: from_unix_nanos(header),
            whole_seconds: true,
        };
        let arrived = start + eps;
        let now = Instant::now();
        let d = Deadline::estimate(stated, from_unix_nanos(arrived), now, timeout);
        let ahead = d.instant.duration_since(now).as_nanos() as i128;
        (arrived + ahead, unix_nanos(d.wall))
    }

    const BASE: i128 = 1_795_726_000 * SECOND;

    #[test]
    fn a_truncated_deadline_never_fails_a_call_the_server_would_serve() {
        for t in [1, 2, 30] {
            for eps in [0, MS, 10 * MS, 40 * MS] {
                for phase in (0..1000).map(|ms| ms * MS + 123) {
                    let start = BASE + phase;
                    let real = start + t * SECOND;
                    let timeout = FnTimeout::default();
                    let (enforce, wall) = play(start, eps, t, &timeout);
                    let at = format!("T {t} s, lead {eps} ns, phase {phase} ns");
                    // Never earlier than DEADLINE_LEAD before the real one.
                    assert!(enforce >= real - LEAD, "{at}: {} ns early", real - enforce);
                    // Users see a time in the header's second.
                    assert_eq!(wall.div_euclid(SECOND), real.div_euclid(SECOND), "{at}");
                    let arrival_phase = (phase + eps).rem_euclid(SECOND);
                    if arrival_phase >= LEAD {
                        // Phase known: the 504 comes `lead - eps` before.
                        assert_eq!(enforce, real - (LEAD - eps), "{at}");
                        assert_eq!(timeout.known(), Some(t), "{at}");
                    } else if phase + eps >= SECOND {
                        // The clock started in the second before the
                        // arrival's: what the FDK assumes when in doubt.
                        assert_eq!(enforce, real - (LEAD - eps), "{at}");
                        assert_eq!(timeout.known(), None, "{at}");
                    } else {
                        // The arrival is in the first DEADLINE_LEAD of its
                        // second and T is not known yet: the server's own
                        // timer may come first, the FDK's 504 never early.
                        assert!(enforce <= real + SECOND, "{at}");
                        assert_eq!(timeout.known(), None, "{at}");
                    }
                }
            }
        }
    }

    #[test]
    fn once_the_timeout_is_known_every_phase_gets_its_504_before_the_server() {
        for t in [1, 2, 30] {
            let timeout = FnTimeout::default();
            // One call in the middle of a second teaches T.
            play(BASE + 500 * MS, 5 * MS, t, &timeout);
            assert_eq!(timeout.known(), Some(t));
            for eps in [0, MS, 10 * MS, 40 * MS] {
                for phase in (0..1000).map(|ms| ms * MS + 7) {
                    let start = BASE + 17 * SECOND + phase;
                    let real = start + t * SECOND;
                    let (enforce, _) = play(start, eps, t, &timeout);
                    assert_eq!(
                        enforce,
                        real - (LEAD - eps),
                        "T {t} s, lead {eps} ns, phase {phase} ns"
                    );
                }
            }
        }
    }

    #[test]
    fn a_lead_longer_than_expected_with_a_one_second_timeout_is_never_early() {
        let timeout = FnTimeout::default();
        for phase in (0..1000).map(|ms| ms * MS) {
            let start = BASE + phase;
            let (enforce, _) = play(start, 80 * MS, 1, &timeout);
            assert!(enforce >= start + SECOND - LEAD, "phase {phase}");
        }
    }

    #[test]
    fn a_precise_deadline_is_enforced_the_lead_before_it() {
        let at = SystemTime::now() + Duration::from_secs(10);
        let stated = Stated {
            at,
            whole_seconds: false,
        };
        let now = Instant::now();
        let d = Deadline::estimate(stated, SystemTime::now(), now, &FnTimeout::default());
        assert_eq!(d.wall, at);
        let ahead = d.instant.duration_since(now);
        assert!(
            ahead <= Duration::from_secs(10) - DEADLINE_LEAD,
            "{ahead:?}"
        );
        assert!(ahead > Duration::from_secs(9), "{ahead:?}");
    }

    #[test]
    fn a_past_deadline_has_no_time_remaining() {
        let timeout = FnTimeout::default();
        for whole_seconds in [true, false] {
            let past = Stated {
                at: SystemTime::now() - Duration::from_secs(2),
                whole_seconds,
            };
            assert_eq!(
                Deadline::arriving(past, &timeout).remaining(),
                Duration::ZERO
            );
        }
        let ahead = Stated {
            at: SystemTime::now() + Duration::from_secs(60),
            whole_seconds: true,
        };
        let remaining = Deadline::arriving(ahead, &timeout).remaining();
        assert!(remaining > Duration::from_secs(58), "{remaining:?}");
    }

    #[test]
    fn only_the_absence_of_a_fraction_marks_whole_seconds() {
        let whole = |text: &str| parse_stated(text).map(|s| s.whole_seconds);
        assert_eq!(whole("2026-11-26T21:03:13Z"), Some(true));
        assert_eq!(whole("2026-11-26T21:03:13+02:00"), Some(true));
        assert_eq!(whole("2026-11-26T21:03:13.000Z"), Some(false));
        assert_eq!(whole("2026-11-26T21:03:13.5Z"), Some(false));
    }
}
