//! `tollgate sbom` end to end: the real binary on the shared `distroless-like` image writes a
//! CycloneDX and an SPDX document whose packages match the image's `expected.json`, and reads a
//! written SBOM back as `sbom:PATH`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;

fn image_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("TOLLGATE_TESTIMAGES")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/var/tmp/tollgate-testimages"))
        .join("distroless-like");
    if dir.join("expected.json").is_file() {
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

#[test]
fn sbom_command_writes_cyclonedx_and_spdx_and_reads_them_back() {
    let Some(dir) = image_dir() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let cdx = tmp.path().join("out.cdx.json");
    let spdx = tmp.path().join("out.spdx.json");
    let status = Command::new(env!("CARGO_BIN_EXE_tollgate"))
        .args(["sbom", &format!("oci-dir:{}", dir.join("oci").display())])
        .arg("-o")
        .arg(format!("cyclonedx-json={}", cdx.display()))
        .arg("-o")
        .arg(format!("spdx-json={}", spdx.display()))
        .arg("--cache-dir")
        .arg(tmp.path().join("cache"))
        .status()
        .unwrap();
    assert!(status.success());
    let expected: Value =
        serde_json::from_slice(&std::fs::read(dir.join("expected.json")).unwrap()).unwrap();
    let doc: Value = serde_json::from_slice(&std::fs::read(&cdx).unwrap()).unwrap();
    let names: Vec<&str> = doc["components"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["name"].as_str())
        .collect();
    for d in expected["deb"].as_array().unwrap() {
        assert!(names.contains(&d["name"].as_str().unwrap()), "{names:?}");
    }
    assert!(names.contains(&"golang.org/x/text"), "{names:?}");
    let sp: Value = serde_json::from_slice(&std::fs::read(&spdx).unwrap()).unwrap();
    assert_eq!(sp["spdxVersion"], "SPDX-2.3");

    // The written SBOM is a scan source.
    let out = Command::new(env!("CARGO_BIN_EXE_tollgate"))
        .args(["sbom", &format!("sbom:{}", cdx.display()), "-o", "json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let a: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        a["inventory"]["packages"].as_array().unwrap().len(),
        doc["components"].as_array().unwrap().len() - 1, // minus the OS component
    );
    assert_eq!(a["inventory"]["distro"]["id"], "debian");

    // A missing SBOM is an error (exit 2), not an empty result.
    let out = Command::new(env!("CARGO_BIN_EXE_tollgate"))
        .args(["sbom", "sbom:/nonexistent/x.json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}
