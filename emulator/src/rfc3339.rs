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
