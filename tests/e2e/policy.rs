//! `tollgate policy …` and `tollgate evaluate` end to end: exit codes, located diagnostics,
//! conversion round trips and the local bundle store.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn tollgate(args: &[&str], store: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tollgate"))
        .args(args)
        .env("TOLLGATE_STORE", store)
        .env("NO_COLOR", "1")
        .output()
        .expect("run tollgate")
}

fn shared(rel: &str) -> Option<PathBuf> {
    let p = Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/anchors/anchore-policy"
    ))
    .join(rel);
    if p.exists() {
        return Some(p);
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "{} missing",
        p.display()
    );
    eprintln!("skipping: {} missing", p.display());
    None
}

fn fixture(rel: &str) -> PathBuf {
    Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../engine/tests/fixtures/policy"
    ))
    .join(rel)
}

/// A saved analysis built from the policy fixtures' inventory and matches.
fn analysis_file(dir: &Path) -> PathBuf {
    let inventory: serde_json::Value =
        serde_json::from_slice(&std::fs::read(fixture("inventory.json")).unwrap()).unwrap();
    let matches: serde_json::Value =
        serde_json::from_slice(&std::fs::read(fixture("matches.json")).unwrap()).unwrap();
    let doc = serde_json::json!({
        "schema_version": "1.0", "tool": {"name": "tollgate", "version": "test"},
        "created": "2026-11-25T00:00:00Z", "inventory": inventory, "matches": matches,
    });
    let p = dir.join("analysis.json");
    std::fs::write(&p, serde_json::to_vec(&doc).unwrap()).unwrap();
    p
}

#[test]
fn validate_reports_every_problem_with_location_and_exit_2() {
    let tmp = tempfile::tempdir().unwrap();
    let Some(bad) = shared("expected-invalid/anchore-engine/bad_bundle.json") else {
        return;
    };
    let out = tollgate(&["policy", "validate", bad.to_str().unwrap()], tmp.path());
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("5 problem(s)"), "{err}");
    assert!(err.contains("bad_bundle.json:22:21"), "{err}");
    assert_eq!(
        err.matches("tollgate::policy::missing-param").count(),
        4,
        "{err}"
    );
    let good = shared("modular-policy/ironbank.json").unwrap();
    let out = tollgate(&["policy", "validate", good.to_str().unwrap()], tmp.path());
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("26 rule sets"));
}

#[test]
fn evaluate_exits_1_on_stop_and_honours_fail_on_warn() {
    let tmp = tempfile::tempdir().unwrap();
    let analysis = analysis_file(tmp.path());
    let a = analysis.to_str().unwrap();
    // Embedded default (no --policy, empty store): openssl HIGH + port 22 → STOP.
    let out = tollgate(&["evaluate", a], tmp.path());
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("Final Action: STOP"), "{text}");
    assert!(
        text.contains("Dockerfile exposes port (22/tcp) which is in policy file DENIEDPORTS list"),
        "{text}"
    );
    // A WARN-only bundle: exit 0, or 1 with --fail-on-warn.
    let warn = fixture("npms/feed.json");
    let text = std::fs::read_to_string(&warn)
        .unwrap()
        .replace("\"STOP\"", "\"WARN\"");
    let warn_file = tmp.path().join("warn.json");
    std::fs::write(&warn_file, text).unwrap();
    let wf = warn_file.to_str().unwrap();
    assert_eq!(
        tollgate(&["evaluate", a, "--policy", wf], tmp.path())
            .status
            .code(),
        Some(0)
    );
    assert_eq!(
        tollgate(
            &["evaluate", a, "--policy", wf, "--fail-on-warn"],
            tmp.path()
        )
        .status
        .code(),
        Some(1)
    );
    // JSON output is the Evaluation.
    let out = tollgate(
        &["evaluate", a, "--policy", wf, "--format", "json"],
        tmp.path(),
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["final_action"], "WARN");
    assert_eq!(v["hits"][0]["gate"], "npms");
    // --dockerfile switches to actual mode.
    let df = tmp.path().join("Dockerfile");
    std::fs::write(&df, "FROM debian:12\nUSER app\nHEALTHCHECK CMD true\n").unwrap();
    let out = tollgate(
        &[
            "evaluate",
            a,
            "--dockerfile",
            df.to_str().unwrap(),
            "--format",
            "json",
        ],
        tmp.path(),
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let outputs: Vec<&str> = v["hits"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|h| h["check_output"].as_str())
        .collect();
    assert!(
        !outputs.iter().any(|o| o.contains("HEALTHCHECK")),
        "{outputs:?}"
    );
}

#[test]
fn stored_bundles_one_active_and_policy_flag_wins() {
    let tmp = tempfile::tempdir().unwrap();
    let store = tmp.path().join("store");
    let analysis = analysis_file(tmp.path());
    let a = analysis.to_str().unwrap();
    let go = fixture("malware/scans.json");
    let out = tollgate(
        &["policy", "add", go.to_str().unwrap(), "--activate"],
        &store,
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let list = String::from_utf8_lossy(&tollgate(&["policy", "list"], &store).stdout).to_string();
    assert!(list.starts_with("* malware-scans"), "{list}");
    // The active bundle (never fires) is used without --policy: GO.
    assert_eq!(tollgate(&["evaluate", a], &store).status.code(), Some(0));
    // --policy always wins.
    let stop = fixture("always/fires.json");
    assert_eq!(
        tollgate(&["evaluate", a, "--policy", stop.to_str().unwrap()], &store)
            .status
            .code(),
        Some(1)
    );
    let got = tollgate(&["policy", "get", "malware-scans"], &store);
    assert_eq!(got.stdout, std::fs::read(&go).unwrap());
    assert_eq!(
        tollgate(&["policy", "activate", "nope"], &store)
            .status
            .code(),
        Some(2)
    );
    assert_eq!(
        tollgate(&["policy", "delete", "malware-scans"], &store)
            .status
            .code(),
        Some(0)
    );
    // No active bundle left: the embedded default (STOP for this analysis).
    assert_eq!(tollgate(&["evaluate", a], &store).status.code(), Some(1));
}

#[test]
fn convert_round_trips_v1_v2_yaml() {
    let tmp = tempfile::tempdir().unwrap();
    let Some(cis) = shared("hub/anchore_cis_1.13.0_base.json") else {
        return;
    };
    let v2 = tmp.path().join("cis.v2.yaml");
    let out = tollgate(
        &[
            "policy",
            "convert",
            cis.to_str().unwrap(),
            "--to",
            "v2",
            "--encoding",
            "yaml",
            "-o",
            v2.to_str().unwrap(),
        ],
        tmp.path(),
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = tollgate(&["policy", "validate", v2.to_str().unwrap()], tmp.path());
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("valid v2 bundle"));
    let out = tollgate(&["policy", "describe", "nosuchgate"], tmp.path());
    assert_eq!(out.status.code(), Some(2));
}
