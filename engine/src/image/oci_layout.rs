//! OCI image layouts (`oci-dir:` directories and `oci-archive:` tars) → [`Plan`]s: reads
//! `index.json`, picks the manifest by ref name (`org.opencontainers.image.ref.name`, or the
//! containerd image name docker 25+ writes), by `@N`, or by platform through nested indexes,
//! and verifies every manifest and config against its digest.
//!
//! It does not read layers (that is `assemble` + `layer`); layer blobs are verified while they
//! stream.

use super::archive::Store;
use super::assemble::{Plan, PlannedLayer};
use super::error::ImageError;
use super::layer::Verify;
use super::manifest::{
    Descriptor, Doc, digest_hex, parse_config, parse_doc, platform_entries, select_platform,
};
use super::model::{LayerInfo, Platform, SourceInfo};
use super::reference::parse_registry;

const REF_NAME: &str = "org.opencontainers.image.ref.name";
const CONTAINERD_NAME: &str = "io.containerd.image.name";

/// Which platforms to resolve.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Want<'a> {
    /// One platform (default linux/amd64 for indexes).
    One(Option<&'a Platform>),
    /// Every platform of an index.
    All,
}

/// Reads a blob and checks its digest.
pub(crate) fn read_verified_blob(
    store: &dyn Store,
    digest: &str,
    location: &str,
) -> Result<Vec<u8>, ImageError> {
    let hex = digest_hex(digest, location)?;
    let bytes = store.read_small(&format!("blobs/sha256/{hex}"))?;
    let actual = super::fixture::sha256_digest(&bytes);
    if actual != digest {
        return Err(ImageError::DigestMismatch {
            expected: digest.to_string(),
            actual,
            location: location.to_string(),
        });
    }
    Ok(bytes)
}

fn descriptor_names(d: &Descriptor) -> Vec<&str> {
    let mut v = Vec::new();
    if let Some(a) = &d.annotations {
        for key in [REF_NAME, CONTAINERD_NAME] {
            if let Some(n) = a.get(key) {
                v.push(n.as_str());
            }
        }
    }
    v
}

fn pick_matches(d: &Descriptor, pick: &str) -> bool {
    let normalized = parse_registry(pick, pick).ok().map(|r| r.to_string());
    descriptor_names(d).iter().any(|n| {
        *n == pick
            || normalized.is_some()
                && parse_registry(n, n).ok().map(|r| r.to_string()) == normalized
    })
}

