//! Integration tests of the advisory DB and the matcher: building from the shared OSV mirror
//! (`../shared/osv-mirror`) and from hand-written fixtures, the download path over a loopback
//! HTTP server, corrupt/truncated/wrong-schema DB files, and known findings on real package
//! lists from the shared test images.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stderr)]

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tollgate::catalog::{Distro, Inventory, Location, Package, PackageType};
use tollgate::matcher::{self, FixState, Match, MatchOptions};
use tollgate::vulndb::{self, BuildOptions, DbError, HttpOptions, SourceSpec, VulnDb};

fn shared() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared"))
}

/// The shared mirror, or `None` (with a printed reason) when absent outside CI.
fn mirror() -> Option<PathBuf> {
    let p = shared().join("osv-mirror");
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

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

fn opts(from: SourceSpec, ecosystems: &[&str]) -> BuildOptions {
    BuildOptions {
        from,
        ecosystems: ecosystems.iter().map(|s| s.to_string()).collect(),
        kev: None,
        epss: None,
        http: HttpOptions {
            connect_timeout: Duration::from_secs(2),
            read_timeout: Duration::from_secs(2),
            retries: 1,
        },
    }
}

/// One DB built from the whole mirror, shared by the tests of this binary.
fn mirror_db() -> Option<&'static Path> {
    static DB: std::sync::OnceLock<Option<PathBuf>> = std::sync::OnceLock::new();
    DB.get_or_init(|| {
        let m = mirror()?;
        let dir = std::env::temp_dir().join(format!("tollgate-vulndb-it-{}", std::process::id()));
        let out = dir.join("mirror.sqlite");
        let summary = rt()
            .block_on(vulndb::build::build(&opts(SourceSpec::Dir(m), &[]), &out))
            .unwrap();
        assert!(summary.advisories > 35_000, "{}", summary.advisories);
        eprintln!(
            "whole mirror: {} advisories, {} borrowed a sibling's severity",
            summary.advisories, summary.severity_borrowed
        );
        assert!(
            summary.severity_borrowed > 500,
            "Debian DSA/DLA records with rated siblings: {}",
            summary.severity_borrowed
        );
        Some(out)
    })
    .as_deref()
}

#[test]
fn builds_whole_mirror_with_meta_and_kev() {
    let Some(path) = mirror_db() else { return };
    let db = VulnDb::open(path).unwrap();
    let meta = db.meta();
    assert_eq!(meta.schema_version, vulndb::SCHEMA_VERSION);
    assert_eq!(meta.checksum.len(), 64);
    assert!(meta.counts["PyPI"] > 7000, "{:?}", meta.counts);
    assert!(meta.counts.contains_key("Debian:11"));
    assert!(meta.counts.contains_key("AlmaLinux:9"));
    let names: Vec<_> = meta.sources.iter().map(|s| s.name.as_str()).collect();
    for want in ["PyPI", "npm", "Go", "Debian", "kev"] {
        assert!(names.contains(&want), "{names:?}");
    }
    let pypi = meta.sources.iter().find(|s| s.name == "PyPI").unwrap();
    if pypi.records != 7081 {
        let dir = tempfile::tempdir().unwrap();
        let s = rt()
            .block_on(vulndb::build::build(
                &opts(SourceSpec::Dir(mirror().unwrap()), &["PyPI"]),
                &dir.path().join("p.sqlite"),
            ))
            .unwrap();
        panic!("{:#?}", s.skipped);
    }
    assert_eq!(pypi.skipped, 0);
    assert!(pypi.withdrawn > 200);
    assert!(db.kev("CVE-2021-44228").unwrap().is_some());
    assert!(db.kev("CVE-1999-0001").unwrap().is_none());
    db.verify().unwrap();
    // Alias lookup: the GO record and the GHSA sample share CVE-2023-45288.
    let ids: Vec<_> = db
        .records_by_id("CVE-2023-45288")
        .unwrap()
        .into_iter()
        .map(|r| r.id)
        .collect();
    assert!(ids.contains(&"GO-2024-2687".to_string()), "{ids:?}");
    assert!(ids.contains(&"GHSA-4v7x-pqxf-cx7m".to_string()), "{ids:?}");
    // Name search normalises per ecosystem.
    let hits = db.search("PyYAML").unwrap();
    assert!(
        hits.iter()
            .any(|h| h.ecosystem == "PyPI" && h.id == "PYSEC-2021-142")
    );
    let axios = db.search("axios").unwrap();
    assert!(
        axios.iter().any(|h| h.id == "GHSA-8hc4-vh64-cxmj"),
        "Axios spelling"
    );
}

// ---------------------------------------------------------------------------------------------
// Inventories from the shared test images' ground truth.

fn testimages() -> Option<PathBuf> {
    let dir = std::env::var_os("TOLLGATE_TESTIMAGES")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/var/tmp/tollgate-testimages"));
    if dir.join("fat").join("expected.json").is_file() {
        return Some(dir);
    }
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!(
            "CI=true but the shared test images are missing at {}",
            dir.display()
        );
    }
    eprintln!("skipping: no test images at {}", dir.display());
    None
}

fn pkg(kind: PackageType, name: &str, version: &str) -> Package {
    Package {
        id: format!("{kind}:{name}@{version}"),
        name: name.into(),
        version: version.into(),
        kind,
        purl: match kind {
            PackageType::Python => format!("pkg:pypi/{}@{version}", name.to_ascii_lowercase()),
            PackageType::Npm => format!("pkg:npm/{name}@{version}"),
            _ => format!("pkg:deb/debian/{name}@{version}"),
        },
        locations: vec![Location {
            path: format!("/fixture/{name}"),
            layer_digest: "sha256:00".into(),
            layer_index: 1,
        }],
        ..Default::default()
    }
}

fn debian12() -> Distro {
    Distro {
        id: "debian".into(),
        version_id: "12".into(),
        codename: Some("bookworm".into()),
        ..Default::default()
    }
}

