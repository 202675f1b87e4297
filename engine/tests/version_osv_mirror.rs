//! The version schemes and the CVSS calculator against real advisory data: every `ECOSYSTEM`
//! and `SEMVER` event version and every `severity[]` vector in `../shared/osv-mirror`.
//!
//! Unparseable versions are reported, not guessed — so this test pins *which* values fail per
//! ecosystem (upstream data errors such as `2019-09-12` in PyPI or apk-tools-invalid
//! `6.6.2p1-r0` in old Alpine secdb) and fails if any other value stops parsing. Reads the
//! mirror in place; fails under `CI=true` when it is missing, skips with a reason otherwise.

// Test helpers: a broken mirror file is a test failure, and the skip reason goes to stderr.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::print_stderr)]

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fs::File;
use std::io::Read;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};

use tollgate::types::Cvss;
use tollgate::version::osv::{RangeEvent, RangeType, is_affected};
use tollgate::version::{Scheme, Version};

fn mirror() -> Option<PathBuf> {
    let p = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/osv-mirror"
    ));
    if p.join("PyPI").join("all.zip").is_file() {
        return Some(p);
    }
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!(
            "CI=true but the shared OSV mirror is missing at {}",
            p.display()
        );
    }
    eprintln!("skipping: no shared OSV mirror at {}", p.display());
    None
}

/// All records of one ecosystem's `all.zip`, read once per test binary.
fn records(eco: &str) -> Arc<Vec<serde_json::Value>> {
    static CACHE: OnceLock<Mutex<HashMap<String, Arc<Vec<serde_json::Value>>>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    let mut guard = cache.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(hit) = guard.get(eco) {
        return Arc::clone(hit);
    }
    let loaded = Arc::new(load(eco));
    guard.insert(eco.to_string(), Arc::clone(&loaded));
    loaded
}

fn load(eco: &str) -> Vec<serde_json::Value> {
    let Some(m) = mirror() else {
        return Vec::new();
    };
    let path = m.join(eco).join("all.zip");
    let Ok(file) = File::open(&path) else {
        return Vec::new();
    };
    let mut zip = zip::ZipArchive::new(file).expect("mirror zip opens");
    let mut out = Vec::new();
    for i in 0..zip.len() {
        let mut member = zip.by_index(i).expect("zip member");
        let mut text = String::new();
        member.read_to_string(&mut text).expect("utf-8 member");
        out.push(serde_json::from_str(&text).expect("member is JSON"));
    }
    out
}

/// Every event version of an ecosystem that fails to parse, with its scheme.
fn unparseable(eco: &str) -> (usize, BTreeSet<String>) {
    let mut total = 0;
    let mut bad = BTreeSet::new();
    for rec in records(eco).iter() {
        for aff in rec["affected"].as_array().into_iter().flatten() {
            let ecosystem = aff["package"]["ecosystem"].as_str().unwrap_or_default();
            let Some(scheme) = Scheme::for_ecosystem(ecosystem) else {
                bad.insert(format!("no scheme for ecosystem `{ecosystem}`"));
                continue;
            };
            for range in aff["ranges"].as_array().into_iter().flatten() {
                let scheme = match range["type"].as_str() {
                    Some("ECOSYSTEM") => scheme,
                    Some("SEMVER") => Scheme::Semver,
                    _ => continue,
                };
                for ev in range["events"].as_array().into_iter().flatten() {
                    for (kind, v) in ev.as_object().into_iter().flatten() {
                        let v = v.as_str().unwrap_or_default();
                        if (kind == "introduced" && v == "0") || (kind == "limit" && v == "*") {
                            continue;
                        }
                        total += 1;
                        if Version::parse(scheme, v).is_err() {
                            bad.insert(format!("{scheme} {v}"));
                        }
                    }
                }
            }
        }
    }
    (total, bad)
}

fn expect_failures(eco: &str, known: &[&str]) {
    let (total, bad) = unparseable(eco);
    if total == 0 {
        return;
    }
    let known: BTreeSet<String> = known.iter().map(|s| (*s).to_string()).collect();
    let unexpected: Vec<_> = bad.difference(&known).collect();
    let stale: Vec<_> = known.difference(&bad).collect();
    assert!(
        unexpected.is_empty() && stale.is_empty(),
        "{eco}: of {total} event versions, these no longer parse: {unexpected:?}; \
         these are listed as failing but parse: {stale:?}"
    );
}

#[test]
fn debian_events_parse() {
    // A DSA bound that is a binary package name, not a version.
    expect_failures("Debian", &["deb kernel-image-2.4.17-ia64"]);
}

