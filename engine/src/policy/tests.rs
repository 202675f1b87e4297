//! Policy-stage tests against the real Anchore bundles in `../shared/anchors/anchore-policy`
//! (read in place; fail under `CI=true` when missing, skip otherwise) and the Tollgate fixtures
//! under `engine/tests/fixtures/policy/`.

use std::path::{Path, PathBuf};

use super::*;

pub(crate) fn shared_dir() -> Option<PathBuf> {
    let dir = Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/anchors/anchore-policy"
    ));
    if dir.is_dir() {
        return Some(dir.to_path_buf());
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "shared bundles missing at {}",
        dir.display()
    );
    eprintln!("skipping: {} not found", dir.display());
    None
}

/// Every bundle under the shared folder except `expected-invalid/` and `reports/`, as paths
/// relative to it (sorted), so a bundle added there is tested without editing this file.
fn valid_bundles(dir: &Path) -> Vec<String> {
    fn walk(root: &Path, d: &Path, out: &mut Vec<String>) {
        for e in std::fs::read_dir(d).unwrap().flatten() {
            let p = e.path();
            let rel = p.strip_prefix(root).unwrap().to_string_lossy().into_owned();
            if p.is_dir() {
                if rel != "expected-invalid" && rel != "reports" {
                    walk(root, &p, out);
                }
            } else if rel.ends_with(".json") || rel.ends_with(".yaml") || rel.ends_with(".yml") {
                out.push(rel);
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    for known in [
        "anchore-engine/anchore_default_bundle.json",
        "anchore-engine/bundle-with-all-rules-2020-08-20.json",
        "anchore-engine/bundle-large_whitelist.json",
        "hub/anchore_cis_1.13.0_base.json",
        "modular-policy/ironbank.json",
        "modular-policy/nist800-190.json",
    ] {
        assert!(
            out.iter().any(|f| f == known),
            "{known} not found in {out:?}"
        );
    }
    out
}

const ALL_RULES: &str = "anchore-engine/bundle-with-all-rules-2020-08-20.json";

#[test]
fn every_valid_shared_bundle_loads() {
    let Some(dir) = shared_dir() else { return };
    for f in valid_bundles(&dir) {
        let b = Bundle::load(&dir.join(&f)).unwrap_or_else(|e| panic!("{f}: {e:?}"));
        assert!(!b.mappings.is_empty(), "{f}");
        assert!(b.digest.starts_with("sha256:"));
    }
}

#[test]
fn all_rules_bundle_loads_with_a_located_warning_for_its_invalid_regex() {
    let Some(dir) = shared_dir() else { return };
    let path = dir.join(ALL_RULES);
    let b = Bundle::load(&path).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    let line = text
        .lines()
        .position(|l| l.contains(r#""*\\.pem""#))
        .map(|i| i + 1)
        .unwrap();
    let w: Vec<&String> = b
        .warnings
        .iter()
        .filter(|w| w.contains("not a valid regular expression"))
        .collect();
    assert_eq!(w.len(), 1, "{:#?}", b.warnings);
    assert!(
        w[0].contains("param `regex`") && w[0].contains(&format!("line {line},")),
        "{}",
        w[0]
    );
}

fn kinds(path: &Path) -> Vec<ProblemKind> {
    match Bundle::load(path) {
        Ok(_) => panic!("{} loaded but is invalid", path.display()),
        Err(e) => e.problems().iter().map(|p| p.kind).collect(),
    }
}

#[test]
fn expected_invalid_bundles_fail_for_their_documented_reason() {
    let Some(dir) = shared_dir() else { return };
    let d = dir.join("expected-invalid/anchore-engine");
    let bad = kinds(&d.join("bad_bundle.json"));
    assert!(bad.contains(&ProblemKind::BadAction), "{bad:?}");
    assert_eq!(
        bad.iter()
            .filter(|k| **k == ProblemKind::MissingParam)
            .count(),
        4,
        "{bad:?}"
    );
    assert_eq!(
        kinds(&d.join("bad_policy_id_bundle.json")),
        vec![ProblemKind::MissingReference]
    );
    assert!(kinds(&d.join("empty.json")).contains(&ProblemKind::MissingReference));
    assert!(kinds(&d.join("trivial_bundle.json")).contains(&ProblemKind::MissingReference));
}

// ---------------------------------------------------------------------------------------------
// The debian-py-node image as an Inventory: packages from its expected.json, config and history
// from its OCI layout, and the planted facts its README lists (suid files, secrets, passwd).

use crate::catalog::{Distro, Inventory, Package, PackageType, SecretFinding};
use crate::image::{FileEntry, FileKind, ImageConfig, LayerInfo, SourceInfo};
use crate::matcher::{FixState, Match, Vulnerability};
use crate::types::Severity;

fn testimage(name: &str) -> Option<PathBuf> {
    let root = std::env::var("TOLLGATE_TESTIMAGES")
        .unwrap_or_else(|_| "/var/tmp/tollgate-testimages".into());
    let dir = Path::new(&root).join(name);
    if dir.join("expected.json").is_file() {
        return Some(dir);
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "test image {name} missing in {root}"
    );
    eprintln!("skipping: test image {name} not built in {root}");
    None
}

fn read_json(p: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap()
}

fn debian_py_node() -> Option<Inventory> {
    let dir = testimage("debian-py-node")?;
    let exp = read_json(&dir.join("expected.json"));
    let blob = |d: &str| {
        dir.join("oci/blobs/sha256")
            .join(d.trim_start_matches("sha256:"))
    };
    let index = read_json(&dir.join("oci/index.json"));
    let man_digest = index["manifests"][0]["digest"]
        .as_str()
        .unwrap()
        .to_string();
    let manifest = read_json(&blob(&man_digest));
    let cfg_digest = manifest["config"]["digest"].as_str().unwrap().to_string();
    let cfg = read_json(&blob(&cfg_digest));
    let c = &cfg["config"];
    let strs = |v: &serde_json::Value| {
        v.as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|x| x.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default()
    };
    let config = ImageConfig {
        digest: cfg_digest,
        platform: crate::image::Platform {
            os: "linux".into(),
            architecture: "amd64".into(),
            variant: None,
        },
        env: strs(&c["Env"]),
        user: c["User"].as_str().unwrap_or("").into(),
        exposed_ports: c["ExposedPorts"]
            .as_object()
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default(),
        history: serde_json::from_value(cfg["history"].clone()).unwrap(),
        ..Default::default()
    };
    let layers = manifest["layers"]
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
        .map(|(i, l)| LayerInfo {
            index: i,
            digest: l["digest"].as_str().unwrap().into(),
            size: l["size"].as_u64().unwrap(),
            ..Default::default()
        })
        .collect();
    let mut packages = Vec::new();
    for (key, kind) in [
        ("deb", PackageType::Deb),
        ("python", PackageType::Python),
        ("npm", PackageType::Npm),
    ] {
        for p in exp[key].as_array().into_iter().flatten() {
            let path = p["path"]
                .as_str()
                .or(p["source"].as_str())
                .unwrap_or("")
                .to_string();
            packages.push(Package {
                id: format!("{key}-{}", packages.len()),
                name: p["name"].as_str().unwrap().into(),
                version: p["version"].as_str().unwrap().into(),
                kind,
                locations: vec![crate::catalog::Location {
                    path,
                    ..Default::default()
                }],
                ..Default::default()
            });
        }
    }
    let mut files: Vec<FileEntry> = exp["setuid_setgid"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let mode = u32::from_str_radix(f["mode"].as_str().unwrap().trim_start_matches("0o"), 8)
                .unwrap();
            FileEntry {
                path: f["path"].as_str().unwrap().into(),
                kind: FileKind::Regular,
                mode,
                size: 1,
                layer: 0,
                ..Default::default()
            }
        })
        .collect();
    for (p, kind, mode) in [
        ("/etc/passwd", FileKind::Regular, 0o644),
        ("/app", FileKind::Directory, 0o755),
        ("/app/uploads", FileKind::Directory, 0o777),
        ("/app/.env", FileKind::Regular, 0o644),
        ("/app/config/server.key", FileKind::Regular, 0o600),
    ] {
        files.push(FileEntry {
            path: p.into(),
            kind,
            mode,
            size: 10,
            layer: 2,
            ..Default::default()
        });
    }
    let secret = |rule: &str, path: &str, line| SecretFinding {
        rule: rule.into(),
        path: path.into(),
        line,
        layer_index: 2,
        fingerprint: "0123456789ab".into(),
        masked: "AKIA****".into(),
    };
    Some(Inventory {
        source: SourceInfo { scheme: "oci-dir".into(), input: dir.join("oci").display().to_string(), manifest_digest: Some(man_digest), ..Default::default() },
        config,
        layers,
        distro: Some(Distro { id: "debian".into(), version_id: "12".into(), codename: Some("bookworm".into()), pretty_name: "Debian GNU/Linux 12 (bookworm)".into(), ..Default::default() }),
        packages,
        files,
        secrets: vec![secret("AWS_ACCESS_KEY", "/app/.env", 1), secret("AWS_SECRET_KEY", "/app/.env", 2), secret("PRIV_KEY", "/app/config/server.key", 1)],
        retrieved_files: [("/etc/passwd".to_string(), "root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\ntoor:x:0:0::/root:/bin/bash\nguest:x:1001:1001::/home/guest:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n".to_string())].into_iter().collect(),
        problems: Vec::new(),
    })
}

fn vuln(id: &str, pkg: &str, sev: Severity, fixed: &[&str]) -> Match {
    Match {
        vulnerability: Vulnerability {
            id: id.into(),
            severity: sev,
            ..Default::default()
        },
        package_id: pkg.into(),
        package_name: pkg.into(),
        package_version: "1.0".into(),
        package_type: "deb".into(),
        fix_state: if fixed.is_empty() {
            FixState::NotFixed
        } else {
            FixState::Fixed
        },
        fixed_in: fixed.iter().map(|s| s.to_string()).collect(),
        ..Default::default()
    }
}

fn now() -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::parse_from_rfc3339("2026-11-25T12:00:00Z")
        .unwrap()
        .with_timezone(&chrono::Utc)
}

const TAG: &str = "registry.example.com/shop/legacy-shop:1.4.2";

#[test]
fn every_valid_shared_bundle_evaluates_debian_py_node() {
    let (Some(dir), Some(inv)) = (shared_dir(), debian_py_node()) else {
        return;
    };
    let matches = vec![
        vuln("CVE-2023-0001", "openssl", Severity::High, &["3.0.11-1"]),
        vuln("CVE-2023-0002", "bash", Severity::Medium, &[]),
    ];
    for f in valid_bundles(&dir) {
        let b = Bundle::load(&dir.join(&f)).unwrap();
        let input = EvalInput {
            tag: Some(TAG),
            ..EvalInput::new(&inv, &matches, now())
        };
        let e = evaluate(&b, &input);
        assert!(e.mapping_id.is_some(), "{f}: no mapping matched");
        if f == ALL_RULES {
            // Anchore errors when `files/name_match` runs `*\.pem`; Tollgate reports the rule
            // as an evaluation error, runs every other rule, and fails closed.
            assert_eq!(e.problems.len(), 1, "{:#?}", e.problems);
            let p = &e.problems[0];
            assert_eq!(p.severity, "error");
            assert!(p.details.contains("files/name_match") && p.details.contains(r"*\.pem"));
            assert_eq!(e.final_action_reason, "evaluation_error");
            assert!(e.rules.len() > 30 && e.hits.iter().any(|h| h.gate == "dockerfile"));
        } else {
            assert!(e.problems.is_empty(), "{f}: {:#?}", e.problems);
        }
        // Every bundle's mapped policies must flag this image (vulns, port 22, root, secrets…).
        assert_ne!(e.final_action, Action::Go, "{f}: {:#?}", e.hits);
        for h in &e.hits {
            assert!(
                !h.trigger_id.is_empty() && !h.check_output.is_empty(),
                "{f}: {h:?}"
            );
        }
    }
}

fn eval_file(f: &str, inv: &Inventory, matches: &[Match]) -> Option<Evaluation> {
    let dir = shared_dir()?;
    let b = Bundle::load(&dir.join(f)).unwrap();
    Some(evaluate(
        &b,
        &EvalInput {
            tag: Some(TAG),
            ..EvalInput::new(inv, matches, now())
        },
    ))
}

#[test]
fn default_bundle_stops_on_port_22_and_high_vulns() {
    let Some(inv) = debian_py_node() else { return };
    let matches = vec![vuln(
        "CVE-2023-0001",
        "openssl",
        Severity::High,
        &["3.0.11-1"],
    )];
    let e = evaluate(
        &Bundle::default_bundle(),
        &EvalInput {
            tag: Some(TAG),
            ..EvalInput::new(&inv, &matches, now())
        },
    );
    assert_eq!(e.final_action, Action::Stop);
    let outputs: Vec<&str> = e.hits.iter().map(|h| h.check_output.as_str()).collect();
    assert!(
        outputs
            .contains(&"Dockerfile exposes port (22/tcp) which is in policy file DENIEDPORTS list"),
        "{outputs:#?}"
    );
    assert!(outputs.contains(
        &"Dockerfile directive 'HEALTHCHECK' not found, matching condition 'not_exists' check"
    ));
    assert!(outputs.contains(&"HIGH Vulnerability found in os package type (dpkg) - openssl (fixed in: 3.0.11-1)(CVE-2023-0001 - https://nvd.nist.gov/vuln/detail/CVE-2023-0001)"), "{outputs:#?}");
    let vuln_hit = e
        .hits
        .iter()
        .find(|h| h.gate == "vulnerabilities" && h.trigger == "package")
        .unwrap();
    assert_eq!(vuln_hit.trigger_id, "CVE-2023-0001+openssl");
    assert!(
        outputs
            .iter()
            .any(|o| o.contains("file=/app/.env regexp=AWS_ACCESS_KEY=(?i).*aws_access_key_id"))
    );
}

#[test]
fn cis_bundle_flags_root_suid_and_allowlists_debian_suid_files_by_md5_id() {
    let Some(inv) = debian_py_node() else { return };
    let Some(e) = eval_file("hub/anchore_cis_1.13.0_base.json", &inv, &[]) else {
        return;
    };
    let suid: Vec<_> = e
        .hits
        .iter()
        .filter(|h| h.trigger == "suid_or_guid_set")
        .collect();
    assert_eq!(suid.len(), 13);
    let chage = suid
        .iter()
        .find(|h| h.check_output.contains("/usr/bin/chage"))
        .unwrap();
    assert_eq!(
        chage.check_output,
        "SUID or SGID found set on file /usr/bin/chage. Mode: 0o102755"
    );
    assert_eq!(chage.trigger_id, "75d08d8c7b064bbd44f2f524c924d17b");
    assert!(chage.allowlisted.is_some(), "{chage:?}");
    let planted = suid
        .iter()
        .find(|h| h.check_output.contains("/usr/local/bin/backup-find"))
        .unwrap();
    assert!(planted.allowlisted.is_none());
    assert!(e.hits.iter().any(|h| h.check_output
        == "User root found as effective user, which is explicity not allowed"
        && h.action == Action::Stop));
    assert!(e.hits.iter().any(|h| h.check_output
        == "Dockerfile exposes port (8080/tcp) which is not in policy file ALLOWEDPORTS list"));
    assert_eq!(e.final_action, Action::Stop);
}

#[test]
fn ironbank_suid_allowlist_ids_match_and_catch_all_mapping_is_used() {
    let Some(inv) = debian_py_node() else { return };
    let Some(e) = eval_file("modular-policy/ironbank.json", &inv, &[]) else {
        return;
    };
    // The catch-all mapping is the last of 22.
    let dir = shared_dir().unwrap();
    let b = Bundle::load(&dir.join("modular-policy/ironbank.json")).unwrap();
    let last = b.mappings.last().unwrap();
    assert_eq!(
        e.mapping_id.as_deref(),
        Some(if last.id.is_empty() {
            last.name.as_str()
        } else {
            last.id.as_str()
        })
    );
    // A finding is allowlisted exactly when its md5 id is one of the mapped whitelists' items.
    let mapped = b.mappings.last().unwrap();
    let ids: std::collections::HashSet<&str> = mapped
        .allowlist_ids
        .iter()
        .filter_map(|id| b.allowlist(id))
        .flat_map(|l| &l.items)
        .filter(|i| i.gate == "files")
        .map(|i| i.trigger_id.as_str())
        .collect();
    let suid: Vec<_> = e
        .hits
        .iter()
        .filter(|h| h.trigger == "suid_or_guid_set")
        .collect();
    assert_eq!(suid.len(), 13);
    for h in &suid {
        assert_eq!(
            h.allowlisted.is_some(),
            ids.contains(h.trigger_id.as_str()),
            "{h:?}"
        );
    }
    assert!(
        suid.iter().any(|h| h.allowlisted.is_some()),
        "no Debian SUID file matched the Iron Bank whitelists"
    );
}

#[test]
fn nist_bundle_finds_secrets_passwd_and_mode() {
    let Some(inv) = debian_py_node() else { return };
    let Some(e) = eval_file("modular-policy/nist800-190.json", &inv, &[]) else {
        return;
    };
    let gates: std::collections::BTreeSet<&str> = e.hits.iter().map(|h| h.gate.as_str()).collect();
    assert!(gates.contains("secret_scans"), "{gates:?}");
    assert!(e.hits.iter().any(|h| {
        h.check_output
            .contains("file=/app/config/server.key regexp=PRIV_KEY=")
    }));
    // /etc/passwd is 0644, so `mode not_equals 00644` holds back wherever it is mapped.
    assert!(
        !e.hits
            .iter()
            .any(|h| h.check_output.starts_with("filename=/etc/passwd"))
    );
}

// ---------------------------------------------------------------------------------------------
// Per-trigger fixtures: engine/tests/fixtures/policy/<gate>/<case>.json hold one-rule bundles;
// each case names whether it fires on the fixture inventory, or the problem it must raise.

fn fixture_dir() -> PathBuf {
    Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/policy"
    ))
    .to_path_buf()
}

fn fixture_inventory() -> Inventory {
    let text = std::fs::read_to_string(fixture_dir().join("inventory.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn fixture_matches() -> Vec<Match> {
    let text = std::fs::read_to_string(fixture_dir().join("matches.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

#[test]
fn per_trigger_fixtures_fire_or_not_or_fail_as_named() {
    let inv = fixture_inventory();
    let matches = fixture_matches();
    let mut checked = 0;
    let mut gates_seen = std::collections::BTreeSet::new();
    for gate_dir in std::fs::read_dir(fixture_dir())
        .unwrap()
        .flatten()
        .filter(|e| e.path().is_dir())
    {
        for case in std::fs::read_dir(gate_dir.path()).unwrap().flatten() {
            let path = case.path();
            let name = path.file_stem().unwrap().to_string_lossy().to_string();
            let text = std::fs::read_to_string(&path).unwrap();
            let meta: serde_json::Value = serde_json::from_str(&text).unwrap();
            let expect = &meta["expect"];
            match Bundle::load(&path) {
                Err(e) => {
                    let want = expect["problem"]
                        .as_str()
                        .unwrap_or_else(|| panic!("{}: unexpected error {e:?}", path.display()));
                    let codes: Vec<&str> = e.problems().iter().map(|p| p.kind.code()).collect();
                    assert!(
                        codes.iter().any(|c| c.ends_with(want)),
                        "{}: wanted {want}, got {codes:?}",
                        path.display()
                    );
                }
                Ok(b) => {
                    assert!(
                        expect["problem"].is_null(),
                        "{} loaded but should fail",
                        path.display()
                    );
                    let tag = meta["tag"].as_str();
                    let dockerfile = meta["dockerfile"].as_str();
                    let db_built = meta["db_built"].as_str().map(|t| {
                        chrono::DateTime::parse_from_rfc3339(t)
                            .unwrap()
                            .with_timezone(&chrono::Utc)
                    });
                    let e = evaluate(
                        &b,
                        &EvalInput {
                            tag,
                            dockerfile,
                            db_built,
                            ..EvalInput::new(&inv, &matches, now())
                        },
                    );
                    let outputs: Vec<&str> =
                        e.hits.iter().map(|h| h.check_output.as_str()).collect();
                    let want = expect["fires"]
                        .as_u64()
                        .unwrap_or_else(|| panic!("{}: no expect.fires", path.display()));
                    assert_eq!(
                        e.hits.len() as u64,
                        want,
                        "{} ({name}): {outputs:#?}",
                        path.display()
                    );
                    if let Some(msg) = expect["message"].as_str() {
                        assert!(outputs.contains(&msg), "{}: {outputs:#?}", path.display());
                    }
                    if let Some(id) = expect["trigger_id"].as_str() {
                        assert!(
                            e.hits.iter().any(|h| h.trigger_id == id),
                            "{}: {:#?}",
                            path.display(),
                            e.hits
                        );
                    }
                    if let Some(action) = expect["final_action"].as_str() {
                        assert_eq!(e.final_action.as_str(), action, "{}", path.display());
                    }
                    match expect["evaluation_error"].as_str() {
                        Some(want) => assert!(
                            e.problems.iter().any(|p| p.details.contains(want)),
                            "{}: {:#?}",
                            path.display(),
                            e.problems
                        ),
                        None => assert!(
                            e.problems.is_empty(),
                            "{}: {:#?}",
                            path.display(),
                            e.problems
                        ),
                    }
                }
            }
            gates_seen.insert(gate_dir.file_name().to_string_lossy().to_string());
            checked += 1;
        }
    }
    assert!(checked >= 30, "only {checked} fixtures");
    for g in gates::GATES {
        assert!(
            gates_seen.contains(g.name()),
            "no fixtures for gate {}",
            g.name()
        );
    }
}

#[test]
fn all_problems_are_reported_at_once_with_locations() {
    let text = r#"{"id": "b", "version": "1_0",
  "policies": [{"id": "p", "version": "1_0", "rules": [
    {"id": "r1", "gate": "nope", "trigger": "x", "action": "STOP", "params": []},
    {"id": "r2", "gate": "files", "trigger": "name_match", "action": "MAYBE", "params": [{"name": "regex", "value": "*.pem"}]},
    {"id": "r3", "gate": "vulnerabilities", "trigger": "package", "action": "WARN", "params": [{"name": "severity", "value": "bad"}, {"name": "extra", "value": "1"}]},
    {"id": "r4", "gate": "dockerfile", "trigger": "exposed_ports", "action": "WARN", "params": [{"name": "ports", "value": "22,,80"}, {"name": "type", "value": 5}]}
  ]}, {"id": "p", "version": "1_0", "rules": []}],
  "whitelists": [{"id": "w", "version": "1_0", "items": [{"id": "i", "gate": "files", "trigger_id": "x", "expires_on": "2020-10-15"}, {"id": "j", "gate": "files", "trigger_id": "regexp:*x"}]}],
  "mappings": [{"registry": "*", "repository": "*", "image": {"type": "tag", "value": "*"}, "policy_ids": ["p", "missing"], "whitelist_ids": ["w", "gone"]}]
}"#;
    let err = Bundle::from_text("inline.json", text, false).unwrap_err();
    let kinds: Vec<ProblemKind> = err.problems().iter().map(|p| p.kind).collect();
    for k in [
        ProblemKind::UnknownGate,
        ProblemKind::BadAction,
        ProblemKind::BadRegex,
        ProblemKind::BadParamValue,
        ProblemKind::UnknownParam,
        ProblemKind::MissingParam,
        ProblemKind::DuplicateId,
        ProblemKind::BadExpiresOn,
        ProblemKind::MissingReference,
    ] {
        assert!(kinds.contains(&k), "{k:?} missing from {kinds:?}");
    }
    assert!(err.problems().len() >= 12, "{:#?}", err.problems());
    let unknown = err
        .problems()
        .iter()
        .find(|p| p.kind == ProblemKind::UnknownGate)
        .unwrap();
    assert_eq!(
        &text[unknown.span.offset()..unknown.span.offset() + unknown.span.len()],
        "\"nope\""
    );
    let n = err.problems().len();
    let related = miette::Diagnostic::related(&err).map_or(0, Iterator::count);
    assert_eq!(related, n, "every problem is a related diagnostic");
}

#[test]
fn unsupported_version_is_immediate() {
    let err = Bundle::from_text(
        "v.json",
        r#"{"id": "x", "version": "v1.0", "policies": "broken"}"#,
        false,
    )
    .unwrap_err();
    assert!(
        matches!(err, PolicyError::UnsupportedVersion { .. }),
        "{err:?}"
    );
}

#[test]
fn yaml_and_v2_load_and_convert_round_trip() {
    let Some(dir) = shared_dir() else { return };
    let v1 = Bundle::load(&dir.join("hub/anchore_cis_1.13.0_base.json")).unwrap();
    let v2_text = serde_json::to_string_pretty(&v1.to_v2()).unwrap();
    let v2 = Bundle::from_text("cis.v2.json", &v2_text, false).unwrap();
    assert_eq!(v2.format, BundleFormat::V2);
    assert_eq!(v2.rule_sets.len(), v1.rule_sets.len());
    assert_eq!(v2.allowlists, v1.allowlists);
    assert!(
        v2_text.contains("\"allowlist\"") || v2_text.contains("denylist"),
        "type values renamed"
    );
    let yaml = yaml_serde::to_string(&v1.to_v1()).unwrap();
    let back = Bundle::from_text("cis.yaml", &yaml, true).unwrap();
    assert_eq!(back.rule_sets, v1.rule_sets);
    assert_eq!(back.mappings, v1.mappings);
}

#[test]
fn default_bundle_loads() {
    let b = Bundle::from_text("default", Bundle::default_bundle_text(), false).unwrap();
    assert_eq!(b.id, "tollgate-default");
    assert_eq!(Bundle::default_bundle().rule_sets[0].rules.len(), 8);
}

fn bundle_with(allow_items: &str, mappings: &str) -> Bundle {
    let text = format!(
        r#"{{"id": "b", "version": "1_0",
      "policies": [{{"id": "p1", "version": "1_0", "rules": [{{"id": "r", "gate": "files", "trigger": "suid_or_guid_set", "action": "STOP", "params": []}}]}},
                   {{"id": "p2", "version": "1_0", "rules": [{{"id": "w", "gate": "always", "trigger": "always", "action": "WARN", "params": []}}]}}],
      "whitelists": [{{"id": "w1", "name": "suid", "version": "1_0", "items": [{allow_items}]}}],
      "mappings": [{mappings}],
      "whitelisted_images": [{{"name": "golden", "registry": "*", "repository": "team/golden", "image": {{"type": "tag", "value": "*"}}}}],
      "blacklisted_images": [{{"name": "banned", "registry": "*", "repository": "*", "image": {{"type": "tag", "value": "banned-*"}}}},
                             {{"name": "banned-golden", "registry": "*", "repository": "team/golden", "image": {{"type": "tag", "value": "bad"}}}}]
    }}"#
    );
    Bundle::from_text("inline.json", &text, false).unwrap()
}

const CATCH_ALL: &str = r#"{"name": "all", "registry": "*", "repository": "*", "image": {"type": "tag", "value": "*"}, "policy_ids": ["p1"], "whitelist_ids": ["w1"]}"#;

#[test]
fn allowlist_expiry_and_globs() {
    let inv = fixture_inventory();
    let mail_id = format!(
        "{:x}",
        md5::compute(
            "filessuid_or_guid_setSUID or SGID found set on file /var/mail. Mode: 0o42775"
        )
    );
    let items = format!(
        r#"{{"id": "future", "gate": "FILES", "trigger_id": "{mail_id}", "expires_on": "2099-01-01T00:00:00Z"}},
                          {{"id": "past", "gate": "files", "trigger_id": "*", "expires_on": "2020-01-01T00:00:00.000000Z"}}"#
    );
    let b = bundle_with(&items, CATCH_ALL);
    let e = evaluate(
        &b,
        &EvalInput {
            tag: Some("team/app:1"),
            ..EvalInput::new(&inv, &[], now())
        },
    );
    let mail = e
        .hits
        .iter()
        .find(|h| h.check_output.contains("/var/mail"))
        .unwrap();
    assert_eq!(
        mail.allowlisted.as_ref().map(|a| a.item_id.as_str()),
        Some("future")
    );
    let passwd = e
        .hits
        .iter()
        .find(|h| h.check_output.contains("/usr/bin/passwd"))
        .unwrap();
    assert!(
        passwd.allowlisted.is_none(),
        "expired glob item must not apply"
    );
    assert_eq!(e.final_action, Action::Stop);
    assert!(
        e.warnings.iter().any(|w| w.contains("expired")),
        "{:?}",
        e.warnings
    );
    // The same bundle evaluated after the first item's expiry: nothing is allowlisted.
    let later = chrono::DateTime::parse_from_rfc3339("2099-01-01T00:00:00Z")
        .unwrap()
        .with_timezone(&chrono::Utc);
    let e = evaluate(
        &b,
        &EvalInput {
            tag: Some("team/app:1"),
            ..EvalInput::new(&inv, &[], later)
        },
    );
    assert!(e.hits.iter().all(|h| h.allowlisted.is_none()));
}

#[test]
fn mapping_order_first_match_wins_and_image_lists_take_precedence() {
    let inv = fixture_inventory();
    let mappings = format!(
        r#"{{"name": "warn-only", "registry": "docker.io", "repository": "team/*", "image": {{"type": "tag", "value": "dev-*"}}, "policy_ids": ["p2"], "whitelist_ids": []}}, {CATCH_ALL},
        {{"name": "never", "registry": "*", "repository": "team/app", "image": {{"type": "tag", "value": "*"}}, "policy_ids": ["p2"], "whitelist_ids": []}}"#
    );
    let b = bundle_with("", &mappings);
    let run = |tag: &str| {
        evaluate(
            &b,
            &EvalInput {
                tag: Some(tag),
                ..EvalInput::new(&inv, &[], now())
            },
        )
    };
    let e = run("team/app:dev-1");
    assert_eq!(
        (e.mapping_id.as_deref(), e.final_action),
        (Some("warn-only"), Action::Warn)
    );
    let e = run("team/app:1.0");
    assert_eq!(
        (e.mapping_id.as_deref(), e.final_action),
        (Some("all"), Action::Stop)
    );
    let e = run("team/golden:1");
    assert_eq!(
        (
            e.final_action,
            e.final_action_reason.as_str(),
            e.policy_action
        ),
        (Action::Go, "allowlisted", Action::Stop)
    );
    assert!(
        !e.hits.is_empty(),
        "findings are still reported for allowlisted images"
    );
    let e = run("team/golden:bad");
    assert_eq!(
        (e.final_action, e.final_action_reason.as_str()),
        (Action::Stop, "denylisted")
    );
    let e = run("quay.io/x/y:banned-2");
    assert_eq!(e.final_action_reason, "denylisted");
    // No mapping at all: GO, with a warning.
    let b = bundle_with("", "");
    let e = evaluate(
        &b,
        &EvalInput {
            tag: Some("team/app:1"),
            ..EvalInput::new(&inv, &[], now())
        },
    );
    assert_eq!(
        (e.final_action, e.mapping_id.clone(), e.hits.len()),
        (Action::Go, None, 0)
    );
}

#[test]
fn tag_drift_compares_with_previous_inventory() {
    let inv = fixture_inventory();
    let mut prev = inv.clone();
    prev.packages.retain(|p| p.name != "left-pad");
    prev.packages
        .iter_mut()
        .filter(|p| p.name == "openssl")
        .for_each(|p| p.version = "3.0.9-1".into());
    prev.packages.push(crate::catalog::Package {
        name: "curl".into(),
        version: "7.88".into(),
        kind: PackageType::Deb,
        ..Default::default()
    });
    for (trigger, want) in [
        (
            "packages_added",
            "Package left-pad (npm) version 1.3.0 was added since the previous image of this tag",
        ),
        (
            "packages_removed",
            "Package curl (deb) version 7.88 was removed since the previous image of this tag",
        ),
        (
            "packages_modified",
            "Package openssl (deb) was modified since the previous image of this tag: 3.0.9-1 -> 3.0.11-1",
        ),
    ] {
        let text = format!(
            r#"{{"id": "b", "version": "1_0", "policies": [{{"id": "p", "version": "1_0", "rules": [{{"gate": "tag_drift", "trigger": "{trigger}", "action": "WARN", "params": []}}]}}], "mappings": [{{"registry": "*", "repository": "*", "image": {{"type": "tag", "value": "*"}}, "policy_ids": ["p"], "whitelist_ids": []}}]}}"#
        );
        let b = Bundle::from_text("d.json", &text, false).unwrap();
        let e = evaluate(
            &b,
            &EvalInput {
                previous: Some(&prev),
                ..EvalInput::new(&inv, &[], now())
            },
        );
        assert_eq!(
            e.hits
                .iter()
                .map(|h| h.check_output.as_str())
                .collect::<Vec<_>>(),
            vec![want]
        );
    }
}

// ---------------------------------------------------------------------------------------------
// The real debian-py-node image through the image and catalog stages with the secret scanner.

fn real_debian_py_node(extra: &[crate::catalog::secrets::ContentRule]) -> Option<Inventory> {
    let dir = testimage("debian-py-node")?;
    let reference =
        crate::image::Reference::parse(&format!("oci-dir:{}", dir.join("oci").display())).unwrap();
    let mut request = crate::catalog::content_request();
    request.scanners.push(std::sync::Arc::new(
        crate::catalog::secrets::SecretScanner::new(extra),
    ));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let image = rt
        .block_on(crate::image::load(
            &reference,
            &crate::image::LoadOptions::default(),
            &request,
        ))
        .unwrap();
    let mut inv = crate::catalog::run(&image, &crate::catalog::CatalogOptions::default());
    inv.secrets = crate::catalog::secrets::from_hits(&image.content_hits);
    Some(inv)
}

#[test]
fn real_image_secrets_suid_and_bundles() {
    let Some(inv) = real_debian_py_node(&[]) else {
        return;
    };
    let found: Vec<(&str, &str)> = inv
        .secrets
        .iter()
        .map(|s| (s.path.as_str(), s.rule.as_str()))
        .collect();
    for want in [
        ("/app/.env", "AWS_ACCESS_KEY"),
        ("/app/.env", "AWS_SECRET_KEY"),
        ("/app/config/server.key", "PRIV_KEY"),
    ] {
        assert!(found.contains(&want), "{want:?} not in {found:?}");
    }
    assert!(
        !found.iter().any(|(p, _)| *p == "/app/.npmrc"),
        "deleted file reported: {found:?}"
    );
    for s in &inv.secrets {
        assert!(
            !s.masked.contains("EXAMPLE") || s.masked.contains('*'),
            "{s:?}"
        );
    }
    let exp = read_json(&testimage("debian-py-node").unwrap().join("expected.json"));
    let mut want: Vec<String> = exp["setuid_setgid"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap().to_string())
        .collect();
    want.sort();
    let Some(dir) = shared_dir() else { return };
    let b = Bundle::load(&dir.join("hub/anchore_cis_1.13.0_base.json")).unwrap();
    let e = evaluate(
        &b,
        &EvalInput {
            tag: Some(TAG),
            ..EvalInput::new(&inv, &[], now())
        },
    );
    let mut suid: Vec<String> = e
        .hits
        .iter()
        .filter(|h| h.trigger == "suid_or_guid_set" && h.check_output.contains(". Mode: 0o10"))
        .map(|h| {
            h.check_output
                .split_whitespace()
                .nth(7)
                .unwrap()
                .trim_end_matches('.')
                .to_string()
        })
        .collect();
    suid.sort();
    assert_eq!(suid, want);
    assert!(
        e.hits.iter().any(|h| h.check_output
            == "User root found as effective user, which is explicity not allowed")
    );
    assert!(e.hits.iter().any(|h| h.check_output
        == "Dockerfile exposes port (22/tcp) which is not in policy file ALLOWEDPORTS list"));
    assert!(e.hits.iter().any(|h| h.check_output
        == "Dockerfile exposes port (8080/tcp) which is not in policy file ALLOWEDPORTS list"));
    assert_eq!(e.final_action, Action::Stop);
    for f in valid_bundles(&dir) {
        let b = Bundle::load(&dir.join(&f)).unwrap();
        let e = evaluate(
            &b,
            &EvalInput {
                tag: Some(TAG),
                ..EvalInput::new(&inv, &[], now())
            },
        );
        assert_ne!(e.final_action, Action::Go, "{f}");
    }
}

#[test]
fn invalid_trigger_regexes_load_with_warning_and_fail_closed_at_evaluation() {
    let text = r#"{"id": "b", "version": "1_0",
  "policies": [{"id": "p", "version": "1_0", "rules": [
    {"id": "pem", "gate": "files", "trigger": "name_match", "action": "WARN", "params": [{"name": "regex", "value": "*.pem"}]},
    {"id": "like", "gate": "dockerfile", "trigger": "instruction", "action": "WARN", "params": [{"name": "instruction", "value": "FROM"}, {"name": "check", "value": "like"}, {"name": "value", "value": "(unclosed"}]},
    {"id": "ok", "gate": "always", "trigger": "always", "action": "WARN", "params": []}
  ]}],
  "whitelists": [],
  "mappings": [{"registry": "*", "repository": "*", "image": {"type": "tag", "value": "*"}, "policy_ids": ["p"], "whitelist_ids": []}],
  "blacklisted_images": [{"name": "banned", "registry": "*", "repository": "*", "image": {"type": "tag", "value": "banned"}}]
}"#;
    let b = Bundle::from_text("inline.json", text, false).unwrap();
    assert!(
        b.warnings.iter().any(|w| w.contains("rule `pem`")
            && w.contains("param `regex`")
            && w.contains("line 3,")),
        "{:#?}",
        b.warnings
    );
    let inv = fixture_inventory();
    let e = evaluate(&b, &EvalInput::new(&inv, &[], now()));
    let rules: Vec<&str> = e.problems.iter().map(|p| p.rule_id.as_str()).collect();
    assert_eq!(rules, ["pem", "like"], "{:#?}", e.problems);
    assert!(e.problems[0].details.contains("`*.pem`"));
    // The valid rule still ran; the policy result alone would be WARN, the error makes it STOP.
    assert_eq!(e.policy_action, Action::Warn);
    assert_eq!(e.final_action, Action::Stop);
    assert_eq!(e.final_action_reason, "evaluation_error");
    assert!(
        !e.hits
            .iter()
            .any(|h| h.rule_id == "pem" || h.rule_id == "like")
    );
    let banned = evaluate(
        &b,
        &EvalInput {
            tag: Some("docker.io/x:banned"),
            ..EvalInput::new(&inv, &[], now())
        },
    );
    assert_eq!(banned.final_action_reason, "denylisted");
    // A valid bundle has no problems.
    let ok = bundle_with("", CATCH_ALL);
    assert!(
        evaluate(&ok, &EvalInput::new(&inv, &[], now()))
            .problems
            .is_empty()
    );
}

// ---------------------------------------------------------------------------------------------
// Per-file digests (`files/attribute_match` checksum, `packages/verify` changed) and
// `retrieved_files`, from FileFacts and from the real image through ContentNeeds.

pub(crate) fn rules_bundle(rules: &str) -> Bundle {
    let text = format!(
        r#"{{"id": "b", "version": "1_0",
  "policies": [{{"id": "p", "version": "1_0", "rules": [{rules}]}}],
  "whitelists": [],
  "mappings": [{{"registry": "*", "repository": "*", "image": {{"type": "tag", "value": "*"}}, "policy_ids": ["p"], "whitelist_ids": []}}]}}"#
    );
    Bundle::from_text("inline.json", &text, false).unwrap()
}

