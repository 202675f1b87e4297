//! Policy bundles: the normalised model every stage and command uses ([`Bundle`]), loading
//! from JSON or YAML in Anchore's v1 (`"1_0"`) or v2 (`"2"`) form with every validation
//! problem located and reported at once, and writing either form back (`policy convert`).
//!
//! Does not evaluate anything (that is `policy::evaluate`). Invariants of a loaded `Bundle`:
//! every rule's gate and trigger exist (or the gate is end-of-life, `eol = true`), params are
//! valid for their trigger (a trigger regex that does not compile loads with a warning and is
//! reported when evaluated, as Anchore does), every mapping reference resolves to exactly one
//! rule set / allowlist, and ids of rule sets and allowlists are unique.

mod load;
pub(crate) mod source;

pub(crate) use load::regex_error;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::catalog::secrets::{ContentRule, ContentRuleKind};
use crate::policy::error::PolicyError;
use crate::policy::gates;

/// The bundle format version as written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum BundleFormat {
    /// Anchore engine `"1_0"` (policies, whitelists, …).
    #[default]
    V1,
    /// Anchore Enterprise `"2"` (rule_sets, allowlists, …).
    V2,
}

/// A loaded, validated bundle.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Bundle {
    /// Bundle id.
    pub id: String,
    /// Name.
    #[serde(default)]
    pub name: String,
    /// Comment / description.
    #[serde(default)]
    pub description: String,
    /// The form it was written in.
    #[serde(default)]
    pub format: BundleFormat,
    /// Policies (v1) / rule sets (v2).
    #[serde(default)]
    pub rule_sets: Vec<RuleSet>,
    /// Whitelists (v1) / allowlists (v2).
    #[serde(default)]
    pub allowlists: Vec<Allowlist>,
    /// Mappings, in order (first match wins).
    #[serde(default)]
    pub mappings: Vec<Mapping>,
    /// Images that pass regardless of findings (unless denylisted).
    #[serde(default)]
    pub allowlisted_images: Vec<ImageRule>,
    /// Images that fail regardless of findings.
    #[serde(default)]
    pub denylisted_images: Vec<ImageRule>,
    /// `sha256:` of the bundle text as loaded.
    #[serde(default)]
    pub digest: String,
    /// Load-time warnings (end-of-life gates, regex names that cannot add a rule, …).
    #[serde(default)]
    pub warnings: Vec<String>,
}

/// A policy (v1) / rule set (v2).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleSet {
    /// Id, referenced by mappings.
    pub id: String,
    /// Name.
    #[serde(default)]
    pub name: String,
    /// Comment / description.
    #[serde(default)]
    pub description: String,
    /// Rules in order.
    #[serde(default)]
    pub rules: Vec<Rule>,
}

/// One rule.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rule {
    /// Rule id (empty when a v1 rule has none).
    #[serde(default)]
    pub id: String,
    /// Canonical gate name (lower-case; for an EOL gate, as written lower-cased).
    pub gate: String,
    /// Canonical trigger name.
    pub trigger: String,
    /// Action.
    pub action: crate::policy::Action,
    /// Params: canonical lower-case name → value, in bundle order.
    #[serde(default)]
    pub params: Vec<(String, String)>,
    /// v2 free-text recommendation.
    #[serde(default)]
    pub recommendation: String,
    /// Description.
    #[serde(default)]
    pub description: String,
    /// The gate is end-of-life: accepted, never evaluated.
    #[serde(default)]
    pub eol: bool,
}

impl Rule {
    /// The param value by canonical name.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// A whitelist (v1) / allowlist (v2).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Allowlist {
    /// Id, referenced by mappings.
    pub id: String,
    /// Name (shown in results).
    #[serde(default)]
    pub name: String,
    /// Comment / description.
    #[serde(default)]
    pub description: String,
    /// Items, in order (first match wins).
    #[serde(default)]
    pub items: Vec<AllowlistItem>,
}

/// One allowlist item.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AllowlistItem {
    /// Item id.
    pub id: String,
    /// Gate (compared case-insensitively).
    pub gate: String,
    /// Trigger id: exact, `*` glob, or `regexp:` pattern.
    pub trigger_id: String,
    /// Expiry (UTC); never expires when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_on: Option<DateTime<Utc>>,
    /// Comment / description.
    #[serde(default)]
    pub description: String,
}

/// How an image rule selects the image.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageSelector {
    /// `tag`, `digest` or `id`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Glob for `tag`; exact value for `digest` and `id`.
    pub value: String,
}

/// A policy mapping.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mapping {
    /// Id.
    #[serde(default)]
    pub id: String,
    /// Name.
    #[serde(default)]
    pub name: String,
    /// Registry glob.
    pub registry: String,
    /// Repository glob.
    pub repository: String,
    /// Image selector.
    pub image: ImageSelector,
    /// Rule sets evaluated, in order.
    pub rule_set_ids: Vec<String>,
    /// Allowlists applied, in order.
    pub allowlist_ids: Vec<String>,
}

