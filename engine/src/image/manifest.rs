//! The JSON documents of an image — OCI/Docker manifests, indexes / manifest lists and image
//! configs — parsed leniently into plain structs, plus platform parsing and selection.
//!
//! It does no I/O: callers hand it bytes and a location string for error messages. Docker
//! schema 1 manifests are rejected with a clear error.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::error::ImageError;
use super::model::{HistoryEntry, ImageConfig, Platform};

/// Manifest-ish media types.
pub(crate) const INDEX_TYPES: &[&str] = &[
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
];

/// A content descriptor.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Descriptor {
    #[serde(default)]
    pub(crate) media_type: String,
    pub(crate) digest: String,
    #[serde(default)]
    pub(crate) size: u64,
    #[serde(default)]
    pub(crate) platform: Option<PlatformJson>,
    #[serde(default)]
    pub(crate) annotations: Option<BTreeMap<String, String>>,
}

/// A platform as written in an index.
#[derive(Debug, Clone, Deserialize, Default)]
pub(crate) struct PlatformJson {
    #[serde(default)]
    pub(crate) os: String,
    #[serde(default)]
    pub(crate) architecture: String,
    #[serde(default)]
    pub(crate) variant: Option<String>,
}

impl PlatformJson {
    pub(crate) fn to_platform(&self) -> Platform {
        Platform {
            os: self.os.clone(),
            architecture: self.architecture.clone(),
            variant: self.variant.clone().filter(|v| !v.is_empty()),
        }
    }
}

/// A manifest or an index: which one is decided by `mediaType` or by the fields present.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ManifestDoc {
    #[serde(default)]
    pub(crate) schema_version: Option<u32>,
    #[serde(default)]
    pub(crate) media_type: Option<String>,
    #[serde(default)]
    pub(crate) config: Option<Descriptor>,
    #[serde(default)]
    pub(crate) layers: Option<Vec<Descriptor>>,
    #[serde(default)]
    pub(crate) manifests: Option<Vec<Descriptor>>,
}

/// A parsed document.
#[derive(Debug, Clone)]
pub(crate) enum Doc {
    /// An image manifest: config and layers.
    Manifest {
        config: Descriptor,
        layers: Vec<Descriptor>,
    },
    /// An index / manifest list.
    Index { manifests: Vec<Descriptor> },
}

/// Parses a manifest or index.
pub(crate) fn parse_doc(bytes: &[u8], location: &str) -> Result<Doc, ImageError> {
    let doc: ManifestDoc = serde_json::from_slice(bytes).map_err(|source| ImageError::BadJson {
        what: "manifest",
        location: location.to_string(),
        source,
    })?;
    if doc.schema_version == Some(1) {
        return Err(ImageError::InvalidImage {
            location: location.to_string(),
            reason: "Docker schema 1 manifests are not supported".into(),
        });
    }
    let is_index = doc
        .media_type
        .as_deref()
        .is_some_and(|m| INDEX_TYPES.contains(&m))
        || (doc.manifests.is_some() && doc.layers.is_none());
    if is_index {
        return Ok(Doc::Index {
            manifests: doc.manifests.unwrap_or_default(),
        });
    }
    match (doc.config, doc.layers) {
        (Some(config), Some(layers)) => Ok(Doc::Manifest { config, layers }),
        _ => Err(ImageError::InvalidImage {
            location: location.to_string(),
            reason: "manifest has no `config` or no `layers`".into(),
        }),
    }
}

