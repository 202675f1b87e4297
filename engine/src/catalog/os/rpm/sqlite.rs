//! `rpmdb.sqlite` (rpm ≥ 4.16: Fedora ≥ 33, RHEL/Rocky/Alma ≥ 9, Amazon Linux 2023): the
//! header blobs from rpm's `Packages(hnum INTEGER PRIMARY KEY, blob BLOB)` table.
//!
//! **How the bytes are opened, and why.** SQLite reads files, and the image stage holds the
//! database in memory. The bytes are written to a private temporary directory (removed on
//! drop) and opened read-only there, rather than through `sqlite3_deserialize`:
//! - no extra SQLite feature (the `serialize` build of rusqlite), and the same open path as the
//!   vulnerability DB;
//! - rpm runs SQLite in WAL mode. An in-memory database cannot replay a WAL, and a WAL-mode
//!   header confuses `deserialize` unless patched; on disk, when the image also has
//!   `rpmdb.sqlite-wal` it is copied next to the database so committed-but-not-checkpointed
//!   transactions are seen exactly as rpm would see them (SQLite may create `-shm` in the
//!   private directory for that, nothing else is written);
//! - without a WAL the file is opened `immutable=1`: no locks, no side files.
//!
//! Hostile input: SQLite itself treats corrupt files as errors (SQLITE_CORRUPT/NOTADB), which
//! become a [`CatalogError::RpmSqlite`]. `Packages` must be a real table (a view could run an
//! arbitrary query), and `trusted_schema` is off. A row whose `blob` is not a BLOB is a problem,
//! not a failure.

use std::path::Path;

use rusqlite::{Connection, OpenFlags};

use super::bdb::{Record, Scan};
use crate::catalog::CatalogError;

/// True when `data` starts with the SQLite header string.
pub(crate) fn sniff(data: &[u8]) -> bool {
    data.starts_with(b"SQLite format 3\0")
}

/// Reads every row of `Packages`. `wal` is the image's `-wal` file, when it has one.
pub(crate) fn read(path: &str, data: &[u8], wal: Option<&[u8]>) -> Result<Scan, CatalogError> {
    let io = |what: &str, e: std::io::Error| {
        CatalogError::malformed(
            super::ID,
            path,
            format!("cannot stage the database in a temporary directory ({what}): {e}"),
        )
    };
    let dir = tempfile::Builder::new()
        .prefix("tollgate-rpmdb-")
        .tempdir()
        .map_err(|e| io("create", e))?;
    let db_path = dir.path().join("rpmdb.sqlite");
    std::fs::write(&db_path, data).map_err(|e| io("write", e))?;
    let sql = |source: rusqlite::Error| CatalogError::RpmSqlite {
        path: path.to_string(),
        source,
    };
    let conn = match wal {
        Some(w) => {
            std::fs::write(dir.path().join("rpmdb.sqlite-wal"), w).map_err(|e| io("write", e))?;
            Connection::open_with_flags(
                &db_path,
                OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
            )
        }
        None => Connection::open_with_flags(
            uri(&db_path),
            OpenFlags::SQLITE_OPEN_READ_ONLY
                | OpenFlags::SQLITE_OPEN_URI
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        ),
    }
    .map_err(sql)?;
    conn.execute_batch("PRAGMA trusted_schema = OFF;")
        .map_err(sql)?;
    let kind: Option<String> = conn
        .query_row(
            "SELECT type FROM sqlite_master WHERE name = 'Packages' COLLATE NOCASE",
            [],
            |r| r.get(0),
        )
        .map(Some)
        .or_else(|e| match e {
            rusqlite::Error::QueryReturnedNoRows => Ok(None),
            e => Err(e),
        })
        .map_err(sql)?;
    match kind.as_deref() {
        Some("table") => {}
        Some(other) => {
            return Err(CatalogError::malformed(
                super::ID,
                path,
                format!("`Packages` is a {other}, not a table; not read"),
            ));
        }
        None => {
            return Err(CatalogError::malformed(
                super::ID,
                path,
                "SQLite database without a `Packages` table: not an rpm database",
            ));
        }
    }
    let mut stmt = conn
        .prepare("SELECT hnum, blob FROM Packages ORDER BY hnum")
        .map_err(sql)?;
    let mut rows = stmt.query([]).map_err(sql)?;
    let mut scan = Scan::default();
    while let Some(row) = rows.next().map_err(sql)? {
        let hnum: i64 = row.get(0).unwrap_or(-1);
        match row.get_ref(1) {
            Ok(rusqlite::types::ValueRef::Blob(b)) => scan.records.push(Record {
                key: u32::try_from(hnum).unwrap_or(u32::MAX),
                blob: b.to_vec(),
            }),
            Ok(other) => scan.problems.push(format!(
                "row hnum={hnum}: `blob` is {:?}, not a BLOB; skipped",
                other.data_type()
            )),
            Err(e) => scan.problems.push(format!("row hnum={hnum}: {e}; skipped")),
        }
    }
    Ok(scan)
}

