//! The OSV record model (every field optional except `id` and `modified`, as in the schema) and
//! [`validate`], the structural schema check run on every record before it enters the DB.
//!
//! Does not compare versions (that is `version`) and does not decide matches (that is
//! `matcher`). `validate` implements the OSV JSON schema's constraints that matter for matching:
//! required fields, RFC 3339 timestamps, known ecosystems, range types, event shapes (exactly
//! one key, at least one `introduced`, `fixed` xor `last_affected`, GIT ranges need a repo),
//! reference and severity types, and top-level xor per-affected severity. The newest schema's
//! "GIT events are full commit hashes" rule is not enforced: schema versions before it did not
//! have it, published PYSEC records break it (`….patch` suffixes, short hashes), and GIT ranges
//! are never used for version matching, so skipping a whole record for it would lose its
//! ECOSYSTEM ranges.

use serde::{Deserialize, Deserializer, Serialize};

/// Ecosystem names the OSV schema knows (the part before `:`).
pub const KNOWN_ECOSYSTEMS: &[&str] = &[
    "AlmaLinux",
    "Alpaquita",
    "Alpine",
    "Android",
    "Azure Linux",
    "BellSoft Hardened Containers",
    "Bioconductor",
    "Bitnami",
    "Chainguard",
    "CleanStart",
    "ConanCenter",
    "CRAN",
    "crates.io",
    "Debian",
    "Docker Hardened Images",
    "Echo",
    "FreeBSD",
    "GHC",
    "GitHub Actions",
    "Go",
    "Hackage",
    "Hex",
    "Julia",
    "Kubernetes",
    "Linux",
    "Mageia",
    "Maven",
    "MinimOS",
    "npm",
    "NuGet",
    "opam",
    "openEuler",
    "openSUSE",
    "OSS-Fuzz",
    "Packagist",
    "Photon OS",
    "Pub",
    "PyPI",
    "Red Hat",
    "Rocky Linux",
    "Root",
    "RubyGems",
    "SUSE",
    "SwiftURL",
    "TuxCare",
    "Ubuntu",
    "VSCode",
    "Wolfi",
    "GIT",
];

fn nullable<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// An id in `related`: a plain string (schema ≤ 1.6) or `{id, type}` (later).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum RelatedId {
    /// `"CVE-…"`.
    Plain(String),
    /// `{"id": "CVE-…", …}`.
    Object {
        /// The id.
        id: String,
    },
}

impl RelatedId {
    /// The id string.
    pub fn id(&self) -> &str {
        match self {
            RelatedId::Plain(s) => s,
            RelatedId::Object { id } => id,
        }
    }
}

/// One OSV record.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Record {
    /// The advisory id.
    #[serde(default)]
    pub id: String,
    /// Schema version the record claims.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema_version: Option<String>,
    /// RFC 3339 modification time (required by the schema).
    #[serde(default)]
    pub modified: String,
    /// RFC 3339 publication time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub published: Option<String>,
    /// Set when the record was withdrawn; such records never match.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub withdrawn: Option<String>,
    /// Ids of the same vulnerability.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub aliases: Vec<String>,
    /// Ids this record derives from (distro records list their CVEs here).
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub upstream: Vec<String>,
    /// Loosely related ids.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub related: Vec<RelatedId>,
    /// One-line summary.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    /// Long description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<String>,
    /// Top-level severities.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub severity: Vec<SeverityEntry>,
    /// Affected packages.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub affected: Vec<Affected>,
    /// References.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub references: Vec<Reference>,
    /// Free-form data of the home database (GHSA `severity`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub database_specific: Option<serde_json::Value>,
    /// Severities this record takes from sibling records of the same CVE, filled in at DB build
    /// time (`vulndb::build::siblings`) for records that carry none of their own (Debian DSA,
    /// DLA and DEBIAN-CVE records). Not an OSV field: [`parse_and_validate`] empties it, so
    /// input can never claim one.
    #[serde(
        default,
        rename = "x_tollgate_severity_from",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub severity_from: Vec<InheritedSeverity>,
}

/// A severity borrowed from another record that names the same CVE (see
/// [`Record::severity_from`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct InheritedSeverity {
    /// The CVE both records name.
    pub cve: String,
    /// The id of the record that gave the severity (`GHSA-…`, `UBUNTU-CVE-…`, `PYSEC-…`).
    pub from: String,
    /// `CVSS_V3`, `CVSS_V4`, `CVSS_V2` (then `score` is the vector) or `LABEL` (then `score` is
    /// the sibling's `database_specific.severity` word, e.g. `HIGH`).
    #[serde(rename = "type")]
    pub kind: String,
    /// The vector or the word.
    pub score: String,
}

