//! Streams the newest stored analysis of every image out of the store's SQLite file, reading
//! only what a rescan needs (source, distro, packages, recorded matches, DB facts) — never the
//! whole [`Analysis`](crate::analysis::Analysis), whose file list can be megabytes.
//!
//! This is a read-only query of its own on the file `store::Store::path` names; the store's
//! schema and writes stay the store module's. Invariants: one row in memory at a time (memory
//! is flat in the number of stored images); a document that does not parse is reported as a
//! [`StoredProblem`] for that image and the walk continues.

use std::path::{Path, PathBuf};

use rusqlite::{Connection, OpenFlags};
use serde::Deserialize;

use crate::analysis::DbInfo;
use crate::catalog::{Distro, Inventory, Package};
use crate::image::{Platform, SourceInfo};
use crate::matcher::Match;
use crate::watch::error::WatchError;
use crate::watch::finding::{ImageRef, repository_of};

#[derive(Debug, Default, Deserialize)]
struct StoredConfig {
    #[serde(default)]
    platform: Platform,
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
    packages: Vec<Package>,
}

#[derive(Debug, Deserialize)]
struct StoredDoc {
    #[serde(default)]
    created: String,
    #[serde(default)]
    inventory: StoredInventory,
    #[serde(default)]
    matches: Vec<Match>,
    #[serde(default)]
    db: Option<DbInfo>,
}

/// One stored image, as much as a rescan needs.
#[derive(Debug, Clone, Default)]
pub struct StoredImage {
    /// Store row id of the analysis.
    pub row: i64,
    /// The image as findings name it.
    pub image: ImageRef,
    /// Distro and packages (the rest of the inventory is left empty).
    pub inventory: Inventory,
    /// Matches recorded at scan time.
    pub matches: Vec<Match>,
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
    Ok(StoredImage {
        row,
        image,
        inventory: Inventory {
            source: doc.inventory.source,
            distro: doc.inventory.distro,
            packages: doc.inventory.packages,
            ..Default::default()
        },
        matches: doc.matches,
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
            let parsed = match row.get_ref(2).map_err(err)?.as_str() {
                Ok(doc) => parse_document(id, key, doc),
                Err(e) => Err(StoredProblem {
                    row: id,
                    image: key,
                    reason: format!("analysis document is not text: {e}"),
                }),
            };
            if !each(parsed) {
                break;
            }
        }
        Ok(())
    }
}