/// The python + npm (+ deb, source = binary name) packages of a test image's `expected.json`.
fn image_inventory(image: &str) -> Option<Inventory> {
    let dir = testimages()?;
    let text = std::fs::read_to_string(dir.join(image).join("expected.json")).unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let mut packages = Vec::new();
    for (key, kind) in [
        ("python", PackageType::Python),
        ("npm", PackageType::Npm),
        ("deb", PackageType::Deb),
    ] {
        for p in v[key].as_array().unwrap() {
            packages.push(pkg(
                kind,
                p["name"].as_str().unwrap(),
                p["version"].as_str().unwrap(),
            ));
        }
    }
    Some(Inventory {
        distro: Some(debian12()),
        packages,
        ..Default::default()
    })
}

fn ids_for<'a>(matches: &'a [Match], name: &str) -> Vec<&'a Match> {
    matches.iter().filter(|m| m.package_name == name).collect()
}

fn has(m: &[&Match], id: &str) -> bool {
    m.iter()
        .any(|m| m.vulnerability.id == id || m.vulnerability.aliases.iter().any(|a| a == id))
}

#[test]
fn fat_image_known_findings_and_fixed_versions_clean() {
    let Some(path) = mirror_db() else { return };
    let Some(inv) = image_inventory("fat") else {
        return;
    };
    let db = VulnDb::open(path).unwrap();
    let out = matcher::run_detailed(&inv, &db, &MatchOptions::default()).unwrap();
    let m = &out.matches;
    assert!(has(&ids_for(m, "lodash"), "CVE-2021-23337"));
    assert!(has(&ids_for(m, "PyYAML"), "CVE-2020-14343"));
    assert!(has(&ids_for(m, "urllib3"), "CVE-2019-11324"));
    assert!(has(&ids_for(m, "Jinja2"), "CVE-2019-10906"));
    assert!(has(&ids_for(m, "requests"), "CVE-2018-18074"));
    assert!(
        !ids_for(m, "Django").is_empty(),
        "Django 3.2 has PYSEC advisories"
    );
    let minimist = ids_for(m, "minimist");
    assert!(has(&minimist, "CVE-2021-44906"));
    assert!(
        !has(&minimist, "GHSA-7fhm-mqm4-2wp7"),
        "withdrawn advisory must not match"
    );
    // Aliases merged: one finding for CVE-2024-35195 on requests, carrying both records' ids.
    let req: Vec<_> = ids_for(m, "requests")
        .into_iter()
        .filter(|x| x.vulnerability.id == "CVE-2024-35195")
        .collect();
    assert_eq!(req.len(), 1);
    for id in ["PYSEC-2026-1873", "GHSA-9wx4-h78v-vm56"] {
        assert!(
            req[0].vulnerability.aliases.iter().any(|a| a == id),
            "{:?}",
            req[0].vulnerability.aliases
        );
    }
    assert_eq!(req[0].details.len(), 2);
    // Every finding says why.
    for x in m {
        assert!(
            !x.details.is_empty() && !x.details[0].constraint.is_empty(),
            "{x:?}"
        );
    }
    let lodash = ids_for(m, "lodash")
        .into_iter()
        .find(|x| x.vulnerability.id == "CVE-2021-23337")
        .unwrap();
    assert_eq!(lodash.fix_state, FixState::Fixed);
    assert_eq!(lodash.fixed_in, vec!["4.17.21".to_string()]);
    assert_eq!(lodash.vulnerability.severity_source, "cvss-v3.1");

    // The same packages at their fixed versions: those advisories are gone.
    let fixed = Inventory {
        distro: Some(debian12()),
        packages: vec![
            pkg(PackageType::Npm, "lodash", "4.17.21"),
            pkg(PackageType::Python, "PyYAML", "5.4"),
            pkg(PackageType::Python, "urllib3", "1.24.2"),
            pkg(PackageType::Python, "Jinja2", "2.10.1"),
            pkg(PackageType::Python, "requests", "2.20.0"),
            pkg(PackageType::Npm, "minimist", "1.2.6"),
        ],
        ..Default::default()
    };
    let m = matcher::run(&fixed, &db, &MatchOptions::default()).unwrap();
    for (name, id) in [
        ("lodash", "CVE-2021-23337"),
        ("PyYAML", "CVE-2020-14343"),
        ("urllib3", "CVE-2019-11324"),
        ("Jinja2", "CVE-2019-10906"),
        ("requests", "CVE-2018-18074"),
        ("minimist", "CVE-2021-44906"),
    ] {
        assert!(
            !has(&ids_for(&m, name), id),
            "{name} at its fixed version still has {id}"
        );
    }
}

#[test]
fn explain_shows_why_and_why_not() {
    let Some(path) = mirror_db() else { return };
    let db = VulnDb::open(path).unwrap();
    let inv = Inventory {
        packages: vec![
            pkg(PackageType::Python, "requests", "2.19.1"),
            pkg(PackageType::Python, "requests", "2.20.0"),
            pkg(PackageType::Npm, "minimist", "1.2.0"),
        ],
        ..Default::default()
    };
    let e = matcher::explain::explain(&db, "CVE-2018-18074", Some(&inv), &MatchOptions::default())
        .unwrap();
    let verdicts: Vec<_> = e
        .advisories
        .iter()
        .flat_map(|a| a.entries.iter())
        .flat_map(|e| e.packages.iter())
        .collect();
    let hit = verdicts.iter().find(|v| v.version == "2.19.1").unwrap();
    assert!(hit.affected && hit.reason.contains("2.20.0"), "{hit:?}");
    let miss = verdicts.iter().find(|v| v.version == "2.20.0").unwrap();
    assert!(
        !miss.affected && miss.reason.contains("outside"),
        "{miss:?}"
    );
    let w = matcher::explain::explain(
        &db,
        "GHSA-7fhm-mqm4-2wp7",
        Some(&inv),
        &MatchOptions::default(),
    )
    .unwrap();
    assert!(w.advisories[0].withdrawn.is_some());
    assert!(
        w.advisories[0]
            .entries
            .iter()
            .flat_map(|e| &e.packages)
            .all(|p| !p.affected)
    );
    assert!(matches!(
        matcher::explain::explain(&db, "CVE-0000-0000", None, &MatchOptions::default()),
        Err(matcher::MatchError::Db(DbError::UnknownId(_)))
    ));
}

