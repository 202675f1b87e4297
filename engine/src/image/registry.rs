//! Registry references → [`Image`]s: authenticate (anonymous, basic, or the Docker bearer-token
//! flow through `oci-client`), fetch the manifest or index, pick the platform(s), download the
//! config and layer blobs into the digest-keyed cache (verified while streaming, bounded
//! parallelism, retries with backoff on 429/5xx honouring `Retry-After`). Each downloading
//! layer is also fed to a layer reader as it arrives; that read is kept only when the download
//! finished in one verified attempt, otherwise (and for cached layers) the layer is read from
//! the cache like any other source.
//!
//! Credentials come from [`LoadOptions::credentials`] or the docker/podman config for the
//! reference's host only, and are only ever sent to that host (redirects to another host, e.g.
//! blob storage, drop the `Authorization` header). Nothing but verified blobs is written, and
//! only under the cache dir (`sha256/<hex>`, via a temporary file renamed into place). A rescan
//! of a cached image downloads only the manifest and config.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use oci_client::client::{Certificate, CertificateEncoding, ClientConfig, ClientProtocol};
use oci_client::secrets::RegistryAuth;
use reqwest::StatusCode;
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;

use super::archive::DirStore;
use super::assemble::{Plan, PlannedLayer, check_plan, finish, read_layers};
use super::error::ImageError;
use super::layer::{Budget, LayerCtx, Verify, Wants, read_layer};
use super::manifest::{
    Descriptor, Doc, digest_hex, parse_config, parse_doc, platform_entries, select_platform,
};
use super::model::{Image, LayerInfo, SourceInfo};
use super::reference::RegistryRef;
use super::{LoadOptions, ProgressEvent};

const MANIFEST_ACCEPT: &str = "application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json";
const MAX_MANIFEST: usize = 16 * 1024 * 1024;

/// One registry session: clients, the resolved host and the Authorization to send.
struct Remote<'a> {
    r: &'a RegistryRef,
    oci: oci_client::Client,
    oref: oci_client::Reference,
    http: reqwest::Client,
    base: String,
    auth: RegistryAuth,
    authorization: tokio::sync::RwLock<Option<String>>,
    opts: &'a LoadOptions,
}

enum Attempt {
    Retry(ImageError, Option<Duration>),
    Fatal(ImageError),
}

fn load_certs(paths: &[PathBuf]) -> Result<Vec<(Vec<u8>, bool)>, ImageError> {
    paths
        .iter()
        .map(|p| {
            let data = std::fs::read(p).map_err(|e| ImageError::BadCaCert {
                path: p.clone(),
                message: e.to_string(),
            })?;
            let pem = data.windows(10).any(|w| w == b"-----BEGIN");
            Ok((data, pem))
        })
        .collect()
}

fn docker_config_auth(r: &RegistryRef) -> Result<RegistryAuth, ImageError> {
    use docker_credential::{CredentialRetrievalError as E, DockerCredential};
    let server = if r.registry == "docker.io" {
        "https://index.docker.io/v1/".to_string()
    } else {
        r.registry.clone()
    };
    type Lookup = fn(&str) -> Result<DockerCredential, E>;
    let lookups: [Lookup; 2] = [
        docker_credential::get_credential,
        docker_credential::get_podman_credential,
    ];
    for lookup in lookups {
        match lookup(&server) {
            Ok(DockerCredential::UsernamePassword(u, p)) => return Ok(RegistryAuth::Basic(u, p)),
            Ok(DockerCredential::IdentityToken(_)) => {
                tracing::warn!(
                    "docker config has an identity token for `{}`; identity tokens are not supported, pulling anonymously",
                    r.registry
                );
                return Ok(RegistryAuth::Anonymous);
            }
            Err(E::NoCredentialConfigured | E::ConfigNotFound | E::ConfigReadError) => {}
            // Never echo helper output: it may contain the secret.
            Err(E::HelperFailure { helper, .. }) => {
                return Err(ImageError::Credentials {
                    registry: r.registry.clone(),
                    message: format!("credential helper `docker-credential-{helper}` failed"),
                });
            }
            Err(e) => {
                return Err(ImageError::Credentials {
                    registry: r.registry.clone(),
                    message: e.to_string(),
                });
            }
        }
    }
    Ok(RegistryAuth::Anonymous)
}

