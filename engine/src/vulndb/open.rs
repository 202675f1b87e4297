//! [`VulnDb`]: a DB file opened read-only and immutable (no lock or journal files, nothing loaded
//! into memory beyond SQLite's page cache; pages come from mmap), its [`DbMeta`], integrity and
//! checksum verification, and staleness ([`VulnDb::age`], [`VulnDb::check_age`]).
//!
//! Does not build or download DBs (`build`, `update`) and does not interpret records (`query`
//! returns them, `matcher` judges them). Invariants: a `VulnDb` value always has a readable meta
//! table with this build's schema version; truncated files are rejected at open, before any query.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};
use serde::{Deserialize, Serialize};

use super::error::DbError;
use super::schema::SCHEMA_VERSION;

/// One source recorded in the DB.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DbSource {
    /// Ecosystem folder, `kev`, `epss` or the record-set name.
    pub name: String,
    /// URL or path it was read from.
    pub location: String,
    /// `osv-zip`, `kev-json`, `epss-csv`, `records`.
    pub kind: String,
    /// RFC 3339 time it was fetched.
    pub fetched: String,
    /// SHA-256 of what was fetched.
    pub sha256: String,
    /// Records stored from it.
    pub records: u64,
    /// Records skipped as invalid.
    pub skipped: u64,
    /// Withdrawn records in it.
    pub withdrawn: u64,
}

/// The DB's meta table, parsed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DbMeta {
    /// Schema version of the file.
    pub schema_version: u32,
    /// RFC 3339 build time.
    pub built: String,
    /// The tool that built it.
    pub builder: String,
    /// Where the data came from (`--from`).
    pub from: String,
    /// Content checksum (SHA-256 hex) recorded at build time.
    pub checksum: String,
    /// Distinct advisories.
    pub advisories: u64,
    /// Advisories per OSV ecosystem string (`Debian:12`, `PyPI`, …).
    pub counts: BTreeMap<String, u64>,
    /// Every source with its timestamp.
    pub sources: Vec<DbSource>,
}

/// An open, read-only advisory DB.
pub struct VulnDb {
    pub(super) conn: Connection,
    path: PathBuf,
    meta: DbMeta,
}

impl std::fmt::Debug for VulnDb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VulnDb")
            .field("path", &self.path)
            .field("built", &self.meta.built)
            .finish()
    }
}

fn corrupt(path: &Path, reason: impl Into<String>, source: Option<rusqlite::Error>) -> DbError {
    DbError::Corrupt {
        path: path.to_path_buf(),
        reason: reason.into(),
        source,
    }
}

