//! Gate `vulnerabilities`: vulnerability matches by severity, CVSS, fix availability and age;
//! feed freshness and coverage; denylisted ids; and, beyond Anchore, CISA KEV membership and
//! EPSS probability.
//!
//! Reads [`GateInput::matches`] (suppressed matches already removed) and the DB facts. Message
//! and trigger-id formats follow anchore-engine byte for byte (`<vuln>+<pkg part>`).
//! CVSS exploitability/impact sub-scores are computed from v3 vectors. Match age uses the
//! advisory publication date (the inventory has no first-detection time).

use chrono::{DateTime, Utc};

use super::{
    Fired, Gate, GateInput, ParamKind, ParamSpec, RuleParams, TriggerSpec, compare, py_float,
    py_list, re_match_start,
};
use crate::matcher::{Cvss, FixState, Match};
use crate::types::Severity;

/// The `vulnerabilities` gate.
pub(crate) struct Vulnerabilities;

const CMP: ParamKind = ParamKind::Enum(&["=", "!=", "<", ">", "<=", ">="]);
const SEVERITIES: &[&str] = &["unknown", "negligible", "low", "medium", "high", "critical"];
const PKG_CLASS: ParamKind = ParamKind::Enum(&["all", "os", "non-os"]);

static PACKAGE: &[ParamSpec] = &[
    ParamSpec::new("package_type", PKG_CLASS, true).doc("package class: all, os, non-os"),
    ParamSpec::new("severity_comparison", CMP, false)
        .default(">")
        .doc("compare the match severity with `severity`"),
    ParamSpec::new("severity", ParamKind::Enum(SEVERITIES), false)
        .default("unknown")
        .doc("severity threshold"),
    ParamSpec::new("cvss_v3_base_score_comparison", CMP, false)
        .default(">=")
        .doc("comparison for the NVD base score"),
    ParamSpec::new("cvss_v3_base_score", ParamKind::Float, false)
        .doc("NVD CVSS v3 base score threshold"),
    ParamSpec::new("cvss_v3_exploitability_score_comparison", CMP, false)
        .default(">=")
        .doc("comparison for the NVD exploitability sub-score"),
    ParamSpec::new("cvss_v3_exploitability_score", ParamKind::Float, false)
        .doc("NVD CVSS v3 exploitability threshold"),
    ParamSpec::new("cvss_v3_impact_score_comparison", CMP, false)
        .default(">=")
        .doc("comparison for the NVD impact sub-score"),
    ParamSpec::new("cvss_v3_impact_score", ParamKind::Float, false)
        .doc("NVD CVSS v3 impact threshold"),
    ParamSpec::new("vendor_cvss_v3_base_score_comparison", CMP, false)
        .default(">=")
        .doc("comparison for the vendor base score"),
    ParamSpec::new("vendor_cvss_v3_base_score", ParamKind::Float, false)
        .doc("vendor CVSS v3 base score threshold"),
    ParamSpec::new("vendor_cvss_v3_exploitability_score_comparison", CMP, false)
        .default(">=")
        .doc("comparison for the vendor exploitability sub-score"),
    ParamSpec::new(
        "vendor_cvss_v3_exploitability_score",
        ParamKind::Float,
        false,
    )
    .doc("vendor CVSS v3 exploitability threshold"),
    ParamSpec::new("vendor_cvss_v3_impact_score_comparison", CMP, false)
        .default(">=")
        .doc("comparison for the vendor impact sub-score"),
    ParamSpec::new("vendor_cvss_v3_impact_score", ParamKind::Float, false)
        .doc("vendor CVSS v3 impact threshold"),
    ParamSpec::new("fix_available", ParamKind::Boolean, false)
        .doc("only matches with (true) / without (false) a fix"),
    ParamSpec::new("vendor_only", ParamKind::Boolean, false)
        .default("true")
        .doc("skip matches the vendor will not fix"),
    ParamSpec::new("max_days_since_creation", ParamKind::Integer, false)
        .doc("only vulnerabilities published more than N days ago"),
    ParamSpec::new("max_days_since_fix", ParamKind::Integer, false)
        .doc("with fix_available=true: only fixes older than N days (no date known: no filter)"),
    ParamSpec::new("package_path_exclude", ParamKind::Regex, false)
        .doc("non-os packages whose path matches are skipped"),
];
static STALE: &[ParamSpec] = &[
    ParamSpec::new("max_days_since_sync", ParamKind::Integer, true)
        .doc("maximum age of the vulnerability DB in days"),
];
static DENY: &[ParamSpec] = &[
    ParamSpec::new("vulnerability_ids", ParamKind::CommaList, true)
        .doc("vulnerability ids (CVE, GHSA, …)"),
    ParamSpec::new("vendor_only", ParamKind::Boolean, false)
        .default("true")
        .doc("skip matches the vendor will not fix"),
];
static KEV: &[ParamSpec] = &[
    ParamSpec::new("package_type", PKG_CLASS, false)
        .default("all")
        .doc("package class"),
    ParamSpec::new("vendor_only", ParamKind::Boolean, false)
        .default("true")
        .doc("skip matches the vendor will not fix"),
];
static EPSS: &[ParamSpec] = &[
    ParamSpec::new("epss_score", ParamKind::Float, true).doc("EPSS probability threshold, 0.0–1.0"),
    ParamSpec::new("epss_comparison", CMP, false)
        .default(">=")
        .doc("comparison with the threshold"),
    ParamSpec::new("package_type", PKG_CLASS, false)
        .default("all")
        .doc("package class"),
    ParamSpec::new("vendor_only", ParamKind::Boolean, false)
        .default("true")
        .doc("skip matches the vendor will not fix"),
];