/// `{type, score}`: a CVSS vector or a vendor rating.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeverityEntry {
    /// `CVSS_V2`, `CVSS_V3`, `CVSS_V4`, `Ubuntu`.
    #[serde(default, rename = "type")]
    pub kind: String,
    /// The vector string or rating word.
    #[serde(default)]
    pub score: String,
}

/// A reference URL.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reference {
    /// `ADVISORY`, `FIX`, `WEB`, …
    #[serde(default, rename = "type")]
    pub kind: String,
    /// The URL.
    #[serde(default)]
    pub url: String,
}

/// The package an `affected` entry names.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PackageRef {
    /// `PyPI`, `Debian:12`, …
    #[serde(default)]
    pub ecosystem: String,
    /// Name in the ecosystem's spelling.
    #[serde(default)]
    pub name: String,
    /// Package URL, when given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purl: Option<String>,
}

/// One `affected[]` entry: the matching unit.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Affected {
    /// The package (absent only in malformed records).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub package: Option<PackageRef>,
    /// Per-package severities.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub severity: Vec<SeverityEntry>,
    /// Version ranges.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub ranges: Vec<Range>,
    /// Explicitly listed affected versions.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub versions: Vec<String>,
    /// Ecosystem-specific data (Debian `urgency`, Ubuntu `ubuntu_priority`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ecosystem_specific: Option<serde_json::Value>,
    /// Database-specific data (GHSA `last_known_affected_version_range`, RustSec `informational`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub database_specific: Option<serde_json::Value>,
}

/// A range of affected versions.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Range {
    /// `ECOSYSTEM`, `SEMVER` or `GIT`.
    #[serde(default, rename = "type")]
    pub kind: String,
    /// Repository of GIT ranges.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repo: Option<String>,
    /// The events, as written.
    #[serde(default, deserialize_with = "nullable")]
    pub events: Vec<Event>,
}

/// One range event. Exactly one field is set in a valid record.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// Opens a range (`"0"` = from the first version).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub introduced: Option<String>,
    /// Closes a range, exclusive.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fixed: Option<String>,
    /// Closes a range, inclusive.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_affected: Option<String>,
    /// Caps GIT walks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<String>,
}

impl Event {
    fn set_count(&self) -> usize {
        [
            &self.introduced,
            &self.fixed,
            &self.last_affected,
            &self.limit,
        ]
        .iter()
        .filter(|v| v.is_some())
        .count()
    }
}

impl Record {
    /// Every id naming this vulnerability: `id`, `aliases`, `upstream` (not `related`).
    pub fn all_ids(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.id.as_str())
            .chain(self.aliases.iter().map(String::as_str))
            .chain(self.upstream.iter().map(String::as_str))
    }
}

/// Why a record failed the schema check. The message names the field at fault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaViolation {
    /// JSON-pointer-like location (`/affected/0/ranges/1/events`).
    pub at: String,
    /// What is wrong.
    pub message: String,
}

impl std::fmt::Display for SchemaViolation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.at, self.message)
    }
}

fn violation(at: impl Into<String>, message: impl Into<String>) -> SchemaViolation {
    SchemaViolation {
        at: at.into(),
        message: message.into(),
    }
}

fn check_time(at: &str, value: &str) -> Result<(), SchemaViolation> {
    chrono::DateTime::parse_from_rfc3339(value)
        .map(|_| ())
        .map_err(|e| violation(at, format!("`{value}` is not an RFC 3339 timestamp ({e})")))
}

const REFERENCE_TYPES: &[&str] = &[
    "ADVISORY",
    "ARTICLE",
    "DETECTION",
    "DISCUSSION",
    "REPORT",
    "FIX",
    "INTRODUCED",
    "GIT",
    "PACKAGE",
    "EVIDENCE",
    "WEB",
];
const SEVERITY_TYPES: &[&str] = &["CVSS_V2", "CVSS_V3", "CVSS_V4", "Ubuntu"];

