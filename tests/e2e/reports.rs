//! Reports from real scans of the shared test images: every format is written in one run and
//! validated against its official schema (SARIF 2.1.0, GitLab container scanning 15.2.1, JUnit
//! via `xmllint`), exit codes follow the gate, and bad outputs (unwritable path, unknown
//! format, broken template) exit 2 while the other reports are still written.

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::print_stderr)]

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::support::{stderr, stderr_has, testimages, tollgate_cmd};

/// `../shared/schemas/<rel>` or `None` (skip outside CI, panic under `CI=true`).
pub(crate) fn shared_schema(rel: &str) -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/schemas")
        .join(rel);
    if p.exists() {
        return Some(p);
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "CI=true but {} is missing",
        p.display()
    );
    eprintln!("skipping schema check: {} not found", p.display());
    None
}

/// Validates `instance` against a shared JSON schema (SARIF's broken `language` pattern fixed).
pub(crate) fn validate(rel: &str, instance: &Value) {
    let Some(path) = shared_schema(rel) else {
        return;
    };
    let text = std::fs::read_to_string(path).unwrap().replace(
        r#"^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$"#,
        r#"^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}$"#,
    );
    let schema: Value = serde_json::from_str(&text).unwrap();
    let v = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = v
        .iter_errors(instance)
        .take(10)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{rel}: {}", errors.join("\n"));
}

/// Validates a JUnit file with `xmllint --schema junit-10.xsd`.
pub(crate) fn xmllint(file: &Path) {
    let Some(xsd) = shared_schema("junit/junit-10.xsd") else {
        return;
    };
    if !crate::support::have_tool("/usr/bin/xmllint") {
        return;
    }
    let out = std::process::Command::new("xmllint")
        .args(["--noout", "--schema"])
        .arg(&xsd)
        .arg(file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Validates a CycloneDX document against `cyclonedx/bom-<version>.schema.json`, with the side
/// schemas it references registered by URL.
pub(crate) fn validate_cyclonedx(version: &str, instance: &Value) {
    let Some(bom) = shared_schema(&format!("cyclonedx/bom-{version}.schema.json")) else {
        return;
    };
    let dir = bom.parent().unwrap().to_path_buf();
    let registry = jsonschema::Registry::new()
        .add(
            "http://cyclonedx.org/schema/spdx.schema.json",
            read_json(&dir.join("spdx.schema.json")),
        )
        .unwrap()
        .add(
            "http://cyclonedx.org/schema/jsf-0.82.schema.json",
            read_json(&dir.join("jsf-0.82.schema.json")),
        )
        .unwrap()
        .prepare()
        .unwrap();
    let validator = jsonschema::options()
        .with_registry(&registry)
        .build(&read_json(&bom))
        .unwrap();
    let errors: Vec<String> = validator
        .iter_errors(instance)
        .take(10)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "CycloneDX {version}: {}",
        errors.join("\n")
    );
}

pub(crate) fn read_json(p: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(p).unwrap())
        .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

#[test]
fn every_report_validates_for_the_shared_images() {
    for image in ["debian-py-node", "distroless-like", "fat"] {
        let Some(dir) = testimages(image) else {
            return;
        };
        let out = tempfile::tempdir().unwrap();
        let o = |f: &str| out.path().join(f).display().to_string();
        let src = format!("oci-dir:{}", dir.join("oci").display());
        let result = tollgate_cmd(&[
            "scan",
            &src,
            "-o",
            &format!("json={}", o("a.json")),
            "-o",
            &format!("sarif={}", o("a.sarif")),
            "-o",
            &format!("gitlab={}", o("gl.json")),
            "-o",
            &format!("junit={}", o("junit.xml")),
            "-o",
            &format!("markdown={}", o("summary.md")),
            "-o",
            &format!("table={}", o("table.txt")),
            "-o",
            &format!("cyclonedx-json@1.5={}", o("gl-sbom.cdx.json")),
            "-o",
            &format!("cyclonedx-json={}", o("sbom.cdx.json")),
            "--fail-on",
            "critical",
        ])
        .output()
        .unwrap();
        let code = result.status.code();
        assert!(
            matches!(code, Some(0 | 1)),
            "{image}: exit {code:?}\n{}",
            stderr(&result)
        );
        let analysis = read_json(&out.path().join("a.json"));
        validate(
            "sarif/sarif-schema-2.1.0.json",
            &read_json(&out.path().join("a.sarif")),
        );
        validate(
            "gitlab/container-scanning-report-format-15.2.1.json",
            &read_json(&out.path().join("gl.json")),
        );
        xmllint(&out.path().join("junit.xml"));
        let cdx15 = read_json(&out.path().join("gl-sbom.cdx.json"));
        assert_eq!(cdx15["specVersion"], "1.5");
        validate_cyclonedx("1.5", &cdx15);
        let cdx16 = read_json(&out.path().join("sbom.cdx.json"));
        assert_eq!(cdx16["specVersion"], "1.6");
        validate_cyclonedx("1.6", &cdx16);
        assert_eq!(cdx15["components"], cdx16["components"], "{image}");
        let md = std::fs::read_to_string(out.path().join("summary.md")).unwrap();
        assert!(md.chars().count() <= 65_536);
        // The exit code and every report agree on the decision.
        let failed = code == Some(1);
        assert_eq!(md.contains("❌ failed"), failed, "{image}");
        let junit = std::fs::read_to_string(out.path().join("junit.xml")).unwrap();
        assert_eq!(junit.contains("type=\"GATE\""), failed, "{image}");
        assert!(junit.contains("<testcase"), "never an empty JUnit report");
        let n_matches = analysis["matches"].as_array().map_or(0, |m| {
            m.iter().filter(|m| m.get("suppressed").is_none()).count()
        });
        let gl = read_json(&out.path().join("gl.json"));
        assert_eq!(gl["vulnerabilities"].as_array().unwrap().len(), n_matches);
    }
}

#[test]
fn bad_outputs_exit_2_and_the_rest_is_written() {
    let Some(dir) = testimages("debian-py-node") else {
        return;
    };
    let out = tempfile::tempdir().unwrap();
    let blocker = out.path().join("not-a-dir");
    std::fs::write(&blocker, "x").unwrap();
    let tpl = out.path().join("bad.j2");
    std::fs::write(&tpl, "{% for x in %}").unwrap();
    let src = format!("oci-dir:{}", dir.join("oci").display());
    let good = out.path().join("good.sarif");
    let r = tollgate_cmd(&[
        "scan",
        &src,
        "-o",
        &format!("json={}/x.json", blocker.display()),
        "-o",
        &format!("template:{}={}/t.txt", tpl.display(), out.path().display()),
        "-o",
        &format!("sarif={}", good.display()),
    ])
    .output()
    .unwrap();
    assert_eq!(r.status.code(), Some(2), "{}", stderr(&r));
    assert!(
        stderr_has(&r, "cannot write the json report"),
        "{}",
        stderr(&r)
    );
    assert!(stderr_has(&r, "bad.j2"), "{}", stderr(&r));
    validate("sarif/sarif-schema-2.1.0.json", &read_json(&good));

    let r = tollgate_cmd(&["scan", &src, "-o", "xml=out.xml"])
        .output()
        .unwrap();
    assert_eq!(r.status.code(), Some(2));
    assert!(
        stderr_has(&r, "unknown output format `xml`"),
        "{}",
        stderr(&r)
    );
}
