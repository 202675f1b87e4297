//! Severity of a finding, from the records merged into it, by one documented precedence:
//!
//! 1. **Distro rating**, for OS packages only: the distro's own assessment of its build
//!    (Ubuntu `ubuntu_priority` or an `Ubuntu` severity entry; Debian `urgency` other than
//!    `not yet assigned`, with `unimportant` → negligible; AlmaLinux/Rocky/Red Hat errata carry
//!    Red Hat's rating as the summary prefix, `Important: openssl security update`, with
//!    important → high and moderate → medium). Distros patch and configure
//!    differently from upstream, so their rating wins for their packages (as Trivy and grype do).
//! 2. **CVSS v3.x** vector → computed base score → rating (0.1–3.9 low, 4.0–6.9 medium,
//!    7.0–8.9 high, 9.0–10 critical). The most widely published score and the one other
//!    scanners report, so results compare.
//! 3. **CVSS v4.0** vector → CVSS-B base score (the MacroVector method of the v4.0
//!    specification, `types::cvss`; threat and environmental metrics in the vector are ignored,
//!    as v3's temporal metrics are) → the same bands as v3.
//! 4. **CVSS v2** vector → base score → low/medium/high (v2 has no critical).
//! 5. **Database label**: GHSA/Bitnami `database_specific.severity` (`MODERATE` → medium).
//! 6. **A sibling record's severity**: for records with none of their own (Debian DSA/DLA and
//!    DEBIAN-CVE records, Go records), the severity another record of the same CVE carries,
//!    chosen at DB build time (`vulndb::build::siblings`: v3 > v4 > v2 > label, then the highest
//!    score) and stored with the id of the record it came from; [`Assessment::via`] names it.
//!    Only siblings of the finding's own CVE(s) count, so each CVE of a DSA is rated on its own.
//! 7. Otherwise `unknown`.
//!
//! Within one level the highest score wins (several records can score one CVE); per-package
//! severities are read before top-level ones. Every published vector is kept in
//! `Vulnerability::cvss`, whichever level decided. Does not fetch anything (NVD scores are only
//! used when an OSV record carries them).

use crate::matcher::Cvss;
use crate::types::Severity;
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
    /// When the severity was borrowed from a sibling record (rule 6): that record's id.
    pub via: Option<String>,
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
/// `(version, base score)`; `None` for vectors that do not parse (and for vendor words such as
/// an `Ubuntu` entry's `medium`).
fn score(entry: &SeverityEntry) -> Option<(String, f64)> {
    let v = entry.score.trim();
    if !(v.starts_with("CVSS:") || entry.kind == "CVSS_V2" || v.starts_with("AV:")) {
        return None;
    }
    let cvss = crate::types::cvss::Cvss::parse(v).ok()?;
    Some((cvss.version.to_string(), cvss.base_score))
}

/// The band of a base score under its CVSS version's scale.
fn band_for(version: &str, base: f64) -> Severity {
    if version.starts_with('2') {
        band_v2(base)
    } else {
        band(base)
    }
}

/// Rule 6: the best borrowed severity of any hit for one of `ids`:
/// `(rank, score, severity, source label, sibling id, cvss)`.
fn borrowed(
    sources: &[Source<'_>],
    ids: &[&str],
) -> Option<(u8, f64, Severity, String, String, Option<Cvss>)> {
    let mut best: Option<(u8, f64, Severity, String, String, Option<Cvss>)> = None;
    for s in sources {
        for b in &s.record.severity_from {
            if !ids.contains(&b.cve.as_str()) {
                continue;
            }
            let cand = if b.kind == "LABEL" {
                let Some(sev) = Severity::parse(&b.score) else {
                    continue;
                };
                let who = b
                    .from
                    .split('-')
                    .next()
                    .unwrap_or("vendor")
                    .to_ascii_lowercase();
                (3, 0.0, sev, who, b.from.clone(), None)
            } else {
                let Some((version, base)) = score(&SeverityEntry {
                    kind: b.kind.clone(),
                    score: b.score.clone(),
                }) else {
                    continue;
                };
                let rank = match version.as_bytes().first() {
                    Some(b'3') => 0,
                    Some(b'4') => 1,
                    _ => 2,
                };
                let cvss = Cvss {
                    version: version.clone(),
                    vector: b.score.clone(),
                    base_score: base,
                    source: b.from.clone(),
                };
                (
                    rank,
                    base,
                    band_for(&version, base),
                    format!("cvss-v{version}"),
                    b.from.clone(),
                    Some(cvss),
                )
            };
            if best
                .as_ref()
                .is_none_or(|x| (cand.0, -cand.1, &cand.4) < (x.0, -x.1, &x.4))
            {
                best = Some(cand);
            }
        }
    }
    best
}

/// One record's contribution: its record-level and entry-level severity entries.
pub struct Source<'a> {
    /// The record (head).
    pub record: &'a Record,
    /// The affected entry that matched.
    pub entry: &'a Affected,
}

/// Red Hat's errata rating, written by AlmaLinux, Rocky and Red Hat as the summary prefix.
fn errata_rating(record: &Record, entry: &Affected) -> Option<(Severity, &'static str)> {
    let eco = entry.package.as_ref()?.ecosystem.as_str();
    let who = match eco.split(':').next()? {
        "AlmaLinux" => "almalinux",
        "Rocky Linux" => "rocky",
        "Red Hat" => "redhat",
        _ => return None,
    };
    let (word, _) = record.summary.as_deref()?.split_once(':')?;
    match word.trim() {
        w @ ("Critical" | "Important" | "Moderate" | "Low") => Some((Severity::parse(w)?, who)),
        _ => None,
    }
}

