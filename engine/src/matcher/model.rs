//! The plain values the matcher stage produces. Policy and report read these; add fields with
//! `#[serde(default)]` and keep `Default` derivable.

use serde::{Deserialize, Serialize};

use crate::types::Severity;

/// Whether a fix exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum FixState {
    /// A fixed version exists.
    Fixed,
    /// No fix yet.
    NotFixed,
    /// The vendor will not fix it.
    WontFix,
    /// Unknown.
    #[default]
    Unknown,
}

/// One CVSS score as published.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Cvss {
    /// `3.1`, `4.0`, …
    pub version: String,
    /// The vector string.
    pub vector: String,
    /// The base score computed from the vector.
    pub base_score: f64,
    /// Who published it (`nvd`, `ghsa`, the distro, …).
    #[serde(default)]
    pub source: String,
}

/// The advisory side of a match.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Vulnerability {
    /// The primary id (a CVE when one is known, else the advisory's own id).
    pub id: String,
    /// Every other id of the same vulnerability (GHSA, PYSEC, DSA, OSV ids).
    #[serde(default)]
    pub aliases: Vec<String>,
    /// Normalised severity, by the documented precedence.
    #[serde(default)]
    pub severity: Severity,
    /// Where `severity` came from (`cvss-v3.1`, `debian`, `ghsa`, …).
    #[serde(default)]
    pub severity_source: String,
    /// Set when the severity was borrowed from a sibling record of the same CVE because the
    /// matching advisories carry none (Debian DSA/DLA): that record's id (`UBUNTU-CVE-…`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severity_via: Option<String>,
    /// Published CVSS scores.
    #[serde(default)]
    pub cvss: Vec<Cvss>,
    /// One-line summary.
    #[serde(default)]
    pub summary: String,
    /// Longer description (may be empty).
    #[serde(default)]
    pub description: String,
    /// Reference URLs.
    #[serde(default)]
    pub urls: Vec<String>,
    /// RFC 3339 publication time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub published: Option<String>,
    /// RFC 3339 modification time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub modified: Option<String>,
    /// Listed in CISA's Known Exploited Vulnerabilities catalog.
    #[serde(default)]
    pub kev: bool,
    /// EPSS probability 0..1, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub epss: Option<f64>,
}

/// Why a match was made (or, for `explain`, not made).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MatchDetail {
    /// The matcher id (`dpkg-source-matcher`, `osv-ecosystem-matcher`).
    pub matcher: String,
    /// The OSV ecosystem queried (`Debian:12`, `PyPI`).
    pub ecosystem: String,
    /// The package name queried (source name for OS packages).
    pub searched_name: String,
    /// The version compared.
    pub searched_version: String,
    /// The version scheme used (`deb`, `pep440`, …).
    pub scheme: String,
    /// The ranges/versions that contained the version, in readable form
    /// (`introduced 0, fixed 2.31.0`).
    #[serde(default)]
    pub constraint: String,
    /// The advisory whose `affected` entry matched (`DSA-5611-1`, `GHSA-…`).
    #[serde(default)]
    pub advisory: String,
}

/// A suppression that applies to a match.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Suppression {
    /// `ignore-rule` or `vex`.
    pub kind: String,
    /// The rule's index / VEX statement id and its file.
    pub by: String,
    /// The reason or VEX justification.
    #[serde(default)]
    pub reason: String,
}

/// One vulnerability affecting one package.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Match {
    /// The vulnerability.
    pub vulnerability: Vulnerability,
    /// `Package::id` of the affected package in the inventory.
    pub package_id: String,
    /// Package name (as installed).
    pub package_name: String,
    /// Installed version.
    pub package_version: String,
    /// Package type (kebab-case, as `PackageType`).
    pub package_type: String,
    /// Package URL.
    #[serde(default)]
    pub purl: String,
    /// Fix state.
    #[serde(default)]
    pub fix_state: FixState,
    /// Versions that fix it.
    #[serde(default)]
    pub fixed_in: Vec<String>,
    /// Path of the package in the image.
    #[serde(default)]
    pub path: String,
    /// Index of the layer that introduced the package.
    #[serde(default)]
    pub layer_index: usize,
    /// Digest of that layer.
    #[serde(default)]
    pub layer_digest: String,
    /// Why it matched.
    #[serde(default)]
    pub details: Vec<MatchDetail>,
    /// Set when an ignore rule or VEX statement suppresses it; suppressed matches do not gate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suppressed: Option<Suppression>,
}
