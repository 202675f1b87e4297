//! Distributing DB files: [`update`] fetches a prebuilt DB from an HTTP(S) URL, an OCI artifact
//! (`oci://registry/repo:tag`) or a local file; [`push`] publishes one as an OCI artifact;
//! [`persist`] installs a finished file atomically, keeping the previous one as `<FILE>.previous`.
//!
//! Does not build DBs (`build`). Invariants: a downloaded file is written under a temporary name
//! in the target directory, fsynced, opened and fully verified (integrity + content checksum, and
//! the published SHA-256 when one exists) before it replaces anything; on any failure the
//! temporary file is removed and the installed DB is untouched.

use std::io::Write;
use std::path::{Path, PathBuf};

use super::build::fetch::{self, HttpOptions};
use super::checksum::sha256_hex;
use super::error::DbError;
use super::open::VulnDb;

/// Media type of the DB layer in an OCI artifact.
pub const OCI_LAYER_MEDIA_TYPE: &str = "application/vnd.tollgate.vulndb.layer.v1.sqlite";
/// Artifact config media type.
pub const OCI_CONFIG_MEDIA_TYPE: &str = "application/vnd.tollgate.vulndb.config.v1+json";

/// Where `db update` takes the DB from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DbLocation {
    /// `https://…` (or `http://…` for loopback mirrors).
    Url(String),
    /// `oci://registry/repo:tag`.
    Oci(String),
    /// A local file.
    File(PathBuf),
}

impl DbLocation {
    /// Classifies a reference string.
    pub fn parse(s: &str) -> Result<DbLocation, DbError> {
        if let Some(rest) = s.strip_prefix("oci://") {
            if rest.is_empty() || !rest.contains('/') {
                return Err(DbError::BadReference {
                    reference: s.into(),
                    reason: "expected `oci://registry/repository:tag`".into(),
                });
            }
            Ok(DbLocation::Oci(rest.to_string()))
        } else if s.starts_with("https://") || s.starts_with("http://") {
            Ok(DbLocation::Url(s.to_string()))
        } else if s.contains("://") {
            Err(DbError::BadReference {
                reference: s.into(),
                reason: "unsupported scheme".into(),
            })
        } else {
            Ok(DbLocation::File(PathBuf::from(s)))
        }
    }
}

/// The outcome of an update or import.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Installed {
    /// The installed DB.
    pub path: PathBuf,
    /// Where the replaced DB was kept, if there was one.
    pub previous: Option<PathBuf>,
    /// The installed DB's content checksum.
    pub checksum: String,
    /// Its build time.
    pub built: String,
}

/// The path the previous DB is kept at.
pub fn previous_path(path: &Path) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(".previous");
    PathBuf::from(s)
}

fn io<'a>(path: &'a Path, action: &'static str) -> impl Fn(std::io::Error) -> DbError + use<'a> {
    move |source| DbError::Io {
        path: path.to_path_buf(),
        action,
        source,
    }
}

/// Moves a finished temporary file onto `out`: fsync, keep the old `out` as `out.previous`
/// (hard link, so `out` is never missing), then one atomic rename.
pub fn persist(tmp: &Path, out: &Path) -> Result<Option<PathBuf>, DbError> {
    std::fs::File::open(tmp)
        .and_then(|f| f.sync_all())
        .map_err(io(tmp, "sync"))?;
    let mut previous = None;
    if out.is_file() {
        let prev = previous_path(out);
        let _ = std::fs::remove_file(&prev);
        if std::fs::hard_link(out, &prev).is_err() {
            std::fs::copy(out, &prev).map_err(io(&prev, "keep the previous DB as"))?;
        }
        previous = Some(prev);
    }
    std::fs::rename(tmp, out).map_err(io(out, "rename the new DB onto"))?;
    if let Some(dir) = out.parent().filter(|d| !d.as_os_str().is_empty())
        && let Ok(d) = std::fs::File::open(dir)
    {
        let _ = d.sync_all();
    }
    Ok(previous)
}