/// An allowlisted / denylisted image rule.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageRule {
    /// Id.
    #[serde(default)]
    pub id: String,
    /// Name.
    #[serde(default)]
    pub name: String,
    /// Registry glob.
    pub registry: String,
    /// Repository glob.
    pub repository: String,
    /// Image selector.
    pub image: ImageSelector,
}

/// The embedded default bundle (see README "Policy bundles").
const DEFAULT_BUNDLE: &str = include_str!("../default_bundle.json");

impl Bundle {
    /// Loads, validates and normalises a bundle file (JSON or YAML, v1 or v2).
    #[allow(clippy::result_large_err)] // PolicyError carries the bundle text for located diagnostics
    pub fn load(path: &std::path::Path) -> Result<Bundle, PolicyError> {
        let text = std::fs::read_to_string(path).map_err(|source| PolicyError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let yaml = path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| e.eq_ignore_ascii_case("yaml") || e.eq_ignore_ascii_case("yml"));
        Bundle::from_text(&path.display().to_string(), &text, yaml)
    }

    /// Loads a bundle from text; `yaml` forces YAML (otherwise text not starting with `{` is
    /// read as YAML too).
    #[allow(clippy::result_large_err)] // PolicyError carries the bundle text for located diagnostics
    pub fn from_text(name: &str, text: &str, yaml: bool) -> Result<Bundle, PolicyError> {
        load::load(name, text, yaml)
    }

    /// The embedded default bundle.
    pub fn default_bundle() -> Bundle {
        // The embedded bundle is tested to load; an empty bundle (policy result GO) would only
        // ever be returned by a broken build.
        load::load("tollgate-default-bundle.json", DEFAULT_BUNDLE, false).unwrap_or_default()
    }

    /// The text of the embedded default bundle.
    pub fn default_bundle_text() -> &'static str {
        DEFAULT_BUNDLE
    }

    /// The rule set with this id.
    pub fn rule_set(&self, id: &str) -> Option<&RuleSet> {
        self.rule_sets.iter().find(|r| r.id == id)
    }

    /// The allowlist with this id.
    pub fn allowlist(&self, id: &str) -> Option<&Allowlist> {
        self.allowlists.iter().find(|a| a.id == id)
    }

    /// Extra regexes the content scanner must run for this bundle: `NAME=REGEX` values of
    /// `secret_scans/content_regex_checks content_regex_name` (secret rules) and of
    /// `files/content_regex_match regex_name` (content rules; a bare value that is a valid
    /// regex becomes a rule named after itself).
    pub fn content_rules(&self) -> Vec<ContentRule> {
        let mut out: Vec<ContentRule> = Vec::new();
        for rule in self.rule_sets.iter().flat_map(|r| &r.rules) {
            let (param, kind) = match (rule.gate.as_str(), rule.trigger.as_str()) {
                ("secret_scans", "content_regex_checks") => {
                    ("content_regex_name", ContentRuleKind::Secret)
                }
                ("files", "content_regex_match") => ("regex_name", ContentRuleKind::Content),
                _ => continue,
            };
            let Some(value) = rule.param(param).map(str::trim).filter(|v| !v.is_empty()) else {
                continue;
            };
            let candidate = match value.split_once('=') {
                Some((name, re)) if !name.is_empty() && !name.contains(['(', '[', '*']) => {
                    Some((name.to_string(), re.to_string()))
                }
                _ if kind == ContentRuleKind::Content => {
                    Some((value.to_string(), value.to_string()))
                }
                _ => None,
            };
            if let Some((name, regex)) = candidate
                && regex::Regex::new(&regex).is_ok()
                && !out.iter().any(|r| r.name == name)
            {
                out.push(ContentRule { name, regex, kind });
            }
        }
        out
    }

    /// Paths `retrieved_files` rules read, so the pipeline keeps their contents.
    pub fn retrieved_paths(&self) -> Vec<String> {
        let mut out: Vec<String> = self
            .rule_sets
            .iter()
            .flat_map(|r| &r.rules)
            .filter(|r| r.gate == "retrieved_files")
            .filter_map(|r| r.param("path").map(str::to_string))
            .collect();
        out.sort();
        out.dedup();
        out
    }

    /// Writes the bundle in v1 (`"1_0"`) form.
    pub fn to_v1(&self) -> serde_json::Value {
        use serde_json::json;
        let policies: Vec<_> = self.rule_sets.iter().map(|rs| {
            json!({
                "id": rs.id, "name": rs.name, "version": "1_0", "comment": rs.description,
                "rules": rs.rules.iter().map(|r| rule_json(r, BundleFormat::V1)).collect::<Vec<_>>(),
            })
        }).collect();
        let whitelists: Vec<_> = self.allowlists.iter().map(|a| {
            json!({
                "id": a.id, "name": a.name, "version": "1_0", "comment": a.description,
                "items": a.items.iter().map(|i| item_json(i, BundleFormat::V1)).collect::<Vec<_>>(),
            })
        }).collect();
        let mappings: Vec<_> = self.mappings.iter().map(|m| {
            json!({
                "id": m.id, "name": m.name, "registry": m.registry, "repository": m.repository,
                "image": m.image, "policy_ids": m.rule_set_ids, "whitelist_ids": m.allowlist_ids,
            })
        }).collect();
        json!({
            "id": self.id, "name": self.name, "version": "1_0", "comment": self.description,
            "policies": policies, "whitelists": whitelists, "mappings": mappings,
            "whitelisted_images": self.allowlisted_images.iter().map(image_rule_json).collect::<Vec<_>>(),
            "blacklisted_images": self.denylisted_images.iter().map(image_rule_json).collect::<Vec<_>>(),
        })
    }

    /// Writes the bundle in v2 (`"2"`) form.
    pub fn to_v2(&self) -> serde_json::Value {
        use serde_json::json;
        let rule_sets: Vec<_> = self.rule_sets.iter().map(|rs| {
            json!({
                "id": rs.id, "name": non_empty(&rs.name, &rs.id), "version": "2", "description": rs.description,
                "artifact_type": "image",
                "rules": rs.rules.iter().enumerate().map(|(i, r)| {
                    let mut v = rule_json(r, BundleFormat::V2);
                    if r.id.is_empty() {
                        v["id"] = json!(format!("{}-rule-{}", rs.id, i + 1));
                    }
                    v
                }).collect::<Vec<_>>(),
            })
        }).collect();
        let allowlists: Vec<_> = self.allowlists.iter().map(|a| {
            json!({
                "id": a.id, "name": non_empty(&a.name, &a.id), "version": "2", "description": a.description,
                "items": a.items.iter().map(|i| item_json(i, BundleFormat::V2)).collect::<Vec<_>>(),
            })
        }).collect();
        let mappings: Vec<_> = self.mappings.iter().enumerate().map(|(i, m)| {
            json!({
                "id": non_empty(&m.id, &format!("mapping-{}", i + 1)), "name": non_empty(&m.name, &format!("mapping-{}", i + 1)),
                "registry": m.registry, "repository": m.repository, "image": m.image,
                "rule_set_ids": m.rule_set_ids, "allowlist_ids": m.allowlist_ids,
            })
        }).collect();
        json!({
            "id": self.id, "name": non_empty(&self.name, &self.id), "version": "2", "description": self.description,
            "rule_sets": rule_sets, "allowlists": allowlists, "mappings": mappings,
            "allowlisted_images": self.allowlisted_images.iter().map(image_rule_json).collect::<Vec<_>>(),
            "denylisted_images": self.denylisted_images.iter().map(image_rule_json).collect::<Vec<_>>(),
        })
    }
}

