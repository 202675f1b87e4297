//! Read queries on an open [`VulnDb`]: the candidate advisories for one (ecosystem, package),
//! lookups by any id or alias, name search, KEV and EPSS facts.
//!
//! Does not judge whether a version is affected (that is `matcher` with `version`). Invariants:
//! names are looked up through `schema::name_key` only; withdrawn advisories are returned only
//! when the caller asks for them.

use std::path::Path;

use rusqlite::params;
use serde::{Deserialize, Serialize};

use super::error::DbError;
use super::open::VulnDb;
use super::osv::{Affected, Record};
use super::schema::name_key;

/// One `affected[]` entry of an advisory, with the advisory's head (record without `affected`).
#[derive(Debug, Clone)]
pub struct Candidate {
    /// The advisory without `affected`.
    pub advisory: Record,
    /// The `affected` entry naming the package.
    pub entry: Affected,
    /// The entry's OSV ecosystem string.
    pub ecosystem: String,
}

/// [`Candidate`] without the advisory: the scan path reads an advisory's head only for entries
/// that matched ([`VulnDb::head`]); most candidates never need theirs, and not reading it skips
/// the record's overflow pages.
#[derive(Debug, Clone)]
pub struct RawCandidate {
    /// The `affected` entry naming the package.
    pub entry: Affected,
    /// The advisory's row, for [`VulnDb::head`].
    pub advisory: i64,
}

/// A name-search hit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchHit {
    /// OSV ecosystem.
    pub ecosystem: String,
    /// Package name as the advisory spells it.
    pub name: String,
    /// Advisory id.
    pub id: String,
    /// Its aliases.
    pub aliases: Vec<String>,
    /// Summary.
    pub summary: String,
    /// Set when withdrawn.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub withdrawn: Option<String>,
}

/// KEV facts for one CVE.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KevInfo {
    /// Date added to the catalogue.
    pub date_added: String,
    /// Remediation due date.
    pub due_date: String,
    /// `Known` when used in ransomware campaigns.
    pub ransomware: String,
}

fn sql<'a>(path: &'a Path, action: &'static str) -> impl Fn(rusqlite::Error) -> DbError + use<'a> {
    move |source| DbError::Sqlite {
        path: path.to_path_buf(),
        action,
        source,
    }
}

fn decode<T: serde::de::DeserializeOwned>(path: &Path, json: &str) -> Result<T, DbError> {
    serde_json::from_str(json).map_err(|e| DbError::Corrupt {
        path: path.to_path_buf(),
        reason: format!("a stored record is not valid JSON: {e}"),
        source: None,
    })
}

impl VulnDb {
    /// OSV ecosystem strings present in the DB (from the meta counts).
    pub fn ecosystems(&self) -> impl Iterator<Item = &str> {
        self.meta().counts.keys().map(String::as_str)
    }

    /// Advisory entries naming `name` in `ecosystem` (exact OSV ecosystem string).
    pub fn candidates(
        &self,
        ecosystem: &str,
        name: &str,
        include_withdrawn: bool,
    ) -> Result<Vec<Candidate>, DbError> {
        self.raw_candidates(ecosystem, name, include_withdrawn)?
            .into_iter()
            .map(|c| {
                Ok(Candidate {
                    advisory: self.head(c.advisory)?,
                    entry: c.entry,
                    ecosystem: ecosystem.to_string(),
                })
            })
            .collect()
    }

    /// The head (record without `affected`) of the advisory in row `advisory`
    /// ([`RawCandidate::advisory`]).
    pub fn head(&self, advisory: i64) -> Result<Record, DbError> {
        let path = self.path();
        let mut stmt = self
            .conn
            .prepare_cached("SELECT head FROM advisory WHERE rowid = ?1")
            .map_err(sql(path, "reading an advisory"))?;
        let head: String = stmt
            .query_row([advisory], |r| r.get(0))
            .map_err(sql(path, "reading an advisory"))?;
        decode(path, &head)
    }