/// `file:` URI for SQLite with the characters it treats specially escaped.
fn uri(path: &Path) -> String {
    let abs = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let mut out = String::from("file:");
    for b in abs.to_string_lossy().bytes() {
        if b.is_ascii_alphanumeric() || b"/-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out.push_str("?immutable=1");
    out
}

/// Checks the SQLite header and that the file is as long as the header says.
fn check_header(path: &Path) -> Result<(), DbError> {
    use std::io::Read;
    let mut f = std::fs::File::open(path).map_err(|source| {
        if source.kind() == std::io::ErrorKind::NotFound {
            DbError::Missing {
                path: path.to_path_buf(),
            }
        } else {
            DbError::Io {
                path: path.to_path_buf(),
                action: "open",
                source,
            }
        }
    })?;
    let len = f
        .metadata()
        .map_err(|source| DbError::Io {
            path: path.to_path_buf(),
            action: "stat",
            source,
        })?
        .len();
    let mut header = [0u8; 100];
    if len < 100 || f.read_exact(&mut header).is_err() {
        return Err(corrupt(
            path,
            format!("only {len} bytes, too short for a DB"),
            None,
        ));
    }
    if &header[..16] != b"SQLite format 3\0" {
        return Err(corrupt(path, "not an SQLite file (bad header)", None));
    }
    let page_size = match u16::from_be_bytes([header[16], header[17]]) {
        1 => 65536u64,
        n => u64::from(n),
    };
    let pages = u64::from(u32::from_be_bytes([
        header[28], header[29], header[30], header[31],
    ]));
    if page_size < 512 || pages == 0 {
        return Err(corrupt(
            path,
            "invalid page size or page count in the header",
            None,
        ));
    }
    if len < page_size * pages {
        return Err(corrupt(
            path,
            format!(
                "truncated: the header says {} bytes, the file has {len}",
                page_size * pages
            ),
            None,
        ));
    }
    Ok(())
}

impl VulnDb {
    /// Opens a DB read-only and immutable. Fails on a missing, truncated, non-SQLite or
    /// wrong-schema file.
    pub fn open(path: impl AsRef<Path>) -> Result<VulnDb, DbError> {
        let path = path.as_ref();
        check_header(path)?;
        let conn = Connection::open_with_flags(
            uri(path),
            OpenFlags::SQLITE_OPEN_READ_ONLY
                | OpenFlags::SQLITE_OPEN_URI
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|e| corrupt(path, "SQLite cannot open it", Some(e)))?;
        let _ = conn.execute_batch("PRAGMA mmap_size=1073741824;");
        let meta = read_meta(&conn, path)?;
        Ok(VulnDb {
            conn,
            path: path.to_path_buf(),
            meta,
        })
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The meta table.
    pub fn meta(&self) -> &DbMeta {
        &self.meta
    }

    /// Time since the DB was built (zero if the build time is in the future).
    pub fn age(&self) -> Duration {
        chrono::DateTime::parse_from_rfc3339(&self.meta.built)
            .ok()
            .and_then(|b| {
                (chrono::Utc::now() - b.with_timezone(&chrono::Utc))
                    .to_std()
                    .ok()
            })
            .unwrap_or_default()
    }

    /// Fails with [`DbError::Stale`] when the DB is older than `max` (`None` = no limit).
    pub fn check_age(&self, max: Option<Duration>) -> Result<(), DbError> {
        let Some(max) = max else { return Ok(()) };
        let age = self.age();
        if age > max {
            return Err(DbError::Stale {
                path: self.path.clone(),
                age_hours: (age.as_secs() / 3600) as i64,
                max_hours: (max.as_secs() / 3600) as i64,
            });
        }
        Ok(())
    }

    /// Full verification for `db check` and after downloads: SQLite's integrity check, then the
    /// content checksum against the meta table.
    pub fn verify(&self) -> Result<(), DbError> {
        let result: String = self
            .conn
            .query_row("PRAGMA quick_check", [], |r| r.get(0))
            .map_err(|e| corrupt(&self.path, "integrity check failed", Some(e)))?;
        if result != "ok" {
            return Err(corrupt(
                &self.path,
                format!("integrity check: {result}"),
                None,
            ));
        }
        let computed = super::checksum::content_checksum(&self.conn)
            .map_err(|e| corrupt(&self.path, "cannot read the content", Some(e)))?;
        if computed != self.meta.checksum {
            return Err(DbError::ChecksumMismatch {
                path: self.path.clone(),
                recorded: self.meta.checksum.clone(),
                computed,
            });
        }
        Ok(())
    }
}

fn read_meta(conn: &Connection, path: &Path) -> Result<DbMeta, DbError> {
    let mut map = BTreeMap::new();
    {
        let mut stmt = conn
            .prepare("SELECT key, value FROM meta")
            .map_err(|e| corrupt(path, "no readable meta table", Some(e)))?;
        let rows = stmt
            .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))
            .map_err(|e| corrupt(path, "no readable meta table", Some(e)))?;
        for row in rows {
            let (k, v) = row.map_err(|e| corrupt(path, "no readable meta table", Some(e)))?;
            map.insert(k, v);
        }
    }
    let found = map.get("schema_version").cloned().unwrap_or_default();
    if found != SCHEMA_VERSION.to_string() {
        return Err(DbError::SchemaMismatch {
            path: path.to_path_buf(),
            found: if found.is_empty() {
                "none".into()
            } else {
                found
            },
            expected: SCHEMA_VERSION,
        });
    }
    let get = |k: &str| map.get(k).cloned().unwrap_or_default();
    let counts: BTreeMap<String, u64> = serde_json::from_str(&get("counts"))
        .map_err(|_| corrupt(path, "meta `counts` is not JSON", None))?;
    let mut sources = Vec::new();
    {
        let mut stmt = conn
            .prepare("SELECT name, location, kind, fetched, sha256, records, skipped, withdrawn FROM source ORDER BY name")
            .map_err(|e| corrupt(path, "no readable source table", Some(e)))?;
        let rows = stmt
            .query_map([], |r| {
                Ok(DbSource {
                    name: r.get(0)?,
                    location: r.get(1)?,
                    kind: r.get(2)?,
                    fetched: r.get(3)?,
                    sha256: r.get(4)?,
                    records: r.get::<_, i64>(5)? as u64,
                    skipped: r.get::<_, i64>(6)? as u64,
                    withdrawn: r.get::<_, i64>(7)? as u64,
                })
            })
            .map_err(|e| corrupt(path, "no readable source table", Some(e)))?;
        for row in rows {
            sources.push(row.map_err(|e| corrupt(path, "no readable source table", Some(e)))?);
        }
    }
    if chrono::DateTime::parse_from_rfc3339(&get("built")).is_err() {
        return Err(corrupt(path, "meta `built` is not a timestamp", None));
    }
    Ok(DbMeta {
        schema_version: SCHEMA_VERSION,
        built: get("built"),
        builder: get("builder"),
        from: get("from"),
        checksum: get("checksum"),
        advisories: get("advisories").parse().unwrap_or(0),
        counts,
        sources,
    })
}

/// Parses a `--max-db-age` value: `5d`, `36h`, `90m`, a bare number of days, or `0`/`off` for
/// no limit (`Ok(None)`).
pub fn parse_max_age(s: &str) -> Result<Option<Duration>, String> {
    let s = s.trim();
    if s == "0" || s.eq_ignore_ascii_case("off") || s.eq_ignore_ascii_case("none") {
        return Ok(None);
    }
    let (num, unit) = match s.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => s.split_at(i),
        None => (s, "d"),
    };
    let n: u64 = num
        .parse()
        .map_err(|_| format!("`{s}` is not a duration like `5d`, `36h` or `0`"))?;
    let secs = match unit {
        "d" => n * 86400,
        "h" => n * 3600,
        "m" => n * 60,
        "s" => n,
        _ => return Err(format!("`{s}`: unit must be d, h, m or s")),
    };
    Ok(Some(Duration::from_secs(secs)))
}

/// The default `--max-db-age`: 5 days.
pub const DEFAULT_MAX_AGE: Duration = Duration::from_secs(5 * 86400);
