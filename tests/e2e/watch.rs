//! `tollgate watch` end to end: two DBs built from the shared OSV mirror (an older one with
//! Debian only, a full one with Debian, PyPI and npm), an image scanned with the older DB into
//! a store, then `watch` against the full DB delivering to a local webhook receiver — only the
//! new findings, once; a SIGKILL mid-delivery followed by a resume; malformed config and a
//! corrupt store.

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::print_stderr)]

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use crate::support::{stderr, stderr_has, testimages, tollgate, tollgate_cmd};

fn mirror() -> Option<PathBuf> {
    let dir = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/osv-mirror"
    ));
    if dir.join("Debian/all.zip").is_file() {
        return Some(dir);
    }
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("CI=true but {} is missing", dir.display());
    }
    eprintln!("skipping: {} is missing", dir.display());
    None
}

/// Built once per test binary: (work dir, old DB, full DB, a store holding one analysis of
/// `debian-py-node` scanned with the old DB).
struct Scenario {
    _dir: tempfile::TempDir,
    root: PathBuf,
    old_db: PathBuf,
    full_db: PathBuf,
    store: PathBuf,
}

fn scenario() -> Option<&'static Scenario> {
    static S: OnceLock<Option<Scenario>> = OnceLock::new();
    S.get_or_init(|| {
        let mirror = mirror()?;
        let image = testimages("debian-py-node")?;
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().to_path_buf();
        let old_db = root.join("old.sqlite");
        let full_db = root.join("full.sqlite");
        let m = mirror.to_str().unwrap();
        let o = tollgate(&[
            "db",
            "build",
            "-q",
            "--from",
            m,
            "--ecosystem",
            "Debian",
            "--out",
            old_db.to_str().unwrap(),
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
        let o = tollgate(&[
            "db",
            "build",
            "-q",
            "--from",
            m,
            "--ecosystem",
            "Debian",
            "--ecosystem",
            "PyPI",
            "--ecosystem",
            "npm",
            "--out",
            full_db.to_str().unwrap(),
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
        let store = root.join("store-template");
        let oci = format!("oci-dir:{}", image.join("oci").display());
        let o = tollgate(&[
            "scan",
            &oci,
            "--db",
            old_db.to_str().unwrap(),
            "--max-db-age",
            "0",
            "--no-policy",
            "--store",
            store.to_str().unwrap(),
            "-o",
            &format!("json={}", root.join("scan.json").display()),
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
        Some(Scenario {
            _dir: dir,
            root,
            old_db,
            full_db,
            store,
        })
    })
    .as_ref()
}

fn copy_store(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
    }
}

/// A minimal HTTP/1.1 receiver on 127.0.0.1 that records the idempotency key of every request
/// it answers 200, after `delay_ms` (changeable while running).
struct Receiver {
    addr: String,
    keys: Arc<Mutex<Vec<String>>>,
    started: Arc<AtomicUsize>,
    delay_ms: Arc<AtomicU64>,
}

impl Receiver {
    fn start(delay_ms: u64) -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let keys = Arc::new(Mutex::new(Vec::new()));
        let started = Arc::new(AtomicUsize::new(0));
        let delay = Arc::new(AtomicU64::new(delay_ms));
        let (k, s, d) = (keys.clone(), started.clone(), delay.clone());
        // The accept thread lives until the test process exits; it only serves loopback.
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(mut sock) = conn else { return };
                let (k, s, d) = (k.clone(), s.clone(), d.clone());
                std::thread::spawn(move || {
                    let mut buf = Vec::new();
                    let mut chunk = [0u8; 8192];
                    loop {
                        let head_end = loop {
                            if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                                break p + 4;
                            }
                            match sock.read(&mut chunk) {
                                Ok(0) | Err(_) => return,
                                Ok(n) => buf.extend_from_slice(&chunk[..n]),
                            }
                        };
                        let head = String::from_utf8_lossy(&buf[..head_end]).to_ascii_lowercase();
                        let header = |name: &str| {
                            head.lines().find_map(|l| {
                                l.strip_prefix(&format!("{name}:"))
                                    .map(|v| v.trim().to_string())
                            })
                        };
                        let len: usize = header("content-length")
                            .and_then(|v| v.parse().ok())
                            .unwrap_or(0);
                        let key = header("idempotency-key").unwrap_or_default();
                        while buf.len() < head_end + len {
                            match sock.read(&mut chunk) {
                                Ok(0) | Err(_) => return,
                                Ok(n) => buf.extend_from_slice(&chunk[..n]),
                            }
                        }
                        buf.drain(..head_end + len);
                        s.fetch_add(1, Ordering::SeqCst);
                        std::thread::sleep(Duration::from_millis(d.load(Ordering::SeqCst)));
                        if sock
                            .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")
                            .is_err()
                        {
                            return; // the client went away: not accepted
                        }
                        k.lock().unwrap().push(key);
                    }
                });
            }
        });
        Receiver {
            addr,
            keys,
            started,
            delay_ms: delay,
        }
    }

    fn keys(&self) -> Vec<String> {
        self.keys.lock().unwrap().clone()
    }
}

