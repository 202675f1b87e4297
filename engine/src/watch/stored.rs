//! Streams the newest stored analysis of every image out of the store's SQLite file, reading
//! only what a rescan needs (source, distro, packages, recorded matches, DB facts) — never the
//! whole [`Analysis`](crate::analysis::Analysis), whose file list can be megabytes.
//!
//! This is a read-only query of its own on the file `store::Store::path` names; the store's
//! schema and writes stay the store module's. Invariants: one row in memory at a time (memory
//! is flat in the number of stored images); a document that does not parse is reported as a
//! [`StoredProblem`] for that image and the walk continues.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use rusqlite::{Connection, OpenFlags};
use serde::Deserialize;

use crate::catalog::{Distro, Inventory, Location, Package, PackageType};
use crate::image::{Platform, SourceInfo};
use crate::watch::error::WatchError;
use crate::watch::finding::{ImageRef, repository_of};

#[derive(Debug, Default, Deserialize)]
struct StoredConfig {
    #[serde(default)]
    platform: Platform,
}

/// A package as a rescan reads it: what the matchers and findings use. The file list (often
/// most of an OS package's bytes), licenses and cataloger id are skipped while parsing.
#[derive(Debug, Deserialize)]
struct StoredPackage {
    id: String,
    name: String,
    version: String,
    #[serde(rename = "type")]
    kind: PackageType,
    #[serde(default)]
    purl: String,
    #[serde(default)]
    locations: Vec<Location>,
    #[serde(default)]
    arch: Option<String>,
    #[serde(default)]
    source_name: Option<String>,
    #[serde(default)]
    source_version: Option<String>,
    #[serde(default)]
    metadata: serde_json::Map<String, serde_json::Value>,
}

impl From<StoredPackage> for Package {
    fn from(p: StoredPackage) -> Package {
        Package {
            id: p.id,
            name: p.name,
            version: p.version,
            kind: p.kind,
            purl: p.purl,
            locations: p.locations,
            arch: p.arch,
            source_name: p.source_name,
            source_version: p.source_version,
            metadata: p.metadata,
            ..Default::default()
        }
    }
}

#[derive(Debug, Default, Deserialize)]
struct StoredInventory {
    #[serde(default)]
    source: SourceInfo,
    #[serde(default)]
    config: StoredConfig,
    #[serde(default)]
    distro: Option<Distro>,
    #[serde(default)]
    packages: Vec<StoredPackage>,
}

#[derive(Debug, Default, Deserialize)]
struct StoredVuln {
    #[serde(default)]
    id: String,
    #[serde(default)]
    aliases: Vec<String>,
}

/// A recorded match as the baseline needs it: ids, and whether it was suppressed.
#[derive(Debug, Deserialize)]
struct StoredMatch {
    #[serde(default)]
    vulnerability: StoredVuln,
    #[serde(default)]
    suppressed: Option<serde::de::IgnoredAny>,
}

/// Only whether the scan had a DB; the DB facts themselves are not needed.
#[derive(Debug, Deserialize)]
struct StoredDoc {
    #[serde(default)]
    created: String,
    #[serde(default)]
    inventory: StoredInventory,
    #[serde(default)]
    matches: Vec<StoredMatch>,
    #[serde(default)]
    db: Option<serde::de::IgnoredAny>,
}

/// One stored image, as much as a rescan needs.
#[derive(Debug, Clone, Default)]
pub struct StoredImage {
    /// Store row id of the analysis.
    pub row: i64,
    /// The image as findings name it.
    pub image: ImageRef,
    /// Distro and packages (the rest of the inventory is left empty; packages carry no file
    /// lists, licenses or cataloger ids).
    pub inventory: Inventory,
    /// Ids and aliases of the unsuppressed matches recorded at scan time.
    pub scanned_ids: HashSet<String>,
    /// True when the scan matched against a DB (so `matches` is a real baseline).
    pub matched_at_scan: bool,
}

/// A stored analysis that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct StoredProblem {
    /// Store row id.
    pub row: i64,
    /// The image key of the row.
    pub image: String,
    /// What went wrong.
    pub reason: String,
}

/// The image a stored document describes.
fn image_ref(key: String, doc: &StoredDoc) -> ImageRef {
    let src = &doc.inventory.source;
    // Prefer a name that carries a repository (`repo:tag`) over a bare tag like `latest`.
    let reference = src
        .reference
        .iter()
        .chain(src.tags.iter())
        .find(|r| r.contains('/') || r.contains(':'))
        .or(src.reference.as_ref())
        .or(src.tags.first())
        .cloned();
    let repository = reference.as_deref().map(|r| repository_of(r).to_string());
    let p = &doc.inventory.config.platform;
    ImageRef {
        key,
        reference,
        repository,
        tags: src.tags.clone(),
        manifest_digest: src.manifest_digest.clone(),
        platform: (!p.os.is_empty()).then(|| p.to_string()),
        scanned_at: (!doc.created.is_empty()).then(|| doc.created.clone()),
    }
}

