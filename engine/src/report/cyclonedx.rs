//! [`Analysis`] → CycloneDX 1.6 JSON (`-o cyclonedx-json`), or 1.5 (`-o cyclonedx-json@1.5`),
//! with our own serde types.
//!
//! Why 1.5 too: GitLab ingests CycloneDX 1.4 and, since 16.7, 1.5 (`artifacts:reports:cyclonedx`);
//! 1.6 ingestion is not documented, so the GitLab component asks for 1.5 (syft's `FORMAT@VERSION`
//! convention). Everything written here exists in 1.5 already, so the two differ only in
//! `specVersion` and `$schema`; both are validated against the official schemas in tests.
//!
//! - `metadata.component` is the image (`type: container`, version = manifest digest or
//!   image id); the distro is an `operating-system` component; every package is a `library`
//!   with its purl, licenses (SPDX ids, else one SPDX expression, else license names) and
//!   `tollgate:*` properties for what CycloneDX has no field for (package type, found-by,
//!   arch, source package, locations with layer digests). These properties are read back by
//!   `catalog::sbom_input`, so a tollgate SBOM round-trips.
//! - `dependencies`: the image depends on every component.
//! - `vulnerabilities`: one entry per (vulnerability, package) match, with ratings, fix
//!   versions and, for suppressed matches, an `analysis` saying why.
//!
//! Deterministic: same analysis, same bytes (the serial number is derived from the content).
//! Does not: embed file lists or hashes of files. Validated against the official 1.6 schema in
//! tests.

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::analysis::Analysis;
use crate::catalog::Package;
use crate::matcher::{FixState, Match};
use crate::types::Severity;

/// The CycloneDX spec version written by default.
pub const SPEC_VERSION: &str = "1.6";

/// Spec versions that can be asked for (`cyclonedx-json@VERSION`), default first.
pub const SPEC_VERSIONS: &[&str] = &["1.6", "1.5"];

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Bom {
    #[serde(rename = "$schema")]
    schema: &'static str,
    bom_format: &'static str,
    spec_version: &'static str,
    serial_number: String,
    version: u32,
    metadata: Metadata,
    components: Vec<Component>,
    dependencies: Vec<Dependency>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    vulnerabilities: Vec<Vulnerability>,
}

#[derive(Serialize)]
struct Metadata {
    timestamp: String,
    tools: Tools,
    component: Component,
}

#[derive(Serialize)]
struct Tools {
    components: Vec<Component>,
}

#[derive(Serialize, Default)]
struct Component {
    #[serde(rename = "bom-ref", skip_serializing_if = "String::is_empty")]
    bom_ref: String,
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    group: Option<String>,
    name: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    version: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    licenses: Vec<serde_json::Value>,
    #[serde(skip_serializing_if = "String::is_empty")]
    purl: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    properties: Vec<Property>,
}