#[derive(Debug, Deserialize, Default)]
struct ConfigJson {
    #[serde(default)]
    architecture: String,
    #[serde(default)]
    os: String,
    #[serde(default)]
    variant: Option<String>,
    #[serde(default)]
    created: Option<String>,
    #[serde(default)]
    config: Option<RunConfig>,
    #[serde(default)]
    history: Option<Vec<HistoryJson>>,
    #[serde(default)]
    rootfs: Option<RootFs>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
struct RunConfig {
    #[serde(default)]
    env: Option<Vec<String>>,
    #[serde(default)]
    user: Option<String>,
    #[serde(default)]
    exposed_ports: Option<BTreeMap<String, serde_json::Value>>,
    #[serde(default)]
    entrypoint: Option<Vec<String>>,
    #[serde(default)]
    cmd: Option<Vec<String>>,
    #[serde(default)]
    working_dir: Option<String>,
    #[serde(default)]
    labels: Option<BTreeMap<String, String>>,
    #[serde(default)]
    volumes: Option<BTreeMap<String, serde_json::Value>>,
}

#[derive(Debug, Deserialize, Default)]
struct HistoryJson {
    #[serde(default)]
    created: Option<String>,
    #[serde(default)]
    created_by: Option<String>,
    #[serde(default)]
    empty_layer: Option<bool>,
    #[serde(default)]
    comment: Option<String>,
}

#[derive(Debug, Deserialize, Default)]
struct RootFs {
    #[serde(default)]
    diff_ids: Vec<String>,
}

/// Parses an image config blob.
pub(crate) fn parse_config(
    bytes: &[u8],
    digest: &str,
    location: &str,
) -> Result<ImageConfig, ImageError> {
    let c: ConfigJson = serde_json::from_slice(bytes).map_err(|source| ImageError::BadJson {
        what: "image config",
        location: location.to_string(),
        source,
    })?;
    let run = c.config.unwrap_or_default();
    Ok(ImageConfig {
        digest: digest.to_string(),
        platform: Platform {
            os: c.os,
            architecture: c.architecture,
            variant: c.variant.filter(|v| !v.is_empty()),
        },
        created: c.created,
        env: run.env.unwrap_or_default(),
        user: run.user.unwrap_or_default(),
        exposed_ports: run
            .exposed_ports
            .map(|p| p.into_keys().collect())
            .unwrap_or_default(),
        entrypoint: run.entrypoint.unwrap_or_default(),
        cmd: run.cmd.unwrap_or_default(),
        working_dir: run.working_dir.unwrap_or_default(),
        labels: run.labels.unwrap_or_default(),
        volumes: run
            .volumes
            .map(|v| v.into_keys().collect())
            .unwrap_or_default(),
        history: c
            .history
            .unwrap_or_default()
            .into_iter()
            .map(|h| HistoryEntry {
                created: h.created,
                created_by: h.created_by.unwrap_or_default(),
                empty_layer: h.empty_layer.unwrap_or(false),
                comment: h.comment,
            })
            .collect(),
        diff_ids: c.rootfs.map(|r| r.diff_ids).unwrap_or_default(),
    })
}

/// Parses `os/arch[/variant]`; `arch` alone means `linux/arch`.
pub fn parse_platform(s: &str) -> Result<Platform, ImageError> {
    let parts: Vec<&str> = s.split('/').collect();
    let bad = || ImageError::InvalidReference {
        input: s.to_string(),
        reason: "a platform is `os/arch[/variant]`, e.g. `linux/arm/v7`".into(),
    };
    let (os, arch, variant) = match parts.as_slice() {
        [arch] if !arch.is_empty() => ("linux", *arch, None),
        [os, arch] => (*os, *arch, None),
        [os, arch, v] => (*os, *arch, Some(*v)),
        _ => return Err(bad()),
    };
    if os.is_empty() || arch.is_empty() || variant.is_some_and(str::is_empty) {
        return Err(bad());
    }
    Ok(Platform {
        os: os.to_ascii_lowercase(),
        architecture: normalize_arch(arch).to_string(),
        variant: variant.map(|v| v.to_ascii_lowercase()),
    })
}

fn normalize_arch(a: &str) -> &str {
    match a {
        "x86_64" | "x86-64" => "amd64",
        "aarch64" => "arm64",
        "i386" | "i686" => "386",
        "armhf" | "armel" => "arm",
        other => other,
    }
}

/// Whether an index entry's platform satisfies the wanted one. A wanted variant must match
/// (arm64's implicit variant is `v8`); with no wanted variant any variant matches.
pub(crate) fn platform_matches(have: &Platform, want: &Platform) -> bool {
    if have.os != want.os || normalize_arch(&have.architecture) != want.architecture {
        return false;
    }
    match &want.variant {
        None => true,
        Some(v) => {
            let have_v = have
                .variant
                .as_deref()
                .or(match want.architecture.as_str() {
                    "arm64" => Some("v8"),
                    _ => None,
                });
            have_v == Some(v.as_str())
        }
    }
}

/// The default platform: linux/amd64.
pub fn default_platform() -> Platform {
    Platform {
        os: "linux".into(),
        architecture: "amd64".into(),
        variant: None,
    }
}

/// Index entries that are images for a real platform (buildx attestations, `unknown/unknown`,
/// are skipped).
pub(crate) fn platform_entries(manifests: &[Descriptor]) -> Vec<(&Descriptor, Platform)> {
    manifests
        .iter()
        .filter_map(|d| {
            let p = d.platform.as_ref()?.to_platform();
            (p.os != "unknown" && p.architecture != "unknown").then_some((d, p))
        })
        .collect()
}

/// Picks the manifest for `want` (or linux/amd64) from an index. With no wanted variant an
/// entry without a variant is preferred.
pub(crate) fn select_platform<'a>(
    manifests: &'a [Descriptor],
    want: Option<&Platform>,
    location: &str,
) -> Result<&'a Descriptor, ImageError> {
    let entries = platform_entries(manifests);
    if entries.is_empty() {
        // An index without platforms (e.g. an OCI layout wrapper): one manifest is unambiguous.
        if let [only] = manifests {
            return Ok(only);
        }
    }
    let default = default_platform();
    let want = want.unwrap_or(&default);
    let mut matching: Vec<&(&Descriptor, Platform)> = entries
        .iter()
        .filter(|(_, p)| platform_matches(p, want))
        .collect();
    matching.sort_by_key(|(_, p)| p.variant.is_some());
    match matching.first() {
        Some((d, _)) => Ok(d),
        None => Err(ImageError::PlatformNotFound {
            location: location.to_string(),
            wanted: want.to_string(),
            available: entries
                .iter()
                .map(|(_, p)| p.to_string())
                .collect::<Vec<_>>()
                .join(", "),
        }),
    }
}