fn retry_after(resp: &reqwest::Response) -> Option<Duration> {
    let v = resp
        .headers()
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?;
    v.trim()
        .parse::<u64>()
        .ok()
        .map(|s| Duration::from_secs(s.min(120)))
}

impl<'a> Remote<'a> {
    async fn connect(r: &'a RegistryRef, opts: &'a LoadOptions) -> Result<Remote<'a>, ImageError> {
        let reg_err = |message: String| ImageError::Registry {
            registry: r.registry.clone(),
            reference: r.to_string(),
            message,
        };
        let oref = match (&r.tag, &r.digest) {
            (_, Some(d)) => oci_client::Reference::with_digest(
                r.registry.clone(),
                r.repository.clone(),
                d.clone(),
            ),
            (Some(t), None) => {
                oci_client::Reference::with_tag(r.registry.clone(), r.repository.clone(), t.clone())
            }
            (None, None) => oci_client::Reference::with_tag(
                r.registry.clone(),
                r.repository.clone(),
                "latest".into(),
            ),
        };
        let host = oref.resolve_registry().to_string();
        let insecure = opts
            .insecure_registries
            .iter()
            .any(|h| h == &r.registry || h == &host);
        let certs = load_certs(&opts.ca_certs)?;
        let config = ClientConfig {
            protocol: if insecure {
                ClientProtocol::HttpsExcept(vec![r.registry.clone(), host.clone()])
            } else {
                ClientProtocol::Https
            },
            extra_root_certificates: certs
                .iter()
                .map(|(data, pem)| Certificate {
                    encoding: if *pem {
                        CertificateEncoding::Pem
                    } else {
                        CertificateEncoding::Der
                    },
                    data: data.clone(),
                })
                .collect(),
            connect_timeout: Some(Duration::from_secs(30)),
            read_timeout: Some(Duration::from_secs(120)),
            ..Default::default()
        };
        let oci = oci_client::Client::try_from(config).map_err(|e| reg_err(e.to_string()))?;
        let mut builder = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(30))
            .read_timeout(Duration::from_secs(120))
            .user_agent(concat!("tollgate/", env!("CARGO_PKG_VERSION")));
        let mut extra = Vec::new();
        for ((data, pem), path) in certs.iter().zip(&opts.ca_certs) {
            let parsed = if *pem {
                reqwest::Certificate::from_pem_bundle(data)
            } else {
                reqwest::Certificate::from_der(data).map(|c| vec![c])
            };
            extra.extend(parsed.map_err(|e| ImageError::BadCaCert {
                path: path.clone(),
                message: e.to_string(),
            })?);
        }
        if !extra.is_empty() {
            builder = builder.tls_certs_merge(extra);
        }
        let http = builder.build().map_err(|e| reg_err(e.to_string()))?;
        let auth = match &opts.credentials {
            Some(c) => RegistryAuth::Basic(c.username.clone(), c.password.clone()),
            None if opts.use_docker_config => docker_config_auth(r)?,
            None => RegistryAuth::Anonymous,
        };
        let scheme = if insecure { "http" } else { "https" };
        let remote = Remote {
            r,
            base: format!("{scheme}://{host}/v2/{}", r.repository),
            oci,
            oref,
            http,
            auth,
            authorization: tokio::sync::RwLock::new(None),
            opts,
        };
        remote.authenticate().await?;
        Ok(remote)
    }

    fn err(&self, message: String) -> ImageError {
        ImageError::Registry {
            registry: self.r.registry.clone(),
            reference: self.r.to_string(),
            message,
        }
    }

    /// Runs the token flow (or settles on basic auth) and stores the header to send.
    async fn authenticate(&self) -> Result<(), ImageError> {
        let mut last = None;
        for attempt in 0..=self.opts.max_retries {
            match self
                .oci
                .auth(&self.oref, &self.auth, oci_client::RegistryOperation::Pull)
                .await
            {
                Ok(Some(token)) => {
                    *self.authorization.write().await = Some(format!("Bearer {token}"));
                    return Ok(());
                }
                Ok(None) => {
                    *self.authorization.write().await = match &self.auth {
                        RegistryAuth::Basic(u, p) => Some(basic_header(u, p)),
                        _ => None,
                    };
                    return Ok(());
                }
                Err(oci_client::errors::OciDistributionError::AuthenticationFailure(m)) => {
                    return Err(ImageError::Unauthorized {
                        registry: self.r.registry.clone(),
                        reference: self.r.to_string(),
                        message: m.chars().take(200).collect(),
                    });
                }
                Err(e) => {
                    last = Some(self.err(format!("authentication failed: {}", error_chain(&e))));
                    if attempt < self.opts.max_retries {
                        tokio::time::sleep(backoff(attempt)).await;
                    }
                }
            }
        }
        Err(last.unwrap_or_else(|| self.err("authentication failed".into())))
    }

    async fn get(&self, url: &str, accept: Option<&str>) -> Result<reqwest::Response, Attempt> {
        let mut req = self.http.get(url);
        if let Some(a) = accept {
            req = req.header(reqwest::header::ACCEPT, a);
        }
        if let Some(h) = self.authorization.read().await.as_deref() {
            req = req.header(reqwest::header::AUTHORIZATION, h);
        }
        let resp = req
            .send()
            .await
            .map_err(|e| Attempt::Retry(self.err(error_chain(&e)), None))?;
        let status = resp.status();
        if status.is_success() {
            return Ok(resp);
        }
        let after = retry_after(&resp);
        let body = resp.text().await.unwrap_or_default();
        let message: String = body.chars().take(300).collect();
        Err(match status {
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => {
                Attempt::Fatal(ImageError::Unauthorized {
                    registry: self.r.registry.clone(),
                    reference: self.r.to_string(),
                    message,
                })
            }
            StatusCode::NOT_FOUND => Attempt::Fatal(ImageError::NotFound {
                registry: self.r.registry.clone(),
                reference: self.r.to_string(),
            }),
            s if s == StatusCode::TOO_MANY_REQUESTS || s.is_server_error() => {
                Attempt::Retry(self.err(format!("HTTP {s} for {url}")), after)
            }
            s => Attempt::Fatal(self.err(format!("HTTP {s} for {url}: {message}"))),
        })
    }

    /// Runs `f` with retries; a 401 re-authenticates once (tokens expire).
    async fn retrying<T, F, Fut>(&self, f: F) -> Result<T, ImageError>
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = Result<T, Attempt>>,
    {
        let mut reauthed = false;
        let mut attempt = 0;
        loop {
            match f().await {
                Ok(v) => return Ok(v),
                Err(Attempt::Fatal(ImageError::Unauthorized { .. })) if !reauthed => {
                    reauthed = true;
                    self.authenticate().await?;
                }
                Err(Attempt::Fatal(e)) => return Err(e),
                Err(Attempt::Retry(e, after)) => {
                    if attempt >= self.opts.max_retries {
                        return Err(e);
                    }
                    let wait = after.unwrap_or_else(|| backoff(attempt));
                    tracing::info!("{e}; retrying in {:.1}s", wait.as_secs_f32());
                    tokio::time::sleep(wait).await;
                    attempt += 1;
                }
            }
        }
    }

    /// Fetches a manifest or index by tag or digest; verifies it when fetched by digest.
    async fn manifest(&self, reference: &str) -> Result<(Vec<u8>, String), ImageError> {
        let url = format!("{}/manifests/{reference}", self.base);
        let body = self
            .retrying(|| async {
                let resp = self.get(&url, Some(MANIFEST_ACCEPT)).await?;
                read_capped(resp, MAX_MANIFEST)
                    .await
                    .map_err(|e| Attempt::Retry(self.err(e), None))
            })
            .await?;
        let actual = super::fixture::sha256_digest(&body);
        if reference.starts_with("sha256:") && actual != reference {
            return Err(ImageError::DigestMismatch {
                expected: reference.to_string(),
                actual,
                location: url,
            });
        }
        Ok((body, actual))
    }

    /// Fetches a small blob (a config) into memory, verified.
    async fn small_blob(&self, digest: &str) -> Result<Vec<u8>, ImageError> {
        let url = format!("{}/blobs/{digest}", self.base);
        let body = self
            .retrying(|| async {
                let resp = self.get(&url, None).await?;
                read_capped(resp, MAX_MANIFEST)
                    .await
                    .map_err(|e| Attempt::Retry(self.err(e), None))
            })
            .await?;
        let actual = super::fixture::sha256_digest(&body);
        if actual != digest {
            return Err(ImageError::DigestMismatch {
                expected: digest.to_string(),
                actual,
                location: url,
            });
        }
        Ok(body)
    }

    /// Makes sure a layer blob is in the cache, downloading and verifying it if not. While
    /// downloading, each chunk is also sent to `tee` (a layer reader running alongside); a
    /// retried download sends an error down `tee` instead. Returns whether `tee` received the
    /// whole, verified blob (`false` when cached, retried, or the reader hung up).
    async fn cache_blob(
        &self,
        cache: &Path,
        digest: &str,
        tee: Option<Tee>,
    ) -> Result<bool, ImageError> {
        let hex = digest_hex(digest, &self.r.to_string())?;
        let dest = cache.join("sha256").join(hex);
        if tokio::fs::metadata(&dest).await.is_ok_and(|m| m.is_file()) {
            self.progress(ProgressEvent::DownloadFinished {
                digest: digest.to_string(),
                cached: true,
            });
            return Ok(false);
        }
        let tee = std::sync::Mutex::new(tee);
        let attempts = std::sync::atomic::AtomicU32::new(0);
        let tmp_dir = cache.join("tmp");
        tokio::fs::create_dir_all(&tmp_dir)
            .await
            .map_err(|e| ImageError::Cache {
                path: tmp_dir.clone(),
                source: e,
            })?;
        let url = format!("{}/blobs/{digest}", self.base);
        let tmp = tmp_dir.join(format!("{hex}.{}.part", std::process::id()));
        let result = self
            .retrying(|| async {
                let mut sink = take_tee(&tee);
                if attempts.fetch_add(1, Ordering::Relaxed) > 0
                    && let Some(t) = sink.take()
                {
                    // The reader saw part of an earlier attempt: make it fail, not finish.
                    let _ = t.send(Err(())).await;
                }
                let mut resp = self.get(&url, None).await?;
                self.progress(ProgressEvent::DownloadStarted {
                    digest: digest.to_string(),
                    total: resp.content_length(),
                });
                let cache_err = |e: std::io::Error| {
                    Attempt::Fatal(ImageError::Cache {
                        path: tmp.clone(),
                        source: e,
                    })
                };
                let mut file = tokio::fs::File::create(&tmp).await.map_err(cache_err)?;
                let mut hasher = Sha256::new();
                loop {
                    match resp.chunk().await {
                        Ok(Some(chunk)) => {
                            hasher.update(&chunk);
                            if let Some(t) = &sink
                                && t.send(Ok(chunk.to_vec())).await.is_err()
                            {
                                sink = None;
                            }
                            file.write_all(&chunk).await.map_err(cache_err)?;
                            self.progress(ProgressEvent::DownloadProgress {
                                digest: digest.to_string(),
                                bytes: chunk.len() as u64,
                            });
                        }
                        Ok(None) => break,
                        Err(e) => {
                            if let Some(t) = sink.take() {
                                let _ = t.send(Err(())).await;
                            }
                            return Err(Attempt::Retry(
                                self.err(format!(
                                    "download of `{digest}` broke off: {}",
                                    error_chain(&e)
                                )),
                                None,
                            ));
                        }
                    }
                }
                file.flush().await.map_err(cache_err)?;
                let actual = format!("sha256:{}", hex::encode(hasher.finalize()));
                if actual != digest {
                    if let Some(t) = sink.take() {
                        let _ = t.send(Err(())).await;
                    }
                    return Err(Attempt::Fatal(ImageError::DigestMismatch {
                        expected: digest.to_string(),
                        actual,
                        location: url.clone(),
                    }));
                }
                // Dropping the sender ends the reader's stream.
                Ok(sink.is_some())
            })
            .await;
        let streamed = match result {
            Ok(streamed) => streamed,
            Err(e) => {
                let _ = tokio::fs::remove_file(&tmp).await;
                return Err(e);
            }
        };
        let dir = cache.join("sha256");
        tokio::fs::create_dir_all(&dir)
            .await
            .map_err(|e| ImageError::Cache {
                path: dir.clone(),
                source: e,
            })?;
        tokio::fs::rename(&tmp, &dest)
            .await
            .map_err(|e| ImageError::Cache {
                path: dest.clone(),
                source: e,
            })?;
        self.progress(ProgressEvent::DownloadFinished {
            digest: digest.to_string(),
            cached: false,
        });
        Ok(streamed)
    }

    fn progress(&self, ev: ProgressEvent) {
        if let Some(p) = &self.opts.progress {
            p.event(ev);
        }
    }
}

