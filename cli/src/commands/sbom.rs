//! `tollgate sbom IMAGE -o cyclonedx-json[=FILE] -o spdx-json[=FILE] -o table -o json`: catalog
//! an image (or read an `sbom:` file) and write the package inventory in the requested formats,
//! with no vulnerability matching and no policy.
//!
//! Problems met while cataloging (a corrupt database, a skipped archive) go to stderr as
//! warnings; the SBOM is still written. Exit 0 on success, 2 on an error.

use clap::Args;
use tollgate::analysis::{Analysis, SCHEMA_VERSION, ToolInfo};
use tollgate::catalog::CatalogOptions;
use tollgate::report::{self, OutputSpec, ReportOptions};

use crate::Outcome;
use crate::args::GlobalArgs;
use crate::commands::image::SourceArgs;

/// `tollgate sbom …`
#[derive(Debug, Args)]
pub(crate) struct SbomArgs {
    #[command(flatten)]
    source: SourceArgs,
    /// Report `FORMAT[=FILE]`, repeatable: cyclonedx-json, spdx-json, table, json; default
    /// `cyclonedx-json` on stdout.
    #[arg(short, long = "output", value_name = "FORMAT[=FILE]")]
    outputs: Vec<String>,
    /// Cataloger selection, comma separated: `python` (only these), `+declared` (add lock-file
    /// catalogers), `-java-archive-cataloger` (remove). Names are cataloger ids, id prefixes or
    /// tags (os, language, installed, declared, binary).
    #[arg(long, value_delimiter = ',', value_name = "SELECTORS")]
    catalogers: Vec<String>,
    /// Deepest nesting of archives inside archives (jars in wars …) that is opened.
    #[arg(long, default_value_t = 4)]
    max_archive_depth: usize,
    /// Largest total uncompressed bytes read from one archive, nested members included.
    #[arg(long, default_value_t = 512 * 1024 * 1024)]
    max_archive_bytes: u64,
}

pub(crate) async fn run(args: SbomArgs, global: &GlobalArgs) -> miette::Result<Outcome> {
    let outputs: Vec<String> = if args.outputs.is_empty() {
        vec!["cyclonedx-json".into()]
    } else {
        args.outputs.clone()
    };
    let specs = outputs
        .iter()
        .map(|o| OutputSpec::parse(o))
        .collect::<Result<Vec<_>, _>>()?;
    let (reference, load) = args.source.resolve(global)?;
    let mut opts = CatalogOptions {
        select: args.catalogers.clone(),
        ..CatalogOptions::default()
    };
    opts.archive.max_depth = args.max_archive_depth;
    opts.archive.max_total_bytes = args.max_archive_bytes;
    let inventory = tollgate::catalog::load(&reference, &load, &opts).await?;
    for p in &inventory.problems {
        match &p.path {
            Some(path) => tracing::warn!("{}: {path}: {}", p.source, p.message),
            None => tracing::warn!("{}: {}", p.source, p.message),
        }
    }
    let analysis = Analysis {
        schema_version: SCHEMA_VERSION.into(),
        tool: ToolInfo::current(),
        created: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        inventory,
        ..Analysis::default()
    };
    report::write_all(&analysis, &specs, &ReportOptions::default())?;
    Ok(Outcome::Pass)
}
