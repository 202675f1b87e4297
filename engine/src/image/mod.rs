//! Image reference → [`Image`]: the config, the layers and the squashed, read-only
//! [`FileTree`] of the image's final filesystem, every entry attributed to the layer that
//! last wrote it.
//!
//! This stage knows no packages. It streams each layer once and never extracts to disk; it keeps
//! metadata for every file and the contents only of files a later stage asks for through a
//! [`ContentRequest`] (size-capped). The hostile-input rules (path safety, link containment,
//! decompression caps) live in this stage only, in `layer`.
//!
//! - [`Reference::parse`] — `scheme:ref` parsing (`reference`).
//! - [`load`] / [`load_all_platforms`] with [`LoadOptions`] — the entry points.
//! - sources: `registry` (pull into the layer cache), `docker_archive`, `oci_layout`
//!   (`oci-dir:` and `oci-archive:`), `rootfs` (`dir:`); `archive` gives them random access.
//! - `layer` (tar + gzip/zstd streaming, whiteouts, path safety), `squash` (layers → tree),
//!   `assemble` (parallel layer reads), `manifest` (JSON documents, platforms).
//! - [`fixture`] — a public builder of test images, for every crate's tests.

mod archive;
mod assemble;
mod docker_archive;
mod error;
pub mod fixture;
mod layer;
mod manifest;
mod model;
mod oci_layout;
mod reference;
mod registry;
mod rootfs;
mod squash;
#[cfg(test)]
mod tests;

use std::path::PathBuf;
use std::sync::Arc;

pub use error::ImageError;
pub use layer::PathGlobs;
pub use manifest::{default_platform, parse_platform};
pub use model::*;
pub use reference::{Reference, RegistryRef, Source};
pub(crate) use registry::{RegistryAccess, access as registry_access};

/// Default cap on decompressed bytes per image (32 GiB).
pub const DEFAULT_MAX_DECOMPRESSED_BYTES: u64 = 32 * 1024 * 1024 * 1024;

/// Username and password for the registry of the reference being loaded (never sent to any
/// other host). `Debug` never prints the password.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    /// User name.
    pub username: String,
    /// Password or token.
    pub password: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .finish()
    }
}

/// Something that happened while loading, for progress display.
#[derive(Debug, Clone)]
pub enum ProgressEvent {
    /// A blob download started (`total` when the registry sent a length).
    DownloadStarted {
        /// The blob digest.
        digest: String,
        /// Its size in bytes.
        total: Option<u64>,
    },
    /// Bytes of a blob arrived.
    DownloadProgress {
        /// The blob digest.
        digest: String,
        /// Bytes received in this chunk.
        bytes: u64,
    },
    /// A blob was downloaded and verified (or found in the cache: `cached`).
    DownloadFinished {
        /// The blob digest.
        digest: String,
        /// True when nothing was downloaded.
        cached: bool,
    },
    /// A layer was read.
    LayerRead {
        /// Its index.
        index: usize,
        /// Number of layers.
        total: usize,
        /// Its digest.
        digest: String,
    },
    /// The caller is done with this load (lets a display clear itself).
    Finished,
}

/// Receives [`ProgressEvent`]s, possibly from several threads.
pub trait Progress: Send + Sync + std::fmt::Debug {
    /// Called for each event.
    fn event(&self, event: ProgressEvent);
}

/// How to load an image.
#[derive(Debug, Clone)]
pub struct LoadOptions {
    /// Platform to pick from an index (default linux/amd64).
    pub platform: Option<Platform>,
    /// Credentials for the reference's registry (overrides docker/podman config).
    pub credentials: Option<Credentials>,
    /// Read docker `config.json` / podman `auth.json` / credential helpers when no
    /// `credentials` are given.
    pub use_docker_config: bool,
    /// Registries (`host[:port]`) reached over plain HTTP.
    pub insecure_registries: Vec<String>,
    /// Extra CA certificates (PEM or DER files) trusted for registry TLS.
    pub ca_certs: Vec<PathBuf>,
    /// The blob cache; `None` means `$XDG_CACHE_HOME/tollgate/blobs` (or `~/.cache/…`).
    pub cache_dir: Option<PathBuf>,
    /// Cap on total decompressed layer bytes of one image (bomb protection).
    pub max_decompressed_bytes: u64,
    /// Concurrent blob downloads.
    pub max_parallel_downloads: usize,
    /// Retries of a failed registry request (429, 5xx, connection errors).
    pub max_retries: u32,
    /// Progress receiver (the CLI draws bars only on a TTY).
    pub progress: Option<Arc<dyn Progress>>,
}

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions {
            platform: None,
            credentials: None,
            use_docker_config: true,
            insecure_registries: Vec::new(),
            ca_certs: Vec::new(),
            cache_dir: None,
            max_decompressed_bytes: DEFAULT_MAX_DECOMPRESSED_BYTES,
            max_parallel_downloads: 4,
            max_retries: 4,
            progress: None,
        }
    }
}

