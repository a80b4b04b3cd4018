//! The report for people: a line per case as it finishes, failures with
//! their evidence, then a summary table and the closing count line.

use super::{Outcome, Summary};
use crate::cases::Case;
use crate::verdict::Verdict;

fn tag(verdict: &Verdict) -> &'static str {
    match verdict {
        Verdict::Pass => "PASS",
        Verdict::Fail(_) => "FAIL",
        Verdict::NotApplicable(_) => "N/A ",
        Verdict::Skipped(_) => "SKIP",
    }
}

/// The line (and, for a failure, the evidence) printed when a case ends.
pub fn line(o: &Outcome) -> String {
    let mut text = format!(
        "{} {:<6} {:<24} {} ({} ms)\n",
        tag(&o.verdict),
        o.case.level.to_string(),
        o.case.id,
        o.case.title,
        o.took.as_millis()
    );
    match &o.verdict {
        Verdict::Fail(failure) => {
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

/// The table of all cases and the closing `N passed, M failed, K skipped`.
pub fn summary(outcomes: &[Outcome], s: &Summary) -> String {
    let mut text = String::from("\ncase                     level   verdict  requirements\n");
    for o in outcomes {
        text.push_str(&format!(
            "{:<24} {:<7} {:<8} {}\n",
            o.case.id,
            o.case.level.to_string(),
            tag(&o.verdict).trim(),
            o.case.requirements.join(" ")
        ));
    }
    text.push_str(&format!(
        "\n{} MUST failure(s); run took {:.1} s\n",
        s.must_failed,
        s.took.as_secs_f64()
    ));
    text.push_str(&format!(
        "{} passed, {} failed, {} skipped\n",
        s.passed, s.failed, s.skipped
    ));
    text
}

/// `--list`: the catalog.
pub fn list(cases: &[Case]) -> String {
    let mut text = String::new();
    for c in cases {
        let needs = match c.needs {
            crate::cases::Needs::Probe => "probe",
            crate::cases::Needs::Nothing => "",
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
