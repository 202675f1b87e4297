//! The local store: one SQLite file under the XDG data dir (`$XDG_DATA_HOME/tollgate/store.db`,
//! else `~/.local/share/tollgate/store.db`; `--store DIR` overrides) keeping every recorded
//! [`Analysis`] by repo:tag → digest, and policy bundles with at most one active.
//!
//! Does not scan or evaluate; `tag_drift` reads [`Store::previous_for_tag`]. Invariants: the
//! schema is versioned (`PRAGMA user_version`) and upgraded by ordered migrations in one
//! transaction each; a store written by a newer Tollgate is refused, never rewritten; bundles
//! are stored as their original text and re-validated when read.

mod error;

use std::path::{Path, PathBuf};

use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};

pub use error::StoreError;

use crate::analysis::Analysis;
use crate::policy::Bundle;

/// File name of the store inside its directory.
pub const STORE_FILE: &str = "store.db";

/// Ordered schema migrations; index + 1 = the `user_version` after applying it.
const MIGRATIONS: &[&str] = &[
    // 1: analyses by tag and digest, package index (for "which images does this CVE hit"),
    //    bundles with one active.
    "CREATE TABLE analyses (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        digest TEXT NOT NULL,
        image_id TEXT NOT NULL DEFAULT '',
        created TEXT NOT NULL,
        recorded TEXT NOT NULL,
        final_action TEXT,
        bundle_id TEXT,
        packages INTEGER NOT NULL DEFAULT 0,
        vulnerabilities INTEGER NOT NULL DEFAULT 0,
        document TEXT NOT NULL
     );
     CREATE INDEX analyses_digest ON analyses(digest);
     CREATE TABLE analysis_tags (
        analysis_id INTEGER NOT NULL REFERENCES analyses(id) ON DELETE CASCADE,
        tag TEXT NOT NULL,
        PRIMARY KEY (analysis_id, tag)
     );
     CREATE INDEX analysis_tags_tag ON analysis_tags(tag);
     CREATE TABLE analysis_packages (
        analysis_id INTEGER NOT NULL REFERENCES analyses(id) ON DELETE CASCADE,
        type TEXT NOT NULL,
        name TEXT NOT NULL,
        version TEXT NOT NULL,
        purl TEXT NOT NULL DEFAULT ''
     );
     CREATE INDEX analysis_packages_name ON analysis_packages(type, name);
     CREATE TABLE bundles (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL DEFAULT '',
        digest TEXT NOT NULL,
        format TEXT NOT NULL,
        added TEXT NOT NULL,
        active INTEGER NOT NULL DEFAULT 0,
        text TEXT NOT NULL
     );",
];

/// A stored analysis, summarised.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnalysisSummary {
    /// Row id.
    pub id: i64,
    /// Manifest digest (or image id when the source had no manifest).
    pub digest: String,
    /// Tags it was recorded under.
    pub tags: Vec<String>,
    /// When the analysis was made.
    pub created: String,
    /// Final policy action, when evaluated.
    pub final_action: Option<String>,
    /// Package count.
    pub packages: i64,
    /// Vulnerability match count.
    pub vulnerabilities: i64,
}

/// A stored bundle's metadata.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BundleRecord {
    /// Bundle id.
    pub id: String,
    /// Name.
    pub name: String,
    /// `sha256:` of its text.
    pub digest: String,
    /// `v1` or `v2`.
    pub format: String,
    /// When it was added.
    pub added: String,
    /// Whether it is the active bundle.
    pub active: bool,
}

/// An open store.
#[derive(Debug)]
pub struct Store {
    conn: Connection,
    path: PathBuf,
}

