//! Files for CI systems: JSON Lines, TAP 13 and JUnit XML.

use serde_json::json;

use super::{Format, Outcome, Summary, describe};
use crate::verdict::Verdict;
use fn_emulator::FunctionCommand;

/// Renders a run in `format`.
pub(crate) fn render(
    format: Format,
    command: &FunctionCommand,
    outcomes: &[Outcome],
    s: &Summary,
) -> String {
    match format {
        Format::Json => json_lines(command, outcomes, s),
        Format::Tap => tap(outcomes, s),
        Format::Junit => junit(command, outcomes, s),
    }
}

fn verdict_word(v: &Verdict) -> &'static str {
    match v {
        Verdict::Pass => "pass",
        Verdict::Fail(_) => "fail",
        Verdict::NotApplicable(_) => "not_applicable",
        Verdict::Skipped(_) => "skipped",
    }
}

fn evidence(v: &Verdict) -> String {
    match v {
        Verdict::Pass => String::new(),
        Verdict::Fail(f) => f.to_string(),
        Verdict::NotApplicable(why) | Verdict::Skipped(why) => why.clone(),
    }
}

fn json_lines(command: &FunctionCommand, outcomes: &[Outcome], s: &Summary) -> String {
    let mut out = String::new();
    for o in outcomes {
        let (server, what) = match &o.verdict {
            Verdict::Fail(f) => (
                f.server.as_ref().map(ToString::to_string),
                Some(f.what.clone()),
            ),
            _ => (None, None),
        };
        let line = json!({
            "schema_version": 1,
            "type": "case",
            "id": o.case.id,
            "level": o.case.level.to_string(),
            "failure_level": o.failure_level().map(|l| l.to_string()),
            "requirements": o.case.requirements,
            "title": o.case.title,
            "verdict": verdict_word(&o.verdict),
            "what": what,
            "real_server": server,
            "evidence": evidence(&o.verdict),
            "millis": o.took.as_millis() as u64,
        });
        out.push_str(&line.to_string());
        out.push('\n');
    }
    let mut summary = json!({
        "schema_version": 1,
        "type": "summary",
        "function": describe(command),
        "passed": s.passed,
        "failed": s.failed,
        "must_failed": s.must_failed,
        "should_failed": s.should_failed,
        "may_failed": s.may_failed,
        "fail_on": s.rule.fail_on().map(|l| l.to_string()),
        "exit_rule": s.rule.describe(),
        "skipped": s.skipped,
        "millis": s.took.as_millis() as u64,
    });
    if let Some(image) = &s.image {
        summary["function"] = json!(image.reference);
        summary["image"] = json!({
            "reference": image.reference,
            "digest": image.digest,
            "container": image.container,
        });
    }
    out.push_str(&summary.to_string());
    out.push('\n');
    out
}

fn tap(outcomes: &[Outcome], s: &Summary) -> String {
    let mut out = format!("TAP version 13\n1..{}\n", outcomes.len());
    for (i, o) in outcomes.iter().enumerate() {
        let n = i + 1;
        match &o.verdict {
            Verdict::Pass => out.push_str(&format!("ok {n} - {} ({})\n", o.case.id, o.case.level)),
            Verdict::NotApplicable(why) | Verdict::Skipped(why) => {
                out.push_str(&format!("ok {n} - {} # SKIP {why}\n", o.case.id));
            }
            Verdict::Fail(f) => {
                let level = o.failure_level().unwrap_or(o.case.level);
                // A failure below the gate does not fail the run: TAP's TODO.
                let todo = if level > s.rule.gate() {
                    format!(
                        " # TODO {level} failure; the run fails on {} or stricter",
                        s.rule.gate()
                    )
                } else {
                    String::new()
                };
                out.push_str(&format!("not ok {n} - {} ({level}){todo}\n", o.case.id));
                out.push_str("  ---\n");
                out.push_str(&format!("  level: {level}\n"));
                out.push_str(&format!(
                    "  requirements: {}\n",
                    o.case.requirements.join(", ")
                ));
                out.push_str("  message: |\n");
                for l in f.to_string().lines() {
                    out.push_str(&format!("    {l}\n"));
                }
                out.push_str("  ...\n");
            }
        }
    }
    out.push_str(&format!(
        "# {} passed, {} failed ({} MUST, {} SHOULD, {} MAY), {} skipped; {}\n",
        s.passed,
        s.failed,
        s.must_failed,
        s.should_failed,
        s.may_failed,
        s.skipped,
        s.rule.describe()
    ));
    out
}

fn xml(text: &str) -> String {
    text.chars()
        .filter(|c| !c.is_control() || matches!(c, '\n' | '\t'))
        .map(|c| match c {
            '&' => "&amp;".to_owned(),
            '<' => "&lt;".to_owned(),
            '>' => "&gt;".to_owned(),
            '"' => "&quot;".to_owned(),
            c => c.to_string(),
        })
        .collect()
}

fn junit(command: &FunctionCommand, outcomes: &[Outcome], s: &Summary) -> String {
    let subject = s
        .image
        .as_ref()
        .map_or_else(|| describe(command), |image| image.reference.clone());
    let mut out = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuite name=\"fdk-conformance: {}\" tests=\"{}\" failures=\"{}\" skipped=\"{}\" time=\"{:.3}\">\n",
        xml(&subject),
        outcomes.len(),
        s.failed,
        s.skipped,
        s.took.as_secs_f64()
    );
    out.push_str(&format!(
        "  <properties>\n    <property name=\"must_failed\" value=\"{}\"/>\n    <property name=\"should_failed\" value=\"{}\"/>\n    <property name=\"may_failed\" value=\"{}\"/>\n    <property name=\"exit_rule\" value=\"{}\"/>\n  </properties>\n",
        s.must_failed,
        s.should_failed,
        s.may_failed,
        xml(&s.rule.describe())
    ));
    if let Some(image) = &s.image {
        // Inside <properties>, before its end tag.
        let end = "  </properties>\n";
        let at = out.len() - end.len();
        out.insert_str(
            at,
            &format!(
                "    <property name=\"image\" value=\"{}\"/>\n    <property name=\"image_digest\" value=\"{}\"/>\n    <property name=\"container\" value=\"{}\"/>\n",
                xml(&image.reference),
                xml(&image.digest),
                xml(&image.container)
            ),
        );
    }
    for o in outcomes {
        out.push_str(&format!(
            "  <testcase classname=\"{}\" name=\"{}\" time=\"{:.3}\">",
            o.case.level,
            xml(o.case.id),
            o.took.as_secs_f64()
        ));
        match &o.verdict {
            Verdict::Pass => {}
            Verdict::NotApplicable(why) | Verdict::Skipped(why) => {
                out.push_str(&format!("<skipped message=\"{}\"/>", xml(why)))
            }
            Verdict::Fail(f) => out.push_str(&format!(
                "<failure type=\"{level}\" message=\"[{level}] {}\">{}</failure>",
                xml(&f.what),
                xml(&f.to_string()),
                level = o.failure_level().unwrap_or(o.case.level)
            )),
        }
        out.push_str("</testcase>\n");
    }
    out.push_str("</testsuite>\n");
    out
}
