//! [`Analysis`] → SPDX 2.3 JSON (`-o spdx-json`), with our own serde types.
//!
//! The document `DESCRIBES` one package for the image (`primaryPackagePurpose: CONTAINER`),
//! which `CONTAINS` the distro (`OPERATING_SYSTEM`) and every package (`LIBRARY` /
//! `APPLICATION`). Each package carries its purl as a `PACKAGE-MANAGER` external reference,
//! its declared license as an SPDX expression (a name that is not on the SPDX list becomes a
//! `LicenseRef-…` with the text kept in `hasExtractedLicensingInfos`), and where it was found
//! (path and layer) in `sourceInfo`. Files are not listed (`filesAnalyzed: false`).
//!
//! Deterministic: same analysis, same bytes. Vulnerabilities are not part of SPDX 2.3 and are
//! not written. Validated against the official 2.3 schema in tests.

use std::collections::BTreeMap;

use serde::Serialize;
use sha2::{Digest, Sha256};

use super::cyclonedx::image_identity;
use crate::analysis::Analysis;
use crate::catalog::Package;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Document {
    spdx_version: &'static str,
    data_license: &'static str,
    #[serde(rename = "SPDXID")]
    spdx_id: &'static str,
    name: String,
    document_namespace: String,
    creation_info: CreationInfo,
    packages: Vec<SpdxPackage>,
    relationships: Vec<Relationship>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    has_extracted_licensing_infos: Vec<ExtractedLicense>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CreationInfo {
    created: String,
    creators: Vec<String>,
    license_list_version: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SpdxPackage {
    #[serde(rename = "SPDXID")]
    spdx_id: String,
    name: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    version_info: String,
    supplier: &'static str,
    download_location: &'static str,
    files_analyzed: bool,
    license_concluded: &'static str,
    license_declared: String,
    copyright_text: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    source_info: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    external_refs: Vec<ExternalRef>,
    primary_package_purpose: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    comment: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ExternalRef {
    reference_category: &'static str,
    reference_type: &'static str,
    reference_locator: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Relationship {
    spdx_element_id: String,
    relationship_type: &'static str,
    related_spdx_element: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ExtractedLicense {
    license_id: String,
    extracted_text: String,
    name: String,
}

/// Renders `analysis` as an SPDX 2.3 document.
pub fn to_json(analysis: &Analysis) -> serde_json::Value {
    let inv = &analysis.inventory;
    let (image_name, image_version) = image_identity(analysis);
    let image_id = "SPDXRef-Image".to_string();
    let mut packages = vec![SpdxPackage {
        spdx_id: image_id.clone(),
        name: image_name.clone(),
        version_info: image_version.clone(),
        supplier: "NOASSERTION",
        download_location: "NOASSERTION",
        files_analyzed: false,
        license_concluded: "NOASSERTION",
        license_declared: "NOASSERTION".into(),
        copyright_text: "NOASSERTION",
        source_info: Some(format!("image source: {}", inv.source.input)),
        external_refs: Vec::new(),
        primary_package_purpose: "CONTAINER",
        comment: None,
    }];
    let mut relationships = vec![Relationship {
        spdx_element_id: "SPDXRef-DOCUMENT".into(),
        relationship_type: "DESCRIBES",
        related_spdx_element: image_id.clone(),
    }];
    if let Some(d) = &inv.distro {
        let id = format!("SPDXRef-OperatingSystem-{}", sanitize(&d.id));
        packages.push(SpdxPackage {
            spdx_id: id.clone(),
            name: d.id.clone(),
            version_info: d.version_id.clone(),
            supplier: "NOASSERTION",
            download_location: "NOASSERTION",
            files_analyzed: false,
            license_concluded: "NOASSERTION",
            license_declared: "NOASSERTION".into(),
            copyright_text: "NOASSERTION",
            source_info: None,
            external_refs: Vec::new(),
            primary_package_purpose: "OPERATING_SYSTEM",
            comment: (!d.pretty_name.is_empty()).then(|| d.pretty_name.clone()),
        });
        relationships.push(Relationship {
            spdx_element_id: image_id.clone(),
            relationship_type: "CONTAINS",
            related_spdx_element: id,
        });
    }
    let mut extracted: BTreeMap<String, ExtractedLicense> = BTreeMap::new();
    for p in &inv.packages {
        let id = format!(
            "SPDXRef-Package-{}-{}-{}",
            p.kind.as_str(),
            sanitize(&p.name),
            p.id
        );
        packages.push(package(p, &id, &mut extracted));
        relationships.push(Relationship {
            spdx_element_id: image_id.clone(),
            relationship_type: "CONTAINS",
            related_spdx_element: id,
        });
    }
    let mut h = Sha256::new();
    h.update(analysis.created.as_bytes());
    h.update(image_version.as_bytes());
    h.update(inv.source.input.as_bytes());
    let digest = hex::encode(&h.finalize()[..16]);
    let doc = Document {
        spdx_version: "SPDX-2.3",
        data_license: "CC0-1.0",
        spdx_id: "SPDXRef-DOCUMENT",
        name: image_name.clone(),
        document_namespace: format!(
            "https://tollgate.invalid/spdx/{}-{digest}",
            sanitize(&image_name)
        ),
        creation_info: CreationInfo {
            created: spdx_time(&analysis.created),
            creators: vec![
                format!("Tool: {}-{}", analysis.tool.name, analysis.tool.version),
                "Organization: Tollgate".into(),
            ],
            license_list_version: spdx::license_version().to_string(),
        },
        packages,
        relationships,
        has_extracted_licensing_infos: extracted.into_values().collect(),
    };
    serde_json::to_value(&doc).unwrap_or(serde_json::Value::Null)
}

fn package(
    p: &Package,
    id: &str,
    extracted: &mut BTreeMap<String, ExtractedLicense>,
) -> SpdxPackage {
    let mut external_refs = Vec::new();
    if !p.purl.is_empty() {
        external_refs.push(ExternalRef {
            reference_category: "PACKAGE-MANAGER",
            reference_type: "purl",
            reference_locator: p.purl.clone(),
        });
    }
    let terms: Vec<String> = p
        .licenses
        .iter()
        .map(|l| {
            if spdx::Expression::parse(l).is_ok() {
                if p.licenses.len() > 1 {
                    format!("({l})")
                } else {
                    l.clone()
                }
            } else {
                let rid = format!("LicenseRef-{}", sanitize(l));
                extracted.entry(rid.clone()).or_insert(ExtractedLicense {
                    license_id: rid.clone(),
                    extracted_text: l.clone(),
                    name: l.clone(),
                });
                rid
            }
        })
        .collect();
    let license_declared = if terms.is_empty() {
        "NOASSERTION".to_string()
    } else {
        terms.join(" AND ")
    };
    let source_info = (!p.locations.is_empty()).then(|| {
        let locs: Vec<String> = p
            .locations
            .iter()
            .map(|l| format!("{} (layer {})", l.path, l.layer_digest))
            .collect();
        format!("found by {} at: {}", p.found_by, locs.join(", "))
    });
    SpdxPackage {
        spdx_id: id.to_string(),
        name: p.name.clone(),
        version_info: p.version.clone(),
        supplier: "NOASSERTION",
        download_location: "NOASSERTION",
        files_analyzed: false,
        license_concluded: "NOASSERTION",
        license_declared,
        copyright_text: "NOASSERTION",
        source_info,
        external_refs,
        primary_package_purpose: if p.metadata.get("main").and_then(|v| v.as_bool()) == Some(true) {
            "APPLICATION"
        } else {
            "LIBRARY"
        },
        comment: Some(format!("type: {}", p.kind.as_str())),
    }
}

/// Keeps `[A-Za-z0-9.-]`, replacing everything else with `-` (SPDX id characters).
fn sanitize(s: &str) -> String {
    let out: String = s
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect();
    if out.is_empty() { "x".into() } else { out }
}

/// SPDX wants `YYYY-MM-DDThh:mm:ssZ`.
fn spdx_time(rfc3339: &str) -> String {
    chrono::DateTime::parse_from_rfc3339(rfc3339)
        .map(|t| {
            t.with_timezone(&chrono::Utc)
                .format("%Y-%m-%dT%H:%M:%SZ")
                .to_string()
        })
        .unwrap_or_else(|_| "1970-01-01T00:00:00Z".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_times() {
        assert_eq!(sanitize("@types/node"), "-types-node");
        assert_eq!(
            spdx_time("2026-11-25T19:00:00.123+01:00"),
            "2026-11-25T18:00:00Z"
        );
    }
}