impl LoadOptions {
    /// The cache directory in effect.
    pub fn effective_cache_dir(&self) -> PathBuf {
        if let Some(d) = &self.cache_dir {
            return d.clone();
        }
        let base = std::env::var_os("XDG_CACHE_HOME")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
            .unwrap_or_else(std::env::temp_dir);
        base.join("tollgate").join("blobs")
    }
}

/// Loads one image (for an index: the `opts.platform`, default linux/amd64).
pub async fn load(
    reference: &Reference,
    opts: &LoadOptions,
    request: &ContentRequest,
) -> Result<Image, ImageError> {
    let mut images = load_impl(reference, opts, request, false).await?;
    images
        .pop()
        .ok_or_else(|| ImageError::Internal("no image resolved".into()))
}

/// Loads every platform of a multi-platform image (a single-platform image gives one).
pub async fn load_all_platforms(
    reference: &Reference,
    opts: &LoadOptions,
    request: &ContentRequest,
) -> Result<Vec<Image>, ImageError> {
    load_impl(reference, opts, request, true).await
}

/// Reads one layer blob held in memory (tar, tar+gzip or tar+zstd) as a one-layer image and
/// returns its squashed tree and scanner hits. Used by the fuzz target and by callers that
/// hold a single layer; no digest is verified.
pub fn read_layer_blob(
    blob: &[u8],
    request: &ContentRequest,
    max_decompressed_bytes: u64,
) -> Result<(FileTree, Vec<FileContentHit>), ImageError> {
    let wants = layer::Wants::new(request)?;
    let budget = layer::Budget::new(max_decompressed_bytes);
    let ctx = layer::LayerCtx {
        index: 0,
        label: "memory",
        location: "memory",
        verify: &layer::Verify::None,
        budget: &budget,
    };
    let read = layer::read_layer(blob, &ctx, &wants)?;
    Ok(squash::squash(vec![read]))
}

async fn load_impl(
    reference: &Reference,
    opts: &LoadOptions,
    request: &ContentRequest,
    all: bool,
) -> Result<Vec<Image>, ImageError> {
    let wants = Arc::new(layer::Wants::new(request)?);
    match &reference.source {
        Source::Registry(r) => registry::load(r, &reference.input, opts, wants, all).await,
        Source::Sbom { .. } => Err(ImageError::SbomNotAnImage {
            input: reference.input.clone(),
        }),
        _ => {
            let reference = reference.clone();
            let opts = opts.clone();
            tokio::task::spawn_blocking(move || load_local(&reference, &opts, &wants, all))
                .await
                .map_err(|e| ImageError::Internal(e.to_string()))?
        }
    }
}

fn load_local(
    reference: &Reference,
    opts: &LoadOptions,
    wants: &layer::Wants,
    all: bool,
) -> Result<Vec<Image>, ImageError> {
    let input = reference.input.as_str();
    let want = if all {
        oci_layout::Want::All
    } else {
        oci_layout::Want::One(opts.platform.as_ref())
    };
    match &reference.source {
        Source::DockerArchive { path, pick } => {
            let store = archive::TarIndex::open(path)?;
            let plan = docker_archive::plan(&store, input, pick.as_deref())?;
            Ok(vec![assemble::read_image(plan, &store, opts, wants)?])
        }
        Source::OciArchive { path, pick } => {
            let store = archive::TarIndex::open(path)?;
            let plans = oci_layout::plan(&store, input, "oci-archive", pick.as_deref(), want)?;
            plans
                .into_iter()
                .map(|p| assemble::read_image(p, &store, opts, wants))
                .collect()
        }
        Source::OciDir { path, pick } => {
            if !path.is_dir() {
                return Err(ImageError::io(
                    path,
                    std::io::Error::new(std::io::ErrorKind::NotFound, "not a directory"),
                ));
            }
            let store = archive::DirStore { root: path.clone() };
            let plans = oci_layout::plan(&store, input, "oci-dir", pick.as_deref(), want)?;
            plans
                .into_iter()
                .map(|p| assemble::read_image(p, &store, opts, wants))
                .collect()
        }
        Source::Dir { path } => Ok(vec![rootfs::load(path, input, wants)?]),
        Source::Registry(_) | Source::Sbom { .. } => Err(ImageError::Internal(
            "remote or SBOM source routed to the local loader".into(),
        )),
    }
}
