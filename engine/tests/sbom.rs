//! SBOM writers against the official schemas in `../shared/schemas`: CycloneDX 1.6 and SPDX
//! 2.3 output of a cataloged fixture image (with a vulnerability match) must validate, and
//! reading them back with `catalog::sbom_input` must give the same (type, name, version) set.
//!
//! Missing schemas: the test fails when `CI=true`, and skips with a printed reason otherwise.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::sync::Arc;

use serde_json::{Value, json};
use tollgate::analysis::{Analysis, ToolInfo};
use tollgate::catalog::{self, CatalogOptions};
use tollgate::image::{FileEntry, FileKind, Image, LayerInfo, SourceInfo};
use tollgate::matcher::{Cvss, FixState, Match, Vulnerability};
use tollgate::types::Severity;

fn schemas() -> Option<PathBuf> {
    let dir = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/schemas"));
    if dir.join("cyclonedx/bom-1.6.schema.json").is_file() {
        return Some(dir);
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "CI=true but {} is missing",
        dir.display()
    );
    #[allow(clippy::print_stderr)]
    {
        eprintln!("skipping: {} not found", dir.display());
    }
    None
}

fn read(path: PathBuf) -> Value {
    serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap()
}

fn image() -> Image {
    let mut img = Image {
        source: SourceInfo {
            scheme: "oci-dir".into(),
            input: "oci-dir:/tmp/x".into(),
            reference: Some("example/app:1.0".into()),
            manifest_digest: Some(format!("sha256:{}", "a".repeat(64))),
            ..Default::default()
        },
        layers: vec![LayerInfo {
            index: 0,
            digest: format!("sha256:{}", "b".repeat(64)),
            diff_id: format!("sha256:{}", "c".repeat(64)),
            ..Default::default()
        }],
        ..Default::default()
    };
    let files: &[(&str, &str)] = &[
        (
            "/etc/os-release",
            "ID=debian\nVERSION_ID=\"12\"\nVERSION_CODENAME=bookworm\nPRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\n",
        ),
        (
            "/var/lib/dpkg/status",
            "Package: libc6\nStatus: install ok installed\nVersion: 2.36-9+deb12u4\nArchitecture: amd64\nSource: glibc\n\nPackage: zlib1g\nStatus: install ok installed\nVersion: 1:1.2.13.dfsg-1\nArchitecture: amd64\nSource: zlib\n",
        ),
        (
            "/usr/share/doc/libc6/copyright",
            "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n\nFiles: *\nLicense: LGPL-2.1+\n\nFiles: x\nLicense: Some-Odd-License\n",
        ),
        (
            "/usr/local/lib/python3.11/site-packages/PyYAML-5.3.dist-info/METADATA",
            "Metadata-Version: 2.1\nName: PyYAML\nVersion: 5.3\nLicense: MIT\n",
        ),
        (
            "/app/node_modules/@types/node/package.json",
            "{\"name\": \"@types/node\", \"version\": \"18.18.14\", \"license\": \"MIT\"}",
        ),
        (
            "/app/node_modules/lodash/package.json",
            "{\"name\": \"lodash\", \"version\": \"4.17.15\", \"license\": \"MIT OR Apache-2.0\"}",
        ),
    ];
    for (path, content) in files {
        img.files.entries.insert(
            (*path).into(),
            FileEntry {
                path: (*path).into(),
                kind: FileKind::Regular,
                mode: 0o644,
                size: content.len() as u64,
                ..Default::default()
            },
        );
        img.files
            .contents
            .insert((*path).into(), Arc::from(content.as_bytes()));
    }
    img
}

fn analysis() -> Analysis {
    let inventory = catalog::run(&image(), &CatalogOptions::default());
    let lodash = inventory
        .packages
        .iter()
        .find(|p| p.name == "lodash")
        .unwrap();
    let m = Match {
        vulnerability: Vulnerability {
            id: "CVE-2020-8203".into(),
            aliases: vec!["GHSA-p6mc-m468-83gw".into()],
            severity: Severity::High,
            severity_source: "cvss-v3.1".into(),
            cvss: vec![Cvss {
                version: "3.1".into(),
                vector: "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:N/I:H/A:H".into(),
                base_score: 7.4,
                source: "nvd".into(),
            }],
            summary: "Prototype pollution in lodash".into(),
            urls: vec!["https://github.com/advisories/GHSA-p6mc-m468-83gw".into()],
            published: Some("2020-07-15T17:15:00Z".into()),
            ..Default::default()
        },
        package_id: lodash.id.clone(),
        package_name: lodash.name.clone(),
        package_version: lodash.version.clone(),
        package_type: "npm".into(),
        purl: lodash.purl.clone(),
        fix_state: FixState::Fixed,
        fixed_in: vec!["4.17.19".into()],
        ..Default::default()
    };
    Analysis {
        schema_version: tollgate::analysis::SCHEMA_VERSION.into(),
        tool: ToolInfo::current(),
        created: "2026-11-25T19:00:00Z".into(),
        inventory,
        matches: vec![m],
        ..Default::default()
    }
}

