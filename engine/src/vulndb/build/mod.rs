//! Building a DB file from OSV data: fetch each `<Ecosystem>/all.zip` (from a directory or an
//! HTTP(S) base URL, see [`fetch`]), schema-check every record, write the SQLite file, enrich with
//! KEV and EPSS, and record meta (schema version, build time, sources, counts, checksum).
//!
//! Does not match anything and never touches an existing DB until the new one is complete: the
//! file is written next to `--out` under a temporary name and renamed into place at the end, so
//! a failed build (bad archive, HTTP error) leaves the old file untouched.
//!
//! Invariants: a record that fails the schema check is skipped and reported with its id; a
//! record seen in several archives (cross-ecosystem GHSA) is stored once, newest `modified` wins.

pub mod enrich;
pub mod fetch;
mod siblings;

use std::collections::{BTreeMap, HashMap};
use std::io::Read;
use std::path::{Path, PathBuf};

use rusqlite::{Connection, params};
use serde::{Deserialize, Serialize};

use super::error::DbError;
use super::osv::{self, Record};
use super::schema;

pub use fetch::{Fetched, HttpOptions, SourceSpec};

/// Ecosystem folders of the OSV bucket that `db build` ingests by default.
pub const DEFAULT_ECOSYSTEMS: &[&str] = &[
    "Debian",
    "Ubuntu",
    "Alpine",
    "AlmaLinux",
    "Rocky Linux",
    "Red Hat",
    "Bitnami",
    "PyPI",
    "npm",
    "Go",
    "crates.io",
    "Maven",
    "RubyGems",
    "Packagist",
    "NuGet",
    "Hex",
    "Pub",
];

/// Largest single record accepted from an archive (guards against zip bombs).
const MAX_RECORD_BYTES: u64 = 16 * 1024 * 1024;

/// What to build from.
#[derive(Debug, Clone)]
pub struct BuildOptions {
    /// The OSV source: a directory or base URL with `<Ecosystem>/all.zip`.
    pub from: SourceSpec,
    /// Ecosystems to ingest; empty = [`DEFAULT_ECOSYSTEMS`] (missing ones are noted, not fatal).
    pub ecosystems: Vec<String>,
    /// CISA KEV JSON (file or URL). When `None` and `from` is a directory holding
    /// `kev/known_exploited_vulnerabilities.json`, that file is used.
    pub kev: Option<SourceSpec>,
    /// FIRST EPSS CSV, plain or gzipped (file or URL).
    pub epss: Option<SourceSpec>,
    /// HTTP behaviour (timeouts, retries).
    pub http: HttpOptions,
}

/// A record that failed the schema check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SkippedRecord {
    /// The ecosystem archive it came from.
    pub source: String,
    /// The zip member (or file) name.
    pub member: String,
    /// Why it was skipped.
    pub reason: String,
}

/// Per-source numbers of a build.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceSummary {
    /// Ecosystem folder / source name.
    pub name: String,
    /// Where it came from.
    pub location: String,
    /// Records stored.
    pub records: u64,
    /// Records skipped as invalid.
    pub skipped: u64,
    /// Withdrawn records (stored, never matched).
    pub withdrawn: u64,
}

/// What a build did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BuildSummary {
    /// The DB file written.
    pub path: PathBuf,
    /// Sources ingested.
    pub sources: Vec<SourceSummary>,
    /// Default ecosystems not present at the source.
    pub not_found: Vec<String>,
    /// Every skipped record.
    pub skipped: Vec<SkippedRecord>,
    /// Distinct advisories stored.
    pub advisories: u64,
    /// KEV entries loaded.
    pub kev: u64,
    /// EPSS rows loaded.
    pub epss: u64,
    /// Records without a severity of their own that borrowed one from a sibling record of the
    /// same CVE (see `siblings`).
    #[serde(default)]
    pub severity_borrowed: u64,
    /// The content checksum.
    pub checksum: String,
    /// File size in bytes.
    pub size: u64,
}

