//! `gitlab`: GitLab's container-scanning security report, schema version 15.2.1, for
//! `artifacts:reports:container_scanning` (the merge-request security widget and the
//! vulnerability report).
//!
//! What the schema and GitLab's ingestion demand, and how each is met: a `scan` object with
//! analyzer/scanner (both Tollgate), `type: container_scanning`, `start_time`/`end_time` as
//! UTC `YYYY-MM-DDTHH:MM:SS` (no fraction, no zone); capitalised severities (negligible →
//! `Info`); identifiers with the primary (CVE/GHSA/…) first, each with an http(s) URL or none
//! (never an empty string); CVSS vectors only when they match the schema's v2/v3.x patterns (v4
//! vectors are not accepted by 15.2.1 and are left out); location = image, operating system and
//! dependency. Vulnerability ids are UUID-shaped hashes of the finding, so they are stable across
//! runs. Suppressed matches are left out (GitLab has no "suppressed" state to carry them). The
//! report never fails to render: unknown values become `Unknown`/`unknown`, not errors (the one
//! error is a `--dockerfile` that cannot be read).
//!
//! Fixes: every vulnerability carries its fix in `solution` ("Upgrade PKG to VERSION or later.",
//! or why there is none). `remediations` (a base64 `git apply` patch per fix) are emitted only
//! where a real patch exists: with `--dockerfile`, for OS packages with a released fix — one
//! patch per package inserting an upgrade `RUN` after the instruction that installed it (see
//! [`super::remediation`]); this is what GitLab's "Resolve with merge request" / "Download
//! patch" apply. Without `--dockerfile`, and for language packages, `remediations` is empty:
//! an image has no source file to patch, and a made-up diff would fail `git apply`.

use std::io::Write;
use std::sync::LazyLock;

use base64::Engine as _;
use regex::Regex;
use serde_json::{Value, json};

use super::dockerfile::repo_relative;
use super::facts::{
    ImageIdentity, advisory_url, is_http_url, listed_matches, stable_hash, truncate_chars,
};
use super::{Adapter, RenderCx, ReportError, ReportOptions, remediation};
use crate::analysis::Analysis;
use crate::matcher::Match;
use crate::types::Severity;

/// The report schema version emitted.
pub(crate) const SCHEMA_VERSION: &str = "15.2.1";

/// The `gitlab` adapter.
pub(crate) struct Gitlab;

impl Adapter for Gitlab {
    fn id(&self) -> &'static str {
        "gitlab"
    }

    fn aliases(&self) -> &'static [&'static str] {
        &["gitlab-container-scanning", "container-scanning"]
    }

    fn description(&self) -> &'static str {
        "GitLab container-scanning report (schema 15.2.1) for the MR security widget"
    }

    fn write(
        &self,
        analysis: &Analysis,
        cx: &RenderCx<'_>,
        out: &mut dyn Write,
    ) -> Result<(), ReportError> {
        let value = build(analysis, cx.options)?;
        serde_json::to_writer_pretty(&mut *out, &value).map_err(|source| ReportError::Json {
            format: "gitlab",
            source,
        })?;
        out.write_all(b"\n").map_err(|source| ReportError::Render {
            format: "gitlab",
            source,
        })
    }
}

static CVSS2: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(r"^((AV:[NAL]|AC:[LMH]|Au:[MSN]|[CIA]:[NPC]|E:(U|POC|F|H|ND)|RL:(OF|TF|W|U|ND)|RC:(UC|UR|C|ND)|CDP:(N|L|LM|MH|H|ND)|TD:(N|L|M|H|ND)|[CIA]R:(L|M|H|ND))/)*(AV:[NAL]|AC:[LMH]|Au:[MSN]|[CIA]:[NPC]|E:(U|POC|F|H|ND)|RL:(OF|TF|W|U|ND)|RC:(UC|UR|C|ND)|CDP:(N|L|LM|MH|H|ND)|TD:(N|L|M|H|ND)|[CIA]R:(L|M|H|ND))$").ok()
});
static CVSS3: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(r"^CVSS:3[.][01]/((AV:[NALP]|AC:[LH]|PR:[NLH]|UI:[NR]|S:[UC]|[CIA]:[NLH]|E:[XUPFH]|RL:[XOTWU]|RC:[XURC]|[CIA]R:[XLMH]|MAV:[XNALP]|MAC:[XLH]|MPR:[XNLH]|MUI:[XNR]|MS:[XUC]|M[CIA]:[XNLH])/)*(AV:[NALP]|AC:[LH]|PR:[NLH]|UI:[NR]|S:[UC]|[CIA]:[NLH]|E:[XUPFH]|RL:[XOTWU]|RC:[XURC]|[CIA]R:[XLMH]|MAV:[XNALP]|MAC:[XLH]|MPR:[XNLH]|MUI:[XNR]|MS:[XUC]|M[CIA]:[XNLH])$").ok()
});

