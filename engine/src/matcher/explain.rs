//! `tollgate explain VULN-ID`: every advisory known under an id (or alias), each affected entry
//! with its ranges in readable form, and — given an inventory — the evaluation of every package
//! that entry names: affected (with the interval) or not (with the ranges it fell outside), or
//! why it could not be compared.
//!
//! Does not render; the CLI does. Uses the same matchers and evaluation as `run`, so an
//! explanation never disagrees with a scan.

use serde::{Deserialize, Serialize};

use crate::catalog::Inventory;
use crate::version::osv::{self as vosv, RangeEvent, RangeType};
use crate::version::{Scheme, Version};
use crate::vulndb::{DbError, VulnDb, name_key};

use super::evaluate::{self, Verdict};
use super::targets::{Env, MATCHERS};
use super::{MatchError, MatchOptions};

/// The explanation of one id.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Explained {
    /// The id asked about.
    pub query: String,
    /// Every advisory known under it.
    pub advisories: Vec<AdvisoryExplained>,
}

/// One advisory.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdvisoryExplained {
    /// Its id.
    pub id: String,
    /// Aliases + upstream.
    pub aliases: Vec<String>,
    /// Summary.
    pub summary: String,
    /// Set when withdrawn (never matched).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub withdrawn: Option<String>,
    /// Its own severity entries, readable (`CVSS_V3 CVSS:3.1/… (base 7.8)`, `label HIGH`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub severity: Vec<String>,
    /// Severities borrowed at DB build time from sibling records of the same CVE, readable
    /// (`CVE-2023-4911: CVSS_V3 CVSS:3.1/… (base 7.8) from UBUNTU-CVE-2023-4911`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub severity_from: Vec<String>,
    /// Its affected entries.
    pub entries: Vec<EntryExplained>,
}

/// One affected entry.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntryExplained {
    /// OSV ecosystem.
    pub ecosystem: String,
    /// Package name.
    pub name: String,
    /// Each range, readable (`ECOSYSTEM [0, 2.20.0)`).
    pub ranges: Vec<String>,
    /// How many versions `versions[]` lists.
    pub listed_versions: usize,
    /// The inventory's packages this entry names, with their verdicts.
    pub packages: Vec<PackageVerdict>,
}

/// The verdict for one installed package.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PackageVerdict {
    /// Package name as installed.
    pub package: String,
    /// Version as installed.
    pub version: String,
    /// The name and version compared (source package for OS packages).
    pub compared: String,
    /// Affected?
    pub affected: bool,
    /// Why.
    pub reason: String,
}

/// `TYPE vector (base x.y)` for a CVSS entry, `TYPE word` otherwise.
fn describe_severity(kind: &str, score: &str) -> String {
    match crate::types::cvss::Cvss::parse(score.trim()) {
        Ok(c) => format!("{kind} {score} (base {:.1})", c.base_score),
        Err(_) => format!("{kind} {score}"),
    }
}

fn own_severity(r: &crate::vulndb::osv::Record) -> Vec<String> {
    let mut out: Vec<String> = r
        .severity
        .iter()
        .chain(r.affected.iter().flat_map(|a| a.severity.iter()))
        .map(|e| describe_severity(&e.kind, &e.score))
        .collect();
    if let Some(w) = r
        .database_specific
        .as_ref()
        .and_then(|d| d.get("severity"))
        .and_then(|v| v.as_str())
    {
        out.push(format!("label {w}"));
    }
    out.dedup();
    out
}

fn events(r: &crate::vulndb::osv::Range) -> Vec<RangeEvent> {
    r.events
        .iter()
        .filter_map(|e| {
            e.introduced
                .clone()
                .map(RangeEvent::Introduced)
                .or_else(|| e.fixed.clone().map(RangeEvent::Fixed))
                .or_else(|| e.last_affected.clone().map(RangeEvent::LastAffected))
                .or_else(|| e.limit.clone().map(RangeEvent::Limit))
        })
        .collect()
}

/// Explains `id` against the DB and, when given, an inventory.
pub fn explain(
    db: &VulnDb,
    id: &str,
    inventory: Option<&Inventory>,
    opts: &MatchOptions,
) -> Result<Explained, MatchError> {
    let records = db.records_by_id(id)?;
    if records.is_empty() {
        return Err(DbError::UnknownId(id.to_string()).into());
    }
    let db_ecosystems: Vec<String> = db.ecosystems().map(str::to_string).collect();
    let env = Env {
        distro: inventory.and_then(|i| i.distro.as_ref()),
        distro_override: opts.distro_override.as_deref(),
        db_ecosystems: &db_ecosystems,
    };
    let mut out = Explained {
        query: id.to_string(),
        advisories: Vec::new(),
    };
    for r in records {
        let mut adv = AdvisoryExplained {
            id: r.id.clone(),
            aliases: r.aliases.iter().chain(r.upstream.iter()).cloned().collect(),
            summary: r.summary.clone().unwrap_or_default(),
            withdrawn: r.withdrawn.clone(),
            severity: own_severity(&r),
            severity_from: r
                .severity_from
                .iter()
                .map(|b| {
                    format!(
                        "{}: {} from {}",
                        b.cve,
                        describe_severity(&b.kind, &b.score),
                        b.from
                    )
                })
                .collect(),
            entries: Vec::new(),
        };
        for entry in &r.affected {
            let Some(pkg_ref) = &entry.package else {
                continue;
            };
            let scheme = Scheme::for_ecosystem(&pkg_ref.ecosystem);
            let ranges = entry
                .ranges
                .iter()
                .map(|range| {
                    let rt = match range.kind.as_str() {
                        "SEMVER" => RangeType::Semver,
                        "GIT" => RangeType::Git,
                        _ => RangeType::Ecosystem,
                    };
                    match scheme {
                        Some(s) => vosv::describe(s, rt, &events(range)).unwrap_or_else(|e| {
                            format!("{} range with an unparseable event: {e}", range.kind)
                        }),
                        None => format!(
                            "{} range (no version ordering for `{}`)",
                            range.kind, pkg_ref.ecosystem
                        ),
                    }
                })
                .collect();
            let mut e = EntryExplained {
                ecosystem: pkg_ref.ecosystem.clone(),
                name: pkg_ref.name.clone(),
                ranges,
                listed_versions: entry.versions.len(),
                packages: Vec::new(),
            };
            if let Some(inv) = inventory {
                let want = name_key(&pkg_ref.ecosystem, &pkg_ref.name);
                for pkg in &inv.packages {
                    for m in MATCHERS {
                        for q in m.queries(pkg, &env) {
                            if q.ecosystem != pkg_ref.ecosystem
                                || name_key(&q.ecosystem, &q.name) != want
                            {
                                continue;
                            }
                            let compared = format!("{} {}", q.name, q.version);
                            let (affected, reason) = match Version::parse(q.scheme, &q.version) {
                                Err(err) => (false, format!("not compared: {err}")),
                                Ok(v) if r.withdrawn.is_some() => (
                                    false,
                                    format!("advisory withdrawn; `{}` not evaluated", v.as_str()),
                                ),
                                Ok(v) => match evaluate::evaluate(q.scheme, &v, entry).verdict {
                                    Verdict::Affected { constraint, .. } => (true, constraint),
                                    Verdict::NotAffected { reason } => (false, reason),
                                },
                            };
                            e.packages.push(PackageVerdict {
                                package: pkg.name.clone(),
                                version: pkg.version.clone(),
                                compared,
                                affected,
                                reason,
                            });
                        }
                    }
                }
            }
            adv.entries.push(e);
        }
        out.advisories.push(adv);
    }
    Ok(out)
}
