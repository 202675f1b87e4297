//! `sbom:PATH` → [`Inventory`]: reads CycloneDX 1.4–1.6 JSON, SPDX 2.3 JSON and syft JSON so
//! an existing SBOM can be matched and gated like an image.
//!
//! Package identity comes from each component's purl (type, name, version, arch, `upstream`
//! source, rpm `epoch`, `distro`), falling back to the document's own type field (syft
//! `type`, tollgate's `tollgate:package:type` property). The distro comes from an
//! `operating-system` component / package, syft's `distro`, or a purl `distro=` qualifier.
//! Locations and layer digests are kept when the document records them (syft locations,
//! tollgate `tollgate:location:*` properties).
//!
//! Fatal errors only: an unreadable file, non-JSON, an unknown format or version, or a field of
//! the wrong shape. Components without a name are skipped and listed as problems.

use std::collections::HashMap;
use std::path::Path;

use serde::Deserialize;
use serde_json::Value;

use super::{CatalogError, Distro, Inventory, Location, Package, PackageType, Problem};
use crate::image::SourceInfo;

const SOURCE: &str = "sbom-input";

/// Reads an SBOM file into an inventory (packages sorted, with ids).
pub fn read(path: &Path) -> Result<Inventory, CatalogError> {
    let data = std::fs::read(path).map_err(|source| CatalogError::SbomIo {
        path: path.to_path_buf(),
        source,
    })?;
    parse(path, &data)
}

/// Parses SBOM bytes; `path` is only used in errors and the source info.
pub fn parse(path: &Path, data: &[u8]) -> Result<Inventory, CatalogError> {
    let doc: Value = serde_json::from_slice(data).map_err(|e| CatalogError::SbomFormat {
        path: path.to_path_buf(),
        reason: format!("not JSON: {e}"),
    })?;
    let mut inv = if doc.get("bomFormat").and_then(Value::as_str) == Some("CycloneDX") {
        cyclonedx(path, &doc)?
    } else if doc
        .get("spdxVersion")
        .and_then(Value::as_str)
        .is_some_and(|v| v.starts_with("SPDX-"))
    {
        spdx(path, &doc)?
    } else if doc.get("artifacts").is_some_and(Value::is_array) {
        syft(path, &doc)?
    } else {
        return Err(CatalogError::SbomFormat {
            path: path.to_path_buf(),
            reason:
                "neither CycloneDX (`bomFormat`), SPDX (`spdxVersion`) nor syft JSON (`artifacts`)"
                    .into(),
        });
    };
    inv.source.scheme = "sbom".into();
    inv.source.input = format!("sbom:{}", path.display());
    if inv.distro.is_none() {
        inv.distro = distro_from_purls(&inv.packages);
    }
    let distro = inv.distro.clone();
    super::finish_packages(&mut inv.packages, distro.as_ref());
    Ok(inv)
}

fn decode<T: for<'de> Deserialize<'de>>(
    path: &Path,
    pointer: &str,
    v: &Value,
) -> Result<T, CatalogError> {
    T::deserialize(v).map_err(|source| CatalogError::SbomInvalid {
        path: path.to_path_buf(),
        pointer: pointer.to_string(),
        source,
    })
}

// ---------------------------------------------------------------- purl → package

struct PurlParts {
    ty: String,
    namespace: Option<String>,
    name: String,
    version: Option<String>,
    qualifiers: HashMap<String, String>,
}

fn parse_purl(purl: &str) -> Option<PurlParts> {
    let p: packageurl::PackageUrl<'_> = purl.parse().ok()?;
    Some(PurlParts {
        ty: p.ty().to_string(),
        namespace: p.namespace().map(str::to_string),
        name: p.name().to_string(),
        version: p.version().map(str::to_string),
        qualifiers: p
            .qualifiers()
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    })
}

fn kind_from_purl_type(ty: &str) -> PackageType {
    match ty {
        "deb" => PackageType::Deb,
        "apk" => PackageType::Apk,
        "rpm" => PackageType::Rpm,
        "pypi" => PackageType::Python,
        "npm" => PackageType::Npm,
        "maven" => PackageType::JavaArchive,
        "golang" => PackageType::GoModule,
        "cargo" => PackageType::RustCrate,
        "gem" => PackageType::Gem,
        "composer" => PackageType::PhpComposer,
        "nuget" => PackageType::Dotnet,
        _ => PackageType::Unknown,
    }
}

