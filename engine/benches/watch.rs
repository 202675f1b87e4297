//! `tollgate watch` rescan timings, stage by stage, in one run (issue 7: 10,000 stored SBOMs
//! re-matched in ≤ 60 s, i.e. ≤ 6 ms per SBOM, memory flat in the number of SBOMs):
//!
//! * scan the shared test images once against an old DB (Debian only) → seed analyses;
//! * fill a store with N analyses made from them with varied versions (file lists dropped, as
//!   `bench/watch-rescan.sh` does: SBOM-sized documents), each a distinct image;
//! * time, per SBOM: reading + parsing the stored documents; re-matching them one by one with
//!   `matcher::run` (on a sample) and with watch's cached `rematch`; the whole `watch` run
//!   (read, parse, match on all cores, decide, outbox writes) against the full DB.
//!
//! A `harness = false` bench, no extra dependencies. Needs `../shared/osv-mirror` and the test
//! images; prints a reason and exits when they are missing. `TOLLGATE_BENCH_SBOMS` sets N
//! (default 1000). Run: `cargo bench -p tollgate-engine --bench watch`.

#![allow(clippy::print_stdout, clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::time::Instant;

use tollgate::analysis::Analysis;
use tollgate::image::Reference;
use tollgate::matcher::{self, MatchOptions};
use tollgate::pipeline::{self, DbChoice, PolicyChoice, ScanOptions};
use tollgate::store::Store;
use tollgate::vulndb::{self, BuildOptions, HttpOptions, SourceSpec, VulnDb};
use tollgate::watch::rematch::{MatchCache, rematch};
use tollgate::watch::stored::StoredAnalyses;
use tollgate::watch::{SecretMode, WatchConfig, WatchOptions};

/// A tiny deterministic generator (xorshift), so runs are comparable.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// Bumps or lowers the last numeric run of a version (`1.2.3-4` → `1.2.3-6`).
fn vary(version: &str, delta: i64) -> String {
    let digits = version
        .bytes()
        .rev()
        .take_while(|b| b.is_ascii_digit())
        .count();
    if digits == 0 {
        return version.to_string();
    }
    let (head, tail) = version.split_at(version.len() - digits);
    let n: i64 = tail.parse().unwrap_or(0);
    format!("{head}{}", (n + delta).max(0))
}

fn build_db(rt: &tokio::runtime::Runtime, mirror: &Path, ecosystems: &[&str], out: &Path) {
    let opts = BuildOptions {
        from: SourceSpec::Dir(mirror.to_path_buf()),
        ecosystems: ecosystems.iter().map(|e| e.to_string()).collect(),
        kev: None,
        epss: None,
        http: HttpOptions::default(),
    };
    rt.block_on(vulndb::build::build(&opts, out)).unwrap();
}

fn seed(rt: &tokio::runtime::Runtime, image: &Path, db: &Path, store: &Path) -> Analysis {
    let reference = Reference::parse(&format!("oci-dir:{}", image.join("oci").display())).unwrap();
    let opts = ScanOptions {
        db: DbChoice::File(db.to_path_buf()),
        policy: PolicyChoice::Skip,
        record: false,
        store_dir: Some(store.to_path_buf()),
        ..Default::default()
    };
    let mut a = rt
        .block_on(pipeline::scan(&reference, &opts))
        .unwrap()
        .analysis;
    a.inventory.files.clear();
    a.inventory.retrieved_files.clear();
    for p in &mut a.inventory.packages {
        p.files.clear();
    }
    a
}