#[test]
fn debian_findings_borrow_severity_from_sibling_records() {
    let Some(path) = mirror_db() else { return };
    let db = VulnDb::open(path).unwrap();
    // DSA-4963-1 (openssl, Debian 11, fixed 1.1.1k-1+deb11u1) carries no severity; RustSec
    // (and possibly other) records of the same CVEs carry CVSS v3 vectors.
    let mut libssl = pkg(PackageType::Deb, "libssl1.1", "1.1.1k-1");
    libssl.source_name = Some("openssl".into());
    let inv = Inventory {
        distro: Some(Distro {
            id: "debian".into(),
            version_id: "11".into(),
            ..Default::default()
        }),
        packages: vec![libssl],
        ..Default::default()
    };
    let m = matcher::run(&inv, &db, &MatchOptions::default()).unwrap();
    let find = |cve: &str| {
        m.iter()
            .find(|x| x.vulnerability.id == cve)
            .unwrap_or_else(|| panic!("{cve} not found"))
    };
    for (cve, want) in [
        ("CVE-2021-3711", tollgate::types::Severity::Critical), // 9.8
        ("CVE-2021-3712", tollgate::types::Severity::High),     // 7.4
    ] {
        let f = find(cve);
        assert!(f.vulnerability.aliases.contains(&"DSA-4963-1".to_string()));
        assert_eq!(f.vulnerability.severity, want, "{cve}");
        assert_eq!(f.vulnerability.severity_source, "cvss-v3.1", "{cve}");
        let via = f.vulnerability.severity_via.clone().expect("borrowed");
        // The sibling really names this CVE and really has the vector shown.
        let sibling = &db.records_by_id(&via).unwrap()[0];
        assert!(sibling.all_ids().any(|i| i == cve), "{via} names {cve}");
        let cvss = f
            .vulnerability
            .cvss
            .iter()
            .find(|c| c.source == via)
            .unwrap();
        assert!(
            sibling.severity.iter().any(|s| s.score == cvss.vector),
            "{via}: {cvss:?}"
        );
    }
    // A finding rated by Debian itself is not overridden, and explain shows the borrowing.
    let e = matcher::explain::explain(&db, "DSA-4963-1", None, &MatchOptions::default()).unwrap();
    let adv = &e.advisories[0];
    assert!(adv.severity.is_empty(), "DSA records carry no severity");
    assert!(
        adv.severity_from
            .iter()
            .any(|s| s.starts_with("CVE-2021-3711: CVSS_V3 CVSS:3.1/")
                && s.contains("(base 9.8) from ")),
        "{:?}",
        adv.severity_from
    );
}

#[test]
fn almalinux_rpm_matching_on_mirror_records() {
    let Some(m) = mirror() else { return };
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("alma.sqlite");
    let summary = rt()
        .block_on(vulndb::build::build(
            &opts(SourceSpec::Dir(m), &["AlmaLinux"]),
            &out,
        ))
        .unwrap();
    assert!(summary.advisories > 5_000, "{}", summary.advisories);
    let db = VulnDb::open(&out).unwrap();
    let rpm = |name: &str, version: &str| Package {
        id: format!("rpm:{name}@{version}"),
        name: name.into(),
        version: version.into(),
        kind: PackageType::Rpm,
        source_name: Some("openssl".into()),
        ..Default::default()
    };
    let inv = |version: &str| Inventory {
        distro: Some(Distro {
            id: "almalinux".into(),
            version_id: "9.0".into(),
            id_like: vec!["rhel".into(), "centos".into(), "fedora".into()],
            ..Default::default()
        }),
        packages: vec![rpm("openssl-libs", version)],
        ..Default::default()
    };
    // ALSA-2022:7288 (Important: openssl security update): openssl-libs fixed in
    // 1:3.0.1-43.el9_0 on AlmaLinux 9.
    let before = matcher::run(&inv("1:3.0.1-41.el9_0"), &db, &MatchOptions::default()).unwrap();
    let f = before
        .iter()
        .find(|x| x.vulnerability.id == "ALSA-2022:7288")
        .expect("ALSA-2022:7288 matches openssl-libs 1:3.0.1-41.el9_0");
    assert_eq!(f.fixed_in, vec!["1:3.0.1-43.el9_0".to_string()]);
    assert_eq!(f.details[0].ecosystem, "AlmaLinux:9");
    assert_eq!(f.details[0].scheme, "rpm");
    assert_eq!(
        (
            f.vulnerability.severity,
            f.vulnerability.severity_source.as_str()
        ),
        (tollgate::types::Severity::High, "almalinux"),
        "Red Hat's `Important` from the errata summary"
    );
    let at_fix = matcher::run(&inv("1:3.0.1-43.el9_0"), &db, &MatchOptions::default()).unwrap();
    assert!(
        !at_fix
            .iter()
            .any(|x| x.vulnerability.id == "ALSA-2022:7288")
    );
    // Epoch decides: without the epoch the installed version is older than any `1:` fix.
    let no_epoch = matcher::run(&inv("3.0.7-1.el9"), &db, &MatchOptions::default()).unwrap();
    assert!(
        no_epoch
            .iter()
            .any(|x| x.vulnerability.id == "ALSA-2022:7288")
    );
    // Same package on AlmaLinux 8: other ecosystem, other advisories.
    let mut el8 = inv("1:1.1.1k-5.el8_5");
    el8.distro.as_mut().unwrap().version_id = "8.9".into();
    let m8 = matcher::run(&el8, &db, &MatchOptions::default()).unwrap();
    assert!(!m8.is_empty());
    assert!(
        m8.iter()
            .all(|x| x.details.iter().all(|d| d.ecosystem == "AlmaLinux:8"))
    );
    assert!(!m8.iter().any(|x| x.vulnerability.id == "ALSA-2022:7288"));
}

