//! Catalog accuracy of the real binary through a loopback registry, and the native JSON against
//! its schema.
//!
//! - `debian-py-node`, `distroless-like` and `fat` (../shared/testimages) are stored in a real
//!   Debian `docker-registry` on 127.0.0.1 under an OCI manifest (`:latest`) and a Docker v2
//!   schema 2 manifest (`:docker`); `tollgate sbom registry:… -o json` must list exactly the
//!   (type, name, version, path) rows of `expected.json` for dpkg, Python and npm (incl.
//!   `/usr/share/nodejs`), and exactly its Go binaries. The `oci-dir:` and `docker-archive:`
//!   sources are held to the same sets by `engine/tests/catalog.rs`; `fat` is also run through
//!   `oci-dir:` here so the binary's own path is covered once.
//! - Every `-o json` document made here, and a full `tollgate scan` of the example image (matches
//!   and a policy evaluation), validates against `docs/analysis.schema.json`.
//!
//! Missing images or registry binary: fail under `CI=true`, skip with a reason otherwise.

use std::collections::BTreeSet;
use std::path::Path;

use serde_json::Value;

use crate::support::registry::{REGISTRY_BIN, Registry, RegistryOptions};
use crate::support::{have_tool, stderr, testimages, tollgate_cmd};

type Row = (String, String, String, String);

fn schema_validator() -> jsonschema::Validator {
    let schema: Value = serde_json::from_slice(
        &std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../docs/analysis.schema.json"
        ))
        .unwrap(),
    )
    .unwrap();
    jsonschema::draft202012::new(&schema).unwrap()
}

fn assert_valid(v: &jsonschema::Validator, doc: &Value, what: &str) {
    let errs: Vec<String> = v
        .iter_errors(doc)
        .take(20)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(
        errs.is_empty(),
        "{what}: -o json does not match docs/analysis.schema.json:\n{}",
        errs.join("\n")
    );
}

fn expected_rows(expected: &Value) -> BTreeSet<Row> {
    let s = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).unwrap_or("").to_string();
    let mut out = BTreeSet::new();
    for d in expected["deb"].as_array().unwrap() {
        out.insert(("deb".into(), s(d, "name"), s(d, "version"), String::new()));
    }
    for (key, ty) in [
        ("python", "python"),
        ("npm", "npm"),
        ("npm_in_usr_share_nodejs", "npm"),
    ] {
        for p in expected[key].as_array().into_iter().flatten() {
            out.insert((ty.into(), s(p, "name"), s(p, "version"), s(p, "path")));
        }
    }
    out
}

/// The (type, name, version, path) rows of the dpkg, Python and npm packages of an `-o json`
/// analysis (path = the dist-info / package directory, as `expected.json` writes it; empty for
/// debs), and the paths of the Go binaries.
fn actual_rows(analysis: &Value) -> (BTreeSet<Row>, BTreeSet<String>) {
    let mut rows = BTreeSet::new();
    let mut go = BTreeSet::new();
    for p in analysis["inventory"]["packages"].as_array().unwrap() {
        let ty = p["type"].as_str().unwrap();
        let path = p["locations"][0]["path"].as_str().unwrap_or("");
        let row_path = match ty {
            "deb" => String::new(),
            "python" => path
                .strip_suffix("/METADATA")
                .or_else(|| path.strip_suffix("/PKG-INFO"))
                .unwrap_or(path)
                .to_string(),
            "npm" => path
                .strip_suffix("/package.json")
                .unwrap_or(path)
                .to_string(),
            "go-module" => {
                go.insert(path.to_string());
                continue;
            }
            _ => continue,
        };
        rows.insert((
            ty.to_string(),
            p["name"].as_str().unwrap().to_string(),
            p["version"].as_str().unwrap().to_string(),
            row_path,
        ));
    }
    (rows, go)
}

