//! `tollgate scan` end to end: the README's quickstart on the shipped example image (offline,
//! example DB built on first use, embedded default policy), reports written before the exit
//! code, exit codes 0/1/2, suppression, secrets never printed, and the shared test images.

use std::path::Path;
use std::process::Output;

use crate::support::{stderr, stdout, testimages, tollgate_cmd};

const EXAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/app-image.tar");
/// The fake AWS secret planted in the example image; it must never be printed.
const PLANTED_SECRET: &str = "Tg7vFakeK3yTollgateExample0NotReal0Xy9Zq";

/// Runs `tollgate` with cache, data and working directory inside `home`.
fn scan_in(home: &Path, args: &[&str]) -> Output {
    let mut cmd = tollgate_cmd(args);
    cmd.env("XDG_CACHE_HOME", home.join("cache"))
        .env("XDG_DATA_HOME", home.join("data"))
        .env_remove("TOLLGATE_DB")
        .env_remove("TOLLGATE_POLICY")
        .current_dir(home);
    cmd.output().expect("run tollgate")
}

fn never_prints_secret(o: &Output) {
    assert!(
        !stdout(o).contains(PLANTED_SECRET),
        "secret printed on stdout"
    );
    assert!(
        !stderr(o).contains(PLANTED_SECRET),
        "secret printed on stderr"
    );
}

#[test]
fn quickstart_scan_finds_real_vulnerabilities_offline_and_fails_the_gate() {
    let home = tempfile::tempdir().unwrap();
    let o = scan_in(home.path(), &["scan", EXAMPLE]);
    let out = stdout(&o);
    assert_eq!(
        o.status.code(),
        Some(1),
        "stdout:\n{out}\nstderr:\n{}",
        stderr(&o)
    );
    for id in [
        "CVE-2021-23337",
        "CVE-2020-14343",
        "CVE-2021-44906",
        "CVE-2018-18074",
    ] {
        assert!(out.contains(id), "{id} missing from:\n{out}");
    }
    assert!(out.contains("STOP"), "{out}");
    never_prints_secret(&o);
    // The example DB was built in the cache on first use.
    assert!(
        home.path()
            .join("cache/tollgate/example-vulndb.sqlite")
            .is_file()
    );
}

#[test]
fn reports_are_written_before_a_failing_exit_and_carry_the_analysis() {
    let home = tempfile::tempdir().unwrap();
    let json = home.path().join("out/analysis.json");
    let sarif = home.path().join("out/report.sarif");
    std::fs::create_dir_all(json.parent().unwrap()).unwrap();
    let o = scan_in(
        home.path(),
        &[
            "scan",
            EXAMPLE,
            "-o",
            &format!("json={}", json.display()),
            "-o",
            &format!("sarif={}", sarif.display()),
        ],
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stdout(&o).is_empty(),
        "nothing on stdout when every report goes to a file"
    );
    let analysis: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    assert_eq!(analysis["evaluation"]["final_action"], "STOP");
    let ids: Vec<&str> = analysis["matches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["vulnerability"]["id"].as_str().unwrap())
        .collect();
    assert!(ids.contains(&"CVE-2021-23337"), "{ids:?}");
    let secrets = analysis["inventory"]["secrets"].as_array().unwrap();
    assert!(
        secrets
            .iter()
            .any(|s| s["rule"] == "AWS_SECRET_KEY" && s["path"] == "/app/.env")
    );
    let sarif_doc: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&sarif).unwrap()).unwrap();
    assert_eq!(sarif_doc["version"], "2.1.0");
    for f in [&json, &sarif] {
        let text = std::fs::read_to_string(f).unwrap();
        assert!(
            !text.contains(PLANTED_SECRET),
            "secret written to {}",
            f.display()
        );
    }
    never_prints_secret(&o);
}

#[test]
fn exit_codes_follow_fail_on_and_ignore_rules() {
    let home = tempfile::tempdir().unwrap();
    let base = ["scan", EXAMPLE, "--no-policy", "-o", "json"];
    // No policy, no --fail-on: nothing can fail the gate.
    let o = scan_in(home.path(), &base);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    // Two criticals (PyYAML, minimist) fail --fail-on critical.
    let mut args = base.to_vec();
    args.extend(["--fail-on", "critical"]);
    let o = scan_in(home.path(), &args);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("CVE-2020-14343") || stderr(&o).contains("critical"));
    // Ignoring both criticals in .tollgate.yaml makes it pass, and an unused rule is reported.
    std::fs::write(
        home.path().join(".tollgate.yaml"),
        "ignore:\n  - vulnerability: CVE-2020-14343\n    reason: not reachable\n  \
         - vulnerability: CVE-2021-44906\n    reason: dev only\n  \
         - vulnerability: CVE-1999-0001\n    reason: stale rule\n",
    )
    .unwrap();
    let o = scan_in(home.path(), &args);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("CVE-1999-0001"),
        "unused rule not reported: {}",
        stderr(&o)
    );
}

