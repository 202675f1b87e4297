//! SBOMs in the registry, next to the image they describe: [`attach_sbom`] pushes a scan's
//! CycloneDX SBOM as an OCI 1.1 referrer artifact (`artifactType`
//! `application/vnd.cyclonedx+json`, `subject` = the image manifest), and [`import_sbom`] finds
//! that artifact again and records it in the local store (no layer is pulled), so a
//! `tollgate watch` job on another machine works from the registry's SBOMs.
//!
//! Registries without the referrers API (no `OCI-Subject` header on the manifest PUT; a 404
//! from `/v2/<name>/referrers/<digest>`) get the referrers tag schema of the OCI distribution
//! spec 1.1: an image index tagged `sha256-<hex of the subject>` listing the artifacts; pushing
//! adds to it, importing reads it. Authentication, TLS and insecure registries are exactly the
//! pull path's (`image::registry`).
//!
//! Does not scan or match. Invariants: every fetched manifest and blob is verified against its
//! digest; registry errors name the HTTP status and the registry, never credentials; the tag
//! schema index is read-modify-written without a lock (two concurrent pushers may drop one
//! entry — the artifact itself stays pushed and pushing again re-adds it).

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::analysis::Analysis;
use crate::image::{ImageError, LoadOptions, Platform, RegistryAccess, RegistryRef};

/// The artifact type (and layer media type) of a CycloneDX JSON SBOM.
pub const CYCLONEDX_ARTIFACT_TYPE: &str = "application/vnd.cyclonedx+json";
const MANIFEST_MT: &str = "application/vnd.oci.image.manifest.v1+json";
const INDEX_MT: &str = "application/vnd.oci.image.index.v1+json";
const EMPTY_MT: &str = "application/vnd.oci.empty.v1+json";
const EMPTY_DIGEST: &str =
    "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a";
const ACCEPT: &str = "application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.docker.distribution.manifest.v2+json";
const MAX_MANIFEST: usize = 4 * 1024 * 1024;
const MAX_SBOM: usize = 512 * 1024 * 1024;
const ATTEMPTS: u32 = 3;

/// Failures of SBOM push or import.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum AttachError {
    /// The scanned image came from no registry.
    #[error("`--attach-sbom` needs an image from a registry, not `{input}`")]
    #[diagnostic(
        code("tollgate::watch::attach-not-registry"),
        help("scan `registry/repo:tag` (or drop `--attach-sbom` for local sources)")
    )]
    NotRegistry {
        /// The scanned input.
        input: String,
    },

    /// The analysis has no manifest digest to attach to.
    #[error("the analysis of `{input}` has no manifest digest to attach the SBOM to")]
    #[diagnostic(
        code("tollgate::watch::attach-no-subject"),
        help("scan the image from its registry so its manifest digest is known")
    )]
    NoSubject {
        /// The scanned input.
        input: String,
    },

    /// Opening the registry session failed (auth, TLS, network).
    #[error(transparent)]
    #[diagnostic(transparent)]
    Image(#[from] ImageError),

    /// The registry refused the credentials.
    #[error("registry `{registry}` refused {what} (HTTP {status}): {message}")]
    #[diagnostic(
        code("tollgate::watch::attach-unauthorized"),
        help(
            "log in with push rights for `{registry}` (docker config.json / `--username`/`--password`)"
        )
    )]
    Unauthorized {
        /// Registry host.
        registry: String,
        /// What was attempted.
        what: String,
        /// 401 or 403.
        status: u16,
        /// The registry's message (truncated).
        message: String,
    },

    /// The image or repository does not exist.
    #[error("registry `{registry}` has no {what} (HTTP 404)")]
    #[diagnostic(
        code("tollgate::watch::attach-not-found"),
        help("check the repository name and that the image was pushed")
    )]
    NotFound {
        /// Registry host.
        registry: String,
        /// What was looked up.
        what: String,
    },

    /// Any other registry failure, after retries for 429/5xx and network errors.
    #[error("registry `{registry}` failed {what}: {message}")]
    #[diagnostic(
        code("tollgate::watch::attach-registry"),
        help("retry later; for a plain-HTTP registry pass `--insecure-registry HOST`")
    )]
    Registry {
        /// Registry host.
        registry: String,
        /// What was attempted.
        what: String,
        /// Status or transport error.
        message: String,
    },

    /// The registry sent something that is not what it claims (digest, shape, size).
    #[error("registry `{registry}` sent a bad {what}: {reason}")]
    #[diagnostic(
        code("tollgate::watch::attach-bad-artifact"),
        help(
            "the artifact in the registry is damaged or not Tollgate's; push it again with `tollgate scan --attach-sbom`"
        )
    )]
    BadArtifact {
        /// Registry host.
        registry: String,
        /// What was read.
        what: String,
        /// What is wrong.
        reason: String,
    },

    /// No CycloneDX SBOM refers to the image.
    #[error("no CycloneDX SBOM refers to `{reference}` ({digest})")]
    #[diagnostic(
        code("tollgate::watch::import-no-sbom"),
        help("push one with `tollgate scan IMAGE --attach-sbom`")
    )]
    NoSbom {
        /// The image reference.
        reference: String,
        /// The subject digest(s) looked at.
        digest: String,
    },

    /// The SBOM could not be read as an inventory.
    #[error(transparent)]
    #[diagnostic(transparent)]
    Sbom(#[from] crate::catalog::CatalogError),

    /// The store could not record it.
    #[error(transparent)]
    #[diagnostic(transparent)]
    Store(#[from] crate::store::StoreError),
}

/// Which way an SBOM was attached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum AttachedVia {
    /// The registry indexes referrers itself (`OCI-Subject` header).
    ReferrersApi,
    /// The referrers tag schema (`sha256-<hex>` index) was updated.
    TagSchema,
}

