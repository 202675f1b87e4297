//! The durable outbox and notification state of `tollgate watch`: a SQLite file
//! ([`OUTBOX_FILE`]) in the store directory, with its own versioned migrations.
//!
//! Tables: `outbox` (one row per (image, vulnerability, channel), unique on the idempotency key,
//! `pending` until a receiver accepted it), `known_vulns` (per image, the vulnerabilities watch
//! has already decided about, with the severity and KEV flag it decided on) and
//! `watched_images` (images watch has baselined). Deciding what is new lives in
//! `watch::rescan`; sending lives in `watch::deliver`.
//! Invariants: "mark known" and "enqueue" for one image happen in one transaction, so a crash
//! leaves either both or neither; a row is marked delivered only after the receiver answered
//! 2xx, so a kill at any point can cause at most a resend, never a loss; payloads are
//! self-contained [`Finding`] JSON and never hold a secret.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use rusqlite::{Connection, ErrorCode, OpenFlags, OptionalExtension, params};

use crate::types::Severity;
use crate::watch::error::WatchError;
use crate::watch::finding::Finding;

/// The outbox file name inside the store directory.
pub const OUTBOX_FILE: &str = "watch-outbox.sqlite3";

/// Migrations, applied in order; `PRAGMA user_version` is the number applied.
const MIGRATIONS: &[&str] = &[
    // 1: initial schema.
    "CREATE TABLE outbox (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        idem_key TEXT NOT NULL UNIQUE,
        channel TEXT NOT NULL,
        image_key TEXT NOT NULL,
        vuln_id TEXT NOT NULL,
        payload TEXT NOT NULL,
        state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered')),
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at INTEGER NOT NULL DEFAULT 0,
        last_error TEXT,
        created_at TEXT NOT NULL,
        delivered_at TEXT
    );
    CREATE INDEX outbox_by_channel_state ON outbox(channel, state, id);
    CREATE TABLE known_vulns (
        image_key TEXT NOT NULL,
        vuln_id TEXT NOT NULL,
        severity TEXT NOT NULL,
        kev INTEGER NOT NULL,
        first_seen TEXT NOT NULL,
        PRIMARY KEY (image_key, vuln_id)
    ) WITHOUT ROWID;
    CREATE TABLE watched_images (
        image_key TEXT PRIMARY KEY,
        first_watched TEXT NOT NULL,
        last_watched TEXT NOT NULL
    ) WITHOUT ROWID;",
];

/// What watch already decided about one image.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImageState {
    /// True once watch has baselined the image.
    pub watched: bool,
    /// Vulnerability id → (severity, KEV) as last decided.
    pub known: HashMap<String, (Severity, bool)>,
}

/// A row to enqueue.
#[derive(Debug, Clone)]
pub struct NewRow {
    /// Idempotency key (unique).
    pub key: String,
    /// Channel name.
    pub channel: String,
    /// The finding.
    pub finding: Finding,
}

/// Everything one image's rescan decided, applied atomically by [`Outbox::apply`].
#[derive(Debug, Clone, Default)]
pub struct ImageChanges {
    /// The image key.
    pub image_key: String,
    /// Vulnerabilities to record (or update) as known: (id, severity, kev).
    pub known: Vec<(String, Severity, bool)>,
    /// Rows to enqueue; a key already present is left as it is.
    pub enqueue: Vec<NewRow>,
}

/// A pending row read back for delivery.
#[derive(Debug, Clone)]
pub struct OutboxRow {
    /// Row id (delivery order).
    pub id: i64,
    /// Idempotency key.
    pub key: String,
    /// Channel name.
    pub channel: String,
    /// Attempts made so far, over all runs.
    pub attempts: i64,
    /// The finding, or the error parsing its payload.
    pub finding: Result<Finding, String>,
}

/// Per-channel totals.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct ChannelCounts {
    /// Channel name.
    pub channel: String,
    /// Rows waiting.
    pub pending: u64,
    /// Rows delivered.
    pub delivered: u64,
}

/// The open outbox.
#[derive(Debug)]
pub struct Outbox {
    conn: Connection,
    path: PathBuf,
}

fn now_rfc3339() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

impl Outbox {
    /// Opens (creating and migrating as needed) the outbox in store directory `dir`.
    pub fn open(dir: &Path) -> Result<Outbox, WatchError> {
        let path = dir.join(OUTBOX_FILE);
        std::fs::create_dir_all(dir).map_err(|source| WatchError::StoreDir {
            path: dir.to_path_buf(),
            source,
        })?;
        let conn = Connection::open(&path).map_err(|source| WatchError::OutboxOpen {
            path: path.clone(),
            source,
        })?;
        let outbox = Outbox { conn, path };
        outbox.configure()?;
        outbox.migrate()?;
        Ok(outbox)
    }