fn config(dir: &Path, url: &str) -> PathBuf {
    let p = dir.join("tollgate.yaml");
    std::fs::write(
        &p,
        format!(
            "ignore: []\nnotifications:\n  delivery: {{max_attempts: 3, initial_backoff_ms: 50, timeout_secs: 30}}\n  channels:\n    - {{name: hook, type: webhook, url: \"{url}\", secret_env: E2E_HOOK_SECRET}}\n"
        ),
    )
    .unwrap();
    p
}

fn dry_run_keys(s: &Scenario, store: &Path, cfg: &Path) -> Vec<String> {
    let o = tollgate_cmd(&[
        "watch",
        "--dry-run",
        "--db",
        s.full_db.to_str().unwrap(),
        "--store",
        store.to_str().unwrap(),
        "--config",
        cfg.to_str().unwrap(),
    ])
    .output()
    .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let mut keys = Vec::new();
    for line in String::from_utf8_lossy(&o.stdout).lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        for k in v["keys"].as_array().unwrap() {
            keys.push(k.as_str().unwrap().to_string());
        }
    }
    keys.sort();
    keys
}

#[test]
fn watch_sends_only_the_new_findings_once() {
    let Some(s) = scenario() else { return };
    let work = tempfile::tempdir().unwrap();
    let store = work.path().join("store");
    copy_store(&s.store, &store);
    let recv = Receiver::start(0);
    let cfg = config(work.path(), &format!("http://{}/hook", recv.addr));
    let expected = dry_run_keys(s, &store, &cfg);
    assert!(
        !expected.is_empty(),
        "the full DB must reveal findings the old one lacked"
    );
    // Dry-run wrote nothing: running it again gives the same plan.
    assert_eq!(dry_run_keys(s, &store, &cfg), expected);

    let o = tollgate_cmd(&[
        "watch",
        "--db",
        s.full_db.to_str().unwrap(),
        "--store",
        store.to_str().unwrap(),
        "--config",
        cfg.to_str().unwrap(),
        "--json",
    ])
    .env("E2E_HOOK_SECRET", "e2e-secret")
    .output()
    .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(!String::from_utf8_lossy(&o.stdout).contains("e2e-secret"));
    assert!(!stderr(&o).contains("e2e-secret"));
    let mut got = recv.keys();
    got.sort();
    assert_eq!(got, expected, "each new finding exactly once");

    // The findings sent are exactly those the old-DB scan did not have.
    let scan: serde_json::Value =
        serde_json::from_slice(&std::fs::read(s.root.join("scan.json")).unwrap()).unwrap();
    let old_ids: BTreeSet<String> = scan["matches"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|m| m["vulnerability"]["id"].as_str().unwrap().to_string())
                .collect()
        })
        .unwrap_or_default();
    let summary: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(summary["new"].as_u64().unwrap() as usize, expected.len());
    assert_eq!(
        summary["delivery"]["channels"][0]["delivered"]
            .as_u64()
            .unwrap() as usize,
        expected.len()
    );
    let _ = old_ids; // every new id is outside the scan's baseline by construction of `new`

    // A second run (and a run with --since-db = the same full DB) sends nothing more.
    for extra in [&[][..], &["--since-db", s.old_db.to_str().unwrap()][..]] {
        let mut args = vec![
            "watch",
            "--db",
            s.full_db.to_str().unwrap(),
            "--store",
            store.to_str().unwrap(),
            "--config",
            cfg.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        let o = tollgate_cmd(&args)
            .env("E2E_HOOK_SECRET", "x")
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", stderr(&o));
        assert_eq!(recv.keys().len(), expected.len(), "nothing sent twice");
    }
}