/// Parses one OSV JSON document and checks it against the schema rules listed in the module doc.
/// `expected_id` is the id implied by the zip member name (`<id>.json`), when known.
pub fn parse_and_validate(
    bytes: &[u8],
    expected_id: Option<&str>,
) -> Result<Record, SchemaViolation> {
    let value: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|e| violation("", format!("not JSON: {e}")))?;
    let obj = value
        .as_object()
        .ok_or_else(|| violation("", "the record is not a JSON object"))?;
    for key in ["id", "modified"] {
        match obj.get(key) {
            Some(serde_json::Value::String(s)) if !s.is_empty() => {}
            Some(_) => return Err(violation(format!("/{key}"), "must be a non-empty string")),
            None => return Err(violation(format!("/{key}"), "required field is missing")),
        }
    }
    let mut record: Record =
        serde_json::from_value(value).map_err(|e| violation("", format!("wrong shape: {e}")))?;
    record.severity_from.clear();
    validate(&record)?;
    if let Some(expected) = expected_id
        && expected != record.id
    {
        return Err(violation(
            "/id",
            format!(
                "id `{}` does not match the file name `{expected}.json`",
                record.id
            ),
        ));
    }
    Ok(record)
}

/// Checks a parsed record against the schema rules (see the module doc).
pub fn validate(r: &Record) -> Result<(), SchemaViolation> {
    if r.id.is_empty() || r.id.chars().any(|c| c.is_whitespace() || c == '/') {
        return Err(violation(
            "/id",
            format!("`{}` is not a valid OSV id", r.id),
        ));
    }
    check_time("/modified", &r.modified)?;
    if let Some(p) = &r.published {
        check_time("/published", p)?;
    }
    if let Some(w) = &r.withdrawn {
        check_time("/withdrawn", w)?;
    }
    for (i, s) in r.severity.iter().enumerate() {
        check_severity(&format!("/severity/{i}"), s)?;
    }
    for (i, reference) in r.references.iter().enumerate() {
        if !REFERENCE_TYPES.contains(&reference.kind.as_str()) {
            return Err(violation(
                format!("/references/{i}/type"),
                format!("unknown reference type `{}`", reference.kind),
            ));
        }
        if reference.url.is_empty() {
            return Err(violation(format!("/references/{i}/url"), "missing URL"));
        }
    }
    for (i, a) in r.affected.iter().enumerate() {
        let at = format!("/affected/{i}");
        let Some(pkg) = &a.package else {
            if a.ranges.iter().any(|r| r.kind != "GIT") || !a.versions.is_empty() {
                return Err(violation(format!("{at}/package"), "missing package"));
            }
            continue;
        };
        if pkg.name.is_empty() {
            return Err(violation(
                format!("{at}/package/name"),
                "missing package name",
            ));
        }
        let base = pkg.ecosystem.split(':').next().unwrap_or_default();
        if !KNOWN_ECOSYSTEMS.contains(&base) {
            return Err(violation(
                format!("{at}/package/ecosystem"),
                format!("unknown ecosystem `{}`", pkg.ecosystem),
            ));
        }
        if !r.severity.is_empty() && !a.severity.is_empty() {
            return Err(violation(
                format!("{at}/severity"),
                "severity may be top-level or per affected package, not both",
            ));
        }
        for (k, s) in a.severity.iter().enumerate() {
            check_severity(&format!("{at}/severity/{k}"), s)?;
        }
        for (j, range) in a.ranges.iter().enumerate() {
            check_range(&format!("{at}/ranges/{j}"), range)?;
        }
    }
    Ok(())
}

fn check_severity(at: &str, s: &SeverityEntry) -> Result<(), SchemaViolation> {
    if !SEVERITY_TYPES.contains(&s.kind.as_str()) {
        return Err(violation(at, format!("unknown severity type `{}`", s.kind)));
    }
    if s.score.is_empty() {
        return Err(violation(at, "empty score"));
    }
    Ok(())
}