/// Plans the image(s) of an OCI layout.
pub(crate) fn plan(
    store: &dyn Store,
    input: &str,
    scheme: &str,
    pick: Option<&str>,
    want: Want<'_>,
) -> Result<Vec<Plan>, ImageError> {
    let location = store.location();
    let index_bytes = store.read_small("index.json")?;
    let manifests = match parse_doc(&index_bytes, &format!("{location}/index.json"))? {
        Doc::Index { manifests } => manifests,
        Doc::Manifest { .. } => {
            return Err(ImageError::InvalidImage {
                location: format!("{location}/index.json"),
                reason: "`index.json` is a manifest, not an index".into(),
            });
        }
    };
    let chosen: Vec<&Descriptor> = match pick {
        Some(p) if p.starts_with('@') => {
            let n: usize = p[1..].parse().map_err(|_| ImageError::InvalidReference {
                input: input.to_string(),
                reason: "`@N` needs a number".into(),
            })?;
            vec![
                manifests
                    .get(n)
                    .ok_or_else(|| not_found(&location, p, &manifests))?,
            ]
        }
        Some(p) => {
            let found: Vec<&Descriptor> = manifests.iter().filter(|d| pick_matches(d, p)).collect();
            if found.is_empty() {
                return Err(not_found(&location, p, &manifests));
            }
            found
        }
        None => manifests.iter().collect(),
    };
    // Several top-level entries: a platform-annotated set behaves like an index; otherwise the
    // user must pick one.
    let with_platform = platform_entries(&manifests).len();
    if chosen.len() > 1 && with_platform != manifests.len() {
        let names: Vec<String> = chosen
            .iter()
            .enumerate()
            .map(|(i, d)| {
                descriptor_names(d)
                    .first()
                    .map_or_else(|| format!("@{i}"), |n| n.to_string())
            })
            .collect();
        return Err(ImageError::AmbiguousImage {
            location,
            count: chosen.len(),
            example: names.first().cloned().unwrap_or_else(|| "@0".into()),
            available: names.join(", "),
        });
    }
    if chosen.is_empty() {
        return Err(ImageError::InvalidImage {
            location: format!("{location}/index.json"),
            reason: "the index lists no manifests".into(),
        });
    }
    let owned: Vec<Descriptor> = chosen.into_iter().cloned().collect();
    let tags: Vec<String> = owned
        .iter()
        .flat_map(|d| descriptor_names(d).into_iter().map(str::to_string))
        .collect();
    let targets = if owned.len() > 1 {
        resolve_index(store, &owned, None, want, &location, 0)?
    } else {
        resolve(store, &owned[0], None, want, &location, 0)?
    };
    targets
        .into_iter()
        .map(|(desc, index_digest)| {
            let bytes = read_verified_blob(store, &desc.digest, &location)?;
            let Doc::Manifest { config, layers } = parse_doc(&bytes, &desc.digest)? else {
                return Err(ImageError::InvalidImage {
                    location: location.clone(),
                    reason: "nested indexes are deeper than supported".into(),
                });
            };
            let config_bytes = read_verified_blob(store, &config.digest, &location)?;
            let cfg = parse_config(&config_bytes, &config.digest, &location)?;
            let mut planned = Vec::new();
            for (i, l) in layers.iter().enumerate() {
                let hex = digest_hex(&l.digest, &location)?;
                planned.push(PlannedLayer {
                    member: format!("blobs/sha256/{hex}"),
                    info: LayerInfo {
                        index: i,
                        digest: l.digest.clone(),
                        diff_id: cfg.diff_ids.get(i).cloned().unwrap_or_default(),
                        media_type: l.media_type.clone(),
                        size: l.size,
                        ..Default::default()
                    },
                    verify: Verify::Blob(l.digest.clone()),
                });
            }
            Ok(Plan {
                source: SourceInfo {
                    scheme: scheme.to_string(),
                    input: input.to_string(),
                    reference: None,
                    tags: tags.clone(),
                    manifest_digest: Some(desc.digest.clone()),
                    index_digest,
                    repo_digests: Vec::new(),
                },
                config: cfg,
                layers: planned,
            })
        })
        .collect()
}

fn not_found(location: &str, wanted: &str, manifests: &[Descriptor]) -> ImageError {
    let available: Vec<String> = manifests
        .iter()
        .enumerate()
        .map(|(i, d)| {
            descriptor_names(d)
                .first()
                .map_or_else(|| format!("@{i}"), |n| n.to_string())
        })
        .collect();
    ImageError::ImageNotFound {
        location: location.to_string(),
        wanted: wanted.to_string(),
        available: available.join(", "),
    }
}

type Target = (Descriptor, Option<String>);

fn resolve(
    store: &dyn Store,
    desc: &Descriptor,
    parent_index: Option<String>,
    want: Want<'_>,
    location: &str,
    depth: usize,
) -> Result<Vec<Target>, ImageError> {
    if super::manifest::INDEX_TYPES.contains(&desc.media_type.as_str())
        || desc.media_type.is_empty()
    {
        let bytes = read_verified_blob(store, &desc.digest, location)?;
        match parse_doc(&bytes, &desc.digest)? {
            Doc::Index { manifests } => {
                return resolve_index(
                    store,
                    &manifests,
                    Some(desc.digest.clone()),
                    want,
                    location,
                    depth + 1,
                );
            }
            Doc::Manifest { .. } => return Ok(vec![(desc.clone(), parent_index)]),
        }
    }
    Ok(vec![(desc.clone(), parent_index)])
}

fn resolve_index(
    store: &dyn Store,
    manifests: &[Descriptor],
    index_digest: Option<String>,
    want: Want<'_>,
    location: &str,
    depth: usize,
) -> Result<Vec<Target>, ImageError> {
    if depth > 4 {
        return Err(ImageError::InvalidImage {
            location: location.to_string(),
            reason: "indexes nested more than 4 deep".into(),
        });
    }
    match want {
        Want::One(p) => {
            let d = select_platform(manifests, p, location)?;
            resolve(store, d, index_digest, want, location, depth)
        }
        Want::All => {
            let entries = platform_entries(manifests);
            let list: Vec<&Descriptor> = if entries.is_empty() {
                manifests.iter().collect()
            } else {
                entries.into_iter().map(|(d, _)| d).collect()
            };
            let mut out = Vec::new();
            for d in list {
                out.extend(resolve(
                    store,
                    d,
                    index_digest.clone(),
                    want,
                    location,
                    depth,
                )?);
            }
            Ok(out)
        }
    }
}