fn fill(store_dir: &Path, seeds: &[Analysis], n: usize) {
    let mut store = Store::open(Some(store_dir)).unwrap();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for i in 0..n {
        let mut a = seeds[i % seeds.len()].clone();
        for p in &mut a.inventory.packages {
            if rng.next().is_multiple_of(3) {
                let delta = [-2, -1, 1, 2][(rng.next() % 4) as usize];
                p.version = vary(&p.version, delta);
                if let Some(v) = &p.source_version {
                    p.source_version = Some(vary(v, delta));
                }
            }
        }
        let digest = format!("sha256:{:064x}", i + 1);
        a.inventory.source.manifest_digest = Some(digest);
        a.inventory.source.reference = None;
        a.inventory.source.tags = vec![format!("bench.invalid/app{}:{i}", i % 500)];
        store.record_analysis(&a).unwrap();
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
    let names = ["debian-py-node", "distroless-like", "fat"];
    if !mirror.join("Debian/all.zip").is_file()
        || names.iter().any(|n| !images.join(n).join("oci").is_dir())
    {
        println!(
            "skipping: needs {} and the test images under {}",
            mirror.display(),
            images.display()
        );
        return;
    }
    let n: usize = std::env::var("TOLLGATE_BENCH_SBOMS")
        .ok()
        .and_then(|v| v.parse().ok())
        // `cargo test --all-targets` runs this without `--bench` (debug build): a smoke run.
        .unwrap_or(if std::env::args().any(|a| a == "--bench") {
            1000
        } else {
            40
        });
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let old_db = dir.path().join("old.sqlite");
    let full_db = dir.path().join("full.sqlite");
    build_db(&rt, &mirror, &["Debian"], &old_db);
    build_db(&rt, &mirror, &["Debian", "PyPI", "npm"], &full_db);
    let seeds: Vec<Analysis> = names
        .iter()
        .map(|name| {
            seed(
                &rt,
                &images.join(name),
                &old_db,
                &dir.path().join("seed-store"),
            )
        })
        .collect();
    let store_dir = dir.path().join("store");
    let t = Instant::now();
    fill(&store_dir, &seeds, n);
    println!(
        "store filled: {n} SBOMs ({} packages each on average) in {:.1} s",
        seeds
            .iter()
            .map(|s| s.inventory.packages.len())
            .sum::<usize>()
            / seeds.len(),
        t.elapsed().as_secs_f64()
    );
    let per = |d: std::time::Duration, k: usize| d.as_secs_f64() * 1e3 / k as f64;

    // Read + parse every stored document (one thread).
    let store_file = store_dir.join(tollgate::store::STORE_FILE);
    let stored = StoredAnalyses::open(&store_file).unwrap();
    let t = Instant::now();
    let mut inventories = Vec::new();
    stored
        .for_each_latest(|s| {
            if inventories.len() < 200 {
                inventories.push(s.unwrap().inventory);
            }
            true
        })
        .unwrap();
    let read = t.elapsed();
    println!("read + parse:             {:>8.3} ms/SBOM", per(read, n));

    // Matching a sample, uncached vs cached (one thread).
    let db = VulnDb::open(&full_db).unwrap();
    let mo = MatchOptions::default();
    let t = Instant::now();
    let plain: Vec<usize> = inventories
        .iter()
        .map(|i| matcher::run(i, &db, &mo).unwrap().len())
        .collect();
    let uncached = t.elapsed();
    let cache = MatchCache::new(50_000);
    let t = Instant::now();
    let cached: Vec<usize> = inventories
        .iter()
        .map(|i| rematch(i, &db, &mo, &cache).unwrap().len())
        .collect();
    let with_cache = t.elapsed();
    assert_eq!(plain, cached, "the cache must not change the matches");
    println!(
        "match, matcher::run:      {:>8.3} ms/SBOM  (sample of {})",
        per(uncached, inventories.len()),
        inventories.len()
    );
    println!(
        "match, cached rematch:    {:>8.3} ms/SBOM  ({:.1}× faster; {} distinct packages)",
        per(with_cache, inventories.len()),
        uncached.as_secs_f64() / with_cache.as_secs_f64(),
        cache.len()
    );

    // The whole run: read, parse, match on all cores, decide, write the outbox.
    let cfg = WatchConfig::parse(
        "notifications:\n  channels:\n    - {name: sink, type: webhook, url: \"http://127.0.0.1:9/\", repositories: [\"nowhere.invalid/**\"]}\n",
        Path::new("bench.yaml"),
        &|_| None,
        SecretMode::Require,
    )
    .unwrap();
    let opts = WatchOptions {
        store_dir: Some(store_dir.clone()),
        db: full_db.clone(),
        ..Default::default()
    };
    let t = Instant::now();
    let summary = rt.block_on(tollgate::watch::watch(&opts, &cfg)).unwrap();
    let whole = t.elapsed();
    assert_eq!(summary.images, n);
    println!(
        "watch run ({n} SBOMs):    {:>8.3} ms/SBOM  ({:.1} s; target ≤ 6 ms/SBOM: {:.2}× of budget; {} new findings)",
        per(whole, n),
        whole.as_secs_f64(),
        per(whole, n) / 6.0,
        summary.new
    );
}
