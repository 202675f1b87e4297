//! `tollgate scan IMAGE`: the whole gate — read the image, catalog it, match vulnerabilities,
//! evaluate the policy, write every requested report, then decide the exit code.
//!
//! Reports are always written before the exit code is decided, so CI keeps them even when the
//! gate fails. The decision itself is `tollgate::report::gate::decide`; this file only maps it
//! to 0 (pass) / 1 (fail).

use std::io::IsTerminal;
use std::path::PathBuf;

use clap::Args;
use tollgate::matcher::suppress::{IgnoreConfig, VexDocument};
use tollgate::pipeline::{DbChoice, PolicyChoice, ScanOptions};
use tollgate::policy::Bundle;
use tollgate::report::{self, OutputSpec, ReportOptions};
use tollgate::types::Severity;

use crate::Outcome;
use crate::args::GlobalArgs;
use crate::commands::image::SourceArgs;

/// `tollgate scan …`
#[derive(Debug, Args)]
pub(crate) struct ScanArgs {
    #[command(flatten)]
    source: SourceArgs,
    /// Policy bundle (Anchore v1 or v2, JSON or YAML); default: the store's active bundle, else
    /// the embedded default.
    #[arg(long, env = "TOLLGATE_POLICY")]
    policy: Option<PathBuf>,
    /// Skip policy evaluation (vulnerability gate only).
    #[arg(long, conflicts_with = "policy")]
    no_policy: bool,
    /// The image's Dockerfile, for the dockerfile gate and SARIF locations.
    #[arg(long)]
    dockerfile: Option<PathBuf>,
    /// Name the image `REGISTRY/REPO:TAG` for policy mapping when the source carries no tag.
    #[arg(long)]
    tag: Option<String>,
    /// Report `FORMAT[=FILE]`, repeatable (table, json, sarif, gitlab, junit, cyclonedx-json,
    /// spdx-json, markdown, template:TPL); default `table` on stdout.
    #[arg(short, long = "output", value_name = "FORMAT[=FILE]")]
    outputs: Vec<String>,
    /// Fail when a (non-suppressed) vulnerability at or above this severity is found.
    #[arg(long, value_parser = parse_severity, env = "TOLLGATE_FAIL_ON")]
    fail_on: Option<Severity>,
    /// With `--fail-on`: only vulnerabilities that have a fix count.
    #[arg(long)]
    only_fixed: bool,
    /// A policy WARN fails the gate too.
    #[arg(long)]
    fail_on_warn: bool,
    /// Vulnerability DB file (default: the cached DB, else the example DB built offline from
    /// the advisories embedded in this binary).
    #[arg(long, env = "TOLLGATE_DB")]
    db: Option<PathBuf>,
    /// Do not match vulnerabilities.
    #[arg(long, conflicts_with = "db")]
    no_db: bool,
    /// Fail when the DB is older than this (`5d`, `36h`; `0` = no limit).
    #[arg(long, default_value = "5d", env = "TOLLGATE_MAX_DB_AGE")]
    max_db_age: String,
    /// OpenVEX document; repeatable.
    #[arg(long, value_name = "FILE")]
    vex: Vec<PathBuf>,
    /// Config with `ignore:` rules (default: `.tollgate.yaml` in the current directory, if present).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Show suppressed findings in reports.
    #[arg(long)]
    show_suppressed: bool,
    /// Local store directory (default under `$XDG_DATA_HOME/tollgate`).
    #[arg(long, env = "TOLLGATE_STORE")]
    store: Option<PathBuf>,
    /// Do not record this analysis in the local store.
    #[arg(long)]
    no_store: bool,
    /// Push the CycloneDX SBOM to the image's registry as an OCI referrer of the scanned
    /// manifest (referrers tag schema where the registry lacks the referrers API). Reports are
    /// written first; a failed push then exits 2.
    #[arg(long)]
    attach_sbom: bool,
}

fn parse_severity(s: &str) -> Result<Severity, String> {
    Severity::parse(s)
        .ok_or_else(|| format!("`{s}` is not a severity (negligible, low, medium, high, critical)"))
}