#[test]
fn alpine_events_parse() {
    // Old secdb bounds that apk-tools 3 itself rejects (digits after a letter, a letter after
    // a dot).
    expect_failures(
        "Alpine",
        &[
            "apk 0.8.21.r2",
            "apk 10.2.22.r0",
            "apk 10.2.24.r0",
            "apk 10.2.26.r0",
            "apk 6.6.2p1-r0",
        ],
    );
}

#[test]
fn almalinux_events_parse() {
    expect_failures("AlmaLinux", &[]);
}

#[test]
fn go_crates_bitnami_semver_events_parse() {
    expect_failures("Go", &[]);
    expect_failures("crates.io", &[]);
    // A Bitnami bound that is a date-stamped nightly build name, not SemVer.
    expect_failures("Bitnami", &["semver nightly.2026-03-10.0"]);
}

#[test]
fn pypi_events_parse() {
    // Upstream data errors: none of these is a PEP 440 version.
    expect_failures(
        "PyPI",
        &[
            "pep440 0.1.33-NA",
            "pep440 0.12.10-NA",
            "pep440 0.14.0-NA",
            "pep440 0.2.0-alpha\\.33",
            "pep440 0.2.0-n653",
            "pep440 0.6.7-NA",
            "pep440 0.7.1-NA",
            "pep440 10.0.2-1.1",
            "pep440 2.10.0-NA",
            "pep440 2.5.0-NA",
            "pep440 2.6.0-NA",
            "pep440 2.6.0-cu124",
            "pep440 2.7.1-NA",
            "pep440 2.9.0-NA",
            "pep440 2018-04-22b",
            "pep440 2019-09-12",
            "pep440 2024-09-19",
            "pep440 2024-09-25",
            "pep440 2024-12-04",
            "pep440 3.0.3-NA",
            "pep440 3.10.2-NA",
            "pep440 4.1.0-NA",
            "pep440 4.6.0.stable11",
            "pep440 7.2.0-12.1",
            "pep440 8.3.0-11.1",
            "pep440 9.3.1-2.1",
        ],
    );
}

#[test]
fn language_samples_parse() {
    // A GHSA npm bound written `1.0` (not SemVer; npm itself would reject it as a version).
    expect_failures("npm", &["npm 1.0"]);
    for eco in ["Maven", "NuGet", "Packagist", "RubyGems", "Ubuntu"] {
        expect_failures(eco, &[]);
    }
}

#[test]
fn every_cvss_vector_in_the_mirror_scores() {
    let mut seen = 0;
    let mut bad = BTreeMap::new();
    for eco in [
        "PyPI",
        "crates.io",
        "Bitnami",
        "Go",
        "npm",
        "Maven",
        "Ubuntu",
    ] {
        for rec in records(eco).iter() {
            let mut entries: Vec<&serde_json::Value> =
                rec["severity"].as_array().into_iter().flatten().collect();
            for aff in rec["affected"].as_array().into_iter().flatten() {
                entries.extend(aff["severity"].as_array().into_iter().flatten());
            }
            for e in entries {
                let kind = e["type"].as_str().unwrap_or_default();
                if !kind.starts_with("CVSS") {
                    continue;
                }
                let vector = e["score"].as_str().unwrap_or_default();
                seen += 1;
                match Cvss::parse(vector) {
                    Ok(c) => assert!((0.0..=10.0).contains(&c.score), "{vector}"),
                    Err(err) => {
                        bad.insert(vector.to_string(), err.to_string());
                    }
                }
            }
        }
    }
    if seen > 0 {
        assert!(seen > 5_000, "only {seen} vectors found");
    }
    assert!(
        bad.is_empty(),
        "{} of {seen} vectors failed: {bad:#?}",
        bad.len()
    );
}

/// Real findings from the issue: PyYAML 5.3 → CVE-2020-14343 (PYSEC-2021-142), fixed in 5.4.
#[test]
fn pyyaml_5_3_is_affected_and_5_4_is_not() {
    let recs = records("PyPI");
    if recs.is_empty() {
        return;
    }
    let rec = recs
        .iter()
        .find(|r| {
            r["aliases"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|a| a == "CVE-2020-14343")
        })
        .expect("CVE-2020-14343 is in the PyPI mirror");
    let aff = &rec["affected"][0];
    assert_eq!(aff["package"]["name"], "pyyaml");
    let check = |v: &str| {
        let v = Version::parse(Scheme::Pep440, v).unwrap();
        aff["ranges"].as_array().into_iter().flatten().any(|range| {
            let rt: RangeType = serde_json::from_value(range["type"].clone()).unwrap();
            let events: Vec<RangeEvent> = serde_json::from_value(range["events"].clone()).unwrap();
            is_affected(Scheme::Pep440, &v, rt, &events)
                .unwrap()
                .is_some()
        })
    };
    assert!(check("5.3"));
    assert!(check("5.3.1"));
    assert!(!check("5.4"));
    assert!(!check("6.0"));
}