    /// [`VulnDb::candidates`] without decoding the advisory heads.
    pub fn raw_candidates(
        &self,
        ecosystem: &str,
        name: &str,
        include_withdrawn: bool,
    ) -> Result<Vec<RawCandidate>, DbError> {
        let path = self.path();
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT a.entry, a.advisory, v.withdrawn FROM affected a JOIN advisory v ON v.rowid = a.advisory \
                 WHERE a.ecosystem = ?1 AND a.name_key = ?2 ORDER BY v.id",
            )
            .map_err(sql(path, "querying advisories"))?;
        let mut rows = stmt
            .query(params![ecosystem, name_key(ecosystem, name)])
            .map_err(sql(path, "querying advisories"))?;
        let mut out = Vec::new();
        while let Some(row) = rows.next().map_err(sql(path, "querying advisories"))? {
            let withdrawn: Option<String> = row.get(2).map_err(sql(path, "querying advisories"))?;
            if withdrawn.is_some() && !include_withdrawn {
                continue;
            }
            let entry: String = row.get(0).map_err(sql(path, "querying advisories"))?;
            let advisory: i64 = row.get(1).map_err(sql(path, "querying advisories"))?;
            out.push(RawCandidate {
                entry: decode(path, &entry)?,
                advisory,
            });
        }
        Ok(out)
    }

    /// Every full record whose id, alias, upstream or related id equals `id` (case-insensitive).
    pub fn records_by_id(&self, id: &str) -> Result<Vec<Record>, DbError> {
        let path = self.path();
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT DISTINCT v.record FROM alias l JOIN advisory v ON v.rowid = l.advisory \
                 WHERE l.alias = ?1 OR l.alias = ?2 ORDER BY v.id",
            )
            .map_err(sql(path, "looking up an id"))?;
        let upper = id.to_ascii_uppercase();
        let rows = stmt
            .query_map(params![id, upper], |r| r.get::<_, String>(0))
            .map_err(sql(path, "looking up an id"))?;
        let mut out = Vec::new();
        for row in rows {
            out.push(decode(path, &row.map_err(sql(path, "looking up an id"))?)?);
        }
        Ok(out)
    }

    /// Advisories naming a package called `name` in any ecosystem.
    pub fn search(&self, name: &str) -> Result<Vec<SearchHit>, DbError> {
        let path = self.path();
        let keys = [
            name.to_string(),
            name.to_ascii_lowercase(),
            name_key("PyPI", name),
            name_key("crates.io", name),
        ];
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT DISTINCT a.ecosystem, a.name, v.id, v.head, v.withdrawn FROM affected a \
                 JOIN advisory v ON v.rowid = a.advisory \
                 WHERE a.name_key IN (?1, ?2, ?3, ?4) ORDER BY a.ecosystem, v.id",
            )
            .map_err(sql(path, "searching"))?;
        let mut rows = stmt
            .query(params![keys[0], keys[1], keys[2], keys[3]])
            .map_err(sql(path, "searching"))?;
        let mut out = Vec::new();
        while let Some(row) = rows.next().map_err(sql(path, "searching"))? {
            let ecosystem: String = row.get(0).map_err(sql(path, "searching"))?;
            let pkg: String = row.get(1).map_err(sql(path, "searching"))?;
            // Only keep rows whose own normalisation matches the query's.
            if name_key(&ecosystem, &pkg) != name_key(&ecosystem, name) {
                continue;
            }
            let head: Record = decode(
                path,
                &row.get::<_, String>(3).map_err(sql(path, "searching"))?,
            )?;
            out.push(SearchHit {
                ecosystem,
                name: pkg,
                id: row.get(2).map_err(sql(path, "searching"))?,
                aliases: head.aliases.clone(),
                summary: head.summary.clone().unwrap_or_default(),
                withdrawn: row.get(4).map_err(sql(path, "searching"))?,
            });
        }
        Ok(out)
    }

    /// KEV facts for a CVE.
    pub fn kev(&self, cve: &str) -> Result<Option<KevInfo>, DbError> {
        let path = self.path();
        let mut stmt = self
            .conn
            .prepare_cached("SELECT date_added, due_date, ransomware FROM kev WHERE cve = ?1")
            .map_err(sql(path, "reading KEV"))?;
        let mut rows = stmt.query([cve]).map_err(sql(path, "reading KEV"))?;
        match rows.next().map_err(sql(path, "reading KEV"))? {
            Some(r) => Ok(Some(KevInfo {
                date_added: r.get(0).map_err(sql(path, "reading KEV"))?,
                due_date: r.get(1).map_err(sql(path, "reading KEV"))?,
                ransomware: r.get(2).map_err(sql(path, "reading KEV"))?,
            })),
            None => Ok(None),
        }
    }

    /// EPSS `(probability, percentile)` for a CVE.
    pub fn epss(&self, cve: &str) -> Result<Option<(f64, f64)>, DbError> {
        let path = self.path();
        let mut stmt = self
            .conn
            .prepare_cached("SELECT score, percentile FROM epss WHERE cve = ?1")
            .map_err(sql(path, "reading EPSS"))?;
        let mut rows = stmt.query([cve]).map_err(sql(path, "reading EPSS"))?;
        match rows.next().map_err(sql(path, "reading EPSS"))? {
            Some(r) => Ok(Some((
                r.get(0).map_err(sql(path, "reading EPSS"))?,
                r.get(1).map_err(sql(path, "reading EPSS"))?,
            ))),
            None => Ok(None),
        }
    }
}