static TRIGGERS: &[TriggerSpec] = &[
    TriggerSpec {
        name: "package",
        aliases: &[],
        description: "Fires per vulnerability match passing the severity, CVSS, fix and age filters.",
        params: PACKAGE,
        eval: package,
    },
    TriggerSpec {
        name: "stale_feed_data",
        aliases: &[],
        description: "Fires if the vulnerability DB is older than N days, or its age is unknown.",
        params: STALE,
        eval: stale,
    },
    TriggerSpec {
        name: "vulnerability_data_unavailable",
        aliases: &[],
        description: "Fires if there is no vulnerability data for the image's distro.",
        params: &[],
        eval: unavailable,
    },
    TriggerSpec {
        name: "blacklist",
        aliases: &["denylist"],
        description: "Fires once if any listed vulnerability id is matched.",
        params: DENY,
        eval: denylist,
    },
    TriggerSpec {
        name: "kev",
        aliases: &[],
        description: "Fires per match listed in CISA's Known Exploited Vulnerabilities catalog (Tollgate extension).",
        params: KEV,
        eval: kev,
    },
    TriggerSpec {
        name: "epss",
        aliases: &[],
        description: "Fires per match whose EPSS probability passes the threshold (Tollgate extension).",
        params: EPSS,
        eval: epss,
    },
];

fn is_os(m: &Match) -> bool {
    matches!(m.package_type.as_str(), "deb" | "apk" | "rpm" | "dpkg")
}

fn anchore_pkg_type(t: &str) -> &str {
    match t {
        "deb" => "dpkg",
        "apk" => "APKG",
        "java-archive" => "java",
        "go-module" => "go",
        "php-composer" => "composer",
        "dotnet" => "nuget",
        "rust-crate" => "rust",
        "unknown" | "" => "binary",
        other => other,
    }
}

fn class_ok(m: &Match, class: Option<&str>) -> bool {
    match class {
        Some("os") => is_os(m),
        Some("non-os") => !is_os(m),
        _ => true,
    }
}

fn vendor_ok(m: &Match, p: &RuleParams<'_>) -> bool {
    !(p.boolean("vendor_only") != Some(false) && m.fix_state == FixState::WontFix)
}