/// Builds a DB from an OSV source into `out` (atomically: temp file + rename).
pub async fn build(opts: &BuildOptions, out: &Path) -> Result<BuildSummary, DbError> {
    let explicit = !opts.ecosystems.is_empty();
    let wanted: Vec<String> = if explicit {
        for e in &opts.ecosystems {
            if !osv::KNOWN_ECOSYSTEMS.contains(&e.as_str()) {
                return Err(DbError::UnknownEcosystem(e.clone()));
            }
        }
        opts.ecosystems.clone()
    } else {
        DEFAULT_ECOSYSTEMS
            .iter()
            .map(|s| (*s).to_string())
            .collect()
    };
    let client = fetch::client(&opts.http)?;
    let mut writer = DbWriter::create(out)?;
    let mut not_found = Vec::new();
    for eco in &wanted {
        match fetch::ecosystem_zip(&client, &opts.from, eco, &opts.http).await? {
            Some(fetched) => writer.add_archive(eco, &fetched)?,
            None if explicit => {
                return Err(DbError::EcosystemMissing {
                    ecosystem: eco.clone(),
                    location: opts.from.to_string(),
                });
            }
            None => not_found.push(eco.clone()),
        }
    }
    if writer.sources.is_empty() {
        return Err(DbError::NoData {
            from: opts.from.to_string(),
            looked_for: wanted.join(", "),
        });
    }
    let kev = match &opts.kev {
        Some(spec) => Some(fetch::fetch_required(&client, spec, &opts.http).await?),
        None => match &opts.from {
            SourceSpec::Dir(dir) => {
                let p = dir.join("kev").join("known_exploited_vulnerabilities.json");
                if p.is_file() {
                    Some(fetch::fetch_required(&client, &SourceSpec::Dir(p), &opts.http).await?)
                } else {
                    None
                }
            }
            SourceSpec::Url(_) => None,
        },
    };
    if let Some(k) = kev {
        writer.add_kev(&k)?;
    }
    if let Some(spec) = &opts.epss {
        let e = fetch::fetch_required(&client, spec, &opts.http).await?;
        writer.add_epss(&e)?;
    }
    let mut summary = writer.finish(&opts.from.to_string())?;
    summary.not_found = not_found;
    Ok(summary)
}

/// Builds a DB from loose OSV JSON documents (the embedded example set, test fixtures).
/// `records` are `(file name, bytes)`; `source` names them in the meta table.
pub fn build_from_records(
    source: &str,
    records: &[(&str, &[u8])],
    out: &Path,
) -> Result<BuildSummary, DbError> {
    let mut writer = DbWriter::create(out)?;
    let mut summary = SourceSummary {
        name: source.to_string(),
        location: source.to_string(),
        ..Default::default()
    };
    let mut hasher_input = Vec::new();
    for (name, bytes) in records {
        hasher_input.extend_from_slice(name.as_bytes());
        hasher_input.extend_from_slice(bytes);
        let expected = name.strip_suffix(".json");
        writer.add_record(source, name, bytes, expected, &mut summary)?;
    }
    writer.record_source(
        &summary,
        "records",
        &super::checksum::sha256_hex(&hasher_input),
    )?;
    writer.sources.push(summary);
    writer.finish(source)
}

/// Writes the DB file; owns the temporary path until [`DbWriter::finish`] renames it.
struct DbWriter {
    conn: Connection,
    tmp: PathBuf,
    _guard: TempGuard,
    out: PathBuf,
    seen: HashMap<String, (i64, String)>,
    sources: Vec<SourceSummary>,
    skipped: Vec<SkippedRecord>,
    kev: u64,
    epss: u64,
    siblings: siblings::Siblings,
}

fn sql<'a>(path: &'a Path, action: &'static str) -> impl Fn(rusqlite::Error) -> DbError + use<'a> {
    move |source| DbError::Sqlite {
        path: path.to_path_buf(),
        action,
        source,
    }
}

