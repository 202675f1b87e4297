//! `tollgate evaluate ANALYSIS.json`: re-evaluate a saved native analysis against a bundle
//! (`--policy`, else the store's active bundle, else the embedded default) without the image.
//! Exit 1 on STOP (and on WARN with `--fail-on-warn`).

use std::io::Write;
use std::path::PathBuf;

use clap::{Args, ValueEnum};
use miette::{IntoDiagnostic, Result, WrapErr};
use tollgate::analysis::Analysis;
use tollgate::policy::{Action, Bundle, EvalInput, Evaluation, evaluate};
use tollgate::store::Store;

use crate::Outcome;
use crate::args::GlobalArgs;
use crate::commands::policy::StoreArgs;

/// Output form of the evaluation.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum EvalFormat {
    /// A readable table of fired triggers.
    Table,
    /// The `Evaluation` as JSON.
    Json,
    /// The whole analysis with the new evaluation, as JSON.
    Analysis,
}

/// `tollgate evaluate` flags.
#[derive(Debug, Args)]
pub(crate) struct EvaluateArgs {
    /// A saved native analysis (`tollgate scan -o json`).
    pub(crate) analysis: PathBuf,
    /// Policy bundle (JSON/YAML, v1/v2); default: the active stored bundle, else the embedded default.
    #[arg(long, value_name = "FILE")]
    pub(crate) policy: Option<PathBuf>,
    /// The image's actual Dockerfile (else it is rebuilt from the image history).
    #[arg(long, value_name = "FILE")]
    pub(crate) dockerfile: Option<PathBuf>,
    /// Tag used for mapping resolution (`REGISTRY/REPO:TAG`).
    #[arg(long, value_name = "REGISTRY/REPO:TAG")]
    pub(crate) tag: Option<String>,
    /// Exit 1 on WARN too.
    #[arg(long)]
    pub(crate) fail_on_warn: bool,
    /// Output form.
    #[arg(long, value_enum, default_value = "table")]
    pub(crate) format: EvalFormat,
    #[command(flatten)]
    pub(crate) store: StoreArgs,
}

/// Picks the bundle: `--policy` wins, then the active stored bundle, then the default.
pub(crate) fn choose_bundle(policy: Option<&std::path::Path>, store: &StoreArgs) -> Result<Bundle> {
    if let Some(p) = policy {
        return Ok(Bundle::load(p)?);
    }
    let st = Store::open(store.store.as_deref())?;
    Ok(st.active_bundle()?.unwrap_or_else(Bundle::default_bundle))
}