/// What [`attach_sbom`] pushed.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Attached {
    /// The image manifest the SBOM refers to.
    pub subject: String,
    /// The artifact manifest's digest.
    pub artifact: String,
    /// How it was made discoverable.
    pub via: AttachedVia,
    /// The SBOM size in bytes.
    pub size: usize,
}

/// What [`import_sbom`] recorded.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Imported {
    /// The image manifest digest.
    pub subject: String,
    /// The artifact manifest's digest.
    pub artifact: String,
    /// Store row id.
    pub row: i64,
    /// Packages in the SBOM.
    pub packages: usize,
}

/// An error and its sources on one line.
fn chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut cur = e.source();
    while let Some(s) = cur {
        out.push_str(": ");
        out.push_str(&s.to_string());
        cur = s.source();
    }
    out
}

fn sha256(data: &[u8]) -> String {
    crate::image::fixture::sha256_digest(data)
}

/// One repository session plus the error context.
struct Session {
    acc: RegistryAccess,
}

impl Session {
    fn registry_err(&self, what: &str, message: String) -> AttachError {
        AttachError::Registry {
            registry: self.acc.registry.clone(),
            what: what.to_string(),
            message,
        }
    }

    /// Sends the request `build` makes, retrying 429/5xx and transport errors; 404 is
    /// `Ok(None)`; any other non-2xx is an error.
    async fn send(
        &self,
        what: &str,
        build: impl Fn() -> reqwest::RequestBuilder,
    ) -> Result<Option<reqwest::Response>, AttachError> {
        let mut last = String::new();
        for attempt in 0..ATTEMPTS {
            if attempt > 0 {
                tokio::time::sleep(Duration::from_millis(300 << attempt)).await;
            }
            let mut req = build();
            if let Some(h) = &self.acc.authorization {
                req = req.header(reqwest::header::AUTHORIZATION, h);
            }
            let resp = match req.send().await {
                Ok(r) => r,
                Err(e) => {
                    last = chain(&e);
                    continue;
                }
            };
            let status = resp.status();
            if status.is_success() {
                return Ok(Some(resp));
            }
            if status == StatusCode::NOT_FOUND {
                return Ok(None);
            }
            let message: String = resp
                .text()
                .await
                .unwrap_or_default()
                .chars()
                .take(300)
                .collect();
            if status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN {
                return Err(AttachError::Unauthorized {
                    registry: self.acc.registry.clone(),
                    what: what.to_string(),
                    status: status.as_u16(),
                    message,
                });
            }
            last = format!("HTTP {status}: {message}");
            if !(status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error()) {
                break;
            }
        }
        Err(self.registry_err(what, last))
    }

