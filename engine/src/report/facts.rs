//! Facts several adapters derive the same way from an [`Analysis`]: the image's identity
//! (reference, repository without tag or digest, platform), severity counts, the best CVSS score
//! of a vulnerability, a reference URL per advisory id, and the order findings are listed in.
//!
//! Pure functions over the analysis; no I/O. Keeping them here is what makes the table, the
//! markdown, SARIF, GitLab and JUnit reports agree on names and numbers.

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::analysis::Analysis;
use crate::matcher::{Cvss, FixState, Match, Vulnerability};
use crate::types::Severity;

/// How an image is named in reports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImageIdentity {
    /// The reference as the user would recognise it (`docker.io/library/app:1.0`, or the input).
    pub display: String,
    /// The repository without registry, tag or digest (`library/app`); stable across rebuilds.
    pub repository: String,
    /// The manifest digest (or image id when there is no manifest), may be empty.
    pub digest: String,
    /// `os/arch[/variant]`, may be empty.
    pub platform: String,
    /// `name version` of the distro, or `unknown`.
    pub operating_system: String,
}

impl ImageIdentity {
    /// Derives the identity from the analysis' source and config.
    pub fn of(analysis: &Analysis) -> ImageIdentity {
        let source = &analysis.inventory.source;
        let display = source
            .reference
            .clone()
            .or_else(|| source.tags.first().cloned())
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| source.input.clone());
        let repository = source
            .reference
            .as_deref()
            .or(source.tags.first().map(String::as_str))
            .map(repository_of)
            .filter(|r| !r.is_empty())
            .unwrap_or_else(|| input_stem(&source.input));
        let digest = source
            .manifest_digest
            .clone()
            .filter(|d| !d.is_empty())
            .unwrap_or_else(|| analysis.inventory.config.digest.clone());
        let p = &analysis.inventory.config.platform;
        let platform = if p.os.is_empty() && p.architecture.is_empty() {
            String::new()
        } else {
            p.to_string()
        };
        let operating_system = analysis
            .inventory
            .distro
            .as_ref()
            .map(|d| {
                let s = format!("{} {}", d.id, d.version_id);
                s.trim().to_string()
            })
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| "unknown".to_string());
        ImageIdentity {
            display: if display.is_empty() {
                "image".into()
            } else {
                display
            },
            repository: if repository.is_empty() {
                "image".into()
            } else {
                repository
            },
            digest,
            platform,
            operating_system,
        }
    }
}

/// `registry/ns/repo:tag@sha256:…` → `ns/repo` (registry host, tag and digest dropped).
pub(crate) fn repository_of(reference: &str) -> String {
    let no_digest = reference.split('@').next().unwrap_or(reference);
    let (path, last) = match no_digest.rfind('/') {
        Some(i) => (&no_digest[..=i], &no_digest[i + 1..]),
        None => ("", no_digest),
    };
    let last = last.split(':').next().unwrap_or(last);
    let full = format!("{path}{last}");
    let mut parts: Vec<&str> = full.split('/').filter(|s| !s.is_empty()).collect();
    if parts.len() > 1 {
        let first = parts[0];
        if first.contains('.') || first.contains(':') || first == "localhost" {
            parts.remove(0);
        }
    }
    parts.join("/")
}

/// `docker-archive:/x/app-1.tar` → `app-1`.
fn input_stem(input: &str) -> String {
    let path =
        input.rsplit_once(':').map_or(
            input,
            |(scheme, rest)| {
                if scheme.contains('/') { input } else { rest }
            },
        );
    let name = path
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or(path);
    let stem = name
        .strip_suffix(".tar.gz")
        .or_else(|| name.strip_suffix(".tar"))
        .or_else(|| name.strip_suffix(".json"))
        .unwrap_or(name);
    stem.chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        .collect()
}

