//! Adapter tests over the hand-written analyses in `engine/tests/fixtures/analysis/`: each
//! format renders every fixture, JSON formats validate against the official schemas in
//! `../shared/schemas` (skipped with a reason outside CI when absent, failing under `CI=true`),
//! JUnit validates with `xmllint` against `junit-10.xsd`, and format-specific facts are asserted.

use std::path::{Path, PathBuf};

use serde_json::Value;

use super::*;

pub(crate) const FIXTURES: &[&str] = &["debian-app", "clean", "no-policy"];

pub(crate) fn fixture(name: &str) -> Analysis {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/analysis")
        .join(format!("{name}.json"));
    let text = std::fs::read_to_string(&path).unwrap();
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// `../shared/schemas/<rel>`, or `None` (with a printed reason) when absent outside CI.
pub(crate) fn shared_schema(rel: &str) -> Option<PathBuf> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/schemas")
        .join(rel);
    if path.exists() {
        return Some(path);
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "CI=true but {} is missing",
        path.display()
    );
    #[allow(clippy::print_stderr)]
    {
        eprintln!("skipping: {} not found", path.display());
    }
    None
}

/// Validates `instance` against the JSON schema at `schema_rel`; panics listing the errors.
pub(crate) fn validate(schema_rel: &str, instance: &Value) {
    let Some(path) = shared_schema(schema_rel) else {
        return;
    };
    let mut text = std::fs::read_to_string(&path).unwrap();
    if schema_rel.contains("sarif") {
        // The official SARIF schema's `language` pattern has a stray `]` that the regex engine
        // rejects; the fix does not change what any valid document looks like.
        text = text.replace(
            r#"^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$"#,
            r#"^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}$"#,
        );
    }
    let schema: Value = serde_json::from_str(&text).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(instance)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .take(20)
        .collect();
    assert!(errors.is_empty(), "{schema_rel}:\n{}", errors.join("\n"));
}

fn render(format: &str, a: &Analysis, opts: &ReportOptions) -> String {
    let spec = OutputSpec::parse(format).unwrap();
    String::from_utf8(spec.render(a, opts, false).unwrap()).unwrap()
}

fn opts() -> ReportOptions {
    ReportOptions {
        fail_on: Some(Severity::High),
        ..Default::default()
    }
}

#[test]
fn fixtures_load_and_json_round_trips() {
    for name in FIXTURES {
        let a = fixture(name);
        let out = render("json", &a, &opts());
        let back: Analysis = serde_json::from_str(&out).unwrap();
        assert_eq!(back, a, "{name}");
        assert_eq!(render("json", &a, &opts()), out, "json is deterministic");
    }
}

#[test]
fn table_groups_and_decides() {
    let a = fixture("debian-app");
    let out = render("table", &a, &opts());
    assert!(out.contains("registry.example.com/acme/web-app:1.4.2"));
    assert!(out.contains("CVE-2024-5535"));
    // Suppressed ones are hidden unless asked for.
    assert!(!out.contains("CVE-2023-45853"), "{out}");
    assert!(out.contains("2 suppressed"));
    assert!(out.contains("Decision: FAIL"));
    assert!(out.contains("final action is STOP"));
    assert!(!out.contains('\u{1b}'), "no colour in files");
    let shown = render(
        "table",
        &a,
        &ReportOptions {
            show_suppressed: true,
            ..opts()
        },
    );
    assert!(shown.contains("CVE-2023-45853"));
    assert!(shown.contains("suppressed by vex"));
    // Packages are grouped: libc6 appears once in the package column for its two CVEs.
    let libc_rows = shown
        .lines()
        .filter(|l| l.trim_start().starts_with("libc6"))
        .count();
    assert_eq!(libc_rows, 1, "{shown}");
    let colored = OutputSpec::parse("table")
        .unwrap()
        .render(&a, &opts(), true)
        .unwrap();
    assert!(String::from_utf8(colored).unwrap().contains('\u{1b}'));
    let clean = render("table", &fixture("clean"), &opts());
    assert!(clean.contains("Decision: PASS"), "{clean}");
}