/// The default store directory (XDG data dir).
pub fn default_dir() -> Result<PathBuf, StoreError> {
    if let Some(d) = std::env::var_os("XDG_DATA_HOME").filter(|d| !d.is_empty()) {
        return Ok(PathBuf::from(d).join("tollgate"));
    }
    match std::env::var_os("HOME").filter(|h| !h.is_empty()) {
        Some(h) => Ok(PathBuf::from(h).join(".local/share/tollgate")),
        None => Err(StoreError::NoDataDir),
    }
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// The tags an analysis is recorded under: the source's tags, else its reference, else the
/// evaluated tag.
fn tags_of(a: &Analysis) -> Vec<String> {
    let src = &a.inventory.source;
    let mut tags = src.tags.clone();
    if tags.is_empty()
        && let Some(r) = &src.reference
    {
        tags.push(r.clone());
    }
    if let Some(e) = &a.evaluation
        && !e.tag.is_empty()
        && !tags.contains(&e.tag)
    {
        tags.push(e.tag.clone());
    }
    tags
}

fn digest_of(a: &Analysis) -> String {
    a.inventory
        .source
        .manifest_digest
        .clone()
        .unwrap_or_else(|| a.inventory.config.digest.clone())
}

impl Store {
    /// Opens (creating if needed) the store in `dir`, or in [`default_dir`].
    pub fn open(dir: Option<&Path>) -> Result<Store, StoreError> {
        let dir = match dir {
            Some(d) => d.to_path_buf(),
            None => default_dir()?,
        };
        std::fs::create_dir_all(&dir).map_err(|source| StoreError::CreateDir {
            path: dir.clone(),
            source,
        })?;
        let path = dir.join(STORE_FILE);
        let conn = Connection::open(&path).map_err(|source| StoreError::Open {
            path: path.clone(),
            source,
        })?;
        let mut store = Store { conn, path };
        store.configure()?;
        store.migrate()?;
        Ok(store)
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn sql(&self, action: &'static str) -> impl Fn(rusqlite::Error) -> StoreError + '_ {
        move |source| StoreError::Sql {
            path: self.path.clone(),
            action,
            source,
        }
    }

    fn configure(&self) -> Result<(), StoreError> {
        self.conn
            .execute_batch(
                "PRAGMA foreign_keys = ON; PRAGMA journal_mode = WAL; PRAGMA busy_timeout = 5000;",
            )
            .map_err(self.sql("configure"))
    }

    fn migrate(&mut self) -> Result<(), StoreError> {
        let version: i64 = self
            .conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(self.sql("read schema version"))?;
        let supported = MIGRATIONS.len() as i64;
        if version > supported {
            return Err(StoreError::TooNew {
                path: self.path.clone(),
                found: version,
                supported,
            });
        }
        let path = self.path.clone();
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
            let tx = self.conn.transaction().map_err(|source| StoreError::Sql {
                path: path.clone(),
                action: "migrate",
                source,
            })?;
            tx.execute_batch(sql).map_err(|source| StoreError::Sql {
                path: path.clone(),
                action: "migrate",
                source,
            })?;
            tx.pragma_update(None, "user_version", (i + 1) as i64)
                .map_err(|source| StoreError::Sql {
                    path: path.clone(),
                    action: "migrate",
                    source,
                })?;
            tx.commit().map_err(|source| StoreError::Sql {
                path: path.clone(),
                action: "migrate",
                source,
            })?;
        }
        Ok(())
    }

    /// The schema version of the open store.
    pub fn schema_version(&self) -> Result<i64, StoreError> {
        self.conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(self.sql("read schema version"))
    }

    /// Records an analysis under its tags; returns its row id.
    pub fn record_analysis(&mut self, analysis: &Analysis) -> Result<i64, StoreError> {
        let document =
            serde_json::to_string(analysis).map_err(|source| StoreError::Json { source })?;
        let path = self.path.clone();
        let err = |action: &'static str| {
            let path = path.clone();
            move |source| StoreError::Sql {
                path,
                action,
                source,
            }
        };
        let tx = self.conn.transaction().map_err(err("begin"))?;
        tx.execute(
            "INSERT INTO analyses (digest, image_id, created, recorded, final_action, bundle_id, packages, vulnerabilities, document)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            params![
                digest_of(analysis),
                analysis.inventory.config.digest,
                analysis.created,
                now(),
                analysis.evaluation.as_ref().map(|e| e.final_action.as_str()),
                analysis.evaluation.as_ref().map(|e| e.bundle_id.clone()),
                analysis.inventory.packages.len() as i64,
                analysis.matches.len() as i64,
                document
            ],
        )
        .map_err(err("insert analysis"))?;
        let id = tx.last_insert_rowid();
        for tag in tags_of(analysis) {
            tx.execute(
                "INSERT OR IGNORE INTO analysis_tags (analysis_id, tag) VALUES (?1, ?2)",
                params![id, tag],
            )
            .map_err(err("insert tag"))?;
        }
        {
            let mut stmt = tx.prepare("INSERT INTO analysis_packages (analysis_id, type, name, version, purl) VALUES (?1, ?2, ?3, ?4, ?5)").map_err(err("insert packages"))?;
            for p in &analysis.inventory.packages {
                stmt.execute(params![id, p.kind.as_str(), p.name, p.version, p.purl])
                    .map_err(err("insert packages"))?;
            }
        }
        tx.commit().map_err(err("commit"))?;
        Ok(id)
    }

    fn load(&self, id: i64) -> Result<Option<Analysis>, StoreError> {
        let doc: Option<String> = self
            .conn
            .query_row("SELECT document FROM analyses WHERE id = ?1", [id], |r| {
                r.get(0)
            })
            .optional()
            .map_err(self.sql("read analysis"))?;
        match doc {
            Some(d) => serde_json::from_str(&d)
                .map(Some)
                .map_err(|source| StoreError::Json { source }),
            None => Ok(None),
        }
    }

    /// The newest analysis recorded under `tag` that is not the image `excluding_digest`
    /// (compared with both the manifest digest and the image id).
    pub fn previous_for_tag(
        &self,
        tag: &str,
        excluding_digest: &str,
    ) -> Result<Option<Analysis>, StoreError> {
        let id: Option<i64> = self
            .conn
            .query_row(
                "SELECT a.id FROM analyses a JOIN analysis_tags t ON t.analysis_id = a.id
                 WHERE t.tag = ?1 AND a.digest != ?2 AND a.image_id != ?2 ORDER BY a.id DESC LIMIT 1",
                params![tag, excluding_digest],
                |r| r.get(0),
            )
            .optional()
            .map_err(self.sql("find previous analysis"))?;
        match id {
            Some(id) => self.load(id),
            None => Ok(None),
        }
    }

    /// Every stored analysis, newest first.
    pub fn list(&self) -> Result<Vec<AnalysisSummary>, StoreError> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT a.id, a.digest, a.created, a.final_action, a.packages, a.vulnerabilities,
                        COALESCE((SELECT group_concat(tag, char(10)) FROM analysis_tags WHERE analysis_id = a.id), '')
                 FROM analyses a ORDER BY a.id DESC",
            )
            .map_err(self.sql("list analyses"))?;
        let rows = stmt
            .query_map([], |r| {
                let tags: String = r.get(6)?;
                Ok(AnalysisSummary {
                    id: r.get(0)?,
                    digest: r.get(1)?,
                    created: r.get(2)?,
                    final_action: r.get(3)?,
                    packages: r.get(4)?,
                    vulnerabilities: r.get(5)?,
                    tags: tags.lines().map(str::to_string).collect(),
                })
            })
            .map_err(self.sql("list analyses"))?;
        rows.collect::<Result<Vec<_>, _>>()
            .map_err(self.sql("list analyses"))
    }

    /// One analysis by row id, digest (or unique digest prefix) or tag (newest).
    pub fn show(&self, key: &str) -> Result<Option<Analysis>, StoreError> {
        let id: Option<i64> = if let Ok(n) = key.parse::<i64>() {
            Some(n)
        } else {
            self.conn
                .query_row(
                    "SELECT a.id FROM analyses a LEFT JOIN analysis_tags t ON t.analysis_id = a.id
                     WHERE a.digest = ?1 OR a.digest LIKE ?2 OR t.tag = ?1 ORDER BY a.id DESC LIMIT 1",
                    params![key, format!("{}%", key.replace('%', ""))],
                    |r| r.get(0),
                )
                .optional()
                .map_err(self.sql("find analysis"))?
        };
        match id {
            Some(id) => self.load(id),
            None => Ok(None),
        }
    }

    /// Deletes all but the newest `keep_per_tag` analyses of every tag (untagged analyses are
    /// kept only if among the newest `keep_per_tag` overall). Returns how many were deleted.
    pub fn prune(&mut self, keep_per_tag: usize) -> Result<usize, StoreError> {
        let keep = keep_per_tag as i64;
        let deleted = self
            .conn
            .execute(
                "DELETE FROM analyses WHERE id NOT IN (
                    SELECT analysis_id FROM (
                        SELECT analysis_id, ROW_NUMBER() OVER (PARTITION BY tag ORDER BY analysis_id DESC) AS rn
                        FROM analysis_tags) WHERE rn <= ?1)
                 AND (id IN (SELECT analysis_id FROM analysis_tags)
                      OR id NOT IN (SELECT id FROM analyses WHERE id NOT IN (SELECT analysis_id FROM analysis_tags) ORDER BY id DESC LIMIT ?1))",
                [keep],
            )
            .map_err(self.sql("prune"))?;
        Ok(deleted)
    }

    /// Stores a validated bundle (its original text); replaces one with the same id.
    pub fn add_bundle(&mut self, bundle: &Bundle, text: &str) -> Result<BundleRecord, StoreError> {
        let format = match bundle.format {
            crate::policy::BundleFormat::V1 => "v1",
            crate::policy::BundleFormat::V2 => "v2",
        };
        let added = now();
        let active: bool = self
            .conn
            .query_row(
                "SELECT active FROM bundles WHERE id = ?1",
                [&bundle.id],
                |r| r.get(0),
            )
            .optional()
            .map_err(self.sql("add bundle"))?
            .unwrap_or(false);
        self.conn
            .execute(
                "INSERT OR REPLACE INTO bundles (id, name, digest, format, added, active, text) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![bundle.id, bundle.name, bundle.digest, format, added, active, text],
            )
            .map_err(self.sql("add bundle"))?;
        Ok(BundleRecord {
            id: bundle.id.clone(),
            name: bundle.name.clone(),
            digest: bundle.digest.clone(),
            format: format.into(),
            added,
            active,
        })
    }

    /// Every stored bundle.
    pub fn list_bundles(&self) -> Result<Vec<BundleRecord>, StoreError> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT id, name, digest, format, added, active FROM bundles ORDER BY added, id",
            )
            .map_err(self.sql("list bundles"))?;
        let rows = stmt
            .query_map([], |r| {
                Ok(BundleRecord {
                    id: r.get(0)?,
                    name: r.get(1)?,
                    digest: r.get(2)?,
                    format: r.get(3)?,
                    added: r.get(4)?,
                    active: r.get(5)?,
                })
            })
            .map_err(self.sql("list bundles"))?;
        rows.collect::<Result<Vec<_>, _>>()
            .map_err(self.sql("list bundles"))
    }

    /// A stored bundle's record and original text.
    pub fn get_bundle(&self, id: &str) -> Result<Option<(BundleRecord, String)>, StoreError> {
        self.conn
            .query_row(
                "SELECT id, name, digest, format, added, active, text FROM bundles WHERE id = ?1",
                [id],
                |r| {
                    Ok((
                        BundleRecord {
                            id: r.get(0)?,
                            name: r.get(1)?,
                            digest: r.get(2)?,
                            format: r.get(3)?,
                            added: r.get(4)?,
                            active: r.get(5)?,
                        },
                        r.get::<_, String>(6)?,
                    ))
                },
            )
            .optional()
            .map_err(self.sql("get bundle"))
    }

    /// Makes `id` the only active bundle.
    pub fn activate_bundle(&mut self, id: &str) -> Result<(), StoreError> {
        let path = self.path.clone();
        let err = |source| StoreError::Sql {
            path: path.clone(),
            action: "activate bundle",
            source,
        };
        let err = &err;
        let tx = self.conn.transaction().map_err(err)?;
        let exists: Option<String> = tx
            .query_row("SELECT id FROM bundles WHERE id = ?1", [id], |r| r.get(0))
            .optional()
            .map_err(err)?;
        if exists.is_none() {
            return Err(StoreError::NotFound {
                what: "bundle",
                key: id.to_string(),
            });
        }
        tx.execute("UPDATE bundles SET active = (id = ?1)", [id])
            .map_err(err)?;
        tx.commit().map_err(err)
    }

    /// Deletes a bundle (the active one too: then no bundle is active).
    pub fn delete_bundle(&mut self, id: &str) -> Result<(), StoreError> {
        let n = self
            .conn
            .execute("DELETE FROM bundles WHERE id = ?1", [id])
            .map_err(self.sql("delete bundle"))?;
        if n == 0 {
            return Err(StoreError::NotFound {
                what: "bundle",
                key: id.to_string(),
            });
        }
        Ok(())
    }

    /// The active bundle, re-validated from its stored text.
    pub fn active_bundle(&self) -> Result<Option<Bundle>, StoreError> {
        let row: Option<(String, String)> = self
            .conn
            .query_row("SELECT id, text FROM bundles WHERE active = 1", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .optional()
            .map_err(self.sql("read active bundle"))?;
        match row {
            Some((id, text)) => Bundle::from_text(&format!("stored bundle `{id}`"), &text, false)
                .map(Some)
                .map_err(|source| StoreError::Bundle {
                    id,
                    source: Box::new(source),
                }),
            None => Ok(None),
        }
    }

    /// Ids of stored analyses having a package of this type and name (for notifications).
    pub fn analyses_with_package(
        &self,
        kind: &str,
        name: &str,
    ) -> Result<Vec<(i64, String)>, StoreError> {
        let mut stmt = self.conn.prepare("SELECT DISTINCT analysis_id, version FROM analysis_packages WHERE type = ?1 AND name = ?2 ORDER BY analysis_id").map_err(self.sql("find packages"))?;
        let rows = stmt
            .query_map(params![kind, name], |r| Ok((r.get(0)?, r.get(1)?)))
            .map_err(self.sql("find packages"))?;
        rows.collect::<Result<Vec<_>, _>>()
            .map_err(self.sql("find packages"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::{Package, PackageType};

    fn analysis(digest: &str, tag: &str, pkgs: &[(&str, &str)]) -> Analysis {
        let mut a = Analysis {
            created: "2026-11-25T00:00:00Z".into(),
            ..Default::default()
        };
        a.inventory.source.manifest_digest = Some(digest.into());
        a.inventory.source.tags = vec![tag.into()];
        a.inventory.packages = pkgs
            .iter()
            .map(|(n, v)| Package {
                name: (*n).into(),
                version: (*v).into(),
                kind: PackageType::Deb,
                ..Default::default()
            })
            .collect();
        a
    }

    #[test]
    fn analyses_by_tag_previous_and_prune() {
        let dir = tempfile::tempdir().unwrap();
        let mut st = Store::open(Some(dir.path())).unwrap();
        assert_eq!(st.schema_version().unwrap(), MIGRATIONS.len() as i64);
        st.record_analysis(&analysis("sha256:a", "r/app:1", &[("openssl", "3.0.9")]))
            .unwrap();
        st.record_analysis(&analysis("sha256:b", "r/app:1", &[("openssl", "3.0.11")]))
            .unwrap();
        st.record_analysis(&analysis("sha256:c", "r/other:1", &[]))
            .unwrap();
        let prev = st.previous_for_tag("r/app:1", "sha256:b").unwrap().unwrap();
        assert_eq!(
            prev.inventory.source.manifest_digest.as_deref(),
            Some("sha256:a")
        );
        assert!(st.previous_for_tag("r/none:1", "x").unwrap().is_none());
        assert_eq!(st.list().unwrap().len(), 3);
        assert_eq!(st.analyses_with_package("deb", "openssl").unwrap().len(), 2);
        assert!(st.show("sha256:c").unwrap().is_some());
        assert_eq!(st.prune(1).unwrap(), 1);
        assert_eq!(st.list().unwrap().len(), 2);
        drop(st);
        // Reopening keeps data and does not re-run migrations.
        let st = Store::open(Some(dir.path())).unwrap();
        assert_eq!(st.list().unwrap().len(), 2);
    }

    #[test]
    fn bundles_one_active() {
        let dir = tempfile::tempdir().unwrap();
        let mut st = Store::open(Some(dir.path())).unwrap();
        assert!(st.active_bundle().unwrap().is_none());
        let text = Bundle::default_bundle_text();
        let b = Bundle::from_text("d", text, false).unwrap();
        st.add_bundle(&b, text).unwrap();
        let other = text.replace("\"tollgate-default\"", "\"second\"");
        let b2 = Bundle::from_text("s", &other, false).unwrap();
        st.add_bundle(&b2, &other).unwrap();
        st.activate_bundle("second").unwrap();
        st.activate_bundle("tollgate-default").unwrap();
        let active: Vec<_> = st
            .list_bundles()
            .unwrap()
            .into_iter()
            .filter(|r| r.active)
            .collect();
        assert_eq!(active.len(), 1);
        assert_eq!(st.active_bundle().unwrap().unwrap().id, "tollgate-default");
        assert!(matches!(
            st.activate_bundle("nope"),
            Err(StoreError::NotFound { .. })
        ));
        st.delete_bundle("tollgate-default").unwrap();
        assert!(st.active_bundle().unwrap().is_none());
        assert!(st.get_bundle("second").unwrap().is_some());
    }

    #[test]
    fn newer_schema_and_garbage_files_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        {
            let st = Store::open(Some(dir.path())).unwrap();
            st.conn.pragma_update(None, "user_version", 99).unwrap();
        }
        assert!(matches!(
            Store::open(Some(dir.path())),
            Err(StoreError::TooNew { found: 99, .. })
        ));
        let bad = tempfile::tempdir().unwrap();
        std::fs::write(
            bad.path().join(STORE_FILE),
            b"this is not sqlite, just text padding to look like a file",
        )
        .unwrap();
        assert!(Store::open(Some(bad.path())).is_err());
    }
}