/// Parses one stored document.
pub fn parse_document(row: i64, key: String, document: &str) -> Result<StoredImage, StoredProblem> {
    let doc: StoredDoc = serde_json::from_str(document).map_err(|e| StoredProblem {
        row,
        image: key.clone(),
        reason: format!("unreadable analysis document: {e}"),
    })?;
    let image = image_ref(key, &doc);
    let matched_at_scan = doc.db.is_some() || !doc.matches.is_empty();
    let mut scanned_ids = HashSet::new();
    for m in doc.matches.into_iter().filter(|m| m.suppressed.is_none()) {
        scanned_ids.insert(m.vulnerability.id);
        scanned_ids.extend(m.vulnerability.aliases);
    }
    Ok(StoredImage {
        row,
        image,
        inventory: Inventory {
            source: doc.inventory.source,
            distro: doc.inventory.distro,
            packages: doc
                .inventory
                .packages
                .into_iter()
                .map(Package::from)
                .collect(),
            ..Default::default()
        },
        scanned_ids,
        matched_at_scan,
    })
}

/// A read-only view of the store for rescans.
#[derive(Debug)]
pub struct StoredAnalyses {
    conn: Connection,
    path: PathBuf,
}

impl StoredAnalyses {
    /// Opens the store file `path` (as named by `store::Store::path`) read-only.
    pub fn open(path: &Path) -> Result<StoredAnalyses, WatchError> {
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|source| WatchError::StoreRead {
            path: path.to_path_buf(),
            source,
        })?;
        let _ = conn.busy_timeout(std::time::Duration::from_secs(10));
        Ok(StoredAnalyses {
            conn,
            path: path.to_path_buf(),
        })
    }

    /// The image keys (digests) that have at least one stored analysis.
    pub fn image_keys(&self) -> Result<std::collections::HashSet<String>, WatchError> {
        let err = |source| WatchError::StoreRead {
            path: self.path.clone(),
            source,
        };
        let mut stmt = self
            .conn
            .prepare("SELECT DISTINCT digest FROM analyses")
            .map_err(err)?;
        let rows = stmt.query_map([], |r| r.get::<_, String>(0)).map_err(err)?;
        rows.collect::<Result<_, _>>().map_err(err)
    }

    /// How many images (distinct digests) the store holds.
    pub fn count_images(&self) -> Result<usize, WatchError> {
        self.conn
            .query_row("SELECT COUNT(DISTINCT digest) FROM analyses", [], |r| {
                r.get::<_, i64>(0)
            })
            .map(|n| usize::try_from(n).unwrap_or(0))
            .map_err(|source| WatchError::StoreRead {
                path: self.path.clone(),
                source,
            })
    }

    /// Calls `each` with the newest analysis of every image, oldest image first; stops early
    /// when `each` returns `false`. Documents that do not parse arrive as `Err`.
    pub fn for_each_latest(
        &self,
        mut each: impl FnMut(Result<StoredImage, StoredProblem>) -> bool,
    ) -> Result<(), WatchError> {
        self.for_each_latest_raw(|raw| each(raw.and_then(RawDocument::parse)))
    }

    /// [`Self::for_each_latest`] without parsing, so the caller can parse on other threads.
    /// A document that is not text arrives as `Err`.
    pub fn for_each_latest_raw(
        &self,
        mut each: impl FnMut(Result<RawDocument, StoredProblem>) -> bool,
    ) -> Result<(), WatchError> {
        let err = |source| WatchError::StoreRead {
            path: self.path.clone(),
            source,
        };
        let mut stmt = self
            .conn
            .prepare(
                "SELECT a.id, a.digest, a.document FROM analyses a
                 WHERE a.id IN (SELECT MAX(id) FROM analyses GROUP BY digest)
                 ORDER BY a.id",
            )
            .map_err(err)?;
        let mut rows = stmt.query([]).map_err(err)?;
        while let Some(row) = rows.next().map_err(err)? {
            let id: i64 = row.get(0).map_err(err)?;
            let key: String = row.get(1).map_err(err)?;
            let raw = match row.get_ref(2).map_err(err)?.as_str() {
                Ok(doc) => Ok(RawDocument {
                    row: id,
                    key,
                    text: doc.to_string(),
                }),
                Err(e) => Err(StoredProblem {
                    row: id,
                    image: key,
                    reason: format!("analysis document is not text: {e}"),
                }),
            };
            if !each(raw) {
                break;
            }
        }
        Ok(())
    }
}

/// One stored analysis document, not parsed yet.
#[derive(Debug, Clone)]
pub struct RawDocument {
    /// Store row id.
    pub row: i64,
    /// Image key (digest).
    pub key: String,
    /// The analysis JSON.
    pub text: String,
}

impl RawDocument {
    /// Parses it (see [`parse_document`]).
    pub fn parse(self) -> Result<StoredImage, StoredProblem> {
        parse_document(self.row, self.key, &self.text)
    }
}
