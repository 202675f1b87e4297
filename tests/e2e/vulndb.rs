//! End-to-end tests of `tollgate db …` and `tollgate explain`: build from a mirror directory,
//! status/check/search/import, refusal of corrupt and stale DBs, the offline example DB, explain
//! from a saved analysis (file and stdin), and a push → update round trip through a real
//! registry on 127.0.0.1.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stderr)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Stdio;

use crate::support::{self, stderr, stdout, tollgate_cmd};

fn run_in(cache: &Path, args: &[&str]) -> std::process::Output {
    tollgate_cmd(args)
        .env("XDG_CACHE_HOME", cache)
        .env_remove("TOLLGATE_DB")
        .output()
        .expect("run tollgate")
}

fn example_records() -> Vec<(String, Vec<u8>)> {
    let dir = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../examples/advisories"
    ));
    let mut out: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read(&p).unwrap(),
            )
        })
        .collect();
    out.sort();
    out
}

/// A mirror directory: `Mixed/…` is not an OSV folder name, so all example records go into
/// `npm/all.zip` (records name their own ecosystems), plus one broken record.
fn make_mirror(root: &Path) {
    std::fs::create_dir_all(root.join("npm")).unwrap();
    let f = std::fs::File::create(root.join("npm/all.zip")).unwrap();
    let mut w = zip::ZipWriter::new(f);
    for (name, data) in example_records() {
        w.start_file(name, zip::write::SimpleFileOptions::default())
            .unwrap();
        w.write_all(&data).unwrap();
    }
    w.start_file("BROKEN-1.json", zip::write::SimpleFileOptions::default())
        .unwrap();
    w.write_all(b"{\"id\":\"BROKEN-1\"").unwrap();
    w.finish().unwrap();
}

fn analysis_json() -> String {
    use tollgate::catalog::{Distro, Inventory, Package, PackageType};
    let p = |kind, name: &str, version: &str, src: Option<&str>| Package {
        id: name.into(),
        name: name.into(),
        version: version.into(),
        kind,
        source_name: src.map(str::to_string),
        ..Default::default()
    };
    let a = tollgate::analysis::Analysis {
        schema_version: tollgate::analysis::SCHEMA_VERSION.into(),
        inventory: Inventory {
            distro: Some(Distro {
                id: "debian".into(),
                version_id: "12".into(),
                ..Default::default()
            }),
            packages: vec![
                p(PackageType::Deb, "libc6", "2.36-9+deb12u3", Some("glibc")),
                p(PackageType::Npm, "lodash", "4.17.15", None),
                p(PackageType::Npm, "lodash", "4.17.21", None),
            ],
            ..Default::default()
        },
        ..Default::default()
    };
    serde_json::to_string(&a).unwrap()
}