    async fn read_capped(
        &self,
        what: &str,
        mut resp: reqwest::Response,
        cap: usize,
    ) -> Result<Vec<u8>, AttachError> {
        let mut out = Vec::new();
        loop {
            match resp.chunk().await {
                Ok(Some(c)) => {
                    if out.len() + c.len() > cap {
                        return Err(AttachError::BadArtifact {
                            registry: self.acc.registry.clone(),
                            what: what.to_string(),
                            reason: format!("larger than {cap} bytes"),
                        });
                    }
                    out.extend_from_slice(&c);
                }
                Ok(None) => return Ok(out),
                Err(e) => {
                    return Err(self.registry_err(what, chain(&e)));
                }
            }
        }
    }

    /// A manifest or index by tag or digest: (bytes, digest, media type); `None` on 404.
    async fn manifest(
        &self,
        reference: &str,
    ) -> Result<Option<(Vec<u8>, String, String)>, AttachError> {
        let url = format!("{}/manifests/{reference}", self.acc.base);
        let what = format!("manifest `{reference}`");
        let Some(resp) = self
            .send(&what, || {
                self.acc
                    .http
                    .get(&url)
                    .header(reqwest::header::ACCEPT, ACCEPT)
            })
            .await?
        else {
            return Ok(None);
        };
        let header_mt = resp
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.split(';').next().unwrap_or(v).trim().to_string());
        let body = self.read_capped(&what, resp, MAX_MANIFEST).await?;
        let digest = sha256(&body);
        if reference.starts_with("sha256:") && digest != reference {
            return Err(AttachError::BadArtifact {
                registry: self.acc.registry.clone(),
                what,
                reason: format!("its digest is {digest}"),
            });
        }
        let doc: Value = serde_json::from_slice(&body).map_err(|e| AttachError::BadArtifact {
            registry: self.acc.registry.clone(),
            what: what.clone(),
            reason: format!("not JSON: {e}"),
        })?;
        let mt = doc
            .get("mediaType")
            .and_then(Value::as_str)
            .map(str::to_string)
            .or(header_mt)
            .unwrap_or_else(|| MANIFEST_MT.to_string());
        Ok(Some((body, digest, mt)))
    }

    async fn blob(&self, digest: &str, cap: usize) -> Result<Vec<u8>, AttachError> {
        let url = format!("{}/blobs/{digest}", self.acc.base);
        let what = format!("blob {digest}");
        let resp = self
            .send(&what, || self.acc.http.get(&url))
            .await?
            .ok_or_else(|| AttachError::NotFound {
                registry: self.acc.registry.clone(),
                what: what.clone(),
            })?;
        let body = self.read_capped(&what, resp, cap).await?;
        if sha256(&body) != digest {
            return Err(AttachError::BadArtifact {
                registry: self.acc.registry.clone(),
                what,
                reason: format!("its digest is {}", sha256(&body)),
            });
        }
        Ok(body)
    }

    async fn push_blob(&self, data: Vec<u8>, digest: &str) -> Result<(), AttachError> {
        let url = format!("{}/blobs/{digest}", self.acc.base);
        let what = format!("blob {digest}");
        if self
            .send(&what, || self.acc.http.head(&url))
            .await?
            .is_some()
        {
            return Ok(());
        }
        self.acc
            .oci
            .push_blob(&self.acc.oref, data, digest)
            .await
            .map_err(|e| {
                let text = e.to_string();
                if text.contains("401") || text.to_ascii_lowercase().contains("unauthorized") {
                    AttachError::Unauthorized {
                        registry: self.acc.registry.clone(),
                        what: format!("uploading {what}"),
                        status: 401,
                        message: text.chars().take(300).collect(),
                    }
                } else {
                    self.registry_err(
                        &format!("uploading {what}"),
                        text.chars().take(300).collect(),
                    )
                }
            })?;
        Ok(())
    }

    /// PUTs a manifest; returns whether the registry answered with `OCI-Subject`.
    async fn put_manifest(
        &self,
        reference: &str,
        media_type: &str,
        body: &[u8],
    ) -> Result<bool, AttachError> {
        let url = format!("{}/manifests/{reference}", self.acc.base);
        let what = format!("pushing manifest `{reference}`");
        let resp = self
            .send(&what, || {
                self.acc
                    .http
                    .put(&url)
                    .header(reqwest::header::CONTENT_TYPE, media_type)
                    .body(body.to_vec())
            })
            .await?
            .ok_or_else(|| AttachError::NotFound {
                registry: self.acc.registry.clone(),
                what: format!("repository for {what}"),
            })?;
        Ok(resp.headers().contains_key("oci-subject"))
    }

    /// The referrers of `subject` with the CycloneDX artifact type: from the referrers API,
    /// else from the tag schema index, else none.
    async fn referrers(&self, subject: &str) -> Result<Vec<Value>, AttachError> {
        let url = format!(
            "{}/referrers/{subject}?artifactType={}",
            self.acc.base,
            CYCLONEDX_ARTIFACT_TYPE.replace('+', "%2B")
        );
        let what = format!("referrers of {subject}");
        let index = match self
            .send(&what, || {
                self.acc
                    .http
                    .get(&url)
                    .header(reqwest::header::ACCEPT, INDEX_MT)
            })
            .await?
        {
            Some(resp) => {
                let body = self.read_capped(&what, resp, MAX_MANIFEST).await?;
                Some(serde_json::from_slice::<Value>(&body).map_err(|e| {
                    AttachError::BadArtifact {
                        registry: self.acc.registry.clone(),
                        what: what.clone(),
                        reason: format!("not JSON: {e}"),
                    }
                })?)
            }
            None => self
                .manifest(&tag_schema_tag(subject))
                .await?
                .map(|(body, _, _)| serde_json::from_slice::<Value>(&body))
                .transpose()
                .map_err(|e| AttachError::BadArtifact {
                    registry: self.acc.registry.clone(),
                    what: what.clone(),
                    reason: format!("not JSON: {e}"),
                })?,
        };
        Ok(index
            .as_ref()
            .and_then(|i| i.get("manifests"))
            .and_then(Value::as_array)
            .map(|m| {
                m.iter()
                    .filter(|d| {
                        d.get("artifactType").and_then(Value::as_str)
                            == Some(CYCLONEDX_ARTIFACT_TYPE)
                    })
                    .cloned()
                    .collect()
            })
            .unwrap_or_default())
    }
}

