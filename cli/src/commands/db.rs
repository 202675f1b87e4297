//! `tollgate db build|update|import|push|status|check|search`: manage the vulnerability DB.
//! Thin: each subcommand calls `tollgate::vulndb` and prints the result (text, or `--json`).

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Subcommand};
use miette::{IntoDiagnostic, Result};
use tollgate::vulndb::{self, BuildOptions, HttpOptions, SourceSpec, VulnDb, update::DbLocation};

use crate::Outcome;
use crate::args::GlobalArgs;

/// The public OSV bucket (layout `<Ecosystem>/all.zip`).
const OSV_BUCKET: &str = "https://osv-vulnerabilities.storage.googleapis.com";

/// Which DB file to use.
#[derive(Debug, Clone, Args)]
pub(crate) struct DbFileArgs {
    /// The DB file (default: `$XDG_CACHE_HOME/tollgate/vulndb.sqlite`).
    #[arg(long, value_name = "FILE", env = "TOLLGATE_DB")]
    pub(crate) db: Option<PathBuf>,
}

impl DbFileArgs {
    fn path(&self) -> PathBuf {
        self.db.clone().unwrap_or_else(vulndb::default_path)
    }

    /// Opens `--db`, else the installed DB, else the example DB (so read-only commands work
    /// offline on a fresh machine).
    fn open(&self) -> Result<VulnDb> {
        Ok(match &self.db {
            Some(p) => VulnDb::open(p)?,
            None => vulndb::open_or_build_example()?,
        })
    }
}

/// HTTP knobs shared by `build` and `update`.
#[derive(Debug, Clone, Args)]
pub(crate) struct HttpArgs {
    /// Seconds to wait for the next bytes of a response before giving up.
    #[arg(long, value_name = "SECS", default_value_t = 60)]
    pub(crate) read_timeout: u64,
    /// Retries after a 5xx/429 or a transport error.
    #[arg(long, value_name = "N", default_value_t = 2)]
    pub(crate) retries: u32,
}

impl HttpArgs {
    fn options(&self) -> HttpOptions {
        HttpOptions {
            read_timeout: Duration::from_secs(self.read_timeout.max(1)),
            retries: self.retries,
            ..HttpOptions::default()
        }
    }
}

/// `tollgate db …`
#[derive(Debug, Subcommand)]
pub(crate) enum DbCommand {
    /// Build a DB from OSV data (`<Ecosystem>/all.zip` under a URL or directory).
    Build {
        /// Base URL or local mirror directory (default: the public OSV bucket).
        #[arg(long, value_name = "URL|DIR", default_value = OSV_BUCKET)]
        from: String,
        /// Output file.
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
        /// Ecosystem folder to ingest (repeatable; default: Debian, Ubuntu, Alpine, AlmaLinux,
        /// Rocky Linux, Red Hat, Bitnami, PyPI, npm, Go, crates.io, Maven, RubyGems, Packagist,
        /// NuGet, Hex, Pub — those missing at the source are noted and skipped).
        #[arg(long = "ecosystem", value_name = "NAME")]
        ecosystems: Vec<String>,
        /// CISA KEV JSON (file or URL); default: `kev/known_exploited_vulnerabilities.json`
        /// under a `--from` directory when present.
        #[arg(long, value_name = "FILE|URL")]
        kev: Option<String>,
        /// FIRST EPSS CSV, plain or .gz (file or URL).
        #[arg(long, value_name = "FILE|URL")]
        epss: Option<String>,
        /// Print the summary as JSON.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        http: HttpArgs,
    },
    /// Fetch a prebuilt DB (`https://…`, `oci://registry/repo:tag` or a file), verify it and
    /// install it atomically, keeping the previous one as `<FILE>.previous`.
    Update {
        /// Where to fetch from.
        #[arg(value_name = "URL|oci://REF|FILE", env = "TOLLGATE_DB_SOURCE")]
        source: String,
        #[command(flatten)]
        target: DbFileArgs,
        #[command(flatten)]
        http: HttpArgs,
    },
    /// Verify a local DB file and install it (atomically, keeping the previous one).
    Import {
        /// The DB file to install.
        file: PathBuf,
        #[command(flatten)]
        target: DbFileArgs,
    },
    /// Publish a DB as an OCI artifact (`oci://registry/repo:tag`).
    Push {
        /// The reference.
        #[arg(value_name = "oci://REF")]
        reference: String,
        #[command(flatten)]
        db: DbFileArgs,
    },
    /// Show the DB's age, schema, sources and counts.
    Status {
        #[command(flatten)]
        db: DbFileArgs,
        /// Print as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Verify the DB: SQLite integrity, content checksum, schema version, and age.
    Check {
        #[command(flatten)]
        db: DbFileArgs,
        /// Fail when the DB is older than this (`5d`, `36h`, `0` = no limit).
        #[arg(
            long,
            value_name = "AGE",
            default_value = "5d",
            env = "TOLLGATE_MAX_DB_AGE"
        )]
        max_db_age: String,
    },
    /// List advisories naming a package (any ecosystem).
    Search {
        /// Package name (normalised per ecosystem: `PyYAML` finds `pyyaml`).
        name: String,
        #[command(flatten)]
        db: DbFileArgs,
        /// Include withdrawn advisories.
        #[arg(long)]
        withdrawn: bool,
        /// Print as JSON.
        #[arg(long)]
        json: bool,
    },
}