/// Checks a digest is `sha256:<64 hex>` and returns the hex part.
pub(crate) fn digest_hex<'a>(digest: &'a str, location: &str) -> Result<&'a str, ImageError> {
    match digest.strip_prefix("sha256:") {
        Some(h) if h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()) => Ok(h),
        _ => Err(ImageError::BadDigest {
            digest: digest.to_string(),
            location: location.to_string(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(os: &str, arch: &str, v: Option<&str>, digest: &str) -> Descriptor {
        Descriptor {
            digest: digest.into(),
            platform: Some(PlatformJson {
                os: os.into(),
                architecture: arch.into(),
                variant: v.map(Into::into),
            }),
            ..Default::default()
        }
    }

    #[test]
    fn variants_matter() {
        let m = vec![
            d("linux", "arm", Some("v6"), "a"),
            d("linux", "arm", Some("v7"), "b"),
            d("linux", "arm64", None, "c"),
            d("unknown", "unknown", None, "att"),
            d("linux", "amd64", None, "e"),
        ];
        let pick = |s: &str| {
            select_platform(&m, Some(&parse_platform(s).unwrap()), "x").map(|d| d.digest.clone())
        };
        assert_eq!(pick("linux/arm/v7").unwrap(), "b");
        assert_eq!(pick("linux/arm/v6").unwrap(), "a");
        assert_eq!(pick("linux/arm64/v8").unwrap(), "c");
        assert_eq!(pick("linux/amd64").unwrap(), "e");
        assert!(matches!(
            pick("linux/arm/v5"),
            Err(ImageError::PlatformNotFound { .. })
        ));
        assert_eq!(select_platform(&m, None, "x").unwrap().digest, "e");
    }
}