/// The referrers tag schema tag of a subject digest (`sha256:ab…` → `sha256-ab…`).
pub fn tag_schema_tag(subject: &str) -> String {
    subject.replacen(':', "-", 1)
}

fn registry_ref(analysis: &Analysis) -> Option<RegistryRef> {
    let src = &analysis.inventory.source;
    if src.scheme != "registry" {
        return None;
    }
    let reference = crate::image::Reference::parse(&src.input).ok()?;
    match reference.source {
        crate::image::Source::Registry(r) => Some(r),
        _ => None,
    }
}

/// Pushes `analysis`'s CycloneDX SBOM to the registry it was scanned from, as a referrer of
/// its image manifest.
pub async fn attach_sbom(analysis: &Analysis, load: &LoadOptions) -> Result<Attached, AttachError> {
    let src = &analysis.inventory.source;
    let r = registry_ref(analysis).ok_or_else(|| AttachError::NotRegistry {
        input: src.input.clone(),
    })?;
    let subject = src
        .manifest_digest
        .clone()
        .ok_or_else(|| AttachError::NoSubject {
            input: src.input.clone(),
        })?;
    let session = Session {
        acc: crate::image::registry_access(&r, load, true).await?,
    };
    let (subject_body, _, subject_mt) =
        session
            .manifest(&subject)
            .await?
            .ok_or_else(|| AttachError::NotFound {
                registry: r.registry.clone(),
                what: format!("image manifest {subject} in `{}`", r.repository),
            })?;
    let sbom = serde_json::to_vec(&crate::report::cyclonedx::to_json(analysis)).map_err(|e| {
        AttachError::BadArtifact {
            registry: r.registry.clone(),
            what: "SBOM".into(),
            reason: e.to_string(),
        }
    })?;
    let sbom_digest = sha256(&sbom);
    let size = sbom.len();
    session.push_blob(b"{}".to_vec(), EMPTY_DIGEST).await?;
    session.push_blob(sbom, &sbom_digest).await?;
    let manifest = json!({
        "schemaVersion": 2,
        "mediaType": MANIFEST_MT,
        "artifactType": CYCLONEDX_ARTIFACT_TYPE,
        "config": {"mediaType": EMPTY_MT, "digest": EMPTY_DIGEST, "size": 2, "data": "e30="},
        "layers": [{
            "mediaType": CYCLONEDX_ARTIFACT_TYPE,
            "digest": sbom_digest,
            "size": size,
            "annotations": {"org.opencontainers.image.title": "sbom.cdx.json"},
        }],
        "subject": {"mediaType": subject_mt, "digest": subject, "size": subject_body.len()},
        "annotations": {
            "org.opencontainers.image.created": analysis.created,
            "dev.tollgate.tool": concat!("tollgate/", env!("CARGO_PKG_VERSION")),
        },
    });
    let body = serde_json::to_vec(&manifest).map_err(|e| AttachError::BadArtifact {
        registry: r.registry.clone(),
        what: "artifact manifest".into(),
        reason: e.to_string(),
    })?;
    let artifact = sha256(&body);
    let api = session.put_manifest(&artifact, MANIFEST_MT, &body).await?;
    if api {
        return Ok(Attached {
            subject,
            artifact,
            via: AttachedVia::ReferrersApi,
            size,
        });
    }
    // The tag schema: add the artifact to the `sha256-<hex>` index.
    let tag = tag_schema_tag(&subject);
    let mut index = match session.manifest(&tag).await? {
        Some((body, _, _)) => {
            let v: Value = serde_json::from_slice(&body).map_err(|e| AttachError::BadArtifact {
                registry: r.registry.clone(),
                what: format!("referrers index `{tag}`"),
                reason: format!("not JSON: {e}"),
            })?;
            if !v.get("manifests").is_some_and(Value::is_array) {
                return Err(AttachError::BadArtifact {
                    registry: r.registry.clone(),
                    what: format!("referrers index `{tag}`"),
                    reason: "not an image index (no `manifests` array)".into(),
                });
            }
            v
        }
        None => json!({"schemaVersion": 2, "mediaType": INDEX_MT, "manifests": []}),
    };
    let entry = json!({
        "mediaType": MANIFEST_MT,
        "digest": artifact,
        "size": body.len(),
        "artifactType": CYCLONEDX_ARTIFACT_TYPE,
        "annotations": manifest["annotations"],
    });
    if let Some(list) = index.get_mut("manifests").and_then(Value::as_array_mut)
        && !list.iter().any(|d| d.get("digest") == entry.get("digest"))
    {
        list.push(entry);
    }
    let index_body = serde_json::to_vec(&index).map_err(|e| AttachError::BadArtifact {
        registry: r.registry.clone(),
        what: "referrers index".into(),
        reason: e.to_string(),
    })?;
    session.put_manifest(&tag, INDEX_MT, &index_body).await?;
    Ok(Attached {
        subject,
        artifact,
        via: AttachedVia::TagSchema,
        size,
    })
}