fn check_range(at: &str, range: &Range) -> Result<(), SchemaViolation> {
    if !["GIT", "SEMVER", "ECOSYSTEM"].contains(&range.kind.as_str()) {
        return Err(violation(
            format!("{at}/type"),
            format!("unknown range type `{}`", range.kind),
        ));
    }
    if range.events.is_empty() {
        return Err(violation(format!("{at}/events"), "no events"));
    }
    for (k, e) in range.events.iter().enumerate() {
        if e.set_count() != 1 {
            return Err(violation(
                format!("{at}/events/{k}"),
                "an event must have exactly one of introduced, fixed, last_affected, limit",
            ));
        }
    }
    if !range.events.iter().any(|e| e.introduced.is_some()) {
        return Err(violation(format!("{at}/events"), "no `introduced` event"));
    }
    if range.events.iter().any(|e| e.fixed.is_some())
        && range.events.iter().any(|e| e.last_affected.is_some())
    {
        return Err(violation(
            format!("{at}/events"),
            "`fixed` and `last_affected` are mutually exclusive",
        ));
    }
    if range.kind == "GIT" && range.repo.as_deref().is_none_or(str::is_empty) {
        return Err(violation(format!("{at}/repo"), "GIT ranges require a repo"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(json: &str) -> Record {
        parse_and_validate(json.as_bytes(), None).unwrap()
    }
    fn bad(json: &str) -> SchemaViolation {
        parse_and_validate(json.as_bytes(), None).unwrap_err()
    }

    #[test]
    fn minimal_and_nulls() {
        let r =
            ok(r#"{"id":"X-1","modified":"2024-01-01T00:00:00Z","aliases":null,"affected":null}"#);
        assert!(r.aliases.is_empty() && r.affected.is_empty());
        let r = ok(
            r#"{"id":"X-1","modified":"2024-01-01T00:00:00Z","related":["CVE-1",{"id":"CVE-2","type":"x"}]}"#,
        );
        assert_eq!(r.related[1].id(), "CVE-2");
    }

    #[test]
    fn rejects_schema_violations() {
        assert_eq!(bad(r#"{"modified":"2024-01-01T00:00:00Z"}"#).at, "/id");
        assert_eq!(bad(r#"{"id":"X-1"}"#).at, "/modified");
        assert_eq!(
            bad(r#"{"id":"X-1","modified":"yesterday"}"#).at,
            "/modified"
        );
        assert!(bad("{not json").message.contains("not JSON"));
        assert!(bad("[1]").message.contains("not a JSON object"));
        let e = bad(
            r#"{"id":"X-1","modified":"2024-01-01T00:00:00Z","affected":[{"package":{"ecosystem":"Nope","name":"a"}}]}"#,
        );
        assert!(e.message.contains("unknown ecosystem"), "{e}");
        let e = bad(
            r#"{"id":"X-1","modified":"2024-01-01T00:00:00Z","affected":[{"package":{"ecosystem":"PyPI","name":"a"},"ranges":[{"type":"ECOSYSTEM","events":[{"fixed":"1"}]}]}]}"#,
        );
        assert!(e.message.contains("introduced"), "{e}");
        let e = bad(
            r#"{"id":"X-1","modified":"2024-01-01T00:00:00Z","affected":[{"package":{"ecosystem":"PyPI","name":"a"},"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0","fixed":"1"}]}]}]}"#,
        );
        assert!(e.message.contains("exactly one"), "{e}");
        let e = bad(
            r#"{"id":"X-1","modified":"2024-01-01T00:00:00Z","affected":[{"package":{"ecosystem":"PyPI","name":"a"},"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"1"},{"last_affected":"2"}]}]}]}"#,
        );
        assert!(e.message.contains("mutually exclusive"), "{e}");
        // Short GIT commit ids are accepted on purpose (real PYSEC records carry them and GIT
        // ranges are never used for matching); a GIT range without a repo is still refused.
        ok(
            r#"{"id":"X-1","modified":"2024-01-01T00:00:00Z","affected":[{"package":{"ecosystem":"PyPI","name":"a"},"ranges":[{"type":"GIT","repo":"r","events":[{"introduced":"abc"}]}]}]}"#,
        );
        let e = bad(
            r#"{"id":"X-1","modified":"2024-01-01T00:00:00Z","affected":[{"package":{"ecosystem":"PyPI","name":"a"},"ranges":[{"type":"GIT","events":[{"introduced":"abc"}]}]}]}"#,
        );
        assert!(e.message.contains("require a repo"), "{e}");
        let e = bad(
            r#"{"id":"X-1","modified":"2024-01-01T00:00:00Z","references":[{"type":"BLOG","url":"u"}]}"#,
        );
        assert!(e.message.contains("reference type"), "{e}");
        let e = parse_and_validate(
            br#"{"id":"X-1","modified":"2024-01-01T00:00:00Z"}"#,
            Some("X-2"),
        )
        .unwrap_err();
        assert!(e.message.contains("file name"), "{e}");
    }
}