fn non_empty(v: &str, fallback: &str) -> String {
    if v.is_empty() {
        fallback.to_string()
    } else {
        v.to_string()
    }
}

/// The trigger name as the given format spells it.
fn trigger_spelling(gate: &str, trigger: &str, format: BundleFormat) -> String {
    if format == BundleFormat::V1 {
        return trigger.to_string();
    }
    let renamed = trigger
        .replace("blacklist", "denylist")
        .replace("whitelist", "allowlist");
    let known = gates::gate(gate)
        .and_then(|g| g.trigger(trigger))
        .is_some_and(|t| t.aliases.contains(&renamed.as_str()));
    if known { renamed } else { trigger.to_string() }
}

fn rule_json(r: &Rule, format: BundleFormat) -> serde_json::Value {
    let params: Vec<_> = r
        .params
        .iter()
        .map(|(n, v)| {
            let v = if n == "type" && r.gate == "dockerfile" {
                match (format, v.as_str()) {
                    (BundleFormat::V2, "whitelist") => "allowlist".to_string(),
                    (BundleFormat::V2, "blacklist") => "denylist".to_string(),
                    (BundleFormat::V1, "allowlist") => "whitelist".to_string(),
                    (BundleFormat::V1, "denylist") => "blacklist".to_string(),
                    _ => v.clone(),
                }
            } else {
                v.clone()
            };
            serde_json::json!({"name": n, "value": v})
        })
        .collect();
    let mut v = serde_json::json!({
        "id": r.id,
        "gate": r.gate,
        "trigger": trigger_spelling(&r.gate, &r.trigger, format),
        "action": r.action.as_str(),
        "params": params,
    });
    if format == BundleFormat::V2 {
        v["description"] = serde_json::json!(r.description);
        v["recommendation"] = serde_json::json!(r.recommendation);
    }
    v
}

fn item_json(i: &AllowlistItem, format: BundleFormat) -> serde_json::Value {
    let mut v = serde_json::json!({"id": i.id, "gate": i.gate, "trigger_id": i.trigger_id});
    if let Some(e) = i.expires_on {
        v["expires_on"] = serde_json::json!(e.format("%Y-%m-%dT%H:%M:%SZ").to_string());
    }
    let key = if format == BundleFormat::V1 {
        "comment"
    } else {
        "description"
    };
    if !i.description.is_empty() {
        v[key] = serde_json::json!(i.description);
    }
    v
}

fn image_rule_json(r: &ImageRule) -> serde_json::Value {
    serde_json::json!({
        "id": r.id, "name": non_empty(&r.name, &r.id), "registry": r.registry,
        "repository": r.repository, "image": r.image,
    })
}