fn sarif_json(a: &Analysis, o: &ReportOptions) -> Value {
    serde_json::from_str(&render("sarif", a, o)).unwrap()
}

#[test]
fn sarif_validates_for_every_fixture() {
    for name in FIXTURES {
        for show_suppressed in [false, true] {
            let o = ReportOptions {
                show_suppressed,
                ..opts()
            };
            let v = sarif_json(&fixture(name), &o);
            validate("sarif/sarif-schema-2.1.0.json", &v);
        }
    }
}

#[test]
fn sarif_has_what_github_reads() {
    let a = fixture("debian-app");
    let v = sarif_json(&a, &opts());
    let run = &v["runs"][0];
    assert_eq!(v["version"], "2.1.0");
    assert_eq!(
        run["automationDetails"]["id"],
        "tollgate/acme/web-app/linux-amd64/"
    );
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    let results = run["results"].as_array().unwrap();
    // 9 matches - 2 suppressed + 3 non-allowlisted policy hits.
    assert_eq!(results.len(), 7 + 3);
    let curl_rule = rules.iter().find(|r| r["id"] == "CVE-2023-38545").unwrap();
    assert_eq!(curl_rule["properties"]["security-severity"], "9.8");
    assert!(
        curl_rule["properties"]["tags"]
            .as_array()
            .unwrap()
            .contains(&Value::from("kev"))
    );
    assert_eq!(curl_rule["properties"]["precision"], "very-high");
    assert!(
        curl_rule["help"]["markdown"]
            .as_str()
            .unwrap()
            .contains("| curl |")
    );
    let unknown_score = rules.iter().find(|r| r["id"] == "CVE-2025-0395").unwrap();
    assert_eq!(unknown_score["properties"]["security-severity"], "2.0");
    let policy = rules
        .iter()
        .find(|r| r["id"] == "policy/default-policy/rule-vuln-critical")
        .unwrap();
    assert_eq!(policy["defaultConfiguration"]["level"], "error");
    for r in results {
        assert!(
            r["partialFingerprints"]["primaryLocationLineHash"]
                .as_str()
                .unwrap()
                .ends_with(":1")
        );
        assert_eq!(
            r["properties"]["image"],
            "registry.example.com/acme/web-app:1.4.2"
        );
        let idx = r["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[idx]["id"], r["ruleId"]);
        let uri = r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            .as_str()
            .unwrap();
        assert!(uri.starts_with("acme/web-app"), "{uri}");
        assert!(!uri.contains(':') && !uri.contains("//"), "{uri}");
    }
    // Fingerprints are stable and do not depend on the tag.
    let mut b = a.clone();
    b.inventory.source.reference = Some("registry.example.com/acme/web-app:1.4.3".into());
    let v2 = sarif_json(&b, &opts());
    let fp = |v: &Value| -> Vec<Value> {
        v["runs"][0]["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["partialFingerprints"].clone())
            .collect()
    };
    assert_eq!(fp(&v), fp(&v2));
    // Suppressed results appear, marked, with --show-suppressed.
    let shown = sarif_json(
        &a,
        &ReportOptions {
            show_suppressed: true,
            ..opts()
        },
    );
    let sup = shown["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r.get("suppressions").is_some())
        .count();
    assert_eq!(sup, 3);
}

#[test]
fn sarif_points_at_dockerfile_lines() {
    let dir = tempfile::tempdir().unwrap();
    let df = dir.path().join("Dockerfile");
    std::fs::write(
        &df,
        "FROM debian:12\n\
         RUN apt-get update && apt-get install -y --no-install-recommends curl openssl && rm -rf /var/lib/apt/lists/*\n\
         COPY requirements.txt /app/\n\
         RUN pip install --no-cache-dir \\\n  -r requirements.txt\n\
         RUN cd /app/web && npm ci --omit=dev\n\
         USER app\n",
    )
    .unwrap();
    let o = ReportOptions {
        dockerfile: Some(df.clone()),
        ..opts()
    };
    let v = sarif_json(&fixture("debian-app"), &o);
    validate("sarif/sarif-schema-2.1.0.json", &v);
    let line_of = |rule: &str| -> (i64, i64) {
        let r = v["runs"][0]["results"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["ruleId"] == rule)
            .unwrap();
        let loc = &r["locations"][0]["physicalLocation"];
        assert!(
            loc["artifactLocation"]["uri"]
                .as_str()
                .unwrap()
                .ends_with("Dockerfile")
        );
        (
            loc["region"]["startLine"].as_i64().unwrap(),
            loc["region"]["endLine"].as_i64().unwrap(),
        )
    };
    assert_eq!(
        line_of("CVE-2024-5535"),
        (2, 2),
        "libssl3 from the apt layer"
    );
    assert_eq!(
        line_of("CVE-2025-0395"),
        (1, 1),
        "libc6 from the base image"
    );
    assert_eq!(line_of("GHSA-9wx4-h78v-vm56"), (4, 5), "pip layer");
    assert_eq!(line_of("CVE-2021-23337"), (6, 6), "npm layer");
    // A missing Dockerfile is an error naming it, not a silent fallback.
    let bad = ReportOptions {
        dockerfile: Some(dir.path().join("nope")),
        ..opts()
    };
    let err = OutputSpec::parse("sarif")
        .unwrap()
        .render(&fixture("debian-app"), &bad, false)
        .unwrap_err();
    assert!(matches!(err, ReportError::Dockerfile { .. }));
}

fn synthetic(n: usize) -> Analysis {
    let mut a = fixture("no-policy");
    let template = a.matches[0].clone();
    a.matches = (0..n)
        .map(|i| {
            let mut m = template.clone();
            m.vulnerability.id = format!("CVE-2099-{i:05}");
            m.vulnerability.severity = Severity::ALL[i % 6];
            m.vulnerability.cvss.clear();
            m.vulnerability.description = "x".repeat(2000);
            m
        })
        .collect();
    a
}

#[test]
fn sarif_truncates_to_limits_with_a_note() {
    let a = synthetic(60);
    let limits = SarifLimits {
        max_results: 50,
        max_rules: 40,
        ..GITHUB_LIMITS
    };
    let v = sarif::build(&a, &opts(), &limits).unwrap();
    validate("sarif/sarif-schema-2.1.0.json", &v);
    let run = &v["runs"][0];
    let results = run["results"].as_array().unwrap();
    assert_eq!(results.len(), 40);
    assert_eq!(run["tool"]["driver"]["rules"].as_array().unwrap().len(), 40);
    // The most severe survive.
    assert!(
        results
            .iter()
            .all(|r| r["properties"]["severity"] != "unknown")
    );
    let notes = run["invocations"][0]["toolExecutionNotifications"]
        .as_array()
        .unwrap();
    assert!(
        notes
            .iter()
            .any(|n| n["message"]["text"].as_str().unwrap().contains("truncated"))
    );
    assert_eq!(run["properties"]["tollgate-truncated"]["results-total"], 60);
    for r in run["tool"]["driver"]["rules"].as_array().unwrap() {
        assert!(
            r["fullDescription"]["text"]
                .as_str()
                .unwrap()
                .chars()
                .count()
                <= 1024
        );
    }
    // Size limit: a tiny budget keeps halving until it fits.
    let small = SarifLimits {
        max_gzip_bytes: 6_000,
        ..GITHUB_LIMITS
    };
    let v = sarif::build(&a, &opts(), &small).unwrap();
    let bytes = serde_json::to_vec_pretty(&v).unwrap();
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut enc, &bytes).unwrap();
    assert!(enc.finish().unwrap().len() <= 6_000);
    assert!(v["runs"][0]["results"].as_array().unwrap().len() < 60);
}

#[test]
fn sarif_github_default_limit_is_enforced_on_a_large_analysis() {
    // Only the fields checked here are parsed back (a full `Value` of 25,000 results and rules
    // would cost more than rendering them in a debug build).
    #[derive(serde::Deserialize)]
    struct Log {
        runs: Vec<Run>,
    }
    #[derive(serde::Deserialize)]
    struct Run {
        tool: Tool,
        results: Vec<LogResult>,
        properties: Value,
    }
    #[derive(serde::Deserialize)]
    struct Tool {
        driver: Driver,
    }
    #[derive(serde::Deserialize)]
    struct Driver {
        rules: Vec<Rule>,
    }
    #[derive(serde::Deserialize)]
    struct Rule {
        id: String,
    }
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct LogResult {
        rule_id: String,
        rule_index: usize,
        level: String,
    }
    let mut a = synthetic(25_010);
    for m in &mut a.matches {
        m.vulnerability.description.clear();
    }
    let bytes = sarif::render(&a, &opts(), &GITHUB_LIMITS).unwrap();
    let log: Log = serde_json::from_slice(&bytes).unwrap();
    let run = &log.runs[0];
    assert_eq!(run.results.len(), 25_000);
    assert_eq!(
        run.tool.driver.rules.len(),
        25_000,
        "only referenced rules are kept"
    );
    // Results are ordered most severe first, and every index points at its rule.
    assert_eq!(run.results[0].level, "error");
    assert_eq!(run.results[24_999].level, "note");
    for r in &run.results {
        assert_eq!(run.tool.driver.rules[r.rule_index].id, r.rule_id);
    }
    assert_eq!(
        run.properties["tollgate-truncated"]["results-total"],
        25_010
    );
    assert_eq!(run.properties["tollgate-truncated"]["results-kept"], 25_000);
    // Above GitHub's display limit the log is compact.
    assert!(!bytes.starts_with(b"{\n"));
}

#[test]
fn gitlab_validates_and_has_what_the_widget_needs() {
    for name in FIXTURES {
        let v: Value = serde_json::from_str(&render("gitlab", &fixture(name), &opts())).unwrap();
        validate("gitlab/container-scanning-report-format-15.2.1.json", &v);
    }
    let v: Value =
        serde_json::from_str(&render("gitlab", &fixture("debian-app"), &opts())).unwrap();
    assert_eq!(v["version"], "15.2.1");
    assert_eq!(v["scan"]["start_time"], "2024-11-21T08:30:15");
    let vulns = v["vulnerabilities"].as_array().unwrap();
    assert_eq!(vulns.len(), 7, "suppressed matches are left out");
    let jinja = vulns
        .iter()
        .find(|x| x["identifiers"][0]["value"] == "CVE-2024-22195")
        .unwrap();
    assert_eq!(jinja["severity"], "Medium");
    assert_eq!(jinja["identifiers"][1]["type"], "ghsa");
    assert_eq!(
        jinja["cvss_vectors"].as_array().unwrap().len(),
        1,
        "the CVSS 4.0 vector is not accepted by 15.2.1"
    );
    assert_eq!(jinja["location"]["operating_system"], "debian 12");
    assert_eq!(jinja["location"]["dependency"]["package"]["name"], "jinja2");
    assert_eq!(jinja["solution"], "Upgrade jinja2 to 3.1.3 or later.");
    let glibc = vulns
        .iter()
        .find(|x| x["identifiers"][0]["value"] == "CVE-2010-4756")
        .unwrap();
    assert_eq!(glibc["severity"], "Info");
    // Ids are stable between renders.
    let again: Value =
        serde_json::from_str(&render("gitlab", &fixture("debian-app"), &opts())).unwrap();
    assert_eq!(again["vulnerabilities"], v["vulnerabilities"]);
}

#[test]
fn gitlab_remediations_patch_the_dockerfile() {
    use base64::Engine as _;
    let dir = tempfile::tempdir().unwrap();
    let text = "FROM debian:12\n\
         RUN apt-get update && apt-get install -y --no-install-recommends curl openssl && rm -rf /var/lib/apt/lists/*\n\
         COPY requirements.txt /app/\n\
         RUN pip install --no-cache-dir \\\n  -r requirements.txt\n\
         RUN cd /app/web && npm ci --omit=dev\n\
         USER app\n";
    // A repository-relative path, as CI passes it (the cwd of the test is engine/).
    let here = tempfile::tempdir_in(env!("CARGO_MANIFEST_DIR")).unwrap();
    let rel = format!(
        "{}/Dockerfile",
        here.path().file_name().unwrap().to_string_lossy()
    );
    std::fs::write(here.path().join("Dockerfile"), text).unwrap();
    let o = ReportOptions {
        dockerfile: Some(PathBuf::from(&rel)),
        ..opts()
    };
    assert_eq!(
        std::env::current_dir().unwrap(),
        Path::new(env!("CARGO_MANIFEST_DIR"))
    );
    let v: Value = serde_json::from_str(&render("gitlab", &fixture("debian-app"), &o)).unwrap();
    drop(here);
    validate("gitlab/container-scanning-report-format-15.2.1.json", &v);
    let vulns = v["vulnerabilities"].as_array().unwrap();
    let rems = v["remediations"].as_array().unwrap();
    assert!(!rems.is_empty());
    let mut fixed_packages = Vec::new();
    for r in rems {
        let diff = String::from_utf8(
            base64::engine::general_purpose::STANDARD
                .decode(r["diff"].as_str().unwrap())
                .unwrap(),
        )
        .unwrap();
        assert!(
            diff.starts_with(&format!("diff --git a/{rel} b/{rel}\n")),
            "{diff}"
        );
        // Every fix points at a vulnerability of the report, of an OS package with a fix.
        for f in r["fixes"].as_array().unwrap() {
            let vuln = vulns.iter().find(|x| x["id"] == f["id"]).unwrap();
            let pkg = vuln["location"]["dependency"]["package"]["name"]
                .as_str()
                .unwrap();
            assert!(r["summary"].as_str().unwrap().contains(pkg));
            fixed_packages.push(pkg.to_string());
        }
        // The patch applies to the Dockerfile as committed.
        let work = dir.path().join(fixed_packages.last().unwrap());
        std::fs::create_dir_all(work.join(Path::new(&rel).parent().unwrap())).unwrap();
        std::fs::write(work.join(&rel), text).unwrap();
        std::fs::write(work.join("fix.patch"), &diff).unwrap();
        let status = std::process::Command::new("git")
            .current_dir(&work)
            .args(["apply", "fix.patch"])
            .status();
        if let Ok(status) = status {
            assert!(status.success(), "{diff}");
            let patched = std::fs::read_to_string(work.join(&rel)).unwrap();
            assert_eq!(patched.lines().count(), text.lines().count() + 1);
        }
    }
    // libssl3 came in with the apt layer: its upgrade goes right after that RUN (line 2).
    let ssl = rems
        .iter()
        .find(|r| {
            r["summary"]
                .as_str()
                .unwrap()
                .starts_with("Upgrade libssl3 ")
        })
        .unwrap();
    let diff = String::from_utf8(
        base64::engine::general_purpose::STANDARD
            .decode(ssl["diff"].as_str().unwrap())
            .unwrap(),
    )
    .unwrap();
    assert!(diff.contains("@@ -1,5 +1,6 @@"), "{diff}");
    assert!(diff.contains("+RUN apt-get update && apt-get install -y --no-install-recommends --only-upgrade libssl3 &&"));
    // Language packages get no Dockerfile patch (their fix stays in `solution`).
    assert!(
        !fixed_packages
            .iter()
            .any(|p| p == "jinja2" || p == "lodash")
    );
    // Without --dockerfile there is nothing to patch.
    let plain: Value =
        serde_json::from_str(&render("gitlab", &fixture("debian-app"), &opts())).unwrap();
    assert_eq!(plain["remediations"], serde_json::json!([]));
    // An unreadable Dockerfile is an error naming it.
    let bad = ReportOptions {
        dockerfile: Some(dir.path().join("nope")),
        ..opts()
    };
    let err = OutputSpec::parse("gitlab")
        .unwrap()
        .render(&fixture("debian-app"), &bad, false)
        .unwrap_err();
    assert!(matches!(err, ReportError::Dockerfile { .. }));
}

/// Validates a CycloneDX document against `cyclonedx/bom-<version>.schema.json`, with the side
/// schemas it references registered by URL.
pub(crate) fn validate_cyclonedx(version: &str, instance: &Value) {
    let Some(bom) = shared_schema(&format!("cyclonedx/bom-{version}.schema.json")) else {
        return;
    };
    let dir = bom.parent().unwrap().to_path_buf();
    let read = |p: PathBuf| -> Value {
        serde_json::from_str(&std::fs::read_to_string(&p).unwrap())
            .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
    };
    let registry = jsonschema::Registry::new()
        .add(
            "http://cyclonedx.org/schema/spdx.schema.json",
            read(dir.join("spdx.schema.json")),
        )
        .unwrap()
        .add(
            "http://cyclonedx.org/schema/jsf-0.82.schema.json",
            read(dir.join("jsf-0.82.schema.json")),
        )
        .unwrap()
        .prepare()
        .unwrap();
    let validator = jsonschema::options()
        .with_registry(&registry)
        .build(&read(bom))
        .unwrap();
    let errors: Vec<String> = validator
        .iter_errors(instance)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .take(20)
        .collect();
    assert!(
        errors.is_empty(),
        "CycloneDX {version}:\n{}",
        errors.join("\n")
    );
}

#[test]
fn cyclonedx_writes_1_6_by_default_and_1_5_on_request() {
    for name in FIXTURES {
        let a = fixture(name);
        let default: Value = serde_json::from_str(&render("cyclonedx-json", &a, &opts())).unwrap();
        assert_eq!(default["specVersion"], "1.6");
        validate_cyclonedx("1.6", &default);
        let explicit: Value =
            serde_json::from_str(&render("cyclonedx-json@1.6", &a, &opts())).unwrap();
        assert_eq!(explicit, default);
        let gitlab: Value =
            serde_json::from_str(&render("cyclonedx-json@1.5", &a, &opts())).unwrap();
        assert_eq!(gitlab["specVersion"], "1.5");
        assert_eq!(
            gitlab["$schema"],
            "http://cyclonedx.org/schema/bom-1.5.schema.json"
        );
        validate_cyclonedx("1.5", &gitlab);
        assert_eq!(gitlab["components"], default["components"]);
        assert_eq!(gitlab["vulnerabilities"], default["vulnerabilities"]);
    }
    let s = OutputSpec::parse("cdx-json@1.5=gl-sbom.cdx.json").unwrap();
    assert_eq!((s.format(), s.version()), ("cyclonedx-json", Some("1.5")));
    for bad in [
        "cyclonedx-json@1.4",
        "cyclonedx-json@",
        "sarif@2.1.0",
        "json@1",
    ] {
        match OutputSpec::parse(bad) {
            Err(ReportError::BadSpec { reason, .. }) => {
                assert!(reason.contains("version"), "{bad}: {reason}");
            }
            other => panic!("{bad}: {other:?}"),
        }
    }
}

/// Validates JUnit XML with `xmllint --schema`; skips (or fails in CI) when xmllint is absent.
pub(crate) fn xmllint(xml: &str) {
    let Some(xsd) = shared_schema("junit/junit-10.xsd") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("junit.xml");
    std::fs::write(&file, xml).unwrap();
    let out = match std::process::Command::new("xmllint")
        .arg("--noout")
        .arg("--schema")
        .arg(&xsd)
        .arg(&file)
        .output()
    {
        Ok(o) => o,
        Err(e) => {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "CI=true but xmllint cannot run: {e}"
            );
            #[allow(clippy::print_stderr)]
            {
                eprintln!("skipping: xmllint not available ({e})");
            }
            return;
        }
    };
    assert!(
        out.status.success(),
        "xmllint rejected the JUnit report:\n{}\n{xml}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn junit_validates_and_maps_actions() {
    for name in FIXTURES {
        for fail_on_warn in [false, true] {
            let o = ReportOptions {
                fail_on_warn,
                ..opts()
            };
            xmllint(&render("junit", &fixture(name), &o));
        }
        xmllint(&render("junit", &fixture(name), &ReportOptions::default()));
    }
    let xml = render("junit", &fixture("debian-app"), &opts());
    let failures = |xml: &str, ty: &str| xml.matches(&format!("type=\"{ty}\"")).count();
    assert_eq!(failures(&xml, "STOP"), 1, "{xml}");
    assert_eq!(failures(&xml, "WARN"), 0);
    assert_eq!(failures(&xml, "GATE"), 1);
    // critical libssl3 + high lodash + high curl (KEV) are at or above high.
    assert_eq!(failures(&xml, "critical") + failures(&xml, "high"), 3);
    assert!(xml.contains(
        "testsuite name=\"registry.example.com/acme/web-app:1.4.2 policy default-policy\""
    ));
    assert!(
        xml.contains("base-policy"),
        "policies without hits still get a suite"
    );
    let warn = render(
        "junit",
        &fixture("debian-app"),
        &ReportOptions {
            fail_on_warn: true,
            ..opts()
        },
    );
    assert_eq!(failures(&warn, "WARN"), 1);
    // A clean image still has passing cases and no failures.
    let clean = render("junit", &fixture("clean"), &opts());
    assert!(clean.contains("<testcase"));
    assert!(!clean.contains("<failure"));
    assert!(clean.contains("no vulnerabilities at or above high"));
}

#[test]
fn markdown_summarises_every_fixture() {
    for name in FIXTURES {
        let out = render("markdown", &fixture(name), &opts());
        assert!(out.starts_with(markdown::MARKER));
        assert!(out.chars().count() <= MARKDOWN_COMMENT_LIMIT);
    }
    let out = render("markdown", &fixture("debian-app"), &opts());
    assert!(out.contains("❌ failed"));
    assert!(out.contains("🛑 STOP"));
    assert!(out.contains("[CVE-2023-38545](https://nvd.nist.gov/vuln/detail/CVE-2023-38545)"));
    assert!(out.contains("1 hit(s) allowlisted"));
    assert!(
        !out.contains("CVE-2023-45853"),
        "suppressed hidden by default"
    );
    let clean = render("markdown", &fixture("clean"), &opts());
    assert!(clean.contains("✅ passed"));
    assert!(clean.contains("No vulnerabilities found."));
}

#[test]
fn templates_render_and_fail_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("ok.j2");
    std::fs::write(
        &good,
        "{{ image.display }}: {{ decision.pass and 'pass' or 'fail' }}\n\
         {% for m in vulnerabilities %}{{ m.vulnerability.id }} {{ m.package_name }}\n{% endfor %}",
    )
    .unwrap();
    let bad = dir.path().join("bad.j2");
    std::fs::write(&bad, "line one\n{{ analysis.no_such_field.deeper }}\n").unwrap();
    let out_good = dir.path().join("good.txt");
    let out_bad = dir.path().join("bad.txt");
    let out_json = dir.path().join("a.json");
    let specs = [
        OutputSpec::parse(&format!("template:{}={}", bad.display(), out_bad.display())).unwrap(),
        OutputSpec::parse(&format!(
            "template:{}={}",
            good.display(),
            out_good.display()
        ))
        .unwrap(),
        OutputSpec::parse(&format!(
            "template:{}={}",
            dir.path().join("missing.j2").display(),
            dir.path().join("m.txt").display()
        ))
        .unwrap(),
        OutputSpec::parse(&format!("json={}", out_json.display())).unwrap(),
    ];
    let err = write_all_to(&fixture("debian-app"), &specs, &opts(), &mut Vec::new()).unwrap_err();
    assert_eq!(err.errors.len(), 2, "{err:?}");
    match &err.errors[0] {
        ReportError::Template { detail, path, .. } => {
            assert_eq!(path, &bad);
            assert!(detail.contains("line 2"), "{detail}");
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(err.errors[1], ReportError::TemplateRead { .. }));
    assert!(!out_bad.exists(), "a failed template writes nothing");
    let text = std::fs::read_to_string(&out_good).unwrap();
    assert!(
        text.starts_with("registry.example.com/acme/web-app:1.4.2: fail\n"),
        "{text}"
    );
    assert!(text.contains("CVE-2024-5535 libssl3"));
    assert!(out_json.exists());
}