#[derive(Serialize)]
struct Property {
    name: String,
    value: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Dependency {
    #[serde(rename = "ref")]
    reference: String,
    depends_on: Vec<String>,
}

#[derive(Serialize)]
struct Vulnerability {
    #[serde(rename = "bom-ref")]
    bom_ref: String,
    id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    source: Option<Source>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    references: Vec<VulnReference>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    ratings: Vec<Rating>,
    #[serde(skip_serializing_if = "String::is_empty")]
    description: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    recommendation: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    advisories: Vec<Advisory>,
    #[serde(skip_serializing_if = "Option::is_none")]
    published: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    updated: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    analysis: Option<VulnAnalysis>,
    affects: Vec<Affects>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    properties: Vec<Property>,
}

#[derive(Serialize)]
struct Source {
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    url: Option<String>,
}

#[derive(Serialize)]
struct VulnReference {
    id: String,
    source: Source,
}

#[derive(Serialize)]
struct Rating {
    #[serde(skip_serializing_if = "Option::is_none")]
    source: Option<Source>,
    #[serde(skip_serializing_if = "Option::is_none")]
    score: Option<f64>,
    severity: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    method: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    vector: Option<String>,
}

#[derive(Serialize)]
struct Advisory {
    url: String,
}

#[derive(Serialize)]
struct VulnAnalysis {
    state: &'static str,
    #[serde(skip_serializing_if = "String::is_empty")]
    detail: String,
}

#[derive(Serialize)]
struct Affects {
    #[serde(rename = "ref")]
    reference: String,
}

/// Renders `analysis` as a CycloneDX 1.6 document.
pub fn to_json(analysis: &Analysis) -> serde_json::Value {
    to_json_spec(analysis, None)
}

/// Renders `analysis` as a CycloneDX document of spec `version` (one of [`SPEC_VERSIONS`];
/// `None` or anything else: [`SPEC_VERSION`]).
pub fn to_json_spec(analysis: &Analysis, version: Option<&str>) -> serde_json::Value {
    let (spec_version, schema) = match version {
        Some("1.5") => ("1.5", "http://cyclonedx.org/schema/bom-1.5.schema.json"),
        _ => (
            SPEC_VERSION,
            "http://cyclonedx.org/schema/bom-1.6.schema.json",
        ),
    };
    let inv = &analysis.inventory;
    let image_ref = "image".to_string();
    let (image_name, image_version) = image_identity(analysis);
    let mut components = Vec::new();
    let mut refs = Vec::new();
    if let Some(d) = &inv.distro {
        let r = format!("os:{}@{}", d.id, d.version_id);
        components.push(Component {
            bom_ref: r.clone(),
            kind: "operating-system",
            name: d.id.clone(),
            version: d.version_id.clone(),
            description: (!d.pretty_name.is_empty()).then(|| d.pretty_name.clone()),
            ..Component::default()
        });
        refs.push(r);
    }
    for p in &inv.packages {
        refs.push(p.id.clone());
        components.push(package_component(p));
    }
    let vulnerabilities = analysis
        .matches
        .iter()
        .map(vulnerability)
        .collect::<Vec<_>>();
    let bom = Bom {
        schema,
        bom_format: "CycloneDX",
        spec_version,
        serial_number: serial_number(analysis),
        version: 1,
        metadata: Metadata {
            timestamp: analysis.created.clone(),
            tools: Tools {
                components: vec![Component {
                    kind: "application",
                    name: analysis.tool.name.clone(),
                    version: analysis.tool.version.clone(),
                    ..Component::default()
                }],
            },
            component: Component {
                bom_ref: image_ref.clone(),
                kind: "container",
                name: image_name,
                version: image_version,
                properties: image_properties(analysis),
                ..Component::default()
            },
        },
        components,
        dependencies: vec![Dependency {
            reference: image_ref,
            depends_on: refs,
        }],
        vulnerabilities,
    };
    serde_json::to_value(&bom).unwrap_or(serde_json::Value::Null)
}

/// The image's display name and version (digest) for SBOM headers.
pub(crate) fn image_identity(analysis: &Analysis) -> (String, String) {
    let src = &analysis.inventory.source;
    let name = src
        .reference
        .clone()
        .or_else(|| src.tags.first().cloned())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| src.input.clone());
    let version = src
        .manifest_digest
        .clone()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| analysis.inventory.config.digest.clone());
    (
        if name.is_empty() {
            "image".into()
        } else {
            name
        },
        version,
    )
}

fn image_properties(analysis: &Analysis) -> Vec<Property> {
    let inv = &analysis.inventory;
    let mut out = Vec::new();
    let mut push = |name: &str, value: &str| {
        if !value.is_empty() {
            out.push(Property {
                name: name.into(),
                value: value.into(),
            });
        }
    };
    push("tollgate:image:scheme", &inv.source.scheme);
    push("tollgate:image:imageID", &inv.config.digest);
    let platform = inv.config.platform.to_string();
    push("tollgate:image:platform", platform.trim_matches('/'));
    for (i, l) in inv.layers.iter().enumerate() {
        push(&format!("tollgate:image:layer:{i}:digest"), &l.digest);
        push(&format!("tollgate:image:layer:{i}:diffID"), &l.diff_id);
    }
    out
}

