//! `tollgate store list|show|prune|import`: look at and trim the local store of analyses that
//! `scan` records and `watch` re-matches, and pull SBOMs pushed with `--attach-sbom` back in.
//!
//! The store itself is `tollgate::store`; registry SBOM transfer is
//! `tollgate::watch::attach`. This file only parses flags and renders.

use std::io::Write;

use clap::{Subcommand, ValueEnum};
use miette::{IntoDiagnostic, Result};
use tollgate::store::Store;

use crate::Outcome;
use crate::args::GlobalArgs;
use crate::commands::image::SourceArgs;
use crate::commands::policy::StoreArgs;

/// Output form of `store list`.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum ListFormat {
    /// Aligned columns.
    Table,
    /// A JSON array of summaries.
    Json,
}

/// `tollgate store …`
#[derive(Debug, Subcommand)]
pub(crate) enum StoreCommand {
    /// List stored analyses, newest first.
    List {
        /// Output form.
        #[arg(long, value_enum, default_value = "table")]
        format: ListFormat,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Print one stored analysis as JSON (by row id, digest or digest prefix, or tag).
    Show {
        /// Row id, `sha256:…` digest (or a unique prefix), or `repo:tag`.
        key: String,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Delete all but the newest analyses of every tag, and watch state of images that are gone.
    Prune {
        /// Analyses to keep per tag.
        #[arg(long, default_value_t = 5)]
        keep: usize,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Record the CycloneDX SBOM that `scan --attach-sbom` pushed for a registry image (no
    /// layers are pulled), so `watch` can re-match it. `REGISTRY/REPO` without a tag or digest
    /// imports the SBOM of every tag of the repository (tags without one are listed).
    Import {
        #[command(flatten)]
        source: SourceArgs,
        #[command(flatten)]
        store: StoreArgs,
        /// Print what was imported as JSON.
        #[arg(long)]
        json: bool,
    },
}

pub(crate) async fn run(cmd: StoreCommand, global: &GlobalArgs) -> Result<Outcome> {
    match cmd {
        StoreCommand::List { format, store } => {
            let st = Store::open(store.store.as_deref())?;
            let rows = st.list()?;
            let mut out = std::io::stdout().lock();
            match format {
                ListFormat::Json => {
                    serde_json::to_writer_pretty(&mut out, &rows).into_diagnostic()?;
                    out.write_all(b"\n").into_diagnostic()?;
                }
                ListFormat::Table => {
                    writeln!(
                        out,
                        "{:>5}  {:<19}  {:<20}  {:>5}  {:>5}  {:<6}  TAGS",
                        "ID", "DIGEST", "CREATED", "PKGS", "VULNS", "ACTION"
                    )
                    .into_diagnostic()?;
                    for r in &rows {
                        let digest: String = r.digest.chars().take(19).collect();
                        let created: String = r.created.chars().take(20).collect();
                        writeln!(
                            out,
                            "{:>5}  {:<19}  {:<20}  {:>5}  {:>5}  {:<6}  {}",
                            r.id,
                            digest,
                            created,
                            r.packages,
                            r.vulnerabilities,
                            r.final_action.as_deref().unwrap_or("-"),
                            r.tags.join(", ")
                        )
                        .into_diagnostic()?;
                    }
                }
            }
            out.flush().into_diagnostic()?;
            Ok(Outcome::Pass)
        }
        StoreCommand::Show { key, store } => {
            let st = Store::open(store.store.as_deref())?;
            let Some(a) = st.show(&key)? else {
                return Err(miette::miette!(
                    help = "list what is stored with `tollgate store list`",
                    "no stored analysis matches `{key}`"
                ));
            };
            crate::render::print_json(&a)?;
            Ok(Outcome::Pass)
        }
        StoreCommand::Prune { keep, store } => {
            if keep == 0 {
                return Err(miette::miette!(
                    help = "pass `--keep 1` or more; delete the store directory to drop everything",
                    "`--keep 0` would delete every analysis"
                ));
            }
            let mut st = Store::open(store.store.as_deref())?;
            let deleted = st.prune(keep)?;
            let forgotten = tollgate::watch::run::forget_pruned(&st)?;
            if !global.quiet {
                crate::render::note(&format!(
                    "deleted {deleted} analysis/analyses; forgot watch state of {forgotten} image(s)"
                ));
            }
            Ok(Outcome::Pass)
        }
        StoreCommand::Import {
            source,
            store,
            json,
        } => {
            let (reference, load) = source.resolve(global)?;
            let tollgate::image::Source::Registry(r) = &reference.source else {
                return Err(miette::miette!(
                    help = "pass `REGISTRY/REPO:TAG` or `REGISTRY/REPO@sha256:…`",
                    "`store import` reads SBOMs from a registry; `{}` is not a registry image",
                    reference.input
                ));
            };
            let mut st = Store::open(store.store.as_deref())?;
            if !r.tag_given && r.digest.is_none() {
                let done = tollgate::watch::attach::import_repository(r, &load, &mut st).await?;
                if json {
                    crate::render::print_json(&done)?;
                } else if !global.quiet {
                    for (tag, d) in &done.imported {
                        crate::render::note(&format!(
                            "imported the SBOM of {}:{tag} ({} packages) as analysis {}",
                            r.name(),
                            d.packages,
                            d.row
                        ));
                    }
                    if !done.without_sbom.is_empty() {
                        crate::render::note(&format!(
                            "no SBOM attached to: {}",
                            done.without_sbom.join(", ")
                        ));
                    }
                }
                if done.imported.is_empty() {
                    return Err(miette::miette!(
                        help = "push SBOMs with `tollgate scan IMAGE --attach-sbom`",
                        "no tag of `{}` has an SBOM attached",
                        reference.input
                    ));
                }
                return Ok(Outcome::Pass);
            }
            let done = tollgate::watch::attach::import_sbom(r, &load, &mut st).await?;
            if json {
                crate::render::print_json(&done)?;
            } else if !global.quiet {
                crate::render::note(&format!(
                    "imported the SBOM of {} ({} packages) from {} as analysis {}",
                    done.subject, done.packages, done.artifact, done.row
                ));
            }
            Ok(Outcome::Pass)
        }
    }
}
