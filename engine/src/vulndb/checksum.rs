//! The DB's content checksum: SHA-256 over every advisory (ordered by id) and every KEV and EPSS
//! row (ordered by CVE). Written into `meta.checksum` at build time, recomputed by `db check` and
//! after every download. It covers content, not the SQLite page layout, so two builds from the
//! same data agree even if SQLite arranges pages differently.

use rusqlite::Connection;
use sha2::{Digest, Sha256};

/// Computes the content checksum of an open DB, as lowercase hex.
pub(crate) fn content_checksum(conn: &Connection) -> rusqlite::Result<String> {
    let mut hasher = Sha256::new();
    hasher.update(b"tollgate-vulndb-content-v1\n");
    {
        let mut stmt = conn.prepare("SELECT id, record FROM advisory ORDER BY id")?;
        let mut rows = stmt.query([])?;
        while let Some(row) = rows.next()? {
            let id: String = row.get(0)?;
            let record: String = row.get(1)?;
            hasher.update(b"A");
            hasher.update((id.len() as u64).to_le_bytes());
            hasher.update(id.as_bytes());
            hasher.update((record.len() as u64).to_le_bytes());
            hasher.update(record.as_bytes());
        }
    }
    {
        let mut stmt = conn.prepare(
            "SELECT cve, date_added, due_date, ransomware, vendor, product FROM kev ORDER BY cve",
        )?;
        let mut rows = stmt.query([])?;
        while let Some(row) = rows.next()? {
            hasher.update(b"K");
            for i in 0..6 {
                let v: String = row.get(i)?;
                hasher.update((v.len() as u64).to_le_bytes());
                hasher.update(v.as_bytes());
            }
        }
    }
    {
        let mut stmt = conn.prepare("SELECT cve, score, percentile FROM epss ORDER BY cve")?;
        let mut rows = stmt.query([])?;
        while let Some(row) = rows.next()? {
            let cve: String = row.get(0)?;
            let score: f64 = row.get(1)?;
            let pct: f64 = row.get(2)?;
            hasher.update(b"E");
            hasher.update((cve.len() as u64).to_le_bytes());
            hasher.update(cve.as_bytes());
            hasher.update(score.to_le_bytes());
            hasher.update(pct.to_le_bytes());
        }
    }
    Ok(hex::encode(hasher.finalize()))
}

/// SHA-256 of a byte slice, lowercase hex.
pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}