/// True when GitLab's 15.2.1 schema accepts the vector.
fn vector_accepted(v: &str) -> bool {
    let len = v.len();
    let v2 = (16..=128).contains(&len) && CVSS2.as_ref().is_some_and(|r| r.is_match(v));
    let v3 = (32..=128).contains(&len) && CVSS3.as_ref().is_some_and(|r| r.is_match(v));
    v2 || v3
}

/// `2024-11-21T08:30:15.123Z` → `2024-11-21T08:30:15` in UTC; the current time when unparsable.
pub(crate) fn gitlab_time(rfc3339: &str) -> String {
    let t = chrono::DateTime::parse_from_rfc3339(rfc3339)
        .map(|t| t.with_timezone(&chrono::Utc))
        .unwrap_or_else(|_| chrono::Utc::now());
    t.format("%Y-%m-%dT%H:%M:%S").to_string()
}

fn capitalised(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "Critical",
        Severity::High => "High",
        Severity::Medium => "Medium",
        Severity::Low => "Low",
        Severity::Negligible => "Info",
        Severity::Unknown => "Unknown",
    }
}

fn identifier_type(id: &str) -> String {
    let upper = id.to_ascii_uppercase();
    for (prefix, t) in [
        ("CVE-", "cve"),
        ("GHSA-", "ghsa"),
        ("PYSEC-", "pysec"),
        ("DSA-", "dsa"),
        ("DLA-", "dla"),
        ("USN-", "usn"),
        ("RUSTSEC-", "rustsec"),
        ("GO-", "go"),
        ("ALSA-", "alsa"),
        ("RHSA-", "rhsa"),
    ] {
        if upper.starts_with(prefix) {
            return t.to_string();
        }
    }
    id.split('-')
        .next()
        .filter(|s| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric()))
        .map_or_else(|| "advisory".to_string(), str::to_ascii_lowercase)
}

fn identifier(id: &str) -> Value {
    let mut v = json!({
        "type": identifier_type(id),
        "name": id,
        "value": id,
    });
    if let Some(url) = advisory_url(id) {
        v["url"] = json!(url);
    }
    v
}

