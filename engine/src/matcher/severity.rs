//! Severity of a finding, from the records merged into it, by one documented precedence:
//!
//! 1. **Distro rating**, for OS packages only: the distro's own assessment of its build
//!    (Ubuntu `ubuntu_priority` or an `Ubuntu` severity entry; Debian `urgency` other than
//!    `not yet assigned`, with `unimportant` → negligible). Distros patch and configure
//!    differently from upstream, so their rating wins for their packages (as Trivy and grype do).
//! 2. **CVSS v3.x** vector → computed base score → rating (0.1–3.9 low, 4.0–6.9 medium,
//!    7.0–8.9 high, 9.0–10 critical). The most widely published score and the one other
//!    scanners report, so results compare.
//! 3. **CVSS v4.0**: kept and shown, but not scored here yet (its base score needs the
//!    macro-vector lookup table); a record with only a v4 vector falls through to 4/5.
//! 4. **CVSS v2** vector → base score → low/medium/high (v2 has no critical).
//! 5. **Database label**: GHSA/Bitnami `database_specific.severity` (`MODERATE` → medium).
//! 6. Otherwise `unknown`.
//!
//! Within one level the highest score wins (several records can score one CVE); per-package
//! severities are read before top-level ones. Every published vector is kept in
//! `Vulnerability::cvss`, whichever level decided. Does not fetch anything (NVD scores are only
//! used when an OSV record carries them).

use crate::matcher::Cvss;
use crate::types::Severity;
use crate::types::cvss::CvssVersion;
use crate::vulndb::osv::{Affected, Record, SeverityEntry};

/// The outcome: severity, where it came from, and every CVSS score seen.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Assessment {
    /// The severity.
    pub severity: Severity,
    /// `debian`, `ubuntu`, `cvss-v3.1`, `cvss-v4.0`, `cvss-v2`, `ghsa`, …
    pub source: String,
    /// Published scores.
    pub cvss: Vec<Cvss>,
}

fn band(score: f64) -> Severity {
    if score >= 9.0 {
        Severity::Critical
    } else if score >= 7.0 {
        Severity::High
    } else if score >= 4.0 {
        Severity::Medium
    } else if score > 0.0 {
        Severity::Low
    } else {
        Severity::Negligible
    }
}

fn band_v2(score: f64) -> Severity {
    if score >= 7.0 {
        Severity::High
    } else if score >= 4.0 {
        Severity::Medium
    } else if score > 0.0 {
        Severity::Low
    } else {
        Severity::Negligible
    }
}

/// Parses a vector and computes its base score with [`types::cvss`](crate::types::cvss):
/// `(version, score)`; `None` for vectors that do not parse and for CVSS v4.0, which does not
/// decide severity here (see the precedence above).
fn score(entry: &SeverityEntry) -> Option<(String, f64)> {
    let v = entry.score.trim();
    if !(v.starts_with("CVSS:3.") || entry.kind == "CVSS_V2" || v.starts_with("AV:")) {
        return None;
    }
    let cvss = crate::types::cvss::Cvss::parse(v).ok()?;
    match cvss.version {
        CvssVersion::V4_0 => None,
        version => Some((version.to_string(), cvss.base_score)),
    }
}

/// One record's contribution: its record-level and entry-level severity entries.
pub struct Source<'a> {
    /// The record (head).
    pub record: &'a Record,
    /// The affected entry that matched.
    pub entry: &'a Affected,
}

fn distro_rating(entry: &Affected) -> Option<(Severity, &'static str)> {
    let es = entry.ecosystem_specific.as_ref()?;
    if let Some(p) = es.get("ubuntu_priority").and_then(|v| v.as_str())
        && let Some(s) = Severity::parse(p)
    {
        return Some((s, "ubuntu"));
    }
    if let Some(u) = es.get("urgency").and_then(|v| v.as_str()) {
        let u = u.trim_end_matches('*').trim();
        if u.eq_ignore_ascii_case("not yet assigned") || u.is_empty() {
            return None;
        }
        let s = if u.eq_ignore_ascii_case("unimportant") {
            Severity::Negligible
        } else {
            Severity::parse(u)?
        };
        return Some((s, "debian"));
    }
    None
}

