//! Severity from sibling records, at build time: a record that carries no severity of its own
//! (Debian DSA/DLA/DEBIAN-CVE records never do; Go records neither) borrows one from another
//! record in the DB that names the same CVE — a GHSA, PYSEC, RustSec, Ubuntu or Bitnami record
//! with a CVSS vector or a `database_specific.severity` word. What was borrowed, per CVE and from
//! which record, is written into the borrower's stored JSON as
//! [`Record::severity_from`](crate::vulndb::osv::Record::severity_from); the matcher uses it
//! only when nothing better is known (see `matcher::severity`), and `explain` shows it.
//!
//! Which sibling gives a CVE its severity: the best kind first (CVSS v3.x vector, then v4.0, then
//! v2, then a database label, then an `Ubuntu` priority word), within a kind the highest score,
//! then the smallest record id (so builds are reproducible). A sibling speaks for a CVE only when
//! it names that CVE as its own id, in `aliases`, or as the only CVE in `upstream` (a USN or DSA
//! listing ten CVEs rates the notice, not each CVE); `related` ids never count.
//!
//! Does not change records that have any severity of their own, and does not score anything at
//! scan time: this is a lookup table filled once per build.

use std::collections::HashMap;

use rusqlite::{Connection, params};

use crate::types::cvss::{Cvss, CvssVersion};
use crate::vulndb::osv::{InheritedSeverity, Record};

/// One candidate rating for a CVE.
#[derive(Debug, Clone)]
struct Rated {
    /// 0 = CVSS v3.x, 1 = v4.0, 2 = v2, 3 = database label, 4 = Ubuntu priority word.
    rank: u8,
    /// The base score (labels: 0).
    score: f64,
    sev: InheritedSeverity,
}

impl Rated {
    fn better_than(&self, other: &Rated) -> bool {
        (self.rank, -self.score, &self.sev.from) < (other.rank, -other.score, &other.sev.from)
    }
}

/// Collects ratings and borrowers while records are inserted, then writes the borrowed
/// severities in [`Siblings::apply`].
#[derive(Debug, Default)]
pub(super) struct Siblings {
    best: HashMap<String, Rated>,
    borrowers: Vec<(i64, Vec<String>)>,
}

fn is_cve(id: &str) -> bool {
    id.starts_with("CVE-")
}

/// The record's own best rating, if it has any.
fn own_rating(r: &Record) -> Option<(u8, f64, String, String)> {
    let mut best: Option<(u8, f64, String, String)> = None;
    let mut consider = |cand: (u8, f64, String, String)| {
        if best
            .as_ref()
            .is_none_or(|b| (cand.0, -cand.1) < (b.0, -b.1))
        {
            best = Some(cand);
        }
    };
    let entries = r
        .severity
        .iter()
        .chain(r.affected.iter().flat_map(|a| a.severity.iter()));
    for e in entries {
        if e.kind == "Ubuntu" {
            if crate::types::Severity::parse(&e.score).is_some() {
                consider((4, 0.0, "LABEL".into(), e.score.trim().to_string()));
            }
            continue;
        }
        let Ok(c) = Cvss::parse(e.score.trim()) else {
            continue;
        };
        let (rank, kind) = match c.version {
            CvssVersion::V3_0 | CvssVersion::V3_1 => (0, "CVSS_V3"),
            CvssVersion::V4_0 => (1, "CVSS_V4"),
            CvssVersion::V2 => (2, "CVSS_V2"),
        };
        consider((rank, c.base_score, kind.into(), e.score.trim().to_string()));
    }
    if let Some(word) = r
        .database_specific
        .as_ref()
        .and_then(|d| d.get("severity"))
        .and_then(|v| v.as_str())
        && crate::types::Severity::parse(word).is_some_and(|s| s != crate::types::Severity::Unknown)
    {
        consider((3, 0.0, "LABEL".into(), word.trim().to_string()));
    }
    best
}