fn kind_from_name(t: &str) -> PackageType {
    match t {
        "deb" => PackageType::Deb,
        "apk" => PackageType::Apk,
        "rpm" => PackageType::Rpm,
        "python" => PackageType::Python,
        "npm" => PackageType::Npm,
        "java-archive" | "jenkins-plugin" => PackageType::JavaArchive,
        "go-module" => PackageType::GoModule,
        "rust-crate" => PackageType::RustCrate,
        "gem" => PackageType::Gem,
        "php-composer" => PackageType::PhpComposer,
        "dotnet" => PackageType::Dotnet,
        _ => PackageType::Unknown,
    }
}

/// Builds a package from whatever the document gives: name/version/type hints plus a purl.
fn package(name: &str, version: &str, type_hint: Option<&str>, purl: Option<&str>) -> Package {
    let mut p = Package {
        name: name.to_string(),
        version: version.to_string(),
        kind: type_hint.map(kind_from_name).unwrap_or_default(),
        purl: purl.unwrap_or("").to_string(),
        ..Package::default()
    };
    if let Some(parts) = purl.and_then(parse_purl) {
        if p.kind == PackageType::Unknown {
            p.kind = kind_from_purl_type(&parts.ty);
        }
        match (p.kind, &parts.namespace) {
            (PackageType::Npm | PackageType::GoModule | PackageType::PhpComposer, Some(ns))
                if p.name.is_empty() || !p.name.contains('/') =>
            {
                p.name = format!("{ns}/{}", parts.name);
            }
            (PackageType::JavaArchive, Some(ns)) => {
                p.metadata.insert("group_id".into(), ns.clone().into());
                p.metadata
                    .insert("artifact_id".into(), parts.name.clone().into());
            }
            _ => {}
        }
        if p.name.is_empty() {
            p.name = parts.name.clone();
        }
        if p.version.is_empty()
            && let Some(v) = &parts.version
        {
            p.version = v.clone();
        }
        if p.kind == PackageType::Rpm
            && let Some(e) = parts.qualifiers.get("epoch")
            && !p.version.contains(':')
        {
            p.version = format!("{e}:{}", p.version);
        }
        if let Some(a) = parts.qualifiers.get("arch") {
            p.arch = Some(a.clone());
        }
        if let Some(u) = parts.qualifiers.get("upstream") {
            if p.kind == PackageType::Rpm {
                p.metadata.insert("source_rpm".into(), u.clone().into());
            } else {
                let (n, v) = match u.split_once('@') {
                    Some((n, v)) => (n.to_string(), Some(v.to_string())),
                    None => (u.clone(), None),
                };
                p.source_name = Some(n);
                p.source_version = v;
            }
        }
        if let Some(d) = parts.qualifiers.get("distro") {
            p.metadata.insert("purl_distro".into(), d.clone().into());
        }
    }
    p
}

fn distro_from_purls(packages: &[Package]) -> Option<Distro> {
    let q = packages
        .iter()
        .filter(|p| p.kind.is_os())
        .find_map(|p| p.metadata.get("purl_distro").and_then(Value::as_str))?;
    let (id, version) = match q.rsplit_once('-') {
        Some((id, v)) if v.starts_with(|c: char| c.is_ascii_digit()) => (id, v),
        _ => (q, ""),
    };
    Some(Distro {
        id: id.to_string(),
        version_id: version.to_string(),
        ..Distro::default()
    })
}

fn problem(path: &Path, message: String) -> Problem {
    Problem {
        source: SOURCE.into(),
        path: Some(path.display().to_string()),
        message,
    }
}

// ---------------------------------------------------------------- CycloneDX

#[derive(Deserialize)]
struct CdxComponent {
    #[serde(rename = "type", default)]
    kind: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    version: String,
    #[serde(default)]
    group: Option<String>,
    #[serde(default)]
    purl: Option<String>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    licenses: Vec<Value>,
    #[serde(default)]
    properties: Vec<CdxProperty>,
    #[serde(default)]
    components: Vec<CdxComponent>,
}

#[derive(Deserialize)]
struct CdxProperty {
    name: String,
    #[serde(default)]
    value: String,
}