#[test]
fn rocky_and_red_hat_ecosystems_from_fixture_records() {
    // The shared mirror has no Rocky Linux or Red Hat data; these records follow the OSV
    // ecosystem strings those sources publish (`Rocky Linux:9`,
    // `Red Hat:enterprise_linux:9::<repo>`).
    let rlsa = br#"{"id":"RLSA-2024:0001","modified":"2024-01-02T00:00:00Z","summary":"Moderate: curl security update","related":["CVE-2023-0001"],
      "affected":[{"package":{"ecosystem":"Rocky Linux:9","name":"libcurl"},"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"7.76.1-26.el9_3.2"}]}]}]}"#;
    let rhsa = br#"{"id":"RHSA-2024:0002","modified":"2024-01-02T00:00:00Z","summary":"Important: curl security update","upstream":["CVE-2023-0001"],
      "affected":[{"package":{"ecosystem":"Red Hat:enterprise_linux:9::baseos","name":"curl"},"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"0:7.76.1-26.el9_3.2"}]}]},
                  {"package":{"ecosystem":"Red Hat:enterprise_linux:9::appstream","name":"curl"},"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"0:7.76.1-26.el9_3.2"}]}]}]}"#;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("rpm.sqlite");
    vulndb::build::build_from_records(
        "fixtures",
        &[
            ("RLSA-2024:0001.json", rlsa.as_slice()),
            ("RHSA-2024:0002.json", rhsa.as_slice()),
        ],
        &out,
    )
    .unwrap();
    let db = VulnDb::open(&out).unwrap();
    let libcurl = |version: &str| Package {
        id: format!("rpm:libcurl@{version}"),
        name: "libcurl".into(),
        version: version.into(),
        kind: PackageType::Rpm,
        source_name: Some("curl".into()),
        ..Default::default()
    };
    let scan = |id: &str, version: &str| {
        let inv = Inventory {
            distro: Some(Distro {
                id: id.into(),
                version_id: "9.3".into(),
                ..Default::default()
            }),
            packages: vec![libcurl(version)],
            ..Default::default()
        };
        matcher::run(&inv, &db, &MatchOptions::default()).unwrap()
    };
    let rocky = scan("rocky", "7.76.1-26.el9_3.1");
    assert_eq!(rocky.len(), 1, "{rocky:?}");
    assert_eq!(rocky[0].vulnerability.id, "RLSA-2024:0001");
    assert_eq!(
        rocky[0].vulnerability.severity,
        tollgate::types::Severity::Medium
    );
    assert!(scan("rocky", "7.76.1-26.el9_3.2").is_empty());
    // RHEL: found through the source rpm name in both repository streams; one finding.
    let rhel = scan("rhel", "7.76.1-26.el9_3.1");
    assert_eq!(rhel.len(), 1, "{rhel:?}");
    assert_eq!(rhel[0].vulnerability.id, "CVE-2023-0001");
    assert!(
        rhel[0]
            .vulnerability
            .aliases
            .contains(&"RHSA-2024:0002".to_string())
    );
    assert_eq!(
        rhel[0].vulnerability.severity,
        tollgate::types::Severity::High
    );
    assert_eq!(rhel[0].fixed_in, vec!["0:7.76.1-26.el9_3.2".to_string()]);
    assert!(
        scan("rhel", "7.76.1-26.el9_3.2").is_empty(),
        "an explicit 0: epoch equals no epoch"
    );
    assert!(scan("centos", "7.76.1-26.el9_3.1").is_empty());
}

// ---------------------------------------------------------------------------------------------
// The example advisory set and the example image's packages.

fn example_inventory() -> Inventory {
    let deb = |name: &str, version: &str, src: &str, src_version: Option<&str>| {
        let mut p = pkg(PackageType::Deb, name, version);
        p.source_name = Some(src.into());
        p.source_version = src_version.map(str::to_string);
        p
    };
    Inventory {
        distro: Some(debian12()),
        packages: vec![
            deb("openssl", "3.0.11-1~deb12u2", "openssl", None),
            deb("libssl3", "3.0.11-1~deb12u2", "openssl", None),
            deb("zlib1g", "1:1.2.13.dfsg-1", "zlib", None),
            deb("libc6", "2.36-9+deb12u3", "glibc", None),
            deb("bash", "5.2.15-2+b2", "bash", Some("5.2.15-2")),
            pkg(PackageType::Python, "PyYAML", "5.3"),
            pkg(PackageType::Python, "requests", "2.19.1"),
            pkg(PackageType::Python, "urllib3", "1.24.1"),
            pkg(PackageType::Python, "Jinja2", "2.10"),
            pkg(PackageType::Npm, "lodash", "4.17.15"),
            pkg(PackageType::Npm, "minimist", "1.2.0"),
        ],
        ..Default::default()
    }
}

#[test]
fn example_db_finds_the_example_image_findings() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("example.sqlite");
    let summary =
        vulndb::build::build_from_records("examples", vulndb::EXAMPLE_ADVISORIES, &out).unwrap();
    assert_eq!(
        summary.skipped,
        vec![],
        "every shipped example advisory passes the schema check"
    );
    assert_eq!(
        summary.advisories as usize,
        vulndb::EXAMPLE_ADVISORIES.len()
    );
    let db = VulnDb::open(&out).unwrap();
    db.verify().unwrap();
    let m = matcher::run(&example_inventory(), &db, &MatchOptions::default()).unwrap();
    let libc = ids_for(&m, "libc6");
    assert!(
        has(&libc, "CVE-2023-6246") && has(&libc, "CVE-2023-6779") && has(&libc, "CVE-2023-6780")
    );
    assert!(
        !has(&libc, "CVE-2023-4911"),
        "fixed in 2.36-9+deb12u3, the installed version"
    );
    let cve = libc
        .iter()
        .find(|x| x.vulnerability.id == "CVE-2023-6246")
        .unwrap();
    assert!(
        cve.vulnerability
            .aliases
            .contains(&"DSA-5611-1".to_string()),
        "DSA fan-out keeps the DSA id"
    );
    assert_eq!(cve.fixed_in, vec!["2.36-9+deb12u4".to_string()]);
    assert_eq!(cve.details[0].searched_name, "glibc");
    for bin in ["openssl", "libssl3"] {
        let o = ids_for(&m, bin);
        assert!(has(&o, "CVE-2024-5535"), "{bin} via source package openssl");
        assert!(has(&o, "CVE-2024-6119"), "{bin}: DSA-5764-1");
        let dsa_cves: Vec<&str> = o
            .iter()
            .filter(|x| x.vulnerability.aliases.iter().any(|a| a == "DSA-5764-1"))
            .map(|x| x.vulnerability.id.as_str())
            .collect();
        assert_eq!(
            dsa_cves,
            vec!["CVE-2024-6119"],
            "DSA-5764-1 fixed CVE-2024-6119 only (CVE-2024-5535 came with 3.0.14-1~deb12u1)"
        );
        assert!(
            !has(&o, "CVE-2023-5363"),
            "{bin}: fixed at the installed version"
        );
    }
    assert!(
        ids_for(&m, "zlib1g").is_empty(),
        "epoch 1: compares above the 1:1.2.11 fix"
    );
    assert!(ids_for(&m, "bash").is_empty());
    assert_eq!(m.len(), 13, "the README quickstart's 13 findings");
    for (name, id) in [
        ("PyYAML", "CVE-2020-14343"),
        ("requests", "CVE-2018-18074"),
        ("urllib3", "CVE-2019-11324"),
        ("Jinja2", "CVE-2019-10906"),
        ("lodash", "CVE-2021-23337"),
        ("minimist", "CVE-2021-44906"),
    ] {
        let f = ids_for(&m, name);
        assert!(has(&f, id), "{name} → {id}: {f:?}");
    }
    let pyyaml = ids_for(&m, "PyYAML")[0];
    assert_eq!(
        pyyaml.vulnerability.severity,
        tollgate::types::Severity::Critical
    );
    assert_eq!(pyyaml.layer_index, 1);
}

#[test]
fn suppression_rules_vex_and_unused_reporting() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("example.sqlite");
    vulndb::build::build_from_records("examples", vulndb::EXAMPLE_ADVISORIES, &out).unwrap();
    let db = VulnDb::open(&out).unwrap();
    let mut m = matcher::run(&example_inventory(), &db, &MatchOptions::default()).unwrap();
    let total = m.len();
    let cfg_path = dir.path().join(".tollgate.yaml");
    std::fs::write(
        &cfg_path,
        "notifications:\n  slack: {webhook: x}\nignore:\n  - vulnerability: CVE-2020-14343\n    package: {name: pyyaml, type: python, version: '<5.4'}\n    reason: only safe_load is used\n  - vulnerability: CVE-2019-*\n    package: {type: python}\n    expires: 2020-01-01\n  - vulnerability: CVE-1999-0001\n    reason: nothing has it\n  - package: {name: libc6}\n    fix-state: not-fixed\n",
    )
    .unwrap();
    let cfg = matcher::suppress::IgnoreConfig::load(&cfg_path).unwrap();
    let vex_path = dir.path().join("app.vex.json");
    std::fs::write(
        &vex_path,
        r#"{"@context":"https://openvex.dev/ns/v0.2.0","@id":"x","author":"t","timestamp":"2024-01-01T00:00:00Z","version":1,
           "statements":[
             {"vulnerability":{"name":"CVE-2021-23337"},"products":[{"@id":"pkg:oci/app","subcomponents":[{"@id":"pkg:npm/lodash@4.17.15"}]}],
              "status":"not_affected","justification":"vulnerable_code_not_in_execute_path"},
             {"vulnerability":{"name":"CVE-2099-0001"},"products":["pkg:npm/lodash"],"status":"fixed"}
           ]}"#,
    )
    .unwrap();
    let vex = matcher::suppress::VexDocument::load(&vex_path).unwrap();
    let report = matcher::suppress::apply(&mut m, &cfg, &[vex]);
    assert_eq!(m.len(), total, "suppressed findings stay in the list");
    let pyyaml = m
        .iter()
        .find(|x| x.vulnerability.id == "CVE-2020-14343")
        .unwrap();
    let s = pyyaml.suppressed.as_ref().unwrap();
    assert_eq!(
        (s.kind.as_str(), s.reason.as_str()),
        ("ignore-rule", "only safe_load is used")
    );
    let lodash = m
        .iter()
        .find(|x| x.vulnerability.id == "CVE-2021-23337")
        .unwrap();
    assert_eq!(lodash.suppressed.as_ref().unwrap().kind, "vex");
    let urllib3 = m
        .iter()
        .find(|x| x.vulnerability.id == "CVE-2019-11324")
        .unwrap();
    assert!(
        urllib3.suppressed.is_none(),
        "expired rule must not suppress"
    );
    assert_eq!(report.suppressed, 2);
    let unused: Vec<_> = report
        .unused
        .iter()
        .map(|u| (u.kind.as_str(), u.index, u.reason.as_str()))
        .collect();
    assert!(
        unused.contains(&("ignore-rule", 1, "expired 2020-01-01")),
        "{unused:?}"
    );
    assert!(
        unused.contains(&("ignore-rule", 2, "matched no finding")),
        "{unused:?}"
    );
    assert!(
        unused.contains(&("ignore-rule", 3, "matched no finding")),
        "libc6 findings are fixed, not not-fixed: {unused:?}"
    );
    assert!(
        unused.contains(&("vex", 1, "matched no finding")),
        "{unused:?}"
    );
    assert_eq!(unused.len(), 4, "{unused:?}");
}

// ---------------------------------------------------------------------------------------------
// Bad input: records, archives, DB files.

#[test]
fn bad_records_are_skipped_with_their_ids() {
    let good = br#"{"id":"GOOD-1","modified":"2024-01-01T00:00:00Z","affected":[{"package":{"ecosystem":"npm","name":"a"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"1.0.0"}]}]}]}"#;
    let records: Vec<(&str, &[u8])> = vec![
        ("GOOD-1.json", good),
        ("BROKEN-1.json", b"{\"id\": \"BROKEN-1\", "),
        ("NOMOD-1.json", br#"{"id":"NOMOD-1"}"#),
        ("BADRANGE-1.json", br#"{"id":"BADRANGE-1","modified":"2024-01-01T00:00:00Z","affected":[{"package":{"ecosystem":"npm","name":"a"},"ranges":[{"type":"SEMVER","events":[{"fixed":"1"}]}]}]}"#),
        ("RENAMED.json", br#"{"id":"OTHER-1","modified":"2024-01-01T00:00:00Z"}"#),
    ];
    let dir = tempfile::tempdir().unwrap();
    let s = vulndb::build::build_from_records("t", &records, &dir.path().join("t.sqlite")).unwrap();
    assert_eq!(s.advisories, 1);
    let members: Vec<_> = s.skipped.iter().map(|k| k.member.as_str()).collect();
    assert_eq!(
        members,
        [
            "BROKEN-1.json",
            "NOMOD-1.json",
            "BADRANGE-1.json",
            "RENAMED.json"
        ]
    );
    assert!(s.skipped[1].reason.contains("/modified"));
    assert!(s.skipped[2].reason.contains("introduced"));
}

fn zip_of(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut buf = std::io::Cursor::new(Vec::new());
    {
        let mut w = zip::ZipWriter::new(&mut buf);
        for (name, data) in files {
            w.start_file(*name, zip::write::SimpleFileOptions::default())
                .unwrap();
            w.write_all(data).unwrap();
        }
        w.finish().unwrap();
    }
    buf.into_inner()
}

#[test]
fn half_written_zip_fails_and_leaves_the_old_db() {
    let dir = tempfile::tempdir().unwrap();
    let mirror = dir.path().join("mirror");
    std::fs::create_dir_all(mirror.join("npm")).unwrap();
    let good = br#"{"id":"GOOD-1","modified":"2024-01-01T00:00:00Z"}"#;
    let zip = zip_of(&[("GOOD-1.json", good)]);
    std::fs::write(mirror.join("npm/all.zip"), &zip).unwrap();
    let out = dir.path().join("db.sqlite");
    rt().block_on(vulndb::build::build(
        &opts(SourceSpec::Dir(mirror.clone()), &["npm"]),
        &out,
    ))
    .unwrap();
    let before = std::fs::read(&out).unwrap();
    std::fs::write(mirror.join("npm/all.zip"), &zip[..zip.len() / 2]).unwrap();
    let err = rt()
        .block_on(vulndb::build::build(
            &opts(SourceSpec::Dir(mirror), &["npm"]),
            &out,
        ))
        .unwrap_err();
    assert!(matches!(err, DbError::BadArchive { .. }), "{err:?}");
    assert_eq!(std::fs::read(&out).unwrap(), before, "old DB untouched");
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(leftovers.len(), 2, "no temp files left: {leftovers:?}");
}

fn small_db(dir: &Path) -> PathBuf {
    let out = dir.join("small.sqlite");
    vulndb::build::build_from_records("examples", vulndb::EXAMPLE_ADVISORIES, &out).unwrap();
    out
}

#[test]
fn corrupt_truncated_and_wrong_schema_dbs_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let db = small_db(dir.path());
    let bytes = std::fs::read(&db).unwrap();

    let missing = VulnDb::open(dir.path().join("nope.sqlite")).unwrap_err();
    assert!(matches!(missing, DbError::Missing { .. }), "{missing:?}");

    let trunc = dir.path().join("trunc.sqlite");
    std::fs::write(&trunc, &bytes[..bytes.len() / 2]).unwrap();
    let e = VulnDb::open(&trunc).unwrap_err();
    assert!(
        matches!(&e, DbError::Corrupt { reason, .. } if reason.contains("truncated")),
        "{e:?}"
    );

    let garbage = dir.path().join("garbage.sqlite");
    std::fs::write(&garbage, b"this is not a database at all, just some text that is long enough to have a header ......................").unwrap();
    assert!(matches!(
        VulnDb::open(&garbage).unwrap_err(),
        DbError::Corrupt { .. }
    ));

    let empty = dir.path().join("empty.sqlite");
    std::fs::write(&empty, b"").unwrap();
    assert!(matches!(
        VulnDb::open(&empty).unwrap_err(),
        DbError::Corrupt { .. }
    ));

    let old = dir.path().join("old.sqlite");
    std::fs::write(&old, &bytes).unwrap();
    let c = rusqlite::Connection::open(&old).unwrap();
    c.execute(
        "UPDATE meta SET value = '0' WHERE key = 'schema_version'",
        [],
    )
    .unwrap();
    drop(c);
    let e = VulnDb::open(&old).unwrap_err();
    assert!(
        matches!(&e, DbError::SchemaMismatch { found, .. } if found == "0"),
        "{e:?}"
    );

    let tampered = dir.path().join("tampered.sqlite");
    std::fs::write(&tampered, &bytes).unwrap();
    let c = rusqlite::Connection::open(&tampered).unwrap();
    c.execute(
        "UPDATE advisory SET record = replace(record, '2.20.0', '2.99.0')",
        [],
    )
    .unwrap();
    drop(c);
    let t = VulnDb::open(&tampered).unwrap();
    assert!(matches!(
        t.verify().unwrap_err(),
        DbError::ChecksumMismatch { .. }
    ));

    // Flipped bytes inside a page: integrity or checksum check catches it.
    let flipped = dir.path().join("flipped.sqlite");
    let mut b = bytes.clone();
    let page = (b.len() / 4096 / 2) * 4096;
    for x in &mut b[page..page + 4096] {
        *x ^= 0x5a;
    }
    std::fs::write(&flipped, &b).unwrap();
    match VulnDb::open(&flipped) {
        Err(DbError::Corrupt { .. }) => {}
        Ok(db) => assert!(db.verify().is_err()),
        Err(e) => panic!("unexpected {e:?}"),
    }
}

#[test]
fn staleness() {
    let dir = tempfile::tempdir().unwrap();
    let db_path = small_db(dir.path());
    let c = rusqlite::Connection::open(&db_path).unwrap();
    c.execute(
        "UPDATE meta SET value = '2020-01-01T00:00:00Z' WHERE key = 'built'",
        [],
    )
    .unwrap();
    drop(c);
    let db = VulnDb::open(&db_path).unwrap();
    assert!(db.age() > Duration::from_secs(365 * 86400));
    let e = db.check_age(Some(vulndb::DEFAULT_MAX_AGE)).unwrap_err();
    assert!(matches!(e, DbError::Stale { max_hours: 120, .. }), "{e:?}");
    db.check_age(None).unwrap();
    assert_eq!(vulndb::parse_max_age("0").unwrap(), None);
    assert_eq!(
        vulndb::parse_max_age("36h").unwrap(),
        Some(Duration::from_secs(36 * 3600))
    );
    assert_eq!(
        vulndb::parse_max_age("5").unwrap(),
        Some(vulndb::DEFAULT_MAX_AGE)
    );
    assert!(vulndb::parse_max_age("5 weeks").is_err());
}

// ---------------------------------------------------------------------------------------------
// The download path: a loopback HTTP server.

#[derive(Clone, Copy)]
enum Mode {
    /// Serve files from a directory.
    Files,
    /// 404 for everything.
    NotFound,
    /// 500 for everything.
    Error500,
    /// Accept, send headers, then stall.
    Stall,
    /// Send half the body, then close.
    Truncate,
}

struct Server {
    url: String,
    stop: Arc<AtomicBool>,
    handle: Option<std::thread::JoinHandle<()>>,
    hits: Arc<std::sync::atomic::AtomicUsize>,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = std::net::TcpStream::connect(self.url.trim_start_matches("http://"));
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

fn serve(root: PathBuf, mode: Mode) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let stop = Arc::new(AtomicBool::new(false));
    let hits = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let (stop2, hits2) = (stop.clone(), hits.clone());
    let handle = std::thread::spawn(move || {
        for conn in listener.incoming() {
            if stop2.load(Ordering::SeqCst) {
                break;
            }
            let Ok(mut conn) = conn else { continue };
            hits2.fetch_add(1, Ordering::SeqCst);
            let root = root.clone();
            let stop3 = stop2.clone();
            std::thread::spawn(move || {
                let mut buf = [0u8; 4096];
                let n = conn.read(&mut buf).unwrap_or(0);
                let req = String::from_utf8_lossy(&buf[..n]).to_string();
                let path = req.split_whitespace().nth(1).unwrap_or("/").to_string();
                let path = path.replace("%20", " ");
                let reply = |conn: &mut std::net::TcpStream, status: &str, body: &[u8]| {
                    let _ = write!(
                        conn,
                        "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                        body.len()
                    );
                    let _ = conn.write_all(body);
                };
                match mode {
                    Mode::NotFound => reply(&mut conn, "404 Not Found", b""),
                    Mode::Error500 => reply(&mut conn, "500 Internal Server Error", b"boom"),
                    Mode::Stall => {
                        let _ =
                            write!(conn, "HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n\r\nPK");
                        for _ in 0..100 {
                            if stop3.load(Ordering::SeqCst) {
                                break;
                            }
                            std::thread::sleep(Duration::from_millis(100));
                        }
                    }
                    Mode::Files | Mode::Truncate => {
                        let file = root.join(path.trim_start_matches('/'));
                        match std::fs::read(&file) {
                            Ok(body) if matches!(mode, Mode::Truncate) => {
                                let _ = write!(
                                    conn,
                                    "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                                    body.len()
                                );
                                let _ = conn.write_all(&body[..body.len() / 2]);
                            }
                            Ok(body) => reply(&mut conn, "200 OK", &body),
                            Err(_) => reply(&mut conn, "404 Not Found", b""),
                        }
                    }
                }
            });
        }
    });
    Server {
        url,
        stop,
        handle: Some(handle),
        hits,
    }
}

#[test]
fn download_path_from_loopback_mirror() {
    let Some(m) = mirror() else { return };
    let server = serve(m, Mode::Files);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("http.sqlite");
    let mut o = opts(SourceSpec::Url(server.url.clone()), &["npm", "crates.io"]);
    o.kev = Some(SourceSpec::Url(format!(
        "{}/kev/known_exploited_vulnerabilities.json",
        server.url
    )));
    let s = rt().block_on(vulndb::build::build(&o, &out)).unwrap();
    assert_eq!(
        s.sources
            .iter()
            .map(|x| x.name.as_str())
            .collect::<Vec<_>>(),
        ["npm", "crates.io"]
    );
    assert!(s.kev > 1000);
    let db = VulnDb::open(&out).unwrap();
    assert!(
        db.meta()
            .sources
            .iter()
            .any(|x| x.location.starts_with("http://127.0.0.1"))
    );
    assert!(!db.search("lodash").unwrap().is_empty());
    // Default ecosystem list over HTTP: missing ones (Hex, Pub, …: 404) are noted, not fatal.
    let all = rt()
        .block_on(vulndb::build::build(
            &opts(SourceSpec::Url(server.url.clone()), &[]),
            &dir.path().join("all.sqlite"),
        ))
        .unwrap();
    assert!(
        all.not_found.contains(&"Hex".to_string())
            && all.not_found.contains(&"Rocky Linux".to_string())
    );
    assert!(all.sources.iter().any(|x| x.name == "PyPI"));
}

#[test]
fn mirror_answering_404_500_slow_or_cut_off() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("x.sqlite");
    std::fs::write(&out, b"previous").unwrap();
    let root = dir.path().join("root");
    std::fs::create_dir_all(root.join("npm")).unwrap();
    std::fs::write(
        root.join("npm/all.zip"),
        zip_of(&[(
            "GOOD-1.json",
            br#"{"id":"GOOD-1","modified":"2024-01-01T00:00:00Z"}"#,
        )]),
    )
    .unwrap();

    let s404 = serve(root.clone(), Mode::NotFound);
    let e = rt()
        .block_on(vulndb::build::build(
            &opts(SourceSpec::Url(s404.url.clone()), &[]),
            &out,
        ))
        .unwrap_err();
    assert!(matches!(e, DbError::NoData { .. }), "{e:?}");
    let e = rt()
        .block_on(vulndb::build::build(
            &opts(SourceSpec::Url(s404.url.clone()), &["npm"]),
            &out,
        ))
        .unwrap_err();
    assert!(matches!(e, DbError::EcosystemMissing { .. }), "{e:?}");

    let s500 = serve(root.clone(), Mode::Error500);
    let e = rt()
        .block_on(vulndb::build::build(
            &opts(SourceSpec::Url(s500.url.clone()), &["npm"]),
            &out,
        ))
        .unwrap_err();
    assert!(
        matches!(&e, DbError::Fetch { reason, .. } if reason.contains("500")),
        "{e:?}"
    );
    assert_eq!(s500.hits.load(Ordering::SeqCst), 2, "one retry");

    let slow = serve(root.clone(), Mode::Stall);
    let started = std::time::Instant::now();
    let e = rt()
        .block_on(vulndb::build::build(
            &opts(SourceSpec::Url(slow.url.clone()), &["npm"]),
            &out,
        ))
        .unwrap_err();
    assert!(
        matches!(&e, DbError::Fetch { reason, .. } if reason.contains("timed out") || reason.contains("cut off")),
        "{e:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(20));

    let cut = serve(root.clone(), Mode::Truncate);
    let e = rt()
        .block_on(vulndb::build::build(
            &opts(SourceSpec::Url(cut.url.clone()), &["npm"]),
            &out,
        ))
        .unwrap_err();
    assert!(
        matches!(e, DbError::Fetch { .. } | DbError::BadArchive { .. }),
        "{e:?}"
    );

    assert_eq!(
        std::fs::read(&out).unwrap(),
        b"previous",
        "nothing replaced"
    );
}

#[test]
fn update_verifies_and_replaces_atomically_keeping_previous() {
    let dir = tempfile::tempdir().unwrap();
    let serve_dir = dir.path().join("pub");
    std::fs::create_dir_all(&serve_dir).unwrap();
    let built = small_db(&serve_dir);
    let bytes = std::fs::read(&built).unwrap();
    std::fs::write(
        serve_dir.join("small.sqlite.sha256"),
        format!("{}  small.sqlite\n", tollgate_sha(&bytes)),
    )
    .unwrap();
    std::fs::write(serve_dir.join("bad.sqlite"), &bytes).unwrap();
    std::fs::write(serve_dir.join("bad.sqlite.sha256"), "0000\n").unwrap();
    std::fs::write(serve_dir.join("trunc.sqlite"), &bytes[..bytes.len() / 3]).unwrap();
    let mut zst = Vec::new();
    zstd::stream::copy_encode(&bytes[..], &mut zst, 3).unwrap();
    std::fs::write(serve_dir.join("small.sqlite.zst"), &zst).unwrap();
    let server = serve(serve_dir.clone(), Mode::Files);
    let http = HttpOptions {
        connect_timeout: Duration::from_secs(2),
        read_timeout: Duration::from_secs(2),
        retries: 0,
    };

    let target = dir.path().join("cache").join("vulndb.sqlite");
    let loc = vulndb::update::DbLocation::parse(&format!("{}/small.sqlite", server.url)).unwrap();
    let first = rt()
        .block_on(vulndb::update::update(&loc, &target, &http))
        .unwrap();
    assert!(first.previous.is_none());
    let checksum = VulnDb::open(&target).unwrap().meta().checksum.clone();

    for bad in ["bad.sqlite", "trunc.sqlite"] {
        let loc = vulndb::update::DbLocation::parse(&format!("{}/{bad}", server.url)).unwrap();
        let e = rt()
            .block_on(vulndb::update::update(&loc, &target, &http))
            .unwrap_err();
        assert!(
            matches!(
                e,
                DbError::ChecksumMismatch { .. } | DbError::Corrupt { .. }
            ),
            "{bad}: {e:?}"
        );
        assert_eq!(
            VulnDb::open(&target).unwrap().meta().checksum,
            checksum,
            "{bad}: installed DB untouched"
        );
    }
    let loc =
        vulndb::update::DbLocation::parse(&format!("{}/small.sqlite.zst", server.url)).unwrap();
    let second = rt()
        .block_on(vulndb::update::update(&loc, &target, &http))
        .unwrap();
    assert_eq!(
        second.previous.as_deref(),
        Some(vulndb::update::previous_path(&target).as_path())
    );
    VulnDb::open(vulndb::update::previous_path(&target))
        .unwrap()
        .verify()
        .unwrap();
    let files: Vec<_> = std::fs::read_dir(target.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(files.len(), 2, "{files:?}");
    assert!(matches!(
        vulndb::update::DbLocation::parse("ftp://x/y"),
        Err(DbError::BadReference { .. })
    ));
    assert!(matches!(
        vulndb::update::DbLocation::parse("oci://noslash"),
        Err(DbError::BadReference { .. })
    ));
}

fn tollgate_sha(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}