struct TempFile(PathBuf);
impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn temp_beside(out: &Path) -> Result<TempFile, DbError> {
    let dir = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&dir).map_err(io(&dir, "create directory"))?;
    let name = out
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "vulndb.sqlite".into());
    Ok(TempFile(
        dir.join(format!(".{name}.download-{}", std::process::id())),
    ))
}

/// Writes `bytes` (plain SQLite or zstd-compressed) to `tmp`.
fn write_db_bytes(tmp: &Path, bytes: &[u8]) -> Result<(), DbError> {
    let mut f = std::fs::File::create(tmp).map_err(io(tmp, "create"))?;
    if bytes.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        zstd::stream::copy_decode(bytes, &mut f).map_err(io(tmp, "decompress (zstd) into"))?;
    } else {
        f.write_all(bytes).map_err(io(tmp, "write"))?;
    }
    f.sync_all().map_err(io(tmp, "sync"))
}

/// Verifies the file at `tmp` and installs it at `out`.
fn verify_and_install(tmp: &TempFile, out: &Path) -> Result<Installed, DbError> {
    let (checksum, built) = {
        let db = VulnDb::open(&tmp.0)?;
        db.verify()?;
        (db.meta().checksum.clone(), db.meta().built.clone())
    };
    let previous = persist(&tmp.0, out)?;
    Ok(Installed {
        path: out.to_path_buf(),
        previous,
        checksum,
        built,
    })
}

/// Installs a local DB file at `out` after verifying it.
pub fn import(file: &Path, out: &Path) -> Result<Installed, DbError> {
    let bytes = std::fs::read(file).map_err(|source| {
        if source.kind() == std::io::ErrorKind::NotFound {
            DbError::Missing {
                path: file.to_path_buf(),
            }
        } else {
            DbError::Io {
                path: file.to_path_buf(),
                action: "read",
                source,
            }
        }
    })?;
    let tmp = temp_beside(out)?;
    write_db_bytes(&tmp.0, &bytes)?;
    verify_and_install(&tmp, out)
}

/// Fetches a DB from `location` and installs it at `out`.
///
/// For URLs, a sibling `<URL>.sha256` (first word = hex digest of the downloaded bytes) is
/// checked when the server has one. For OCI, the layer digest is verified while pulling.
pub async fn update(
    location: &DbLocation,
    out: &Path,
    http: &HttpOptions,
) -> Result<Installed, DbError> {
    match location {
        DbLocation::File(p) => import(p, out),
        DbLocation::Url(url) => {
            let client = fetch::client(http)?;
            let Some(fetched) = fetch::get(&client, url, http, false).await? else {
                return Err(DbError::Fetch {
                    url: url.clone(),
                    reason: "404 Not Found".into(),
                    source: None,
                });
            };
            let sidecar = format!("{url}.sha256");
            if let Some(sum) = fetch::get(&client, &sidecar, http, true).await? {
                let text = String::from_utf8_lossy(&sum.bytes);
                let expected = text
                    .split_whitespace()
                    .next()
                    .unwrap_or_default()
                    .to_ascii_lowercase();
                if expected != fetched.sha256 {
                    return Err(DbError::ChecksumMismatch {
                        path: PathBuf::from(url),
                        recorded: expected,
                        computed: fetched.sha256,
                    });
                }
            }
            let tmp = temp_beside(out)?;
            write_db_bytes(&tmp.0, &fetched.bytes)?;
            verify_and_install(&tmp, out)
        }
        DbLocation::Oci(reference) => {
            let bytes = oci_pull(reference).await?;
            let tmp = temp_beside(out)?;
            write_db_bytes(&tmp.0, &bytes)?;
            verify_and_install(&tmp, out)
        }
    }
}