/// The `<vuln>+<pkg part>` trigger id and the name shown in messages.
fn id_and_name(m: &Match) -> (String, String) {
    if is_os(m) {
        return (
            format!("{}+{}", m.vulnerability.id, m.package_name),
            m.package_name.clone(),
        );
    }
    let parts: Vec<&str> = m.path.split('/').collect();
    let t = anchore_pkg_type(&m.package_type);
    let fname = match t {
        "java" | "gem" => parts.last().copied().unwrap_or(""),
        "npm" => parts
            .len()
            .checked_sub(2)
            .and_then(|i| parts.get(i))
            .copied()
            .unwrap_or(""),
        _ => "",
    };
    let fname = if fname.is_empty() {
        format!("{}-{}", m.package_name, m.package_version)
    } else {
        fname.to_string()
    };
    let shown = if m.path.is_empty() {
        m.package_name.clone()
    } else {
        m.path.clone()
    };
    (format!("{}+{fname}", m.vulnerability.id), shown)
}

fn link(m: &Match) -> String {
    if let Some(u) = m.vulnerability.urls.first() {
        return u.clone();
    }
    if m.vulnerability.id.starts_with("CVE-") {
        return format!("https://nvd.nist.gov/vuln/detail/{}", m.vulnerability.id);
    }
    "N/A".to_string()
}

/// (base, exploitability, impact) of one CVSS v3 record.
fn v3_scores(c: &Cvss) -> (f64, f64, f64) {
    let mut m = std::collections::HashMap::new();
    for part in c.vector.split('/') {
        if let Some((k, v)) = part.split_once(':') {
            m.insert(k, v);
        }
    }
    let changed = m.get("S") == Some(&"C");
    let av = match m.get("AV") {
        Some(&"N") => 0.85,
        Some(&"A") => 0.62,
        Some(&"L") => 0.55,
        Some(&"P") => 0.2,
        _ => return (c.base_score, -1.0, -1.0),
    };
    let ac = match m.get("AC") {
        Some(&"L") => 0.77,
        Some(&"H") => 0.44,
        _ => return (c.base_score, -1.0, -1.0),
    };
    let pr = match (m.get("PR"), changed) {
        (Some(&"N"), _) => 0.85,
        (Some(&"L"), false) => 0.62,
        (Some(&"L"), true) => 0.68,
        (Some(&"H"), false) => 0.27,
        (Some(&"H"), true) => 0.5,
        _ => return (c.base_score, -1.0, -1.0),
    };
    let ui = match m.get("UI") {
        Some(&"N") => 0.85,
        Some(&"R") => 0.62,
        _ => return (c.base_score, -1.0, -1.0),
    };
    let cia = |k: &str| match m.get(k) {
        Some(&"H") => 0.56,
        Some(&"L") => 0.22,
        _ => 0.0,
    };
    let iss = 1.0 - (1.0 - cia("C")) * (1.0 - cia("I")) * (1.0 - cia("A"));
    let impact = if changed {
        7.52 * (iss - 0.029) - 3.25 * (iss - 0.02_f64).powi(15)
    } else {
        6.42 * iss
    };
    let expl = 8.22 * av * ac * pr * ui;
    let round1 = |x: f64| (x * 10.0).round() / 10.0;
    (c.base_score, round1(expl), round1(impact))
}

fn max_scores(records: &[&Cvss]) -> (f64, f64, f64) {
    let mut best = (-1.0_f64, -1.0_f64, -1.0_f64);
    for c in records.iter().filter(|c| c.version.starts_with('3')) {
        let (b, e, i) = v3_scores(c);
        best = (best.0.max(b), best.1.max(e), best.2.max(i));
    }
    best
}

fn days_since(ts: Option<&str>, now: DateTime<Utc>) -> Option<i64> {
    let t = DateTime::parse_from_rfc3339(ts?).ok()?;
    Some((now - t.with_timezone(&Utc)).num_days())
}