pub(crate) async fn run(args: ScanArgs, global: &GlobalArgs) -> miette::Result<Outcome> {
    // Validate everything the user typed before any work starts.
    let outputs: Vec<String> = if args.outputs.is_empty() {
        vec!["table".into()]
    } else {
        args.outputs.clone()
    };
    parse_specs(&outputs)?; // validate every `-o` before any work starts
    let policy = match (&args.policy, args.no_policy) {
        (_, true) => PolicyChoice::Skip,
        (Some(path), false) => PolicyChoice::Bundle(Box::new(Bundle::load(path)?)),
        (None, false) => PolicyChoice::ActiveOrDefault,
    };
    let config_path = args.config.clone().or_else(|| {
        let default = PathBuf::from(".tollgate.yaml");
        default.exists().then_some(default)
    });
    let ignore = match &config_path {
        Some(p) => IgnoreConfig::load(p)?,
        None => IgnoreConfig::default(),
    };
    let vex = args
        .vex
        .iter()
        .map(VexDocument::load)
        .collect::<Result<Vec<_>, _>>()?;
    let dockerfile = match &args.dockerfile {
        Some(p) => Some(std::fs::read_to_string(p).map_err(|e| {
            miette::miette!(
                help = "pass the path of the image's Dockerfile to `--dockerfile`",
                "cannot read the Dockerfile `{}`: {e}",
                p.display()
            )
        })?),
        None => None,
    };
    let max_db_age = tollgate::vulndb::parse_max_age(&args.max_db_age).map_err(|e| {
        miette::miette!(
            help = "use a duration like `5d`, `36h`, or `0` for no limit",
            "invalid `--max-db-age`: {e}"
        )
    })?;
    let db = match (&args.db, args.no_db) {
        (_, true) => DbChoice::Skip,
        (Some(p), false) => DbChoice::File(p.clone()),
        (None, false) => DbChoice::Default,
    };
    let (reference, load) = args.source.resolve(global)?;
    let opts = ScanOptions {
        load,
        db,
        max_db_age,
        ignore,
        vex,
        policy,
        dockerfile,
        tag: args.tag.clone(),
        store_dir: args.store.clone(),
        record: !args.no_store,
        ..Default::default()
    };

    let scans = if args.source.all_platforms {
        tollgate::pipeline::scan_all_platforms(&reference, &opts).await?
    } else {
        vec![tollgate::pipeline::scan(&reference, &opts).await?]
    };
    let many = scans.len() > 1;
    let mut failed = false;
    let mut errors = Vec::new();
    for output in &scans {
        let platform = output.analysis.inventory.config.platform.to_string();
        let specs = if many {
            if !global.quiet {
                crate::render::note(&format!("== platform {platform}"));
            }
            with_platform_suffix(&outputs, &platform)?
        } else {
            parse_specs(&outputs)?
        };
        match report_and_decide(output, &specs, &args, global, &outputs) {
            Ok(pass) => failed |= !pass,
            Err(e) => errors.push(e),
        }
    }
    if let Some(e) = errors.into_iter().next() {
        return Err(e);
    }
    if args.attach_sbom {
        for output in &scans {
            let done = tollgate::watch::attach::attach_sbom(&output.analysis, &opts.load).await?;
            if !global.quiet {
                crate::render::note(&format!(
                    "attached the SBOM to {} as {} ({})",
                    done.subject,
                    done.artifact,
                    match done.via {
                        tollgate::watch::attach::AttachedVia::ReferrersApi => "referrers API",
                        tollgate::watch::attach::AttachedVia::TagSchema => "referrers tag schema",
                    }
                ));
            }
        }
    }
    Ok(if failed { Outcome::Fail } else { Outcome::Pass })
}

fn parse_specs(outputs: &[String]) -> miette::Result<Vec<OutputSpec>> {
    Ok(outputs
        .iter()
        .map(|o| OutputSpec::parse(o))
        .collect::<Result<Vec<_>, _>>()?)
}

/// `sarif=out.sarif` → `sarif=out.linux-arm64-v8.sarif` for one platform of `--all-platforms`.
fn with_platform_suffix(outputs: &[String], platform: &str) -> miette::Result<Vec<OutputSpec>> {
    let tag = platform.replace('/', "-");
    outputs
        .iter()
        .map(|o| {
            let spec = match o.rsplit_once('=') {
                Some((format, file)) if !file.is_empty() && file != "-" => {
                    let path = std::path::Path::new(file);
                    let stem = path
                        .file_stem()
                        .map(|s| s.to_string_lossy().into_owned())
                        .unwrap_or_default();
                    let name = match path.extension() {
                        Some(ext) => format!("{stem}.{tag}.{}", ext.to_string_lossy()),
                        None => format!("{stem}.{tag}"),
                    };
                    format!("{format}={}", path.with_file_name(name).display())
                }
                _ => o.clone(),
            };
            Ok(OutputSpec::parse(&spec)?)
        })
        .collect()
}

/// Writes one analysis's reports, then decides its gate (true = pass).
fn report_and_decide(
    output: &tollgate::pipeline::ScanOutput,
    specs: &[OutputSpec],
    args: &ScanArgs,
    global: &GlobalArgs,
    outputs: &[String],
) -> miette::Result<bool> {
    for w in &output.warnings {
        tracing::warn!("{w}");
    }
    for u in &output.unused_suppressions {
        tracing::warn!("unused suppression: {u}");
    }

    let report_opts = ReportOptions {
        color: std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
        dockerfile: args.dockerfile.clone(),
        fail_on: args.fail_on,
        only_fixed: args.only_fixed,
        fail_on_warn: args.fail_on_warn,
        show_suppressed: args.show_suppressed,
        ..Default::default()
    };
    // Reports first, always; the decision after.
    let written = report::write_all(&output.analysis, specs, &report_opts);
    let decision = report::gate::decide(
        &output.analysis,
        args.fail_on,
        args.only_fixed,
        args.fail_on_warn,
    );
    written?;
    for w in &decision.warnings {
        tracing::warn!("{w}");
    }
    if decision.pass {
        Ok(true)
    } else {
        // The table already states the decision; other formats get it on stderr.
        let table_on_stdout = outputs.iter().any(|o| o == "table");
        if !global.quiet && !table_on_stdout {
            for r in &decision.reasons {
                crate::render::note(&format!("gate failed: {r}"));
            }
        }
        Ok(false)
    }
}
