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

/// Parses a vector and computes its base score: `(version, score)`; `None` for vectors that do
/// not parse and for CVSS v4.0, whose score needs the full macro-vector table (v4 vectors are
/// still kept and shown, they just do not decide severity here).
fn score(entry: &SeverityEntry) -> Option<(String, f64)> {
    let v = entry.score.trim();
    if let Some(rest) = v
        .strip_prefix("CVSS:3.1/")
        .or_else(|| v.strip_prefix("CVSS:3.0/"))
    {
        let version = if v.starts_with("CVSS:3.1") {
            "3.1"
        } else {
            "3.0"
        };
        return cvss3(rest).map(|s| (version.to_string(), s));
    }
    if entry.kind == "CVSS_V2" || v.starts_with("AV:") {
        return cvss2(v.trim_start_matches("CVSS:2.0/")).map(|s| ("2.0".to_string(), s));
    }
    None
}

fn metrics(rest: &str) -> Option<std::collections::HashMap<&str, &str>> {
    let mut m = std::collections::HashMap::new();
    for part in rest.split('/') {
        let (k, v) = part.split_once(':')?;
        if m.insert(k, v).is_some() {
            return None;
        }
    }
    Some(m)
}

fn roundup(x: f64) -> f64 {
    let i = (x * 100_000.0).round() as i64;
    if i % 10_000 == 0 {
        i as f64 / 100_000.0
    } else {
        ((i / 10_000) + 1) as f64 / 10.0
    }
}

/// CVSS v3.x base score (FIRST CVSS v3.1 specification, section 7.1).
fn cvss3(rest: &str) -> Option<f64> {
    let m = metrics(rest)?;
    let changed = match *m.get("S")? {
        "U" => false,
        "C" => true,
        _ => return None,
    };
    let av = match *m.get("AV")? {
        "N" => 0.85,
        "A" => 0.62,
        "L" => 0.55,
        "P" => 0.2,
        _ => return None,
    };
    let ac = match *m.get("AC")? {
        "L" => 0.77,
        "H" => 0.44,
        _ => return None,
    };
    let pr = match (*m.get("PR")?, changed) {
        ("N", _) => 0.85,
        ("L", false) => 0.62,
        ("L", true) => 0.68,
        ("H", false) => 0.27,
        ("H", true) => 0.5,
        _ => return None,
    };
    let ui = match *m.get("UI")? {
        "N" => 0.85,
        "R" => 0.62,
        _ => return None,
    };
    let cia = |k: &str| -> Option<f64> {
        match *m.get(k)? {
            "H" => Some(0.56),
            "L" => Some(0.22),
            "N" => Some(0.0),
            _ => None,
        }
    };
    let iss = 1.0 - (1.0 - cia("C")?) * (1.0 - cia("I")?) * (1.0 - cia("A")?);
    let impact = if changed {
        7.52 * (iss - 0.029) - 3.25 * (iss - 0.02).powi(15)
    } else {
        6.42 * iss
    };
    let exploitability = 8.22 * av * ac * pr * ui;
    if impact <= 0.0 {
        return Some(0.0);
    }
    Some(if changed {
        roundup((1.08 * (impact + exploitability)).min(10.0))
    } else {
        roundup((impact + exploitability).min(10.0))
    })
}

/// CVSS v2 base score (CVSS v2 guide, section 3.2.1).
fn cvss2(rest: &str) -> Option<f64> {
    let m = metrics(rest)?;
    let av = match *m.get("AV")? {
        "L" => 0.395,
        "A" => 0.646,
        "N" => 1.0,
        _ => return None,
    };
    let ac = match *m.get("AC")? {
        "H" => 0.35,
        "M" => 0.61,
        "L" => 0.71,
        _ => return None,
    };
    let au = match *m.get("Au")? {
        "M" => 0.45,
        "S" => 0.56,
        "N" => 0.704,
        _ => return None,
    };
    let cia = |k: &str| -> Option<f64> {
        match *m.get(k)? {
            "N" => Some(0.0),
            "P" => Some(0.275),
            "C" => Some(0.660),
            _ => None,
        }
    };
    let impact = 10.41 * (1.0 - (1.0 - cia("C")?) * (1.0 - cia("I")?) * (1.0 - cia("A")?));
    let exploitability = 20.0 * av * ac * au;
    let f = if impact == 0.0 { 0.0 } else { 1.176 };
    Some((((0.6 * impact) + (0.4 * exploitability) - 1.5) * f * 10.0).round() / 10.0)
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