fn cyclonedx(path: &Path, doc: &Value) -> Result<Inventory, CatalogError> {
    let spec = doc.get("specVersion").and_then(Value::as_str).unwrap_or("");
    if !matches!(spec, "1.4" | "1.5" | "1.6") {
        return Err(CatalogError::SbomFormat {
            path: path.to_path_buf(),
            reason: format!("CycloneDX specVersion `{spec}` (supported: 1.4, 1.5, 1.6)"),
        });
    }
    let components: Vec<CdxComponent> = match doc.get("components") {
        Some(c) => decode(path, "/components", c)?,
        None => Vec::new(),
    };
    let mut inv = Inventory::default();
    if let Some(meta) = doc.pointer("/metadata/component") {
        let c: CdxComponent = decode(path, "/metadata/component", meta)?;
        inv.source = SourceInfo {
            reference: (!c.name.is_empty()).then(|| c.name.clone()),
            manifest_digest: c.version.starts_with("sha256:").then(|| c.version.clone()),
            ..SourceInfo::default()
        };
    }
    let mut stack: Vec<CdxComponent> = components;
    while let Some(mut c) = stack.pop() {
        stack.extend(std::mem::take(&mut c.components));
        match c.kind.as_str() {
            "operating-system" => {
                inv.distro = Some(Distro {
                    id: c.name.to_ascii_lowercase(),
                    version_id: c.version.clone(),
                    pretty_name: c.description.clone().unwrap_or_default(),
                    ..Distro::default()
                });
                continue;
            }
            "container" | "file" | "data" | "machine-learning-model" => continue,
            _ => {}
        }
        let props: HashMap<&str, &str> = c
            .properties
            .iter()
            .map(|p| (p.name.as_str(), p.value.as_str()))
            .collect();
        let type_hint = props
            .get("tollgate:package:type")
            .or_else(|| props.get("syft:package:type"))
            .copied();
        let name = match (&c.group, c.purl.is_some()) {
            (Some(_), true) => String::new(), // let the purl decide (maven group → metadata)
            (Some(g), false) if !g.is_empty() => format!("{g}/{}", c.name),
            _ => c.name.clone(),
        };
        let mut p = package(&name, &c.version, type_hint, c.purl.as_deref());
        if p.name.is_empty() {
            p.name = c.name.clone();
        }
        if p.name.is_empty() {
            inv.problems.push(problem(
                path,
                "a component without a name was skipped".into(),
            ));
            continue;
        }
        p.licenses = cdx_licenses(&c.licenses);
        p.found_by = props
            .get("tollgate:package:foundBy")
            .or_else(|| props.get("syft:package:foundBy"))
            .map(|s| (*s).to_string())
            .unwrap_or_else(|| SOURCE.into());
        if let Some(a) = props.get("tollgate:package:arch") {
            p.arch = Some((*a).to_string());
        }
        if let Some(s) = props.get("tollgate:package:sourceName") {
            p.source_name = Some((*s).to_string());
        }
        if let Some(s) = props.get("tollgate:package:sourceVersion") {
            p.source_version = Some((*s).to_string());
        }
        for i in 0.. {
            let key = |f: &str| format!("tollgate:location:{i}:{f}");
            let syft = |f: &str| format!("syft:location:{i}:{f}");
            let Some(lp) = props
                .get(key("path").as_str())
                .or_else(|| props.get(syft("path").as_str()))
            else {
                break;
            };
            p.locations.push(Location {
                path: (*lp).to_string(),
                layer_digest: props
                    .get(key("layerID").as_str())
                    .or_else(|| props.get(syft("layerID").as_str()))
                    .map(|s| (*s).to_string())
                    .unwrap_or_default(),
                layer_index: props
                    .get(key("layerIndex").as_str())
                    .and_then(|s| s.parse().ok())
                    .unwrap_or(0),
            });
        }
        inv.packages.push(p);
    }
    Ok(inv)
}

fn cdx_licenses(list: &[Value]) -> Vec<String> {
    let mut out = Vec::new();
    for l in list {
        if let Some(e) = l.get("expression").and_then(Value::as_str) {
            out.push(e.to_string());
        } else if let Some(lic) = l.get("license") {
            if let Some(id) = lic.get("id").and_then(Value::as_str) {
                out.push(id.to_string());
            } else if let Some(n) = lic.get("name").and_then(Value::as_str) {
                out.extend(super::license::normalize(n));
            }
        }
    }
    out
}