fn spec(s: &str) -> SourceSpec {
    SourceSpec::parse(s)
}

fn human_age(d: Duration) -> String {
    let h = d.as_secs() / 3600;
    if h >= 48 {
        format!("{} days", h / 24)
    } else if h >= 1 {
        format!("{h} hours")
    } else {
        format!("{} minutes", d.as_secs() / 60)
    }
}

#[allow(clippy::print_stdout)]
pub(crate) async fn run(cmd: DbCommand, global: &GlobalArgs) -> Result<Outcome> {
    let mut out = std::io::stdout().lock();
    match cmd {
        DbCommand::Build {
            from,
            out: file,
            ecosystems,
            kev,
            epss,
            json,
            http,
        } => {
            let opts = BuildOptions {
                from: spec(&from),
                ecosystems,
                kev: kev.as_deref().map(spec),
                epss: epss.as_deref().map(spec),
                http: http.options(),
            };
            let started = std::time::Instant::now();
            let s = vulndb::build::build(&opts, &file).await?;
            if json {
                serde_json::to_writer_pretty(&mut out, &s).into_diagnostic()?;
                writeln!(out).into_diagnostic()?;
            } else if !global.quiet {
                writeln!(
                    out,
                    "built {} ({} advisories, {} bytes) in {:.1}s",
                    s.path.display(),
                    s.advisories,
                    s.size,
                    started.elapsed().as_secs_f64()
                )
                .into_diagnostic()?;
                for src in &s.sources {
                    writeln!(
                        out,
                        "  {:<12} {:>6} records  {:>4} skipped  {:>4} withdrawn",
                        src.name, src.records, src.skipped, src.withdrawn
                    )
                    .into_diagnostic()?;
                }
                if s.kev > 0 || s.epss > 0 {
                    writeln!(out, "  enrichment: {} KEV, {} EPSS", s.kev, s.epss)
                        .into_diagnostic()?;
                }
                if s.severity_borrowed > 0 {
                    writeln!(
                        out,
                        "  severity borrowed from sibling records of the same CVE: {} records",
                        s.severity_borrowed
                    )
                    .into_diagnostic()?;
                }
                if !s.not_found.is_empty() {
                    writeln!(
                        out,
                        "  not published at the source: {}",
                        s.not_found.join(", ")
                    )
                    .into_diagnostic()?;
                }
                for k in &s.skipped {
                    writeln!(out, "  skipped {} ({}): {}", k.member, k.source, k.reason)
                        .into_diagnostic()?;
                }
                writeln!(out, "  checksum {}", s.checksum).into_diagnostic()?;
            }
        }
        DbCommand::Update {
            source,
            target,
            http,
        } => {
            let loc = DbLocation::parse(&source)?;
            let inst = vulndb::update::update(&loc, &target.path(), &http.options()).await?;
            if !global.quiet {
                writeln!(
                    out,
                    "installed {} (built {}, checksum {})",
                    inst.path.display(),
                    inst.built,
                    &inst.checksum[..16.min(inst.checksum.len())]
                )
                .into_diagnostic()?;
                if let Some(p) = inst.previous {
                    writeln!(out, "previous DB kept as {}", p.display()).into_diagnostic()?;
                }
            }
        }
        DbCommand::Import { file, target } => {
            let inst = vulndb::update::import(&file, &target.path())?;
            if !global.quiet {
                writeln!(
                    out,
                    "installed {} (built {})",
                    inst.path.display(),
                    inst.built
                )
                .into_diagnostic()?;
                if let Some(p) = inst.previous {
                    writeln!(out, "previous DB kept as {}", p.display()).into_diagnostic()?;
                }
            }
        }
        DbCommand::Push { reference, db } => {
            let url = vulndb::update::push(&db.path(), &reference).await?;
            if !global.quiet {
                writeln!(out, "pushed {} to {url}", db.path().display()).into_diagnostic()?;
            }
        }
        DbCommand::Status { db, json } => {
            let db = db.open()?;
            let meta = db.meta();
            if json {
                let v = serde_json::json!({
                    "path": db.path(),
                    "age_seconds": db.age().as_secs(),
                    "example": vulndb::is_example(&db),
                    "meta": meta,
                });
                serde_json::to_writer_pretty(&mut out, &v).into_diagnostic()?;
                writeln!(out).into_diagnostic()?;
            } else {
                writeln!(out, "path:      {}", db.path().display()).into_diagnostic()?;
                if vulndb::is_example(&db) {
                    writeln!(
                        out,
                        "           (the example DB built from the advisories embedded in tollgate; run `tollgate db build` or `tollgate db update` for real data)"
                    )
                    .into_diagnostic()?;
                }
                writeln!(
                    out,
                    "built:     {} ({} ago)",
                    meta.built,
                    human_age(db.age())
                )
                .into_diagnostic()?;
                writeln!(out, "schema:    {}", meta.schema_version).into_diagnostic()?;
                writeln!(out, "builder:   {}", meta.builder).into_diagnostic()?;
                writeln!(out, "from:      {}", meta.from).into_diagnostic()?;
                writeln!(out, "checksum:  {}", meta.checksum).into_diagnostic()?;
                writeln!(out, "advisories: {}", meta.advisories).into_diagnostic()?;
                writeln!(out, "sources:").into_diagnostic()?;
                for s in &meta.sources {
                    writeln!(
                        out,
                        "  {:<12} {:>6} records  fetched {}  from {}",
                        s.name, s.records, s.fetched, s.location
                    )
                    .into_diagnostic()?;
                }
                writeln!(out, "advisories per ecosystem:").into_diagnostic()?;
                for (eco, n) in &meta.counts {
                    writeln!(out, "  {eco:<24} {n}").into_diagnostic()?;
                }
            }
        }
        DbCommand::Check { db, max_db_age } => {
            let max = vulndb::parse_max_age(&max_db_age).map_err(|e| {
                miette::miette!(
                    code = "tollgate::cli::bad-max-db-age",
                    help = "use e.g. `--max-db-age 5d`, `36h`, or `0` for no limit",
                    "{e}"
                )
            })?;
            let db = db.open()?;
            db.verify()?;
            db.check_age(max)?;
            if !global.quiet {
                writeln!(
                    out,
                    "ok: {} (schema {}, {} advisories, checksum verified, built {} ago)",
                    db.path().display(),
                    db.meta().schema_version,
                    db.meta().advisories,
                    human_age(db.age())
                )
                .into_diagnostic()?;
            }
        }
        DbCommand::Search {
            name,
            db,
            withdrawn,
            json,
        } => {
            let db = db.open()?;
            let hits: Vec<_> = db
                .search(&name)?
                .into_iter()
                .filter(|h| withdrawn || h.withdrawn.is_none())
                .collect();
            if json {
                serde_json::to_writer_pretty(&mut out, &hits).into_diagnostic()?;
                writeln!(out).into_diagnostic()?;
            } else if hits.is_empty() {
                if !global.quiet {
                    writeln!(
                        out,
                        "no advisories name `{name}` in {}",
                        db.path().display()
                    )
                    .into_diagnostic()?;
                }
            } else {
                for h in &hits {
                    let aliases = if h.aliases.is_empty() {
                        String::new()
                    } else {
                        format!(" ({})", h.aliases.join(", "))
                    };
                    let w = if h.withdrawn.is_some() {
                        " [withdrawn]"
                    } else {
                        ""
                    };
                    writeln!(
                        out,
                        "{:<12} {:<20} {}{aliases}{w}  {}",
                        h.ecosystem, h.name, h.id, h.summary
                    )
                    .into_diagnostic()?;
                }
            }
        }
    }
    Ok(Outcome::Pass)
}