fn score_filter(
    p: &RuleParams<'_>,
    names: [&str; 3],
    values: (f64, f64, f64),
    shown: &mut Vec<String>,
) -> bool {
    for (name, actual) in names.iter().zip([values.0, values.1, values.2]) {
        if let Some(threshold) = p.float(name) {
            let op = p.get(&format!("{name}_comparison")).unwrap_or(">=");
            if !compare(op, actual, threshold) {
                return false;
            }
            shown.push(format!("{name}={}", py_float(actual)));
        }
    }
    true
}

fn package(input: &GateInput<'_>, p: &RuleParams<'_>, out: &mut Vec<Fired>) {
    let class = p.get("package_type");
    let sev_op = p.get("severity_comparison").unwrap_or(">");
    let sev = Severity::parse(p.get("severity").unwrap_or("unknown")).unwrap_or_default();
    let exclude = p
        .get_nonempty("package_path_exclude")
        .and_then(re_match_start);
    let fix_wanted = p.boolean("fix_available");
    for m in &input.matches {
        if !class_ok(m, class) || !compare(sev_op, m.vulnerability.severity, sev) {
            continue;
        }
        if !is_os(m) && exclude.as_ref().is_some_and(|re| re.is_match(&m.path)) {
            continue;
        }
        if !vendor_ok(m, p) {
            continue;
        }
        let mut time_msg = Vec::new();
        if let Some(n) = p.integer("max_days_since_creation") {
            match days_since(m.vulnerability.published.as_deref(), input.now) {
                Some(age) if age > n => {
                    time_msg.push(format!(
                        "max_days_since_creation={}",
                        m.vulnerability.published.as_deref().unwrap_or("")
                    ));
                }
                _ => continue,
            }
        }
        let nvd: Vec<&Cvss> = m
            .vulnerability
            .cvss
            .iter()
            .filter(|c| c.source.eq_ignore_ascii_case("nvd") || c.source.is_empty())
            .collect();
        let vendor: Vec<&Cvss> = m
            .vulnerability
            .cvss
            .iter()
            .filter(|c| !(c.source.eq_ignore_ascii_case("nvd") || c.source.is_empty()))
            .collect();
        let mut score_msg = Vec::new();
        if !score_filter(
            p,
            [
                "cvss_v3_base_score",
                "cvss_v3_exploitability_score",
                "cvss_v3_impact_score",
            ],
            max_scores(&nvd),
            &mut score_msg,
        ) {
            continue;
        }
        let has_fix = m.fixed_in.iter().any(|v| !v.is_empty());
        if let Some(want) = fix_wanted
            && want != has_fix
        {
            continue;
        }
        let mut vendor_msg = Vec::new();
        if !score_filter(
            p,
            [
                "vendor_cvss_v3_base_score",
                "vendor_cvss_v3_exploitability_score",
                "vendor_cvss_v3_impact_score",
            ],
            max_scores(&vendor),
            &mut vendor_msg,
        ) {
            continue;
        }
        let fix_msg = if has_fix {
            format!("(fixed in: {})", m.fixed_in.join(", "))
        } else {
            String::new()
        };
        let wrap = |v: Vec<String>| {
            if v.is_empty() {
                String::new()
            } else {
                format!("({})", v.join(" "))
            }
        };
        let (id, name) = id_and_name(m);
        let message = format!(
            "{} Vulnerability found in {} package type ({}) - {} {}{}{}{}({} - {})",
            m.vulnerability.severity.as_str().to_ascii_uppercase(),
            if is_os(m) { "os" } else { "non-os" },
            anchore_pkg_type(&m.package_type),
            name,
            fix_msg,
            wrap(score_msg),
            wrap(time_msg),
            wrap(vendor_msg),
            m.vulnerability.id,
            link(m)
        );
        out.push(Fired {
            trigger_id: Some(id),
            message,
            vulnerability_id: Some(m.vulnerability.id.clone()),
            package: Some(m.package_name.clone()),
        });
    }
}

