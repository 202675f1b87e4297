//! The gate table: every active Anchore gate, its triggers, their params (kind, required,
//! default) and the function that evaluates each trigger. Validation, `policy describe` and the
//! evaluator all read these same tables.
//!
//! Does not resolve mappings or allowlists (`policy::evaluate`), does not parse bundles
//! (`policy::bundle`). Triggers only read [`GateInput`]: the inventory, the matches and
//! derived facts; never images, never the network.
//!
//! Adding a gate = one file here + one row in [`GATES`]. Trigger ids are md5(gate + trigger +
//! message) unless a trigger sets its own (see `anchore-policy.md` §4).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use crate::catalog::Inventory;
use crate::matcher::Match;

mod always;
mod distro;
mod dockerfile;
pub(crate) mod eol;
mod files;
mod licenses;
mod malware;
mod metadata;
mod npms;
mod packages;
mod passwd_file;
mod retrieved_files;
mod ruby_gems;
mod secret_scans;
mod tag_drift;
mod vulnerabilities;

pub use dockerfile::{Dockerfile, DockerfileMode};
pub use eol::{EOL_GATES, EolGate};

/// How a param value is validated (`anchore-policy.md` §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamKind {
    /// Any string.
    Str,
    /// Exactly one of the listed strings (case-sensitive).
    Enum(&'static [&'static str]),
    /// One of the listed strings, compared case-insensitively (normalised to the listed form).
    EnumNoCase(&'static [&'static str]),
    /// Comma-separated strings, no empty items.
    CommaList,
    /// Comma-separated non-negative integers.
    NumberList,
    /// A non-negative integer string.
    Integer,
    /// A float string.
    Float,
    /// `true` / `false`, any case.
    Boolean,
    /// A regular expression (checked at load time, stricter than Anchore).
    Regex,
    /// `metadata/attribute` `value`: validator chosen by the `attribute` param.
    MetadataValue,
}

impl ParamKind {
    /// A human description of what the kind accepts.
    pub fn describe(self) -> String {
        match self {
            ParamKind::Str => "string".into(),
            ParamKind::Enum(v) | ParamKind::EnumNoCase(v) => format!("one of: {}", v.join(", ")),
            ParamKind::CommaList => "comma-separated list of strings".into(),
            ParamKind::NumberList => "comma-separated list of integers".into(),
            ParamKind::Integer => "integer string".into(),
            ParamKind::Float => "float string".into(),
            ParamKind::Boolean => "boolean string (true/false)".into(),
            ParamKind::Regex => "regular expression".into(),
            ParamKind::MetadataValue => {
                "string; for attribute=size `<n>[kb|mb|gb|tb]`, for layer_count an integer".into()
            }
        }
    }
}

/// One param of a trigger.
#[derive(Debug, Clone, Copy)]
pub struct ParamSpec {
    /// Canonical (lower-case) name.
    pub name: &'static str,
    /// Other accepted names.
    pub aliases: &'static [&'static str],
    /// Validator.
    pub kind: ParamKind,
    /// Must be present.
    pub required: bool,
    /// The value used when absent.
    pub default: Option<&'static str>,
    /// What it does.
    pub description: &'static str,
}

impl ParamSpec {
    /// A param spec (`const` helper for the tables).
    pub const fn new(name: &'static str, kind: ParamKind, required: bool) -> Self {
        ParamSpec {
            name,
            aliases: &[],
            kind,
            required,
            default: None,
            description: "",
        }
    }
    /// With a default.
    pub const fn default(mut self, v: &'static str) -> Self {
        self.default = Some(v);
        self
    }
    /// With a description.
    pub const fn doc(mut self, d: &'static str) -> Self {
        self.description = d;
        self
    }
    /// With aliases.
    pub const fn aliases(mut self, a: &'static [&'static str]) -> Self {
        self.aliases = a;
        self
    }
}

/// The function evaluating one trigger for one rule.
pub type EvalFn = fn(&GateInput<'_>, &RuleParams<'_>, &mut Vec<Fired>);

