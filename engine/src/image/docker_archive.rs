//! `docker save` tars (`docker-archive:`) → a [`Plan`]: reads `manifest.json`, picks the image
//! by `repo:tag` or `@N` when the tar holds several, verifies the config against the image ID
//! and plans each layer with the right check: a `blobs/sha256/<hex>` member (docker 25+) must
//! hash to its name, a legacy `<id>/layer.tar` must decompress to its config `diff_id`.
//!
//! It does not read layers itself (`assemble` + `layer` do).

use serde::Deserialize;

use super::archive::Store;
use super::assemble::{Plan, PlannedLayer};
use super::error::ImageError;
use super::layer::Verify;
use super::manifest::parse_config;
use super::model::{LayerInfo, SourceInfo};
use super::reference::parse_registry;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Entry {
    config: String,
    #[serde(default)]
    repo_tags: Option<Vec<String>>,
    #[serde(default)]
    layers: Vec<String>,
}

/// The `sha256:<hex>` a member name encodes (`blobs/sha256/<hex>` or `<hex>.json`).
fn digest_from_name(name: &str) -> Option<String> {
    let base = name
        .strip_prefix("blobs/sha256/")
        .or_else(|| name.strip_suffix(".json"))?;
    (base.len() == 64 && base.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| format!("sha256:{}", base.to_ascii_lowercase()))
}

fn tag_matches(tag: &str, pick: &str) -> bool {
    if tag == pick {
        return true;
    }
    match (parse_registry(tag, tag), parse_registry(pick, pick)) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

/// Plans the picked image of a `docker save` tar.
pub(crate) fn plan(store: &dyn Store, input: &str, pick: Option<&str>) -> Result<Plan, ImageError> {
    let location = store.location();
    let bytes = store.read_small("manifest.json")?;
    let entries: Vec<Entry> =
        serde_json::from_slice(&bytes).map_err(|source| ImageError::BadJson {
            what: "docker-archive manifest.json",
            location: format!("{location}:manifest.json"),
            source,
        })?;
    let names = |entries: &[Entry]| -> Vec<String> {
        entries
            .iter()
            .enumerate()
            .flat_map(|(i, e)| match &e.repo_tags {
                Some(t) if !t.is_empty() => t.clone(),
                _ => vec![format!("@{i}")],
            })
            .collect()
    };
    let entry = match pick {
        Some(p) if p.starts_with('@') => {
            let n: Option<usize> = p[1..].parse().ok();
            n.and_then(|n| entries.get(n))
                .ok_or_else(|| ImageError::ImageNotFound {
                    location: location.clone(),
                    wanted: p.to_string(),
                    available: names(&entries).join(", "),
                })?
        }
        Some(p) => entries
            .iter()
            .find(|e| e.repo_tags.iter().flatten().any(|t| tag_matches(t, p)))
            .ok_or_else(|| ImageError::ImageNotFound {
                location: location.clone(),
                wanted: p.to_string(),
                available: names(&entries).join(", "),
            })?,
        None => match entries.as_slice() {
            [one] => one,
            [] => {
                return Err(ImageError::InvalidImage {
                    location: format!("{location}:manifest.json"),
                    reason: "the archive lists no images".into(),
                });
            }
            many => {
                let n = names(many);
                return Err(ImageError::AmbiguousImage {
                    location,
                    count: many.len(),
                    example: n.first().cloned().unwrap_or_else(|| "@0".into()),
                    available: n.join(", "),
                });
            }
        },
    };
    let config_bytes = store.read_small(&entry.config)?;
    let actual = super::fixture::sha256_digest(&config_bytes);
    let config_digest = match digest_from_name(&entry.config) {
        Some(expected) if expected != actual => {
            return Err(ImageError::DigestMismatch {
                expected,
                actual,
                location: format!("{location}:{}", entry.config),
            });
        }
        _ => actual,
    };
    let config = parse_config(
        &config_bytes,
        &config_digest,
        &format!("{location}:{}", entry.config),
    )?;
    let mut layers = Vec::new();
    for (i, member) in entry.layers.iter().enumerate() {
        let diff_id = config.diff_ids.get(i).cloned().unwrap_or_default();
        let (digest, verify) = match digest_from_name(member)
            .filter(|_| member.starts_with("blobs/"))
        {
            Some(d) => (d.clone(), Verify::Blob(d)),
            None if !diff_id.is_empty() => (diff_id.clone(), Verify::Uncompressed(diff_id.clone())),
            None => (member.clone(), Verify::None),
        };
        let size = store.size(member).ok_or_else(|| ImageError::MissingBlob {
            digest: member.clone(),
            location: location.clone(),
        })?;
        layers.push(PlannedLayer {
            member: member.clone(),
            info: LayerInfo {
                index: i,
                digest,
                diff_id,
                media_type: "application/vnd.docker.image.rootfs.diff.tar".into(),
                size,
                ..Default::default()
            },
            verify,
        });
    }
    Ok(Plan {
        source: SourceInfo {
            scheme: "docker-archive".into(),
            input: input.to_string(),
            reference: None,
            tags: entry.repo_tags.clone().unwrap_or_default(),
            manifest_digest: None,
            index_digest: None,
            repo_digests: Vec::new(),
        },
        config,
        layers,
    })
}
