//! [`evaluate`]: Bundle + [`EvalInput`] → [`Evaluation`]. Resolves the mapping, runs every rule
//! of the mapped rule sets (grouped by gate in first-appearance order, as Anchore orders its
//! result rows), computes trigger ids, applies allowlists, then the allowlisted / denylisted
//! image lists, and derives the final action (STOP > WARN > GO).
//!
//! Never fails: the bundle was validated at load, and missing data makes data-driven triggers
//! silent (only the explicit "not available" triggers report it), as in Anchore. A rule whose
//! regex param does not compile (Anchore accepts it at upload and errors when the trigger runs)
//! is not run: it becomes an [`EvaluationProblem`] and the final action is STOP with reason
//! `evaluation_error` (Anchore returns no decision at all; a gate must fail closed).

use chrono::{DateTime, Utc};

use super::allowlist::Allowlists;
use super::bundle::{Bundle, Rule};
use super::gates::{self, Dockerfile, DockerfileMode, GateInput, RegexHit, RuleParams};
use super::mapping::{ImageIdentity, ImageTag, selector_matches};
use super::{
    Action, AllowlistRef, Evaluation, EvaluationProblem, FileFacts, RuleResult, TriggerHit,
};
use crate::catalog::Inventory;
use crate::catalog::secrets::{CONTENT_PREFIX, rule_display};
use crate::matcher::Match;

/// Everything an evaluation reads besides the bundle.
#[derive(Debug, Clone)]
pub struct EvalInput<'a> {
    /// The analysed image.
    pub inventory: &'a Inventory,
    /// Its vulnerability matches (suppressed ones are ignored).
    pub matches: &'a [Match],
    /// The actual Dockerfile text (`--dockerfile`); else it is rebuilt from history.
    pub dockerfile: Option<&'a str>,
    /// The tag used for mapping resolution (`registry/repo:tag`); else the image's own tag.
    pub tag: Option<&'a str>,
    /// Build time of the vulnerability DB; `None` = no DB (stale / unavailable triggers fire).
    pub db_built: Option<DateTime<Utc>>,
    /// Whether the DB has data for the image's distro (`None` = unknown: judged by `db_built`).
    pub distro_data: Option<bool>,
    /// The previous analysis of the same tag (for `tag_drift`).
    pub previous: Option<&'a Inventory>,
    /// The evaluation time (allowlist expiry, ages).
    pub now: DateTime<Utc>,
    /// Per-file digests and dpkg md5sums, when the scan computed them ([`super::ContentNeeds`]);
    /// `None` (e.g. re-evaluating a saved analysis) makes checksum checks unknowable.
    pub files: Option<&'a FileFacts>,
}

impl<'a> EvalInput<'a> {
    /// An input with no Dockerfile, tag, DB facts or history.
    pub fn new(inventory: &'a Inventory, matches: &'a [Match], now: DateTime<Utc>) -> Self {
        EvalInput {
            inventory,
            matches,
            dockerfile: None,
            tag: None,
            db_built: None,
            distro_data: None,
            previous: None,
            now,
            files: None,
        }
    }
}

fn md5_id(gate: &str, trigger: &str, message: &str) -> String {
    format!("{:x}", md5::compute(format!("{gate}{trigger}{message}")))
}

/// The tag evaluated: the given one, else the image's first tag or reference.
fn effective_tag(input: &EvalInput<'_>) -> Option<String> {
    if let Some(t) = input.tag {
        return Some(t.to_string());
    }
    let src = &input.inventory.source;
    src.tags.first().cloned().or_else(|| src.reference.clone())
}

fn gate_input<'a>(bundle: &Bundle, input: &EvalInput<'a>) -> GateInput<'a> {
    let dockerfile = match input.dockerfile {
        Some(text) => Dockerfile::parse(text, DockerfileMode::Actual),
        None => Dockerfile::from_history(&input.inventory.config),
    };
    let extra = bundle.content_rules();
    let mut secrets = Vec::new();
    let mut content = Vec::new();
    for s in &input.inventory.secrets {
        match s.rule.strip_prefix(CONTENT_PREFIX) {
            Some(name) => content.push(RegexHit {
                path: s.path.clone(),
                name: name.to_string(),
                name_regex: rule_display(name, &extra),
            }),
            None => secrets.push(RegexHit {
                path: s.path.clone(),
                name: s.rule.clone(),
                name_regex: rule_display(&s.rule, &extra),
            }),
        }
    }
    GateInput {
        inventory: input.inventory,
        matches: input
            .matches
            .iter()
            .filter(|m| m.suppressed.is_none())
            .collect(),
        dockerfile,
        secrets,
        content,
        db_built: input.db_built,
        distro_data: input.distro_data,
        previous: input.previous,
        now: input.now,
        files: input.files,
    }
}

