//! `junit`: JUnit XML (via `quick-junit`) for Jenkins' `junit` step and GitLab's test report.
//!
//! Suites, in order:
//! * `<image> policy <policy id>` — one per evaluated policy: one test case per rule
//!   (`<gate>:<trigger> [<rule id>]`), passing or not, so a clean image never yields an empty
//!   report (Jenkins aborts on those). A rule with non-allowlisted **STOP** hits is a
//!   `<failure type="STOP">`. A rule with **WARN** hits is a `<failure type="WARN">` only under
//!   `--fail-on-warn`; otherwise it passes and lists the warnings in `<system-out>` (the
//!   documented choice: a JUnit failure turns a Jenkins build UNSTABLE, which is what the
//!   Jenkins step does for WARN by itself, and GitLab would show WARN as failed tests).
//!   Allowlisted hits are listed in `<system-out>` and never fail.
//! * `<image> vulnerabilities (fail on <severity>)` — only with `--fail-on`: one case per
//!   non-suppressed match; failing when at or above the threshold (and fixable under
//!   `--only-fixed`), passing otherwise; a single passing case when there are no matches.
//! * `<image> gate` — always: one case, `decision`, failing with the gate's reasons.
//!
//! Output validates against the xunit-plugin `junit-10.xsd` (tests run `xmllint`).

use std::io::Write;

use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};

use super::facts::{ImageIdentity, fix_text, listed_matches};
use super::{Adapter, RenderCx, ReportError};
use crate::analysis::Analysis;
use crate::matcher::FixState;
use crate::policy::{Action, RuleResult, TriggerHit};

/// The `junit` adapter.
pub(crate) struct Junit;

impl Adapter for Junit {
    fn id(&self) -> &'static str {
        "junit"
    }

    fn description(&self) -> &'static str {
        "JUnit XML: a test case per policy rule and gate check (Jenkins, GitLab test reports)"
    }

    fn write(
        &self,
        analysis: &Analysis,
        cx: &RenderCx<'_>,
        out: &mut dyn Write,
    ) -> Result<(), ReportError> {
        let report = build(analysis, cx);
        let xml = report
            .to_string()
            .map_err(|source| ReportError::Junit { source })?;
        let xml = drop_root_skipped(&xml);
        out.write_all(xml.as_bytes())
            .map_err(|source| ReportError::Render {
                format: "junit",
                source,
            })
    }
}

/// quick-junit writes `skipped` on `<testsuites>`, which the xunit `junit-10.xsd` does not
/// allow there (only on `<testsuite>`); Jenkins counts cases itself, so it carries nothing.
fn drop_root_skipped(xml: &str) -> String {
    let Some(start) = xml.find("<testsuites") else {
        return xml.to_string();
    };
    let end = xml[start..].find('>').map_or(xml.len(), |e| start + e);
    let tag = &xml[start..end];
    let Some(attr) = tag.find(" skipped=\"") else {
        return xml.to_string();
    };
    let value_start = start + attr + " skipped=\"".len();
    let Some(close) = xml[value_start..end].find('"') else {
        return xml.to_string();
    };
    format!(
        "{}{}",
        &xml[..start + attr],
        &xml[value_start + close + 1..]
    )
}

fn failure(kind: &str, message: &str, description: &str) -> TestCaseStatus {
    let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
    s.set_type(kind).set_message(message);
    if !description.is_empty() {
        s.set_description(description);
    }
    s
}

fn hit_line(h: &TriggerHit) -> String {
    let mut line = format!("{} {}:{} — {}", h.action, h.gate, h.trigger, h.check_output);
    if !h.trigger_id.is_empty() {
        line.push_str(&format!(" (trigger id {})", h.trigger_id));
    }
    if let Some(a) = &h.allowlisted {
        line.push_str(&format!(
            " [allowlisted by {}/{}]",
            a.allowlist_id, a.item_id
        ));
    }
    line
}

fn rule_case(rule: &RuleResult, hits: &[&TriggerHit], fail_on_warn: bool) -> TestCase {
    let name = format!("{}:{} [{}]", rule.gate, rule.trigger, rule.rule_id);
    let active: Vec<&&TriggerHit> = hits.iter().filter(|h| h.allowlisted.is_none()).collect();
    let lines: Vec<String> = hits.iter().map(|h| hit_line(h)).collect();
    let details = lines.join("\n");
    let status = match rule.action {
        Action::Stop if !active.is_empty() => failure(
            "STOP",
            &format!(
                "{} STOP hit(s) of rule {} ({}:{})",
                active.len(),
                rule.rule_id,
                rule.gate,
                rule.trigger
            ),
            &details,
        ),
        Action::Warn if !active.is_empty() && fail_on_warn => failure(
            "WARN",
            &format!(
                "{} WARN hit(s) of rule {} ({}:{}) and --fail-on-warn is set",
                active.len(),
                rule.rule_id,
                rule.gate,
                rule.trigger
            ),
            &details,
        ),
        _ => TestCaseStatus::success(),
    };
    let mut case = TestCase::new(name, status);
    case.set_classname(format!("tollgate.policy.{}", rule.policy_id));
    let mut out = format!("action {} with params", rule.action);
    if rule.params.is_empty() {
        out.push_str(" (none)");
    }
    for (k, v) in &rule.params {
        out.push_str(&format!(" {k}={v}"));
    }
    if !details.is_empty() {
        out.push('\n');
        out.push_str(&details);
    }
    case.set_system_out(out);
    case
}