impl DbWriter {
    fn create(out: &Path) -> Result<DbWriter, DbError> {
        let dir = match out.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        std::fs::create_dir_all(&dir).map_err(|source| DbError::Io {
            path: dir.clone(),
            action: "create directory",
            source,
        })?;
        let file_name = out
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "vulndb.sqlite".into());
        let tmp = dir.join(format!(".{file_name}.tmp-{}", std::process::id()));
        let _ = std::fs::remove_file(&tmp);
        let conn = Connection::open(&tmp).map_err(sql(&tmp, "creating the DB"))?;
        conn.execute_batch(
            "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA page_size=4096; \
             PRAGMA temp_store=MEMORY; PRAGMA cache_size=-65536;",
        )
        .map_err(sql(&tmp, "configuring the DB"))?;
        conn.execute_batch(schema::CREATE)
            .map_err(sql(&tmp, "creating tables"))?;
        conn.execute_batch("BEGIN").map_err(sql(&tmp, "starting"))?;
        Ok(DbWriter {
            conn,
            _guard: TempGuard(tmp.clone()),
            tmp,
            out: out.to_path_buf(),
            seen: HashMap::new(),
            sources: Vec::new(),
            skipped: Vec::new(),
            kev: 0,
            epss: 0,
            siblings: siblings::Siblings::default(),
        })
    }

    fn add_archive(&mut self, ecosystem: &str, fetched: &Fetched) -> Result<(), DbError> {
        let bad = |source| DbError::BadArchive {
            ecosystem: ecosystem.to_string(),
            location: fetched.location.clone(),
            source,
        };
        let mut zip =
            zip::ZipArchive::new(std::io::Cursor::new(&fetched.bytes[..])).map_err(bad)?;
        let mut summary = SourceSummary {
            name: ecosystem.to_string(),
            location: fetched.location.clone(),
            ..Default::default()
        };
        let mut buf = Vec::new();
        for i in 0..zip.len() {
            let mut member = zip.by_index(i).map_err(bad)?;
            if member.is_dir() {
                continue;
            }
            let name = member.name().map_err(bad)?.to_string();
            let Some(expected) = name.strip_suffix(".json") else {
                continue;
            };
            let expected = expected.rsplit('/').next().unwrap_or(expected).to_string();
            if member.size() > MAX_RECORD_BYTES {
                summary.skipped += 1;
                self.skipped.push(SkippedRecord {
                    source: ecosystem.to_string(),
                    member: name,
                    reason: format!("larger than {MAX_RECORD_BYTES} bytes"),
                });
                continue;
            }
            buf.clear();
            (&mut member)
                .take(MAX_RECORD_BYTES + 1)
                .read_to_end(&mut buf)
                .map_err(|e| bad(zip::result::ZipError::Io(e)))?;
            drop(member);
            let bytes = std::mem::take(&mut buf);
            self.add_record(ecosystem, &name, &bytes, Some(&expected), &mut summary)?;
            buf = bytes;
        }
        self.record_source(&summary, "osv-zip", &fetched.sha256)?;
        self.sources.push(summary);
        Ok(())
    }

    fn record_source(&self, s: &SourceSummary, kind: &str, sha256: &str) -> Result<(), DbError> {
        self.conn
            .execute(
                "INSERT OR REPLACE INTO source VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                params![
                    s.name,
                    s.location,
                    kind,
                    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                    sha256,
                    s.records as i64,
                    s.skipped as i64,
                    s.withdrawn as i64
                ],
            )
            .map_err(sql(&self.tmp, "recording a source"))?;
        Ok(())
    }

    fn add_record(
        &mut self,
        source: &str,
        member: &str,
        bytes: &[u8],
        expected_id: Option<&str>,
        summary: &mut SourceSummary,
    ) -> Result<(), DbError> {
        let record = match osv::parse_and_validate(bytes, expected_id) {
            Ok(r) => r,
            Err(v) => {
                summary.skipped += 1;
                self.skipped.push(SkippedRecord {
                    source: source.to_string(),
                    member: member.to_string(),
                    reason: v.to_string(),
                });
                return Ok(());
            }
        };
        summary.records += 1;
        if record.withdrawn.is_some() {
            summary.withdrawn += 1;
        }
        if let Some((rowid, modified)) = self.seen.get(&record.id) {
            if *modified >= record.modified {
                return Ok(());
            }
            let rowid = *rowid;
            for table in ["affected", "alias"] {
                self.conn
                    .execute(&format!("DELETE FROM {table} WHERE advisory = ?1"), [rowid])
                    .map_err(sql(&self.tmp, "replacing a record"))?;
            }
            self.conn
                .execute("DELETE FROM advisory WHERE rowid = ?1", [rowid])
                .map_err(sql(&self.tmp, "replacing a record"))?;
        }
        self.insert(source, &record)
    }

    fn insert(&mut self, source: &str, record: &Record) -> Result<(), DbError> {
        let full = serde_json::to_string(record).unwrap_or_default();
        let mut head = record.clone();
        head.affected = Vec::new();
        let head = serde_json::to_string(&head).unwrap_or_default();
        let tmp = self.tmp.clone();
        let mut ins = self
            .conn
            .prepare_cached(
                "INSERT INTO advisory (id, source, modified, published, withdrawn, summary, head, record) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )
            .map_err(sql(&tmp, "inserting an advisory"))?;
        ins.execute(params![
            record.id,
            source,
            record.modified,
            record.published,
            record.withdrawn,
            record.summary.clone().unwrap_or_default(),
            head,
            full
        ])
        .map_err(sql(&tmp, "inserting an advisory"))?;
        let rowid = self.conn.last_insert_rowid();
        let mut aff = self
            .conn
            .prepare_cached(
                "INSERT INTO affected (ecosystem, name_key, name, advisory, entry) VALUES (?1, ?2, ?3, ?4, ?5)",
            )
            .map_err(sql(&tmp, "inserting an affected entry"))?;
        for a in &record.affected {
            let Some(pkg) = &a.package else { continue };
            let entry = serde_json::to_string(a).unwrap_or_default();
            aff.execute(params![
                pkg.ecosystem,
                schema::name_key(&pkg.ecosystem, &pkg.name),
                pkg.name,
                rowid,
                entry
            ])
            .map_err(sql(&tmp, "inserting an affected entry"))?;
        }
        let mut al = self
            .conn
            .prepare_cached("INSERT INTO alias (alias, advisory, kind) VALUES (?1, ?2, ?3)")
            .map_err(sql(&tmp, "inserting an alias"))?;
        al.execute(params![record.id, rowid, "id"])
            .map_err(sql(&tmp, "inserting an alias"))?;
        for a in &record.aliases {
            al.execute(params![a, rowid, "alias"])
                .map_err(sql(&tmp, "inserting an alias"))?;
        }
        for a in &record.upstream {
            al.execute(params![a, rowid, "upstream"])
                .map_err(sql(&tmp, "inserting an alias"))?;
        }
        for a in &record.related {
            al.execute(params![a.id(), rowid, "related"])
                .map_err(sql(&tmp, "inserting an alias"))?;
        }
        self.siblings.observe(rowid, record);
        self.seen
            .insert(record.id.clone(), (rowid, record.modified.clone()));
        Ok(())
    }

    fn add_kev(&mut self, fetched: &Fetched) -> Result<(), DbError> {
        let rows = enrich::parse_kev(&fetched.bytes).map_err(|reason| DbError::BadEnrichment {
            kind: "KEV",
            location: fetched.location.clone(),
            reason,
        })?;
        let tmp = self.tmp.clone();
        let mut ins = self
            .conn
            .prepare_cached("INSERT OR REPLACE INTO kev VALUES (?1, ?2, ?3, ?4, ?5, ?6)")
            .map_err(sql(&tmp, "inserting KEV"))?;
        for k in &rows {
            ins.execute(params![
                k.cve,
                k.date_added,
                k.due_date,
                k.ransomware,
                k.vendor,
                k.product
            ])
            .map_err(sql(&tmp, "inserting KEV"))?;
        }
        drop(ins);
        self.kev = rows.len() as u64;
        self.record_source(
            &SourceSummary {
                name: "kev".into(),
                location: fetched.location.clone(),
                records: self.kev,
                ..Default::default()
            },
            "kev-json",
            &fetched.sha256,
        )
    }

    fn add_epss(&mut self, fetched: &Fetched) -> Result<(), DbError> {
        let rows = enrich::parse_epss(&fetched.bytes).map_err(|reason| DbError::BadEnrichment {
            kind: "EPSS",
            location: fetched.location.clone(),
            reason,
        })?;
        let tmp = self.tmp.clone();
        let mut ins = self
            .conn
            .prepare_cached("INSERT OR REPLACE INTO epss VALUES (?1, ?2, ?3)")
            .map_err(sql(&tmp, "inserting EPSS"))?;
        for e in &rows {
            ins.execute(params![e.cve, e.score, e.percentile])
                .map_err(sql(&tmp, "inserting EPSS"))?;
        }
        drop(ins);
        self.epss = rows.len() as u64;
        self.record_source(
            &SourceSummary {
                name: "epss".into(),
                location: fetched.location.clone(),
                records: self.epss,
                ..Default::default()
            },
            "epss-csv",
            &fetched.sha256,
        )
    }

    fn finish(self, from: &str) -> Result<BuildSummary, DbError> {
        let DbWriter {
            conn,
            tmp,
            out,
            sources,
            skipped,
            kev,
            epss,
            _guard,
            siblings,
            ..
        } = self;
        let result = (|| -> Result<BuildSummary, DbError> {
            let severity_borrowed = siblings
                .apply(&conn)
                .map_err(sql(&tmp, "borrowing severities"))?;
            conn.execute_batch(schema::INDEXES)
                .map_err(sql(&tmp, "creating indexes"))?;
            let advisories: i64 = conn
                .query_row("SELECT COUNT(*) FROM advisory", [], |r| r.get(0))
                .map_err(sql(&tmp, "counting"))?;
            let mut counts = BTreeMap::new();
            {
                let mut stmt = conn
                    .prepare(
                        "SELECT ecosystem, COUNT(DISTINCT advisory) FROM affected GROUP BY ecosystem",
                    )
                    .map_err(sql(&tmp, "counting"))?;
                let rows = stmt
                    .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))
                    .map_err(sql(&tmp, "counting"))?;
                for row in rows {
                    let (eco, n) = row.map_err(sql(&tmp, "counting"))?;
                    counts.insert(eco, n);
                }
            }
            let checksum =
                super::checksum::content_checksum(&conn).map_err(sql(&tmp, "checksumming"))?;
            let built = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
            let meta = [
                ("schema_version", schema::SCHEMA_VERSION.to_string()),
                ("built", built),
                ("builder", format!("tollgate {}", env!("CARGO_PKG_VERSION"))),
                ("from", from.to_string()),
                ("checksum", checksum.clone()),
                ("advisories", advisories.to_string()),
                ("counts", serde_json::to_string(&counts).unwrap_or_default()),
            ];
            for (k, v) in meta {
                conn.execute("INSERT INTO meta VALUES (?1, ?2)", params![k, v])
                    .map_err(sql(&tmp, "writing meta"))?;
            }
            conn.execute_batch("COMMIT; ANALYZE;")
                .map_err(sql(&tmp, "committing"))?;
            Ok(BuildSummary {
                path: out.clone(),
                sources,
                not_found: Vec::new(),
                skipped,
                advisories: advisories as u64,
                kev,
                epss,
                severity_borrowed,
                checksum,
                size: 0,
            })
        })();
        let close = conn.close().map_err(|(_, e)| DbError::Sqlite {
            path: tmp.clone(),
            action: "closing",
            source: e,
        });
        let mut summary = match (result, close) {
            (Ok(s), Ok(())) => s,
            (Err(e), _) | (Ok(_), Err(e)) => {
                let _ = std::fs::remove_file(&tmp);
                return Err(e);
            }
        };
        super::update::persist(&tmp, &out)?;
        summary.size = std::fs::metadata(&out).map(|m| m.len()).unwrap_or(0);
        Ok(summary)
    }
}

/// Removes the temporary DB file when dropped: on every error path nothing is left behind (after
/// a successful rename the path no longer exists and removal is a no-op).
struct TempGuard(PathBuf);

impl Drop for TempGuard {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}
