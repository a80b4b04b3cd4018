//! The report for people: a line per case as it finishes, failures with
//! their evidence, then a summary table and the closing count line.

use super::{Outcome, Summary};
use crate::case::{Meta, Needs};
use crate::verdict::Verdict;

fn tag(verdict: &Verdict) -> &'static str {
    match verdict {
        Verdict::Pass => "PASS",
        Verdict::Fail(_) => "FAIL",
        Verdict::NotApplicable(_) => "N/A ",
        Verdict::Skipped(_) => "SKIP",
    }
}

/// The level shown for an outcome: a failure's own level, else the case's.
fn shown_level(o: &Outcome) -> String {
    o.failure_level().unwrap_or(o.case.level).to_string()
}

/// The line (and, for a failure, the evidence) printed when a case ends. A
/// failure shows its own level, which may differ from the case's.
pub(crate) fn line(o: &Outcome) -> String {
    let mut text = format!(
        "{} {:<6} {:<24} {} ({} ms)\n",
        tag(&o.verdict),
        shown_level(o),
        o.case.id,
        o.case.title,
        o.took.as_millis()
    );
    match &o.verdict {
        Verdict::Fail(failure) => {
            if let Some(level) = o.failure_level().filter(|l| *l != o.case.level) {
                text.push_str(&format!(
                    "       level: {level} for the check that failed (the case is {})\n",
                    o.case.level
                ));
            }
            text.push_str(&format!(
                "       requirements: {}\n",
                o.case.requirements.join(", ")
            ));
            for l in failure.to_string().lines() {
                text.push_str("       ");
                text.push_str(l);
                text.push('\n');
            }
        }
        Verdict::NotApplicable(why) | Verdict::Skipped(why) => {
            text.push_str(&format!("       {why}\n"));
        }
        Verdict::Pass => {}
    }
    text
}

/// The table of all cases (a failure with its own level), the failures by
/// level and what decides the exit code, and the closing
/// `N passed, M failed, K skipped`.
pub(crate) fn summary(outcomes: &[Outcome], s: &Summary) -> String {
    let mut text = String::from("\ncase                     level   verdict  requirements\n");
    for o in outcomes {
        text.push_str(&format!(
            "{:<24} {:<7} {:<8} {}\n",
            o.case.id,
            shown_level(o),
            tag(&o.verdict).trim(),
            o.case.requirements.join(" ")
        ));
    }
    text.push_str(&format!(
        "\nfailures by level: {} MUST, {} SHOULD, {} MAY; run took {:.1} s\n{}\n",
        s.must_failed,
        s.should_failed,
        s.may_failed,
        s.took.as_secs_f64(),
        s.rule.describe()
    ));
    text.push_str(&format!(
        "{} passed, {} failed, {} skipped\n",
        s.passed, s.failed, s.skipped
    ));
    text
}

/// `--list`: the catalog.
pub(crate) fn list(cases: &[Meta]) -> String {
    let mut text = String::new();
    for c in cases {
        let needs = match c.needs {
            Needs::Probe => "probe",
            Needs::Nothing => "",
        };
        text.push_str(&format!(
            "{:<24} {:<6} {:<5} {:<28} {}\n",
            c.id,
            c.level.to_string(),
            needs,
            c.requirements.join(" "),
            c.title
        ));
    }
    text
}
