//! The DB file's layout: the SQL that creates it, its schema version, and the package-name
//! normalisation used for both writing and looking up `affected` rows.
//!
//! Invariants: `SCHEMA_VERSION` changes whenever a table or the meaning of a column changes;
//! readers refuse any other version. Name keys are computed only by [`name_key`], on both sides.

/// The schema version this build writes and reads.
pub const SCHEMA_VERSION: u32 = 1;

/// The tables. `advisory.head` is the record without `affected` (what a finding needs); `advisory.record` is the whole record, compact JSON. One `affected` row per
/// `affected[]` entry, holding that entry's JSON. `alias` maps every id, alias, upstream and
/// related id to the advisory (`kind` says which).
pub const CREATE: &str = "
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE source (
  name TEXT PRIMARY KEY,
  location TEXT NOT NULL,
  kind TEXT NOT NULL,
  fetched TEXT NOT NULL,
  sha256 TEXT NOT NULL,
  records INTEGER NOT NULL,
  skipped INTEGER NOT NULL,
  withdrawn INTEGER NOT NULL
);
CREATE TABLE advisory (
  rowid INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  source TEXT NOT NULL,
  modified TEXT NOT NULL,
  published TEXT,
  withdrawn TEXT,
  summary TEXT NOT NULL,
  head TEXT NOT NULL,
  record TEXT NOT NULL
);
CREATE TABLE affected (
  ecosystem TEXT NOT NULL,
  name_key TEXT NOT NULL,
  name TEXT NOT NULL,
  advisory INTEGER NOT NULL REFERENCES advisory(rowid),
  entry TEXT NOT NULL
);
CREATE TABLE alias (
  alias TEXT NOT NULL,
  advisory INTEGER NOT NULL REFERENCES advisory(rowid),
  kind TEXT NOT NULL
);
CREATE TABLE kev (
  cve TEXT PRIMARY KEY,
  date_added TEXT NOT NULL,
  due_date TEXT NOT NULL,
  ransomware TEXT NOT NULL,
  vendor TEXT NOT NULL,
  product TEXT NOT NULL
);
CREATE TABLE epss (cve TEXT PRIMARY KEY, score REAL NOT NULL, percentile REAL NOT NULL);
";

/// Indexes, created after the bulk insert (faster than maintaining them row by row).
pub const INDEXES: &str = "
CREATE INDEX affected_pkg ON affected(ecosystem, name_key);
CREATE INDEX affected_name ON affected(name_key);
CREATE INDEX alias_id ON alias(alias);
";

/// The key an `affected` row is stored and looked up under: the ecosystem's own notion of
/// "the same name". PyPI: PEP 503 (lowercase, runs of `-_.` → `-`); npm, NuGet, Packagist,
/// RubyGems-insensitive registries and crates.io: lowercase (crates.io also treats `-`/`_` as
/// equal); others (Maven, Go, distros): as written.
pub fn name_key(ecosystem: &str, name: &str) -> String {
    let base = ecosystem.split(':').next().unwrap_or(ecosystem);
    match base {
        "PyPI" => {
            let mut out = String::with_capacity(name.len());
            let mut in_sep = false;
            for c in name.trim().chars() {
                if matches!(c, '-' | '_' | '.') {
                    if !in_sep {
                        out.push('-');
                    }
                    in_sep = true;
                } else {
                    out.push(c.to_ascii_lowercase());
                    in_sep = false;
                }
            }
            out
        }
        "crates.io" => name.trim().to_ascii_lowercase().replace('_', "-"),
        "npm" | "NuGet" | "Packagist" | "Pub" | "Hex" => name.trim().to_ascii_lowercase(),
        _ => name.trim().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_keys() {
        assert_eq!(name_key("PyPI", "PyYAML"), "pyyaml");
        assert_eq!(name_key("PyPI", "zope.Interface__x"), "zope-interface-x");
        assert_eq!(name_key("npm", "Axios"), "axios");
        assert_eq!(name_key("crates.io", "tokio_util"), "tokio-util");
        assert_eq!(name_key("Debian:12", "openssl"), "openssl");
        assert_eq!(
            name_key("Maven", "org.apache.logging.log4j:log4j-core"),
            "org.apache.logging.log4j:log4j-core"
        );
    }
}
