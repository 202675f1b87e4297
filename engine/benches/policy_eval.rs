//! `cargo bench -p tollgate-engine --bench policy_eval`: whole-bundle evaluation of the DoD Iron
//! Bank bundle (26 policies, 22 mappings, 81 allowlist items) and of the 2,700-item
//! large-whitelist bundle against a realistic inventory (the policy fixture inventory padded to
//! 400 packages and 5,000 files, 600 vulnerability matches). Target: ≤ 50 ms per evaluation.
//! Plain `std::time` harness (no extra dependency); prints the median of 30 runs.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    missing_docs
)]

use std::path::Path;
use std::time::{Duration, Instant};

use tollgate::catalog::{Inventory, Package, PackageType};
use tollgate::image::{FileEntry, FileKind};
use tollgate::matcher::{FixState, Match, Vulnerability};
use tollgate::policy::{Bundle, EvalInput, evaluate};
use tollgate::types::Severity;

fn inventory() -> Inventory {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/policy");
    let mut inv: Inventory =
        serde_json::from_slice(&std::fs::read(dir.join("inventory.json")).unwrap()).unwrap();
    for i in 0..400 {
        inv.packages.push(Package {
            id: format!("x{i}"),
            name: format!("pkg{i}"),
            version: format!("1.{i}"),
            kind: if i % 2 == 0 {
                PackageType::Deb
            } else {
                PackageType::Npm
            },
            licenses: vec!["MIT".into()],
            ..Default::default()
        });
    }
    for i in 0..5000 {
        inv.files.push(FileEntry {
            path: format!("/usr/lib/x/file{i}"),
            kind: FileKind::Regular,
            mode: if i % 500 == 0 { 0o4755 } else { 0o644 },
            size: 10,
            ..Default::default()
        });
    }
    inv
}

fn matches() -> Vec<Match> {
    (0..600)
        .map(|i| Match {
            vulnerability: Vulnerability {
                id: format!("CVE-2023-{i:05}"),
                severity: Severity::ALL[i % 6],
                ..Default::default()
            },
            package_id: format!("x{}", i % 400),
            package_name: format!("pkg{}", i % 400),
            package_version: "1.0".into(),
            package_type: if i % 2 == 0 {
                "deb".into()
            } else {
                "npm".into()
            },
            fix_state: if i % 3 == 0 {
                FixState::Fixed
            } else {
                FixState::NotFixed
            },
            fixed_in: if i % 3 == 0 {
                vec!["2.0".into()]
            } else {
                vec![]
            },
            path: format!("/app/node_modules/pkg{i}/package.json"),
            ..Default::default()
        })
        .collect()
}

fn bench(name: &str, bundle: &Bundle, inv: &Inventory, m: &[Match], tag: &str) {
    let now = chrono::Utc::now();
    let mut times: Vec<Duration> = Vec::new();
    let mut hits = 0;
    for _ in 0..30 {
        let t = Instant::now();
        let e = evaluate(
            bundle,
            &EvalInput {
                tag: Some(tag),
                ..EvalInput::new(inv, m, now)
            },
        );
        times.push(t.elapsed());
        hits = e.hits.len();
    }
    times.sort();
    println!(
        "{name:<28} median {:>8.2} ms  (min {:.2} ms, {hits} findings)",
        times[15].as_secs_f64() * 1e3,
        times[0].as_secs_f64() * 1e3
    );
}

fn main() {
    let shared = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/anchors/anchore-policy");
    if !shared.is_dir() {
        println!("skipping: {} not found", shared.display());
        return;
    }
    let inv = inventory();
    let m = matches();
    let t = Instant::now();
    let ironbank = Bundle::load(&shared.join("modular-policy/ironbank.json")).unwrap();
    println!(
        "{:<28} {:>8.2} ms",
        "load+validate ironbank",
        t.elapsed().as_secs_f64() * 1e3
    );
    bench(
        "ironbank (catch-all)",
        &ironbank,
        &inv,
        &m,
        "registry1.dso.mil/ironbank/app:1",
    );
    bench(
        "ironbank (opensource/nginx)",
        &ironbank,
        &inv,
        &m,
        "registry1.dso.mil/ironbank/opensource/nginx/nginx:1.19",
    );
    let large = Bundle::load(&shared.join("anchore-engine/bundle-large_whitelist.json")).unwrap();
    bench(
        "large whitelist (2.7k items)",
        &large,
        &inv,
        &m,
        "docker.io/library/app:1",
    );
    bench(
        "embedded default",
        &Bundle::default_bundle(),
        &inv,
        &m,
        "docker.io/library/app:1",
    );
}
