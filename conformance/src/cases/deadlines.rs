//! The call's deadline as the function sees it (HS-DL-1..3): `Fn-Deadline`
//! in any offset, garbled or absent.

use std::time::{Duration, SystemTime};

use super::{expect_200, report_call};
use crate::case::{Case, CaseResult};
use crate::harness::{Call, Harness};
use fn_emulator::rfc3339;

pub(super) const CASES: [Case<Harness>; 4] = cases![
    // Level: the server sends Fn-Deadline on every call; a handler that does
    // not see it does not see the call the server sent.
    "req.deadline": Must, Probe, deadline, ["HS-DL-1", "HS-DL-3"]
        "the handler sees the Fn-Deadline instant";
    // Level: the server writes Fn-Deadline with Go's time.RFC3339 in its own
    // process's zone; the fnserver image has no zone data and runs in UTC, so it
    // sends `Z` (as captured and measured). Only a server run in another zone
    // (built and run outside its image) would send an offset.
    "req.deadline-offset": Should, Probe, deadline_offset, ["HS-DL-1", "HS-DL-3"]
        "an Fn-Deadline with an offset (+02:00, -05:30) is seen as the same instant in UTC";
    // Level: the server always sets a valid Fn-Deadline (RFC 3339, whole
    // seconds), overwriting any the client sent.
    "req.garbled-deadline": Should, Nothing, garbled_deadline, ["HS-DL-2"]
        "a garbled Fn-Deadline is answered normally (no deadline, no crash)";
    // Level: the server sets Fn-Deadline on every call (the call's context always
    // has a deadline), overwriting any the client sent.
    "req.no-deadline": Should, Nothing, no_deadline, ["HS-DL-2"]
        "a call without Fn-Deadline is answered normally, and the handler sees no deadline";
];

fn deadline(h: &mut Harness) -> CaseResult {
    let (json, ex) = report_call(h, Call::invoke())?;
    let sent = String::from_utf8_lossy(&ex.sent)
        .lines()
        .find_map(|l| l.strip_prefix("Fn-Deadline: ").map(str::to_owned))
        .unwrap_or_default();
    if json["deadline"].as_str() != Some(sent.as_str()) {
        return Err(h.failed(
            format!(
                "the handler saw deadline {}, the server sent {sent}",
                json["deadline"]
            ),
            &ex,
        ));
    }
    Ok(())
}

/// The same instant as `at` (whole seconds), written with the offset
/// `minutes` east of UTC: the UTC clock time shifted by the offset, then
/// the offset instead of `Z`.
fn with_offset(at: SystemTime, minutes: i32) -> String {
    let shift = Duration::from_secs(u64::from(minutes.unsigned_abs()) * 60);
    let local = if minutes >= 0 { at + shift } else { at - shift };
    let clock = rfc3339::format_utc(local);
    let (sign, abs) = (if minutes >= 0 { '+' } else { '-' }, minutes.unsigned_abs());
    format!(
        "{}{sign}{:02}:{:02}",
        clock.trim_end_matches('Z'),
        abs / 60,
        abs % 60
    )
}

fn deadline_offset(h: &mut Harness) -> CaseResult {
    for minutes in [120, -330] {
        let at = SystemTime::now() + Duration::from_secs(30);
        let utc = rfc3339::format_utc(at);
        let sent = with_offset(at, minutes);
        let call = Call::invoke().deadline_header(&sent, Duration::from_secs(30));
        let (json, ex) = report_call(h, call)?;
        if json["deadline"].as_str() != Some(utc.as_str()) {
            return Err(h.failed(
                format!(
                    "the handler saw deadline {}; the call sent Fn-Deadline: {sent}, which is {utc}",
                    json["deadline"]
                ),
                &ex,
            ));
        }
    }
    Ok(())
}

fn garbled_deadline(h: &mut Harness) -> CaseResult {
    let ex = h.call(&Call::invoke().raw_deadline("next tuesday"))?;
    expect_200(h, &ex)?;
    let ex = h.call(&Call::invoke())?;
    expect_200(h, &ex)
}

fn no_deadline(h: &mut Harness) -> CaseResult {
    let ex = h.call(&Call::invoke().no_deadline())?;
    expect_200(h, &ex)?;
    if h.has_probe() {
        let (json, ex) = report_call(h, Call::invoke().no_deadline())?;
        if !json["deadline"].is_null() {
            return Err(h.failed(
                format!(
                    "the handler saw deadline {} though the call carried no Fn-Deadline \
                     (HS-DL-2: no deadline)",
                    json["deadline"]
                ),
                &ex,
            ));
        }
    }
    let ex = h.call(&Call::invoke())?;
    expect_200(h, &ex)
}
