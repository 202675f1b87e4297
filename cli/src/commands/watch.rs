//! `tollgate watch`: re-match every stored SBOM against the current DB and tell the configured
//! channels about findings that are new since the last notification.
//!
//! `--dry-run` prints one JSON line per message that would be sent (bodies as the channel
//! would send them, URLs redacted) and changes nothing. Exit 0 when everything queued was
//! delivered, 2 when something stays queued or a stored analysis could not be re-matched.

use std::io::Write;
use std::path::PathBuf;

use clap::Args;
use miette::{IntoDiagnostic, Result};
use tollgate::matcher::suppress::IgnoreConfig;
use tollgate::watch::config::{DEFAULT_CONFIG_FILE, SecretMode, process_env};
use tollgate::watch::{WatchConfig, WatchOptions, WatchSummary};

use crate::Outcome;
use crate::args::GlobalArgs;
use crate::commands::policy::StoreArgs;

/// `tollgate watch` flags.
#[derive(Debug, Args)]
pub(crate) struct WatchArgs {
    /// The DB the last notifications were computed with (e.g. the file before `db update`):
    /// findings it already had are not news.
    #[arg(long, value_name = "FILE")]
    since_db: Option<PathBuf>,
    /// Print the messages that would be sent (JSON lines on stdout); send and record nothing.
    #[arg(long)]
    dry_run: bool,
    /// Only deliver notifications queued by earlier runs; do not re-match.
    #[arg(long, conflicts_with_all = ["dry_run", "since_db"])]
    deliver_only: bool,
    /// The current vulnerability DB (default: the one `tollgate db update` installs).
    #[arg(long, value_name = "FILE", env = "TOLLGATE_DB")]
    db: Option<PathBuf>,
    /// Config with `notifications:` (and `ignore:`) sections (default: `.tollgate.yaml`).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Matching threads (default: one per CPU).
    #[arg(long, default_value_t = 0)]
    jobs: usize,
    /// Write the run summary as JSON on stdout.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    store: StoreArgs,
}

pub(crate) async fn run(args: WatchArgs, global: &GlobalArgs) -> Result<Outcome> {
    let config_path = args
        .config
        .clone()
        .unwrap_or_else(|| PathBuf::from(DEFAULT_CONFIG_FILE));
    let mode = if args.dry_run {
        SecretMode::Optional
    } else {
        SecretMode::Require
    };
    let config_exists = config_path.exists();
    if args.config.is_some() && !config_exists {
        return Err(miette::miette!(
            help = "pass an existing file to `--config`",
            "the config file `{}` does not exist",
            config_path.display()
        ));
    }
    let config = if config_exists {
        WatchConfig::load(&config_path, &process_env, mode)?
    } else {
        WatchConfig {
            path: config_path.clone(),
            ..Default::default()
        }
    };
    if args.deliver_only {
        let report =
            tollgate::watch::run::deliver_pending(args.store.store.as_deref(), &config).await?;
        if !global.quiet {
            for c in &report.channels {
                crate::render::note(&format!(
                    "{}: {} delivered, {} still queued",
                    c.channel, c.delivered, c.pending
                ));
            }
        }
        report.into_result()?;
        return Ok(Outcome::Pass);
    }
    let ignore = if config_exists {
        IgnoreConfig::load(&config_path)?
    } else {
        IgnoreConfig::default()
    };
    let opts = WatchOptions {
        store_dir: args.store.store.clone(),
        db: args
            .db
            .clone()
            .unwrap_or_else(tollgate::vulndb::default_path),
        since_db: args.since_db.clone(),
        dry_run: args.dry_run,
        ignore,
        jobs: args.jobs,
        ..Default::default()
    };
    let summary = tollgate::watch::watch(&opts, &config).await?;
    render(&summary, &args, global)?;
    if let Some(p) = summary.problems.first() {
        let help = format!(
            "check it with `tollgate store show {}`; the other images were watched",
            p.row
        );
        return Err(miette::miette!(
            help = help,
            "{} stored analysis/analyses could not be re-matched (first: row {}: {})",
            summary.problems.len(),
            p.row,
            p.reason
        ));
    }
    if let Some(d) = summary.delivery {
        d.into_result()?;
    }
    Ok(Outcome::Pass)
}

fn render(summary: &WatchSummary, args: &WatchArgs, global: &GlobalArgs) -> Result<()> {
    let mut out = std::io::stdout().lock();
    if args.dry_run {
        for p in &summary.previews {
            serde_json::to_writer(&mut out, p).into_diagnostic()?;
            out.write_all(b"\n").into_diagnostic()?;
        }
    }
    if args.json {
        let mut s = summary.clone();
        s.previews.clear();
        serde_json::to_writer_pretty(&mut out, &s).into_diagnostic()?;
        out.write_all(b"\n").into_diagnostic()?;
    }
    out.flush().into_diagnostic()?;
    if global.quiet {
        return Ok(());
    }
    let verb = if args.dry_run {
        "would queue"
    } else {
        "queued"
    };
    crate::render::note(&format!(
        "watched {} image(s): {} new, {} escalated, {} primed; {verb} {} notification(s)",
        summary.images, summary.new, summary.escalated, summary.primed, summary.queued
    ));
    for p in &summary.problems {
        tracing::warn!(
            "skipped stored analysis {} ({}): {}",
            p.row,
            p.image,
            p.reason
        );
    }
    if let Some(d) = &summary.delivery {
        for c in &d.channels {
            let mut line = format!(
                "  {}: {} delivered in {} message(s)",
                c.channel, c.delivered, c.messages
            );
            if c.pending > 0 {
                line.push_str(&format!(", {} still queued", c.pending));
                if let Some(e) = &c.last_error {
                    line.push_str(&format!(" (last error: {e})"));
                }
            }
            crate::render::note(&line);
        }
    }
    Ok(())
}
