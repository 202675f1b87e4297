//! The DB location defaults and the offline quickstart: [`default_path`] (XDG cache) and
//! [`open_or_build_example`], which builds a small DB from the OSV advisories embedded in the
//! binary (`examples/advisories/`) when no real DB is installed.
//!
//! Invariants: the example DB lives beside, never at, the default path, so `db update` never
//! competes with it; it is rebuilt when the embedded set changes or when it is a day old, so a
//! quickstart scan never trips `--max-db-age`.

use std::path::PathBuf;
use std::time::Duration;

use super::build::build_from_records;
use super::checksum::sha256_hex;
use super::error::DbError;
use super::open::VulnDb;

macro_rules! embed {
    ($($name:literal),* $(,)?) => {
        &[$(($name, include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/advisories/", $name)).as_slice())),*]
    };
}

/// The advisory set shipped in the repo, `(file name, OSV JSON)`.
pub const EXAMPLE_ADVISORIES: &[(&str, &[u8])] = embed![
    "DEBIAN-CVE-2022-37434.json",
    "DEBIAN-CVE-2024-5535.json",
    "DSA-5514-1.json",
    "DSA-5532-1.json",
    "DSA-5611-1.json",
    "DSA-5764-1.json",
    "GHSA-35jh-r3h4-6jhm.json",
    "GHSA-462w-v97r-4m45.json",
    "GHSA-8q59-q68h-6hv4.json",
    "GHSA-mh33-7rrq-662w.json",
    "GHSA-x84v-xcm2-53pg.json",
    "GHSA-xvch-5gv4-984h.json",
];

/// The cache directory: `$XDG_CACHE_HOME/tollgate`, else `$HOME/.cache/tollgate`, else
/// `./.tollgate-cache`.
pub fn cache_dir() -> PathBuf {
    if let Some(x) = std::env::var_os("XDG_CACHE_HOME").filter(|v| !v.is_empty()) {
        return PathBuf::from(x).join("tollgate");
    }
    if let Some(h) = std::env::var_os("HOME").filter(|v| !v.is_empty()) {
        return PathBuf::from(h).join(".cache").join("tollgate");
    }
    PathBuf::from(".tollgate-cache")
}

/// Where `db update`/`db import` install the DB and scans look for it: `<cache>/vulndb.sqlite`.
pub fn default_path() -> PathBuf {
    cache_dir().join("vulndb.sqlite")
}

/// Where the example DB is built: `<cache>/example-vulndb.sqlite`.
pub fn example_path() -> PathBuf {
    cache_dir().join("example-vulndb.sqlite")
}

fn example_source_name() -> String {
    let mut all = Vec::new();
    for (name, bytes) in EXAMPLE_ADVISORIES {
        all.extend_from_slice(name.as_bytes());
        all.extend_from_slice(bytes);
    }
    format!("embedded-examples:{}", &sha256_hex(&all)[..16])
}

/// True when the DB was built from the embedded example set.
pub fn is_example(db: &VulnDb) -> bool {
    db.meta().from.starts_with("embedded-examples:")
}

/// Opens the installed DB at [`default_path`]; when there is none, builds (or reuses) the example
/// DB from the embedded advisories and opens that. Callers with `--db`/`TOLLGATE_DB` use
/// [`VulnDb::open`] instead.
pub fn open_or_build_example() -> Result<VulnDb, DbError> {
    let installed = default_path();
    if installed.exists() {
        return VulnDb::open(&installed);
    }
    let path = example_path();
    let source = example_source_name();
    if let Ok(db) = VulnDb::open(&path)
        && db.meta().from == source
        && db.age() < Duration::from_secs(86400)
    {
        return Ok(db);
    }
    build_from_records(&source, EXAMPLE_ADVISORIES, &path)?;
    VulnDb::open(&path)
}