fn package_component(p: &Package) -> Component {
    let mut properties = Vec::new();
    let mut push = |name: String, value: &str| {
        if !value.is_empty() {
            properties.push(Property {
                name,
                value: value.to_string(),
            });
        }
    };
    push("tollgate:package:type".into(), p.kind.as_str());
    push("tollgate:package:foundBy".into(), &p.found_by);
    push(
        "tollgate:package:arch".into(),
        p.arch.as_deref().unwrap_or(""),
    );
    push(
        "tollgate:package:sourceName".into(),
        p.source_name.as_deref().unwrap_or(""),
    );
    push(
        "tollgate:package:sourceVersion".into(),
        p.source_version.as_deref().unwrap_or(""),
    );
    if let Some(owner) = p.metadata.get("os_package").and_then(|v| v.as_str()) {
        push("tollgate:package:osPackage".into(), owner);
    }
    for (i, l) in p.locations.iter().enumerate() {
        push(format!("tollgate:location:{i}:path"), &l.path);
        push(format!("tollgate:location:{i}:layerID"), &l.layer_digest);
        push(
            format!("tollgate:location:{i}:layerIndex"),
            &l.layer_index.to_string(),
        );
    }
    let group = p
        .metadata
        .get("group_id")
        .and_then(|v| v.as_str())
        .map(str::to_string);
    Component {
        bom_ref: p.id.clone(),
        kind: "library",
        group,
        name: p.name.clone(),
        version: p.version.clone(),
        licenses: licenses(&p.licenses),
        purl: p.purl.clone(),
        properties,
        ..Component::default()
    }
}

/// CycloneDX license choice: all plain SPDX ids → `license.id` entries; otherwise one SPDX
/// `expression` when the declared strings combine into a valid one; otherwise `license.name`s.
pub(crate) fn licenses(declared: &[String]) -> Vec<serde_json::Value> {
    use serde_json::json;
    if declared.is_empty() {
        return Vec::new();
    }
    if declared.iter().all(|l| spdx::license_id(l).is_some()) {
        return declared
            .iter()
            .map(|l| json!({"license": {"id": l}}))
            .collect();
    }
    let combined = if declared.len() == 1 {
        declared[0].clone()
    } else {
        declared
            .iter()
            .map(|l| format!("({l})"))
            .collect::<Vec<_>>()
            .join(" AND ")
    };
    if spdx::Expression::parse(&combined).is_ok() {
        return vec![json!({"expression": combined})];
    }
    declared
        .iter()
        .map(|l| match spdx::license_id(l) {
            Some(_) => json!({"license": {"id": l}}),
            None => json!({"license": {"name": l}}),
        })
        .collect()
}

fn severity(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "critical",
        Severity::High => "high",
        Severity::Medium => "medium",
        Severity::Low => "low",
        Severity::Negligible => "info",
        Severity::Unknown => "unknown",
    }
}