fn distro_rating(record: &Record, entry: &Affected) -> Option<(Severity, &'static str)> {
    if let Some(r) = errata_rating(record, entry) {
        return Some(r);
    }
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

/// Applies the precedence in the module doc. `os_package`: whether rule 1 applies; `ids`: the
/// finding's ids (primary + aliases), which select the borrowed severities of rule 6.
pub fn assess(sources: &[Source<'_>], os_package: bool, ids: &[&str]) -> Assessment {
    let mut out = Assessment::default();
    let mut best: [Option<(f64, String)>; 3] = [None, None, None]; // v3, v4, v2
    let mut distro: Option<(Severity, &'static str)> = None;
    let mut label: Option<(Severity, String)> = None;
    for s in sources {
        if os_package
            && let Some(r) = distro_rating(s.record, s.entry)
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
    } else if let Some((_, _, sev, who, from, cvss)) = borrowed(sources, ids) {
        out.severity = sev;
        out.source = who;
        out.via = Some(from);
        if let Some(c) = cvss
            && !out.cvss.iter().any(|x| x.vector == c.vector)
        {
            out.cvss.push(c);
        }
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
            Some(9.3)
        );
        assert_eq!(sc("Ubuntu", "medium"), None);
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
            &[],
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
            &[],
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
            &[],
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
            &[],
        );
        assert_eq!((a.severity, a.source.as_str()), (Severity::Medium, "ghsa"));
        assert_eq!(assess(&[], false, &[]).severity, Severity::Unknown);
    }

    #[test]
    fn v4_only_records_are_scored() {
        // PyPI/Bitnami records can carry only a v4 vector.
        let rec = Record {
            id: "GHSA-v4".into(),
            severity: vec![SeverityEntry {
                kind: "CVSS_V4".into(),
                score: "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:P/VC:N/VI:N/VA:N/SC:L/SI:L/SA:N".into(),
            }],
            database_specific: Some(serde_json::json!({"severity": "CRITICAL"})),
            ..Default::default()
        };
        let entry = Affected::default();
        let src = [Source {
            record: &rec,
            entry: &entry,
        }];
        let a = assess(&src, false, &[]);
        assert_eq!(
            (a.severity, a.source.as_str()),
            (Severity::Medium, "cvss-v4.0"),
            "5.3 per the FIRST calculator, before the label"
        );
        assert_eq!(a.cvss[0].base_score, 5.3);
        // With a v3 vector as well, v3 decides.
        let mut both = rec.clone();
        both.severity.push(SeverityEntry {
            kind: "CVSS_V3".into(),
            score: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H".into(),
        });
        let a = assess(
            &[Source {
                record: &both,
                entry: &entry,
            }],
            false,
            &[],
        );
        assert_eq!(
            (a.severity, a.source.as_str()),
            (Severity::Critical, "cvss-v3.1")
        );
        assert_eq!(a.cvss.len(), 2, "both vectors kept");
    }

    #[test]
    fn borrowed_severity_is_per_cve_and_last() {
        use crate::vulndb::osv::InheritedSeverity;
        let dsa = Record {
            id: "DSA-1-1".into(),
            upstream: vec!["CVE-1".into(), "CVE-2".into()],
            severity_from: vec![
                InheritedSeverity {
                    cve: "CVE-1".into(),
                    from: "UBUNTU-CVE-1".into(),
                    kind: "CVSS_V3".into(),
                    score: "CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H".into(),
                },
                InheritedSeverity {
                    cve: "CVE-2".into(),
                    from: "GHSA-2".into(),
                    kind: "LABEL".into(),
                    score: "LOW".into(),
                },
            ],
            ..Default::default()
        };
        let entry = Affected::default();
        let src = [Source {
            record: &dsa,
            entry: &entry,
        }];
        let a = assess(&src, true, &["CVE-1", "DSA-1-1"]);
        assert_eq!(
            (a.severity, a.source.as_str(), a.via.as_deref()),
            (Severity::High, "cvss-v3.1", Some("UBUNTU-CVE-1"))
        );
        assert_eq!(a.cvss[0].source, "UBUNTU-CVE-1");
        let a = assess(&src, true, &["CVE-2", "DSA-1-1"]);
        assert_eq!(
            (a.severity, a.source.as_str(), a.via.as_deref()),
            (Severity::Low, "ghsa", Some("GHSA-2"))
        );
        assert_eq!(assess(&src, true, &["CVE-3"]).severity, Severity::Unknown);
        // The distro's own rating still comes first.
        let urgent: Affected = serde_json::from_value(
            serde_json::json!({"ecosystem_specific": {"urgency": "medium"}}),
        )
        .unwrap();
        let a = assess(
            &[Source {
                record: &dsa,
                entry: &urgent,
            }],
            true,
            &["CVE-1"],
        );
        assert_eq!((a.severity, a.via), (Severity::Medium, None));
    }

    #[test]
    fn rpm_errata_rating_from_the_summary() {
        // As in the mirror's ALSA-2022:7288.
        let rec = Record {
            id: "ALSA-2022:7288".into(),
            summary: Some("Important: openssl security update".into()),
            ..Default::default()
        };
        let entry: Affected = serde_json::from_value(
            serde_json::json!({"package": {"ecosystem": "AlmaLinux:9", "name": "openssl"}}),
        )
        .unwrap();
        let src = [Source {
            record: &rec,
            entry: &entry,
        }];
        let a = assess(&src, true, &[]);
        assert_eq!(
            (a.severity, a.source.as_str()),
            (Severity::High, "almalinux")
        );
        let other = Record {
            summary: Some("Note: not a rating".into()),
            ..rec.clone()
        };
        assert_eq!(
            assess(
                &[Source {
                    record: &other,
                    entry: &entry
                }],
                true,
                &[]
            )
            .severity,
            Severity::Unknown
        );
    }
}