/// What importing a whole repository did, tag by tag.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct RepositoryImport {
    /// Tags whose SBOM was recorded, with what was recorded.
    pub imported: Vec<(String, Imported)>,
    /// Tags without an SBOM artifact (skipped, not an error).
    pub without_sbom: Vec<String>,
}

/// Most tag-list pages followed (`Link: <…>; rel="next"`), a guard against a looping registry.
const MAX_TAG_PAGES: usize = 1000;

/// Every tag of the repository of `r` (the tag-list API, following `Link` pagination), without
/// the referrers tag-schema tags (`sha256-…`), sorted.
pub async fn list_tags(r: &RegistryRef, load: &LoadOptions) -> Result<Vec<String>, AttachError> {
    let session = Session {
        acc: crate::image::registry_access(r, load, false).await?,
    };
    let origin = session
        .acc
        .base
        .find("/v2/")
        .map_or(session.acc.base.as_str(), |i| &session.acc.base[..i])
        .to_string();
    let mut url = format!("{}/tags/list", session.acc.base);
    let mut tags = Vec::new();
    for _ in 0..MAX_TAG_PAGES {
        let what = "tag list";
        let Some(resp) = session.send(what, || session.acc.http.get(&url)).await? else {
            return Err(AttachError::NotFound {
                registry: r.registry.clone(),
                what: format!("repository `{}`", r.name()),
            });
        };
        let next = resp
            .headers()
            .get(reqwest::header::LINK)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                let (target, params) = v.split_once(';')?;
                params
                    .contains("rel=\"next\"")
                    .then(|| target.trim().trim_start_matches('<').trim_end_matches('>'))
                    .map(str::to_string)
            });
        let body = session.read_capped(what, resp, MAX_MANIFEST).await?;
        let doc: Value = serde_json::from_slice(&body).map_err(|e| AttachError::BadArtifact {
            registry: r.registry.clone(),
            what: what.into(),
            reason: format!("not JSON: {e}"),
        })?;
        tags.extend(
            doc["tags"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .filter(|t| !t.starts_with("sha256-"))
                .map(str::to_string),
        );
        match next {
            Some(n) if n.starts_with('/') => url = format!("{origin}{n}"),
            Some(n) => url = n,
            None => {
                tags.sort();
                tags.dedup();
                return Ok(tags);
            }
        }
    }
    Err(AttachError::BadArtifact {
        registry: r.registry.clone(),
        what: "tag list".into(),
        reason: format!("more than {MAX_TAG_PAGES} pages"),
    })
}