/// Counts of non-suppressed matches by severity.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct SeverityCounts {
    /// Critical.
    pub critical: usize,
    /// High.
    pub high: usize,
    /// Medium.
    pub medium: usize,
    /// Low.
    pub low: usize,
    /// Negligible.
    pub negligible: usize,
    /// Unknown.
    pub unknown: usize,
    /// Sum of the above.
    pub total: usize,
    /// Suppressed matches (not in the numbers above).
    pub suppressed: usize,
    /// Non-suppressed matches with a known fix.
    pub fixable: usize,
    /// Non-suppressed matches listed in CISA KEV.
    pub kev: usize,
}

impl SeverityCounts {
    /// Counts the analysis' matches.
    pub fn of(analysis: &Analysis) -> SeverityCounts {
        let mut c = SeverityCounts::default();
        for m in &analysis.matches {
            if m.suppressed.is_some() {
                c.suppressed += 1;
                continue;
            }
            c.total += 1;
            match m.vulnerability.severity {
                Severity::Critical => c.critical += 1,
                Severity::High => c.high += 1,
                Severity::Medium => c.medium += 1,
                Severity::Low => c.low += 1,
                Severity::Negligible => c.negligible += 1,
                Severity::Unknown => c.unknown += 1,
            }
            if m.fix_state == FixState::Fixed {
                c.fixable += 1;
            }
            if m.vulnerability.kev {
                c.kev += 1;
            }
        }
        c
    }

    /// The count for one severity.
    pub fn get(&self, s: Severity) -> usize {
        match s {
            Severity::Critical => self.critical,
            Severity::High => self.high,
            Severity::Medium => self.medium,
            Severity::Low => self.low,
            Severity::Negligible => self.negligible,
            Severity::Unknown => self.unknown,
        }
    }
}

/// Matches to list: non-suppressed ones, plus suppressed ones when `show_suppressed`; most
/// severe first, then KEV, then vulnerability id, package name and version (a stable order).
pub(crate) fn listed_matches(analysis: &Analysis, show_suppressed: bool) -> Vec<&Match> {
    let mut v: Vec<&Match> = analysis
        .matches
        .iter()
        .filter(|m| show_suppressed || m.suppressed.is_none())
        .collect();
    v.sort_by(|a, b| match_order(a, b));
    v
}

/// The listing order of [`listed_matches`].
pub(crate) fn match_order(a: &Match, b: &Match) -> std::cmp::Ordering {
    b.vulnerability
        .severity
        .cmp(&a.vulnerability.severity)
        .then(a.suppressed.is_some().cmp(&b.suppressed.is_some()))
        .then(b.vulnerability.kev.cmp(&a.vulnerability.kev))
        .then_with(|| {
            best_score(&b.vulnerability)
                .partial_cmp(&best_score(&a.vulnerability))
                .unwrap_or(std::cmp::Ordering::Equal)
        })
        .then_with(|| a.vulnerability.id.cmp(&b.vulnerability.id))
        .then_with(|| a.package_name.cmp(&b.package_name))
        .then_with(|| a.package_version.cmp(&b.package_version))
        .then_with(|| a.path.cmp(&b.path))
}

/// The CVSS entry to show: the newest 3.x score, else 4.0, else 2.0; per version the highest.
pub(crate) fn best_cvss(v: &Vulnerability) -> Option<&Cvss> {
    let rank = |c: &Cvss| -> u8 {
        if c.version.starts_with('3') {
            3
        } else if c.version.starts_with('4') {
            2
        } else if c.version.starts_with('2') {
            1
        } else {
            0
        }
    };
    v.cvss
        .iter()
        .filter(|c| c.base_score > 0.0 && c.base_score <= 10.0)
        .max_by(|a, b| {
            rank(a).cmp(&rank(b)).then(
                a.base_score
                    .partial_cmp(&b.base_score)
                    .unwrap_or(std::cmp::Ordering::Equal),
            )
        })
}

/// The best CVSS base score, or 0.0.
pub(crate) fn best_score(v: &Vulnerability) -> f64 {
    best_cvss(v).map_or(0.0, |c| c.base_score)
}