/// Runs `evaluate`.
pub(crate) fn run(args: EvaluateArgs, global: &GlobalArgs) -> Result<Outcome> {
    let text = std::fs::read_to_string(&args.analysis)
        .into_diagnostic()
        .wrap_err_with(|| format!("cannot read analysis `{}`", args.analysis.display()))?;
    let mut analysis: Analysis = serde_json::from_str(&text)
        .into_diagnostic()
        .wrap_err_with(|| {
            format!(
                "`{}` is not a Tollgate analysis JSON",
                args.analysis.display()
            )
        })?;
    let bundle = choose_bundle(args.policy.as_deref(), &args.store)?;
    let dockerfile = match &args.dockerfile {
        Some(p) => Some(
            std::fs::read_to_string(p)
                .into_diagnostic()
                .wrap_err_with(|| format!("cannot read Dockerfile `{}`", p.display()))?,
        ),
        None => None,
    };
    let uses_drift = bundle
        .rule_sets
        .iter()
        .flat_map(|r| &r.rules)
        .any(|r| r.gate == "tag_drift");
    let previous = if uses_drift {
        let tag = args
            .tag
            .clone()
            .or_else(|| analysis.inventory.source.tags.first().cloned());
        match tag {
            Some(t) => {
                let digest = analysis
                    .inventory
                    .source
                    .manifest_digest
                    .clone()
                    .unwrap_or_else(|| analysis.inventory.config.digest.clone());
                Store::open(args.store.store.as_deref())?.previous_for_tag(&t, &digest)?
            }
            None => None,
        }
    } else {
        None
    };
    let db_built = analysis
        .db
        .as_ref()
        .and_then(|d| chrono::DateTime::parse_from_rfc3339(&d.built).ok())
        .map(|t| t.with_timezone(&chrono::Utc));
    let input = EvalInput {
        dockerfile: dockerfile.as_deref(),
        tag: args.tag.as_deref(),
        db_built,
        previous: previous.as_ref().map(|a| &a.inventory),
        ..EvalInput::new(&analysis.inventory, &analysis.matches, chrono::Utc::now())
    };
    let eval = evaluate(&bundle, &input);
    if !global.quiet {
        for w in &eval.warnings {
            tracing::warn!("{w}");
        }
    }
    let outcome = match eval.final_action {
        Action::Stop => Outcome::Fail,
        Action::Warn if args.fail_on_warn => Outcome::Fail,
        _ => Outcome::Pass,
    };
    let mut o = std::io::stdout().lock();
    match args.format {
        EvalFormat::Table => render_table(&mut o, &eval).into_diagnostic()?,
        EvalFormat::Json => writeln!(
            o,
            "{}",
            serde_json::to_string_pretty(&eval).into_diagnostic()?
        )
        .into_diagnostic()?,
        EvalFormat::Analysis => {
            analysis.evaluation = Some(eval);
            writeln!(
                o,
                "{}",
                serde_json::to_string_pretty(&analysis).into_diagnostic()?
            )
            .into_diagnostic()?;
        }
    }
    o.flush().into_diagnostic()?;
    Ok(outcome)
}

/// The `anchore-cli evaluate check --detail` style table.
pub(crate) fn render_table(o: &mut impl Write, e: &Evaluation) -> std::io::Result<()> {
    writeln!(o, "Image Digest: {}", e.image_digest)?;
    writeln!(
        o,
        "Full Tag: {}",
        if e.tag.is_empty() { "(none)" } else { &e.tag }
    )?;
    writeln!(
        o,
        "Policy: {} ({}) {}",
        e.bundle_id, e.bundle_name, e.bundle_digest
    )?;
    writeln!(
        o,
        "Mapping: {}",
        e.mapping_id.as_deref().unwrap_or("(none matched)")
    )?;
    let status = if e.final_action == Action::Stop {
        "fail"
    } else {
        "pass"
    };
    writeln!(o, "Status: {status}")?;
    writeln!(o, "Final Action: {}", e.final_action)?;
    writeln!(o, "Final Action Reason: {}", e.final_action_reason)?;
    if e.hits.is_empty() {
        return Ok(());
    }
    writeln!(o)?;
    let rows: Vec<[String; 4]> = e
        .hits
        .iter()
        .map(|h| {
            let status = match &h.allowlisted {
                Some(a) => format!(
                    "allowlisted({})",
                    if a.allowlist_name.is_empty() {
                        &a.allowlist_id
                    } else {
                        &a.allowlist_name
                    }
                ),
                None => h.action.to_string(),
            };
            [
                h.gate.clone(),
                h.trigger.clone(),
                h.check_output.clone(),
                status,
            ]
        })
        .collect();
    let header = ["Gate", "Trigger", "Detail", "Status"];
    let mut widths = header.map(str::len);
    for r in &rows {
        for (w, c) in widths.iter_mut().zip(r) {
            *w = (*w)
                .max(c.chars().count())
                .min(if *w > 100 { 100 } else { usize::MAX });
        }
    }
    writeln!(
        o,
        "{:<w0$}  {:<w1$}  {:<w2$}  {}",
        header[0],
        header[1],
        header[2],
        header[3],
        w0 = widths[0],
        w1 = widths[1],
        w2 = widths[2]
    )?;
    for r in &rows {
        writeln!(
            o,
            "{:<w0$}  {:<w1$}  {:<w2$}  {}",
            r[0],
            r[1],
            r[2],
            r[3],
            w0 = widths[0],
            w1 = widths[1],
            w2 = widths[2]
        )?;
    }
    Ok(())
}
