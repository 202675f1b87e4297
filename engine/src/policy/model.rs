//! The plain values the policy stage produces. Reports read these; add fields with
//! `#[serde(default)]` and keep `Default` derivable.

use serde::{Deserialize, Serialize};

/// A rule action, ordered `Go < Warn < Stop`.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default,
)]
#[serde(rename_all = "UPPERCASE")]
pub enum Action {
    /// Pass.
    #[default]
    Go,
    /// Pass with a warning.
    Warn,
    /// Fail.
    Stop,
}

impl Action {
    /// `GO`, `WARN` or `STOP`.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Go => "GO",
            Action::Warn => "WARN",
            Action::Stop => "STOP",
        }
    }
}

impl std::fmt::Display for Action {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The allowlist item that suppressed a fired trigger.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AllowlistRef {
    /// Allowlist id.
    pub allowlist_id: String,
    /// Item id within it.
    pub item_id: String,
    /// The allowlist's name.
    #[serde(default)]
    pub allowlist_name: String,
}

/// One fired trigger.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TriggerHit {
    /// Gate name (`vulnerabilities`).
    pub gate: String,
    /// Trigger name (`package`).
    pub trigger: String,
    /// Trigger id, as Anchore computes it (allowlists match on it).
    pub trigger_id: String,
    /// Human-readable check output.
    pub check_output: String,
    /// The rule's action.
    pub action: Action,
    /// The policy / rule-set id the rule belongs to.
    pub policy_id: String,
    /// The rule id.
    pub rule_id: String,
    /// Set when an allowlist item suppressed it (then it does not count toward the final action).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowlisted: Option<AllowlistRef>,
    /// The vulnerability id, for vulnerability triggers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vulnerability_id: Option<String>,
    /// The package the trigger is about, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub package: Option<String>,
}

/// One rule that was evaluated (fired or not), so reports can list passing checks too.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleResult {
    /// Policy / rule-set id.
    pub policy_id: String,
    /// Rule id.
    pub rule_id: String,
    /// Gate name.
    pub gate: String,
    /// Trigger name.
    pub trigger: String,
    /// Configured action.
    pub action: Action,
    /// Params as configured.
    #[serde(default)]
    pub params: Vec<(String, String)>,
    /// How many non-allowlisted hits it produced.
    pub fired: usize,
}

/// A problem met while evaluating (Anchore's `evaluation_problems` entry).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EvaluationProblem {
    /// `error` or `warn`.
    pub severity: String,
    /// The problem class (`TriggerEvaluationError`).
    pub problem_type: String,
    /// What went wrong, naming the policy, rule, gate/trigger and param.
    pub details: String,
    /// Policy / rule-set id of the rule concerned.
    #[serde(default)]
    pub policy_id: String,
    /// The rule id.
    #[serde(default)]
    pub rule_id: String,
}

/// The result of evaluating one image against one bundle.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evaluation {
    /// Bundle id.
    pub bundle_id: String,
    /// Bundle name.
    #[serde(default)]
    pub bundle_name: String,
    /// sha256 of the bundle as loaded.
    #[serde(default)]
    pub bundle_digest: String,
    /// The mapping that selected the policies, if any matched.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mapping_id: Option<String>,
    /// The policy / rule-set ids evaluated.
    #[serde(default)]
    pub policy_ids: Vec<String>,
    /// The image tag used for mapping resolution.
    #[serde(default)]
    pub tag: String,
    /// The image digest evaluated.
    #[serde(default)]
    pub image_digest: String,
    /// The final action.
    pub final_action: Action,
    /// Why the final action is what it is (`policy_evaluation`, `allowlisted`, `denylisted`,
    /// `evaluation_error`).
    #[serde(default)]
    pub final_action_reason: String,
    /// Every fired trigger, allowlisted ones included.
    #[serde(default)]
    pub hits: Vec<TriggerHit>,
    /// Every rule evaluated.
    #[serde(default)]
    pub rules: Vec<RuleResult>,
    /// Warnings (end-of-life gates, unused allowlist items, stale data).
    #[serde(default)]
    pub warnings: Vec<String>,
    /// Rules that could not be evaluated. Anchore aborts the whole evaluation on such an
    /// error; Tollgate evaluates every other rule and fails closed (final action STOP, reason
    /// `evaluation_error`) unless the image is denylisted anyway.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub problems: Vec<EvaluationProblem>,
    /// The policy result before the allowlisted/denylisted image lists were applied.
    #[serde(default)]
    pub policy_action: Action,
    /// The allowlisted-image rule that matched (id or name), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub matched_allowlisted_image: Option<String>,
    /// The denylisted-image rule that matched (id or name), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub matched_denylisted_image: Option<String>,
    /// RFC 3339 time of the evaluation.
    #[serde(default)]
    pub evaluated_at: String,
}