/// Evaluates the image against the bundle.
pub fn evaluate(bundle: &Bundle, input: &EvalInput<'_>) -> Evaluation {
    let tag = effective_tag(input).map(|t| ImageTag::parse(&t));
    let who = ImageIdentity {
        tag: tag.clone(),
        digest: input
            .inventory
            .source
            .manifest_digest
            .clone()
            .unwrap_or_default(),
        id: input.inventory.config.digest.clone(),
    };
    let mut eval = Evaluation {
        bundle_id: bundle.id.clone(),
        bundle_name: bundle.name.clone(),
        bundle_digest: bundle.digest.clone(),
        tag: tag.as_ref().map(ImageTag::full).unwrap_or_default(),
        image_digest: if who.digest.is_empty() {
            who.id.clone()
        } else {
            who.digest.clone()
        },
        evaluated_at: input.now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        warnings: bundle.warnings.clone(),
        ..Default::default()
    };
    let mapping = bundle
        .mappings
        .iter()
        .find(|m| selector_matches(&m.registry, &m.repository, &m.image, &who));
    if let Some(m) = mapping {
        eval.mapping_id = Some(if m.id.is_empty() {
            m.name.clone()
        } else {
            m.id.clone()
        });
        eval.policy_ids = m.rule_set_ids.clone();
        let lists: Vec<_> = m
            .allowlist_ids
            .iter()
            .filter_map(|id| bundle.allowlist(id))
            .collect();
        let allow = Allowlists::new(&lists, input.now);
        let gi = gate_input(bundle, input);
        for set_id in &m.rule_set_ids {
            let Some(set) = bundle.rule_set(set_id) else {
                continue;
            };
            // Group by gate in first-appearance order.
            let mut order: Vec<&str> = Vec::new();
            for r in &set.rules {
                if !order.contains(&r.gate.as_str()) {
                    order.push(&r.gate);
                }
            }
            for gate_name in order {
                for rule in set.rules.iter().filter(|r| r.gate == gate_name) {
                    run_rule(&mut eval, &gi, &allow, &set.id, rule);
                }
            }
        }
        if allow.expired > 0 {
            eval.warnings.push(format!(
                "{} allowlist item(s) have expired and were not applied",
                allow.expired
            ));
        }
        let unused = allow.unused();
        if !unused.is_empty() {
            let sample: Vec<String> = unused
                .iter()
                .take(5)
                .map(|(l, i)| {
                    format!(
                        "{}/{}",
                        l.id,
                        if i.id.is_empty() {
                            &i.trigger_id
                        } else {
                            &i.id
                        }
                    )
                })
                .collect();
            eval.warnings.push(format!(
                "{} allowlist item(s) matched no finding (e.g. {})",
                unused.len(),
                sample.join(", ")
            ));
        }
    } else {
        eval.warnings.push(format!(
            "no mapping matched `{}`; no rule set was evaluated",
            if eval.tag.trim().is_empty() {
                "(untagged image)"
            } else {
                &eval.tag
            }
        ));
    }
    eval.policy_action = eval
        .hits
        .iter()
        .filter(|h| h.allowlisted.is_none())
        .map(|h| h.action)
        .max()
        .unwrap_or(Action::Go);
    let denied = bundle
        .denylisted_images
        .iter()
        .find(|r| selector_matches(&r.registry, &r.repository, &r.image, &who));
    let allowed = bundle
        .allowlisted_images
        .iter()
        .find(|r| selector_matches(&r.registry, &r.repository, &r.image, &who));
    let label = |id: &str, name: &str| {
        if id.is_empty() {
            name.to_string()
        } else {
            id.to_string()
        }
    };
    eval.matched_denylisted_image = denied.map(|r| label(&r.id, &r.name));
    eval.matched_allowlisted_image = allowed.map(|r| label(&r.id, &r.name));
    (eval.final_action, eval.final_action_reason) = if denied.is_some() {
        (Action::Stop, "denylisted".to_string())
    } else if eval.problems.iter().any(|p| p.severity == "error") {
        (Action::Stop, "evaluation_error".to_string())
    } else if allowed.is_some() {
        (Action::Go, "allowlisted".to_string())
    } else {
        (eval.policy_action, "policy_evaluation".to_string())
    };
    eval
}