pub(crate) fn build(analysis: &Analysis, cx: &RenderCx<'_>) -> Report {
    let opts = cx.options;
    let id = ImageIdentity::of(analysis);
    let mut report = Report::new(format!("tollgate {}", id.display));

    if let Some(eval) = &analysis.evaluation {
        // Policies in the order evaluated, then any that only appear in rules or hits.
        let mut policies: Vec<String> = eval.policy_ids.clone();
        for p in eval
            .rules
            .iter()
            .map(|r| &r.policy_id)
            .chain(eval.hits.iter().map(|h| &h.policy_id))
        {
            if !policies.contains(p) {
                policies.push(p.clone());
            }
        }
        for policy in &policies {
            let mut suite = TestSuite::new(format!("{} policy {policy}", id.display));
            // Rules evaluated, plus rules known only from their hits.
            let mut rules: Vec<RuleResult> = eval
                .rules
                .iter()
                .filter(|r| &r.policy_id == policy)
                .cloned()
                .collect();
            for h in eval.hits.iter().filter(|h| &h.policy_id == policy) {
                if !rules.iter().any(|r| r.rule_id == h.rule_id) {
                    rules.push(RuleResult {
                        policy_id: h.policy_id.clone(),
                        rule_id: h.rule_id.clone(),
                        gate: h.gate.clone(),
                        trigger: h.trigger.clone(),
                        action: h.action,
                        params: Vec::new(),
                        fired: 0,
                    });
                }
            }
            for rule in &rules {
                let hits: Vec<&TriggerHit> = eval
                    .hits
                    .iter()
                    .filter(|h| &h.policy_id == policy && h.rule_id == rule.rule_id)
                    .collect();
                suite.add_test_case(rule_case(rule, &hits, opts.fail_on_warn));
            }
            if rules.is_empty() {
                suite.add_test_case({
                    let mut c = TestCase::new("no rules", TestCaseStatus::success());
                    c.set_classname(format!("tollgate.policy.{policy}"));
                    c
                });
            }
            report.add_test_suite(suite);
        }
    }

    if let Some(threshold) = opts.fail_on {
        let mut suite = TestSuite::new(format!(
            "{} vulnerabilities (fail on {threshold}{})",
            id.display,
            if opts.only_fixed { ", only fixed" } else { "" }
        ));
        let matches = listed_matches(analysis, false);
        for m in &matches {
            let v = &m.vulnerability;
            let counted =
                v.severity >= threshold && (!opts.only_fixed || m.fix_state == FixState::Fixed);
            let fix = fix_text(m);
            let description = format!(
                "{}\nseverity {}; package {} {} ({}) at {}; fix: {}{}",
                if v.summary.is_empty() {
                    &v.id
                } else {
                    &v.summary
                },
                v.severity,
                m.package_name,
                m.package_version,
                m.package_type,
                m.path,
                if fix.is_empty() { "unknown" } else { &fix },
                if v.kev { "; listed in CISA KEV" } else { "" }
            );
            let status = if counted {
                failure(
                    v.severity.as_str(),
                    &format!(
                        "{} ({}) in {} {}",
                        v.id, v.severity, m.package_name, m.package_version
                    ),
                    &description,
                )
            } else {
                TestCaseStatus::success()
            };
            let mut case = TestCase::new(
                format!("{} {} {}", v.id, m.package_name, m.package_version),
                status,
            );
            case.set_classname(format!("tollgate.vulnerabilities.{}", m.package_type));
            if !counted {
                case.set_system_out(description);
            }
            suite.add_test_case(case);
        }
        if matches.is_empty() {
            let mut case = TestCase::new(
                format!("no vulnerabilities at or above {threshold}"),
                TestCaseStatus::success(),
            );
            case.set_classname("tollgate.vulnerabilities");
            suite.add_test_case(case);
        }
        report.add_test_suite(suite);
    }

    let decision = opts.decide(analysis);
    let mut suite = TestSuite::new(format!("{} gate", id.display));
    let status = if decision.pass {
        TestCaseStatus::success()
    } else {
        failure(
            "GATE",
            decision
                .reasons
                .first()
                .map_or("gate failed", String::as_str),
            &decision.reasons.join("\n"),
        )
    };
    let mut case = TestCase::new("decision", status);
    case.set_classname("tollgate.gate");
    let mut out = format!("decision: {}", decision.word());
    for w in &decision.warnings {
        out.push_str(&format!("\nwarning: {w}"));
    }
    case.set_system_out(out);
    suite.add_test_case(case);
    report.add_test_suite(suite);
    report
}