/// Chunks of a blob being downloaded, for a reader running alongside; `Err` aborts it.
type Tee = tokio::sync::mpsc::Sender<Result<Vec<u8>, ()>>;

fn take_tee(tee: &std::sync::Mutex<Option<Tee>>) -> Option<Tee> {
    tee.lock().ok().and_then(|mut t| t.take())
}

/// A blocking `Read` over the chunks a download sends.
struct ChannelReader {
    rx: tokio::sync::mpsc::Receiver<Result<Vec<u8>, ()>>,
    cur: Vec<u8>,
    off: usize,
}

impl std::io::Read for ChannelReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.off >= self.cur.len() {
            match self.rx.blocking_recv() {
                Some(Ok(chunk)) => {
                    self.cur = chunk;
                    self.off = 0;
                }
                Some(Err(())) => return Err(std::io::Error::other("the download was restarted")),
                None => return Ok(0),
            }
        }
        let n = buf.len().min(self.cur.len() - self.off);
        buf[..n].copy_from_slice(&self.cur[self.off..self.off + n]);
        self.off += n;
        Ok(n)
    }
}

fn basic_header(user: &str, pass: &str) -> String {
    use std::fmt::Write;
    let raw = format!("{user}:{pass}");
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::from("Basic ");
    for chunk in raw.as_bytes().chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                let _ = out.write_char(T[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn backoff(attempt: u32) -> Duration {
    Duration::from_millis(500u64.saturating_mul(1 << attempt.min(6)).min(30_000))
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cur = c.source();
    }
    s
}

async fn read_capped(mut resp: reqwest::Response, cap: usize) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(|e| error_chain(&e))? {
        out.extend_from_slice(&chunk);
        if out.len() > cap {
            return Err(format!("document larger than {cap} bytes"));
        }
    }
    Ok(out)
}

/// Pulls the image(s) and reads them.
/// An authenticated session with one repository, for code that moves small artifacts next to
/// an image itself (`watch::attach`: SBOM referrers). Built exactly like a pull session: the
/// same credentials (only ever sent to this host), CA certificates and insecure-registry list.
pub(crate) struct RegistryAccess {
    /// Registry host as the user wrote it.
    pub registry: String,
    /// `http(s)://HOST/v2/REPOSITORY`.
    pub base: String,
    /// HTTP client with the configured timeouts and CA certificates.
    pub http: reqwest::Client,
    /// The `Authorization` header value to send, if any (never logged).
    pub authorization: Option<String>,
    /// oci-client, authenticated for the requested operation (blob uploads go through it).
    pub oci: oci_client::Client,
    /// The repository reference for `oci`.
    pub oref: oci_client::Reference,
}

/// Opens a [`RegistryAccess`] for `r`'s repository; `push` also obtains push rights.
pub(crate) async fn access(
    r: &RegistryRef,
    opts: &LoadOptions,
    push: bool,
) -> Result<RegistryAccess, ImageError> {
    let remote = Remote::connect(r, opts).await?;
    if push {
        match remote
            .oci
            .auth(
                &remote.oref,
                &remote.auth,
                oci_client::RegistryOperation::Push,
            )
            .await
        {
            Ok(Some(token)) => {
                *remote.authorization.write().await = Some(format!("Bearer {token}"))
            }
            Ok(None) => {}
            Err(oci_client::errors::OciDistributionError::AuthenticationFailure(m)) => {
                return Err(ImageError::Unauthorized {
                    registry: r.registry.clone(),
                    reference: r.to_string(),
                    message: m.chars().take(200).collect(),
                });
            }
            Err(e) => {
                return Err(remote.err(format!(
                    "authentication for push failed: {}",
                    error_chain(&e)
                )));
            }
        }
    }
    let authorization = remote.authorization.read().await.clone();
    Ok(RegistryAccess {
        registry: r.registry.clone(),
        base: remote.base,
        http: remote.http,
        authorization,
        oci: remote.oci,
        oref: remote.oref,
    })
}

pub(crate) async fn load(
    r: &RegistryRef,
    input: &str,
    opts: &LoadOptions,
    wants: Arc<Wants>,
    all: bool,
) -> Result<Vec<Image>, ImageError> {
    let remote = Remote::connect(r, opts).await?;
    let top = r
        .digest
        .clone()
        .or_else(|| r.tag.clone())
        .unwrap_or_else(|| "latest".into());
    let (bytes, digest) = remote.manifest(&top).await?;
    let mut targets: Vec<(Vec<u8>, String, Option<String>)> = Vec::new();
    match parse_doc(&bytes, &r.to_string())? {
        Doc::Manifest { .. } => targets.push((bytes, digest, None)),
        Doc::Index { manifests } => {
            let chosen: Vec<Descriptor> = if all {
                platform_entries(&manifests)
                    .into_iter()
                    .map(|(d, _)| d.clone())
                    .collect()
            } else {
                vec![select_platform(&manifests, opts.platform.as_ref(), &r.to_string())?.clone()]
            };
            for d in chosen {
                let (b, dg) = remote.manifest(&d.digest).await?;
                targets.push((b, dg, Some(digest.clone())));
            }
        }
    }
    let cache = opts.effective_cache_dir();
    std::fs::create_dir_all(cache.join("sha256")).map_err(|e| ImageError::Cache {
        path: cache.clone(),
        source: e,
    })?;
    let mut images = Vec::new();
    for (bytes, manifest_digest, index_digest) in targets {
        let Doc::Manifest { config, layers } = parse_doc(&bytes, &manifest_digest)? else {
            return Err(ImageError::InvalidImage {
                location: r.to_string(),
                reason: "an index entry is itself an index".into(),
            });
        };
        let config_bytes = remote.small_blob(&config.digest).await?;
        let cfg = parse_config(&config_bytes, &config.digest, &r.to_string())?;
        let mut planned = Vec::new();
        for (i, l) in layers.iter().enumerate() {
            let hex = digest_hex(&l.digest, &r.to_string())?;
            planned.push(PlannedLayer {
                member: format!("sha256/{hex}"),
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
        let name = r.name();
        let repo_digest = format!(
            "{name}@{}",
            index_digest.as_deref().unwrap_or(&manifest_digest)
        );
        let plan = Plan {
            source: SourceInfo {
                scheme: "registry".into(),
                input: input.to_string(),
                reference: Some(r.to_string()),
                tags: r.tag.iter().map(|t| format!("{name}:{t}")).collect(),
                manifest_digest: Some(manifest_digest),
                index_digest,
                repo_digests: vec![repo_digest],
            },
            config: cfg,
            layers: planned,
        };
        check_plan(&plan, &r.to_string())?;
        // Download missing layers; each is read by a blocking thread while it streams in, and
        // that read is kept only if the download completed in one verified attempt.
        let budget = Arc::new(Budget::new(opts.max_decompressed_bytes));
        let sem = tokio::sync::Semaphore::new(opts.max_parallel_downloads.max(1));
        let location = r.to_string();
        let downloads = plan.layers.iter().enumerate().map(|(i, l)| {
            let (sem, remote, cache) = (&sem, &remote, &cache);
            let (wants, budget) = (Arc::clone(&wants), Arc::clone(&budget));
            let (digest, location) = (l.info.digest.clone(), location.clone());
            async move {
                let _permit = sem
                    .acquire()
                    .await
                    .map_err(|e| ImageError::Internal(e.to_string()))?;
                let hex = digest_hex(&digest, &location)?;
                if cache.join("sha256").join(hex).is_file() {
                    remote.cache_blob(cache, &digest, None).await?;
                    return Ok::<_, ImageError>(None);
                }
                let (tx, rx) = tokio::sync::mpsc::channel(16);
                let reader = tokio::task::spawn_blocking(move || {
                    let ctx = LayerCtx {
                        index: i,
                        label: &digest,
                        location: &location,
                        verify: &Verify::None,
                        budget: &budget,
                    };
                    let src = ChannelReader {
                        rx,
                        cur: Vec::new(),
                        off: 0,
                    };
                    read_layer(
                        std::io::BufReader::with_capacity(256 * 1024, src),
                        &ctx,
                        &wants,
                    )
                });
                let complete = remote.cache_blob(cache, &l.info.digest, Some(tx)).await;
                let streamed = reader.await;
                Ok(match (complete?, streamed) {
                    (true, Ok(Ok(read))) => Some(read),
                    _ => None,
                })
            }
        });
        let streamed = futures_util::future::try_join_all(downloads).await?;
        let store = DirStore {
            root: cache.clone(),
        };
        let (opts2, wants2) = (opts.clone(), Arc::clone(&wants));
        let image = tokio::task::spawn_blocking(move || {
            // Layers that were cached (or whose streamed read was discarded) come from the cache.
            let missing: Vec<PlannedLayer> = plan
                .layers
                .iter()
                .zip(&streamed)
                .filter(|(_, s)| s.is_none())
                .map(|(l, _)| l.clone())
                .collect();
            let mut from_cache =
                read_layers(&missing, &store, &opts2, &wants2, &budget)?.into_iter();
            let mut reads = Vec::with_capacity(streamed.len());
            for s in streamed {
                match s {
                    Some(read) => reads.push(read),
                    None => reads.push(from_cache.next().ok_or_else(|| {
                        ImageError::Internal("a cached layer was not read".into())
                    })?),
                }
            }
            finish(plan, reads)
        })
        .await
        .map_err(|e| ImageError::Internal(e.to_string()))??;
        images.push(image);
    }
    Ok(images)
}

#[cfg(test)]
mod tests {
    use super::*;

    use std::io::{BufRead, BufReader, Write};
    use std::net::TcpListener;
    use std::sync::Mutex;

    use crate::image::fixture::{ImageBuilder, Layer};
    use crate::image::{ContentRequest, Reference, load};

    type Response = (u16, Vec<(&'static str, String)>, Vec<u8>);

    /// A scripted HTTP/1.1 server on 127.0.0.1: each request path gets its queued responses
    /// in order (the last one repeats). Records every request line.
    fn fake_registry(
        make_routes: impl FnOnce(&str) -> Vec<(String, Vec<Response>)>,
    ) -> (String, Arc<Mutex<Vec<String>>>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let routes = make_routes(&addr);
        let log = Arc::new(Mutex::new(Vec::new()));
        let log2 = Arc::clone(&log);
        let routes = Arc::new(Mutex::new(routes));
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { break };
                let (routes, log) = (Arc::clone(&routes), Arc::clone(&log2));
                std::thread::spawn(move || {
                    let mut reader = BufReader::new(stream.try_clone().unwrap());
                    loop {
                        let mut line = String::new();
                        if reader.read_line(&mut line).unwrap_or(0) == 0 {
                            return;
                        }
                        let mut auth = String::new();
                        loop {
                            let mut h = String::new();
                            if reader.read_line(&mut h).unwrap_or(0) == 0 || h == "\r\n" {
                                break;
                            }
                            if let Some(v) = h
                                .strip_prefix("authorization: ")
                                .or_else(|| h.strip_prefix("Authorization: "))
                            {
                                auth = v.trim().to_string();
                            }
                        }
                        let path = line.split_whitespace().nth(1).unwrap_or("").to_string();
                        log.lock().unwrap().push(path.clone());
                        if !auth.is_empty() {
                            log.lock().unwrap().push(format!("{path} auth={auth}"));
                        }
                        let (status, headers, body) = {
                            let mut r = routes.lock().unwrap();
                            let hit = |p: &String| {
                                *p == path
                                    || p.strip_suffix('*').is_some_and(|pre| path.starts_with(pre))
                            };
                            match r.iter_mut().find(|(p, _)| hit(p)) {
                                Some((_, q)) if q.len() > 1 => q.remove(0),
                                Some((_, q)) => q[0].clone(),
                                None => (404, vec![], b"{}".to_vec()),
                            }
                        };
                        let mut resp =
                            format!("HTTP/1.1 {status} X\r\nContent-Length: {}\r\n", body.len());
                        for (k, v) in headers {
                            resp.push_str(&format!("{k}: {v}\r\n"));
                        }
                        resp.push_str("\r\n");
                        if stream.write_all(resp.as_bytes()).is_err()
                            || stream.write_all(&body).is_err()
                        {
                            return;
                        }
                    }
                });
            }
        });
        (addr, log)
    }

    #[test]
    fn retries_honour_retry_after_and_cache_is_reused() {
        let img = ImageBuilder::new()
            .layer(Layer::new().file("etc/os-release", "ID=test\n"))
            .build()
            .unwrap();
        let mt = ("Content-Type", img.manifest_media_type.clone());
        let layer = &img.layers[0];
        let routes = vec![
            ("/v2/".to_string(), vec![(200, vec![], b"{}".to_vec())]),
            (
                "/v2/app/manifests/1".to_string(),
                vec![
                    (
                        429,
                        vec![("Retry-After", "1".to_string())],
                        b"slow down".to_vec(),
                    ),
                    (200, vec![mt], img.manifest.clone()),
                ],
            ),
            (
                format!("/v2/app/blobs/{}", img.config_digest),
                vec![(200, vec![], img.config.clone())],
            ),
            (
                format!("/v2/app/blobs/{}", layer.digest),
                vec![
                    (503, vec![], b"busy".to_vec()),
                    (200, vec![], layer.blob.clone()),
                ],
            ),
        ];
        let (addr, log) = fake_registry(|_| routes);
        let cache = tempfile::tempdir().unwrap();
        let opts = LoadOptions {
            insecure_registries: vec![addr.clone()],
            cache_dir: Some(cache.path().to_path_buf()),
            use_docker_config: false,
            ..Default::default()
        };
        let reference = Reference::parse(&format!("{addr}/app:1")).unwrap();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let started = std::time::Instant::now();
        let image = rt
            .block_on(load(&reference, &opts, &ContentRequest::default()))
            .unwrap();
        assert!(
            started.elapsed() >= Duration::from_secs(1),
            "Retry-After: 1 was honoured"
        );
        assert!(image.files.get("/etc/os-release").is_some());
        assert_eq!(
            image.source.manifest_digest.as_deref(),
            Some(img.manifest_digest.as_str())
        );
        let blob_path = format!("/v2/app/blobs/{}", layer.digest);
        let count = |log: &Arc<Mutex<Vec<String>>>| {
            log.lock()
                .unwrap()
                .iter()
                .filter(|p| **p == blob_path)
                .count()
        };
        assert_eq!(count(&log), 2, "one 503, one success");
        // A rescan reads the layer from the cache.
        rt.block_on(load(&reference, &opts, &ContentRequest::default()))
            .unwrap();
        assert_eq!(count(&log), 2);
    }

    #[test]
    fn bearer_token_flow_sends_credentials_to_the_realm_and_the_token_to_the_registry() {
        let img = ImageBuilder::new()
            .layer(Layer::new().file("a", "a"))
            .build()
            .unwrap();
        let mt = ("Content-Type", img.manifest_media_type.clone());
        let (addr, log) = fake_registry(|addr| {
            let challenge = format!(r#"Bearer realm="http://{addr}/token",service="fake""#);
            vec![
                (
                    "/v2/".to_string(),
                    vec![(401, vec![("WWW-Authenticate", challenge)], b"{}".to_vec())],
                ),
                (
                    "/token*".to_string(),
                    vec![(200, vec![], br#"{"token":"tok123"}"#.to_vec())],
                ),
                (
                    "/v2/app/manifests/1".to_string(),
                    vec![(200, vec![mt], img.manifest.clone())],
                ),
                (
                    format!("/v2/app/blobs/{}", img.config_digest),
                    vec![(200, vec![], img.config.clone())],
                ),
                (
                    format!("/v2/app/blobs/{}", img.layers[0].digest),
                    vec![(200, vec![], img.layers[0].blob.clone())],
                ),
            ]
        });
        let cache = tempfile::tempdir().unwrap();
        let opts = LoadOptions {
            insecure_registries: vec![addr.clone()],
            cache_dir: Some(cache.path().to_path_buf()),
            credentials: Some(crate::image::Credentials {
                username: "alice".into(),
                password: "pw".into(),
            }),
            ..Default::default()
        };
        let reference = Reference::parse(&format!("{addr}/app:1")).unwrap();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(load(&reference, &opts, &ContentRequest::default()))
            .unwrap();
        let log = log.lock().unwrap().clone();
        assert!(
            log.iter()
                .any(|l| l.starts_with("/token") && l.ends_with("auth=Basic YWxpY2U6cHc=")),
            "{log:?}"
        );
        assert!(
            log.iter()
                .any(|l| l == "/v2/app/manifests/1 auth=Bearer tok123"),
            "{log:?}"
        );
        assert!(
            !log.iter()
                .any(|l| l.starts_with("/v2/app/") && l.contains("Basic")),
            "{log:?}"
        );
    }

    #[test]
    fn basic_header_encodes() {
        assert_eq!(basic_header("user", "pass"), "Basic dXNlcjpwYXNz");
        assert_eq!(basic_header("a", "b"), "Basic YTpi");
    }
}
