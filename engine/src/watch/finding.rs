//! [`Finding`]: one vulnerability newly affecting one stored image, as it is queued in the
//! outbox and delivered to channels; [`idempotency_key`] derives the per-(image, vuln, channel)
//! key that makes retries safe.
//!
//! This module only defines the values and builds them from matches; it does not decide what
//! is new (that is `watch::rescan`) nor how a channel renders it (`watch::channel::*`).
//! Invariants: a `Finding` is self-contained (delivery never needs the store or the DB), holds
//! no secret, and its JSON form is the `finding` of `docs/webhook.schema.json`.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::matcher::Match;
use crate::types::Severity;

/// The image a finding is about, as recorded when it was scanned.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageRef {
    /// Stable identity used for idempotency: the manifest digest when known, else the image ID.
    pub key: String,
    /// The reference the image was scanned as (`registry.example.com/team/app:1.4`), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    /// Repository without tag or digest (`registry.example.com/team/app`), if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repository: Option<String>,
    /// Tags the image carried (`repo:tag`).
    #[serde(default)]
    pub tags: Vec<String>,
    /// Manifest digest (`sha256:…`), when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manifest_digest: Option<String>,
    /// `os/arch[/variant]`, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<String>,
    /// RFC 3339 time of the scan whose SBOM was re-matched.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scanned_at: Option<String>,
}

impl ImageRef {
    /// The best human name: the reference, else the first tag, else the key.
    pub fn display_name(&self) -> &str {
        self.reference
            .as_deref()
            .or(self.tags.first().map(String::as_str))
            .unwrap_or(&self.key)
    }

    /// Every repository this image is known under (from its reference and tags), deduplicated.
    pub fn repositories(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        if let Some(r) = &self.repository {
            out.push(r.clone());
        }
        for t in self.tags.iter().chain(self.reference.iter()) {
            let repo = repository_of(t);
            if !repo.is_empty() && !out.iter().any(|o| o == repo) {
                out.push(repo.to_string());
            }
        }
        out
    }
}

/// Strips the `:tag` and `@digest` from an image reference (`host:5000/a/b:1` → `host:5000/a/b`).
pub fn repository_of(reference: &str) -> &str {
    let no_digest = reference.split('@').next().unwrap_or(reference);
    // A `:` after the last `/` starts the tag; one before it is a registry port.
    match no_digest.rfind(':') {
        Some(colon) if no_digest.rfind('/').is_none_or(|slash| colon > slash) => {
            &no_digest[..colon]
        }
        _ => no_digest,
    }
}

/// The advisory side of a finding.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct VulnInfo {
    /// Primary id (a CVE when known).
    pub id: String,
    /// Other ids (GHSA, distro advisories).
    #[serde(default)]
    pub aliases: Vec<String>,
    /// Normalised severity.
    #[serde(default)]
    pub severity: Severity,
    /// Highest published CVSS base score, when any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cvss_score: Option<f64>,
    /// In CISA KEV.
    #[serde(default)]
    pub kev: bool,
    /// EPSS probability 0..1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub epss: Option<f64>,
    /// One-line summary.
    #[serde(default)]
    pub summary: String,
    /// Reference URLs (at most 10 are kept).
    #[serde(default)]
    pub urls: Vec<String>,
    /// RFC 3339 publication time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub published: Option<String>,
}

/// One affected package of the image.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AffectedPackage {
    /// Name as installed.
    pub name: String,
    /// Installed version.
    pub version: String,
    /// Package type (`deb`, `python`, …).
    #[serde(rename = "type")]
    pub kind: String,
    /// Package URL.
    #[serde(default)]
    pub purl: String,
    /// Path in the image.
    #[serde(default)]
    pub path: String,
    /// `fixed`, `not-fixed`, `wont-fix` or `unknown`.
    pub fix_state: String,
    /// Versions that fix it.
    #[serde(default)]
    pub fixed_in: Vec<String>,
}

/// The DB the finding was computed with.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DbRef {
    /// RFC 3339 build time of the DB.
    pub built: String,
    /// DB content checksum.
    #[serde(default)]
    pub checksum: String,
}

/// One vulnerability newly affecting one image: the unit of notification.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// The image.
    pub image: ImageRef,
    /// The vulnerability.
    pub vulnerability: VulnInfo,
    /// The packages of the image it affects (at least one).
    pub packages: Vec<AffectedPackage>,
    /// RFC 3339 time `tollgate watch` first saw it.
    pub detected_at: String,
    /// The DB that revealed it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub db: Option<DbRef>,
}

