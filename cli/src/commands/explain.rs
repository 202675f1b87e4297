//! `tollgate explain VULN-ID [ANALYSIS.json|-|IMAGE]`: show every advisory known under an id and
//! the range evaluation that made (or did not make) each package of the image match. A saved
//! analysis (`tollgate scan -o json`, from a file or `-` for stdin) avoids re-reading the image;
//! an image reference is catalogued first (no DB matching, no policy).

use std::io::{Read, Write};
use std::path::PathBuf;

use clap::Args;
use miette::{IntoDiagnostic, Result};
use tollgate::analysis::Analysis;
use tollgate::catalog::Inventory;
use tollgate::matcher::{self, MatchOptions};
use tollgate::vulndb::{self, VulnDb};

use crate::Outcome;
use crate::args::GlobalArgs;

/// `tollgate explain` flags.
#[derive(Debug, Args)]
pub(crate) struct ExplainArgs {
    /// The vulnerability id or alias (`CVE-…`, `GHSA-…`, `PYSEC-…`, `DSA-…`).
    pub(crate) id: String,
    /// A saved analysis JSON, `-` for stdin, or an image reference; omit to show the advisory only.
    pub(crate) target: Option<String>,
    /// The DB file (default: the installed DB, else the embedded example DB).
    #[arg(long, value_name = "FILE", env = "TOLLGATE_DB")]
    pub(crate) db: Option<PathBuf>,
    /// OSV ecosystem for OS packages instead of the detected distro (`Debian:12`).
    #[arg(long, value_name = "ECOSYSTEM")]
    pub(crate) distro: Option<String>,
    /// Print as JSON.
    #[arg(long)]
    pub(crate) json: bool,
}

async fn inventory_of(target: &str) -> Result<(Inventory, Vec<matcher::Match>)> {
    let text = if target == "-" {
        let mut s = String::new();
        std::io::stdin().read_to_string(&mut s).into_diagnostic()?;
        Some(s)
    } else if target.ends_with(".json")
        || std::path::Path::new(target).is_file() && !target.ends_with(".tar")
    {
        Some(std::fs::read_to_string(target).into_diagnostic()?)
    } else {
        None
    };
    if let Some(text) = text {
        let a: Analysis = serde_json::from_str(&text).map_err(|e| {
            miette::miette!(
                code = "tollgate::cli::bad-analysis",
                help =
                    "pass the native JSON of `tollgate scan -o json=FILE`, or an image reference",
                "`{target}` is not a Tollgate analysis: {e}"
            )
        })?;
        return Ok((a.inventory, a.matches));
    }
    let reference = tollgate::image::Reference::parse(target)?;
    let opts = tollgate::pipeline::ScanOptions {
        db: tollgate::pipeline::DbChoice::Skip,
        policy: tollgate::pipeline::PolicyChoice::Skip,
        ..Default::default()
    };
    let out = tollgate::pipeline::scan(&reference, &opts).await?;
    Ok((out.analysis.inventory, Vec::new()))
}

#[allow(clippy::print_stdout)]
pub(crate) async fn run(args: ExplainArgs, _global: &GlobalArgs) -> Result<Outcome> {
    let db = match &args.db {
        Some(p) => VulnDb::open(p)?,
        None => vulndb::open_or_build_example()?,
    };
    let (inventory, saved) = match &args.target {
        Some(t) => {
            let (i, m) = inventory_of(t).await?;
            (Some(i), m)
        }
        None => (None, Vec::new()),
    };
    let opts = MatchOptions {
        distro_override: args.distro.clone(),
        ..Default::default()
    };
    let e = matcher::explain::explain(&db, &args.id, inventory.as_ref(), &opts)?;
    let mut out = std::io::stdout().lock();
    if args.json {
        serde_json::to_writer_pretty(&mut out, &e).into_diagnostic()?;
        writeln!(out).into_diagnostic()?;
        return Ok(Outcome::Pass);
    }
    for a in &e.advisories {
        let aliases = if a.aliases.is_empty() {
            String::new()
        } else {
            format!(" (also {})", a.aliases.join(", "))
        };
        writeln!(out, "{}{aliases}: {}", a.id, a.summary).into_diagnostic()?;
        if let Some(w) = &a.withdrawn {
            writeln!(out, "  WITHDRAWN {w}: never matched").into_diagnostic()?;
        }
        for s in &a.severity {
            writeln!(out, "  severity: {s}").into_diagnostic()?;
        }
        for s in &a.severity_from {
            writeln!(out, "  severity (borrowed): {s}").into_diagnostic()?;
        }
        for entry in &a.entries {
            writeln!(out, "  {} {}", entry.ecosystem, entry.name).into_diagnostic()?;
            for r in &entry.ranges {
                writeln!(out, "    affected: {r}").into_diagnostic()?;
            }
            if entry.listed_versions > 0 {
                writeln!(
                    out,
                    "    affected: {} listed versions",
                    entry.listed_versions
                )
                .into_diagnostic()?;
            }
            for p in &entry.packages {
                let verdict = if p.affected {
                    "AFFECTED"
                } else {
                    "not affected"
                };
                writeln!(
                    out,
                    "    {} {} (compared {}): {verdict}: {}",
                    p.package, p.version, p.compared, p.reason
                )
                .into_diagnostic()?;
            }
        }
    }
    if inventory.is_some()
        && !e
            .advisories
            .iter()
            .flat_map(|a| &a.entries)
            .any(|x| !x.packages.is_empty())
    {
        writeln!(out, "no package in the image is named by these advisories").into_diagnostic()?;
    }
    for m in saved.iter().filter(|m| {
        m.vulnerability.id.eq_ignore_ascii_case(&args.id)
            || m.vulnerability
                .aliases
                .iter()
                .any(|a| a.eq_ignore_ascii_case(&args.id))
    }) {
        if let Some(s) = &m.suppressed {
            writeln!(
                out,
                "{} {}: suppressed by {} {} ({})",
                m.package_name, m.package_version, s.kind, s.by, s.reason
            )
            .into_diagnostic()?;
        }
    }
    Ok(Outcome::Pass)
}