    /// Opens an existing outbox read-only (for `--dry-run`); `None` when there is none yet.
    pub fn open_read_only(dir: &Path) -> Result<Option<Outbox>, WatchError> {
        let path = dir.join(OUTBOX_FILE);
        if !path.exists() {
            return Ok(None);
        }
        let conn = Connection::open_with_flags(
            &path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|source| WatchError::OutboxOpen {
            path: path.clone(),
            source,
        })?;
        let outbox = Outbox { conn, path };
        let version = outbox.user_version()?;
        if version as usize > MIGRATIONS.len() {
            return Err(WatchError::OutboxTooNew {
                path: outbox.path.clone(),
                found: version,
                known: MIGRATIONS.len() as i64,
            });
        }
        if (version as usize) < MIGRATIONS.len() {
            // An older or empty file: nothing this build could read; treat as empty.
            return Ok(None);
        }
        Ok(Some(outbox))
    }

    /// The outbox file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn err(&self, op: &'static str, source: rusqlite::Error) -> WatchError {
        if let rusqlite::Error::SqliteFailure(f, msg) = &source
            && matches!(f.code, ErrorCode::NotADatabase | ErrorCode::DatabaseCorrupt)
        {
            return WatchError::OutboxCorrupt {
                path: self.path.clone(),
                reason: msg.clone().unwrap_or_else(|| f.to_string()),
            };
        }
        WatchError::OutboxQuery {
            path: self.path.clone(),
            op,
            source,
        }
    }

    fn configure(&self) -> Result<(), WatchError> {
        // WAL + NORMAL: a killed process never loses a committed transaction; only a power
        // loss may drop the last ones, which at worst re-sends (the state stays consistent).
        self.conn
            .pragma_update(None, "journal_mode", "WAL")
            .map_err(|e| self.err("set journal mode", e))?;
        self.conn
            .pragma_update(None, "synchronous", "NORMAL")
            .map_err(|e| self.err("set synchronous", e))?;
        self.conn
            .busy_timeout(std::time::Duration::from_secs(10))
            .map_err(|e| self.err("set busy timeout", e))?;
        Ok(())
    }

    fn user_version(&self) -> Result<i64, WatchError> {
        self.conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(|e| self.err("read schema version", e))
    }

    fn migrate(&self) -> Result<(), WatchError> {
        let version = self.user_version()?;
        let known = MIGRATIONS.len() as i64;
        if version > known {
            return Err(WatchError::OutboxTooNew {
                path: self.path.clone(),
                found: version,
                known,
            });
        }
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
            let tx = self
                .conn
                .unchecked_transaction()
                .map_err(|e| self.err("begin migration", e))?;
            tx.execute_batch(sql).map_err(|e| self.err("migrate", e))?;
            tx.pragma_update(None, "user_version", (i + 1) as i64)
                .map_err(|e| self.err("set schema version", e))?;
            tx.commit().map_err(|e| self.err("commit migration", e))?;
        }
        // A cheap structural check, so a damaged file fails here with a clear error rather
        // than half-way through a run.
        let check: String = self
            .conn
            .query_row("PRAGMA quick_check(1)", [], |r| r.get(0))
            .map_err(|e| self.err("integrity check", e))?;
        if check != "ok" {
            return Err(WatchError::OutboxCorrupt {
                path: self.path.clone(),
                reason: check,
            });
        }
        Ok(())
    }

    /// What watch already decided about `image_key`.
    pub fn image_state(&self, image_key: &str) -> Result<ImageState, WatchError> {
        let watched = self
            .conn
            .prepare_cached("SELECT 1 FROM watched_images WHERE image_key = ?1")
            .and_then(|mut s| s.query_row([image_key], |_| Ok(())).optional())
            .map_err(|e| self.err("read watched image", e))?
            .is_some();
        let mut known = HashMap::new();
        let mut stmt = self
            .conn
            .prepare_cached("SELECT vuln_id, severity, kev FROM known_vulns WHERE image_key = ?1")
            .map_err(|e| self.err("read known vulnerabilities", e))?;
        let rows = stmt
            .query_map([image_key], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, bool>(2)?,
                ))
            })
            .map_err(|e| self.err("read known vulnerabilities", e))?;
        for row in rows {
            let (id, sev, kev) = row.map_err(|e| self.err("read known vulnerabilities", e))?;
            known.insert(id, (Severity::parse(&sev).unwrap_or_default(), kev));
        }
        Ok(ImageState { watched, known })
    }

    /// Applies one image's decisions atomically; returns how many rows were newly enqueued.
    pub fn apply(&self, changes: &ImageChanges) -> Result<usize, WatchError> {
        self.apply_many(std::slice::from_ref(changes))
    }

    /// Applies several images' decisions in one transaction (all or none: a crash leaves
    /// every image of the batch to be decided again); returns how many rows were newly
    /// enqueued. One commit per batch instead of per image is what keeps a rescan of
    /// thousands of images fast.
    pub fn apply_many(&self, batch: &[ImageChanges]) -> Result<usize, WatchError> {
        let now = now_rfc3339();
        let tx = self
            .conn
            .unchecked_transaction()
            .map_err(|e| self.err("begin", e))?;
        let mut inserted = 0usize;
        for changes in batch {
            let mut watched = tx
                .prepare_cached(
                    "INSERT INTO watched_images (image_key, first_watched, last_watched)
                     VALUES (?1, ?2, ?2)
                     ON CONFLICT (image_key) DO UPDATE SET last_watched = excluded.last_watched",
                )
                .map_err(|e| self.err("record watched image", e))?;
            watched
                .execute(params![changes.image_key, now])
                .map_err(|e| self.err("record watched image", e))?;
            let mut known = tx
                .prepare_cached(
                    "INSERT INTO known_vulns (image_key, vuln_id, severity, kev, first_seen)
                     VALUES (?1, ?2, ?3, ?4, ?5)
                     ON CONFLICT (image_key, vuln_id) DO UPDATE
                     SET severity = excluded.severity, kev = excluded.kev",
                )
                .map_err(|e| self.err("record known vulnerability", e))?;
            for (id, sev, kev) in &changes.known {
                known
                    .execute(params![changes.image_key, id, sev.as_str(), kev, now])
                    .map_err(|e| self.err("record known vulnerability", e))?;
            }
            let mut enqueue = tx
                .prepare_cached(
                    "INSERT OR IGNORE INTO outbox
                     (idem_key, channel, image_key, vuln_id, payload, created_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                )
                .map_err(|e| self.err("enqueue", e))?;
            for row in &changes.enqueue {
                let payload = serde_json::to_string(&row.finding).map_err(|source| {
                    WatchError::OutboxPayload {
                        path: self.path.clone(),
                        row: 0,
                        source,
                    }
                })?;
                inserted += enqueue
                    .execute(params![
                        row.key,
                        row.channel,
                        changes.image_key,
                        row.finding.vulnerability.id,
                        payload,
                        now
                    ])
                    .map_err(|e| self.err("enqueue", e))?;
            }
        }
        tx.commit().map_err(|e| self.err("commit", e))?;
        Ok(inserted)
    }

    /// Up to `limit` pending rows of `channel` with id > `after_id` that are due at `now_ms`
    /// (Unix milliseconds), oldest first.
    pub fn pending(
        &self,
        channel: &str,
        after_id: i64,
        limit: usize,
        now_ms: i64,
    ) -> Result<Vec<OutboxRow>, WatchError> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT id, idem_key, channel, attempts, payload FROM outbox
                 WHERE channel = ?1 AND state = 'pending' AND id > ?2 AND next_attempt_at <= ?3
                 ORDER BY id LIMIT ?4",
            )
            .map_err(|e| self.err("read pending", e))?;
        let rows = stmt
            .query_map(params![channel, after_id, now_ms, limit as i64], |r| {
                let payload: String = r.get(4)?;
                Ok(OutboxRow {
                    id: r.get(0)?,
                    key: r.get(1)?,
                    channel: r.get(2)?,
                    attempts: r.get(3)?,
                    finding: serde_json::from_str(&payload).map_err(|e| e.to_string()),
                })
            })
            .map_err(|e| self.err("read pending", e))?;
        rows.collect::<Result<Vec<_>, _>>()
            .map_err(|e| self.err("read pending", e))
    }

    /// True when a row with this idempotency key exists (pending or delivered).
    pub fn has_key(&self, key: &str) -> Result<bool, WatchError> {
        self.conn
            .prepare_cached("SELECT 1 FROM outbox WHERE idem_key = ?1")
            .and_then(|mut s| s.query_row([key], |_| Ok(())).optional())
            .map(|r| r.is_some())
            .map_err(|e| self.err("look up key", e))
    }

    /// How many rows of `channel` are pending, due or not.
    pub fn pending_count(&self, channel: &str) -> Result<usize, WatchError> {
        self.conn
            .prepare_cached("SELECT COUNT(*) FROM outbox WHERE channel = ?1 AND state = 'pending'")
            .and_then(|mut s| s.query_row([channel], |r| r.get::<_, i64>(0)))
            .map(|n| usize::try_from(n).unwrap_or(0))
            .map_err(|e| self.err("count pending", e))
    }

    /// Every pending row of `channel`, due or not (for `--dry-run`).
    pub fn all_pending(&self, channel: &str) -> Result<Vec<OutboxRow>, WatchError> {
        self.pending(channel, 0, usize::MAX >> 1, i64::MAX)
    }

    fn update_ids(
        &self,
        op: &'static str,
        sql: &str,
        ids: &[i64],
        extra: &[&dyn rusqlite::ToSql],
    ) -> Result<(), WatchError> {
        let tx = self
            .conn
            .unchecked_transaction()
            .map_err(|e| self.err(op, e))?;
        {
            let mut stmt = tx.prepare_cached(sql).map_err(|e| self.err(op, e))?;
            for id in ids {
                let mut p: Vec<&dyn rusqlite::ToSql> = vec![id];
                p.extend_from_slice(extra);
                stmt.execute(p.as_slice()).map_err(|e| self.err(op, e))?;
            }
        }
        tx.commit().map_err(|e| self.err(op, e))
    }

    /// Counts an attempt on `ids` before the request goes out.
    pub fn mark_attempt(&self, ids: &[i64]) -> Result<(), WatchError> {
        self.update_ids(
            "mark attempt",
            "UPDATE outbox SET attempts = attempts + 1 WHERE id = ?1",
            ids,
            &[],
        )
    }

    /// Marks `ids` delivered (the receiver answered 2xx).
    pub fn mark_delivered(&self, ids: &[i64]) -> Result<(), WatchError> {
        let now = now_rfc3339();
        self.update_ids(
            "mark delivered",
            "UPDATE outbox SET state = 'delivered', delivered_at = ?2, last_error = NULL,
             next_attempt_at = 0 WHERE id = ?1",
            ids,
            &[&now],
        )
    }

    /// Records a failure on `ids`; they stay pending and are not due before `next_attempt_ms`.
    pub fn mark_failed(
        &self,
        ids: &[i64],
        error: &str,
        next_attempt_ms: i64,
    ) -> Result<(), WatchError> {
        self.update_ids(
            "mark failed",
            "UPDATE outbox SET last_error = ?2, next_attempt_at = ?3 WHERE id = ?1",
            ids,
            &[&error, &next_attempt_ms],
        )
    }

    /// Makes every pending row of `channel` not due before `until_ms` (a receiver asked for a
    /// long pause with `Retry-After`).
    pub fn defer_channel(&self, channel: &str, until_ms: i64) -> Result<(), WatchError> {
        self.conn
            .execute(
                "UPDATE outbox SET next_attempt_at = ?2
                 WHERE channel = ?1 AND state = 'pending' AND next_attempt_at < ?2",
                params![channel, until_ms],
            )
            .map(|_| ())
            .map_err(|e| self.err("defer channel", e))
    }

    /// Pending and delivered totals per channel.
    pub fn counts(&self) -> Result<Vec<ChannelCounts>, WatchError> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT channel, SUM(state = 'pending'), SUM(state = 'delivered')
                 FROM outbox GROUP BY channel ORDER BY channel",
            )
            .map_err(|e| self.err("count", e))?;
        let rows = stmt
            .query_map([], |r| {
                Ok(ChannelCounts {
                    channel: r.get(0)?,
                    pending: r.get::<_, i64>(1)? as u64,
                    delivered: r.get::<_, i64>(2)? as u64,
                })
            })
            .map_err(|e| self.err("count", e))?;
        rows.collect::<Result<Vec<_>, _>>()
            .map_err(|e| self.err("count", e))
    }

    /// Forgets watch state of images no longer in the store (after `store prune`); delivered
    /// outbox rows of those images go too, pending ones are kept.
    pub fn forget_images_except(
        &self,
        keep: &std::collections::HashSet<String>,
    ) -> Result<usize, WatchError> {
        let keys: Vec<String> = {
            let mut stmt = self
                .conn
                .prepare("SELECT image_key FROM watched_images")
                .map_err(|e| self.err("list watched images", e))?;
            let rows = stmt
                .query_map([], |r| r.get::<_, String>(0))
                .map_err(|e| self.err("list watched images", e))?;
            rows.collect::<Result<Vec<_>, _>>()
                .map_err(|e| self.err("list watched images", e))?
        };
        let gone: Vec<&String> = keys.iter().filter(|k| !keep.contains(*k)).collect();
        let tx = self
            .conn
            .unchecked_transaction()
            .map_err(|e| self.err("forget images", e))?;
        for k in &gone {
            for sql in [
                "DELETE FROM watched_images WHERE image_key = ?1",
                "DELETE FROM known_vulns WHERE image_key = ?1",
                "DELETE FROM outbox WHERE image_key = ?1 AND state = 'delivered'",
            ] {
                tx.execute(sql, [k])
                    .map_err(|e| self.err("forget images", e))?;
            }
        }
        tx.commit().map_err(|e| self.err("forget images", e))?;
        Ok(gone.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::watch::finding::VulnInfo;

    fn finding(id: &str) -> Finding {
        Finding {
            vulnerability: VulnInfo {
                id: id.into(),
                ..Default::default()
            },
            ..Default::default()
        }
    }

    fn changes(image: &str, ids: &[&str], channel: &str) -> ImageChanges {
        ImageChanges {
            image_key: image.into(),
            known: ids
                .iter()
                .map(|i| (i.to_string(), Severity::High, false))
                .collect(),
            enqueue: ids
                .iter()
                .map(|i| NewRow {
                    key: crate::watch::finding::idempotency_key(image, i, channel),
                    channel: channel.into(),
                    finding: finding(i),
                })
                .collect(),
        }
    }

    #[test]
    fn enqueue_is_idempotent_and_state_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let ob = Outbox::open(dir.path()).unwrap();
        assert_eq!(
            ob.apply(&changes("img", &["CVE-1", "CVE-2"], "c")).unwrap(),
            2
        );
        assert_eq!(
            ob.apply(&changes("img", &["CVE-1", "CVE-2"], "c")).unwrap(),
            0
        );
        let st = ob.image_state("img").unwrap();
        assert!(st.watched);
        assert_eq!(st.known.get("CVE-1"), Some(&(Severity::High, false)));
        let rows = ob.pending("c", 0, 10, 0).unwrap();
        assert_eq!(rows.len(), 2);
        ob.mark_attempt(&[rows[0].id]).unwrap();
        ob.mark_delivered(&[rows[0].id]).unwrap();
        ob.mark_failed(&[rows[1].id], "HTTP 500", 5_000).unwrap();
        // Not due yet at t=0, due at t=5000.
        assert!(ob.pending("c", 0, 10, 0).unwrap().is_empty());
        assert_eq!(ob.pending("c", 0, 10, 5_000).unwrap().len(), 1);
        let c = ob.counts().unwrap();
        assert_eq!((c[0].pending, c[0].delivered), (1, 1));
        // Reopen: state survives.
        drop(ob);
        let ob = Outbox::open(dir.path()).unwrap();
        assert_eq!(ob.all_pending("c").unwrap().len(), 1);
        assert_eq!(ob.pending("c", 0, 10, 9_000).unwrap()[0].attempts, 0);
    }

    #[test]
    fn corrupt_file_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(OUTBOX_FILE), b"this is not sqlite at all, not even close........................................................................").unwrap();
        let err = Outbox::open(dir.path()).unwrap_err();
        assert!(matches!(err, WatchError::OutboxCorrupt { .. }), "{err:?}");
        // The damaged file is left as it was for inspection.
        assert!(
            std::fs::read(dir.path().join(OUTBOX_FILE))
                .unwrap()
                .starts_with(b"this is not")
        );
    }

    #[test]
    fn newer_schema_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        {
            let c = Connection::open(dir.path().join(OUTBOX_FILE)).unwrap();
            c.pragma_update(None, "user_version", 99).unwrap();
        }
        assert!(matches!(
            Outbox::open(dir.path()).unwrap_err(),
            WatchError::OutboxTooNew { found: 99, .. }
        ));
        assert!(matches!(
            Outbox::open_read_only(dir.path()).unwrap_err(),
            WatchError::OutboxTooNew { found: 99, .. }
        ));
    }

    #[test]
    fn bad_payload_is_reported_per_row() {
        let dir = tempfile::tempdir().unwrap();
        let ob = Outbox::open(dir.path()).unwrap();
        ob.apply(&changes("img", &["CVE-1"], "c")).unwrap();
        ob.conn
            .execute("UPDATE outbox SET payload = '{'", [])
            .unwrap();
        let rows = ob.pending("c", 0, 10, 0).unwrap();
        assert!(rows[0].finding.is_err());
    }
}
