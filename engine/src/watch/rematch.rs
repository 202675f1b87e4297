//! Re-matching stored package lists against a DB, fast: [`rematch`] gives exactly what
//! `matcher::run` gives, but looks each distinct package up in the DB once per run.
//!
//! A watch run re-matches thousands of SBOMs that share most of their packages (the same base
//! images at nearby versions). What the matcher finds for one package depends only on the DB
//! lookups its matchers make (ecosystem, name, version, scheme — `matcher::MATCHERS`) and on
//! its type; the package's own id, name, purl and location are merely copied into each match.
//! So [`MatchCache`] keeps, per distinct (type, lookups), the matches `matcher::run` made for
//! the first package with that key, and [`rematch`] copies them with the package's own fields.
//!
//! This module neither decides what is new nor touches the store. Invariants: the result is
//! equal to `matcher::run` on the same inventory (same matches, same order — tested); the cache
//! is bounded ([`MatchCache::new`]'s capacity; it is cleared when full), so memory stays flat
//! in the number of SBOMs; it is only valid for one DB and one set of [`MatchOptions`].

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::catalog::{Inventory, Package};
use crate::matcher::{Env, MATCHERS, Match, MatchError, MatchOptions};
use crate::vulndb::VulnDb;

/// Matches per distinct package lookup, shared by the worker threads of one run.
#[derive(Debug)]
pub struct MatchCache {
    map: Mutex<HashMap<String, Arc<Vec<Match>>>>,
    capacity: usize,
}

impl MatchCache {
    /// A cache holding at most `capacity` distinct packages (then it starts over).
    pub fn new(capacity: usize) -> MatchCache {
        MatchCache {
            map: Mutex::new(HashMap::new()),
            capacity: capacity.max(1),
        }
    }

    /// Distinct packages currently cached.
    pub fn len(&self) -> usize {
        self.map.lock().map(|m| m.len()).unwrap_or(0)
    }

    /// True when nothing is cached.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn get(&self, key: &str) -> Option<Arc<Vec<Match>>> {
        self.map.lock().ok()?.get(key).cloned()
    }

    fn put(&self, key: String, value: Arc<Vec<Match>>) {
        if let Ok(mut m) = self.map.lock() {
            if m.len() >= self.capacity {
                m.clear();
            }
            m.insert(key, value);
        }
    }
}

/// The cache key of a package: its type and every lookup the matchers make for it, or `None`
/// when no matcher looks it up (it can have no match).
fn key_of(pkg: &Package, env: &Env<'_>) -> Option<String> {
    let mut key = String::new();
    for m in MATCHERS {
        for q in m.queries(pkg, env) {
            for part in [
                q.matcher,
                q.ecosystem.as_str(),
                q.name.as_str(),
                q.version.as_str(),
                q.scheme.as_str(),
            ] {
                key.push_str(part);
                key.push('\0');
            }
            key.push('\n');
        }
    }
    if key.is_empty() {
        return None;
    }
    key.push_str(pkg.kind.as_str());
    Some(key)
}

/// `m`, made for another package with the same key, as `matcher::run` would make it for `pkg`.
fn for_package(m: &Match, pkg: &Package) -> Match {
    let loc = pkg.locations.first();
    Match {
        package_id: pkg.id.clone(),
        package_name: pkg.name.clone(),
        package_version: pkg.version.clone(),
        package_type: pkg.kind.as_str().to_string(),
        purl: pkg.purl.clone(),
        path: loc.map(|l| l.path.clone()).unwrap_or_default(),
        layer_index: loc.map(|l| l.layer_index).unwrap_or_default(),
        layer_digest: loc.map(|l| l.layer_digest.clone()).unwrap_or_default(),
        ..m.clone()
    }
}

