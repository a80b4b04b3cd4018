//! Expectations files: the verdict each case is known to get for one FDK,
//! committed next to its probe, so that CI notices any change either way
//! (a fixed bug as much as a new one).
//!
//! ```text
//! # fdk-python 0.1.128: the error body is not JSON
//! resp.error-502 fail
//! sock.ready pass
//! resp.stream n/a
//! life.unprivileged skip
//! ```

use std::collections::BTreeMap;

use super::Outcome;
use crate::verdict::Verdict;
use fn_emulator::FunctionCommand;

/// A verdict as an expectations file writes it.
fn word(v: &Verdict) -> &'static str {
    match v {
        Verdict::Pass => "pass",
        Verdict::Fail(_) => "fail",
        Verdict::NotApplicable(_) => "n/a",
        Verdict::Skipped(_) => "skip",
    }
}

/// Writes this run's verdicts.
pub(crate) fn write(command: &FunctionCommand, outcomes: &[Outcome]) -> String {
    let mut out = format!(
        "# fdk-conformance verdicts for: {}\n# <case id> <pass|fail|n/a|skip>; edit the comments, not the verdicts\n",
        command.words().join(" ")
    );
    for o in outcomes {
        if let Verdict::Fail(f) = &o.verdict {
            out.push_str(&format!(
                "# {}: {}\n",
                o.case.id,
                f.what.lines().next().unwrap_or("")
            ));
        }
        out.push_str(&format!("{} {}\n", o.case.id, word(&o.verdict)));
    }
    out
}

/// Reads an expectations file: case id to verdict word.
pub(crate) fn parse(text: &str) -> Result<BTreeMap<String, String>, String> {
    let mut map = BTreeMap::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut words = line.split_whitespace();
        match (words.next(), words.next(), words.next()) {
            (Some(id), Some(v @ ("pass" | "fail" | "n/a" | "skip")), None) => {
                map.insert(id.to_owned(), v.to_owned());
            }
            _ => {
                return Err(format!(
                    "expectations line {}: `{line}` is not `<case id> <pass|fail|n/a|skip>`",
                    n + 1
                ));
            }
        }
    }
    Ok(map)
}

/// The differences between `expected` and this run, one line each.
pub(crate) fn compare(expected: &BTreeMap<String, String>, outcomes: &[Outcome]) -> Vec<String> {
    let mut changes = Vec::new();
    for o in outcomes {
        let got = word(&o.verdict);
        match expected.get(o.case.id) {
            Some(want) if want == got => {}
            Some(want) => changes.push(format!("{}: expected {want}, got {got}", o.case.id)),
            None => changes.push(format!(
                "{}: not in the expectations (got {got})",
                o.case.id
            )),
        }
    }
    for id in expected.keys() {
        if !outcomes.iter().any(|o| o.case.id == id) {
            changes.push(format!("{id}: expected but not run"));
        }
    }
    changes
}

/// A Markdown table of several expectations files: one row per case (in
/// catalog order), one column per FDK.
pub(crate) fn matrix(columns: &[(String, BTreeMap<String, String>)]) -> String {
    let mut out = String::from("| case | level | requirements |");
    for (name, _) in columns {
        out.push_str(&format!(" {name} |"));
    }
    out.push_str("\n|---|---|---|");
    for _ in columns {
        out.push_str("---|");
    }
    out.push('\n');
    for case in crate::cases::catalog().into_iter().map(|c| c.meta) {
        out.push_str(&format!(
            "| `{}` | {} | {} |",
            case.id,
            case.level,
            case.requirements.join(", ")
        ));
        for (_, verdicts) in columns {
            let cell = match verdicts.get(case.id).map(String::as_str) {
                Some("pass") => "✅",
                Some("fail") => "❌",
                Some("n/a") => "n/a",
                Some("skip") => "skip",
                _ => "?",
            };
            out.push_str(&format!(" {cell} |"));
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_verdicts_and_comments_and_refuses_junk() {
        let map =
            parse("# c\nsock.ready pass\n\nresp.stream n/a\nlife.unprivileged skip\n").unwrap();
        assert_eq!(map.get("sock.ready").map(String::as_str), Some("pass"));
        assert_eq!(
            map.get("life.unprivileged").map(String::as_str),
            Some("skip")
        );
        assert_eq!(map.len(), 3);
        assert!(parse("sock.ready maybe\n").is_err());
        assert!(parse("sock.ready pass extra\n").is_err());
    }
}