/// One trigger of a gate.
#[derive(Debug, Clone, Copy)]
pub struct TriggerSpec {
    /// Canonical name (the v1 / engine spelling, used in md5 trigger ids).
    pub name: &'static str,
    /// Other accepted names (v2 renames such as `denylist`).
    pub aliases: &'static [&'static str],
    /// What it checks.
    pub description: &'static str,
    /// Its params.
    pub params: &'static [ParamSpec],
    /// Its evaluator.
    pub eval: EvalFn,
}

impl TriggerSpec {
    /// The param spec named `name` (canonical or alias), lower-cased comparison.
    pub fn param(&self, name: &str) -> Option<&'static ParamSpec> {
        let lower = name.to_ascii_lowercase();
        self.params
            .iter()
            .find(|p| p.name == lower || p.aliases.contains(&lower.as_str()))
    }
}

/// A gate: a named group of triggers reading one kind of data.
pub trait Gate: Sync {
    /// The gate name (lower-case, as in bundles).
    fn name(&self) -> &'static str;
    /// Other accepted names.
    fn aliases(&self) -> &'static [&'static str] {
        &[]
    }
    /// What it checks.
    fn description(&self) -> &'static str;
    /// Its triggers.
    fn triggers(&self) -> &'static [TriggerSpec];
}

impl dyn Gate {
    /// The trigger named `name` (case-insensitive, aliases included).
    pub fn trigger(&self, name: &str) -> Option<&'static TriggerSpec> {
        let lower = name.to_ascii_lowercase();
        self.triggers()
            .iter()
            .find(|t| t.name == lower || t.aliases.contains(&lower.as_str()))
    }
}

/// Every active gate, in `policy describe` order.
pub static GATES: &[&dyn Gate] = &[
    &always::Always,
    &dockerfile::DockerfileGate,
    &files::Files,
    &licenses::Licenses,
    &malware::Malware,
    &metadata::Metadata,
    &npms::Npms,
    &packages::Packages,
    &passwd_file::PasswdFile,
    &retrieved_files::RetrievedFiles,
    &ruby_gems::RubyGems,
    &secret_scans::SecretScans,
    &vulnerabilities::Vulnerabilities,
    &distro::DistroGate,
    &tag_drift::TagDrift,
];

/// The gate named `name` (case-insensitive, aliases included).
pub fn gate(name: &str) -> Option<&'static dyn Gate> {
    let lower = name.to_ascii_lowercase();
    GATES
        .iter()
        .copied()
        .find(|g| g.name() == lower || g.aliases().contains(&lower.as_str()))
}

/// One fired instance of a trigger, before the evaluator adds rule and allowlist facts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Fired {
    /// The trigger id; `None` means md5(gate + trigger + message).
    pub trigger_id: Option<String>,
    /// The check output.
    pub message: String,
    /// Vulnerability id, for vulnerability triggers.
    pub vulnerability_id: Option<String>,
    /// The package concerned.
    pub package: Option<String>,
}

impl Fired {
    /// A finding whose id is the md5 of its message.
    pub fn msg(message: impl Into<String>) -> Self {
        Fired {
            message: message.into(),
            ..Default::default()
        }
    }
    /// A finding with an explicit trigger id.
    pub fn with_id(id: impl Into<String>, message: impl Into<String>) -> Self {
        Fired {
            trigger_id: Some(id.into()),
            message: message.into(),
            ..Default::default()
        }
    }
}

/// A secret or content-regex hit as the gates see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegexHit {
    /// File path.
    pub path: String,
    /// Rule name.
    pub name: String,
    /// `NAME=REGEX` as Anchore prints it.
    pub name_regex: String,
}