fn stale(input: &GateInput<'_>, p: &RuleParams<'_>, out: &mut Vec<Fired>) {
    let Some(max) = p.integer("max_days_since_sync") else {
        return;
    };
    let stale = match input.db_built {
        None => true,
        Some(built) => input.now - built > chrono::Duration::days(max),
    };
    if stale {
        out.push(Fired::msg(format!(
            "The vulnerability feed for this image distro is older than MAXAGE ({}) days",
            p.get("max_days_since_sync").unwrap_or("").trim()
        )));
    }
}

fn unavailable(input: &GateInput<'_>, _: &RuleParams<'_>, out: &mut Vec<Fired>) {
    let missing = match input.distro_data {
        Some(has) => !has,
        None => input.db_built.is_none() || input.inventory.distro.is_none(),
    };
    if missing {
        let ns = input.inventory.distro.as_ref().map_or_else(
            || "None".to_string(),
            |d| format!("{}:{}", d.id, d.version_id),
        );
        out.push(Fired::msg(format!(
            "Distro-specific feed data not found for distro namespace: {ns}. Cannot perform CVE scan OS/distro packages"
        )));
    }
}

fn denylist(input: &GateInput<'_>, p: &RuleParams<'_>, out: &mut Vec<Fired>) {
    let mut found = Vec::new();
    for vid in p.list("vulnerability_ids") {
        let hit = input.matches.iter().any(|m| {
            vendor_ok(m, p) && (m.vulnerability.id == vid || m.vulnerability.aliases.contains(&vid))
        });
        if hit {
            found.push(vid);
        }
    }
    if !found.is_empty() {
        out.push(Fired::msg(format!(
            "Blacklisted vulnerabilities detected: {}",
            py_list(&found)
        )));
    }
}

fn kev(input: &GateInput<'_>, p: &RuleParams<'_>, out: &mut Vec<Fired>) {
    let class = p.get("package_type");
    for m in &input.matches {
        if m.vulnerability.kev && class_ok(m, class) && vendor_ok(m, p) {
            let (id, name) = id_and_name(m);
            out.push(Fired {
                trigger_id: Some(id),
                message: format!("{} in package {} {} is listed in the CISA Known Exploited Vulnerabilities catalog", m.vulnerability.id, name, m.package_version),
                vulnerability_id: Some(m.vulnerability.id.clone()),
                package: Some(m.package_name.clone()),
            });
        }
    }
}

fn epss(input: &GateInput<'_>, p: &RuleParams<'_>, out: &mut Vec<Fired>) {
    let Some(threshold) = p.float("epss_score") else {
        return;
    };
    let op = p.get("epss_comparison").unwrap_or(">=");
    let class = p.get("package_type");
    for m in &input.matches {
        let Some(score) = m.vulnerability.epss else {
            continue;
        };
        if class_ok(m, class) && vendor_ok(m, p) && compare(op, score, threshold) {
            let (id, name) = id_and_name(m);
            out.push(Fired {
                trigger_id: Some(id),
                message: format!(
                    "{} in package {} {} has EPSS probability {score:.5} ({op} {threshold})",
                    m.vulnerability.id, name, m.package_version
                ),
                vulnerability_id: Some(m.vulnerability.id.clone()),
                package: Some(m.package_name.clone()),
            });
        }
    }
}

impl Gate for Vulnerabilities {
    fn name(&self) -> &'static str {
        "vulnerabilities"
    }
    fn description(&self) -> &'static str {
        "CVE/vulnerability checks, feed freshness, KEV and EPSS."
    }
    fn triggers(&self) -> &'static [TriggerSpec] {
        TRIGGERS
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cvss_sub_scores_match_nvd() {
        // CVE-2021-44228: 10.0, exploitability 3.9, impact 6.0.
        let c = Cvss {
            version: "3.1".into(),
            vector: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H".into(),
            base_score: 10.0,
            source: "nvd".into(),
        };
        assert_eq!(v3_scores(&c), (10.0, 3.9, 6.0));
        let c = Cvss {
            version: "3.1".into(),
            vector: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N".into(),
            base_score: 7.5,
            source: "nvd".into(),
        };
        assert_eq!(v3_scores(&c), (7.5, 3.9, 3.6));
    }
}