fn fired_by(e: &Evaluation, rule: &str) -> Vec<String> {
    e.hits
        .iter()
        .filter(|h| h.rule_id == rule)
        .map(|h| h.check_output.clone())
        .collect()
}

#[test]
fn checksum_and_verify_fire_only_on_digest_mismatch() {
    let inv = fixture_inventory();
    let good = "900150983cd24fb0d6963f7d28e17f72";
    let facts = FileFacts {
        sha256: [("/etc/passwd".to_string(), "ab".repeat(32))].into(),
        md5: [
            ("/usr/bin/openssl".to_string(), "0".repeat(32)),
            ("/usr/bin/passwd".to_string(), good.to_string()),
        ]
        .into(),
        package_md5: [
            (
                "openssl".to_string(),
                vec![
                    ("/usr/bin/openssl".to_string(), good.to_string()),
                    ("/usr/lib/libssl.so.3".to_string(), good.to_string()),
                ],
            ),
            (
                "passwd".to_string(),
                vec![("/usr/bin/passwd".to_string(), good.to_string())],
            ),
        ]
        .into(),
        sha256_computed: true,
        md5_computed: true,
        md5_prefixes: Vec::new(),
    };
    let b = rules_bundle(&format!(
        r#"{{"id": "eq", "gate": "files", "trigger": "attribute_match", "action": "WARN", "params": [{{"name": "filename", "value": "/etc/passwd"}}, {{"name": "checksum", "value": "{sum}"}}]}},
           {{"id": "ne", "gate": "files", "trigger": "attribute_match", "action": "WARN", "params": [{{"name": "filename", "value": "/etc/passwd"}}, {{"name": "checksum", "value": "{sum}"}}, {{"name": "checksum_match", "value": "not_equals"}}]}},
           {{"id": "other", "gate": "files", "trigger": "attribute_match", "action": "WARN", "params": [{{"name": "filename", "value": "/etc/passwd"}}, {{"name": "checksum", "value": "{other}"}}, {{"name": "checksum_match", "value": "not_equals"}}]}},
           {{"id": "changed", "gate": "packages", "trigger": "verify", "action": "WARN", "params": [{{"name": "check", "value": "changed"}}]}},
           {{"id": "missing", "gate": "packages", "trigger": "verify", "action": "WARN", "params": [{{"name": "check", "value": "missing"}}]}},
           {{"id": "bin-only", "gate": "packages", "trigger": "verify", "action": "WARN", "params": [{{"name": "only_directories", "value": "/usr/bin"}}]}}"#,
        sum = "ab".repeat(32),
        other = "cd".repeat(32)
    ));
    let e = evaluate(
        &b,
        &EvalInput {
            files: Some(&facts),
            ..EvalInput::new(&inv, &[], now())
        },
    );
    assert_eq!(
        fired_by(&e, "eq"),
        [format!(
            "filename=/etc/passwd and checksum={s} op=equals specified_checksum={s}",
            s = "ab".repeat(32)
        )]
    );
    assert!(fired_by(&e, "ne").is_empty());
    assert_eq!(fired_by(&e, "other").len(), 1);
    // openssl's binary differs from dpkg's md5 (changed), its library is absent (missing);
    // passwd matches (and is not an installed package of the fixture anyway).
    let changed = "VERIFY check against package db for package 'openssl' failed on entry '/usr/bin/openssl' with status: 'changed'";
    let missing = "VERIFY check against package db for package 'openssl' failed on entry '/usr/lib/libssl.so.3' with status: 'missing'";
    assert_eq!(fired_by(&e, "changed"), [changed]);
    assert_eq!(fired_by(&e, "missing"), [missing]);
    assert_eq!(fired_by(&e, "bin-only"), [changed]);
    assert!(!e.warnings.iter().any(|w| w.contains("digests")));
    // Without digests (a saved analysis) checksum checks cannot hold, and say so.
    let e = evaluate(&b, &EvalInput::new(&inv, &[], now()));
    assert!(fired_by(&e, "eq").is_empty() && fired_by(&e, "changed").is_empty());
    assert_eq!(
        e.warnings.iter().filter(|w| w.contains("digests")).count(),
        5,
        "{:#?}",
        e.warnings
    );
}