/// UUID-shaped (8-4-4-4-12) stable id from a hash.
fn uuid_like(hash: &str) -> String {
    let h = hash.get(..32).unwrap_or("00000000000000000000000000000000");
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// The report id of a finding: a UUID-shaped hash, stable across runs.
fn finding_id(m: &Match, id: &ImageIdentity) -> String {
    let v = &m.vulnerability;
    uuid_like(&stable_hash(&[
        &id.repository,
        &v.id,
        &m.package_type,
        &m.package_name,
        &m.package_version,
        &m.path,
    ]))
}

fn vulnerability(m: &Match, id: &ImageIdentity, finding: &str) -> Value {
    let v = &m.vulnerability;
    let mut identifiers = vec![identifier(&v.id)];
    for alias in &v.aliases {
        if !alias.is_empty() && alias != &v.id {
            identifiers.push(identifier(alias));
        }
    }
    let name = if v.summary.is_empty() {
        v.id.clone()
    } else {
        truncate_chars(&v.summary, 255)
    };
    let description = if v.description.is_empty() {
        if v.summary.is_empty() {
            format!(
                "{} affects {} {} ({}).",
                v.id, m.package_name, m.package_version, m.package_type
            )
        } else {
            v.summary.clone()
        }
    } else {
        truncate_chars(&v.description, 1_048_576)
    };
    let solution = if m.fixed_in.is_empty() {
        match m.fix_state {
            crate::matcher::FixState::WontFix => {
                "The vendor will not fix this vulnerability.".to_string()
            }
            _ => "No fixed version is known yet.".to_string(),
        }
    } else {
        format!(
            "Upgrade {} to {} or later.",
            m.package_name,
            m.fixed_in.join(" / ")
        )
    };
    let mut out = json!({
        "id": finding,
        "name": name,
        "description": description,
        "severity": capitalised(v.severity),
        "solution": truncate_chars(&solution, 7000),
        "identifiers": identifiers,
        "location": {
            "dependency": {
                "package": { "name": m.package_name },
                "version": m.package_version,
            },
            "operating_system": id.operating_system,
            "image": id.display,
        },
    });
    let vectors: Vec<Value> = v
        .cvss
        .iter()
        .filter(|c| vector_accepted(&c.vector))
        .take(10)
        .map(|c| {
            json!({
                "vendor": if c.source.is_empty() { "unknown" } else { c.source.as_str() },
                "vector": c.vector,
            })
        })
        .collect();
    if !vectors.is_empty() {
        out["cvss_vectors"] = Value::Array(vectors);
    }
    let links: Vec<Value> = v
        .urls
        .iter()
        .filter(|u| is_http_url(u))
        .take(20)
        .map(|u| json!({ "url": u }))
        .collect();
    if !links.is_empty() {
        out["links"] = Value::Array(links);
    }
    let mut details = serde_json::Map::new();
    details.insert(
        "package_type".into(),
        json!({"type": "text", "name": "Package type", "value": m.package_type}),
    );
    if !m.path.is_empty() {
        details.insert(
            "path".into(),
            json!({"type": "text", "name": "Path in image", "value": m.path}),
        );
    }
    if !m.layer_digest.is_empty() {
        details.insert(
            "layer".into(),
            json!({"type": "text", "name": "Layer", "value": m.layer_digest}),
        );
    }
    if v.kev {
        details.insert(
            "kev".into(),
            json!({"type": "text", "name": "CISA KEV", "value": "Listed in CISA's Known Exploited Vulnerabilities catalog"}),
        );
    }
    if !m.purl.is_empty() {
        details.insert(
            "purl".into(),
            json!({"type": "text", "name": "Package URL", "value": m.purl}),
        );
    }
    out["details"] = Value::Object(details);
    out
}

/// Builds the report.
pub(crate) fn build(analysis: &Analysis, opts: &ReportOptions) -> Result<Value, ReportError> {
    let id = ImageIdentity::of(analysis);
    let time = gitlab_time(&analysis.created);
    let version = if analysis.tool.version.is_empty() {
        env!("CARGO_PKG_VERSION").to_string()
    } else {
        analysis.tool.version.clone()
    };
    let tool = json!({
        "id": "tollgate",
        "name": "Tollgate",
        "version": version,
        "vendor": { "name": "Tollgate" },
    });
    let findings: Vec<(String, &Match)> = listed_matches(analysis, false)
        .into_iter()
        .map(|m| (finding_id(m, &id), m))
        .collect();
    let vulnerabilities: Vec<Value> = findings
        .iter()
        .map(|(finding, m)| vulnerability(m, &id, finding))
        .collect();
    let mut notes: Vec<Value> = Vec::new();
    let remediations: Vec<Value> = match &opts.dockerfile {
        None => Vec::new(),
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|source| ReportError::Dockerfile {
                path: path.clone(),
                source,
            })?;
            let rel = repo_relative(path);
            if rel.starts_with('/') || rel.split('/').any(|c| c == "..") {
                notes.push(json!({
                    "level": "info",
                    "value": format!("no remediations: the Dockerfile {rel} is outside the working directory, so no repository-relative patch can be made"),
                }));
                Vec::new()
            } else {
                remediation::remediations(analysis, &findings, &rel, &text)
                    .into_iter()
                    .map(|r| {
                        json!({
                            "fixes": r.fixes.iter().map(|f| json!({"id": f})).collect::<Vec<_>>(),
                            "summary": truncate_chars(&r.summary, 7000),
                            "diff": base64::engine::general_purpose::STANDARD.encode(r.diff.as_bytes()),
                        })
                    })
                    .collect()
            }
        }
    };
    let mut scan = json!({
        "analyzer": tool,
        "scanner": tool,
        "type": "container_scanning",
        "start_time": time,
        "end_time": time,
        "status": "success",
    });
    let mut messages: Vec<Value> = analysis
        .inventory
        .problems
        .iter()
        .map(|p| {
            let text = match &p.path {
                Some(path) => format!("{}: {} ({path})", p.source, p.message),
                None => format!("{}: {}", p.source, p.message),
            };
            let value = if text.is_empty() {
                "problem".to_string()
            } else {
                text
            };
            json!({"level": "warn", "value": value})
        })
        .collect();
    messages.extend(notes);
    if !messages.is_empty() {
        scan["messages"] = Value::Array(messages);
    }
    Ok(json!({
        "version": SCHEMA_VERSION,
        "schema": format!("https://gitlab.com/gitlab-org/security-products/security-report-schemas/-/raw/v{SCHEMA_VERSION}/dist/container-scanning-report-format.json"),
        "scan": scan,
        "vulnerabilities": vulnerabilities,
        "remediations": remediations,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_and_vectors() {
        assert_eq!(
            gitlab_time("2024-11-21T10:30:15.123+02:00"),
            "2024-11-21T08:30:15"
        );
        assert_eq!(gitlab_time("garbage").len(), 19);
        assert!(vector_accepted(
            "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:H"
        ));
        assert!(vector_accepted("AV:N/AC:L/Au:S/C:N/I:N/A:P"));
        assert!(!vector_accepted(
            "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:P/VC:N/VI:N/VA:N/SC:L/SI:L/SA:N"
        ));
        assert_eq!(identifier_type("GHSA-xxxx"), "ghsa");
        assert_eq!(identifier_type("bogus id!"), "advisory");
    }
}
