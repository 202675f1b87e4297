//! Vulnerability DB and matcher timings, measured side by side in one run:
//!
//! * `VulnDb::open` (immutable, mmap) on a DB built from the whole shared OSV mirror;
//! * `matcher::run` over the `fat` test image's packages (from its `expected.json`: ~570
//!   deb + python + npm packages, all distinct), and over 1,000 packages (that list plus 430
//!   repeats with distinct ids — repeated names are looked up once per run, as in real images
//!   with nested `node_modules`, so the per-distinct-package rate of the first line is the
//!   stricter figure);
//! * the same match with the DB opened fresh each time (cold statement cache).
//!
//! Targets from issue 4: open ≤ 10 ms, match 1,000 packages ≤ 20 ms. The DB build itself is
//! timed by `bench/db-build.sh` (wall time, peak RSS, file size) with the release binary.
//! A `harness = false` bench: best of several rounds, no extra dependencies. Needs
//! `../shared/osv-mirror` and the test images; prints a reason and exits when they are missing.
//! Run: `cargo bench -p tollgate-engine --bench match`.

#![allow(clippy::print_stdout, clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::time::{Duration, Instant};

use tollgate::catalog::{Distro, Inventory, Package, PackageType};
use tollgate::matcher::{self, MatchOptions};
use tollgate::vulndb::{self, BuildOptions, HttpOptions, SourceSpec, VulnDb};

fn best_of<T>(rounds: usize, mut f: impl FnMut() -> T) -> (Duration, T) {
    let mut best = Duration::MAX;
    let mut last = None;
    for _ in 0..rounds {
        let t = Instant::now();
        let v = f();
        best = best.min(t.elapsed());
        last = Some(v);
    }
    (best, last.expect("at least one round"))
}

fn inventory(images: &std::path::Path) -> Inventory {
    let text = std::fs::read_to_string(images.join("fat/expected.json")).unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let mut packages = Vec::new();
    for (key, kind) in [
        ("deb", PackageType::Deb),
        ("python", PackageType::Python),
        ("npm", PackageType::Npm),
    ] {
        for p in v[key].as_array().unwrap() {
            let name = p["name"].as_str().unwrap();
            let version = p["version"].as_str().unwrap();
            packages.push(Package {
                id: format!("{key}:{name}@{version}:{}", packages.len()),
                name: name.into(),
                version: version.into(),
                kind,
                ..Default::default()
            });
        }
    }
    Inventory {
        distro: Some(Distro {
            id: "debian".into(),
            version_id: "12".into(),
            ..Default::default()
        }),
        packages,
        ..Default::default()
    }
}

fn main() {
    let mirror = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/osv-mirror"
    ));
    let images = std::env::var_os("TOLLGATE_TESTIMAGES")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/var/tmp/tollgate-testimages"));
    if !mirror.join("PyPI/all.zip").is_file() || !images.join("fat/expected.json").is_file() {
        println!(
            "skipping: needs {} and {}",
            mirror.display(),
            images.join("fat").display()
        );
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    // TOLLGATE_BENCH_DB=FILE reuses a DB built from the mirror (for profiling the match alone).
    let db_path = match std::env::var_os("TOLLGATE_BENCH_DB") {
        Some(p) if std::path::Path::new(&p).is_file() => PathBuf::from(p),
        _ => {
            let db_path = dir.path().join("mirror.sqlite");
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            let opts = BuildOptions {
                from: SourceSpec::Dir(mirror),
                // `cargo test --all-targets` runs this without `--bench` (debug build): a
                // smoke run over two ecosystems instead of the whole mirror.
                ecosystems: if std::env::args().any(|a| a == "--bench") {
                    Vec::new()
                } else {
                    vec!["npm".into(), "PyPI".into()]
                },
                kev: None,
                epss: None,
                http: HttpOptions::default(),
            };
            let t = Instant::now();
            let summary = rt.block_on(vulndb::build::build(&opts, &db_path)).unwrap();
            println!(
                "db build (in-process; whole mirror under --bench): {:.2} s, {} advisories, {:.1} MB",
                t.elapsed().as_secs_f64(),
                summary.advisories,
                summary.size as f64 / 1e6
            );
            db_path
        }
    };

    let (open, _) = best_of(20, || VulnDb::open(&db_path).unwrap());
    println!(
        "db open:                 {:>8.3} ms   (target ≤ 10 ms: {:.2}× of budget)",
        open.as_secs_f64() * 1e3,
        open.as_secs_f64() * 1e3 / 10.0
    );

    let inv = inventory(&images);
    let db = VulnDb::open(&db_path).unwrap();
    let mo = MatchOptions::default();
    let (fat, matches) = best_of(30, || matcher::run(&inv, &db, &mo).unwrap());
    println!(
        "match fat ({} pkgs):    {:>8.3} ms   {} findings   (= {:.1} ms per 1,000 distinct packages)",
        inv.packages.len(),
        fat.as_secs_f64() * 1e3,
        matches.len(),
        fat.as_secs_f64() * 1e6 / inv.packages.len() as f64
    );

    let mut thousand = inv.clone();
    let base = inv.packages.clone();
    let mut i = 0;
    while thousand.packages.len() < 1000 {
        let mut p = base[i % base.len()].clone();
        p.id = format!("{}#{}", p.id, thousand.packages.len());
        thousand.packages.push(p);
        i += 1;
    }
    thousand.packages.truncate(1000);
    let (k, _) = best_of(30, || matcher::run(&thousand, &db, &mo).unwrap());
    println!(
        "match 1000 pkgs:         {:>8.3} ms   (target ≤ 20 ms: {:.2}× of budget)",
        k.as_secs_f64() * 1e3,
        k.as_secs_f64() * 1e3 / 20.0
    );
    let (cold, _) = best_of(10, || {
        let db = VulnDb::open(&db_path).unwrap();
        matcher::run(&thousand, &db, &mo).unwrap()
    });
    println!(
        "open + match 1000 pkgs:  {:>8.3} ms",
        cold.as_secs_f64() * 1e3
    );
}