fn sbom_json(source: &str, extra: &[&str], cache: &Path) -> Value {
    let cache = cache.display().to_string();
    let mut args = vec!["sbom", source, "-o", "json", "--cache-dir", &cache];
    args.extend_from_slice(extra);
    let out = tollgate_cmd(&args).output().unwrap();
    assert!(
        out.status.success(),
        "tollgate sbom {source}: {}",
        stderr(&out)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn check(image: &str, source: &str, doc: &Value, expected: &Value, v: &jsonschema::Validator) {
    let want = expected_rows(expected);
    let (got, go) = actual_rows(doc);
    let missing: Vec<_> = want.difference(&got).collect();
    let extra: Vec<_> = got.difference(&want).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "{image} via {source}: missing {missing:#?}\nextra {extra:#?}"
    );
    let want_go: BTreeSet<String> = expected["go_binaries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap().to_string())
        .collect();
    assert_eq!(go, want_go, "{image} via {source}: Go binaries");
    assert_eq!(
        doc["inventory"]["distro"]["id"], expected["os_release"]["ID"],
        "{image} via {source}"
    );
    for l in doc["inventory"]["layers"].as_array().unwrap() {
        assert!(l["digest"].as_str().unwrap().starts_with("sha256:"));
    }
    assert_valid(v, doc, &format!("{image} via {source}"));
}

fn registry_accuracy(image: &str) {
    let Some(dir) = testimages(image) else { return };
    if !have_tool(REGISTRY_BIN) {
        return;
    }
    let expected: Value =
        serde_json::from_slice(&std::fs::read(dir.join("expected.json")).unwrap()).unwrap();
    let reg = Registry::start(RegistryOptions::default());
    let repo = format!("testimages/{image}");
    let (oci_digest, docker_digest) =
        reg.put_oci_layout(&repo, "latest", Some("docker"), &dir.join("oci"));
    assert_eq!(
        expected["manifest_digest"].as_str(),
        Some(oci_digest.as_str()),
        "{image}: the layout's manifest is the one expected.json describes"
    );
    let v = schema_validator();
    for (tag, digest) in [("latest", oci_digest), ("docker", docker_digest.unwrap())] {
        // A fresh cache each time: the layers really come over HTTP.
        let cache = tempfile::tempdir().unwrap();
        let source = format!("registry:{}/{repo}:{tag}", reg.addr);
        let doc = sbom_json(&source, &["--insecure-registry", &reg.addr], cache.path());
        assert_eq!(
            doc["inventory"]["source"]["manifest_digest"].as_str(),
            Some(digest.as_str()),
            "{source}"
        );
        assert_eq!(doc["inventory"]["source"]["scheme"], "registry");
        check(image, &source, &doc, &expected, &v);
    }
    assert!(
        reg.log().contains("/blobs/sha256:"),
        "the registry served no blobs:\n{}",
        reg.log()
    );
}

#[test]
fn registry_source_matches_expected_debian_py_node() {
    registry_accuracy("debian-py-node");
}

#[test]
fn registry_source_matches_expected_distroless_like() {
    registry_accuracy("distroless-like");
}

#[test]
fn registry_source_matches_expected_fat() {
    registry_accuracy("fat");
    // The binary on a local layout too (the engine test covers oci-dir/docker-archive for all).
    let Some(dir) = testimages("fat") else { return };
    let expected: Value =
        serde_json::from_slice(&std::fs::read(dir.join("expected.json")).unwrap()).unwrap();
    let cache = tempfile::tempdir().unwrap();
    let source = format!("oci-dir:{}", dir.join("oci").display());
    let doc = sbom_json(&source, &[], cache.path());
    check("fat", &source, &doc, &expected, &schema_validator());
}

#[test]
fn example_scan_json_validates_against_the_schema() {
    let home = tempfile::tempdir().unwrap();
    let out_file = home.path().join("analysis.json");
    let example = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/app-image.tar");
    let out = tollgate_cmd(&[
        "scan",
        example,
        "-o",
        &format!("json={}", out_file.display()),
    ])
    .env("XDG_CACHE_HOME", home.path().join("cache"))
    .env("XDG_DATA_HOME", home.path().join("data"))
    .env_remove("TOLLGATE_DB")
    .env_remove("TOLLGATE_POLICY")
    .current_dir(home.path())
    .output()
    .unwrap();
    // The example's default policy stops the gate (exit 1); the report is written first.
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let doc: Value = serde_json::from_slice(&std::fs::read(&out_file).unwrap()).unwrap();
    assert!(!doc["matches"].as_array().unwrap().is_empty());
    assert!(!doc["evaluation"]["hits"].as_array().unwrap().is_empty());
    assert!(doc["db"].is_object());
    assert_valid(&schema_validator(), &doc, "scan of the example image");
}