/// Everything a trigger may read, prepared once per evaluation.
#[derive(Debug)]
pub struct GateInput<'a> {
    /// The analysed image.
    pub inventory: &'a Inventory,
    /// Its vulnerability matches (suppressed ones already removed).
    pub matches: Vec<&'a Match>,
    /// The Dockerfile, actual or rebuilt from history.
    pub dockerfile: Dockerfile,
    /// Secret hits (default + bundle secret rules).
    pub secrets: Vec<RegexHit>,
    /// Content-regex hits (bundle `files/content_regex_match` rules).
    pub content: Vec<RegexHit>,
    /// The vulnerability DB build time, when a DB was used.
    pub db_built: Option<DateTime<Utc>>,
    /// Whether the DB holds data for the image's distro (`None` = unknown).
    pub distro_data: Option<bool>,
    /// The previous analysis of the same tag.
    pub previous: Option<&'a Inventory>,
    /// Evaluation time.
    pub now: DateTime<Utc>,
    /// Per-file digests and package md5sums, when computed.
    pub files: Option<&'a crate::policy::FileFacts>,
}

/// A rule's params, validated: lower-cased canonical names → values, defaults applied.
#[derive(Debug, Clone)]
pub struct RuleParams<'a> {
    /// The rule id (retrieved_files uses it in trigger ids).
    pub rule_id: &'a str,
    /// The trigger spec.
    pub spec: &'static TriggerSpec,
    /// Values by canonical name.
    pub values: BTreeMap<&'static str, &'a str>,
}

impl<'a> RuleParams<'a> {
    /// The value as given, or the spec default.
    pub fn get(&self, name: &str) -> Option<&'a str> {
        if let Some(v) = self.values.get(name) {
            return Some(v);
        }
        self.spec.param(name).and_then(|p| p.default)
    }
    /// The value, trimmed, treating empty as absent.
    pub fn get_nonempty(&self, name: &str) -> Option<&'a str> {
        self.get(name).map(str::trim).filter(|v| !v.is_empty())
    }
    /// A comma list, items trimmed.
    pub fn list(&self, name: &str) -> Vec<String> {
        self.get(name).map(split_list).unwrap_or_default()
    }
    /// A boolean param (validated at load).
    pub fn boolean(&self, name: &str) -> Option<bool> {
        self.get(name)
            .map(|v| v.trim().eq_ignore_ascii_case("true"))
    }
    /// An integer param.
    pub fn integer(&self, name: &str) -> Option<i64> {
        self.get(name).and_then(|v| v.trim().parse().ok())
    }
    /// A float param (empty / `-` read as absent).
    pub fn float(&self, name: &str) -> Option<f64> {
        self.get(name).and_then(|v| v.trim().parse().ok())
    }
}

/// Whether a `metadata` `size` value parses (`10`, `10kb`, lower-case units).
pub(crate) fn parse_size_param(v: &str) -> bool {
    metadata::parse_size(v).is_some()
}