#[test]
fn db_commands_on_a_mirror_directory() {
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("cache");
    let mirror = tmp.path().join("mirror");
    make_mirror(&mirror);
    let db = tmp.path().join("built.sqlite");
    let db_s = db.to_str().unwrap();
    let o = run_in(
        &cache,
        &[
            "db",
            "build",
            "--from",
            mirror.to_str().unwrap(),
            "--out",
            db_s,
            "--ecosystem",
            "npm",
            "--json",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let summary: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    // Every example record (the set grows as advisories are added), the broken one skipped.
    assert_eq!(summary["advisories"], example_records().len());
    assert_eq!(summary["skipped"][0]["member"], "BROKEN-1.json");

    let o = run_in(&cache, &["db", "status", "--db", db_s, "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let st: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(st["meta"]["schema_version"], 1);
    let debian12 = example_records()
        .iter()
        .filter(|(_, data)| {
            let r: serde_json::Value = serde_json::from_slice(data).unwrap();
            r["affected"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|a| a["package"]["ecosystem"] == "Debian:12")
        })
        .count();
    assert!(debian12 >= 5, "the example set has Debian 12 advisories");
    assert_eq!(st["meta"]["counts"]["Debian:12"], debian12);
    assert_eq!(st["example"], false);

    let o = run_in(&cache, &["db", "check", "--db", db_s]);
    assert!(
        o.status.success() && stdout(&o).contains("checksum verified"),
        "{}",
        stderr(&o)
    );

    let o = run_in(&cache, &["db", "search", "glibc", "--db", db_s]);
    assert!(
        stdout(&o).contains("DSA-5611-1") && stdout(&o).contains("DSA-5514-1"),
        "{}",
        stdout(&o)
    );

    // Import installs into the cache (default path), then a second import keeps the previous.
    for _ in 0..2 {
        let o = run_in(&cache, &["db", "import", db_s]);
        assert!(o.status.success(), "{}", stderr(&o));
    }
    assert!(cache.join("tollgate/vulndb.sqlite").is_file());
    assert!(cache.join("tollgate/vulndb.sqlite.previous").is_file());

    // explain from a saved analysis file and from stdin.
    let analysis = tmp.path().join("analysis.json");
    std::fs::write(&analysis, analysis_json()).unwrap();
    let o = run_in(
        &cache,
        &[
            "explain",
            "CVE-2021-23337",
            analysis.to_str().unwrap(),
            "--db",
            db_s,
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let text = stdout(&o);
    assert!(
        text.contains("lodash 4.17.15 (compared lodash 4.17.15): AFFECTED"),
        "{text}"
    );
    assert!(
        text.contains("lodash 4.17.21 (compared lodash 4.17.21): not affected"),
        "{text}"
    );
    let mut child = tollgate_cmd(&["explain", "CVE-2023-4911", "-", "--db", db_s])
        .env("XDG_CACHE_HOME", &cache)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(analysis_json().as_bytes())
        .unwrap();
    let o = child.wait_with_output().unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let text = stdout(&o);
    assert!(
        text.contains("libc6 2.36-9+deb12u3 (compared glibc 2.36-9+deb12u3): not affected"),
        "{text}"
    );

    let o = run_in(&cache, &["explain", "CVE-0000-1", "--db", db_s]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        support::stderr_has(&o, "tollgate::vulndb::unknown-id"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn corrupt_stale_and_missing_dbs_fail_clearly() {
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("cache");
    let db = tmp.path().join("x.sqlite");
    let out = tollgate::vulndb::build::build_from_records(
        "examples",
        tollgate::vulndb::EXAMPLE_ADVISORIES,
        &db,
    );
    out.unwrap();
    let bytes = std::fs::read(&db).unwrap();
    let trunc = tmp.path().join("trunc.sqlite");
    std::fs::write(&trunc, &bytes[..bytes.len() / 2]).unwrap();
    let o = run_in(&cache, &["db", "check", "--db", trunc.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        support::stderr_has(&o, "tollgate::vulndb::corrupt")
            && support::stderr_has(&o, "truncated"),
        "{}",
        stderr(&o)
    );

    let o = run_in(
        &cache,
        &[
            "db",
            "status",
            "--db",
            tmp.path().join("none.sqlite").to_str().unwrap(),
        ],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(
        support::stderr_has(&o, "tollgate::vulndb::missing"),
        "{}",
        stderr(&o)
    );

    let c = rusqlite::Connection::open(&db).unwrap();
    c.execute(
        "UPDATE meta SET value = '2020-01-01T00:00:00Z' WHERE key = 'built'",
        [],
    )
    .unwrap();
    drop(c);
    let o = run_in(&cache, &["db", "check", "--db", db.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        support::stderr_has(&o, "tollgate::vulndb::stale")
            && support::stderr_has(&o, "--max-db-age"),
        "{}",
        stderr(&o)
    );
    let o = run_in(
        &cache,
        &[
            "db",
            "check",
            "--db",
            db.to_str().unwrap(),
            "--max-db-age",
            "0",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));

    // A half-written download never replaces the installed DB.
    let o = run_in(&cache, &["db", "import", db.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let installed = std::fs::read(cache.join("tollgate/vulndb.sqlite")).unwrap();
    let o = run_in(&cache, &["db", "import", trunc.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(
        std::fs::read(cache.join("tollgate/vulndb.sqlite")).unwrap(),
        installed
    );
}

#[test]
fn fresh_machine_uses_the_embedded_example_db() {
    let tmp = tempfile::tempdir().unwrap();
    let o = run_in(tmp.path(), &["db", "status", "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let st: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(st["example"], true);
    assert!(tmp.path().join("tollgate/example-vulndb.sqlite").is_file());
    let o = run_in(tmp.path(), &["db", "search", "lodash"]);
    assert!(stdout(&o).contains("CVE-2021-23337"), "{}", stdout(&o));
}

#[test]
fn push_and_update_through_a_local_registry() {
    if !support::have_tool(support::registry::REGISTRY_BIN) {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("CI=true but {} is missing", support::registry::REGISTRY_BIN);
        }
        eprintln!("skipping: no {}", support::registry::REGISTRY_BIN);
        return;
    }
    let reg = support::registry::Registry::start(Default::default());
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("cache");
    let db = tmp.path().join("x.sqlite");
    tollgate::vulndb::build::build_from_records(
        "examples",
        tollgate::vulndb::EXAMPLE_ADVISORIES,
        &db,
    )
    .unwrap();
    let reference = format!("oci://{}/tollgate/vulndb:latest", reg.addr);
    let o = run_in(
        &cache,
        &["db", "push", &reference, "--db", db.to_str().unwrap()],
    );
    assert!(o.status.success(), "{}\n{}", stderr(&o), reg.log());
    let o = run_in(&cache, &["db", "update", &reference]);
    assert!(o.status.success(), "{}\n{}", stderr(&o), reg.log());
    assert_eq!(
        std::fs::read(cache.join("tollgate/vulndb.sqlite")).unwrap(),
        std::fs::read(&db).unwrap()
    );
    let o = run_in(
        &cache,
        &[
            "db",
            "update",
            &format!("oci://{}/tollgate/missing:latest", reg.addr),
        ],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(
        support::stderr_has(&o, "tollgate::vulndb::oci"),
        "{}",
        stderr(&o)
    );
}
