//! [`Inventory`](crate::catalog::Inventory) + the advisory DB → [`Match`]es, each carrying the
//! range evaluation that made it, plus suppression (ignore rules, VEX).
//!
//! * [`targets`]: the matchers ([`MATCHERS`]) — which (ecosystem, name, version, scheme) each
//!   package is looked up under (OS packages through their source package).
//! * [`evaluate`]: one version against one OSV `affected[]` entry, via `version::osv`.
//! * [`merge`]: hits → one finding per vulnerability (alias closure; DSA fan-out per CVE).
//! * [`severity`]: the documented severity precedence.
//! * [`explain`]: why a vulnerability did or did not match (for `tollgate explain`).
//! * [`suppress`]: ignore rules (`.tollgate.yaml`) and OpenVEX, with unused-rule reporting.
//!
//! This stage reads the DB only through `vulndb`'s query API and compares versions only through
//! `version`; it knows nothing of policies or report formats.

mod error;
pub mod evaluate;
pub mod explain;
pub mod merge;
mod model;
pub mod severity;
pub mod suppress;
pub mod targets;

use std::collections::{BTreeSet, HashMap};
use std::rc::Rc;

pub use error::MatchError;
pub use model::*;
pub use targets::{Env, MATCHERS, Matcher, Query};

use crate::catalog::{Inventory, Package, Problem};
use crate::version::Version;
use crate::vulndb::{RawCandidate, VulnDb};

/// Matching options.
#[derive(Debug, Clone, Default)]
pub struct MatchOptions {
    /// OSV ecosystem(s) to use for OS packages instead of the detected distro (`Debian:12`;
    /// comma-separated for several).
    pub distro_override: Option<String>,
    /// Also report RustSec informational advisories (unmaintained, unsound, notice).
    pub include_informational: bool,
}

/// Matches plus the problems met (unparseable versions), which do not stop matching.
#[derive(Debug, Clone, Default)]
pub struct MatchOutcome {
    /// The findings, sorted by (package name, version, vulnerability id).
    pub matches: Vec<Match>,
    /// Non-fatal problems, for `Inventory::problems`.
    pub problems: Vec<Problem>,
}

/// Matches every package of `inventory` against `db`.
pub fn run(
    inventory: &Inventory,
    db: &VulnDb,
    opts: &MatchOptions,
) -> Result<Vec<Match>, MatchError> {
    Ok(run_detailed(inventory, db, opts)?.matches)
}

/// [`run`], also returning the problems met.
pub fn run_detailed(
    inventory: &Inventory,
    db: &VulnDb,
    opts: &MatchOptions,
) -> Result<MatchOutcome, MatchError> {
    let db_ecosystems: Vec<String> = db.ecosystems().map(str::to_string).collect();
    let env = Env {
        distro: inventory.distro.as_ref(),
        distro_override: opts.distro_override.as_deref(),
        db_ecosystems: &db_ecosystems,
    };
    let mut out = MatchOutcome::default();
    let mut cache = CandidateCache::default();
    for pkg in &inventory.packages {
        let hits = hits_with_cache(pkg, db, &env, opts, &mut cache, &mut out.problems)?;
        if hits.is_empty() {
            continue;
        }
        for group in merge::group(&hits) {
            out.matches.push(build_match(pkg, db, &hits, &group)?);
        }
    }
    out.matches.sort_by(|a, b| {
        (&a.package_name, &a.package_version, &a.vulnerability.id).cmp(&(
            &b.package_name,
            &b.package_version,
            &b.vulnerability.id,
        ))
    });
    Ok(out)
}

fn is_informational(entry: &crate::vulndb::osv::Affected) -> bool {
    entry
        .database_specific
        .as_ref()
        .and_then(|d| d.get("informational"))
        .is_some_and(|v| !v.is_null())
}

/// The candidate entries already read in one run, by (ecosystem, name key): images hold the same
/// package name many times (nested `node_modules`, several site-packages), each looked up once.
#[derive(Default)]
struct CandidateCache(HashMap<(String, String), Rc<Vec<RawCandidate>>>);

impl CandidateCache {
    fn get(
        &mut self,
        db: &VulnDb,
        ecosystem: &str,
        name: &str,
    ) -> Result<Rc<Vec<RawCandidate>>, MatchError> {
        let key = (
            ecosystem.to_string(),
            crate::vulndb::name_key(ecosystem, name),
        );
        if let Some(c) = self.0.get(&key) {
            return Ok(Rc::clone(c));
        }
        let c = Rc::new(db.raw_candidates(ecosystem, name, false)?);
        self.0.insert(key, Rc::clone(&c));
        Ok(c)
    }
}

/// Every (advisory entry) hit for one package, across its queries.
pub fn package_hits(
    pkg: &Package,
    db: &VulnDb,
    env: &Env<'_>,
    opts: &MatchOptions,
    problems: &mut Vec<Problem>,
) -> Result<Vec<merge::Hit>, MatchError> {
    hits_with_cache(pkg, db, env, opts, &mut CandidateCache::default(), problems)
}

