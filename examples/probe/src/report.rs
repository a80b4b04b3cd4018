//! The `report` op: what the FDK showed this call, as the JSON object of
//! `protocol-spec/probe.md`.

use std::time::{SystemTime, UNIX_EPOCH};

use fdk::{Body, Context, FunctionError};
use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};

use sha2::{Digest, Sha256};

/// Field order is the spec's example order; serde keeps declaration order.
#[derive(Debug, Serialize)]
pub(crate) struct Report {
    call_id: Option<String>,
    deadline: Option<String>,
    gateway: bool,
    method: Option<String>,
    url: Option<String>,
    content_type: Option<String>,
    headers: Vec<(String, String)>,
    config: Config,
    body_len: u64,
    body_sha256: String,
}

/// `config` keeps the order the request listed its keys in: a
/// `serde_json::Map` would sort them (no `preserve_order` feature here).
#[derive(Debug)]
struct Config(Vec<(String, Option<String>)>);

impl Serialize for Config {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (key, value) in &self.0 {
            map.serialize_entry(key, value)?;
        }
        map.end()
    }
}

impl Report {
    /// Reads the body to its end (hashing it as it arrives) and the context.
    pub(crate) async fn new(
        ctx: &Context,
        mut body: Body,
        keys: Vec<String>,
    ) -> Result<Self, FunctionError> {
        let (mut body_len, mut hash) = (0u64, Sha256::new());
        while let Some(chunk) = body.chunk().await {
            let chunk = chunk?;
            body_len += chunk.len() as u64;
            hash.update(&chunk);
        }

        let gateway = ctx.gateway();
        // Every value of a repeated header: `HeaderMap::iter` yields the
        // name once per value. A value that is not UTF-8 is shown lossily
        // rather than dropped, so the harness sees that it arrived.
        let headers = ctx
            .headers()
            .iter()
            .map(|(name, value)| {
                let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
                (name.as_str().to_owned(), value)
            })
            .collect();
        let mut config: Vec<(String, Option<String>)> = Vec::with_capacity(keys.len());
        for key in keys {
            // A key listed twice is one JSON member, not a duplicate one.
            if !config.iter().any(|(k, _)| *k == key) {
                let value = ctx.config(&key).map(str::to_owned);
                config.push((key, value));
            }
        }
        Ok(Self {
            // The FDK shows a missing `Fn-Call-Id` as "" (its docs say so).
            call_id: Some(ctx.call_id())
                .filter(|id| !id.is_empty())
                .map(str::to_owned),
            deadline: ctx.deadline().map(rfc3339),
            gateway: ctx.is_gateway(),
            method: gateway.map(|gw| gw.method().as_str().to_owned()),
            url: gateway.map(|gw| gw.url().to_string()),
            content_type: ctx.content_type().map(str::to_owned),
            headers,
            config: Config(config),
            body_len,
            body_sha256: hex(&hash.finalize()),
        })
    }
}

/// Lower-case hex, two digits a byte.
fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(out, "{b:02x}");
    }
    out
}

/// `2026-11-26T21:03:13Z`: UTC, whole seconds (truncated), as the server
/// writes `Fn-Deadline`. The FDK hands out a `SystemTime` and std has no
/// calendar, so the date comes from Howard Hinnant's `civil_from_days`.
pub(crate) fn rfc3339(t: SystemTime) -> String {
    let secs: i64 = match t.duration_since(UNIX_EPOCH) {
        Ok(after) => i64::try_from(after.as_secs()).unwrap_or(i64::MAX),
        // Before 1970: floor to the whole second below.
        Err(before) => {
            let d = before.duration();
            let whole = i64::try_from(d.as_secs()).unwrap_or(i64::MAX);
            -whole - i64::from(d.subsec_nanos() > 0)
        }
    };
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097; // [0, 146096]
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365; // [0, 399]
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // [0, 365]
    let mp = (5 * doy + 2) / 153; // [0, 11], March first
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn formats_utc_whole_seconds() {
        let at = |secs: u64| UNIX_EPOCH + Duration::from_secs(secs);
        assert_eq!(rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(at(1_795_726_993)), "2026-11-26T21:03:13Z");
        assert_eq!(rfc3339(at(1_709_164_800)), "2024-02-29T00:00:00Z");
        assert_eq!(rfc3339(at(951_868_799)), "2000-02-29T23:59:59Z");
        assert_eq!(rfc3339(at(4_102_444_800)), "2100-01-01T00:00:00Z");
        // Truncated, never rounded up.
        let late = at(1_795_726_993) + Duration::from_millis(999);
        assert_eq!(rfc3339(late), "2026-11-26T21:03:13Z");
        let before = UNIX_EPOCH - Duration::from_millis(500);
        assert_eq!(rfc3339(before), "1969-12-31T23:59:59Z");
    }
}