/// Splits a comma list and trims each item.
pub fn split_list(v: &str) -> Vec<String> {
    v.split(',')
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

/// Python's `re.match`: a match anchored at the start only. Compiled per call site; regexes
/// were validated when the bundle loaded, so a failure here means no match.
pub(crate) fn re_match_start(pattern: &str) -> Option<regex::Regex> {
    regex::Regex::new(&format!("^(?:{pattern})")).ok()
}

/// Python's `oct()` of a mode (`0o104755`).
pub(crate) fn py_oct(mode: u32) -> String {
    format!("0o{mode:o}")
}

/// Python's `str(float)`: `7.0`, `7.5`.
pub(crate) fn py_float(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e16 {
        format!("{v:.1}")
    } else {
        format!("{v}")
    }
}

/// Python's list repr of strings: `['a', 'b']`.
pub(crate) fn py_list(items: &[String]) -> String {
    let inner: Vec<String> = items.iter().map(|s| format!("'{s}'")).collect();
    format!("[{}]", inner.join(", "))
}

/// The comparison operators shared by several triggers.
pub(crate) fn compare<T: PartialOrd>(op: &str, a: T, b: T) -> bool {
    match op {
        "=" | "==" => a == b,
        "!=" => a != b,
        "<" => a < b,
        ">" => a > b,
        "<=" => a <= b,
        ">=" => a >= b,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_lower_snake() {
        let mut gates = std::collections::BTreeSet::new();
        for g in GATES {
            assert!(gates.insert(g.name()), "duplicate gate {}", g.name());
            assert_eq!(g.name(), g.name().to_ascii_lowercase());
            let mut triggers = std::collections::BTreeSet::new();
            for t in g.triggers() {
                assert!(triggers.insert(t.name), "duplicate trigger {}", t.name);
                for a in t.aliases {
                    assert!(triggers.insert(a), "alias clash {a}");
                }
                assert!(
                    !t.description.is_empty(),
                    "{}/{} lacks a description",
                    g.name(),
                    t.name
                );
                for p in t.params {
                    assert_eq!(p.name, p.name.to_ascii_lowercase());
                }
            }
        }
        for e in EOL_GATES {
            assert!(gate(e.name).is_none(), "{} is both active and EOL", e.name);
        }
    }

    #[test]
    fn every_reference_gate_is_known() {
        // anchore-policy.md §4 (active), §2 (Enterprise gates implemented), §4.13 (EOL).
        let active: &[(&str, &[&str])] = &[
            ("always", &["always"]),
            (
                "dockerfile",
                &[
                    "instruction",
                    "effective_user",
                    "exposed_ports",
                    "no_dockerfile_provided",
                ],
            ),
            (
                "files",
                &[
                    "content_regex_match",
                    "name_match",
                    "attribute_match",
                    "suid_or_guid_set",
                ],
            ),
            (
                "licenses",
                &[
                    "blacklist_exact_match",
                    "blacklist_partial_match",
                    "denylist_exact_match",
                    "denylist_partial_match",
                ],
            ),
            ("malware", &["scans", "scan_not_run"]),
            ("metadata", &["attribute"]),
            (
                "npms",
                &[
                    "newer_version_in_feed",
                    "unknown_in_feeds",
                    "version_not_in_feeds",
                    "blacklisted_name_version",
                    "denylisted_name_version",
                    "feed_data_unavailable",
                ],
            ),
            (
                "packages",
                &["required_package", "verify", "blacklist", "denylist"],
            ),
            (
                "passwd_file",
                &[
                    "content_not_available",
                    "blacklist_usernames",
                    "blacklist_userids",
                    "blacklist_groupids",
                    "blacklist_shells",
                    "blacklist_full_entry",
                    "denylist_usernames",
                ],
            ),
            (
                "retrieved_files",
                &["content_not_available", "content_regex"],
            ),
            (
                "ruby_gems",
                &[
                    "newer_version_found_in_feed",
                    "not_found_in_feed",
                    "version_not_found_in_feed",
                    "blacklist",
                    "denylist",
                    "feed_data_unavailable",
                ],
            ),
            ("secret_scans", &["content_regex_checks"]),
            (
                "vulnerabilities",
                &[
                    "package",
                    "stale_feed_data",
                    "vulnerability_data_unavailable",
                    "blacklist",
                    "denylist",
                    "kev",
                    "epss",
                ],
            ),
            ("distro", &["deny"]),
            (
                "tag_drift",
                &["packages_added", "packages_removed", "packages_modified"],
            ),
            ("image_metadata", &["attribute"]),
        ];
        for (g, triggers) in active {
            let gate = gate(g).unwrap_or_else(|| panic!("gate {g} missing"));
            for t in *triggers {
                assert!(gate.trigger(t).is_some(), "{g}/{t} missing");
            }
        }
        for eol in [
            "anchoresec",
            "dockerfilecheck",
            "filecheck",
            "fileparse_passwd",
            "gemcheck",
            "npmcheck",
            "licblacklist",
            "metadatacheck",
            "pkgblacklist",
            "pkgcheck",
            "secretcheck",
            "pkgdiff",
            "suiddiff",
            "imagecheck",
        ] {
            assert!(
                EOL_GATES.iter().any(|e| e.name == eol),
                "EOL gate {eol} missing"
            );
        }
    }

    #[test]
    fn python_formatting_helpers() {
        assert_eq!(py_oct(0o104755), "0o104755");
        assert_eq!(py_float(7.0), "7.0");
        assert_eq!(py_float(7.5), "7.5");
        assert_eq!(
            py_list(&["CVE-1".into(), "CVE-2".into()]),
            "['CVE-1', 'CVE-2']"
        );
    }
}
