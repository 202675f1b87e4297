//! Ignore rules: the `ignore:` section of `.tollgate.yaml`. The file is shared with other
//! sections (`notifications:`, …), so only `ignore` is read and every other top-level key is
//! left alone; inside a rule unknown keys are errors (a typo must not widen a rule).
//!
//! ```yaml
//! ignore:
//!   - vulnerability: CVE-2020-14343      # id or any alias; `*`/`?` wildcards
//!     package: { name: pyyaml, type: python, version: "<5.4" }   # version: the package's own range syntax
//!     fix-state: fixed                    # fixed | not-fixed | wont-fix | unknown
//!     path: "/usr/lib/python3*/**"        # glob on the package path
//!     reason: only yaml.safe_load is used
//!     expires: 2026-12-31                 # date or RFC 3339; afterwards the rule is inactive
//! ```
//!
//! Invariants: a rule must name at least one of vulnerability/package/path (an empty rule would
//! hide everything); an expired rule suppresses nothing and is reported as expired.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::matcher::{FixState, Match, MatchError};
use crate::version::{Scheme, Version, range};

/// The package selector of a rule.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PackageSelector {
    /// Package name (`*`/`?` wildcards, case-insensitive).
    #[serde(default)]
    pub name: Option<String>,
    /// Package type (`deb`, `python`, `npm`, …).
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    /// Version range in the package's own syntax (`<5.4`, `^4.17`, `>=1.0,<2`).
    #[serde(default)]
    pub version: Option<String>,
}

/// One ignore rule.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct IgnoreRule {
    /// Vulnerability id or alias (wildcards allowed).
    #[serde(default)]
    pub vulnerability: Option<String>,
    /// Package selector.
    #[serde(default)]
    pub package: Option<PackageSelector>,
    /// Only findings in this fix state.
    #[serde(default, alias = "fix_state")]
    pub fix_state: Option<FixState>,
    /// Glob on the package's path.
    #[serde(default)]
    pub path: Option<String>,
    /// Why (shown with every suppressed finding).
    #[serde(default)]
    pub reason: Option<String>,
    /// When the rule stops applying (`YYYY-MM-DD` = end of that day, UTC, or RFC 3339).
    #[serde(default)]
    pub expires: Option<String>,
}

/// The `ignore:` section of a config file.
#[derive(Debug, Clone, Default)]
pub struct IgnoreConfig {
    /// The file it came from (for messages).
    pub file: PathBuf,
    /// The rules, in file order.
    pub rules: Vec<IgnoreRule>,
    expiry: Vec<Option<chrono::DateTime<chrono::Utc>>>,
    globs: Vec<Option<globset::GlobMatcher>>,
}

#[derive(Deserialize)]
struct FileShape {
    #[serde(default)]
    ignore: Option<yaml_serde::Value>,
}

fn parse_expiry(s: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&chrono::Utc));
    }
    let d = chrono::NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").ok()?;
    Some(d.and_hms_opt(23, 59, 59)?.and_utc())
}