fn hits_with_cache(
    pkg: &Package,
    db: &VulnDb,
    env: &Env<'_>,
    opts: &MatchOptions,
    cache: &mut CandidateCache,
    problems: &mut Vec<Problem>,
) -> Result<Vec<merge::Hit>, MatchError> {
    let mut hits = Vec::new();
    let path = pkg.locations.first().map(|l| l.path.clone());
    for matcher in MATCHERS {
        for q in matcher.queries(pkg, env) {
            let candidates = cache.get(db, &q.ecosystem, &q.name)?;
            if candidates.is_empty() {
                continue;
            }
            let version = match Version::parse(q.scheme, &q.version) {
                Ok(v) => v,
                Err(e) => {
                    problems.push(Problem {
                        source: "matcher".into(),
                        path: path.clone(),
                        message: format!(
                            "{} {}: not matched against {} advisories: {e}",
                            pkg.name,
                            pkg.version,
                            candidates.len()
                        ),
                    });
                    continue;
                }
            };
            for c in candidates.iter() {
                if !opts.include_informational && is_informational(&c.entry) {
                    continue;
                }
                let ev = evaluate::evaluate_quiet(q.scheme, &version, &c.entry);
                let affected = matches!(ev.verdict, evaluate::Verdict::Affected { .. });
                if !affected && ev.problems.is_empty() {
                    continue;
                }
                let record = db.head(c.advisory)?;
                for p in ev.problems {
                    problems.push(Problem {
                        source: "matcher".into(),
                        path: path.clone(),
                        message: format!("{} ({} {}): {p}", record.id, q.ecosystem, q.name),
                    });
                }
                if let evaluate::Verdict::Affected {
                    constraint,
                    fixed,
                    fix_state,
                } = ev.verdict
                {
                    hits.push(merge::Hit {
                        record,
                        entry: c.entry.clone(),
                        matcher: q.matcher,
                        ecosystem: q.ecosystem.clone(),
                        searched_name: q.name.clone(),
                        searched_version: q.version.clone(),
                        scheme: q.scheme.as_str().to_string(),
                        constraint,
                        fixed,
                        fix_state,
                    });
                }
            }
        }
    }
    Ok(hits)
}

fn build_match(
    pkg: &Package,
    db: &VulnDb,
    hits: &[merge::Hit],
    group: &merge::Group,
) -> Result<Match, MatchError> {
    let members: Vec<&merge::Hit> = group.hits.iter().filter_map(|&i| hits.get(i)).collect();
    let sources: Vec<severity::Source<'_>> = members
        .iter()
        .map(|h| severity::Source {
            record: &h.record,
            entry: &h.entry,
        })
        .collect();
    let ids: Vec<&str> = std::iter::once(group.id.as_str())
        .chain(group.aliases.iter().map(String::as_str))
        .collect();
    let assessment = severity::assess(&sources, pkg.kind.is_os(), &ids);
    // Summary: prefer a record that describes the issue over a distro "pkg - security update".
    let summary = members
        .iter()
        .filter_map(|h| h.record.summary.as_deref())
        .find(|s| !s.ends_with("security update"))
        .or_else(|| members.iter().find_map(|h| h.record.summary.as_deref()))
        .unwrap_or_default()
        .to_string();
    let description = members
        .iter()
        .filter_map(|h| h.record.details.as_deref())
        .find(|d| !d.is_empty())
        .unwrap_or_default()
        .to_string();
    let mut urls = Vec::new();
    for h in &members {
        for r in &h.record.references {
            if !urls.contains(&r.url) {
                urls.push(r.url.clone());
            }
        }
    }
    let published = members
        .iter()
        .filter_map(|h| h.record.published.clone())
        .min();
    let modified = members.iter().map(|h| h.record.modified.clone()).max();
    let cves: BTreeSet<&str> = std::iter::once(group.id.as_str())
        .chain(group.aliases.iter().map(String::as_str))
        .filter(|i| i.starts_with("CVE-"))
        .collect();
    let mut kev = false;
    let mut epss: Option<f64> = None;
    for cve in &cves {
        kev |= db.kev(cve)?.is_some();
        if let Some((p, _)) = db.epss(cve)? {
            epss = Some(epss.map_or(p, |e: f64| e.max(p)));
        }
    }
    let mut fixed_in: Vec<String> = Vec::new();
    for h in &members {
        if let Some(f) = &h.fixed
            && !fixed_in.contains(f)
        {
            fixed_in.push(f.clone());
        }
    }
    let fix_state = if !fixed_in.is_empty() {
        FixState::Fixed
    } else if members.iter().any(|h| h.fix_state == FixState::NotFixed) {
        FixState::NotFixed
    } else {
        FixState::Unknown
    };
    let loc = pkg.locations.first();
    Ok(Match {
        vulnerability: Vulnerability {
            id: group.id.clone(),
            aliases: group.aliases.clone(),
            severity: assessment.severity,
            severity_source: assessment.source,
            severity_via: assessment.via,
            cvss: assessment.cvss,
            summary,
            description,
            urls,
            published,
            modified,
            kev,
            epss,
        },
        package_id: pkg.id.clone(),
        package_name: pkg.name.clone(),
        package_version: pkg.version.clone(),
        package_type: pkg.kind.as_str().to_string(),
        purl: pkg.purl.clone(),
        fix_state,
        fixed_in,
        path: loc.map(|l| l.path.clone()).unwrap_or_default(),
        layer_index: loc.map(|l| l.layer_index).unwrap_or_default(),
        layer_digest: loc.map(|l| l.layer_digest.clone()).unwrap_or_default(),
        details: members
            .iter()
            .map(|h| MatchDetail {
                matcher: h.matcher.to_string(),
                ecosystem: h.ecosystem.clone(),
                searched_name: h.searched_name.clone(),
                searched_version: h.searched_version.clone(),
                scheme: h.scheme.clone(),
                constraint: h.constraint.clone(),
                advisory: h.record.id.clone(),
            })
            .collect(),
        suppressed: None,
    })
}