// ---------------------------------------------------------------- SPDX

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SpdxPackage {
    #[serde(default)]
    name: String,
    #[serde(default)]
    version_info: String,
    #[serde(default)]
    license_declared: Option<String>,
    #[serde(default)]
    license_concluded: Option<String>,
    #[serde(default)]
    external_refs: Vec<SpdxRef>,
    #[serde(default)]
    primary_package_purpose: Option<String>,
    #[serde(default)]
    comment: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SpdxRef {
    #[serde(default)]
    reference_type: String,
    #[serde(default)]
    reference_locator: String,
}

fn spdx(path: &Path, doc: &Value) -> Result<Inventory, CatalogError> {
    let version = doc.get("spdxVersion").and_then(Value::as_str).unwrap_or("");
    if version != "SPDX-2.3" && version != "SPDX-2.2" {
        return Err(CatalogError::SbomFormat {
            path: path.to_path_buf(),
            reason: format!("`{version}` (supported: SPDX-2.3 JSON; 2.2 is read as 2.3)"),
        });
    }
    let packages: Vec<SpdxPackage> = match doc.get("packages") {
        Some(p) => decode(path, "/packages", p)?,
        None => Vec::new(),
    };
    let mut inv = Inventory::default();
    if let Some(n) = doc.get("name").and_then(Value::as_str) {
        inv.source.reference = Some(n.to_string());
    }
    for sp in packages {
        match sp.primary_package_purpose.as_deref() {
            Some("OPERATING_SYSTEM" | "OPERATING-SYSTEM") => {
                inv.distro = Some(Distro {
                    id: sp.name.to_ascii_lowercase(),
                    version_id: sp.version_info.clone(),
                    pretty_name: sp.comment.clone().unwrap_or_default(),
                    ..Distro::default()
                });
                continue;
            }
            Some("CONTAINER") => continue,
            _ => {}
        }
        let purl = sp
            .external_refs
            .iter()
            .find(|r| r.reference_type == "purl")
            .map(|r| r.reference_locator.as_str());
        let type_hint = sp.comment.as_deref().and_then(|c| c.strip_prefix("type: "));
        if purl.is_none() && type_hint.is_none() {
            // Files, the image itself, or packages with no ecosystem identity.
            inv.problems.push(problem(
                path,
                format!("package `{}` has no purl; skipped", sp.name),
            ));
            continue;
        }
        let mut p = package(&sp.name, &sp.version_info, type_hint, purl);
        p.found_by = SOURCE.into();
        for l in [&sp.license_declared, &sp.license_concluded]
            .into_iter()
            .flatten()
        {
            if l != "NOASSERTION" && l != "NONE" {
                p.licenses.push(l.clone());
                break;
            }
        }
        inv.packages.push(p);
    }
    Ok(inv)
}

// ---------------------------------------------------------------- syft

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SyftArtifact {
    #[serde(default)]
    name: String,
    #[serde(default)]
    version: String,
    #[serde(rename = "type", default)]
    kind: String,
    #[serde(default)]
    found_by: String,
    #[serde(default)]
    purl: Option<String>,
    #[serde(default)]
    licenses: Vec<Value>,
    #[serde(default)]
    locations: Vec<SyftLocation>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SyftLocation {
    path: String,
    #[serde(default, rename = "layerID")]
    layer_id: Option<String>,
}

fn syft(path: &Path, doc: &Value) -> Result<Inventory, CatalogError> {
    let artifacts: Vec<SyftArtifact> = decode(path, "/artifacts", &doc["artifacts"])?;
    let mut inv = Inventory::default();
    if let Some(d) = doc.get("distro").filter(|d| d.is_object()) {
        let s = |k: &str| d.get(k).and_then(Value::as_str).unwrap_or("").to_string();
        if !s("id").is_empty() {
            inv.distro = Some(Distro {
                id: s("id"),
                version_id: s("versionID"),
                codename: Some(s("versionCodename")).filter(|c| !c.is_empty()),
                pretty_name: s("prettyName"),
                ..Distro::default()
            });
        }
    }
    if let Some(m) = doc.pointer("/source/metadata") {
        let s = |k: &str| m.get(k).and_then(Value::as_str).map(str::to_string);
        inv.source.reference = s("userInput");
        inv.source.manifest_digest = s("manifestDigest");
        inv.config.digest = s("imageID").unwrap_or_default();
    }
    let layer_index: HashMap<String, usize> = doc
        .pointer("/source/metadata/layers")
        .and_then(Value::as_array)
        .map(|ls| {
            ls.iter()
                .enumerate()
                .filter_map(|(i, l)| Some((l.get("digest")?.as_str()?.to_string(), i)))
                .collect()
        })
        .unwrap_or_default();
    for a in artifacts {
        if a.name.is_empty() {
            inv.problems.push(problem(
                path,
                "an artifact without a name was skipped".into(),
            ));
            continue;
        }
        let mut p = package(&a.name, &a.version, Some(&a.kind), a.purl.as_deref());
        p.name = a.name.clone();
        p.found_by = if a.found_by.is_empty() {
            SOURCE.into()
        } else {
            a.found_by.clone()
        };
        for l in &a.licenses {
            let v = match l {
                Value::String(s) => Some(s.clone()),
                Value::Object(o) => o
                    .get("spdxExpression")
                    .and_then(Value::as_str)
                    .filter(|s| !s.is_empty())
                    .or_else(|| o.get("value").and_then(Value::as_str))
                    .map(str::to_string),
                _ => None,
            };
            p.licenses
                .extend(v.and_then(|v| super::license::normalize(&v)));
        }
        p.licenses.dedup();
        p.locations = a
            .locations
            .iter()
            .map(|l| {
                let digest = l.layer_id.clone().unwrap_or_default();
                Location {
                    path: l.path.clone(),
                    layer_index: layer_index.get(&digest).copied().unwrap_or(0),
                    layer_digest: digest,
                }
            })
            .collect();
        inv.packages.push(p);
    }
    Ok(inv)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_unknown_documents() {
        let p = Path::new("x.json");
        assert!(matches!(
            parse(p, b"not json"),
            Err(CatalogError::SbomFormat { .. })
        ));
        assert!(matches!(
            parse(p, br#"{"hello": 1}"#),
            Err(CatalogError::SbomFormat { .. })
        ));
        assert!(matches!(
            parse(p, br#"{"bomFormat": "CycloneDX", "specVersion": "1.2"}"#),
            Err(CatalogError::SbomFormat { .. })
        ));
        assert!(matches!(
            parse(
                p,
                br#"{"bomFormat": "CycloneDX", "specVersion": "1.5", "components": 3}"#
            ),
            Err(CatalogError::SbomInvalid { .. })
        ));
    }

    #[test]
    fn cyclonedx_from_another_tool() {
        let doc = br#"{"bomFormat":"CycloneDX","specVersion":"1.5","components":[
          {"type":"library","name":"libc6","version":"2.36-9+deb12u4","purl":"pkg:deb/debian/libc6@2.36-9%2Bdeb12u4?arch=amd64&distro=debian-12&upstream=glibc"},
          {"type":"library","group":"org.apache.logging.log4j","name":"log4j-core","version":"2.14.1","purl":"pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1"},
          {"type":"library","name":"node","version":"18.0.0","purl":"pkg:npm/%40types/node@18.0.0","licenses":[{"license":{"id":"MIT"}}]},
          {"type":"library","version":"1"}
        ]}"#;
        let inv = parse(Path::new("t.json"), doc).unwrap();
        assert_eq!(inv.distro.as_ref().unwrap().version_id, "12");
        let names: Vec<_> = inv
            .packages
            .iter()
            .map(|p| (p.kind, p.name.as_str()))
            .collect();
        assert!(names.contains(&(PackageType::Deb, "libc6")));
        assert!(names.contains(&(PackageType::JavaArchive, "log4j-core")));
        assert!(names.contains(&(PackageType::Npm, "@types/node")));
        let libc = inv.packages.iter().find(|p| p.name == "libc6").unwrap();
        assert_eq!(libc.source_name.as_deref(), Some("glibc"));
        assert_eq!(inv.problems.len(), 1);
    }

    #[test]
    fn syft_json() {
        let doc = br#"{"artifacts":[{"name":"requests","version":"2.19.1","type":"python","foundBy":"python-installed-package-cataloger",
            "purl":"pkg:pypi/requests@2.19.1","licenses":[{"value":"Apache 2.0","spdxExpression":"Apache-2.0"}],
            "locations":[{"path":"/usr/lib/python3/dist-packages/requests-2.19.1.dist-info/METADATA","layerID":"sha256:bb"}]}],
            "distro":{"id":"debian","versionID":"12"},
            "source":{"metadata":{"userInput":"app:1","layers":[{"digest":"sha256:aa"},{"digest":"sha256:bb"}]}}}"#;
        let inv = parse(Path::new("s.json"), doc).unwrap();
        let p = &inv.packages[0];
        assert_eq!(
            (p.kind, p.licenses[0].as_str()),
            (PackageType::Python, "Apache-2.0")
        );
        assert_eq!(p.locations[0].layer_index, 1);
        assert_eq!(inv.distro.unwrap().id, "debian");
    }
}