fn run_rule(
    eval: &mut Evaluation,
    gi: &GateInput<'_>,
    allow: &Allowlists<'_>,
    set_id: &str,
    rule: &Rule,
) {
    let mut result = RuleResult {
        policy_id: set_id.to_string(),
        rule_id: rule.id.clone(),
        gate: rule.gate.clone(),
        trigger: rule.trigger.clone(),
        action: rule.action,
        params: rule.params.clone(),
        fired: 0,
    };
    if rule.eol {
        eval.warnings
            .push(gates::eol::eol_message(&rule.gate, &rule.trigger));
        eval.rules.push(result);
        return;
    }
    let Some(spec) = gates::gate(&rule.gate).and_then(|g| g.trigger(&rule.trigger)) else {
        eval.rules.push(result);
        return;
    };
    if let Some(w) = missing_digests_warning(gi, rule, set_id) {
        eval.warnings.push(w);
    }
    if let Some((param, value, why)) = invalid_regex(rule, spec) {
        let details = format!(
            "rule `{}` ({}/{}) of `{set_id}`: param `{param}` value `{value}` is not a valid regular expression ({why}); the trigger was not evaluated",
            rule.id, rule.gate, rule.trigger
        );
        eval.problems.push(EvaluationProblem {
            severity: "error".into(),
            problem_type: "TriggerEvaluationError".into(),
            details,
            policy_id: set_id.to_string(),
            rule_id: rule.id.clone(),
        });
        eval.rules.push(result);
        return;
    }
    let params = RuleParams {
        rule_id: &rule.id,
        spec,
        values: rule
            .params
            .iter()
            .filter_map(|(n, v)| spec.param(n).map(|p| (p.name, v.as_str())))
            .collect(),
    };
    let mut fired = Vec::new();
    (spec.eval)(gi, &params, &mut fired);
    for f in fired {
        let trigger_id = f
            .trigger_id
            .unwrap_or_else(|| md5_id(&rule.gate, spec.name, &f.message));
        let allowlisted = allow
            .find(&rule.gate, &trigger_id)
            .map(|(l, i)| AllowlistRef {
                allowlist_id: l.id.clone(),
                item_id: i.id.clone(),
                allowlist_name: l.name.clone(),
            });
        if allowlisted.is_none() {
            result.fired += 1;
        }
        eval.hits.push(TriggerHit {
            gate: rule.gate.clone(),
            trigger: rule.trigger.clone(),
            trigger_id,
            check_output: f.message,
            action: rule.action,
            policy_id: set_id.to_string(),
            rule_id: rule.id.clone(),
            allowlisted,
            vulnerability_id: f.vulnerability_id,
            package: f.package,
        });
    }
    eval.rules.push(result);
}

/// A warning when a rule needs per-file digests the scan did not compute (a re-evaluated saved
/// analysis): its checksum checks cannot hold, so it fires less than it would on the image.
fn missing_digests_warning(gi: &GateInput<'_>, rule: &Rule, set_id: &str) -> Option<String> {
    let (needed, have) = match (rule.gate.as_str(), rule.trigger.as_str()) {
        ("files", "attribute_match") if rule.param("checksum").is_some() => {
            ("sha256", gi.files.is_some_and(|f| f.sha256_computed))
        }
        ("packages", "verify") if rule.param("check") != Some("missing") => {
            ("md5", gi.files.is_some_and(|f| f.md5_computed))
        }
        _ => return None,
    };
    (!have).then(|| {
        format!(
            "rule `{}` ({}/{}) of `{set_id}` needs file {needed} digests, which are computed only while scanning an image; its checksum checks were not evaluated",
            rule.id, rule.gate, rule.trigger
        )
    })
}

/// The first param of `rule` that the trigger uses as a regex and that does not compile:
/// `Regex`-kind params, and `value` of the `like` / `not_like` checks.
fn invalid_regex<'r>(
    rule: &'r Rule,
    spec: &gates::TriggerSpec,
) -> Option<(&'r str, &'r str, String)> {
    let check = rule.param("check").unwrap_or("");
    rule.params.iter().find_map(|(name, value)| {
        let is_regex = spec
            .param(name)
            .is_some_and(|p| p.kind == gates::ParamKind::Regex)
            || (name == "value" && matches!(check, "like" | "not_like"));
        if !is_regex {
            return None;
        }
        super::bundle::regex_error(value).map(|why| (name.as_str(), value.as_str(), why))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn md5_trigger_id_matches_anchore() {
        assert_eq!(
            md5_id(
                "files",
                "suid_or_guid_set",
                "SUID or SGID found set on file /usr/bin/chage. Mode: 0o104755"
            ),
            "639f6f1177735759703e928c14714a59"
        );
    }
}