fn oci_client(registry: &str) -> oci_client::Client {
    let host = registry.split(':').next().unwrap_or(registry);
    let loopback = matches!(host, "localhost" | "127.0.0.1" | "::1" | "[::1]");
    let protocol = if loopback {
        oci_client::client::ClientProtocol::HttpsExcept(vec![registry.to_string()])
    } else {
        oci_client::client::ClientProtocol::Https
    };
    oci_client::Client::new(oci_client::client::ClientConfig {
        protocol,
        ..Default::default()
    })
}

fn oci_auth() -> oci_client::secrets::RegistryAuth {
    match (
        std::env::var("TOLLGATE_REGISTRY_USERNAME"),
        std::env::var("TOLLGATE_REGISTRY_PASSWORD"),
    ) {
        (Ok(u), Ok(p)) => oci_client::secrets::RegistryAuth::Basic(u, p),
        _ => oci_client::secrets::RegistryAuth::Anonymous,
    }
}

fn parse_oci(reference: &str) -> Result<oci_client::Reference, DbError> {
    reference
        .parse::<oci_client::Reference>()
        .map_err(|e| DbError::BadReference {
            reference: format!("oci://{reference}"),
            reason: e.to_string(),
        })
}

async fn oci_pull(reference: &str) -> Result<Vec<u8>, DbError> {
    let r = parse_oci(reference)?;
    let client = oci_client(r.registry());
    let oci_err = |e: oci_client::errors::OciDistributionError| DbError::Oci {
        reference: format!("oci://{reference}"),
        action: "pull",
        source: Box::new(e),
    };
    let data = client
        .pull(&r, &oci_auth(), vec![OCI_LAYER_MEDIA_TYPE])
        .await
        .map_err(oci_err)?;
    let layer = data
        .layers
        .into_iter()
        .find(|l| l.media_type == OCI_LAYER_MEDIA_TYPE)
        .ok_or_else(|| DbError::BadReference {
            reference: format!("oci://{reference}"),
            reason: format!("the artifact has no `{OCI_LAYER_MEDIA_TYPE}` layer"),
        })?;
    Ok(layer.data.to_vec())
}

/// Publishes a verified DB file as an OCI artifact; returns the manifest URL.
pub async fn push(db_file: &Path, reference: &str) -> Result<String, DbError> {
    let reference = reference.strip_prefix("oci://").unwrap_or(reference);
    let (checksum, built) = {
        let db = VulnDb::open(db_file)?;
        db.verify()?;
        (db.meta().checksum.clone(), db.meta().built.clone())
    };
    let bytes = std::fs::read(db_file).map_err(io(db_file, "read"))?;
    let r = parse_oci(reference)?;
    let client = oci_client(r.registry());
    let mut annotations = std::collections::BTreeMap::new();
    annotations.insert(
        "org.opencontainers.image.title".to_string(),
        "vulndb.sqlite".to_string(),
    );
    annotations.insert("dev.tollgate.vulndb.checksum".to_string(), checksum.clone());
    annotations.insert("dev.tollgate.vulndb.built".to_string(), built.clone());
    let layer = oci_client::client::ImageLayer::new(
        bytes,
        OCI_LAYER_MEDIA_TYPE.to_string(),
        Some(annotations),
    );
    let config = serde_json::json!({
        "schema_version": super::schema::SCHEMA_VERSION,
        "built": built,
        "checksum": checksum,
        "file_sha256": sha256_hex(&layer.data),
    });
    let config = oci_client::client::Config::new(
        serde_json::to_vec(&config).unwrap_or_default(),
        OCI_CONFIG_MEDIA_TYPE.to_string(),
        None,
    );
    let resp = client
        .push(&r, &[layer], config, &oci_auth(), None)
        .await
        .map_err(|e| DbError::Oci {
            reference: format!("oci://{reference}"),
            action: "push",
            source: Box::new(e),
        })?;
    Ok(resp.manifest_url)
}