impl Siblings {
    /// Notes one stored record (`rowid` is its advisory row).
    pub(super) fn observe(&mut self, rowid: i64, r: &Record) {
        match own_rating(r) {
            Some((rank, score, kind, value)) => {
                let upstream_cves: Vec<&String> = r.upstream.iter().filter(|u| is_cve(u)).collect();
                let speaks_for = std::iter::once(&r.id)
                    .chain(r.aliases.iter())
                    .chain(if upstream_cves.len() == 1 {
                        upstream_cves
                    } else {
                        Vec::new()
                    })
                    .filter(|i| is_cve(i));
                for cve in speaks_for {
                    let cand = Rated {
                        rank,
                        score,
                        sev: InheritedSeverity {
                            cve: cve.clone(),
                            from: r.id.clone(),
                            kind: kind.clone(),
                            score: value.clone(),
                        },
                    };
                    match self.best.get(cve) {
                        Some(b) if !cand.better_than(b) => {}
                        _ => {
                            self.best.insert(cve.clone(), cand);
                        }
                    }
                }
            }
            None => {
                let mut cves: Vec<String> = r
                    .all_ids()
                    .filter(|i| is_cve(i))
                    .map(str::to_string)
                    .collect();
                cves.sort();
                cves.dedup();
                if !cves.is_empty() && r.withdrawn.is_none() {
                    self.borrowers.push((rowid, cves));
                }
            }
        }
    }

    /// Writes the borrowed severities into the borrowers' stored JSON (`head` and `record`).
    /// Returns how many records got one.
    pub(super) fn apply(&self, conn: &Connection) -> rusqlite::Result<u64> {
        let mut read = conn.prepare("SELECT head, record FROM advisory WHERE rowid = ?1")?;
        let mut write =
            conn.prepare("UPDATE advisory SET head = ?2, record = ?3 WHERE rowid = ?1")?;
        let mut n = 0;
        for (rowid, cves) in &self.borrowers {
            let borrowed: Vec<&InheritedSeverity> = cves
                .iter()
                .filter_map(|c| self.best.get(c))
                .map(|r| &r.sev)
                .collect();
            if borrowed.is_empty() {
                continue;
            }
            let Ok(value) = serde_json::to_value(&borrowed) else {
                continue;
            };
            let row: Option<(String, String)> = read
                .query_row([rowid], |r| Ok((r.get(0)?, r.get(1)?)))
                .map(Some)
                .or_else(|e| match e {
                    rusqlite::Error::QueryReturnedNoRows => Ok(None),
                    e => Err(e),
                })?;
            let Some((head, record)) = row else {
                continue; // replaced by a newer copy of the same id
            };
            let add = |json: &str| -> Option<String> {
                let mut v: serde_json::Value = serde_json::from_str(json).ok()?;
                v.as_object_mut()?
                    .insert("x_tollgate_severity_from".into(), value.clone());
                serde_json::to_string(&v).ok()
            };
            if let (Some(h), Some(r)) = (add(&head), add(&record)) {
                write.execute(params![rowid, h, r])?;
                n += 1;
            }
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(json: &str) -> Record {
        crate::vulndb::osv::parse_and_validate(json.as_bytes(), None).unwrap()
    }

    #[test]
    fn picks_the_best_sibling_per_cve() {
        let mut s = Siblings::default();
        s.observe(
            1,
            &rec(r#"{"id":"DSA-1-1","modified":"2024-01-01T00:00:00Z","upstream":["CVE-1","CVE-2"]}"#),
        );
        // A label only: rank 3.
        s.observe(
            2,
            &rec(r#"{"id":"GHSA-a","modified":"2024-01-01T00:00:00Z","aliases":["CVE-1"],"database_specific":{"severity":"MODERATE"}}"#),
        );
        // A v3 vector beats the label.
        s.observe(
            3,
            &rec(r#"{"id":"UBUNTU-CVE-1","modified":"2024-01-01T00:00:00Z","upstream":["CVE-1"],"severity":[{"type":"CVSS_V3","score":"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N"}]}"#),
        );
        // A notice over two CVEs speaks for neither.
        s.observe(
            4,
            &rec(r#"{"id":"USN-9-1","modified":"2024-01-01T00:00:00Z","upstream":["CVE-1","CVE-2"],"severity":[{"type":"CVSS_V3","score":"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}]}"#),
        );
        // Input cannot smuggle in a borrowed severity.
        let sneaky = rec(
            r#"{"id":"X-1","modified":"2024-01-01T00:00:00Z","x_tollgate_severity_from":[{"cve":"CVE-2","from":"me","type":"LABEL","score":"CRITICAL"}]}"#,
        );
        assert!(sneaky.severity_from.is_empty());
        assert_eq!(s.best["CVE-1"].sev.from, "UBUNTU-CVE-1");
        assert_eq!(s.best["CVE-1"].sev.kind, "CVSS_V3");
        assert!(!s.best.contains_key("CVE-2"));
        assert_eq!(
            s.borrowers,
            vec![(1, vec!["CVE-1".to_string(), "CVE-2".to_string()])]
        );
    }
}