/// `file:` URI with `immutable=1`, escaping what SQLite treats specially.
fn uri(path: &Path) -> String {
    let mut out = String::from("file:");
    for b in path.to_string_lossy().bytes() {
        if b.is_ascii_alphanumeric() || b"/-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out.push_str("?immutable=1");
    out
}

#[cfg(test)]
mod tests {
    use super::super::testdata::{fixture_packages, sqlite};
    use super::*;

    fn blobs() -> Vec<Vec<u8>> {
        fixture_packages().iter().map(|p| p.blob()).collect()
    }

    #[test]
    fn reads_rows_in_order() {
        let want = blobs();
        let scan = read("/x", &sqlite(&want), None).unwrap();
        assert!(scan.problems.is_empty());
        let got: Vec<_> = scan.records.iter().map(|r| r.blob.clone()).collect();
        assert_eq!(got, want);
        assert_eq!(scan.records[0].key, 1);
    }

    #[test]
    fn wal_transactions_are_seen_when_the_wal_is_present() {
        let want = blobs();
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("db");
        let c = Connection::open(&p).unwrap();
        c.execute_batch(
            "PRAGMA journal_mode=WAL; PRAGMA wal_autocheckpoint=0;
             CREATE TABLE Packages (hnum INTEGER PRIMARY KEY AUTOINCREMENT, blob BLOB NOT NULL);
             PRAGMA wal_checkpoint(TRUNCATE);",
        )
        .unwrap();
        for b in &want {
            c.execute("INSERT INTO Packages (blob) VALUES (?1)", [b])
                .unwrap();
        }
        // Copy while the connection is open: the rows live only in the WAL.
        let main = std::fs::read(&p).unwrap();
        let wal = std::fs::read(dir.path().join("db-wal")).unwrap();
        drop(c);
        assert_eq!(
            read("/x", &main, Some(&wal)).unwrap().records.len(),
            want.len()
        );
        assert_eq!(read("/x", &main, None).unwrap().records.len(), 0);
    }

    #[test]
    fn hostile_databases_are_errors_or_problems() {
        // Not SQLite at all / truncated.
        assert!(read("/x", b"SQLite format 3\0garbage", None).is_err());
        let good = sqlite(&blobs());
        // SQLite may read a short file whose first pages are whole; then rows are fewer.
        match read("/x", &good[..good.len() / 2], None) {
            Ok(scan) => assert!(scan.records.len() < blobs().len()),
            Err(e) => assert!(matches!(e, CatalogError::RpmSqlite { .. }), "{e}"),
        }
        // A view named Packages, a missing table, a non-BLOB row.
        let dir = tempfile::tempdir().unwrap();
        for (i, ddl) in [
            "CREATE TABLE t(x); CREATE VIEW Packages AS SELECT 1 AS hnum, x'00' AS blob;",
            "CREATE TABLE Other(x);",
            "CREATE TABLE Packages (hnum INTEGER PRIMARY KEY, blob); INSERT INTO Packages VALUES (1, 'text');",
        ]
        .iter()
        .enumerate()
        {
            let p = dir.path().join(format!("{i}.sqlite"));
            Connection::open(&p).unwrap().execute_batch(ddl).unwrap();
            let r = read("/x", &std::fs::read(&p).unwrap(), None);
            match i {
                0 => assert!(r.unwrap_err().to_string().contains("view")),
                1 => assert!(
                    r.unwrap_err()
                        .to_string()
                        .contains("without a `Packages` table")
                ),
                _ => assert!(r.unwrap().problems[0].contains("not a BLOB")),
            }
        }
    }
}
