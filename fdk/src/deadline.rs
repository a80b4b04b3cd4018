//! The call's deadline: `Fn-Deadline` parsed once at the edge, then held as
//! both the wall-clock time (for users) and a monotonic instant (for the
//! timer that answers 504 before the server kills the container).
//!
//! The server formats the deadline as RFC 3339 with whole seconds, truncated
//! (`2026-11-26T21:03:13Z`), so it is 0-1 s before the server's own deadline;
//! the FDK enforces it as written (HS-DL-1, HS-DL-3).

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// A call's deadline, as wall-clock time and as a monotonic instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Deadline {
    pub(crate) wall: SystemTime,
    pub(crate) instant: Instant,
}

impl Deadline {
    /// Anchors a wall-clock deadline to the monotonic clock, now.
    pub(crate) fn at(wall: SystemTime) -> Self {
        let now_wall = SystemTime::now();
        let now = Instant::now();
        let instant = match wall.duration_since(now_wall) {
            Ok(ahead) => now + ahead,
            // Already past: expire at once.
            Err(_) => now,
        };
        Self { wall, instant }
    }

    /// Time left before the deadline, zero once it has passed.
    pub(crate) fn remaining(&self) -> Duration {
        self.instant.saturating_duration_since(Instant::now())
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
pub(crate) fn parse_rfc3339(text: &str) -> Option<SystemTime> {
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
    if b.get(pos) == Some(&b'.') {
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
    Some(UNIX_EPOCH + Duration::new(secs, nanos))
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

    #[test]
    fn a_past_deadline_has_no_time_remaining() {
        let d = Deadline::at(UNIX_EPOCH);
        assert_eq!(d.remaining(), Duration::ZERO);
        let ahead = Deadline::at(SystemTime::now() + Duration::from_secs(60));
        assert!(ahead.remaining() > Duration::from_secs(58));
    }
}
