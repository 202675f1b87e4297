//! Turning the raw hits of one package into findings: one finding per vulnerability, where
//! "the same vulnerability" is the transitive closure of ids over `id`, `aliases` and `upstream`.
//!
//! Distro advisories (DSA, DLA, USN) list several CVEs in `upstream`; such a hit is fanned out
//! into one finding per CVE, each carrying the advisory id among its aliases (the advisory id
//! does not join findings, otherwise every CVE of one DSA would collapse into one). The primary
//! id is a CVE when one is known (the smallest), else a GHSA, else the smallest id.
//!
//! Does not evaluate versions or read the DB.

use std::collections::{BTreeMap, BTreeSet};

use crate::vulndb::osv::{Affected, Record};

use super::FixState;

/// One affected entry that contained the package's version.
#[derive(Debug, Clone)]
pub struct Hit {
    /// The advisory (without `affected`).
    pub record: Record,
    /// The entry that matched.
    pub entry: Affected,
    /// The matcher id.
    pub matcher: &'static str,
    /// OSV ecosystem queried.
    pub ecosystem: String,
    /// Name queried.
    pub searched_name: String,
    /// Version compared.
    pub searched_version: String,
    /// Scheme used.
    pub scheme: String,
    /// Readable constraint.
    pub constraint: String,
    /// Fixed version of the interval, if any.
    pub fixed: Option<String>,
    /// Fix state of the interval.
    pub fix_state: FixState,
}

/// Hits that describe one vulnerability.
#[derive(Debug, Clone)]
pub struct Group {
    /// Primary id.
    pub id: String,
    /// All other ids.
    pub aliases: Vec<String>,
    /// The hits (indexes into the input).
    pub hits: Vec<usize>,
}

fn is_cve(id: &str) -> bool {
    id.starts_with("CVE-")
}

fn primary(ids: &BTreeSet<String>) -> String {
    ids.iter()
        .find(|i| is_cve(i))
        .or_else(|| ids.iter().find(|i| i.starts_with("GHSA-")))
        .or_else(|| ids.iter().next())
        .cloned()
        .unwrap_or_default()
}

struct UnionFind(Vec<usize>);
impl UnionFind {
    fn find(&mut self, mut x: usize) -> usize {
        while self.0[x] != x {
            self.0[x] = self.0[self.0[x]];
            x = self.0[x];
        }
        x
    }
    fn union(&mut self, a: usize, b: usize) {
        let (ra, rb) = (self.find(a), self.find(b));
        if ra != rb {
            self.0[rb] = ra;
        }
    }
}

/// Groups hits into vulnerabilities (see the module doc).
pub fn group(hits: &[Hit]) -> Vec<Group> {
    // Expand: (hit index, join keys, display ids).
    let mut units: Vec<(usize, Vec<String>, Vec<String>)> = Vec::new();
    for (i, h) in hits.iter().enumerate() {
        let r = &h.record;
        let upstream_cves: Vec<&String> = r.upstream.iter().filter(|u| is_cve(u)).collect();
        if r.aliases.is_empty() && upstream_cves.len() > 1 {
            for cve in upstream_cves {
                units.push((i, vec![cve.clone()], vec![cve.clone(), r.id.clone()]));
            }
        } else {
            let keys: Vec<String> = r.all_ids().map(str::to_string).collect();
            units.push((i, keys.clone(), keys));
        }
    }
    let mut uf = UnionFind((0..units.len()).collect());
    let mut owner: BTreeMap<&str, usize> = BTreeMap::new();
    for (u, (_, keys, _)) in units.iter().enumerate() {
        for k in keys {
            match owner.get(k.as_str()) {
                Some(&o) => uf.union(o, u),
                None => {
                    owner.insert(k, u);
                }
            }
        }
    }
    let mut groups: BTreeMap<usize, (BTreeSet<String>, BTreeSet<usize>)> = BTreeMap::new();
    for (u, (hit, _, ids)) in units.iter().enumerate() {
        let root = uf.find(u);
        let g = groups.entry(root).or_default();
        g.0.extend(ids.iter().cloned());
        g.1.insert(*hit);
    }
    let mut out: Vec<Group> = groups
        .into_values()
        .map(|(ids, hits)| {
            let id = primary(&ids);
            Group {
                aliases: ids.into_iter().filter(|i| *i != id).collect(),
                id,
                hits: hits.into_iter().collect(),
            }
        })
        .collect();
    out.sort_by(|a, b| a.id.cmp(&b.id));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hit(id: &str, aliases: &[&str], upstream: &[&str]) -> Hit {
        Hit {
            record: Record {
                id: id.into(),
                aliases: aliases.iter().map(|s| s.to_string()).collect(),
                upstream: upstream.iter().map(|s| s.to_string()).collect(),
                ..Default::default()
            },
            entry: Affected::default(),
            matcher: "m",
            ecosystem: String::new(),
            searched_name: String::new(),
            searched_version: String::new(),
            scheme: String::new(),
            constraint: String::new(),
            fixed: None,
            fix_state: FixState::Unknown,
        }
    }

    #[test]
    fn aliases_merge_transitively_and_dsa_fans_out() {
        let hits = vec![
            hit(
                "PYSEC-2026-1873",
                &["CVE-2024-35195", "GHSA-9wx4-h78v-vm56"],
                &[],
            ),
            hit("GHSA-9wx4-h78v-vm56", &["CVE-2024-35195"], &[]),
            hit("DSA-5611-1", &[], &["CVE-2023-6246", "CVE-2023-6779"]),
            hit("DEBIAN-CVE-2023-6246", &[], &["CVE-2023-6246"]),
            hit("GO-2024-1", &[], &[]),
        ];
        let g = group(&hits);
        let ids: Vec<_> = g.iter().map(|g| g.id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "CVE-2023-6246",
                "CVE-2023-6779",
                "CVE-2024-35195",
                "GO-2024-1"
            ]
        );
        assert_eq!(g[0].hits, vec![2, 3]);
        assert_eq!(g[0].aliases, vec!["DEBIAN-CVE-2023-6246", "DSA-5611-1"]);
        assert_eq!(g[1].aliases, vec!["DSA-5611-1"]);
        assert_eq!(g[2].hits, vec![0, 1]);
        assert_eq!(g[2].aliases, vec!["GHSA-9wx4-h78v-vm56", "PYSEC-2026-1873"]);
    }
}