/// A 0.1–10.0 score for GitHub's `security-severity`: the best CVSS score, else a midpoint of
/// the severity's band; `None` for unknown severity without a score.
pub(crate) fn security_severity(v: &Vulnerability) -> Option<f64> {
    if let Some(c) = best_cvss(v) {
        return Some(c.base_score);
    }
    match v.severity {
        Severity::Critical => Some(9.5),
        Severity::High => Some(8.0),
        Severity::Medium => Some(5.5),
        Severity::Low => Some(2.0),
        Severity::Negligible => Some(0.5),
        Severity::Unknown => None,
    }
}

/// The canonical web page for an advisory id, when its namespace has one.
pub(crate) fn advisory_url(id: &str) -> Option<String> {
    let upper = id.to_ascii_uppercase();
    let safe = id
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':'));
    if !safe || id.is_empty() {
        return None;
    }
    if upper.starts_with("CVE-") {
        Some(format!("https://nvd.nist.gov/vuln/detail/{upper}"))
    } else if upper.starts_with("GHSA-") {
        Some(format!("https://github.com/advisories/{id}"))
    } else {
        Some(format!("https://osv.dev/vulnerability/{id}"))
    }
}

/// The first reference URL of a vulnerability that is an http(s) URL, else its advisory page.
pub(crate) fn primary_url(v: &Vulnerability) -> Option<String> {
    advisory_url(&v.id).or_else(|| v.urls.iter().find(|u| is_http_url(u)).cloned())
}

/// True for `http://…` / `https://…` with something after the scheme and no whitespace.
pub(crate) fn is_http_url(u: &str) -> bool {
    (u.starts_with("https://") && u.len() > 8 || u.starts_with("http://") && u.len() > 7)
        && !u.chars().any(char::is_whitespace)
}

/// Lowercase hex sha256 of the parts joined with NUL.
pub(crate) fn stable_hash(parts: &[&str]) -> String {
    let mut h = Sha256::new();
    for (i, p) in parts.iter().enumerate() {
        if i > 0 {
            h.update([0u8]);
        }
        h.update(p.as_bytes());
    }
    hex::encode(h.finalize())
}

/// Cuts `s` to at most `max` characters, ending with `…` when cut.
pub(crate) fn truncate_chars(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// The fix versions as one string (`2.31.0, 2.32.1`), or the fix state in words.
pub(crate) fn fix_text(m: &Match) -> String {
    if !m.fixed_in.is_empty() {
        return m.fixed_in.join(", ");
    }
    match m.fix_state {
        FixState::WontFix => "won't fix".into(),
        FixState::NotFixed => "not fixed".into(),
        FixState::Fixed | FixState::Unknown => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repository_drops_registry_tag_digest() {
        assert_eq!(
            repository_of("docker.io/library/alpine:3.20"),
            "library/alpine"
        );
        assert_eq!(repository_of("127.0.0.1:5000/app:1.0"), "app");
        assert_eq!(repository_of("localhost/x/y@sha256:abcd"), "x/y");
        assert_eq!(repository_of("ghcr.io/o/r:v1@sha256:ab"), "o/r");
        assert_eq!(repository_of("alpine"), "alpine");
    }

    #[test]
    fn input_stem_of_paths() {
        assert_eq!(input_stem("docker-archive:/x/app-1.tar"), "app-1");
        assert_eq!(input_stem("/var/tmp/img/oci/"), "oci");
        assert_eq!(input_stem("sbom.json"), "sbom");
    }

    #[test]
    fn urls() {
        assert_eq!(
            advisory_url("cve-2024-1").as_deref(),
            Some("https://nvd.nist.gov/vuln/detail/CVE-2024-1")
        );
        assert!(advisory_url("bad id").is_none());
        assert!(is_http_url("https://x"));
        assert!(!is_http_url("https://"));
        assert!(!is_http_url("ftp://x"));
    }

    #[test]
    fn truncation() {
        assert_eq!(truncate_chars("abcdef", 4), "abc…");
        assert_eq!(truncate_chars("abc", 4), "abc");
    }
}