fn vulnerability(m: &Match) -> Vulnerability {
    let v = &m.vulnerability;
    let source_of = |id: &str| -> Option<Source> {
        let (name, url) = if id.starts_with("CVE-") {
            ("NVD", format!("https://nvd.nist.gov/vuln/detail/{id}"))
        } else if id.starts_with("GHSA-") {
            ("GitHub", format!("https://github.com/advisories/{id}"))
        } else {
            ("OSV", format!("https://osv.dev/vulnerability/{id}"))
        };
        Some(Source {
            name: name.into(),
            url: Some(url),
        })
    };
    let mut ratings: Vec<Rating> = v
        .cvss
        .iter()
        .map(|c| Rating {
            source: (!c.source.is_empty()).then(|| Source {
                name: c.source.clone(),
                url: None,
            }),
            score: Some(c.base_score),
            severity: severity(severity_from_score(c.base_score)),
            method: match c.version.as_str() {
                "2.0" | "2" => Some("CVSSv2"),
                "3.0" => Some("CVSSv3"),
                "3.1" => Some("CVSSv31"),
                "4.0" => Some("CVSSv4"),
                _ => Some("other"),
            },
            vector: (!c.vector.is_empty()).then(|| c.vector.clone()),
        })
        .collect();
    ratings.push(Rating {
        source: (!v.severity_source.is_empty()).then(|| Source {
            name: v.severity_source.clone(),
            url: None,
        }),
        score: None,
        severity: severity(v.severity),
        method: None,
        vector: None,
    });
    let recommendation = match (m.fix_state, m.fixed_in.is_empty()) {
        (FixState::Fixed, false) => {
            format!("Upgrade {} to {}", m.package_name, m.fixed_in.join(" or "))
        }
        (FixState::WontFix, _) => "The vendor will not fix this vulnerability".into(),
        _ => String::new(),
    };
    let mut properties = vec![Property {
        name: "tollgate:match:fixState".into(),
        value: format!("{:?}", m.fix_state).to_ascii_lowercase(),
    }];
    if v.kev {
        properties.push(Property {
            name: "tollgate:vulnerability:kev".into(),
            value: "true".into(),
        });
    }
    if let Some(e) = v.epss {
        properties.push(Property {
            name: "tollgate:vulnerability:epss".into(),
            value: e.to_string(),
        });
    }
    Vulnerability {
        bom_ref: format!("{}@{}", v.id, m.package_id),
        id: v.id.clone(),
        source: source_of(&v.id),
        references: v
            .aliases
            .iter()
            .filter(|a| **a != v.id)
            .map(|a| VulnReference {
                id: a.clone(),
                source: source_of(a).unwrap_or(Source {
                    name: "OSV".into(),
                    url: None,
                }),
            })
            .collect(),
        ratings,
        description: if v.description.is_empty() {
            v.summary.clone()
        } else {
            v.description.clone()
        },
        recommendation,
        advisories: v
            .urls
            .iter()
            .filter(|u| u.starts_with("http"))
            .map(|u| Advisory { url: u.clone() })
            .collect(),
        published: v.published.clone(),
        updated: v.modified.clone(),
        analysis: m.suppressed.as_ref().map(|s| VulnAnalysis {
            state: if s.kind == "vex" {
                "not_affected"
            } else {
                "false_positive"
            },
            detail: format!("suppressed by {} {}: {}", s.kind, s.by, s.reason)
                .trim_end_matches([' ', ':'])
                .to_string(),
        }),
        affects: vec![Affects {
            reference: m.package_id.clone(),
        }],
        properties,
    }
}

fn severity_from_score(score: f64) -> Severity {
    if score >= 9.0 {
        Severity::Critical
    } else if score >= 7.0 {
        Severity::High
    } else if score >= 4.0 {
        Severity::Medium
    } else if score > 0.0 {
        Severity::Low
    } else {
        Severity::Unknown
    }
}

/// `urn:uuid:` + a UUID (version 4 layout) derived from the analysis content, so the same
/// analysis always gets the same serial number.
fn serial_number(analysis: &Analysis) -> String {
    let mut h = Sha256::new();
    h.update(analysis.created.as_bytes());
    h.update(analysis.inventory.config.digest.as_bytes());
    h.update(analysis.inventory.source.input.as_bytes());
    for p in &analysis.inventory.packages {
        h.update(p.id.as_bytes());
    }
    let d = h.finalize();
    let mut b = [0u8; 16];
    b.copy_from_slice(&d[..16]);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let x = hex::encode(b);
    format!(
        "urn:uuid:{}-{}-{}-{}-{}",
        &x[0..8],
        &x[8..12],
        &x[12..16],
        &x[16..20],
        &x[20..32]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn license_choices() {
        assert_eq!(licenses(&["MIT".into(), "ISC".into()]).len(), 2);
        assert_eq!(
            licenses(&["MIT OR Apache-2.0".into()])[0]["expression"],
            "MIT OR Apache-2.0"
        );
        assert_eq!(
            licenses(&["Custom thing".into()])[0]["license"]["name"],
            "Custom thing"
        );
    }
}
