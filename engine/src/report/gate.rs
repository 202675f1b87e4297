//! The pass/fail decision: the one place it is computed. The cli maps it to exit 0 (pass) or 1
//! (fail); errors are exit 2 and never reach here.
//!
//! The gate fails when (a) a policy was evaluated and its final action is STOP, (b) `fail_on` is
//! set and a non-suppressed match is at or above it (only ones with a known fix when
//! `only_fixed`), or (c) `fail_on_warn` is set and the final action is WARN. Suppressed matches
//! (ignore rules, VEX) and allowlisted trigger hits never fail it. Does no I/O.

use serde::Serialize;

use crate::analysis::Analysis;
use crate::matcher::FixState;
use crate::policy::Action;
use crate::types::Severity;

/// The decision and why.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct GateDecision {
    /// True when the image passes.
    pub pass: bool,
    /// Why it failed, one line per cause (empty when it passes).
    pub reasons: Vec<String>,
    /// Things worth showing that did not fail it (policy WARN without `--fail-on-warn`).
    #[serde(default)]
    pub warnings: Vec<String>,
}

impl GateDecision {
    /// `pass` or `fail`.
    pub fn word(&self) -> &'static str {
        if self.pass { "pass" } else { "fail" }
    }
}

/// How many matching ids to name in one reason line before summarising.
const IDS_IN_REASON: usize = 5;

/// Decides whether `analysis` passes the gate.
pub fn decide(
    analysis: &Analysis,
    fail_on: Option<Severity>,
    only_fixed: bool,
    fail_on_warn: bool,
) -> GateDecision {
    let mut reasons = Vec::new();
    let mut warnings = Vec::new();
    if let Some(eval) = &analysis.evaluation {
        let active = |action: Action| {
            eval.hits
                .iter()
                .filter(move |h| h.action == action && h.allowlisted.is_none())
        };
        match eval.final_action {
            Action::Stop => {
                let stops: Vec<String> = active(Action::Stop)
                    .map(|h| format!("{}:{}", h.gate, h.trigger))
                    .collect();
                let mut kinds = stops.clone();
                kinds.sort();
                kinds.dedup();
                let detail = if stops.is_empty() {
                    if eval.final_action_reason.is_empty() {
                        String::new()
                    } else {
                        format!(" ({})", eval.final_action_reason)
                    }
                } else {
                    format!(" ({} STOP hit(s): {})", stops.len(), kinds.join(", "))
                };
                reasons.push(format!(
                    "policy `{}` final action is STOP{detail}",
                    policy_name(eval)
                ));
            }
            Action::Warn => {
                let n = active(Action::Warn).count();
                let line = format!(
                    "policy `{}` final action is WARN ({n} WARN hit(s))",
                    policy_name(eval)
                );
                if fail_on_warn {
                    reasons.push(format!("{line} and --fail-on-warn is set"));
                } else {
                    warnings.push(line);
                }
            }
            Action::Go => {}
        }
    }
    if let Some(threshold) = fail_on {
        let mut ids: Vec<&str> = analysis
            .matches
            .iter()
            .filter(|m| m.suppressed.is_none())
            .filter(|m| m.vulnerability.severity >= threshold)
            .filter(|m| !only_fixed || m.fix_state == FixState::Fixed)
            .map(|m| m.vulnerability.id.as_str())
            .collect();
        let count = ids.len();
        if count > 0 {
            ids.sort_unstable();
            ids.dedup();
            let mut named: Vec<&str> = ids.iter().take(IDS_IN_REASON).copied().collect();
            let more = ids.len().saturating_sub(named.len());
            let mut list = named.join(", ");
            if more > 0 {
                list.push_str(&format!(" and {more} more"));
            }
            named.clear();
            reasons.push(format!(
                "{count} {}match(es) at or above --fail-on {threshold}: {list}",
                if only_fixed { "fixable " } else { "" }
            ));
        }
    }
    GateDecision {
        pass: reasons.is_empty(),
        reasons,
        warnings,
    }
}

fn policy_name(eval: &crate::policy::Evaluation) -> &str {
    if eval.bundle_name.is_empty() {
        &eval.bundle_id
    } else {
        &eval.bundle_name
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::matcher::{Match, Suppression, Vulnerability};
    use crate::policy::{AllowlistRef, Evaluation, TriggerHit};

    fn m(id: &str, sev: Severity, fix: FixState, suppressed: bool) -> Match {
        Match {
            vulnerability: Vulnerability {
                id: id.into(),
                severity: sev,
                ..Default::default()
            },
            fix_state: fix,
            suppressed: suppressed.then(|| Suppression {
                kind: "vex".into(),
                by: "v.json".into(),
                reason: "not_affected".into(),
            }),
            ..Default::default()
        }
    }

    fn eval(final_action: Action, hits: Vec<TriggerHit>) -> Evaluation {
        Evaluation {
            bundle_id: "b".into(),
            final_action,
            hits,
            ..Default::default()
        }
    }

    fn hit(action: Action, allowlisted: bool) -> TriggerHit {
        TriggerHit {
            gate: "vulnerabilities".into(),
            trigger: "package".into(),
            action,
            allowlisted: allowlisted.then(AllowlistRef::default),
            ..Default::default()
        }
    }

    #[test]
    fn clean_passes() {
        let a = Analysis::default();
        assert!(decide(&a, Some(Severity::Low), false, true).pass);
    }

    #[test]
    fn fail_on_honours_threshold_suppression_and_only_fixed() {
        let a = Analysis {
            matches: vec![
                m("CVE-1", Severity::High, FixState::NotFixed, false),
                m("CVE-2", Severity::Critical, FixState::Fixed, true),
                m("CVE-3", Severity::Medium, FixState::Fixed, false),
            ],
            ..Default::default()
        };
        assert!(decide(&a, None, false, false).pass);
        let d = decide(&a, Some(Severity::High), false, false);
        assert!(!d.pass);
        assert!(d.reasons[0].contains("CVE-1"), "{d:?}");
        assert!(!d.reasons[0].contains("CVE-2"));
        assert!(decide(&a, Some(Severity::High), true, false).pass);
        assert!(!decide(&a, Some(Severity::Medium), true, false).pass);
        assert!(decide(&a, Some(Severity::Critical), false, false).pass);
    }

    #[test]
    fn policy_stop_and_warn() {
        let mut a = Analysis {
            evaluation: Some(eval(Action::Stop, vec![hit(Action::Stop, false)])),
            ..Default::default()
        };
        let d = decide(&a, None, false, false);
        assert!(!d.pass);
        assert!(d.reasons[0].contains("STOP"), "{d:?}");
        a.evaluation = Some(eval(Action::Warn, vec![hit(Action::Warn, false)]));
        let d = decide(&a, None, false, false);
        assert!(d.pass);
        assert_eq!(d.warnings.len(), 1);
        assert!(!decide(&a, None, false, true).pass);
        a.evaluation = Some(eval(Action::Go, vec![hit(Action::Stop, true)]));
        assert!(decide(&a, None, false, true).pass);
    }
}