fn errors(validator: &jsonschema::Validator, doc: &Value) -> Vec<String> {
    validator
        .iter_errors(doc)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}

#[test]
fn cyclonedx_validates_and_carries_vulnerabilities() {
    let Some(dir) = schemas() else { return };
    let registry = jsonschema::Registry::new()
        .add(
            "http://cyclonedx.org/schema/spdx.schema.json",
            read(dir.join("cyclonedx/spdx.schema.json")),
        )
        .unwrap()
        .add(
            "http://cyclonedx.org/schema/jsf-0.82.schema.json",
            read(dir.join("cyclonedx/jsf-0.82.schema.json")),
        )
        .unwrap()
        .prepare()
        .unwrap();
    let validator = jsonschema::options()
        .with_registry(&registry)
        .build(&read(dir.join("cyclonedx/bom-1.6.schema.json")))
        .unwrap();
    let a = analysis();
    let doc = tollgate::report::cyclonedx::to_json(&a);
    let errs = errors(&validator, &doc);
    assert!(errs.is_empty(), "{errs:#?}\n{doc:#}");
    assert_eq!(doc["specVersion"], "1.6");
    let comps = doc["components"].as_array().unwrap();
    assert!(comps.iter().any(|c| c["type"] == "operating-system"));
    let libc = comps.iter().find(|c| c["name"] == "libc6").unwrap();
    assert!(
        libc["purl"]
            .as_str()
            .unwrap()
            .starts_with("pkg:deb/debian/libc6@2.36-9%2Bdeb12u4?arch=amd64")
    );
    let vulns = doc["vulnerabilities"].as_array().unwrap();
    assert_eq!(vulns.len(), 1);
    assert_eq!(vulns[0]["affects"][0]["ref"], a.matches[0].package_id);
    // The same analysis gives the same bytes.
    assert_eq!(doc, tollgate::report::cyclonedx::to_json(&a));
    // A document that breaks the schema is caught (the check can fail).
    let mut broken = doc.clone();
    broken["components"][0]["type"] = json!("not-a-type");
    assert!(!errors(&validator, &broken).is_empty());
}

#[test]
fn spdx_validates() {
    let Some(dir) = schemas() else { return };
    let validator = jsonschema::options()
        .build(&read(dir.join("spdx/spdx-schema-2.3.json")))
        .unwrap();
    let doc = tollgate::report::spdx::to_json(&analysis());
    let errs = errors(&validator, &doc);
    assert!(errs.is_empty(), "{errs:#?}\n{doc:#}");
    assert_eq!(doc["spdxVersion"], "SPDX-2.3");
    let pkgs = doc["packages"].as_array().unwrap();
    let libc = pkgs.iter().find(|p| p["name"] == "libc6").unwrap();
    // A license outside the SPDX list becomes a LicenseRef with its text kept.
    assert!(
        libc["licenseDeclared"]
            .as_str()
            .unwrap()
            .contains("LicenseRef-Some-Odd-License"),
        "{libc:#}"
    );
    assert!(doc["hasExtractedLicensingInfos"].as_array().unwrap().len() == 1);
    let mut broken = doc.clone();
    broken["packages"][0]["filesAnalyzed"] = json!("no");
    assert!(!errors(&validator, &broken).is_empty());
}

#[test]
fn written_sboms_read_back_to_the_same_packages() {
    let a = analysis();
    let want: std::collections::BTreeSet<_> = a
        .inventory
        .packages
        .iter()
        .map(|p| (p.kind, p.name.clone(), p.version.clone()))
        .collect();
    for (name, doc) in [
        ("cdx.json", tollgate::report::cyclonedx::to_json(&a)),
        ("spdx.json", tollgate::report::spdx::to_json(&a)),
    ] {
        let bytes = serde_json::to_vec(&doc).unwrap();
        let inv = catalog::sbom_input::parse(std::path::Path::new(name), &bytes).unwrap();
        let got: std::collections::BTreeSet<_> = inv
            .packages
            .iter()
            .map(|p| (p.kind, p.name.clone(), p.version.clone()))
            .collect();
        assert_eq!(want, got, "{name}");
        assert_eq!(inv.distro.as_ref().unwrap().id, "debian", "{name}");
        let libc = inv.packages.iter().find(|p| p.name == "libc6").unwrap();
        assert_eq!(libc.source_name.as_deref(), Some("glibc"), "{name}");
    }
}