fn real_image_with(b: &Bundle) -> Option<(Inventory, FileFacts)> {
    let dir = testimage("debian-py-node")?;
    let reference =
        crate::image::Reference::parse(&format!("oci-dir:{}", dir.join("oci").display())).unwrap();
    let needs = ContentNeeds::of(b);
    let mut request = crate::catalog::content_request();
    request.scanners.push(std::sync::Arc::new(
        crate::catalog::secrets::SecretScanner::new(&b.content_rules()),
    ));
    needs.extend(&mut request);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let image = rt
        .block_on(crate::image::load(
            &reference,
            &crate::image::LoadOptions::default(),
            &request,
        ))
        .unwrap();
    let mut inv = crate::catalog::run(&image, &crate::catalog::CatalogOptions::default());
    inv.secrets = crate::catalog::secrets::from_hits(&image.content_hits);
    let facts = needs.collect(&image, &mut inv);
    Some((inv, facts))
}

#[test]
fn real_image_retrieved_files_checksums_and_verify() {
    use sha2::Digest;
    let b = rules_bundle(
        r#"{"id": "env", "gate": "retrieved_files", "trigger": "content_regex", "action": "STOP", "params": [{"name": "path", "value": "/app/.env"}, {"name": "regex", "value": "AWS_DEFAULT_REGION=eu-"}, {"name": "check", "value": "match"}]},
           {"id": "env-no", "gate": "retrieved_files", "trigger": "content_regex", "action": "STOP", "params": [{"name": "path", "value": "/app/.env"}, {"name": "regex", "value": "NOPE="}, {"name": "check", "value": "match"}]},
           {"id": "server", "gate": "retrieved_files", "trigger": "content_not_available", "action": "WARN", "params": [{"name": "path", "value": "/app/server.js"}]},
           {"id": "gone", "gate": "retrieved_files", "trigger": "content_not_available", "action": "WARN", "params": [{"name": "path", "value": "/app/.npmrc"}]},
           {"id": "passwd-sum", "gate": "files", "trigger": "attribute_match", "action": "WARN", "params": [{"name": "filename", "value": "/etc/passwd"}, {"name": "checksum", "value": "0000"}, {"name": "checksum_match", "value": "not_equals"}]},
           {"id": "verify", "gate": "packages", "trigger": "verify", "action": "WARN", "params": [{"name": "only_directories", "value": "/usr/bin,/bin"}]}"#,
    );
    let Some((inv, facts)) = real_image_with(&b) else {
        return;
    };
    assert!(inv.retrieved_files.contains_key("/app/.env"));
    assert!(!inv.secrets.iter().any(|s| s.rule.starts_with("digest:")));
    assert!(
        inv.secrets
            .iter()
            .any(|s| s.path == "/app/.env" && s.rule == "AWS_ACCESS_KEY")
    );
    let passwd = inv.retrieved_files.get("/etc/passwd").unwrap();
    let want = hex::encode(sha2::Sha256::digest(passwd.as_bytes()));
    assert_eq!(facts.sha256.get("/etc/passwd"), Some(&want));
    assert!(
        facts.package_md5.contains_key("coreutils"),
        "no dpkg md5sums read"
    );
    assert!(facts.md5.contains_key("/usr/bin/ls") && !facts.md5.contains_key("/app/server.js"));
    let e = evaluate(
        &b,
        &EvalInput {
            tag: Some(TAG),
            files: Some(&facts),
            ..EvalInput::new(&inv, &[], now())
        },
    );
    assert_eq!(
        e.hits
            .iter()
            .find(|h| h.rule_id == "env")
            .map(|h| h.trigger_id.as_str()),
        Some("env+file:///app/.env")
    );
    assert!(fired_by(&e, "env-no").is_empty());
    assert!(fired_by(&e, "server").is_empty());
    assert_eq!(
        fired_by(&e, "gone"),
        ["Cannot locate file in the image analysis"]
    );
    assert_eq!(
        fired_by(&e, "passwd-sum"),
        [format!(
            "filename=/etc/passwd and checksum={want} op=not_equals specified_checksum=0000"
        )]
    );
    // An unmodified Debian image: every dpkg file under /usr/bin and /bin (merged /usr) is
    // present with dpkg's md5.
    assert!(
        fired_by(&e, "verify").is_empty(),
        "{:#?}",
        fired_by(&e, "verify")
    );
}