/// Applies the precedence in the module doc. `os_package`: whether rule 1 applies.
pub fn assess(sources: &[Source<'_>], os_package: bool) -> Assessment {
    let mut out = Assessment::default();
    let mut best: [Option<(f64, String)>; 3] = [None, None, None]; // v3, v4, v2
    let mut distro: Option<(Severity, &'static str)> = None;
    let mut label: Option<(Severity, String)> = None;
    for s in sources {
        if os_package
            && let Some(r) = distro_rating(s.entry)
            && distro.is_none_or(|d| r.0 > d.0)
        {
            distro = Some(r);
        }
        for entry in s.entry.severity.iter().chain(s.record.severity.iter()) {
            if os_package
                && entry.kind == "Ubuntu"
                && let Some(sev) = Severity::parse(&entry.score)
                && distro.is_none_or(|d| sev > d.0)
            {
                distro = Some((sev, "ubuntu"));
                continue;
            }
            let Some((version, base)) = score(entry) else {
                continue;
            };
            if !out.cvss.iter().any(|c| c.vector == entry.score) {
                out.cvss.push(Cvss {
                    version: version.clone(),
                    vector: entry.score.clone(),
                    base_score: base,
                    source: s.record.id.clone(),
                });
            }
            let slot = if version.starts_with('3') {
                0
            } else if version.starts_with('4') {
                1
            } else {
                2
            };
            if best[slot].as_ref().is_none_or(|(b, _)| base > *b) {
                best[slot] = Some((base, version));
            }
        }
        if let Some(word) = s
            .record
            .database_specific
            .as_ref()
            .and_then(|d| d.get("severity"))
            .and_then(|v| v.as_str())
            && let Some(sev) = Severity::parse(word)
            && label.as_ref().is_none_or(|(l, _)| sev > *l)
        {
            let who = s
                .record
                .id
                .split('-')
                .next()
                .unwrap_or("vendor")
                .to_ascii_lowercase();
            label = Some((sev, who));
        }
    }
    if let Some((sev, who)) = distro {
        out.severity = sev;
        out.source = who.to_string();
    } else if let Some((b, v)) = &best[0] {
        out.severity = band(*b);
        out.source = format!("cvss-v{v}");
    } else if let Some((b, v)) = &best[1] {
        out.severity = band(*b);
        out.source = format!("cvss-v{v}");
    } else if let Some((b, v)) = &best[2] {
        out.severity = band_v2(*b);
        out.source = format!("cvss-v{v}");
    } else if let Some((sev, who)) = label {
        out.severity = sev;
        out.source = who;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sc(kind: &str, v: &str) -> Option<f64> {
        score(&SeverityEntry {
            kind: kind.into(),
            score: v.into(),
        })
        .map(|s| s.1)
    }

    #[test]
    fn nvd_reference_scores() {
        // Scores as published by NVD for these vectors.
        assert_eq!(
            sc("CVSS_V3", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"),
            Some(9.8)
        );
        assert_eq!(
            sc("CVSS_V3", "CVSS:3.1/AV:N/AC:L/PR:H/UI:N/S:U/C:H/I:H/A:H"),
            Some(7.2)
        );
        assert_eq!(
            sc("CVSS_V3", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:N/A:N"),
            Some(8.6)
        );
        assert_eq!(
            sc("CVSS_V3", "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N"),
            Some(6.1)
        );
        assert_eq!(
            sc("CVSS_V3", "CVSS:3.0/AV:L/AC:H/PR:H/UI:R/S:U/C:H/I:H/A:N"),
            Some(5.6)
        );
        assert_eq!(
            sc("CVSS_V3", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N"),
            Some(0.0)
        );
        assert_eq!(sc("CVSS_V2", "AV:N/AC:L/Au:N/C:P/I:P/A:P"), Some(7.5));
        assert_eq!(sc("CVSS_V2", "AV:N/AC:M/Au:N/C:N/I:P/A:N"), Some(4.3));
        assert_eq!(sc("CVSS_V3", "CVSS:3.1/AV:X/AC:L"), None);
        assert_eq!(
            sc(
                "CVSS_V4",
                "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N"
            ),
            None
        );
    }

    #[test]
    fn precedence() {
        let rec = Record {
            id: "GHSA-x".into(),
            severity: vec![SeverityEntry {
                kind: "CVSS_V3".into(),
                score: "CVSS:3.1/AV:N/AC:L/PR:H/UI:N/S:U/C:H/I:H/A:H".into(),
            }],
            database_specific: Some(serde_json::json!({"severity": "CRITICAL"})),
            ..Default::default()
        };
        let entry = Affected::default();
        let a = assess(
            &[Source {
                record: &rec,
                entry: &entry,
            }],
            false,
        );
        assert_eq!(
            (a.severity, a.source.as_str()),
            (Severity::High, "cvss-v3.1"),
            "CVSS before label"
        );
        let deb_entry: Affected = serde_json::from_value(
            serde_json::json!({"ecosystem_specific": {"urgency": "unimportant"}}),
        )
        .unwrap();
        let a = assess(
            &[Source {
                record: &rec,
                entry: &deb_entry,
            }],
            true,
        );
        assert_eq!(
            (a.severity, a.source.as_str()),
            (Severity::Negligible, "debian"),
            "distro first for OS packages"
        );
        let a = assess(
            &[Source {
                record: &rec,
                entry: &deb_entry,
            }],
            false,
        );
        assert_eq!(
            a.severity,
            Severity::High,
            "distro rating ignored for language packages"
        );
        let label_only = Record {
            id: "GHSA-y".into(),
            database_specific: Some(serde_json::json!({"severity": "MODERATE"})),
            ..Default::default()
        };
        let a = assess(
            &[Source {
                record: &label_only,
                entry: &entry,
            }],
            false,
        );
        assert_eq!((a.severity, a.source.as_str()), (Severity::Medium, "ghsa"));
        assert_eq!(assess(&[], false).severity, Severity::Unknown);
    }
}