impl Finding {
    /// Builds the finding for `image` from every match of one vulnerability id (one per
    /// affected package). Returns `None` for an empty slice.
    pub fn from_matches(
        image: ImageRef,
        matches: &[&Match],
        detected_at: String,
        db: Option<DbRef>,
    ) -> Option<Finding> {
        let first = matches.first()?;
        let v = &first.vulnerability;
        let mut aliases: Vec<String> = Vec::new();
        let mut severity = v.severity;
        let mut kev = v.kev;
        let mut epss = v.epss;
        for m in matches {
            severity = severity.max(m.vulnerability.severity);
            kev |= m.vulnerability.kev;
            epss = match (epss, m.vulnerability.epss) {
                (Some(a), Some(b)) => Some(a.max(b)),
                (a, b) => a.or(b),
            };
            for a in &m.vulnerability.aliases {
                if a != &v.id && !aliases.contains(a) {
                    aliases.push(a.clone());
                }
            }
        }
        let cvss_score = v
            .cvss
            .iter()
            .map(|c| c.base_score)
            .filter(|s| s.is_finite())
            .fold(None, |acc: Option<f64>, s| {
                Some(acc.map_or(s, |a| a.max(s)))
            });
        let mut packages: Vec<AffectedPackage> = matches
            .iter()
            .map(|m| AffectedPackage {
                name: m.package_name.clone(),
                version: m.package_version.clone(),
                kind: m.package_type.clone(),
                purl: m.purl.clone(),
                path: m.path.clone(),
                fix_state: fix_state_name(m.fix_state).to_string(),
                fixed_in: m.fixed_in.clone(),
            })
            .collect();
        packages
            .sort_by(|a, b| (&a.name, &a.version, &a.path).cmp(&(&b.name, &b.version, &b.path)));
        packages.dedup();
        Some(Finding {
            image,
            vulnerability: VulnInfo {
                id: v.id.clone(),
                aliases,
                severity,
                cvss_score,
                kev,
                epss,
                summary: v.summary.clone(),
                urls: v.urls.iter().take(10).cloned().collect(),
                published: v.published.clone(),
            },
            packages,
            detected_at,
            db,
        })
    }

    /// A one-line title: `CVE-2024-1 (high) in registry/app:1 — openssl 3.0.1`.
    pub fn title(&self) -> String {
        let pkgs: Vec<String> = self
            .packages
            .iter()
            .take(3)
            .map(|p| format!("{} {}", p.name, p.version))
            .collect();
        let more = self.packages.len().saturating_sub(3);
        let mut t = format!(
            "{} ({}{}) in {}",
            self.vulnerability.id,
            self.vulnerability.severity,
            if self.vulnerability.kev { ", KEV" } else { "" },
            self.image.display_name()
        );
        if !pkgs.is_empty() {
            t.push_str(" — ");
            t.push_str(&pkgs.join(", "));
            if more > 0 {
                t.push_str(&format!(" and {more} more"));
            }
        }
        t
    }
}

fn fix_state_name(s: crate::matcher::FixState) -> &'static str {
    use crate::matcher::FixState;
    match s {
        FixState::Fixed => "fixed",
        FixState::NotFixed => "not-fixed",
        FixState::WontFix => "wont-fix",
        FixState::Unknown => "unknown",
    }
}

/// The idempotency key of one (image, vulnerability, channel): 32 lowercase hex characters,
/// stable across runs and machines, sent as the `Idempotency-Key` header and written into issue
/// bodies so a retry never creates a second ticket.
pub fn idempotency_key(image_key: &str, vuln_id: &str, channel: &str) -> String {
    let mut h = Sha256::new();
    for part in ["tollgate-watch/v1", image_key, vuln_id, channel] {
        h.update(part.as_bytes());
        h.update([0u8]);
    }
    let digest = h.finalize();
    hex::encode(&digest[..16])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::matcher::{FixState, Vulnerability};

    #[test]
    fn repository_strips_tag_and_digest_not_port() {
        assert_eq!(repository_of("host:5000/a/b:1.2"), "host:5000/a/b");
        assert_eq!(repository_of("host:5000/a/b"), "host:5000/a/b");
        assert_eq!(repository_of("a/b@sha256:abcd"), "a/b");
        assert_eq!(repository_of("alpine:3.20"), "alpine");
        assert_eq!(repository_of("a/b:1@sha256:ab"), "a/b");
    }

    #[test]
    fn key_is_stable_and_separates_parts() {
        let k = idempotency_key("sha256:1", "CVE-1", "slack");
        assert_eq!(k.len(), 32);
        assert_eq!(k, idempotency_key("sha256:1", "CVE-1", "slack"));
        assert_ne!(k, idempotency_key("sha256:1", "CVE-1", "jira"));
        // Concatenation ambiguity: ("ab","c") vs ("a","bc").
        assert_ne!(
            idempotency_key("ab", "c", "x"),
            idempotency_key("a", "bc", "x")
        );
    }

    #[test]
    fn finding_merges_packages_and_takes_worst_severity() {
        let m1 = Match {
            vulnerability: Vulnerability {
                id: "CVE-1".into(),
                aliases: vec!["GHSA-x".into()],
                severity: Severity::Medium,
                ..Default::default()
            },
            package_name: "b".into(),
            package_version: "1".into(),
            package_type: "deb".into(),
            fix_state: FixState::Fixed,
            fixed_in: vec!["2".into()],
            ..Default::default()
        };
        let mut m2 = m1.clone();
        m2.package_name = "a".into();
        m2.vulnerability.severity = Severity::High;
        m2.vulnerability.kev = true;
        let f = Finding::from_matches(ImageRef::default(), &[&m1, &m2], "t".into(), None);
        let f = f.unwrap();
        assert_eq!(f.vulnerability.severity, Severity::High);
        assert!(f.vulnerability.kev);
        assert_eq!(f.packages[0].name, "a");
        assert_eq!(f.packages[0].fix_state, "fixed");
        assert_eq!(f.vulnerability.aliases, vec!["GHSA-x".to_string()]);
        assert!(Finding::from_matches(ImageRef::default(), &[], "t".into(), None).is_none());
    }
}