/// `*` and `?` wildcard match, ASCII case-insensitive.
pub(crate) fn wildcard(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.to_ascii_lowercase().chars().collect();
    let t: Vec<char> = text.to_ascii_lowercase().chars().collect();
    let (mut pi, mut ti, mut star, mut mark) = (0, 0, None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == '*' {
        pi += 1;
    }
    pi == p.len()
}

/// The version scheme of a package type name (as in `Match::package_type`).
pub(crate) fn scheme_for_type(kind: &str) -> Option<Scheme> {
    Some(match kind {
        "deb" => Scheme::Deb,
        "apk" => Scheme::Apk,
        "rpm" => Scheme::Rpm,
        "python" => Scheme::Pep440,
        "npm" => Scheme::Npm,
        "java-archive" => Scheme::Maven,
        "go-module" => Scheme::Go,
        "rust-crate" => Scheme::Cargo,
        "gem" => Scheme::Gem,
        "php-composer" => Scheme::Composer,
        "dotnet" => Scheme::Nuget,
        _ => return None,
    })
}

impl IgnoreConfig {
    /// Reads the `ignore:` section of a YAML config file (other sections are ignored).
    pub fn load(path: impl AsRef<Path>) -> Result<IgnoreConfig, MatchError> {
        let path = path.as_ref();
        let bad = |reason: String| MatchError::BadIgnoreConfig {
            path: path.to_path_buf(),
            reason,
        };
        let text =
            std::fs::read_to_string(path).map_err(|e| bad(format!("cannot read it: {e}")))?;
        Self::parse(&text, path)
    }

    /// Parses config text (see [`IgnoreConfig::load`]).
    pub fn parse(text: &str, path: &Path) -> Result<IgnoreConfig, MatchError> {
        let bad = |reason: String| MatchError::BadIgnoreConfig {
            path: path.to_path_buf(),
            reason,
        };
        let shape: FileShape = if text.trim().is_empty() {
            FileShape { ignore: None }
        } else {
            yaml_serde::from_str(text).map_err(|e| bad(format!("not a YAML mapping: {e}")))?
        };
        let rules: Vec<IgnoreRule> = match shape.ignore {
            None | Some(yaml_serde::Value::Null) => Vec::new(),
            Some(yaml_serde::Value::Sequence(items)) => items
                .into_iter()
                .enumerate()
                .map(|(i, v)| {
                    yaml_serde::from_value(v).map_err(|e| bad(format!("ignore[{i}]: {e}")))
                })
                .collect::<Result<_, _>>()?,
            Some(_) => return Err(bad("`ignore` must be a list of rules".into())),
        };
        let mut cfg = IgnoreConfig {
            file: path.to_path_buf(),
            ..Default::default()
        };
        for (i, r) in rules.iter().enumerate() {
            let pkg_empty = r
                .package
                .as_ref()
                .is_none_or(|p| p.name.is_none() && p.kind.is_none() && p.version.is_none());
            if r.vulnerability.is_none() && pkg_empty && r.path.is_none() {
                return Err(bad(format!(
                    "ignore[{i}]: a rule must name a `vulnerability`, a `package` or a `path`"
                )));
            }
            let expiry = match &r.expires {
                Some(s) => Some(parse_expiry(s).ok_or_else(|| {
                    bad(format!(
                        "ignore[{i}].expires: `{s}` is not a date (YYYY-MM-DD) or RFC 3339 time"
                    ))
                })?),
                None => None,
            };
            let glob = match &r.path {
                Some(p) => Some(
                    globset::GlobBuilder::new(p)
                        .literal_separator(true)
                        .build()
                        .map_err(|e| bad(format!("ignore[{i}].path: {e}")))?
                        .compile_matcher(),
                ),
                None => None,
            };
            if let Some(sel) = &r.package
                && let (Some(v), Some(k)) = (&sel.version, &sel.kind)
            {
                let scheme = scheme_for_type(k).ok_or_else(|| {
                    bad(format!(
                        "ignore[{i}].package.type: unknown package type `{k}`"
                    ))
                })?;
                range::Range::parse(scheme, v)
                    .map_err(|e| bad(format!("ignore[{i}].package.version: {e}")))?;
            }
            cfg.expiry.push(expiry);
            cfg.globs.push(glob);
        }
        cfg.rules = rules;
        Ok(cfg)
    }

    /// True when rule `i` has expired at `now`.
    pub fn is_expired(&self, i: usize, now: chrono::DateTime<chrono::Utc>) -> bool {
        self.expiry
            .get(i)
            .copied()
            .flatten()
            .is_some_and(|e| e < now)
    }

    /// True when rule `i` selects `m` (expiry not considered).
    pub fn rule_matches(&self, i: usize, m: &Match) -> bool {
        let Some(r) = self.rules.get(i) else {
            return false;
        };
        if let Some(v) = &r.vulnerability {
            let ids = std::iter::once(&m.vulnerability.id).chain(m.vulnerability.aliases.iter());
            if !ids.into_iter().any(|id| wildcard(v, id)) {
                return false;
            }
        }
        if let Some(fs) = r.fix_state
            && fs != m.fix_state
        {
            return false;
        }
        if let Some(Some(g)) = self.globs.get(i)
            && !g.is_match(&m.path)
        {
            return false;
        }
        if let Some(sel) = &r.package {
            if let Some(n) = &sel.name
                && !wildcard(n, &m.package_name)
            {
                return false;
            }
            if let Some(k) = &sel.kind
                && !k.eq_ignore_ascii_case(&m.package_type)
            {
                return false;
            }
            if let Some(expr) = &sel.version {
                let Some(scheme) = scheme_for_type(&m.package_type) else {
                    return false;
                };
                let Ok(v) = Version::parse(scheme, &m.package_version) else {
                    return false;
                };
                if !range::satisfies(scheme, &v, expr).unwrap_or(false) {
                    return false;
                }
            }
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards() {
        assert!(wildcard("CVE-2020-*", "cve-2020-14343"));
        assert!(wildcard("py?aml", "PyYAML"));
        assert!(!wildcard("CVE-2021-*", "CVE-2020-1"));
        assert!(wildcard("*", ""));
    }

    #[test]
    fn lenient_top_level_strict_rules() {
        let p = Path::new(".tollgate.yaml");
        let cfg = IgnoreConfig::parse("notifications:\n  slack: x\nignore:\n  - vulnerability: CVE-1\n    expires: 2020-01-01\n", p).unwrap();
        assert_eq!(cfg.rules.len(), 1);
        assert!(cfg.is_expired(0, chrono::Utc::now()));
        assert!(
            IgnoreConfig::parse("notifications: {}\n", p)
                .unwrap()
                .rules
                .is_empty()
        );
        let e = IgnoreConfig::parse("ignore:\n  - vulnerabilty: CVE-1\n", p).unwrap_err();
        assert!(e.to_string().contains("ignore[0]"), "{e}");
        let e = IgnoreConfig::parse("ignore:\n  - reason: everything\n", p).unwrap_err();
        assert!(e.to_string().contains("must name"), "{e}");
        let e = IgnoreConfig::parse("ignore:\n  - vulnerability: X\n    expires: someday\n", p)
            .unwrap_err();
        assert!(e.to_string().contains("expires"), "{e}");
        let e = IgnoreConfig::parse("ignore:\n  - package: {type: python, version: '<<5'}\n", p)
            .unwrap_err();
        assert!(e.to_string().contains("package.version"), "{e}");
        assert!(IgnoreConfig::parse("ignore: 3\n", p).is_err());
    }
}