#[test]
fn errors_exit_2_with_a_clear_message() {
    let home = tempfile::tempdir().unwrap();
    let o = scan_in(
        home.path(),
        &["scan", "docker-archive:/nonexistent/image.tar"],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("/nonexistent/image.tar"),
        "{}",
        stderr(&o)
    );

    let bad = home.path().join("bad-policy.json");
    std::fs::write(
        &bad,
        "{\"id\": \"x\", \"version\": \"1_0\", \"policies\": [",
    )
    .unwrap();
    let o = scan_in(
        home.path(),
        &["scan", EXAMPLE, "--policy", bad.to_str().unwrap()],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("bad-policy.json"), "{}", stderr(&o));

    let o = scan_in(home.path(), &["scan", EXAMPLE, "-o", "no-such-format"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("no-such-format"), "{}", stderr(&o));
}

#[test]
fn scans_the_shared_debian_image_from_oci_dir_and_docker_archive() {
    let Some(dir) = testimages("debian-py-node") else {
        return;
    };
    let home = tempfile::tempdir().unwrap();
    let mut results = Vec::new();
    for source in [
        format!("oci-dir:{}", dir.join("oci").display()),
        format!(
            "docker-archive:{}",
            dir.join("docker-archive.tar").display()
        ),
    ] {
        let o = scan_in(
            home.path(),
            &[
                "scan",
                &source,
                "--tag",
                "localhost/debian-py-node:latest",
                "-o",
                "json",
            ],
        );
        assert_eq!(o.status.code(), Some(1), "{source}: {}", stderr(&o));
        let a: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
        let secrets: Vec<String> = a["inventory"]["secrets"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["path"].as_str().unwrap().to_string())
            .collect();
        assert!(
            secrets.iter().any(|p| p == "/app/.env"),
            "{source}: {secrets:?}"
        );
        // /app/.npmrc was deleted by a later layer: its token must not be reported.
        assert!(
            !secrets.iter().any(|p| p == "/app/.npmrc"),
            "{source}: {secrets:?}"
        );
        let names: Vec<(String, String)> = a["inventory"]["packages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                (
                    p["name"].as_str().unwrap().into(),
                    p["version"].as_str().unwrap().into(),
                )
            })
            .collect();
        assert!(
            !names.iter().any(|(n, _)| n == "PyJWT"),
            "{source}: PyJWT was uninstalled"
        );
        assert!(
            names.contains(&("moment".into(), "2.29.4".into())),
            "{source}"
        );
        assert!(
            !names.contains(&("moment".into(), "2.29.1".into())),
            "{source}"
        );
        results.push(names.len());
    }
    assert_eq!(
        results[0], results[1],
        "both sources give the same package count"
    );
}

/// Files a bundle's `retrieved_files` rules name are evaluated on their real contents, but the
/// analysis JSON keeps them with secret lines and `/etc/shadow` hashes masked; `/etc/shadow` is
/// not retrieved at all unless a rule asks for it.
#[test]
fn retrieved_files_are_evaluated_then_masked_in_the_analysis() {
    let home = tempfile::tempdir().unwrap();
    let json = home.path().join("analysis.json");
    let plain = home.path().join("plain.json");
    let bundle = home.path().join("bundle.json");
    std::fs::write(
        &bundle,
        r#"{"id": "b", "version": "1_0", "name": "retrieved",
            "policies": [{"id": "p", "version": "1_0", "name": "p", "rules": [
              {"id": "env", "gate": "retrieved_files", "trigger": "content_regex", "action": "STOP",
               "params": [{"name": "path", "value": "/app/.env"},
                          {"name": "regex", "value": "AWS_SECRET_ACCESS_KEY=Tg7v"},
                          {"name": "check", "value": "match"}]},
              {"id": "shadow", "gate": "retrieved_files", "trigger": "content_not_available", "action": "WARN",
               "params": [{"name": "path", "value": "/etc/shadow"}]}]}],
            "whitelists": [],
            "mappings": [{"name": "all", "registry": "*", "repository": "*",
                          "image": {"type": "tag", "value": "*"},
                          "policy_ids": ["p"], "whitelist_ids": []}]}"#,
    )
    .unwrap();
    let o = scan_in(
        home.path(),
        &[
            "scan",
            EXAMPLE,
            "--policy",
            bundle.to_str().unwrap(),
            "-o",
            &format!("json={}", json.display()),
        ],
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let text = std::fs::read_to_string(&json).unwrap();
    assert!(
        !text.contains(PLANTED_SECRET),
        "secret written to the analysis"
    );
    let a: serde_json::Value = serde_json::from_str(&text).unwrap();
    let fired: Vec<&str> = a["evaluation"]["results"]
        .as_array()
        .into_iter()
        .flatten()
        .chain(a["evaluation"]["hits"].as_array().into_iter().flatten())
        .filter_map(|h| h["rule_id"].as_str())
        .collect();
    assert!(
        fired.contains(&"env"),
        "the rule saw the real content: {fired:?}"
    );
    assert!(
        !fired.contains(&"shadow"),
        "/etc/shadow was retrieved: {fired:?}"
    );
    let env = a["inventory"]["retrieved_files"]["/app/.env"]
        .as_str()
        .unwrap();
    assert!(env.contains("[redacted: AWS_SECRET_KEY "), "{env}");
    assert!(env.contains("DATABASE_URL=postgres://app@db/app"), "{env}");

    let o = scan_in(
        home.path(),
        &["scan", EXAMPLE, "-o", &format!("json={}", plain.display())],
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let a: serde_json::Value = serde_json::from_slice(&std::fs::read(&plain).unwrap()).unwrap();
    let kept = a["inventory"]["retrieved_files"].as_object().unwrap();
    assert!(kept.contains_key("/etc/passwd"), "{kept:?}");
    assert!(!kept.contains_key("/etc/shadow"), "{kept:?}");
    never_prints_secret(&o);
}