/// Imports the SBOM of every tag of the repository of `r` ([`list_tags`], then
/// [`import_sbom`] per tag): `tollgate store import REGISTRY/REPO`. Tags without an SBOM are
/// listed, not errors; any other failure stops the import (what was recorded stays recorded).
pub async fn import_repository(
    r: &RegistryRef,
    load: &LoadOptions,
    store: &mut crate::store::Store,
) -> Result<RepositoryImport, AttachError> {
    let mut out = RepositoryImport::default();
    for tag in list_tags(r, load).await? {
        let mut tagged = r.clone();
        tagged.tag = Some(tag.clone());
        tagged.tag_given = true;
        tagged.digest = None;
        match import_sbom(&tagged, load, store).await {
            Ok(done) => out.imported.push((tag, done)),
            Err(AttachError::NoSbom { .. }) => out.without_sbom.push(tag),
            Err(e) => return Err(e),
        }
    }
    Ok(out)
}

fn platform_matches(entry: &Value, want: &Platform) -> bool {
    let p = &entry["platform"];
    p["os"].as_str() == Some(want.os.as_str())
        && p["architecture"].as_str() == Some(want.architecture.as_str())
        && (want.variant.is_none() || p["variant"].as_str() == want.variant.as_deref())
}

/// Finds the newest CycloneDX SBOM referring to the image `r` (for a multi-platform tag: to
/// its manifest for `load.platform`, default linux/amd64, or to the index itself) and records
/// it in `store` as that image's analysis — without pulling any layer.
pub async fn import_sbom(
    r: &RegistryRef,
    load: &LoadOptions,
    store: &mut crate::store::Store,
) -> Result<Imported, AttachError> {
    let session = Session {
        acc: crate::image::registry_access(r, load, false).await?,
    };
    let wanted = r
        .digest
        .clone()
        .or_else(|| r.tag.clone())
        .unwrap_or_else(|| "latest".into());
    let (body, top, mt) =
        session
            .manifest(&wanted)
            .await?
            .ok_or_else(|| AttachError::NotFound {
                registry: r.registry.clone(),
                what: format!("image `{r}`"),
            })?;
    let mut subjects = Vec::new();
    if mt.contains("index") || mt.contains("manifest.list") {
        let platform = load
            .platform
            .clone()
            .unwrap_or_else(crate::image::default_platform);
        let doc: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        for e in doc["manifests"].as_array().into_iter().flatten() {
            if platform_matches(e, &platform)
                && let Some(d) = e["digest"].as_str()
            {
                subjects.push(d.to_string());
            }
        }
    }
    subjects.push(top.clone());
    for subject in &subjects {
        let mut refs = session.referrers(subject).await?;
        if refs.is_empty() {
            continue;
        }
        // Newest first by the creation annotation (RFC 3339 sorts as text), else the last listed.
        refs.sort_by(|a, b| {
            let t = |d: &Value| {
                d["annotations"]["org.opencontainers.image.created"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string()
            };
            t(a).cmp(&t(b))
        });
        let Some(artifact) = refs
            .last()
            .and_then(|d| d["digest"].as_str())
            .map(str::to_string)
        else {
            continue;
        };
        let (manifest, _, _) =
            session
                .manifest(&artifact)
                .await?
                .ok_or_else(|| AttachError::NotFound {
                    registry: r.registry.clone(),
                    what: format!("SBOM artifact manifest {artifact}"),
                })?;
        let doc: Value =
            serde_json::from_slice(&manifest).map_err(|e| AttachError::BadArtifact {
                registry: r.registry.clone(),
                what: format!("artifact manifest {artifact}"),
                reason: format!("not JSON: {e}"),
            })?;
        let layer = doc["layers"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|l| l["mediaType"].as_str() == Some(CYCLONEDX_ARTIFACT_TYPE))
            .and_then(|l| l["digest"].as_str())
            .ok_or_else(|| AttachError::BadArtifact {
                registry: r.registry.clone(),
                what: format!("artifact manifest {artifact}"),
                reason: format!("no `{CYCLONEDX_ARTIFACT_TYPE}` layer"),
            })?;
        let sbom = session.blob(layer, MAX_SBOM).await?;
        let label = std::path::PathBuf::from(format!("{r}@{artifact}"));
        let mut inventory = crate::catalog::sbom_input::parse(&label, &sbom)?;
        let created = doc["annotations"]["org.opencontainers.image.created"]
            .as_str()
            .map(str::to_string)
            .unwrap_or_else(|| {
                chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            });
        inventory.source.scheme = "registry".into();
        inventory.source.input = format!("{r}@{subject}");
        inventory.source.reference = Some(match &r.tag {
            Some(t) => format!("{}:{t}", r.name()),
            None => format!("{}@{subject}", r.name()),
        });
        inventory.source.tags = r.tag.iter().map(|t| format!("{}:{t}", r.name())).collect();
        inventory.source.manifest_digest = Some(subject.clone());
        if subject != &top {
            inventory.source.index_digest = Some(top.clone());
        }
        let packages = inventory.packages.len();
        let analysis = Analysis {
            created,
            inventory,
            ..Default::default()
        };
        let row = store.record_analysis(&analysis)?;
        return Ok(Imported {
            subject: subject.clone(),
            artifact,
            row,
            packages,
        });
    }
    Err(AttachError::NoSbom {
        reference: r.to_string(),
        digest: subjects.join(", "),
    })
}