#[test]
fn killed_mid_delivery_resumes_without_losing_anything() {
    let Some(s) = scenario() else { return };
    let work = tempfile::tempdir().unwrap();
    let store = work.path().join("store");
    copy_store(&s.store, &store);
    // Slow receiver: each request is held 400 ms before the answer.
    let recv = Receiver::start(400);
    let cfg = config(work.path(), &format!("http://{}/hook", recv.addr));
    let expected = dry_run_keys(s, &store, &cfg);
    assert!(
        expected.len() >= 4,
        "need several findings, got {}",
        expected.len()
    );
    let mut child = tollgate_cmd(&[
        "watch",
        "--db",
        s.full_db.to_str().unwrap(),
        "--store",
        store.to_str().unwrap(),
        "--config",
        cfg.to_str().unwrap(),
    ])
    .env("E2E_HOOK_SECRET", "k")
    .stdout(std::process::Stdio::null())
    .stderr(std::process::Stdio::null())
    .spawn()
    .unwrap();
    // Wait until the third request is being held, then SIGKILL.
    let deadline = Instant::now() + Duration::from_secs(120);
    while recv.started.load(Ordering::SeqCst) < 3 {
        assert!(
            Instant::now() < deadline,
            "watch never reached the receiver"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap();
    let status = child.wait().unwrap();
    assert!(!status.success());
    let before = recv.keys();
    assert!(before.len() < expected.len(), "killed before finishing");

    // Resume: fast receiver now.
    recv.delay_ms.store(0, Ordering::SeqCst);
    let o = tollgate_cmd(&[
        "watch",
        "--db",
        s.full_db.to_str().unwrap(),
        "--store",
        store.to_str().unwrap(),
        "--config",
        cfg.to_str().unwrap(),
    ])
    .env("E2E_HOOK_SECRET", "k")
    .output()
    .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let got = recv.keys();
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for k in &got {
        *counts.entry(k.as_str()).or_default() += 1;
    }
    let distinct: Vec<String> = counts.keys().map(|k| k.to_string()).collect();
    assert_eq!(distinct, expected, "nothing lost");
    // At-least-once: only the request in flight at the kill may arrive twice.
    let dups: usize = counts.values().map(|c| c - 1).sum();
    assert!(dups <= 1, "{dups} duplicates: {counts:?}");
}

#[test]
fn malformed_config_and_corrupt_store_are_clear_errors() {
    let work = tempfile::tempdir().unwrap();
    let cfg = work.path().join("bad.yaml");
    std::fs::write(
        &cfg,
        "notifications:\n  channels:\n    - {name: a, type: carrier-pigeon}\n",
    )
    .unwrap();
    let store = work.path().join("store");
    let o = tollgate(&[
        "watch",
        "--config",
        cfg.to_str().unwrap(),
        "--store",
        store.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr_has(&o, "tollgate::watch::config-channel"),
        "{}",
        stderr(&o)
    );
    assert!(
        stderr_has(&o, "unknown type `carrier-pigeon`"),
        "{}",
        stderr(&o)
    );

    std::fs::write(&cfg, "notifications: [unclosed\n").unwrap();
    let o = tollgate(&[
        "watch",
        "--config",
        cfg.to_str().unwrap(),
        "--store",
        store.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr_has(&o, "tollgate::watch::config-syntax"),
        "{}",
        stderr(&o)
    );

    // A missing secret env var names the variable, never a value.
    std::fs::write(
        &cfg,
        "notifications:\n  channels:\n    - {name: s, type: slack, url_env: E2E_UNSET_SLACK_URL}\n",
    )
    .unwrap();
    let o = tollgate_cmd(&[
        "watch",
        "--config",
        cfg.to_str().unwrap(),
        "--store",
        store.to_str().unwrap(),
    ])
    .env_remove("E2E_UNSET_SLACK_URL")
    .output()
    .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr_has(&o, "E2E_UNSET_SLACK_URL"), "{}", stderr(&o));

    // A corrupt outbox next to a good store.
    std::fs::write(
        &cfg,
        "notifications:\n  channels:\n    - {name: h, type: webhook, url: 'http://127.0.0.1:9/'}\n",
    )
    .unwrap();
    std::fs::create_dir_all(&store).unwrap();
    std::fs::write(store.join("watch-outbox.sqlite3"), vec![b'x'; 4096]).unwrap();
    let db = work.path().join("none.sqlite");
    let o = tollgate(&[
        "watch",
        "--config",
        cfg.to_str().unwrap(),
        "--store",
        store.to_str().unwrap(),
        "--db",
        db.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr_has(&o, "tollgate::watch::outbox-corrupt"),
        "{}",
        stderr(&o)
    );
    // The corrupt file is left in place, untouched.
    assert_eq!(
        std::fs::read(store.join("watch-outbox.sqlite3")).unwrap(),
        vec![b'x'; 4096]
    );

    // A corrupt store file.
    let store2 = work.path().join("store2");
    std::fs::create_dir_all(&store2).unwrap();
    std::fs::write(store2.join("store.db"), vec![b'y'; 4096]).unwrap();
    let o = tollgate(&[
        "watch",
        "--config",
        cfg.to_str().unwrap(),
        "--store",
        store2.to_str().unwrap(),
        "--db",
        db.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr_has(&o, "tollgate::store"), "{}", stderr(&o));
}

/// A tiny Debian image with one dpkg package, built in the test.
fn sbom_image() -> tollgate::image::fixture::ImageBuilder {
    use tollgate::image::fixture::{ImageBuilder, Layer};
    ImageBuilder::new()
        .layer(
            Layer::new()
                .dir("etc")
                .file(
                    "etc/os-release",
                    "ID=debian\nVERSION_ID=\"12\"\nVERSION_CODENAME=bookworm\n",
                )
                .dir("var/lib/dpkg")
                .file(
                    "var/lib/dpkg/status",
                    "Package: libssl3\nStatus: install ok installed\nArchitecture: amd64\nSource: openssl\nVersion: 3.0.9-1\n\n",
                ),
        )
}

#[test]
fn attach_sbom_to_a_registry_and_import_it_into_another_store() {
    use crate::support::have_tool;
    use crate::support::registry::{REGISTRY_BIN, Registry};
    if !have_tool(REGISTRY_BIN) {
        return;
    }
    let reg = Registry::start(Default::default());
    let img = sbom_image().build().unwrap();
    reg.put_image("team/app", "1.0", &img);
    reg.put_image("team/bare", "1.0", &img);
    let work = tempfile::tempdir().unwrap();
    let w = |p: &str| work.path().join(p).display().to_string();
    let image = format!("{}/team/app:1.0", reg.addr);
    let scan = |extra: &[&str]| {
        let mut args = vec![
            "scan",
            &image,
            "--insecure-registry",
            &reg.addr,
            "--no-db",
            "--no-policy",
        ];
        args.extend_from_slice(extra);
        tollgate_cmd(&args)
            .env("XDG_CACHE_HOME", work.path().join("cache"))
            .output()
            .unwrap()
    };
    let report = w("report.json");
    let store_a = w("store-a");
    let o = scan(&[
        "--store",
        &store_a,
        "--attach-sbom",
        "-o",
        &format!("json={report}"),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    // distribution 2.8 has no referrers API: the tag schema is used.
    assert!(
        stderr(&o).contains("referrers tag schema"),
        "{}",
        stderr(&o)
    );
    assert!(stderr(&o).contains(&img.manifest_digest), "{}", stderr(&o));
    assert!(Path::new(&report).is_file());
    // A second push adds to the same tag-schema index instead of replacing it.
    let o = scan(&["--no-store", "--attach-sbom", "-o", "json"]);
    assert!(o.status.success(), "{}", stderr(&o));

    // Another machine: import from the registry into an empty store, no layers pulled.
    let store_b = w("store-b");
    let import = |reference: &str, store: &str| {
        tollgate_cmd(&[
            "store",
            "import",
            reference,
            "--insecure-registry",
            &reg.addr,
            "--store",
            store,
            "--json",
        ])
        .env("XDG_CACHE_HOME", work.path().join("cache-b"))
        .output()
        .unwrap()
    };
    let o = import(&image, &store_b);
    assert!(o.status.success(), "{}", stderr(&o));
    let done: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(done["subject"], img.manifest_digest.as_str());
    assert_eq!(done["packages"], 1, "{done}");
    assert!(
        !work.path().join("cache-b").exists(),
        "import must not download layers"
    );
    let o = tollgate(&["store", "show", &img.manifest_digest, "--store", &store_b]);
    assert!(o.status.success(), "{}", stderr(&o));
    let shown: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let pkgs = shown["inventory"]["packages"].as_array().unwrap();
    assert_eq!(pkgs[0]["name"], "libssl3");
    assert_eq!(pkgs[0]["version"], "3.0.9-1");
    assert_eq!(shown["inventory"]["distro"]["id"], "debian");
    assert_eq!(
        shown["inventory"]["source"]["manifest_digest"],
        img.manifest_digest.as_str()
    );
    // The repository form imports every tag's SBOM; the referrers tag-schema tag is not a tag
    // of the image, and a repository without SBOMs is an error.
    let store_c = w("store-c");
    let o = import(&format!("{}/team/app", reg.addr), &store_c);
    assert!(o.status.success(), "{}", stderr(&o));
    let done: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let imported = done["imported"].as_array().unwrap();
    assert_eq!(imported.len(), 1, "{done}");
    assert_eq!(imported[0][0], "1.0");
    assert_eq!(imported[0][1]["subject"], img.manifest_digest.as_str());
    assert_eq!(done["without_sbom"], serde_json::json!([]), "{done}");
    let o = tollgate(&["store", "show", &img.manifest_digest, "--store", &store_c]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = import(&format!("{}/team/bare", reg.addr), &store_c);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr_has(&o, "no tag of"), "{}", stderr(&o));

    // Bad input: an image with no SBOM, a repository that does not exist, a registry that is
    // not there, a local source with --attach-sbom (reports still written, then exit 2).
    let o = import(&format!("{}/team/bare:1.0", reg.addr), &store_b);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr_has(&o, "no CycloneDX SBOM"), "{}", stderr(&o));
    let o = import(&format!("{}/team/nothing:1.0", reg.addr), &store_b);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let dead = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().to_string()
    };
    let o = tollgate_cmd(&[
        "store",
        "import",
        &format!("{dead}/team/app:1.0"),
        "--insecure-registry",
        &dead,
        "--store",
        &store_b,
    ])
    .output()
    .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let local_report = w("local.json");
    let oci = work.path().join("layout");
    sbom_image().write_oci_dir(&oci, None).unwrap();
    let o = tollgate_cmd(&[
        "scan",
        &format!("oci-dir:{}", oci.display()),
        "--no-db",
        "--no-policy",
        "--no-store",
        "--attach-sbom",
        "-o",
        &format!("json={local_report}"),
    ])
    .output()
    .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr_has(&o, "needs an image from a registry"),
        "{}",
        stderr(&o)
    );
    assert!(Path::new(&local_report).is_file(), "reports come first");
    let count = |store: &str| {
        let o = tollgate(&["store", "list", "--format", "json", "--store", store]);
        serde_json::from_slice::<serde_json::Value>(&o.stdout)
            .unwrap()
            .as_array()
            .unwrap()
            .len()
    };
    assert_eq!(count(&store_b), 1, "failed imports record nothing");
}
