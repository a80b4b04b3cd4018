//! RFC 3339 timestamps as the server writes `Fn-Deadline`: UTC, whole seconds,
//! `Z` suffix (Go's `time.RFC3339` on a UTC time), e.g. `2026-11-26T21:03:13Z`.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Formats `time` as RFC 3339 in UTC with whole seconds (sub-seconds are
/// truncated, as Go does). Times before 1970 are written as the epoch.
pub fn format_utc(time: SystemTime) -> String {
    let secs = time
        .duration_since(UNIX_EPOCH)
        .unwrap_or(Duration::ZERO)
        .as_secs();
    format_unix_seconds(secs)
}

/// Formats a count of seconds since the Unix epoch as RFC 3339 in UTC.
pub fn format_unix_seconds(secs: u64) -> String {
    let days = secs / 86_400;
    let rem = secs % 86_400;
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Converts days since 1970-01-01 to a proleptic Gregorian (year, month, day).
///
/// Howard Hinnant's `civil_from_days`, restricted to dates from 1970 on: eras
/// are 400-year cycles starting on 0000-03-01, so leap days fall at the end.
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    // Shift the epoch from 1970-01-01 to 0000-03-01.
    let z = days + 719_468;
    let era = z / 146_097;
    let day_of_era = z % 146_097; // [0, 146096]
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365; // [0, 399]
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100); // [0, 365]
    let mp = (5 * day_of_year + 2) / 153; // [0, 11], March = 0
    let day = day_of_year - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = year_of_era + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

/// Parses strict RFC 3339 (`T` or `t`, an optional fraction, `Z`, `z` or
/// `±hh:mm`, no leap second) into seconds and nanoseconds since the Unix
/// epoch; `None` for anything else.
///
/// ```
/// use fn_emulator::rfc3339::parse;
///
/// assert_eq!(parse("1970-01-02T00:00:01.5Z"), Some((86_401, 500_000_000)));
/// assert_eq!(parse("1970-01-01T01:00:00+01:00"), Some((0, 0)));
/// assert_eq!(parse("1970-02-30T00:00:00Z"), None);
/// ```
pub fn parse(value: &str) -> Option<(i64, u32)> {
    let b = value.as_bytes();
    let num = |from: usize, to: usize| -> Option<i64> {
        let digits = b.get(from..to)?;
        digits.iter().try_fold(0i64, |n, &d| {
            d.is_ascii_digit().then(|| n * 10 + i64::from(d - b'0'))
        })
    };
    let punct = [(4, b'-'), (7, b'-'), (13, b':'), (16, b':')];
    if !punct.iter().all(|&(at, c)| b.get(at) == Some(&c))
        || !matches!(b.get(10), Some(b'T' | b't'))
    {
        return None;
    }
    let (year, month, day) = (num(0, 4)?, num(5, 7)?, num(8, 10)?);
    let (hour, minute, second) = (num(11, 13)?, num(14, 16)?, num(17, 19)?);
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let days_in_month = match month {
        2 => 28 + i64::from(leap),
        4 | 6 | 9 | 11 => 30,
        1..=12 => 31,
        _ => return None,
    };
    if !(1..=days_in_month).contains(&day) || hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    let mut at = 19;
    let mut nanos = 0u32;
    if b.get(at) == Some(&b'.') {
        let digits = b[at + 1..]
            .iter()
            .take_while(|d| d.is_ascii_digit())
            .count();
        if digits == 0 {
            return None;
        }
        let padded = b[at + 1..at + 1 + digits].iter().chain([b'0'; 9].iter());
        nanos = padded.take(9).fold(0, |n, &d| n * 10 + u32::from(d - b'0'));
        at += 1 + digits;
    }
    let offset = match b.get(at..)? {
        b"Z" | b"z" => 0,
        [sign @ (b'+' | b'-'), _, _, b':', _, _] => {
            let (h, m) = (num(at + 1, at + 3)?, num(at + 4, at + 6)?);
            if h > 23 || m > 59 {
                return None;
            }
            (h * 3600 + m * 60) * if *sign == b'+' { 1 } else { -1 }
        }
        _ => return None,
    };
    let days = days_from_civil(year, month, day);
    Some((
        days * 86_400 + hour * 3600 + minute * 60 + second - offset,
        nanos,
    ))
}

/// Days since 1970-01-01 of a proleptic Gregorian date: the inverse of
/// [`civil_from_days`], for any year (Howard Hinnant's `days_from_civil`).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let year_of_era = y - era * 400;
    let day_of_year = (153 * ((month + 9) % 12) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epoch() {
        assert_eq!(format_unix_seconds(0), "1970-01-01T00:00:00Z");
    }

    #[test]
    fn capture_deadline() {
        // Fn-Deadline of capture a-invoke-json: 2026-11-26T21:03:13Z.
        assert_eq!(format_unix_seconds(1_795_726_993), "2026-11-26T21:03:13Z");
    }

    #[test]
    fn leap_days_and_boundaries() {
        assert_eq!(format_unix_seconds(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(format_unix_seconds(951_868_800), "2000-03-01T00:00:00Z");
        assert_eq!(format_unix_seconds(1_709_164_800), "2024-02-29T00:00:00Z");
        assert_eq!(format_unix_seconds(4_107_542_399), "2100-02-28T23:59:59Z");
        assert_eq!(format_unix_seconds(4_107_542_400), "2100-03-01T00:00:00Z");
        assert_eq!(format_unix_seconds(1_767_225_599), "2025-12-31T23:59:59Z");
    }

    #[test]
    fn truncates_sub_seconds() {
        let t = UNIX_EPOCH + Duration::from_millis(1_795_726_993_999);
        assert_eq!(format_utc(t), "2026-11-26T21:03:13Z");
    }

    #[test]
    fn before_epoch_is_epoch() {
        let t = UNIX_EPOCH - Duration::from_secs(10);
        assert_eq!(format_utc(t), "1970-01-01T00:00:00Z");
    }
}