/// Matches every package of `inventory` against `db`, like `matcher::run`, through `cache`
/// (which must have been used with this `db` and `opts` only).
pub fn rematch(
    inventory: &Inventory,
    db: &VulnDb,
    opts: &MatchOptions,
    cache: &MatchCache,
) -> Result<Vec<Match>, MatchError> {
    let db_ecosystems: Vec<String> = db.ecosystems().map(str::to_string).collect();
    let env = Env {
        distro: inventory.distro.as_ref(),
        distro_override: opts.distro_override.as_deref(),
        db_ecosystems: &db_ecosystems,
    };
    let mut out = Vec::new();
    for pkg in &inventory.packages {
        let Some(key) = key_of(pkg, &env) else {
            continue;
        };
        let template = match cache.get(&key) {
            Some(t) => t,
            None => {
                let single = Inventory {
                    distro: inventory.distro.clone(),
                    packages: vec![pkg.clone()],
                    ..Default::default()
                };
                let made = Arc::new(crate::matcher::run(&single, db, opts)?);
                cache.put(key, made.clone());
                made
            }
        };
        out.extend(template.iter().map(|m| for_package(m, pkg)));
    }
    // The order `matcher::run` produces (a stable sort of the same per-package sequence).
    out.sort_by(|a, b| {
        (&a.package_name, &a.package_version, &a.vulnerability.id).cmp(&(
            &b.package_name,
            &b.package_version,
            &b.vulnerability.id,
        ))
    });
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::{Distro, Location, PackageType};

    fn pkg(id: &str, kind: PackageType, name: &str, version: &str, path: &str) -> Package {
        Package {
            id: id.into(),
            name: name.into(),
            version: version.into(),
            kind,
            purl: format!("pkg:x/{name}@{version}"),
            locations: vec![Location {
                path: path.into(),
                layer_digest: format!("sha256:{id}"),
                layer_index: id.len(),
            }],
            ..Default::default()
        }
    }

    #[test]
    fn equals_the_matcher_with_shared_and_distinct_packages() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db.sqlite");
        crate::vulndb::build::build_from_records("test", crate::vulndb::EXAMPLE_ADVISORIES, &path)
            .unwrap();
        let db = VulnDb::open(&path).unwrap();
        let opts = MatchOptions::default();
        let mut deb_a = pkg("a", PackageType::Deb, "libssl3", "3.0.9-1", "/var/lib/dpkg");
        deb_a.source_name = Some("openssl".into());
        deb_a.source_version = Some("3.0.9-1".into());
        // Another binary package of the same source: same lookups, its own fields.
        let mut deb_b = pkg("b", PackageType::Deb, "openssl", "3.0.9-1", "/usr/bin");
        deb_b.source_name = Some("openssl".into());
        deb_b.source_version = Some("3.0.9-1".into());
        let inv = |packages: Vec<Package>| Inventory {
            distro: Some(Distro {
                id: "debian".into(),
                version_id: "12".into(),
                ..Default::default()
            }),
            packages,
            ..Default::default()
        };
        let first = inv(vec![
            deb_a.clone(),
            pkg("c", PackageType::Python, "requests", "2.19.0", "/a"),
            pkg("d", PackageType::Python, "requests", "2.19.0", "/b"),
            pkg("e", PackageType::Npm, "lodash", "4.17.20", "/n"),
            pkg("f", PackageType::Npm, "left-pad", "1.0.0", "/n"),
            deb_b.clone(),
            pkg("g", PackageType::Deb, "zlib1g", "1:1.2.13.dfsg-1", "/z"),
        ]);
        let second = inv(vec![
            pkg("h", PackageType::Npm, "lodash", "4.17.21", "/m"),
            pkg("i", PackageType::Python, "requests", "2.19.0", "/c"),
            deb_b,
            pkg("j", PackageType::Npm, "lodash", "4.17.20", "/o"),
        ]);
        let cache = MatchCache::new(100);
        for inventory in [&first, &second, &first] {
            let want = crate::matcher::run(inventory, &db, &opts).unwrap();
            let got = rematch(inventory, &db, &opts, &cache).unwrap();
            assert!(!want.is_empty());
            assert_eq!(
                serde_json::to_value(&got).unwrap(),
                serde_json::to_value(&want).unwrap()
            );
        }
        // openssl (once for both binaries), requests, lodash@4.17.20, left-pad, zlib1g,
        // lodash@4.17.21: one entry each.
        assert_eq!(cache.len(), 6);

        // A full cache starts over instead of growing.
        let tiny = MatchCache::new(2);
        let got = rematch(&first, &db, &opts, &tiny).unwrap();
        assert_eq!(
            got.len(),
            crate::matcher::run(&first, &db, &opts).unwrap().len()
        );
        assert!(tiny.len() <= 2);
    }
}
